-- Voice agents (SPEC P3) get their full shape, with their post-call analysis template
-- (P5); templates (P4) join them; workspace settings (W8) hold the defaults new agents
-- start from.
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

ALTER TABLE agents ADD COLUMN system_prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN first_message TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN llm_model TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN transcriber TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN tts_voice TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN max_call_seconds BIGINT NOT NULL DEFAULT 600;
ALTER TABLE agents ADD COLUMN recording BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN webhook_url TEXT;
ALTER TABLE agents ADD COLUMN analysis_template_id TEXT;
ALTER TABLE agents ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE agents ADD CONSTRAINT agents_analysis_template_fk
    FOREIGN KEY (workspace_id, analysis_template_id) REFERENCES analysis_templates (workspace_id, id);

CREATE TABLE workspace_settings (
    workspace_id      TEXT NOT NULL PRIMARY KEY REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    llm_model         TEXT NOT NULL,
    transcriber       TEXT NOT NULL,
    tts_voice         TEXT NOT NULL,
    max_call_seconds  BIGINT NOT NULL,
    recording         BOOLEAN NOT NULL,
    updated_at        BIGINT NOT NULL
);
