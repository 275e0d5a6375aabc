-- Service levels: business-hours calendars, SLA policies per queue and
-- priority range, and the SLA clocks of each ticket. Definitions and
-- states are JSON documents (core.CalendarDef, core.EncodeSLAPolicy,
-- core.TicketSLA).

CREATE TABLE sla_calendars (
    name       text NOT NULL,
    definition text NOT NULL,
    updated    timestamptz
);
CREATE UNIQUE INDEX sla_calendars_name ON sla_calendars (lower(name));

CREATE TABLE sla_policies (
    name       text NOT NULL,
    queue_id   bigint NOT NULL REFERENCES queues (id) ON DELETE CASCADE,
    definition text NOT NULL,
    updated    timestamptz
);
CREATE UNIQUE INDEX sla_policies_name ON sla_policies (lower(name));

CREATE TABLE ticket_sla (
    ticket_id bigint PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    policy    text NOT NULL,
    state     text NOT NULL,
    updated   timestamptz
);
