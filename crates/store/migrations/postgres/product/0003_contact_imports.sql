-- CSV imports of contacts (SPEC P1): a durable job. The uploaded file is kept in chunks
-- in the region database (data residency; every replica can resume it), processed in
-- batches that commit the rows, the counters and the resume point together.
CREATE TABLE contact_imports (
    workspace_id   TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id             TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('receiving', 'uploaded', 'queued', 'running', 'completed', 'failed')),
    -- What a row whose phone is already a contact does: `update` it or `skip`.
    on_duplicate   TEXT NOT NULL CHECK (on_duplicate IN ('update', 'skip')),
    -- JSON object: CSV column name -> contact field (`phone`, `name`, `custom.plan`, ...).
    mapping        TEXT NOT NULL,
    -- ISO country national phone numbers are read against (the workspace region's).
    default_country TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    bytes          BIGINT NOT NULL,
    -- The file's line count less the header: the progress bar's end.
    rows_estimate  BIGINT NOT NULL DEFAULT 0,
    -- Data rows handled so far (committed); processing resumes after them.
    rows_done      BIGINT NOT NULL,
    imported       BIGINT NOT NULL,
    updated        BIGINT NOT NULL,
    skipped        BIGINT NOT NULL,
    failed         BIGINT NOT NULL,
    -- Whole-file error (not UTF-8, no phone column, ...).
    error          TEXT,
    actor_type     TEXT NOT NULL,
    actor_id       TEXT NOT NULL,
    actor_label    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    lease_until    BIGINT,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX contact_imports_pending ON contact_imports (status, lease_until);

CREATE TABLE contact_import_chunks (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    import_id     TEXT NOT NULL,
    seq           BIGINT NOT NULL,
    data          BYTEA NOT NULL,
    PRIMARY KEY (workspace_id, import_id, seq),
    FOREIGN KEY (workspace_id, import_id) REFERENCES contact_imports (workspace_id, id) ON DELETE CASCADE
);

-- One row per refused cell or row: the downloadable error report.
CREATE TABLE contact_import_errors (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    import_id     TEXT NOT NULL,
    row_number    BIGINT NOT NULL,
    column_name   TEXT NOT NULL,
    reason        TEXT NOT NULL,
    PRIMARY KEY (workspace_id, import_id, row_number, column_name),
    FOREIGN KEY (workspace_id, import_id) REFERENCES contact_imports (workspace_id, id) ON DELETE CASCADE
);
