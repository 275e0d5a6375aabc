-- Chat: queue -> channel routes, ticket <-> thread mapping, chat user links,
-- one-time link codes, and inbound event ids seen (for retries and replays).
-- Times are INTEGER unix microseconds, NULL where unset.

CREATE TABLE chat_channels (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id  INTEGER NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    platform  TEXT NOT NULL,
    workspace TEXT NOT NULL,
    channel   TEXT NOT NULL,
    created   INTEGER,
    UNIQUE (queue_id, platform, workspace, channel)
);

CREATE TABLE chat_threads (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    platform  TEXT NOT NULL,
    workspace TEXT NOT NULL,
    channel   TEXT NOT NULL,
    thread    TEXT NOT NULL,
    card      TEXT NOT NULL DEFAULT '',
    created   INTEGER,
    PRIMARY KEY (ticket_id, platform, workspace, channel),
    UNIQUE (platform, workspace, channel, thread)
) WITHOUT ROWID;

CREATE TABLE chat_identities (
    platform  TEXT NOT NULL,
    workspace TEXT NOT NULL,
    chat_user TEXT NOT NULL,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    verified  TEXT NOT NULL DEFAULT '',
    created   INTEGER,
    updated   INTEGER,
    PRIMARY KEY (platform, workspace, chat_user)
) WITHOUT ROWID;
CREATE INDEX chat_identities_user ON chat_identities (user_id);

CREATE TABLE chat_link_codes (
    hash      BLOB PRIMARY KEY,
    platform  TEXT NOT NULL,
    workspace TEXT NOT NULL,
    chat_user TEXT NOT NULL,
    expires   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX chat_link_codes_expires ON chat_link_codes (expires);

CREATE TABLE chat_events (
    platform TEXT NOT NULL,
    event_id TEXT NOT NULL,
    seen     INTEGER NOT NULL,
    PRIMARY KEY (platform, event_id)
) WITHOUT ROWID;
CREATE INDEX chat_events_seen ON chat_events (seen);
