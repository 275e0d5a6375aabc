-- Scheduled reports: a report mailed to the members of a group each week
-- at weekday (0 Sunday .. 6 Saturday) and hour (UTC), over the span before
-- it. last_run is the due moment last sent (NULL: never). Times are
-- INTEGER unix microseconds.
CREATE TABLE report_schedules (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    group_id   INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    measure    TEXT NOT NULL,
    dims       TEXT NOT NULL,
    query      TEXT NOT NULL,
    span       TEXT NOT NULL,
    weekday    INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    hour       INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 23),
    created_by INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    last_run   INTEGER,
    created    INTEGER NOT NULL
);
CREATE UNIQUE INDEX report_schedules_name_key ON report_schedules (lower(name));
