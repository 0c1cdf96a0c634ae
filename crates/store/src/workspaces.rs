//! The workspace registry (control database). Writes that concern one workspace take
//! its [`Scope`]; creation and listing are account- and user-level.
//!
//! A workspace spans two databases (its registry row here, its anchor in its region
//! database), so creation and deletion are sequences of idempotent steps recorded in
//! `lifecycle`: `provisioning` → `ready` → `deleting` → gone. Only `ready` workspaces
//! are visible; [`claim_pending`] hands unfinished sequences to a worker.

use crate::access::Scope;
pub use crate::access::Workspace;
use crate::db::Executor;
use crate::error::Result;

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

/// Registers the workspace as `provisioning` (invisible until [`mark_ready`]) and makes
/// its creator the Owner. The name's uniqueness per account is the
/// `workspaces_name_unique` constraint ([`crate::Error::Unique`]). The creating request
/// holds the lease until `lease_until`, so a worker does not race it.
pub async fn create(ex: &mut impl Executor, w: NewWorkspace<'_>, lease_until: i64) -> Result<Workspace> {
    let ws: Workspace = on!(ex, |c| {
        sqlx::query_as(
        "INSERT INTO workspaces (id, account_id, name, name_key, status, region, created_by, created_at, updated_at,
                                 lifecycle, lease_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 'provisioning', $9)
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
    .bind(lease_until)
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

/// The account's workspaces that exist or are being created (not those being deleted).
pub async fn count_for_account(ex: &mut impl Executor, account_id: &str) -> Result<i64> {
    Ok(on!(ex, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM workspaces WHERE account_id = $1 AND lifecycle <> 'deleting'"
    )
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
           AND w.lifecycle = 'ready'
           AND ($2 IS NULL OR w.status = $2)
         ORDER BY a.created_at, a.id, w.name_key",
        )
        .bind(user_id)
        .bind(status)
        .fetch_all(c)
        .await
    })?)
}

/// The workspace in scope, fresh from the database (inside a transaction that changes it).
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
    ex.access_changed();
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

/// Starts a deletion (W5): the workspace becomes invisible and refused everywhere at
/// once, and its name is free again. The caller holds the lease until `lease_until`.
pub async fn mark_deleting(ex: &mut impl Executor, scope: &Scope, now: i64, lease_until: i64) -> Result<()> {
    ex.access_changed();
    execute!(
        ex,
        "UPDATE workspaces SET lifecycle = 'deleting', name_key = name_key || ' (deleting ' || id || ')',
                updated_at = $2, lease_until = $3
         WHERE id = $1 AND lifecycle = 'ready'",
        scope.workspace_id(),
        now,
        lease_until
    )?;
    Ok(())
}

/// Ends a creation: the workspace becomes visible.
pub async fn mark_ready(ex: &mut impl Executor, workspace_id: &str) -> Result<bool> {
    ex.access_changed();
    Ok(execute!(
        ex,
        "UPDATE workspaces SET lifecycle = 'ready', lease_until = NULL WHERE id = $1 AND lifecycle = 'provisioning'",
        workspace_id
    )? > 0)
}

/// Ends a deletion: removes the registry row; memberships, invitations and API keys
/// cascade from it, sessions forget it as their active workspace.
pub async fn remove_deleted(ex: &mut impl Executor, workspace_id: &str) -> Result<bool> {
    ex.access_changed();
    Ok(execute!(ex, "DELETE FROM workspaces WHERE id = $1 AND lifecycle = 'deleting'", workspace_id)? > 0)
}

/// A workspace whose creation or deletion is unfinished.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub id: String,
    pub account_id: String,
    pub region: String,
    /// `provisioning` or `deleting`.
    pub lifecycle: String,
}

/// Claims one unfinished workspace whose lease has expired, leasing it until
/// `lease_until`. On PostgreSQL, replicas claiming at once skip each other's rows.
pub async fn claim_pending(ex: &mut impl Executor, now: i64, lease_until: i64) -> Result<Option<Pending>> {
    macro_rules! claim_sql {
        ($lock:literal) => {
            concat!(
                "UPDATE workspaces SET lease_until = $2
                 WHERE id = (SELECT id FROM workspaces
                             WHERE lifecycle <> 'ready' AND (lease_until IS NULL OR lease_until < $1)
                             ORDER BY updated_at LIMIT 1",
                $lock,
                ") RETURNING id, account_id, region, lifecycle"
            )
        };
    }
    let sql = if ex.is_postgres() { claim_sql!(" FOR UPDATE SKIP LOCKED") } else { claim_sql!("") };
    Ok(on!(ex, |c| sqlx::query_as(sql).bind(now).bind(lease_until).fetch_optional(c).await)?)
}

/// Forgets every lease (SQLite only: one process per database, so at start-up every
/// lease belongs to a process that is gone).
pub async fn release_leases(ex: &mut impl Executor) -> Result<()> {
    execute!(ex, "UPDATE workspaces SET lease_until = NULL WHERE lifecycle <> 'ready'")?;
    Ok(())
}

pub async fn name_of(ex: &mut impl Executor, workspace_id: &str) -> Result<Option<String>> {
    Ok(on!(ex, |c| sqlx::query_scalar("SELECT name FROM workspaces WHERE id = $1 AND lifecycle = 'ready'")
        .bind(workspace_id)
        .fetch_optional(c)
        .await)?)
}

/// The region a workspace's product data lives in (none once it is removed).
pub async fn region_of(ex: &mut impl Executor, workspace_id: &str) -> Result<Option<String>> {
    Ok(on!(ex, |c| sqlx::query_scalar("SELECT region FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_optional(c)
        .await)?)
}

pub async fn account_of(ex: &mut impl Executor, workspace_id: &str) -> Result<Option<String>> {
    Ok(on!(ex, |c| sqlx::query_scalar("SELECT account_id FROM workspaces WHERE id = $1 AND lifecycle = 'ready'")
        .bind(workspace_id)
        .fetch_optional(c)
        .await)?)
}

/// The account's workspaces, by name.
pub async fn for_account(ex: &mut impl Executor, account_id: &str) -> Result<Vec<Workspace>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT id, account_id, name, status, region, created_by, created_at, updated_at
         FROM workspaces WHERE account_id = $1 AND lifecycle = 'ready' ORDER BY name_key"
    )
    .bind(account_id)
    .fetch_all(c)
    .await)?)
}
