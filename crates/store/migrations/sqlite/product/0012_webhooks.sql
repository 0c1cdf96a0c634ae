-- Webhooks (SPEC E1–E3). An endpoint is the workspace's (agent_id NULL: events of every
-- agent) or an agent's own (its URL is the agent's webhook_url: events of that agent's
-- calls). Secrets are kept to sign with (Standard Webhooks, `whsec_` + base64); after a
-- rotation the previous one keeps signing, beside the new one, until
-- previous_secret_until.
CREATE TABLE webhook_endpoints (
    workspace_id           TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id                     TEXT NOT NULL,
    agent_id               TEXT,
    url                    TEXT NOT NULL,
    description            TEXT NOT NULL,
    -- JSON array of event types it receives; empty: every event.
    event_types            TEXT NOT NULL,
    enabled                BOOLEAN NOT NULL,
    -- Why it was disabled, when the service disabled it (410 Gone, failing for days).
    disabled_reason        TEXT,
    secret                 TEXT NOT NULL,
    previous_secret        TEXT,
    previous_secret_until  BIGINT,
    -- The first failed attempt since the last success (NULL: healthy).
    failing_since          BIGINT,
    -- Disabled for failing, and the workspace's Owner is still to be told by email.
    notify_pending         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, agent_id) REFERENCES agents (workspace_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX webhook_endpoints_by_agent ON webhook_endpoints (workspace_id, agent_id);
CREATE INDEX webhook_endpoints_to_notify ON webhook_endpoints (notify_pending) WHERE notify_pending;

-- The outbox: each event, written in the transaction of the change that caused it, with
-- the body every delivery sends (its id is the `webhook-id` receivers dedupe by).
CREATE TABLE webhook_events (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    type          TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

-- One event for one endpoint: pending until an attempt succeeds (delivered) or the retry
-- schedule runs out (failed). A worker leases a due row while it sends.
CREATE TABLE webhook_deliveries (
    workspace_id     TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  BIGINT,
    lease_until      BIGINT,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, endpoint_id) REFERENCES webhook_endpoints (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, event_id) REFERENCES webhook_events (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (workspace_id, endpoint_id, id);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (workspace_id, event_id);

-- Every attempt, for the delivery log: when, the answer's status and first bytes, how
-- long it took, or why it was not sent (refused address, timeout, ...).
CREATE TABLE webhook_attempts (
    workspace_id      TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id                TEXT NOT NULL,
    delivery_id       TEXT NOT NULL,
    endpoint_id       TEXT NOT NULL,
    at                BIGINT NOT NULL,
    status_code       INTEGER,
    latency_ms        BIGINT NOT NULL,
    response_excerpt  TEXT,
    error             TEXT,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, delivery_id) REFERENCES webhook_deliveries (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (workspace_id, endpoint_id, id);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (workspace_id, delivery_id);

-- Agents that already had a webhook URL get their endpoint (a random secret: 64 hex
-- characters read as base64).
INSERT INTO webhook_endpoints (workspace_id, id, agent_id, url, description, event_types, enabled, secret,
                               created_at, updated_at)
SELECT workspace_id, 'wh_' || lower(hex(randomblob(16))), id, webhook_url, '', '[]', TRUE,
       'whsec_' || hex(randomblob(32)), updated_at, updated_at
FROM agents WHERE webhook_url IS NOT NULL;
