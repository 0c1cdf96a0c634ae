-- Substring search over contacts (SPEC P1) through a trigram index, so that a rare `q`
-- on a million-contact workspace reads the index's matches instead of every row.
-- External content: the text stays in contacts.search (keyed by the contacts rowid,
-- which only VACUUM renumbers: rebuild the index after one). New contacts are indexed
-- by the statements that insert them (store::product::contacts: one statement per
-- batch, four times cheaper than a trigger per row on an import); triggers keep the
-- index in step with updates and deletes, cascades included. `detail = none`: the
-- trigram tokenizer needs no positions for LIKE, and the index stays small.
CREATE VIRTUAL TABLE contact_search USING fts5(
    search, content = 'contacts', content_rowid = 'rowid', tokenize = 'trigram', detail = 'none'
);
INSERT INTO contact_search (contact_search) VALUES ('rebuild');

CREATE TRIGGER contact_search_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contact_search (contact_search, rowid, search) VALUES ('delete', old.rowid, old.search);
END;
CREATE TRIGGER contact_search_update AFTER UPDATE OF search ON contacts BEGIN
    INSERT INTO contact_search (contact_search, rowid, search) VALUES ('delete', old.rowid, old.search);
    INSERT INTO contact_search (rowid, search) VALUES (new.rowid, new.search);
END;
