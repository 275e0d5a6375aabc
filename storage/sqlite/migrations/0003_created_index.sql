-- Searches by creation date (created>2025-06-01) and reports by period.
CREATE INDEX tickets_created ON tickets (created);
