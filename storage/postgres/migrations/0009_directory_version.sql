-- The directory version: a number that every change to users, groups,
-- group members, grants, queues and lifecycles increases, in the
-- transaction that makes the change, whoever makes it (ticketd, another
-- replica, the offline admin commands, psql). The engine caches what it
-- reads of these tables and reads this one number per action instead.
CREATE TABLE directory_version (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 1);

CREATE FUNCTION directory_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_directory AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION directory_changed();
CREATE TRIGGER users_directory_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
CREATE TRIGGER groups_directory AFTER INSERT OR UPDATE OR DELETE ON groups
    FOR EACH ROW EXECUTE FUNCTION directory_changed();
CREATE TRIGGER groups_directory_truncate AFTER TRUNCATE ON groups
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
CREATE TRIGGER group_members_directory AFTER INSERT OR UPDATE OR DELETE ON group_members
    FOR EACH ROW EXECUTE FUNCTION directory_changed();
CREATE TRIGGER group_members_directory_truncate AFTER TRUNCATE ON group_members
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
CREATE TRIGGER grants_directory AFTER INSERT OR UPDATE OR DELETE ON grants
    FOR EACH ROW EXECUTE FUNCTION directory_changed();
CREATE TRIGGER grants_directory_truncate AFTER TRUNCATE ON grants
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
CREATE TRIGGER queues_directory AFTER INSERT OR UPDATE OR DELETE ON queues
    FOR EACH ROW EXECUTE FUNCTION directory_changed();
CREATE TRIGGER queues_directory_truncate AFTER TRUNCATE ON queues
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
CREATE TRIGGER lifecycles_directory AFTER INSERT OR UPDATE OR DELETE ON lifecycles
    FOR EACH ROW EXECUTE FUNCTION directory_changed();
CREATE TRIGGER lifecycles_directory_truncate AFTER TRUNCATE ON lifecycles
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();

-- Foreign keys that every ticket creation checked and that protect nothing
-- the engine does not already ensure: the engine writes these ids only
-- from rows it has just read or inserted, and it deletes no ticket, user
-- or queue (tickets are marked deleted; users and queues disabled). The
-- checks of queues and users locked the same few rows (the queue, Nobody)
-- in every concurrent creation, and those of the new ticket's own rows
-- cost a lookup and a row lock each.
ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_queue_id_fkey;
ALTER TABLE tickets DROP CONSTRAINT IF EXISTS tickets_owner_id_fkey;
ALTER TABLE watchers DROP CONSTRAINT IF EXISTS watchers_user_id_fkey;
ALTER TABLE watchers DROP CONSTRAINT IF EXISTS watchers_ticket_id_fkey;
ALTER TABLE transactions DROP CONSTRAINT IF EXISTS transactions_ticket_id_fkey;
ALTER TABLE attachments DROP CONSTRAINT IF EXISTS attachments_transaction_id_fkey;
ALTER TABLE ticket_search DROP CONSTRAINT IF EXISTS ticket_search_ticket_id_fkey;
