-- The country national phone numbers are read in (P1), per workspace; NULL: the
-- region's default country.
ALTER TABLE workspace_settings ADD COLUMN default_country TEXT;
