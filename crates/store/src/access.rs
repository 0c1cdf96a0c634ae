//! Access resolution: the only way to obtain a [`Scope`].
//!
//! A `Scope` proves that a principal reaches a workspace, and carries what it may do
//! there. Its fields are private and it has no public constructor, so code outside this
//! crate can only get one from [`resolve`]; product queries take `&Scope` and filter by
//! its workspace id themselves.

use callplane_domain::role::{AccountRole, BuiltinRole};
use callplane_domain::{Permission, PermissionSet, Principal};

use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone)]
pub struct Scope {
    workspace_id: String,
    account_id: String,
    workspace_name: String,
    region: String,
    active: bool,
    role: Option<String>,
    account_role: Option<AccountRole>,
    permissions: PermissionSet,
    principal: Principal,
}

impl Scope {
    pub fn workspace_id(&self) -> &str {
        &self.workspace_id
    }
    pub fn account_id(&self) -> &str {
        &self.account_id
    }
    pub fn workspace_name(&self) -> &str {
        &self.workspace_name
    }
    pub fn region(&self) -> &str {
        &self.region
    }
    /// Whether the workspace is active (W4: inactive workspaces refuse product access).
    pub fn is_active(&self) -> bool {
        self.active
    }
    /// The caller's membership role, if they are a member (account admins may not be).
    pub fn role(&self) -> Option<&str> {
        self.role.as_deref()
    }
    pub fn is_account_admin(&self) -> bool {
        self.account_role == Some(AccountRole::Admin)
    }
    pub fn permissions(&self) -> PermissionSet {
        self.permissions
    }
    pub fn can(&self, p: Permission) -> bool {
        self.permissions.contains(p)
    }
    pub fn principal(&self) -> &Principal {
        &self.principal
    }
}

/// What a user may do in a workspace given their membership role there and their role
/// in its account; `None` when they do not reach it at all. Account admins reach every
/// workspace of their account (A3); other users only those they are members of.
pub fn permissions_for(role: Option<&str>, account_role: Option<&str>) -> Option<PermissionSet> {
    let role_perms = role
        .and_then(BuiltinRole::parse)
        .map(BuiltinRole::permissions);
    let admin_perms = (account_role.and_then(AccountRole::parse) == Some(AccountRole::Admin))
        .then(|| AccountRole::Admin.permissions());
    match (role_perms, admin_perms) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or_default().union(b.unwrap_or_default())),
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    account_id: String,
    name: String,
    region: String,
    status: String,
    role: Option<String>,
    account_role: Option<String>,
}

/// The caller's scope in `workspace_id`, or `None` when the workspace does not exist or
/// the caller has no access to it (the two are indistinguishable to the caller: I1).
pub async fn resolve(
    ex: &mut impl Executor,
    principal: &Principal,
    workspace_id: &str,
) -> Result<Option<Scope>> {
    let row: Option<Row> = on!(ex, |c| {
        sqlx::query_as(
        "SELECT w.id, w.account_id, w.name, w.region, w.status, m.role AS role, au.role AS account_role
         FROM workspaces w
         LEFT JOIN memberships m ON m.workspace_id = w.id AND m.user_id = $2
         LEFT JOIN account_users au ON au.account_id = w.account_id AND au.user_id = $2
         WHERE w.id = $1"
    )
    .bind(workspace_id)
    .bind(principal.user_id())
    .fetch_optional(c)
    .await
    })?;
    let Some(row) = row else { return Ok(None) };
    let Some(permissions) = permissions_for(row.role.as_deref(), row.account_role.as_deref())
    else {
        return Ok(None);
    };
    let account_role = row.account_role.as_deref().and_then(AccountRole::parse);
    Ok(Some(Scope {
        workspace_id: row.id,
        account_id: row.account_id,
        workspace_name: row.name,
        region: row.region,
        active: row.status == "active",
        role: row.role,
        account_role,
        permissions,
        principal: principal.clone(),
    }))
}
