-- The delivery queue (E2) becomes its own table: one row per delivery that is still to
-- be attempted, deleted once the delivery is delivered or failed, so a delivery's
-- status sits in no index (recording an outcome rewrites only its row) and claims read
-- this narrow table. Invariant: a delivery is `pending` if and only if it has a queue
-- row. SQLite claims take no lease (one process serves a database): `lease_until`
-- stays NULL here.
CREATE TABLE webhook_queue (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    delivery_id   TEXT NOT NULL,
    endpoint_id   TEXT NOT NULL,
    due_at        BIGINT NOT NULL,
    lease_until   BIGINT,
    PRIMARY KEY (workspace_id, delivery_id),
    FOREIGN KEY (workspace_id, delivery_id) REFERENCES webhook_deliveries (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_queue_due ON webhook_queue (due_at, delivery_id);
INSERT INTO webhook_queue (workspace_id, delivery_id, endpoint_id, due_at)
SELECT workspace_id, id, endpoint_id, next_attempt_at FROM webhook_deliveries WHERE status = 'pending';
DROP INDEX webhook_deliveries_due;
ALTER TABLE webhook_deliveries DROP COLUMN lease_until;
