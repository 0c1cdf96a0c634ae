-- Why a call ended, in a word a report can group by: hangup, agent_limit, funds_limit,
-- busy, no_answer, carrier_refused, canceled, no_agent (inbound to a number without an
-- agent), insufficient_funds.
ALTER TABLE calls ADD COLUMN end_reason TEXT;

-- What an answered call left: its transcript (JSON turns: speaker, start_ms, end_ms,
-- text), the conversation's outcome, the post-call analysis shaped by the agent's
-- analysis template (JSON object), and how many seconds were recorded (NULL: the agent
-- does not record). The recording itself is served through the call's authenticated,
-- workspace-scoped URL.
CREATE TABLE call_artifacts (
    workspace_id    TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    call_id         TEXT NOT NULL,
    turns           TEXT NOT NULL,
    outcome         TEXT,
    analysis        TEXT,
    recording_secs  BIGINT,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, call_id),
    FOREIGN KEY (workspace_id, call_id) REFERENCES calls (workspace_id, id) ON DELETE CASCADE
);
