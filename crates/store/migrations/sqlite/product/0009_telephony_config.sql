-- A workspace's telephony configuration (SPEC N2): the provider its outbound calls use,
-- SIP/BYOC's single status, and each network group's status. A group without a row is
-- disabled: a group added to the catalog later stays off until someone turns it on.
-- The rows are written when the workspace's configuration is first read (the default
-- provider's default groups on), so a new workspace starts with those groups.
CREATE TABLE telephony_settings (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    provider      TEXT NOT NULL,
    sip_enabled   BOOLEAN NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id)
);

CREATE TABLE network_group_settings (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    group_id      TEXT NOT NULL,
    enabled       BOOLEAN NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, group_id)
);
