-- SIP/BYOC trunks (N2): a workspace's own carrier connection. Gateways are a JSON
-- array ({host, port, transport, inbound_cidrs, outbound, priority}); the carrier
-- password is sealed (AEAD, the server's key) because it must be usable, so it cannot
-- be hashed; it is never returned.
CREATE TABLE sip_trunks (
    workspace_id    TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('static_ip', 'digest', 'registration')),
    gateways        TEXT NOT NULL,
    from_domain     TEXT,
    outbound_proxy  TEXT,
    tech_prefix     TEXT NOT NULL,
    leading_plus    BOOLEAN NOT NULL,
    -- Comma-separated, in preference order: PCMU, PCMA.
    codecs          TEXT NOT NULL,
    dtmf_mode       TEXT NOT NULL CHECK (dtmf_mode IN ('rfc4733', 'inband', 'sip_info')),
    username        TEXT,
    password_sealed TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

-- What a SIP call carried: the stereo recording of both legs, and the SIP facts the
-- call page shows (JSON: call_id, codec, code, packets sent/received/lost).
CREATE TABLE call_recordings (
    workspace_id TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    call_id      TEXT NOT NULL,
    wav          BYTEA NOT NULL,
    PRIMARY KEY (workspace_id, call_id),
    FOREIGN KEY (workspace_id, call_id) REFERENCES calls (workspace_id, id) ON DELETE CASCADE
);
ALTER TABLE calls ADD COLUMN sip TEXT;
