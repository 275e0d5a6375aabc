-- The audit log: one row per administrative change (users, groups,
-- grants, queues, lifecycles, integrations, webhooks, chat routes, SLA,
-- reminders, tokens, ...) and per sign-in, written in the transaction of
-- the change. Rows are only ever added: the triggers below refuse to
-- change or remove one. actor is the actor's name at the time; actor_id
-- has no foreign key, since a failed sign-in may name no user. Times are
-- INTEGER unix microseconds.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor_id   INTEGER NOT NULL DEFAULT 0,
    actor      TEXT NOT NULL DEFAULT '',
    via        TEXT NOT NULL DEFAULT '',
    token_id   INTEGER NOT NULL DEFAULT 0,
    session_id INTEGER NOT NULL DEFAULT 0,
    address    TEXT NOT NULL DEFAULT '',
    action     TEXT NOT NULL,
    object     TEXT NOT NULL DEFAULT '',
    old_value  TEXT NOT NULL DEFAULT '',
    new_value  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
