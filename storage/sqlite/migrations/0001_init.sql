-- ticketd schema, SQLite. Times are INTEGER unix microseconds, NULL where
-- unset. AUTOINCREMENT keeps ids from being reused, which the outbox cursor
-- and history rely on.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL DEFAULT '',
    real_name   TEXT NOT NULL DEFAULT '',
    privileged  INTEGER NOT NULL DEFAULT 0,
    disabled    INTEGER NOT NULL DEFAULT 0,
    created     INTEGER
);
CREATE UNIQUE INDEX users_name_key ON users (lower(name));
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE email <> '';

CREATE TABLE groups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    system      INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX groups_name_key ON groups (lower(name));

CREATE TABLE group_members (
    group_id    INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE lifecycles (
    name        TEXT PRIMARY KEY,
    definition  BLOB NOT NULL
);

CREATE TABLE queues (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    correspond_address TEXT NOT NULL DEFAULT '',
    comment_address    TEXT NOT NULL DEFAULT '',
    subject_tag        TEXT NOT NULL DEFAULT '',
    lifecycle          TEXT NOT NULL DEFAULT '',
    disabled           INTEGER NOT NULL DEFAULT 0,
    created            INTEGER
);
CREATE UNIQUE INDEX queues_name_key ON queues (lower(name));

-- Grants: queue_id 0 is global; principal_id 0 and role set for role grants.
CREATE TABLE grants (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    "right"        TEXT NOT NULL,
    queue_id       INTEGER NOT NULL DEFAULT 0,
    principal_type TEXT NOT NULL,
    principal_id   INTEGER NOT NULL DEFAULT 0,
    role           TEXT NOT NULL DEFAULT '',
    UNIQUE ("right", queue_id, principal_type, principal_id, role)
);
CREATE INDEX grants_principal ON grants (principal_type, principal_id);

CREATE TABLE tickets (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    effective_id    INTEGER NOT NULL,
    queue_id        INTEGER NOT NULL REFERENCES queues (id),
    subject         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    owner_id        INTEGER NOT NULL REFERENCES users (id),
    priority        INTEGER NOT NULL DEFAULT 0,
    due             INTEGER,
    created         INTEGER,
    started         INTEGER,
    resolved        INTEGER,
    told            INTEGER,
    last_updated    INTEGER,
    last_updated_by INTEGER NOT NULL DEFAULT 0,
    creator_id      INTEGER NOT NULL DEFAULT 0,
    time_estimated  INTEGER NOT NULL DEFAULT 0,
    time_worked     INTEGER NOT NULL DEFAULT 0,
    time_left       INTEGER NOT NULL DEFAULT 0,
    dedup_key       TEXT NOT NULL DEFAULT '',
    version         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tickets_queue_status ON tickets (queue_id, status);
CREATE INDEX tickets_owner_status ON tickets (owner_id, status);
CREATE INDEX tickets_status ON tickets (status);
CREATE INDEX tickets_priority ON tickets (priority);
CREATE INDEX tickets_effective ON tickets (effective_id);
CREATE INDEX tickets_last_updated ON tickets (last_updated);
CREATE INDEX tickets_due ON tickets (due);
CREATE INDEX tickets_dedup ON tickets (dedup_key, id) WHERE dedup_key <> '';

-- Owner is not a watcher row: it is tickets.owner_id.
CREATE TABLE watchers (
    ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    role        TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (ticket_id, role, user_id)
) WITHOUT ROWID;
-- Holds ticket_id too: the primary key of a WITHOUT ROWID table.
CREATE INDEX watchers_user_role ON watchers (user_id, role);

CREATE TABLE links (
    type        TEXT NOT NULL,
    base        INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    target      INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    UNIQUE (base, type, target)
);
CREATE INDEX links_target ON links (target);

CREATE TABLE transactions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    field       TEXT NOT NULL DEFAULT '',
    old_value   TEXT NOT NULL DEFAULT '',
    new_value   TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT '',
    actor_id    INTEGER NOT NULL DEFAULT 0,
    time_taken  INTEGER NOT NULL DEFAULT 0,
    created     INTEGER
);
CREATE INDEX transactions_ticket ON transactions (ticket_id, id);

CREATE TABLE attachments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_id INTEGER NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
    content_type   TEXT NOT NULL DEFAULT '',
    filename       TEXT NOT NULL DEFAULT '',
    headers        TEXT NOT NULL DEFAULT '',
    content        BLOB NOT NULL,
    size           INTEGER NOT NULL
);
CREATE INDEX attachments_transaction ON attachments (transaction_id, id);

-- audience: roles, comma-joined.
CREATE TABLE outbox (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    key            TEXT NOT NULL UNIQUE,
    ticket_id      INTEGER NOT NULL DEFAULT 0,
    transaction_id INTEGER NOT NULL DEFAULT 0,
    kind           TEXT NOT NULL,
    audience       TEXT NOT NULL DEFAULT '',
    payload        BLOB NOT NULL,
    created        INTEGER
);

-- Full text: rowid is the ticket id; the subject is replaced, body text only
-- ever appended. unicode61 folds case and diacritics and does not stem.
CREATE VIRTUAL TABLE ticket_search USING fts5 (subject, body, tokenize = 'unicode61');
