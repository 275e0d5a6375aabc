-- The time of a ticket's first response (core/report's first_response,
-- MTTA): its first take or steal, or its first reply by staff (a
-- privileged user who is not a requester of the ticket). Written with the
-- transaction that responds (sqlstore InsertTransaction), so that a report
-- reads one column per ticket instead of probing its history; filled here
-- from the history for the tickets that have one.
ALTER TABLE tickets ADD COLUMN first_response INTEGER;
UPDATE tickets SET first_response = (
  SELECT min(x.created) FROM transactions x LEFT JOIN users u ON u.id = x.actor_id
   WHERE x.ticket_id = tickets.id
     AND (x.type IN ('Take', 'Steal')
          OR (x.type = 'Correspond' AND u.privileged
              AND NOT EXISTS (SELECT 1 FROM watchers w WHERE w.ticket_id = x.ticket_id
                                 AND w.role = 'Requestor' AND w.user_id = x.actor_id))));
