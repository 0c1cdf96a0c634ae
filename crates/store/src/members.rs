//! Workspace memberships: who is in a workspace, with which role.

use crate::access::Scope;
use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
    pub last_active_at: Option<i64>,
}

pub async fn list(ex: &mut impl Executor, scope: &Scope) -> Result<Vec<Member>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT m.user_id, u.email, u.name, m.role, m.created_at, u.last_active_at
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.workspace_id = $1 ORDER BY m.created_at, u.email_key"
    )
    .bind(scope.workspace_id())
    .fetch_all(c)
    .await)?)
}

/// Adds a member to the workspace in scope.
pub async fn add(ex: &mut impl Executor, scope: &Scope, user_id: &str, role: &str, now: i64) -> Result<()> {
    ex.access_changed();
    add_to_workspace(ex, scope.workspace_id(), user_id, role, now).await
}

/// One member of the workspace in scope.
pub async fn get(ex: &mut impl Executor, scope: &Scope, user_id: &str) -> Result<Option<Member>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT m.user_id, u.email, u.name, m.role, m.created_at, u.last_active_at
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.workspace_id = $1 AND m.user_id = $2"
    )
    .bind(scope.workspace_id())
    .bind(user_id)
    .fetch_optional(c)
    .await)?)
}

pub async fn set_role(ex: &mut impl Executor, scope: &Scope, user_id: &str, role: &str) -> Result<()> {
    ex.access_changed();
    set_role_in(ex, scope.workspace_id(), user_id, role).await
}

pub async fn remove(ex: &mut impl Executor, scope: &Scope, user_id: &str) -> Result<()> {
    ex.access_changed();
    remove_from_workspace(ex, scope.workspace_id(), user_id).await
}

/// One cell of the access review: a user's role in a workspace of the account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccessRow {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub account_role: Option<String>,
    pub workspace_id: Option<String>,
    pub workspace_name: Option<String>,
    pub role: Option<String>,
    pub last_active_at: Option<i64>,
}

/// Everyone who reaches the account: its users (with their account role) and every
/// member of its workspaces, with one row per (user, workspace) membership.
pub async fn access_review(ex: &mut impl Executor, account_id: &str) -> Result<Vec<AccessRow>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT u.id AS user_id, u.email, u.name, au.role AS account_role,
                w.id AS workspace_id, w.name AS workspace_name, m.role, u.last_active_at
         FROM users u
         LEFT JOIN account_users au ON au.user_id = u.id AND au.account_id = $1
         LEFT JOIN memberships m ON m.user_id = u.id
              AND m.workspace_id IN (SELECT id FROM workspaces WHERE account_id = $1 AND lifecycle = 'ready')
         LEFT JOIN workspaces w ON w.id = m.workspace_id
         WHERE au.user_id IS NOT NULL OR m.user_id IS NOT NULL
         ORDER BY u.email_key, w.name_key"
    )
    .bind(account_id)
    .fetch_all(c)
    .await)?)
}

pub async fn is_member(ex: &mut impl Executor, workspace_id: &str, user_id: &str) -> Result<bool> {
    let n: i64 =
        on!(ex, |c| sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND user_id = $2")
            .bind(workspace_id)
            .bind(user_id)
            .fetch_one(c)
            .await)?;
    Ok(n > 0)
}

/// Adds a member by workspace id: for accepting an invitation, where the token (not a
/// scope) is the credential, and for account administrators granting access.
pub async fn add_to_workspace(
    ex: &mut impl Executor,
    workspace_id: &str,
    user_id: &str,
    role: &str,
    now: i64,
) -> Result<()> {
    ex.access_changed();
    execute!(
        ex,
        "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        workspace_id,
        user_id,
        role,
        now
    )?;
    Ok(())
}

/// A user's role in a workspace (by id; account administration works across workspaces).
pub async fn role_in(ex: &mut impl Executor, workspace_id: &str, user_id: &str) -> Result<Option<String>> {
    Ok(on!(ex, |c| sqlx::query_scalar("SELECT role FROM memberships WHERE workspace_id = $1 AND user_id = $2")
        .bind(workspace_id)
        .bind(user_id)
        .fetch_optional(c)
        .await)?)
}

pub async fn set_role_in(ex: &mut impl Executor, workspace_id: &str, user_id: &str, role: &str) -> Result<()> {
    ex.access_changed();
    execute!(
        ex,
        "UPDATE memberships SET role = $3 WHERE workspace_id = $1 AND user_id = $2",
        workspace_id,
        user_id,
        role
    )?;
    Ok(())
}

pub async fn remove_from_workspace(ex: &mut impl Executor, workspace_id: &str, user_id: &str) -> Result<()> {
    ex.access_changed();
    execute!(ex, "DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2", workspace_id, user_id)?;
    Ok(())
}

/// Whether the user is a member of any workspace of the account.
pub async fn belongs_to_account(ex: &mut impl Executor, account_id: &str, user_id: &str) -> Result<bool> {
    let n: i64 = on!(ex, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
         WHERE w.account_id = $1 AND m.user_id = $2"
    )
    .bind(account_id)
    .bind(user_id)
    .fetch_one(c)
    .await)?;
    Ok(n > 0)
}

/// The email addresses of a workspace's Owner(s) (whom the service tells about the
/// workspace's trouble, e.g. a webhook it disabled).
pub async fn owner_emails(ex: &mut impl Executor, workspace_id: &str) -> Result<Vec<String>> {
    Ok(on!(ex, |c| sqlx::query_scalar(
        "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.workspace_id = $1 AND m.role = 'owner' ORDER BY u.email_key"
    )
    .bind(workspace_id)
    .fetch_all(c)
    .await)?)
}
