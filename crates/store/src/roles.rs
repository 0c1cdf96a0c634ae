//! Account-defined custom roles (SPEC A2): named permission sets, usable in any
//! workspace of the account. Memberships, invitations and keys name them by id.

use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Role {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// Space-separated permission names.
    pub permissions: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn list(ex: &mut impl Executor, account_id: &str) -> Result<Vec<Role>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT id, account_id, name, permissions, created_at, updated_at FROM roles
         WHERE account_id = $1 ORDER BY name_key"
    )
    .bind(account_id)
    .fetch_all(c)
    .await)?)
}

pub async fn get(ex: &mut impl Executor, account_id: &str, id: &str) -> Result<Option<Role>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT id, account_id, name, permissions, created_at, updated_at FROM roles
         WHERE account_id = $1 AND id = $2"
    )
    .bind(account_id)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

pub struct NewRole<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub name: &'a str,
    pub name_key: &'a str,
    pub permissions: &'a str,
    pub now: i64,
}

/// Name uniqueness per account is `roles_name_unique` ([`crate::Error::Unique`]).
pub async fn create(ex: &mut impl Executor, r: NewRole<'_>) -> Result<Role> {
    Ok(on!(ex, |c| sqlx::query_as(
        "INSERT INTO roles (id, account_id, name, name_key, permissions, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         RETURNING id, account_id, name, permissions, created_at, updated_at"
    )
    .bind(r.id)
    .bind(r.account_id)
    .bind(r.name)
    .bind(r.name_key)
    .bind(r.permissions)
    .bind(r.now)
    .fetch_one(c)
    .await)?)
}

pub async fn update(
    ex: &mut impl Executor,
    account_id: &str,
    id: &str,
    name: Option<(&str, &str)>,
    permissions: Option<&str>,
    now: i64,
) -> Result<Option<Role>> {
    ex.access_changed();
    let (name, name_key) = name.unzip();
    Ok(on!(ex, |c| sqlx::query_as(
        "UPDATE roles SET name = COALESCE($3, name), name_key = COALESCE($4, name_key),
                permissions = COALESCE($5, permissions), updated_at = $6
         WHERE account_id = $1 AND id = $2
         RETURNING id, account_id, name, permissions, created_at, updated_at"
    )
    .bind(account_id)
    .bind(id)
    .bind(name)
    .bind(name_key)
    .bind(permissions)
    .bind(now)
    .fetch_optional(c)
    .await)?)
}

/// How many memberships, pending invitations and live keys use the role.
pub async fn usage(ex: &mut impl Executor, account_id: &str, id: &str) -> Result<i64> {
    Ok(on!(ex, |c| sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM memberships m JOIN workspaces w ON w.id = m.workspace_id
                 WHERE w.account_id = $1 AND m.role = $2)
              + (SELECT COUNT(*) FROM invitations i JOIN workspaces w ON w.id = i.workspace_id
                 WHERE w.account_id = $1 AND i.role = $2 AND i.accepted_at IS NULL AND i.revoked_at IS NULL)
              + (SELECT COUNT(*) FROM api_keys k WHERE k.account_id = $1 AND k.role = $2 AND k.revoked_at IS NULL)"
    )
    .bind(account_id)
    .bind(id)
    .fetch_one(c)
    .await)?)
}

pub async fn delete(ex: &mut impl Executor, account_id: &str, id: &str) -> Result<bool> {
    ex.access_changed();
    Ok(execute!(ex, "DELETE FROM roles WHERE account_id = $1 AND id = $2", account_id, id)? > 0)
}
