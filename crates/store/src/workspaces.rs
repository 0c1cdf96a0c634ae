//! Workspaces: the isolation boundary. Writes that concern one workspace take its
//! [`Scope`]; creation and listing are account- and user-level.

use crate::access::Scope;
use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Workspace {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub status: String,
    pub region: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A workspace as one user reaches it: with their membership role (if any) and whether
/// they reach it as an administrator of its account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccessibleWorkspace {
    pub id: String,
    pub account_id: String,
    pub account_name: String,
    pub name: String,
    pub status: String,
    pub region: String,
    pub created_at: i64,
    pub role: Option<String>,
    /// The custom role's permission list, when `role` is a custom role.
    pub role_permissions: Option<String>,
    /// The custom role's name, when `role` is a custom role.
    pub role_name: Option<String>,
    pub account_role: Option<String>,
}

pub struct NewWorkspace<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub name: &'a str,
    pub name_key: &'a str,
    pub status: &'a str,
    pub region: &'a str,
    pub created_by: &'a str,
    pub now: i64,
}

/// Inserts the workspace and makes its creator the Owner. The name's uniqueness per
/// account is the `workspaces_name_unique` constraint ([`crate::Error::Unique`]).
pub async fn create(ex: &mut impl Executor, w: NewWorkspace<'_>) -> Result<Workspace> {
    let ws: Workspace = on!(ex, |c| {
        sqlx::query_as(
        "INSERT INTO workspaces (id, account_id, name, name_key, status, region, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
         RETURNING id, account_id, name, status, region, created_by, created_at, updated_at"
    )
    .bind(w.id)
    .bind(w.account_id)
    .bind(w.name)
    .bind(w.name_key)
    .bind(w.status)
    .bind(w.region)
    .bind(w.created_by)
    .bind(w.now)
    .fetch_one(c)
    .await
    })?;
    execute!(
        ex,
        "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)",
        w.id,
        w.created_by,
        w.now
    )?;
    Ok(ws)
}

pub async fn count_for_account(ex: &mut impl Executor, account_id: &str) -> Result<i64> {
    Ok(on!(ex, |c| sqlx::query_scalar("SELECT COUNT(*) FROM workspaces WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(c)
        .await)?)
}

/// Workspaces the user reaches: by membership, or as an administrator of the account.
/// `status` filters when given. Ordered by account, then name.
pub async fn accessible(
    ex: &mut impl Executor,
    user_id: &str,
    status: Option<&str>,
) -> Result<Vec<AccessibleWorkspace>> {
    Ok(on!(ex, |c| {
        sqlx::query_as(
            "SELECT w.id, w.account_id, a.name AS account_name, w.name, w.status, w.region, w.created_at,
                m.role AS role, r.permissions AS role_permissions, r.name AS role_name, au.role AS account_role
         FROM workspaces w
         JOIN accounts a ON a.id = w.account_id
         LEFT JOIN memberships m ON m.workspace_id = w.id AND m.user_id = $1
         LEFT JOIN roles r ON r.id = m.role AND r.account_id = w.account_id
         LEFT JOIN account_users au ON au.account_id = w.account_id AND au.user_id = $1
         WHERE (m.user_id IS NOT NULL OR au.role = 'admin')
           AND ($2 IS NULL OR w.status = $2)
         ORDER BY a.created_at, a.id, w.name_key",
        )
        .bind(user_id)
        .bind(status)
        .fetch_all(c)
        .await
    })?)
}

/// The workspace in scope, fresh from the database.
pub async fn get(ex: &mut impl Executor, scope: &Scope) -> Result<Workspace> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT id, account_id, name, status, region, created_by, created_at, updated_at
         FROM workspaces WHERE id = $1"
    )
    .bind(scope.workspace_id())
    .fetch_one(c)
    .await)?)
}

/// Renames and/or changes status. The region has no setter: it never changes (W3).
pub async fn update(
    ex: &mut impl Executor,
    scope: &Scope,
    name: Option<(&str, &str)>,
    status: Option<&str>,
    now: i64,
) -> Result<Workspace> {
    let (name, name_key) = name.unzip();
    Ok(on!(ex, |c| sqlx::query_as(
        "UPDATE workspaces SET name = COALESCE($2, name), name_key = COALESCE($3, name_key),
                status = COALESCE($4, status), updated_at = $5
         WHERE id = $1
         RETURNING id, account_id, name, status, region, created_by, created_at, updated_at"
    )
    .bind(scope.workspace_id())
    .bind(name)
    .bind(name_key)
    .bind(status)
    .bind(now)
    .fetch_one(c)
    .await)?)
}

/// What still runs in a workspace and so blocks its deletion (W5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActiveDependents {
    pub agents: i64,
    pub phone_numbers: i64,
}

pub async fn active_dependents(ex: &mut impl Executor, scope: &Scope) -> Result<ActiveDependents> {
    let agents =
        on!(ex, |c| sqlx::query_scalar("SELECT COUNT(*) FROM agents WHERE workspace_id = $1 AND status = 'active'")
            .bind(scope.workspace_id())
            .fetch_one(c)
            .await)?;
    let phone_numbers = on!(ex, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM phone_numbers WHERE workspace_id = $1 AND status = 'active'"
    )
    .bind(scope.workspace_id())
    .fetch_one(c)
    .await)?;
    Ok(ActiveDependents { agents, phone_numbers })
}

/// Deletes the workspace; every product table cascades from it by `workspace_id`, so
/// this removes the workspace's rows and nothing of any other workspace.
pub async fn delete(ex: &mut impl Executor, scope: Scope) -> Result<()> {
    execute!(ex, "DELETE FROM workspaces WHERE id = $1", scope.workspace_id())?;
    Ok(())
}

pub async fn name_of(ex: &mut impl Executor, workspace_id: &str) -> Result<Option<String>> {
    Ok(on!(ex, |c| sqlx::query_scalar("SELECT name FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_optional(c)
        .await)?)
}

pub async fn account_of(ex: &mut impl Executor, workspace_id: &str) -> Result<Option<String>> {
    Ok(on!(ex, |c| sqlx::query_scalar("SELECT account_id FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_optional(c)
        .await)?)
}

/// The account's workspaces, by name.
pub async fn for_account(ex: &mut impl Executor, account_id: &str) -> Result<Vec<Workspace>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT id, account_id, name, status, region, created_by, created_at, updated_at
         FROM workspaces WHERE account_id = $1 ORDER BY name_key"
    )
    .bind(account_id)
    .fetch_all(c)
    .await)?)
}
