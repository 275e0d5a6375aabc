-- A queue's tickets newest first (the queue page, 50 rows of a queue's
-- active tickets) read in order from an index instead of sorted.
CREATE INDEX tickets_queue_id ON tickets (queue_id, id);
