//! The account's shared wallet (control database, SPEC B1–B3): balance and reserved
//! amount, one hold per call, and the ledger of credits and charges. Every step a call
//! takes (hold, extend, settle, release) is keyed by its call id and may be repeated:
//! a crash between the region database and this one is resumed by repeating it.

use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, sqlx::FromRow)]
pub struct Wallet {
    pub balance: i64,
    pub reserved: i64,
}

impl Wallet {
    /// What a new call may still set aside.
    pub fn available(&self) -> i64 {
        self.balance - self.reserved
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Hold {
    pub call_id: String,
    pub account_id: String,
    pub workspace_id: String,
    pub amount: i64,
    pub status: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Entry {
    pub id: String,
    pub kind: String,
    pub amount: i64,
    pub balance_after: i64,
    pub workspace_id: Option<String>,
    pub call_id: Option<String>,
    pub note: String,
    pub created_at: i64,
}

/// The account's wallet (empty when it never had one).
pub async fn get(ex: &mut impl Executor, account_id: &str) -> Result<Wallet> {
    let w: Option<Wallet> = on!(ex, |c| sqlx::query_as("SELECT balance, reserved FROM wallets WHERE account_id = $1")
        .bind(account_id)
        .fetch_optional(c)
        .await)?;
    Ok(w.unwrap_or_default())
}

async fn ensure(ex: &mut impl Executor, account_id: &str, now: i64) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO wallets (account_id, balance, reserved, updated_at) VALUES ($1, 0, 0, $2)
         ON CONFLICT (account_id) DO NOTHING",
        account_id,
        now
    )?;
    Ok(())
}

/// Adds money to the wallet; returns the balance after.
pub async fn credit(
    ex: &mut impl Executor,
    entry_id: &str,
    account_id: &str,
    amount: i64,
    note: &str,
    now: i64,
) -> Result<i64> {
    ensure(ex, account_id, now).await?;
    let balance: i64 = on!(ex, |c| sqlx::query_scalar(
        "UPDATE wallets SET balance = balance + $2, updated_at = $3 WHERE account_id = $1 RETURNING balance"
    )
    .bind(account_id)
    .bind(amount)
    .bind(now)
    .fetch_one(c)
    .await)?;
    insert_entry(ex, entry_id, account_id, "credit", amount, balance, None, None, note, now).await?;
    Ok(balance)
}

#[allow(clippy::too_many_arguments)]
async fn insert_entry(
    ex: &mut impl Executor,
    id: &str,
    account_id: &str,
    kind: &str,
    amount: i64,
    balance_after: i64,
    workspace_id: Option<&str>,
    call_id: Option<&str>,
    note: &str,
    now: i64,
) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO wallet_entries (id, account_id, kind, amount, balance_after, workspace_id, call_id, note, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        id,
        account_id,
        kind,
        amount,
        balance_after,
        workspace_id,
        call_id,
        note,
        now
    )?;
    Ok(())
}

pub async fn hold_of(ex: &mut impl Executor, call_id: &str) -> Result<Option<Hold>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT call_id, account_id, workspace_id, amount, status, created_at FROM wallet_holds WHERE call_id = $1"
    )
    .bind(call_id)
    .fetch_optional(c)
    .await)?)
}

/// Sets `amount` aside for a call, all or nothing: `false` when the wallet cannot cover
/// it. Holding again for the same call changes nothing (and answers whether it holds).
pub async fn hold(
    ex: &mut impl Executor,
    account_id: &str,
    workspace_id: &str,
    call_id: &str,
    amount: i64,
    now: i64,
) -> Result<bool> {
    // The hold row first: a concurrent hold of the same call waits on it, then finds it.
    let created = execute!(
        ex,
        "INSERT INTO wallet_holds (call_id, account_id, workspace_id, amount, status, created_at)
         VALUES ($1, $2, $3, $4, 'held', $5) ON CONFLICT (call_id) DO NOTHING",
        call_id,
        account_id,
        workspace_id,
        amount,
        now
    )?;
    if created == 0 {
        return Ok(hold_of(ex, call_id).await?.is_some_and(|h| h.status == "held"));
    }
    // The condition and the change are one statement: concurrent holds can never
    // together set aside more than the balance.
    let taken = execute!(
        ex,
        "UPDATE wallets SET reserved = reserved + $2, updated_at = $3
         WHERE account_id = $1 AND balance - reserved >= $2",
        account_id,
        amount,
        now
    )?;
    if taken == 0 {
        execute!(ex, "DELETE FROM wallet_holds WHERE call_id = $1", call_id)?;
        return Ok(false);
    }
    Ok(true)
}

