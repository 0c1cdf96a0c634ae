//! Failed sign-ins per email address, in the control database so that every replica
//! counts the same failures (the sign-in throttle).

use crate::db::Executor;
use crate::error::Result;

/// When the window of failures for `email_key` started and how many it holds, if any.
pub async fn get(ex: &mut impl Executor, email_key: &str) -> Result<Option<(i64, i64)>> {
    Ok(on!(ex, |c| sqlx::query_as("SELECT failures, window_start FROM login_failures WHERE email_key = $1")
        .bind(email_key)
        .fetch_optional(c)
        .await)?)
}

/// Counts one failure; a window older than `window_ms` starts over.
pub async fn record(ex: &mut impl Executor, email_key: &str, now: i64, window_ms: i64) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO login_failures (email_key, failures, window_start) VALUES ($1, 1, $2)
         ON CONFLICT (email_key) DO UPDATE SET
             failures = CASE WHEN login_failures.window_start <= $2 - $3 THEN 1
                             ELSE login_failures.failures + 1 END,
             window_start = CASE WHEN login_failures.window_start <= $2 - $3 THEN $2
                                 ELSE login_failures.window_start END",
        email_key,
        now,
        window_ms
    )?;
    // Forget windows that are over, so the table stays small.
    execute!(ex, "DELETE FROM login_failures WHERE window_start <= $1", now - window_ms)?;
    Ok(())
}

pub async fn clear(ex: &mut impl Executor, email_key: &str) -> Result<()> {
    execute!(ex, "DELETE FROM login_failures WHERE email_key = $1", email_key)?;
    Ok(())
}
