//! The email outbox (SPEC T4). Every email is written here in the transaction that
//! caused it; a worker sends unsent ones over SMTP when configured.

use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Email {
    pub id: String,
    pub to_email: String,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

pub async fn enqueue(ex: &mut impl Executor, id: &str, to: &str, subject: &str, body: &str, now: i64) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO emails (id, to_email, subject, body, created_at) VALUES ($1, $2, $3, $4, $5)",
        id,
        to,
        subject,
        body,
        now
    )?;
    Ok(())
}

/// Claims up to `limit` unsent emails with attempts left whose lease has expired,
/// oldest first, leasing them until `lease_until`: replicas sharing a database never
/// send one email twice (barring a crash between sending and [`mark_sent`]).
pub async fn claim(
    ex: &mut impl Executor,
    now: i64,
    lease_until: i64,
    max_attempts: i64,
    limit: i64,
) -> Result<Vec<Email>> {
    macro_rules! claim_sql {
        ($lock:literal) => {
            concat!(
                "UPDATE emails SET lease_until = $2
                 WHERE id IN (SELECT id FROM emails
                              WHERE sent_at IS NULL AND attempts < $3 AND (lease_until IS NULL OR lease_until < $1)
                              ORDER BY created_at, id LIMIT $4",
                $lock,
                ") RETURNING id, to_email, subject, body, created_at, sent_at, attempts, last_error"
            )
        };
    }
    let sql = if ex.is_postgres() { claim_sql!(" FOR UPDATE SKIP LOCKED") } else { claim_sql!("") };
    Ok(on!(ex, |c| sqlx::query_as(sql).bind(now).bind(lease_until).bind(max_attempts).bind(limit).fetch_all(c).await)?)
}

/// The newest emails, for the operator's outbox listing.
pub async fn recent(ex: &mut impl Executor, limit: i64) -> Result<Vec<Email>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT id, to_email, subject, body, created_at, sent_at, attempts, last_error FROM emails
         ORDER BY created_at DESC, id DESC LIMIT $1"
    )
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// Records delivery and drops the body: it carried a single-use link.
pub async fn mark_sent(ex: &mut impl Executor, id: &str, now: i64) -> Result<()> {
    execute!(
        ex,
        "UPDATE emails SET sent_at = $2, attempts = attempts + 1, last_error = NULL, body = '(sent)', lease_until = NULL
         WHERE id = $1",
        id,
        now
    )?;
    Ok(())
}

pub async fn mark_failed(ex: &mut impl Executor, id: &str, error: &str) -> Result<()> {
    execute!(
        ex,
        "UPDATE emails SET attempts = attempts + 1, last_error = $2, lease_until = NULL WHERE id = $1",
        id,
        error
    )?;
    Ok(())
}
