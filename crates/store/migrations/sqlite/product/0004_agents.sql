-- Voice agents (SPEC P3) get their full shape, with their post-call analysis template
-- (P5); templates (P4) join them; workspace settings (W8) hold the defaults new agents
-- start from. SQLite cannot add a composite foreign key to a table, so agents is rebuilt.
CREATE TABLE analysis_templates (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    -- JSON array of {name, type, description, enum_values}.
    fields        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE templates (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('prompt', 'message')),
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE agents_new (
    workspace_id          TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id                    TEXT NOT NULL,
    name                  TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    system_prompt         TEXT NOT NULL DEFAULT '',
    first_message         TEXT NOT NULL DEFAULT '',
    llm_model             TEXT NOT NULL DEFAULT '',
    transcriber           TEXT NOT NULL DEFAULT '',
    tts_voice             TEXT NOT NULL DEFAULT '',
    max_call_seconds      BIGINT NOT NULL DEFAULT 600,
    recording             BOOLEAN NOT NULL DEFAULT TRUE,
    webhook_url           TEXT,
    analysis_template_id  TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, analysis_template_id) REFERENCES analysis_templates (workspace_id, id)
);
INSERT INTO agents_new (workspace_id, id, name, status, created_at)
    SELECT workspace_id, id, name, status, created_at FROM agents;
DROP TABLE agents;
ALTER TABLE agents_new RENAME TO agents;

CREATE TABLE workspace_settings (
    workspace_id      TEXT NOT NULL PRIMARY KEY REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    llm_model         TEXT NOT NULL,
    transcriber       TEXT NOT NULL,
    tts_voice         TEXT NOT NULL,
    max_call_seconds  BIGINT NOT NULL,
    recording         BOOLEAN NOT NULL,
    updated_at        BIGINT NOT NULL
);
