-- The account's shared wallet (SPEC B1–B3), in integer paise, never a float.
-- `balance`: what the account holds; `reserved`: what calls in flight have set aside
-- (the sum of their held holds). What a call may reserve is balance - reserved, so the
-- balance never goes below zero: a call is charged at most what it reserved.
CREATE TABLE wallets (
    account_id  TEXT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    balance     BIGINT NOT NULL,
    reserved    BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    CONSTRAINT wallets_never_overdrawn CHECK (reserved >= 0 AND reserved <= balance)
);

-- One hold per call: set aside before the call is placed (all or nothing), extended
-- while it runs (as far as the wallet allows), then settled (charged, the rest
-- released) or released. Keyed by the call id, so every step can be repeated safely.
CREATE TABLE wallet_holds (
    call_id       TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    workspace_id  TEXT NOT NULL,
    amount        BIGINT NOT NULL CHECK (amount >= 0),
    -- held, settled or released
    status        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    ended_at      BIGINT
);
CREATE INDEX wallet_holds_held ON wallet_holds (status, created_at);

-- The ledger: credits and charges with the balance after each. A call's charge is
-- recorded once (its call id is unique among charges).
CREATE TABLE wallet_entries (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- credit or charge
    kind           TEXT NOT NULL,
    amount         BIGINT NOT NULL CHECK (amount >= 0),
    balance_after  BIGINT NOT NULL,
    workspace_id   TEXT,
    call_id        TEXT,
    note           TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX wallet_entries_one_charge_per_call ON wallet_entries (call_id) WHERE kind = 'charge';
CREATE INDEX wallet_entries_by_account ON wallet_entries (account_id, id);
CREATE INDEX wallet_entries_usage ON wallet_entries (workspace_id, created_at) WHERE kind = 'charge';
