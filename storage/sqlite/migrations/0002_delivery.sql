-- API tokens (hashed), webhook subscriptions, and delivery of outbox messages.
-- Times are INTEGER unix microseconds, NULL where unset.

CREATE TABLE tokens (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name     TEXT NOT NULL DEFAULT '',
    hash     BLOB NOT NULL UNIQUE,
    hint     TEXT NOT NULL DEFAULT '',
    created  INTEGER
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE webhooks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL,
    events        TEXT NOT NULL DEFAULT '',
    queue_id      INTEGER NOT NULL DEFAULT 0,
    allow_private INTEGER NOT NULL DEFAULT 0,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created       INTEGER
);

ALTER TABLE outbox ADD COLUMN routed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_unrouted ON outbox (id) WHERE NOT routed;

CREATE TABLE deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    outbox_id    INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    sender       TEXT NOT NULL,
    target       TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER,
    locked_until INTEGER,
    last_error   TEXT NOT NULL DEFAULT '',
    created      INTEGER,
    updated      INTEGER,
    UNIQUE (outbox_id, sender, target)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt, id) WHERE state = 'pending';
CREATE INDEX deliveries_state ON deliveries (state, id);
