-- Accounts: how people sign in on the web. Passwords as PHC strings
-- (argon2id), server-side sessions (only a hash of the cookie's secret),
-- TOTP second factors and their recovery codes (hashes). Users are
-- disabled, never deleted, but their rows go with them if one is.
-- Times are INTEGER unix microseconds, NULL where unset.

CREATE TABLE user_passwords (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash    TEXT NOT NULL,
    updated INTEGER
);

-- hash: SHA-256 of the cookie's secret. last_seen is for the idle timeout,
-- expires the absolute lifetime's end. verified: the second factor was
-- given, or the user needs none.
CREATE TABLE web_sessions (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    hash      BLOB NOT NULL UNIQUE,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created   INTEGER NOT NULL,
    last_seen INTEGER,
    expires   INTEGER NOT NULL,
    address   TEXT NOT NULL DEFAULT '',
    agent     TEXT NOT NULL DEFAULT '',
    verified  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

-- secret: base32. confirmed: NULL while enrolling. last_step: the time
-- step of the last code accepted (no replay).
CREATE TABLE user_totp (
    user_id   INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret    TEXT NOT NULL,
    created   INTEGER,
    confirmed INTEGER,
    last_step INTEGER NOT NULL DEFAULT 0
);

-- hash: SHA-256 of the code. used: when it was used; NULL: unused.
CREATE TABLE recovery_codes (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    BLOB NOT NULL,
    used    INTEGER,
    PRIMARY KEY (user_id, hash)
) WITHOUT ROWID;
