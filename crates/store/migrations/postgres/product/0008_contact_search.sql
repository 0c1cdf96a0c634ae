-- Substring search over contacts (SPEC P1) through a trigram index (pg_trgm ships with
-- PostgreSQL's contrib modules and is a trusted extension: a database owner may create
-- it). The planner uses it for a selective `LIKE '%q%'` and pages in id order for a
-- common one.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX contacts_search_trgm ON contacts USING gin (search gin_trgm_ops);
