-- Custom fields (core/fields.go): their definitions, the queues a field is
-- scoped to (none: every queue), and the values tickets carry, one row per
-- value (a multi field has several). value is the canonical text; num and
-- at hold the typed form of number and date fields so that they compare as
-- such (at in INTEGER unix microseconds). Searches and reports find
-- tickets by (field_id, value) through an index that also holds ticket_id.
-- Definitions count as directory changes: the engine caches them under
-- the directory version.
CREATE TABLE custom_fields (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    type         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    vals         TEXT NOT NULL DEFAULT '[]',
    required_for TEXT NOT NULL DEFAULT '[]',
    requesters   INTEGER NOT NULL DEFAULT 0,
    disabled     INTEGER NOT NULL DEFAULT 0,
    created      INTEGER
);
CREATE UNIQUE INDEX custom_fields_name_key ON custom_fields (lower(name));

CREATE TABLE custom_field_queues (
    field_id INTEGER NOT NULL REFERENCES custom_fields (id),
    queue_id INTEGER NOT NULL,
    PRIMARY KEY (field_id, queue_id)
);

CREATE TABLE ticket_field_values (
    ticket_id INTEGER NOT NULL,
    field_id  INTEGER NOT NULL,
    value     TEXT NOT NULL,
    num       REAL,
    at        INTEGER,
    PRIMARY KEY (ticket_id, field_id, value)
);
CREATE INDEX ticket_field_values_value ON ticket_field_values (field_id, value, ticket_id);
CREATE INDEX ticket_field_values_num ON ticket_field_values (field_id, num) WHERE num IS NOT NULL;
CREATE INDEX ticket_field_values_at ON ticket_field_values (field_id, at) WHERE at IS NOT NULL;

CREATE TRIGGER custom_fields_directory_insert AFTER INSERT ON custom_fields
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER custom_fields_directory_update AFTER UPDATE ON custom_fields
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER custom_fields_directory_delete AFTER DELETE ON custom_fields
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER custom_field_queues_directory_insert AFTER INSERT ON custom_field_queues
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER custom_field_queues_directory_update AFTER UPDATE ON custom_field_queues
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER custom_field_queues_directory_delete AFTER DELETE ON custom_field_queues
    BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
