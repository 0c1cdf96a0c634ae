-- PostgreSQL reads bound batches as `jsonb` from here on; SQLite reads them with
-- `jsonb_each` (see `db::json_table`) and needs no change to its schema.
SELECT 1;
