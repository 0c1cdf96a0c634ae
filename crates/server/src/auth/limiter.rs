//! Sign-in throttling: after too many failed attempts for one email address, further
//! attempts are refused for a while, whatever the password. The failures are counted in
//! the control database, so replicas share one count.

use callplane_domain::clock::MINUTE_MS;
use callplane_store::login_failures;

use crate::error::ApiResult;
use crate::state::AppState;

pub const MAX_FAILURES: i64 = 10;
pub const WINDOW_MS: i64 = 15 * MINUTE_MS;

/// `Some(seconds to wait)` when `key` (an email key) is locked out at `now`.
pub async fn blocked(state: &AppState, key: &str, now: i64) -> ApiResult<Option<i64>> {
    let mut conn = state.db.conn().await?;
    Ok(match login_failures::get(&mut conn, key).await? {
        Some((n, start)) if n >= MAX_FAILURES && now - start < WINDOW_MS => Some((start + WINDOW_MS - now) / 1000 + 1),
        _ => None,
    })
}

pub async fn failed(state: &AppState, key: &str, now: i64) -> ApiResult<()> {
    let mut tx = state.db.begin().await?;
    login_failures::record(&mut tx, key, now, WINDOW_MS).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn succeeded(state: &AppState, key: &str) -> ApiResult<()> {
    let mut tx = state.db.begin().await?;
    login_failures::clear(&mut tx, key).await?;
    tx.commit().await?;
    Ok(())
}
