-- Phone numbers (SPEC P2, I4): bought from a provider's inventory for one workspace,
-- assigned to one of its agents (composite foreign key), released or transferred. A
-- number is active in one workspace at a time (the partial unique index; the provider's
-- ledger in the control database covers every region). A transferred number's row stays
-- with the old workspace as its history.
CREATE TABLE phone_numbers_new (
    workspace_id    TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    e164            TEXT NOT NULL,
    provider        TEXT NOT NULL DEFAULT 'simulated',
    country         TEXT NOT NULL DEFAULT '',
    national        TEXT NOT NULL DEFAULT '',
    locality        TEXT NOT NULL DEFAULT '',
    monthly_price   BIGINT NOT NULL DEFAULT 0,
    currency        TEXT NOT NULL DEFAULT 'INR',
    status          TEXT NOT NULL CHECK (status IN ('active', 'released', 'transferred')),
    agent_id        TEXT,
    transferred_to  TEXT,
    created_at      BIGINT NOT NULL,
    ended_at        BIGINT,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, agent_id) REFERENCES agents (workspace_id, id)
);
INSERT INTO phone_numbers_new (workspace_id, id, e164, status, created_at)
    SELECT workspace_id, id, e164, status, created_at FROM phone_numbers;
DROP TABLE phone_numbers;
ALTER TABLE phone_numbers_new RENAME TO phone_numbers;
CREATE UNIQUE INDEX phone_numbers_active ON phone_numbers (e164) WHERE status = 'active';
CREATE INDEX phone_numbers_by_agent ON phone_numbers (workspace_id, agent_id);
