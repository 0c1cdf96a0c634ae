-- The delivery queue (E2) indexes only what a claim can take: a leased delivery leaves
-- the due index while its lease holds (a claim used to walk past every leased one, and
-- on PostgreSQL past their dead versions too), and the leases are indexed by when they
-- end, so the worker hands back the ones that ran out with one range scan.
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status = 'pending' AND lease_until IS NULL;
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (lease_until)
    WHERE status = 'pending' AND lease_until IS NOT NULL;

-- A batch of rows bound as one JSON array (see `db::json_table`), estimated at one row.
-- Statements that name rows by their keys in a batch (a lease, a record, a keyed read)
-- then look each key up by index: planned against the function's default estimate of
-- 100 rows and a table filled in a burst (whose statistics still say it is small), a
-- batch was joined by scanning the table once per key. PL/pgSQL, so the estimate is
-- kept (an SQL function would be inlined); SQLite's `json_each` is looked up as-is.
CREATE FUNCTION batch_rows(batch json) RETURNS SETOF json LANGUAGE plpgsql IMMUTABLE STRICT ROWS 1 AS $$
BEGIN
    RETURN QUERY SELECT json_array_elements(batch);
END
$$;
