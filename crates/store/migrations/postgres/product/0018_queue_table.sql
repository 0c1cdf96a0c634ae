-- The delivery queue (E2) becomes its own table: one row per delivery that is still to
-- be attempted, deleted once the delivery is delivered or failed. A delivery's status
-- then sits in no index and no index's predicate, so recording an outcome updates its
-- row without new index entries (a heap-only update), where it used to write a new
-- entry into each of the table's indexes; claims and leases churn this narrow table
-- instead, whose lease is in no index either. Invariant: a delivery is `pending` if
-- and only if it has a queue row.
CREATE TABLE webhook_queue (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    delivery_id   TEXT NOT NULL,
    endpoint_id   TEXT NOT NULL,
    due_at        BIGINT NOT NULL,
    lease_until   BIGINT,
    PRIMARY KEY (workspace_id, delivery_id),
    FOREIGN KEY (workspace_id, delivery_id) REFERENCES webhook_deliveries (workspace_id, id) ON DELETE CASCADE
) WITH (fillfactor = 50);
CREATE INDEX webhook_queue_due ON webhook_queue (due_at, delivery_id);
INSERT INTO webhook_queue (workspace_id, delivery_id, endpoint_id, due_at)
SELECT workspace_id, id, endpoint_id, coalesce(next_attempt_at, updated_at) FROM webhook_deliveries
WHERE status = 'pending';
DROP INDEX webhook_deliveries_due;
-- When a pending delivery is next due is its queue row's `due_at`: written once.
ALTER TABLE webhook_deliveries DROP COLUMN lease_until;
ALTER TABLE webhook_deliveries DROP COLUMN next_attempt_at;
-- Room on each page for a delivery's outcome beside its first version.
ALTER TABLE webhook_deliveries SET (fillfactor = 50);

-- An attempt is keyed under its delivery: the key serves the delivery's own log and the
-- cascade from its delivery, so the separate index on the delivery goes (one index
-- entry less per attempt).
ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_pkey;
ALTER TABLE webhook_attempts ADD PRIMARY KEY (workspace_id, delivery_id, id);
DROP INDEX webhook_attempts_by_delivery;
