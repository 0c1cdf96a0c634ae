-- Contacts (SPEC P1, I3): unique per workspace by E.164 phone; the same number is an
-- independent contact in another workspace.
CREATE TABLE contacts (
    workspace_id   TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id             TEXT NOT NULL,
    phone          TEXT NOT NULL,
    name           TEXT NOT NULL,
    email          TEXT,
    timezone       TEXT,
    -- JSON array of tags (for reading); contact_tags holds them for filtering.
    tags           TEXT NOT NULL,
    -- JSON object of string keys to string values.
    custom_fields  TEXT NOT NULL,
    do_not_call    BOOLEAN NOT NULL,
    opted_out      BOOLEAN NOT NULL,
    -- Lowercased name, phone and email: what `q` searches.
    search         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    CONSTRAINT contacts_phone_unique UNIQUE (workspace_id, phone)
);

CREATE TABLE contact_tags (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    tag_key       TEXT NOT NULL,
    contact_id    TEXT NOT NULL,
    PRIMARY KEY (workspace_id, tag_key, contact_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX contact_tags_by_contact ON contact_tags (workspace_id, contact_id);
