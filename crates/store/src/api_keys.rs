//! API keys (SPEC K1–K3). Only a SHA-256 hash of the secret is stored.

use crate::access::Scope;
use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKey {
    pub id: String,
    pub account_id: String,
    pub workspace_id: Option<String>,
    pub name: String,
    pub display_prefix: String,
    pub role: String,
    pub created_by: String,
    pub created_by_email: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A live key found by its secret, with what authentication needs to decide.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyAuth {
    pub id: String,
    pub account_id: String,
    pub workspace_id: Option<String>,
    pub name: String,
    pub display_prefix: String,
    pub role: String,
    pub created_by: String,
    pub last_used_at: Option<i64>,
    /// The key's workspace status (`None` for organization keys).
    pub workspace_status: Option<String>,
    pub workspace_name: Option<String>,
}

pub struct NewKey<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub workspace_id: Option<&'a str>,
    pub name: &'a str,
    pub display_prefix: &'a str,
    pub secret_hash: &'a str,
    pub role: &'a str,
    pub created_by: &'a str,
    pub now: i64,
}

pub async fn create(ex: &mut impl Executor, k: NewKey<'_>) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO api_keys (id, account_id, workspace_id, name, display_prefix, secret_hash, role, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        k.id,
        k.account_id,
        k.workspace_id,
        k.name,
        k.display_prefix,
        k.secret_hash,
        k.role,
        k.created_by,
        k.now
    )?;
    Ok(())
}

/// The live (unrevoked) key with this secret hash.
pub async fn find_live(ex: &mut impl Executor, secret_hash: &str) -> Result<Option<KeyAuth>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT k.id, k.account_id, k.workspace_id, k.name, k.display_prefix, k.role, k.created_by, k.last_used_at,
                w.status AS workspace_status, w.name AS workspace_name
         FROM api_keys k LEFT JOIN workspaces w ON w.id = k.workspace_id
         WHERE k.secret_hash = $1 AND k.revoked_at IS NULL AND (k.workspace_id IS NULL OR w.lifecycle = 'ready')"
    )
    .bind(secret_hash)
    .fetch_optional(c)
    .await)?)
}

pub async fn touch(ex: &mut impl Executor, id: &str, now: i64) -> Result<()> {
    execute!(ex, "UPDATE api_keys SET last_used_at = $2 WHERE id = $1", id, now)?;
    Ok(())
}

/// The workspace's keys, newest first, revoked ones included.
pub async fn list_for_workspace(ex: &mut impl Executor, scope: &Scope) -> Result<Vec<ApiKey>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT k.id, k.account_id, k.workspace_id, k.name, k.display_prefix, k.role, k.created_by,
                u.email AS created_by_email, k.created_at, k.last_used_at, k.revoked_at
         FROM api_keys k JOIN users u ON u.id = k.created_by
         WHERE k.workspace_id = $1 ORDER BY k.id DESC"
    )
    .bind(scope.workspace_id())
    .fetch_all(c)
    .await)?)
}

/// The account's organization keys, newest first.
pub async fn list_for_account(ex: &mut impl Executor, account_id: &str) -> Result<Vec<ApiKey>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT k.id, k.account_id, k.workspace_id, k.name, k.display_prefix, k.role, k.created_by,
                u.email AS created_by_email, k.created_at, k.last_used_at, k.revoked_at
         FROM api_keys k JOIN users u ON u.id = k.created_by
         WHERE k.account_id = $1 AND k.workspace_id IS NULL ORDER BY k.id DESC"
    )
    .bind(account_id)
    .fetch_all(c)
    .await)?)
}

pub async fn revoke_in_workspace(ex: &mut impl Executor, scope: &Scope, id: &str, now: i64) -> Result<bool> {
    ex.access_changed();
    Ok(execute!(
        ex,
        "UPDATE api_keys SET revoked_at = $3 WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL",
        scope.workspace_id(),
        id,
        now
    )? > 0)
}

pub async fn revoke_org_key(ex: &mut impl Executor, account_id: &str, id: &str, now: i64) -> Result<bool> {
    ex.access_changed();
    Ok(execute!(
        ex,
        "UPDATE api_keys SET revoked_at = $3
         WHERE account_id = $1 AND id = $2 AND workspace_id IS NULL AND revoked_at IS NULL",
        account_id,
        id,
        now
    )? > 0)
}

/// Revokes every live key a user created in the workspace (on removal: T3).
pub async fn revoke_for_member(ex: &mut impl Executor, scope: &Scope, user_id: &str, now: i64) -> Result<u64> {
    revoke_for_user_in(ex, scope.workspace_id(), user_id, now).await
}

/// Revokes every live key a user created in a workspace (by id, for account admins).
pub async fn revoke_for_user_in(ex: &mut impl Executor, workspace_id: &str, user_id: &str, now: i64) -> Result<u64> {
    ex.access_changed();
    Ok(execute!(
        ex,
        "UPDATE api_keys SET revoked_at = $3 WHERE workspace_id = $1 AND created_by = $2 AND revoked_at IS NULL",
        workspace_id,
        user_id,
        now
    )?)
}
