-- Sign-in links (magic links) mailed to requesters: only the SHA-256 of
-- the link's 256-bit token is kept. A link works once (used is set) and
-- until expires; used NULL: unused.
CREATE TABLE signin_links (
    hash    bytea PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created timestamptz NOT NULL,
    expires timestamptz NOT NULL,
    used    timestamptz
);
CREATE INDEX signin_links_user ON signin_links (user_id);
