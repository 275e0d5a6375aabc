-- A queue's tickets newest first (the queue page, 50 rows of a queue's
-- active tickets) read in order from an index instead of reading every
-- active ticket of the queue and sorting them.
CREATE INDEX tickets_queue_id ON tickets (queue_id, id);

-- Statistics on the expression the searches use to leave merged tickets out
-- (t.effective_id - t.id = 0): without them Postgres guesses that it keeps
-- 0.5% of the rows and prefers sorting a whole queue to walking the index
-- above. Expression statistics need Postgres 14 or later.
CREATE STATISTICS tickets_merged ON (effective_id - id) FROM tickets;
ANALYZE tickets;
