-- waiting: since when a requester's message has waited for a staff reply
-- (the oldest unanswered one); NULL when none waits. INTEGER unix
-- microseconds. The engine sets it on a requester's message and clears it
-- on a staff reply and when the ticket is closed, so that the partial
-- index below holds only the tickets the search term needs:reply finds: a
-- few among a million, in the order of the home page's list.
ALTER TABLE tickets ADD COLUMN waiting INTEGER;
-- Tickets of before: the oldest message after the last staff reply of a
-- ticket opened by an unprivileged user, or of a reply by one or by a
-- requester of the ticket; only tickets open in the default lifecycle's
-- terms (a custom lifecycle's closed statuses are not known here).
UPDATE tickets SET waiting = (
    SELECT min(x.created) FROM transactions x JOIN users u ON u.id = x.actor_id
    WHERE x.ticket_id = tickets.id AND x.type IN ('Create', 'Correspond')
      AND (tickets.told IS NULL OR x.created > tickets.told)
      AND (NOT u.privileged OR (x.type = 'Correspond' AND EXISTS (SELECT 1 FROM watchers w
           WHERE w.ticket_id = x.ticket_id AND w.role = 'Requestor' AND w.user_id = x.actor_id))))
WHERE status NOT IN ('resolved', 'rejected', 'deleted');
CREATE INDEX tickets_waiting ON tickets (last_updated, id) WHERE waiting IS NOT NULL;
