-- Product data of the workspaces of one region (SPEC O2). Tenancy by construction:
-- every table's primary key leads with workspace_id, every table cascades from the
-- workspace's anchor, and references between product rows are composite foreign keys
-- (workspace_id, x_id), so a row cannot point into another workspace and purging an
-- anchor removes that workspace's rows and nothing else.

-- One row per workspace of this region, written before the workspace becomes visible
-- in the control database and purged when it is deleted.
CREATE TABLE workspace_anchors (
    workspace_id  TEXT NOT NULL PRIMARY KEY,
    account_id    TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX workspace_anchors_by_account ON workspace_anchors (account_id);

-- Agents and phone numbers gate workspace deletion (W5); their full shape arrives with
-- the issues that manage them.
CREATE TABLE agents (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE phone_numbers (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    e164          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'released')),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

-- Audit events about product data, written in the same transaction as the change
-- (SPEC A6). Events about control data stay in the control database's audit_events;
-- the audit-log endpoints merge both, newest first.
CREATE TABLE product_audit_events (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    actor_type    TEXT NOT NULL,
    actor_id      TEXT NOT NULL,
    actor_label   TEXT NOT NULL,
    action        TEXT NOT NULL,
    target_type   TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    before_json   TEXT,
    after_json    TEXT,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX product_audit_events_by_account ON product_audit_events (account_id, id);
