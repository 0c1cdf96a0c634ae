-- Control data: accounts, users, workspaces, memberships, sessions, audit.
CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    plan        TEXT NOT NULL CHECK (plan IN ('starter', 'professional', 'enterprise')),
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL,
    email_key       TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_active_at  BIGINT
);

CREATE TABLE account_users (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX account_users_by_user ON account_users (user_id);

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    region      TEXT NOT NULL,
    created_by  TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    CONSTRAINT workspaces_name_unique UNIQUE (account_id, name_key)
);

CREATE TABLE memberships (
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_active_at  BIGINT,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships (user_id);

CREATE TABLE sessions (
    id                   TEXT PRIMARY KEY,
    token_hash           TEXT NOT NULL UNIQUE,
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    active_workspace_id  TEXT REFERENCES workspaces (id) ON DELETE SET NULL,
    created_at           BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL,
    last_seen_at         BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Audit events outlive the workspace they describe (a deletion must stay on record),
-- so workspace_id is a plain column, not a foreign key.
CREATE TABLE audit_events (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL,
    workspace_id  TEXT,
    actor_type    TEXT NOT NULL,
    actor_id      TEXT NOT NULL,
    actor_label   TEXT NOT NULL,
    action        TEXT NOT NULL,
    target_type   TEXT NOT NULL,
    target_id     TEXT NOT NULL,
    before_json   TEXT,
    after_json    TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX audit_events_by_workspace ON audit_events (workspace_id, id);
CREATE INDEX audit_events_by_account ON audit_events (account_id, id);

-- Product tables: the workspace id leads every primary key (tenancy by construction).
-- Agents and phone numbers gate workspace deletion (W5); their full shape arrives with
-- the issues that manage them.
CREATE TABLE agents (
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE phone_numbers (
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    e164          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('active', 'released')),
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
