-- Appointments (SPEC P8): a calendar per workspace. References stay inside the
-- workspace (composite foreign keys: I2). A booked slot may not overlap another booked
-- slot of the same workspace; bookings of one workspace are serialised on its anchor
-- row (PostgreSQL) or by the single writer (SQLite), so two overlapping bookings can
-- never both succeed.
CREATE TABLE appointments (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    contact_id    TEXT NOT NULL,
    agent_id      TEXT,
    starts_at     BIGINT NOT NULL,
    ends_at       BIGINT NOT NULL,
    timezone      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'completed', 'no_show')),
    notes         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, agent_id) REFERENCES agents (workspace_id, id),
    CHECK (ends_at > starts_at)
);
CREATE INDEX appointments_by_start ON appointments (workspace_id, starts_at);
CREATE INDEX appointments_by_agent ON appointments (workspace_id, agent_id);
