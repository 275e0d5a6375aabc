-- Reports (core/report) read the history by type and time (resolved,
-- reopened, taken, replies, time worked over a range) and the tickets by
-- when they were last resolved (time to resolve).
CREATE INDEX transactions_type_created ON transactions (type, created);
CREATE INDEX tickets_resolved ON tickets (resolved);
