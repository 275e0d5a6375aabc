-- Saved searches (RT's saved searches): a person's named queries, each
-- shown on their home page; one shared with a group (group_id) may be
-- picked by its members for theirs (saved_search_picks). Times are INTEGER
-- unix microseconds.
CREATE TABLE saved_searches (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    query    TEXT NOT NULL,
    group_id INTEGER REFERENCES groups (id) ON DELETE SET NULL,
    created  INTEGER NOT NULL,
    updated  INTEGER NOT NULL
);
CREATE UNIQUE INDEX saved_searches_name_key ON saved_searches (owner_id, lower(name));
CREATE INDEX saved_searches_group ON saved_searches (group_id) WHERE group_id IS NOT NULL;
CREATE TABLE saved_search_picks (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    search_id INTEGER NOT NULL REFERENCES saved_searches (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, search_id)
) WITHOUT ROWID;
CREATE INDEX saved_search_picks_search ON saved_search_picks (search_id);
