-- Attempts at an import's next batch that failed in a row (reset by every batch that
-- commits): a batch that can never commit ends the import as failed, with its error,
-- instead of being retried forever.
ALTER TABLE contact_imports ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
