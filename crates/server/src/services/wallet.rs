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
    let mut tx = state.db.begin().await?;
    let held = wallet::hold(&mut tx, account_id, workspace_id, call_id, amount, state.now()).await?;
    let available = wallet::get(&mut tx, account_id).await?.available();
    tx.commit().await?;
    if !held {
        return Err(ApiError::new(
            Code::InsufficientFunds,
            format!("The wallet cannot cover this call's minimum of {amount} paise ({available} paise available)."),
        ));
    }
    Ok(())
}

/// Grows a running call's hold towards `up_to`; returns what the call may cost at most.
pub async fn extend(state: &AppState, call_id: &str, up_to: i64) -> ApiResult<i64> {
    let mut tx = state.db.begin().await?;
    let amount = wallet::extend(&mut tx, call_id, up_to, state.now()).await?;
    tx.commit().await?;
    Ok(amount)
}

/// Charges an ended call (at most its hold) and releases the rest; `None` when it was
/// already settled or released.
pub async fn settle(state: &AppState, call_id: &str, cost: i64, note: &str) -> ApiResult<Option<i64>> {
    let mut tx = state.db.begin().await?;
    let charged = wallet::settle(&mut tx, &new_id(ENTRY), call_id, cost, note, state.now()).await?;
    tx.commit().await?;
    Ok(charged)
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
