-- Alert intake: integrations (monitoring systems that post alerts), the
-- state of each dedup key, and every alert event received.
-- Times are INTEGER unix microseconds, NULL where unset.

CREATE TABLE integrations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    type       TEXT NOT NULL,
    queue_id   INTEGER NOT NULL REFERENCES queues (id),
    user_id    INTEGER NOT NULL REFERENCES users (id),
    token_hash BLOB NOT NULL,
    token_hint TEXT NOT NULL DEFAULT '',
    config     TEXT NOT NULL DEFAULT '{}',
    disabled   INTEGER NOT NULL DEFAULT 0,
    created    INTEGER
);

-- changes: times of recent state changes, unix microseconds, comma-joined;
-- last_change is the latest of them. alert: the last alert, JSON.
-- ticket_id 0: none yet.
CREATE TABLE alert_keys (
    integration_id INTEGER NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    key            TEXT NOT NULL,
    ticket_id      INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL DEFAULT '',
    count          INTEGER NOT NULL DEFAULT 0,
    first_seen     INTEGER,
    last_seen      INTEGER,
    changes        TEXT NOT NULL DEFAULT '',
    last_change    INTEGER,
    flapping       INTEGER NOT NULL DEFAULT 0,
    alert          TEXT NOT NULL DEFAULT '',
    updated        INTEGER,
    PRIMARY KEY (integration_id, key)
) WITHOUT ROWID;
CREATE INDEX alert_keys_ticket ON alert_keys (ticket_id, updated) WHERE ticket_id <> 0;
CREATE INDEX alert_keys_flapping ON alert_keys (last_change) WHERE flapping;

-- Occurrences outlive their integration. event_hash finds an event again
-- (core.AlertEventHash of key and event_id).
CREATE TABLE alert_occurrences (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id INTEGER NOT NULL,
    key            TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    event_hash     INTEGER NOT NULL,
    ticket_id      INTEGER NOT NULL DEFAULT 0,
    status         TEXT NOT NULL,
    at             INTEGER,
    received       INTEGER NOT NULL
);
CREATE INDEX alert_occurrences_event ON alert_occurrences (integration_id, event_hash);
CREATE INDEX alert_occurrences_ticket ON alert_occurrences (ticket_id, id);

-- The backlog of one chat channel (a storm is a channel whose backlog grows).
CREATE INDEX deliveries_target_pending ON deliveries (sender, target) WHERE state = 'pending';