/// Locks a held hold (a concurrent step on the same call waits, then sees its outcome).
async fn lock_held(ex: &mut impl Executor, call_id: &str) -> Result<Option<Hold>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "UPDATE wallet_holds SET amount = amount WHERE call_id = $1 AND status = 'held'
         RETURNING call_id, account_id, workspace_id, amount, status, created_at"
    )
    .bind(call_id)
    .fetch_optional(c)
    .await)?)
}

/// Grows a call's hold towards `up_to` as far as the wallet allows; returns the hold's
/// amount after (what the call may cost at most).
pub async fn extend(ex: &mut impl Executor, call_id: &str, up_to: i64, now: i64) -> Result<i64> {
    let Some(h) = lock_held(ex, call_id).await? else {
        return Ok(hold_of(ex, call_id).await?.map_or(0, |h| h.amount));
    };
    if up_to <= h.amount {
        return Ok(h.amount);
    }
    let wallet = get(ex, &h.account_id).await?;
    let more = (up_to - h.amount).min(wallet.available()).max(0);
    if more == 0 {
        return Ok(h.amount);
    }
    let taken = execute!(
        ex,
        "UPDATE wallets SET reserved = reserved + $2, updated_at = $3
         WHERE account_id = $1 AND balance - reserved >= $2",
        &h.account_id,
        more,
        now
    )?;
    if taken == 0 {
        return Ok(h.amount); // spent meanwhile
    }
    execute!(ex, "UPDATE wallet_holds SET amount = amount + $2 WHERE call_id = $1", call_id, more)?;
    Ok(h.amount + more)
}

/// Ends a call's hold: charges `cost` (at most what it holds) and releases the rest.
/// Returns the charge, or `None` when the hold had already ended (a repeated step).
pub async fn settle(
    ex: &mut impl Executor,
    entry_id: &str,
    call_id: &str,
    cost: i64,
    note: &str,
    now: i64,
) -> Result<Option<i64>> {
    // Ending the hold is the gate: of two concurrent settlements, one ends it.
    let ended: Option<Hold> = on!(ex, |c| sqlx::query_as(
        "UPDATE wallet_holds SET status = CASE WHEN $2 > 0 THEN 'settled' ELSE 'released' END, ended_at = $3
         WHERE call_id = $1 AND status = 'held'
         RETURNING call_id, account_id, workspace_id, amount, status, created_at"
    )
    .bind(call_id)
    .bind(cost)
    .bind(now)
    .fetch_optional(c)
    .await)?;
    let Some(h) = ended else { return Ok(None) };
    let charge = cost.clamp(0, h.amount);
    let balance: i64 = on!(ex, |c| sqlx::query_scalar(
        "UPDATE wallets SET balance = balance - $2, reserved = reserved - $3, updated_at = $4
         WHERE account_id = $1 RETURNING balance"
    )
    .bind(&h.account_id)
    .bind(charge)
    .bind(h.amount)
    .bind(now)
    .fetch_one(c)
    .await)?;
    if charge > 0 {
        insert_entry(
            ex,
            entry_id,
            &h.account_id,
            "charge",
            charge,
            balance,
            Some(&h.workspace_id),
            Some(call_id),
            note,
            now,
        )
        .await?;
    }
    Ok(Some(charge))
}

/// Holds still open that were taken before `before` (the sweeper's candidates: a hold
/// whose call never reached its region database is released).
pub async fn held_before(ex: &mut impl Executor, before: i64, limit: i64) -> Result<Vec<Hold>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT call_id, account_id, workspace_id, amount, status, created_at FROM wallet_holds
         WHERE status = 'held' AND created_at < $1 ORDER BY created_at LIMIT $2"
    )
    .bind(before)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// The ledger, newest first, a page before the `before_id` cursor.
pub async fn entries(
    ex: &mut impl Executor,
    account_id: &str,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Entry>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT id, kind, amount, balance_after, workspace_id, call_id, note, created_at FROM wallet_entries
         WHERE account_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    )
    .bind(account_id)
    .bind(before_id)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// Charges of a workspace per period (B3): `(period start ms, calls, paise)`, periods of
/// `bucket_ms` from `from` to `to`.
pub async fn usage(
    ex: &mut impl Executor,
    workspace_id: &str,
    from: i64,
    to: i64,
    bucket_ms: i64,
) -> Result<Vec<(i64, i64, i64)>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT ((created_at - $2) / $4) * $4 + $2 AS period, count(*) AS calls, CAST(sum(amount) AS BIGINT) AS paise
         FROM wallet_entries
         WHERE kind = 'charge' AND workspace_id = $1 AND created_at >= $2 AND created_at < $3
         GROUP BY 1 ORDER BY 1"
    )
    .bind(workspace_id)
    .bind(from)
    .bind(to)
    .bind(bucket_ms)
    .fetch_all(c)
    .await)?)
}
