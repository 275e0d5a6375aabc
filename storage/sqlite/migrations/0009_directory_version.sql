-- The directory version: a number that every change to users, groups,
-- group members, grants, queues and lifecycles increases, in the
-- transaction that makes the change, whoever makes it (ticketd, another
-- process on the same file, the offline admin commands, the sqlite3
-- shell). The engine caches what it reads of these tables and reads this
-- one number per action instead.
CREATE TABLE directory_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 1);

CREATE TRIGGER users_directory_insert AFTER INSERT ON users
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER users_directory_update AFTER UPDATE ON users
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER users_directory_delete AFTER DELETE ON users
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER groups_directory_insert AFTER INSERT ON groups
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER groups_directory_update AFTER UPDATE ON groups
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER groups_directory_delete AFTER DELETE ON groups
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER group_members_directory_insert AFTER INSERT ON group_members
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER group_members_directory_update AFTER UPDATE ON group_members
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER group_members_directory_delete AFTER DELETE ON group_members
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER grants_directory_insert AFTER INSERT ON grants
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER grants_directory_update AFTER UPDATE ON grants
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER grants_directory_delete AFTER DELETE ON grants
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER queues_directory_insert AFTER INSERT ON queues
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER queues_directory_update AFTER UPDATE ON queues
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER queues_directory_delete AFTER DELETE ON queues
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER lifecycles_directory_insert AFTER INSERT ON lifecycles
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER lifecycles_directory_update AFTER UPDATE ON lifecycles
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER lifecycles_directory_delete AFTER DELETE ON lifecycles
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
