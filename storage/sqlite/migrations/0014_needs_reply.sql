-- heard: when a requester last wrote on the ticket (the engine sets it on
-- their correspondence, as it sets told on staff replies). A ticket awaits
-- a reply while heard is after told: the search term needs:reply, served
-- by the partial index below, which holds only such tickets. INTEGER unix
-- microseconds.
ALTER TABLE tickets ADD COLUMN heard INTEGER;
-- Past messages, as the engine counts them: the last ticket opened by an
-- unprivileged user, or reply by one or by a requester of the ticket.
UPDATE tickets SET heard = (
    SELECT max(x.created) FROM transactions x JOIN users u ON u.id = x.actor_id
    WHERE x.ticket_id = tickets.id AND x.type IN ('Create', 'Correspond')
      AND (NOT u.privileged OR (x.type = 'Correspond' AND EXISTS (SELECT 1 FROM watchers w
           WHERE w.ticket_id = x.ticket_id AND w.role = 'Requestor' AND w.user_id = x.actor_id))));
CREATE INDEX tickets_needs_reply ON tickets (status, last_updated)
    WHERE heard IS NOT NULL AND (told IS NULL OR heard > told);
