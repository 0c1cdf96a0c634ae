-- Campaigns (SPEC P6): an agent, caller numbers and an audience of the workspace,
-- dialed within a calling window by the dialer, which claims due targets from this
-- durable state. Analytics (P9): rollups of ended calls, kept in the transaction that
-- ends each call.
CREATE TABLE campaigns (
    workspace_id      TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    id                TEXT NOT NULL,
    name              TEXT NOT NULL,
    agent_id          TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'completed',
                                                        'cancelled')),
    -- Why a running campaign stopped by itself (e.g. `insufficient_funds`).
    pause_reason      TEXT,
    -- The audience: contacts with this tag and/or matching this search, or a list.
    audience_tag      TEXT,
    audience_q        TEXT,
    audience_list     BOOLEAN NOT NULL,
    -- The calling window: weekdays (bit 0 = Monday) and local minutes after midnight,
    -- in each contact's time zone, else this one.
    timezone          TEXT NOT NULL,
    window_days       INTEGER NOT NULL,
    window_start      INTEGER NOT NULL,
    window_end        INTEGER NOT NULL,
    max_concurrency   INTEGER NOT NULL,
    calls_per_second  INTEGER NOT NULL,
    max_attempts      INTEGER NOT NULL,
    retry_delay_secs  BIGINT NOT NULL,
    -- Space-separated call statuses that are retried (busy, no-answer, failed).
    retry_on          TEXT NOT NULL,
    start_at          BIGINT,
    -- Pacing shared by every dialer: no dial is claimed before this (µs).
    paced_until_us    BIGINT NOT NULL,
    -- The dialer places calls with this user's access to the workspace.
    started_by        TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    started_at        BIGINT,
    finished_at       BIGINT,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, agent_id) REFERENCES agents (workspace_id, id)
);
CREATE INDEX campaigns_active ON campaigns (status) WHERE status IN ('scheduled', 'running');

CREATE TABLE campaign_numbers (
    workspace_id     TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    campaign_id      TEXT NOT NULL,
    phone_number_id  TEXT NOT NULL,
    position         INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, campaign_id, phone_number_id),
    FOREIGN KEY (workspace_id, campaign_id) REFERENCES campaigns (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, phone_number_id) REFERENCES phone_numbers (workspace_id, id)
);

-- One row per contact of the audience: its state in the campaign.
-- pending: waits for `next_at`; dialing: an attempt is claimed (until `lease_until`
-- while its call is not yet placed) or its call is in flight; done: no more attempts;
-- skipped: never dialed (do-not-call, opted out, no longer callable).
CREATE TABLE campaign_targets (
    workspace_id  TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    campaign_id   TEXT NOT NULL,
    contact_id    TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'dialing', 'done', 'skipped')),
    attempts      INTEGER NOT NULL,
    next_at       BIGINT,
    lease_until   BIGINT,
    call_id       TEXT,
    -- The last attempt's call status, or why the contact was skipped.
    outcome       TEXT,
    detail        TEXT,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, campaign_id, contact_id),
    FOREIGN KEY (workspace_id, campaign_id) REFERENCES campaigns (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, call_id) REFERENCES calls (workspace_id, id)
);
CREATE INDEX campaign_targets_due ON campaign_targets (workspace_id, campaign_id, state, next_at);

-- The campaign a call was placed for (the dialer's attempt; its idempotency key names
-- the attempt).
ALTER TABLE calls ADD COLUMN campaign_id TEXT;
CREATE INDEX calls_by_campaign ON calls (workspace_id, campaign_id, id) WHERE campaign_id IS NOT NULL;

-- Ended calls summed per UTC day of creation, agent, campaign, direction and status
-- ('' for none), maintained in the transaction that ends each call.
CREATE TABLE call_rollups (
    workspace_id    TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
    day             BIGINT NOT NULL,
    agent_id        TEXT NOT NULL,
    campaign_id     TEXT NOT NULL,
    direction       TEXT NOT NULL,
    status          TEXT NOT NULL,
    calls           BIGINT NOT NULL,
    answered        BIGINT NOT NULL,
    duration_secs   BIGINT NOT NULL,
    billed_minutes  BIGINT NOT NULL,
    cost            BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, day, agent_id, campaign_id, direction, status)
);
