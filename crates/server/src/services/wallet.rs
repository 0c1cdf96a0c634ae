//! The account's shared wallet (SPEC B1–B3): credits from the CLI, and the steps a call
//! takes through it (hold before placing, extend while it runs, settle when it ends),
//! each keyed by the call id so a crash between databases is resumed by repeating it.

use callplane_domain::id::new_id;
use callplane_store::accounts::Account;
use callplane_store::wallet::{self, Entry, Wallet};

use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;

/// Ledger entry ids: time-ordered, so the ledger pages by id.
const ENTRY: &str = "wle";

/// Adds money to an account's wallet (`callplane admin wallet credit`).
pub async fn credit(state: &AppState, account_id: &str, amount: i64, note: &str) -> ApiResult<i64> {
    if amount <= 0 {
        return Err(ApiError::invalid("amount", "must be a positive number of paise"));
    }
    let note = note.trim();
    if note.chars().count() > 200 || note.chars().any(char::is_control) {
        return Err(ApiError::invalid("note", "must be at most 200 characters, without control characters"));
    }
    let mut tx = state.db.begin().await?;
    callplane_store::accounts::get(&mut tx, account_id).await?.ok_or_else(ApiError::not_found)?;
    let balance = wallet::credit(
        &mut tx,
        &new_id(ENTRY),
        account_id,
        amount,
        if note.is_empty() { "credit" } else { note },
        state.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(balance)
}

/// Sets `amount` aside for a call before it is placed; `insufficient_funds` when the
/// wallet cannot cover it. Repeating it for the same call changes nothing.
pub async fn hold(state: &AppState, account_id: &str, workspace_id: &str, call_id: &str, amount: i64) -> ApiResult<()> {
    let mut answers = hold_many(state, account_id, workspace_id, &[(call_id, amount)]).await?;
    answers.pop().unwrap_or(Ok(()))
}

/// [`hold`] for several calls of one workspace in one transaction: each call's answer,
/// in order (a call the wallet cannot cover is refused; the others are held).
pub async fn hold_many(
    state: &AppState,
    account_id: &str,
    workspace_id: &str,
    holds: &[(&str, i64)],
) -> ApiResult<Vec<ApiResult<()>>> {
    if holds.is_empty() {
        return Ok(Vec::new());
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let mut answers = Vec::with_capacity(holds.len());
    for (call_id, amount) in holds {
        let held = wallet::hold(&mut tx, account_id, workspace_id, call_id, *amount, now).await?;
        answers.push(match held {
            true => Ok(()),
            // The balance only words the refusal.
            false => {
                let available = wallet::get(&mut tx, account_id).await?.available();
                Err(ApiError::new(
                    Code::InsufficientFunds,
                    format!(
                        "The wallet cannot cover this call's minimum of {amount} paise ({available} paise available)."
                    ),
                ))
            }
        });
    }
    tx.commit().await?;
    Ok(answers)
}

/// Grows a running call's hold towards `up_to`; returns what the call may cost at most.
pub async fn extend(state: &AppState, call_id: &str, up_to: i64) -> ApiResult<i64> {
    Ok(extend_many(state, &[(call_id, up_to)]).await?[0])
}

/// [`extend`] for several calls `(call, up_to)` in one transaction; what each holds.
pub async fn extend_many(state: &AppState, calls: &[(&str, i64)]) -> ApiResult<Vec<i64>> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let mut held = Vec::with_capacity(calls.len());
    for (call_id, up_to) in calls {
        held.push(wallet::extend(&mut tx, call_id, *up_to, now).await?);
    }
    tx.commit().await?;
    Ok(held)
}

/// Charges an ended call (at most its hold) and releases the rest; `None` when it was
/// already settled or released.
pub async fn settle(state: &AppState, call_id: &str, cost: i64, note: &str) -> ApiResult<Option<i64>> {
    let mut tx = state.db.begin().await?;
    let charged = wallet::settle(&mut tx, &new_id(ENTRY), call_id, cost, note, state.now()).await?;
    tx.commit().await?;
    Ok(charged)
}

/// [`settle`] for several ended calls `(call, cost, note)` in one transaction.
pub async fn settle_many(state: &AppState, calls: &[(&str, i64, String)]) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    for (call_id, cost, note) in calls {
        wallet::settle(&mut tx, &new_id(ENTRY), call_id, *cost, note, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The wallet and a page of its ledger.
pub async fn statement(
    state: &AppState,
    account: &Account,
    before_id: Option<&str>,
    limit: i64,
) -> ApiResult<(Wallet, Vec<Entry>)> {
    let mut conn = state.db.conn().await?;
    let w = wallet::get(&mut conn, &account.id).await?;
    let entries = wallet::entries(&mut conn, &account.id, before_id, limit).await?;
    Ok((w, entries))
}

/// A period of usage: when it starts (ms, UTC), the calls charged and what they cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub start: i64,
    pub calls: i64,
    pub cost: i64,
}

/// How usage is bucketed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Month,
}

const DAY_MS: i64 = 86_400_000;

/// The start (ms) of the UTC day or month holding `ms`.
pub fn period_start(period: Period, ms: i64) -> i64 {
    let day = ms.div_euclid(DAY_MS) * DAY_MS;
    match period {
        Period::Day => day,
        Period::Month => {
            let t = time::OffsetDateTime::from_unix_timestamp(day / 1000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
            let first = t.replace_day(1).unwrap_or(t);
            first.unix_timestamp() * 1000
        }
    }
}

/// The start of the period after the one starting at `start`.
fn next_period(period: Period, start: i64) -> i64 {
    match period {
        Period::Day => start + DAY_MS,
        Period::Month => period_start(Period::Month, start + 32 * DAY_MS),
    }
}

/// A workspace's charges per UTC day or month from the period holding `from` to the one
/// holding `to - 1`, every period listed (B3). Summed from the ledger's day buckets.
pub async fn usage(state: &AppState, workspace_id: &str, period: Period, from: i64, to: i64) -> ApiResult<Vec<Usage>> {
    let start = period_start(period, from);
    let days = wallet::usage(&mut state.db.conn().await?, workspace_id, start, to, DAY_MS).await?;
    let mut out = Vec::new();
    let mut at = start;
    while at < to {
        let end = next_period(period, at);
        let (calls, cost) = days
            .iter()
            .filter(|(d, _, _)| *d >= at && *d < end)
            .fold((0, 0), |(c, p), (_, calls, paise)| (c + calls, p + paise));
        out.push(Usage { start: at, calls, cost });
        at = end;
    }
    Ok(out)
}
