-- Reminders: the rows the scheduler's index is rebuilt from, the queues'
-- reminder policies, the users' daily digest preferences, and the final
-- priority of RT's linear escalation. Times are INTEGER unix microseconds.

-- once_key: unique when set (a reminder that exists at most once per
-- ticket or user, "untaken:42"); NULL for reminders people set.
-- ticket_id, user_id: NULL when not about a ticket, for no user.
-- every_us: repeat interval in microseconds, 0: once.
CREATE TABLE reminders (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    once_key   TEXT UNIQUE,
    ticket_id  INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    due        INTEGER NOT NULL,
    every_us   INTEGER NOT NULL DEFAULT 0,
    text       TEXT NOT NULL DEFAULT '',
    fired      INTEGER NOT NULL DEFAULT 0,
    last_fired INTEGER,
    created    INTEGER
);
CREATE INDEX reminders_ticket ON reminders (ticket_id, kind);

-- Durations in seconds; 0 turns a reminder off.
CREATE TABLE reminder_policies (
    queue_id        INTEGER PRIMARY KEY REFERENCES queues (id) ON DELETE CASCADE,
    untaken_after   INTEGER NOT NULL DEFAULT 0,
    untaken_every   INTEGER NOT NULL DEFAULT 0,
    on_duty_group   INTEGER NOT NULL DEFAULT 0,
    stalled_after   INTEGER NOT NULL DEFAULT 0
);

-- via: 'mail', 'chat' or '' (off). at_minute: minutes after midnight in tz.
CREATE TABLE digest_prefs (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    via        TEXT NOT NULL DEFAULT '',
    at_minute  INTEGER NOT NULL DEFAULT 0,
    tz         TEXT NOT NULL DEFAULT '',
    platform   TEXT NOT NULL DEFAULT '',
    workspace  TEXT NOT NULL DEFAULT '',
    chat_user  TEXT NOT NULL DEFAULT ''
);

ALTER TABLE tickets ADD COLUMN initial_priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN final_priority INTEGER NOT NULL DEFAULT 0;
UPDATE tickets SET initial_priority = priority;
