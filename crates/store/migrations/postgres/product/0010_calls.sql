-- Calls (SPEC P7): outbound and inbound, with their lifecycle, price and outcome. The
-- agent, the workspace's number and the contact are composite references: a call can
-- only name this workspace's rows (I2). Deleting a contact keeps its calls (the
-- reference is cleared first, by the store); an agent with calls is not deleted.
CREATE TABLE calls (
    workspace_id     TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    direction        TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    status           TEXT NOT NULL CHECK (status IN ('queued', 'ringing', 'in-progress', 'completed', 'busy',
                                                      'no-answer', 'failed', 'canceled')),
    agent_id         TEXT,
    phone_number_id  TEXT,
    contact_id       TEXT,
    from_e164        TEXT NOT NULL,
    to_e164          TEXT NOT NULL,
    provider         TEXT NOT NULL,
    network_group    TEXT,
    -- Paise per minute, and what the wallet set aside for the call.
    rate             BIGINT NOT NULL,
    held             BIGINT NOT NULL,
    -- The longest the call may talk (the agent's limit, or what the wallet covers).
    max_seconds      BIGINT NOT NULL,
    duration_secs    BIGINT NOT NULL,
    billed_minutes   BIGINT NOT NULL,
    cost             BIGINT NOT NULL,
    -- The wallet charged (or released) the call: the last step of its money.
    settled          BOOLEAN NOT NULL,
    error            TEXT,
    idempotency_key  TEXT,
    -- When the provider's next lifecycle step is due (NULL once the call has ended).
    next_step_at     BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    answered_at      BIGINT,
    ended_at         BIGINT,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, agent_id) REFERENCES agents (workspace_id, id),
    FOREIGN KEY (workspace_id, phone_number_id) REFERENCES phone_numbers (workspace_id, id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id)
);
CREATE UNIQUE INDEX calls_by_key ON calls (workspace_id, idempotency_key);
CREATE INDEX calls_due ON calls (next_step_at) WHERE next_step_at IS NOT NULL;
CREATE INDEX calls_unsettled ON calls (ended_at) WHERE NOT settled AND ended_at IS NOT NULL;
CREATE INDEX calls_by_agent ON calls (workspace_id, agent_id);
CREATE INDEX calls_by_contact ON calls (workspace_id, contact_id);

-- Each call's timeline: every status it went through, when.
CREATE TABLE call_events (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    call_id       TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    status        TEXT NOT NULL,
    at            BIGINT NOT NULL,
    detail        TEXT,
    PRIMARY KEY (workspace_id, call_id, seq),
    FOREIGN KEY (workspace_id, call_id) REFERENCES calls (workspace_id, id) ON DELETE CASCADE
);
