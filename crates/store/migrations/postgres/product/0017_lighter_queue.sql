-- Batches bound as one JSON array (see `db::json_table`) are read as `jsonb`: parsed
-- once, each field then looked up in place. Read as `json`, every `->>` of every field
-- lexed its row's text again, and each row was printed back to text first (most of
-- PostgreSQL's time in a webhook batch).
DROP FUNCTION batch_rows(json);
CREATE FUNCTION batch_rows(batch jsonb) RETURNS SETOF jsonb LANGUAGE plpgsql IMMUTABLE STRICT ROWS 1 AS $$
BEGIN
    RETURN QUERY SELECT jsonb_array_elements(batch);
END
$$;

-- A lease is written in place: `lease_until` is in no index and no index's predicate,
-- so PostgreSQL updates the row without new index entries (a heap-only update, for
-- which each page keeps room). Leased rows stay in the due index; a claim reads on
-- from where the worker's last one stopped (past its own leased rows) and takes a
-- lease that ran out. The index ends with the id, the claims' order and cursor.
DROP INDEX webhook_deliveries_leased;
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE status = 'pending';
ALTER TABLE webhook_deliveries SET (fillfactor = 80);
