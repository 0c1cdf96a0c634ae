//! Sign-in sessions. Only a hash of the token is stored.

use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub active_workspace_id: Option<String>,
    pub expires_at: i64,
    pub last_seen_at: i64,
}

pub struct NewSession<'a> {
    pub id: &'a str,
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub active_workspace_id: Option<&'a str>,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn create(ex: &mut impl Executor, s: NewSession<'_>) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO sessions (id, token_hash, user_id, active_workspace_id, created_at, expires_at, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $5)",
        s.id,
        s.token_hash,
        s.user_id,
        s.active_workspace_id,
        s.now,
        s.expires_at
    )?;
    Ok(())
}

/// The live session whose token hashes to `token_hash`.
pub async fn find_live(ex: &mut impl Executor, token_hash: &str, now: i64) -> Result<Option<Session>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT s.id, s.user_id, u.email, s.active_workspace_id, s.expires_at, s.last_seen_at
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at > $2"
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(c)
    .await)?)
}

pub async fn active_workspace(ex: &mut impl Executor, session_id: &str) -> Result<Option<String>> {
    Ok(on!(ex, |c| sqlx::query_scalar::<_, Option<String>>("SELECT active_workspace_id FROM sessions WHERE id = $1")
        .bind(session_id)
        .fetch_optional(c)
        .await)?
    .flatten())
}

pub async fn set_active_workspace(ex: &mut impl Executor, session_id: &str, workspace_id: Option<&str>) -> Result<()> {
    ex.access_changed();
    execute!(ex, "UPDATE sessions SET active_workspace_id = $2 WHERE id = $1", session_id, workspace_id)?;
    Ok(())
}

/// Records activity; also marks the user active (members' "last active" date).
pub async fn touch(ex: &mut impl Executor, session_id: &str, user_id: &str, now: i64) -> Result<()> {
    execute!(ex, "UPDATE sessions SET last_seen_at = $2 WHERE id = $1", session_id, now)?;
    execute!(ex, "UPDATE users SET last_active_at = $2 WHERE id = $1", user_id, now)?;
    Ok(())
}

pub async fn delete(ex: &mut impl Executor, session_id: &str) -> Result<()> {
    ex.access_changed();
    execute!(ex, "DELETE FROM sessions WHERE id = $1", session_id)?;
    Ok(())
}
