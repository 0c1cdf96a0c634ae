-- Team: custom roles, invitations, API keys, the email outbox, set-password links.

CREATE TABLE roles (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    -- Space-separated permission names (`contacts_view agents_edit …`).
    permissions  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    CONSTRAINT roles_name_unique UNIQUE (account_id, name_key)
);

CREATE TABLE invitations (
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL,
    role          TEXT NOT NULL,
    -- SHA-256 of the token; the token itself is only in the emailed link.
    token_hash    TEXT NOT NULL UNIQUE,
    invited_by    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    last_sent_at  BIGINT NOT NULL,
    accepted_at   BIGINT,
    accepted_by   TEXT,
    revoked_at    BIGINT,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX invitations_by_email ON invitations (workspace_id, email_key);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- NULL for organization keys, which reach every workspace of the account.
    workspace_id    TEXT REFERENCES workspaces (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    display_prefix  TEXT NOT NULL,
    secret_hash     TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL,
    created_by      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      BIGINT NOT NULL,
    last_used_at    BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX api_keys_by_workspace ON api_keys (workspace_id, created_by);
CREATE INDEX api_keys_by_account ON api_keys (account_id);

-- Outgoing email. Sent over SMTP when configured; otherwise it stays here for the
-- operator (`callplane admin outbox`). A sent email's body is cleared: it holds a link.
CREATE TABLE emails (
    id            TEXT PRIMARY KEY,
    to_email      TEXT NOT NULL,
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    sent_at       BIGINT,
    attempts      BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE INDEX emails_unsent ON emails (sent_at, created_at);

CREATE TABLE password_tokens (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
