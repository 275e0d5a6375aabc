-- Service levels: business-hours calendars, SLA policies per queue and
-- priority range, and the SLA clocks of each ticket. Definitions and
-- states are JSON documents (core.CalendarDef, core.EncodeSLAPolicy,
-- core.TicketSLA). Times are INTEGER unix microseconds.

CREATE TABLE sla_calendars (
    name       TEXT NOT NULL,
    definition TEXT NOT NULL,
    updated    INTEGER
);
CREATE UNIQUE INDEX sla_calendars_name ON sla_calendars (lower(name));

CREATE TABLE sla_policies (
    name       TEXT NOT NULL,
    queue_id   INTEGER NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    definition TEXT NOT NULL,
    updated    INTEGER
);
CREATE UNIQUE INDEX sla_policies_name ON sla_policies (lower(name));

CREATE TABLE ticket_sla (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    policy    TEXT NOT NULL,
    state     TEXT NOT NULL,
    updated   INTEGER
);
