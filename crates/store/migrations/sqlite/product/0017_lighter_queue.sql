-- SQLite claims take no lease (one process serves a database): the leased index goes,
-- and the due index ends with the id, the claims' order and cursor. (PostgreSQL reads
-- bound batches as `jsonb` from here on; SQLite already reads them with `jsonb_each`.)
DROP INDEX webhook_deliveries_leased;
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
    WHERE status = 'pending' AND lease_until IS NULL;
-- Leases an earlier version left (a killed process's) would hide their rows from it.
UPDATE webhook_deliveries SET lease_until = NULL WHERE lease_until IS NOT NULL;
