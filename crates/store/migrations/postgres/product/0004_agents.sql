-- Voice agents (SPEC P3) get their full shape; workspace settings (W8) hold the
-- defaults new agents start from.
ALTER TABLE agents ADD COLUMN system_prompt TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN first_message TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN llm_model TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN transcriber TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN tts_voice TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN max_call_seconds BIGINT NOT NULL DEFAULT 600;
ALTER TABLE agents ADD COLUMN recording BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE agents ADD COLUMN webhook_url TEXT;
ALTER TABLE agents ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;

CREATE TABLE workspace_settings (
    workspace_id      TEXT NOT NULL PRIMARY KEY REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    llm_model         TEXT NOT NULL,
    transcriber       TEXT NOT NULL,
    tts_voice         TEXT NOT NULL,
    max_call_seconds  BIGINT NOT NULL,
    recording         BOOLEAN NOT NULL,
    updated_at        BIGINT NOT NULL
);
