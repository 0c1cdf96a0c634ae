//! Workspace invitations (SPEC T1, T2): single-use tokens, stored as hashes, expiring.

use crate::access::Scope;
use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Invitation {
    pub workspace_id: String,
    pub id: String,
    pub email: String,
    pub role: String,
    pub invited_by: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_sent_at: i64,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl Invitation {
    /// `pending`, `accepted`, `revoked` or `expired` at `now`.
    pub fn status(&self, now: i64) -> &'static str {
        if self.accepted_at.is_some() {
            "accepted"
        } else if self.revoked_at.is_some() {
            "revoked"
        } else if self.expires_at <= now {
            "expired"
        } else {
            "pending"
        }
    }
}

/// `SELECT <every Invitation column> FROM invitations WHERE <condition>`, as one static string.
macro_rules! select_where {
    ($condition:literal) => {
        concat!(
            "SELECT workspace_id, id, email, role, invited_by, created_at, expires_at, last_sent_at, accepted_at, revoked_at
             FROM invitations WHERE ",
            $condition
        )
    };
}

pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub email_key: &'a str,
    pub role: &'a str,
    pub token_hash: &'a str,
    pub invited_by: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

pub async fn create(ex: &mut impl Executor, scope: &Scope, i: NewInvitation<'_>) -> Result<Invitation> {
    Ok(on!(ex, |c| {
        sqlx::query_as(
        "INSERT INTO invitations (workspace_id, id, email, email_key, role, token_hash, invited_by,
                                  created_at, expires_at, last_sent_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8)
         RETURNING workspace_id, id, email, role, invited_by, created_at, expires_at, last_sent_at, accepted_at, revoked_at"
    )
    .bind(scope.workspace_id())
    .bind(i.id)
    .bind(i.email)
    .bind(i.email_key)
    .bind(i.role)
    .bind(i.token_hash)
    .bind(i.invited_by)
    .bind(i.now)
    .bind(i.expires_at)
    .fetch_one(c)
    .await
    })?)
}

/// The workspace's invitations, newest first.
pub async fn list(ex: &mut impl Executor, scope: &Scope) -> Result<Vec<Invitation>> {
    Ok(on!(ex, |c| {
        sqlx::query_as(select_where!("workspace_id = $1 ORDER BY id DESC"))
            .bind(scope.workspace_id())
            .fetch_all(c)
            .await
    })?)
}

pub async fn get(ex: &mut impl Executor, scope: &Scope, id: &str) -> Result<Option<Invitation>> {
    Ok(on!(ex, |c| {
        sqlx::query_as(select_where!("workspace_id = $1 AND id = $2"))
            .bind(scope.workspace_id())
            .bind(id)
            .fetch_optional(c)
            .await
    })?)
}

/// The invitation a token opens, whatever its state; accepting is the one place that
/// reads invitations without a scope, because the token is the credential.
pub async fn by_token_hash(ex: &mut impl Executor, token_hash: &str) -> Result<Option<Invitation>> {
    Ok(on!(ex, |c| { sqlx::query_as(select_where!("token_hash = $1")).bind(token_hash).fetch_optional(c).await })?)
}

/// Pending invitations for an email in the workspace (to replace them on re-invite).
pub async fn revoke_pending_for_email(ex: &mut impl Executor, scope: &Scope, email_key: &str, now: i64) -> Result<u64> {
    Ok(execute!(
        ex,
        "UPDATE invitations SET revoked_at = $3
         WHERE workspace_id = $1 AND email_key = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
        scope.workspace_id(),
        email_key,
        now
    )?)
}

/// A fresh token and expiry for a pending invitation (resend).
pub async fn renew(
    ex: &mut impl Executor,
    scope: &Scope,
    id: &str,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<bool> {
    Ok(execute!(
        ex,
        "UPDATE invitations SET token_hash = $3, last_sent_at = $4, expires_at = $5
         WHERE workspace_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
        scope.workspace_id(),
        id,
        token_hash,
        now,
        expires_at
    )? > 0)
}

pub async fn revoke(ex: &mut impl Executor, scope: &Scope, id: &str, now: i64) -> Result<bool> {
    Ok(execute!(
        ex,
        "UPDATE invitations SET revoked_at = $3
         WHERE workspace_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL",
        scope.workspace_id(),
        id,
        now
    )? > 0)
}

/// Marks the invitation used, only if it still is pending at `now` (single use, even
/// under concurrent acceptance). Returns whether this call consumed it.
pub async fn consume(ex: &mut impl Executor, workspace_id: &str, id: &str, user_id: &str, now: i64) -> Result<bool> {
    Ok(execute!(
        ex,
        "UPDATE invitations SET accepted_at = $4, accepted_by = $3
         WHERE workspace_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $4",
        workspace_id,
        id,
        user_id,
        now
    )? > 0)
}
