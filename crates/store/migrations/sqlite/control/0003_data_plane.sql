-- The data plane: product data lives in region databases (the product migration set),
-- so the placeholder product tables leave the control database.
DROP TABLE phone_numbers;
DROP TABLE agents;

-- A workspace spans two databases: its registry row here and its anchor in its region
-- database. Creation and deletion are sequences of idempotent steps; `lifecycle` says
-- which step is pending, and only `ready` workspaces are visible to anyone.
--   provisioning: registered here, anchor not yet confirmed in the region database;
--   deleting:     refused everywhere, product rows being purged in the region database.
ALTER TABLE workspaces ADD COLUMN lifecycle TEXT NOT NULL DEFAULT 'ready'
    CHECK (lifecycle IN ('provisioning', 'ready', 'deleting'));
-- A worker's claim on the pending step (milliseconds); expired claims are taken over.
ALTER TABLE workspaces ADD COLUMN lease_until INTEGER;
CREATE INDEX workspaces_pending ON workspaces (lifecycle, lease_until);

-- Email delivery is claimed the same way, so replicas never send one email twice.
ALTER TABLE emails ADD COLUMN lease_until INTEGER;

-- Failed sign-ins per email, shared by every replica (the sign-in throttle).
CREATE TABLE login_failures (
    email_key     TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    window_start  INTEGER NOT NULL
);
