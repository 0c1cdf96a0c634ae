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
SELECT workspace_id, id, endpoint_id, coalesce(next_attempt_at, updated_at) FROM webhook_deliveries
WHERE status = 'pending';
DROP INDEX webhook_deliveries_due;
-- When a pending delivery is next due is its queue row's `due_at`: written once.
ALTER TABLE webhook_deliveries DROP COLUMN lease_until;
ALTER TABLE webhook_deliveries DROP COLUMN next_attempt_at;

-- An attempt is keyed under its delivery: the key serves the delivery's own log and the
-- cascade from its delivery, so the separate index on the delivery goes (one index
-- entry less per attempt). SQLite changes a key by rebuilding the table.
CREATE TABLE webhook_attempts_keyed (
    workspace_id      TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id                TEXT NOT NULL,
    delivery_id       TEXT NOT NULL,
    endpoint_id       TEXT NOT NULL,
    at                BIGINT NOT NULL,
    status_code       INTEGER,
    latency_ms        BIGINT NOT NULL,
    response_excerpt  TEXT,
    error             TEXT,
    PRIMARY KEY (workspace_id, delivery_id, id),
    FOREIGN KEY (workspace_id, delivery_id) REFERENCES webhook_deliveries (workspace_id, id) ON DELETE CASCADE
);
INSERT INTO webhook_attempts_keyed SELECT workspace_id, id, delivery_id, endpoint_id, at, status_code, latency_ms,
                                          response_excerpt, error FROM webhook_attempts;
DROP TABLE webhook_attempts;
ALTER TABLE webhook_attempts_keyed RENAME TO webhook_attempts;
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (workspace_id, endpoint_id, id);
