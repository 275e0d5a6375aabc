-- Mail: the Message-IDs ticketd received and sent (to thread replies and
-- to recognise retried deliveries and its own mail), autoreply counters
-- per sender, per-queue mail templates, and who among staff wants mail.
-- Times are INTEGER unix microseconds, NULL where unset.

-- direction: 'in' or 'out'. ticket_id 0: a mail that belongs to no ticket
-- (a refused sender). action: in, the address used (correspond, comment)
-- or what was done (refused, notice); out, the kind of mail.
CREATE TABLE mail_messages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id     TEXT NOT NULL,
    ticket_id      INTEGER NOT NULL DEFAULT 0,
    transaction_id INTEGER NOT NULL DEFAULT 0,
    direction      TEXT NOT NULL,
    action         TEXT NOT NULL DEFAULT '',
    address        TEXT NOT NULL DEFAULT '',
    auto           TEXT NOT NULL DEFAULT '',
    autoreply      INTEGER NOT NULL DEFAULT 0,
    created        INTEGER,
    UNIQUE (message_id, ticket_id, direction, action, address)
);
CREATE INDEX mail_messages_ticket ON mail_messages (ticket_id, id);
CREATE INDEX mail_messages_transaction ON mail_messages (transaction_id) WHERE transaction_id <> 0;

-- address: lower case. window_start NULL: no autoreply yet.
CREATE TABLE mail_autoreplies (
    address      TEXT PRIMARY KEY,
    window_start INTEGER,
    count        INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX mail_autoreplies_window ON mail_autoreplies (window_start);

-- queue_id 0: every queue.
CREATE TABLE mail_templates (
    queue_id INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    body     TEXT NOT NULL,
    updated  INTEGER,
    PRIMARY KEY (queue_id, kind)
) WITHOUT ROWID;

CREATE TABLE mail_notify (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    notify  INTEGER NOT NULL
);
