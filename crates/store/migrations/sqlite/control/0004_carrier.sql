-- The providers' ledger of numbers (SPEC P2, I4): which workspace holds each number,
-- across every region. As a real carrier keeps its allocations on its side, the
-- simulated carrier keeps them here; a number is held by one workspace at a time.
CREATE TABLE carrier_allocations (
    provider         TEXT NOT NULL,
    e164             TEXT NOT NULL,
    workspace_id     TEXT NOT NULL,
    phone_number_id  TEXT NOT NULL,
    -- The buyer's Idempotency-Key: repeating a purchase returns the same number.
    idempotency_key  TEXT,
    allocated_at     BIGINT NOT NULL,
    PRIMARY KEY (provider, e164)
);
CREATE UNIQUE INDEX carrier_allocations_by_key ON carrier_allocations (workspace_id, idempotency_key);
