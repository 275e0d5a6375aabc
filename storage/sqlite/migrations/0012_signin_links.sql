-- Sign-in links (magic links) mailed to requesters: only the SHA-256 of
-- the link's 256-bit token is kept. A link works once (used is set) and
-- until expires. Times are INTEGER unix microseconds; used NULL: unused.
CREATE TABLE signin_links (
    hash    BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    used    INTEGER
) WITHOUT ROWID;
CREATE INDEX signin_links_user ON signin_links (user_id);
