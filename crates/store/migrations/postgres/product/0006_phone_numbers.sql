-- Phone numbers (SPEC P2, I4): bought from a provider's inventory for one workspace,
-- assigned to one of its agents (composite foreign key), released or transferred. A
-- number is active in one workspace at a time (the partial unique index; the provider's
-- ledger in the control database covers every region). A transferred number's row stays
-- with the old workspace as its history.
ALTER TABLE phone_numbers DROP CONSTRAINT phone_numbers_status_check;
ALTER TABLE phone_numbers ADD CONSTRAINT phone_numbers_status_check CHECK (status IN ('active', 'released', 'transferred'));
ALTER TABLE phone_numbers ADD COLUMN provider TEXT NOT NULL DEFAULT 'simulated';
ALTER TABLE phone_numbers ADD COLUMN country TEXT NOT NULL DEFAULT '';
ALTER TABLE phone_numbers ADD COLUMN national TEXT NOT NULL DEFAULT '';
ALTER TABLE phone_numbers ADD COLUMN locality TEXT NOT NULL DEFAULT '';
ALTER TABLE phone_numbers ADD COLUMN monthly_price BIGINT NOT NULL DEFAULT 0;
ALTER TABLE phone_numbers ADD COLUMN currency TEXT NOT NULL DEFAULT 'INR';
ALTER TABLE phone_numbers ADD COLUMN agent_id TEXT;
ALTER TABLE phone_numbers ADD COLUMN transferred_to TEXT;
ALTER TABLE phone_numbers ADD COLUMN ended_at BIGINT;
ALTER TABLE phone_numbers ADD CONSTRAINT phone_numbers_agent_fk
    FOREIGN KEY (workspace_id, agent_id) REFERENCES agents (workspace_id, id);
CREATE UNIQUE INDEX phone_numbers_active ON phone_numbers (e164) WHERE status = 'active';
CREATE INDEX phone_numbers_by_agent ON phone_numbers (workspace_id, agent_id);
