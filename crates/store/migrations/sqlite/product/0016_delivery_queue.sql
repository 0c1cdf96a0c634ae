-- The delivery queue (E2) indexes only what a claim can take: a leased delivery leaves
-- the due index while its lease holds (a claim used to walk past every leased one, and
-- on PostgreSQL past their dead versions too), and the leases are indexed by when they
-- end, so the worker hands back the ones that ran out with one range scan.
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending' AND lease_until IS NULL;
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (lease_until)
    WHERE status = 'pending' AND lease_until IS NOT NULL;
