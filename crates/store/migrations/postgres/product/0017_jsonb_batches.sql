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
