-- heard: when a requester last wrote on the ticket (the engine sets it on
-- their correspondence, as it sets told on staff replies). A ticket awaits
-- a reply while heard is after told: the search term needs:reply, served
-- by the partial index below, which holds only such tickets.
ALTER TABLE tickets ADD COLUMN heard timestamptz;
-- Past messages, as the engine counts them: the last ticket opened by an
-- unprivileged user, or reply by one or by a requester of the ticket.
UPDATE tickets t SET heard = h.at
FROM (SELECT x.ticket_id, max(x.created) AS at FROM transactions x
      JOIN users u ON u.id = x.actor_id
      WHERE x.type IN ('Create', 'Correspond')
        AND (NOT u.privileged OR (x.type = 'Correspond' AND EXISTS (SELECT 1 FROM watchers w
             WHERE w.ticket_id = x.ticket_id AND w.role = 'Requestor' AND w.user_id = x.actor_id)))
      GROUP BY x.ticket_id) h
WHERE h.ticket_id = t.id;
CREATE INDEX tickets_needs_reply ON tickets (status, last_updated)
    WHERE heard IS NOT NULL AND (told IS NULL OR heard > told);
