//! Access resolution: the only way to obtain a [`Scope`].
//!
//! A `Scope` proves that a principal reaches a workspace, and carries what it may do
//! there. Its fields are private and it has no public constructor, so code outside this
//! crate can only get one from [`resolve`]. The scope also leads to the workspace's
//! region database: product repositories run only on the handles [`Scope::begin`] and
//! [`Scope::read`] yield, which carry the workspace id, so a product query can neither
//! run on the wrong database nor forget its workspace.

use callplane_domain::role::{AccountRole, BuiltinRole};
use callplane_domain::{Permission, PermissionSet, Principal};

use crate::db::Executor;
use crate::error::{Error, Result};
use crate::product::{ProductConn, ProductTx};
use crate::regions::{RegionDb, Regions};

/// A workspace's registry row (control database).
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

#[derive(Debug, Clone)]
pub struct Scope {
    workspace: Workspace,
    region_db: RegionDb,
    role: Option<String>,
    account_role: Option<AccountRole>,
    permissions: PermissionSet,
    principal: Principal,
}

impl Scope {
    pub fn workspace_id(&self) -> &str {
        &self.workspace.id
    }
    pub fn account_id(&self) -> &str {
        &self.workspace.account_id
    }
    pub fn workspace_name(&self) -> &str {
        &self.workspace.name
    }
    pub fn region(&self) -> &str {
        &self.workspace.region
    }
    /// The workspace as it was when this scope was resolved (caches of scopes are
    /// invalidated by every change to it).
    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }
    /// Whether the workspace is active (W4: inactive workspaces refuse product access).
    pub fn is_active(&self) -> bool {
        self.workspace.status == "active"
    }
    /// A write transaction on the workspace's region database.
    pub async fn begin(&self) -> Result<ProductTx<'_>> {
        Ok(ProductTx::new(self.region_db.begin().await?, self))
    }
    /// One transaction acting in this workspace and `other`, which must live in the same
    /// region (and so the same database); `None` otherwise.
    pub async fn begin_pair<'s>(&'s self, other: &'s Scope) -> Result<Option<crate::product::PairTx<'s>>> {
        if self.region() != other.region() || self.region_db.url() != other.region_db.url() {
            return Ok(None);
        }
        Ok(Some(crate::product::PairTx::new(self.region_db.begin().await?, self, other)))
    }
    /// A connection for reads on the workspace's region database.
    pub async fn read(&self) -> Result<ProductConn<'_>> {
        Ok(ProductConn::new(self.region_db.conn().await?, self))
    }
    /// The caller's role here: their membership role, or an API key's role. Account
    /// admins who are not members have none.
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

/// The permissions a role name grants: a built-in role, or a custom role whose stored
/// permission list is `custom`. An unknown role grants nothing.
pub fn role_permissions(role: &str, custom: Option<&str>) -> PermissionSet {
    BuiltinRole::parse(role)
        .map(BuiltinRole::permissions)
        .or_else(|| custom.map(|names| PermissionSet::from_names(names.split_whitespace())))
        .unwrap_or_default()
}

/// What a user may do in a workspace given their membership role there (with the
/// custom role's permission list, if it is one) and their role in its account; `None`
/// when they do not reach it at all. Account admins reach every workspace of their
/// account (A3); other users only those they are members of.
pub fn permissions_for(role: Option<&str>, custom: Option<&str>, account_role: Option<&str>) -> Option<PermissionSet> {
    let role_perms = role.map(|r| role_permissions(r, custom));
    let admin_perms = (account_role.and_then(AccountRole::parse) == Some(AccountRole::Admin))
        .then(|| AccountRole::Admin.permissions());
    match (role_perms, admin_perms) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or_default().union(b.unwrap_or_default())),
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    #[sqlx(flatten)]
    workspace: Workspace,
    role: Option<String>,
    role_permissions: Option<String>,
    account_role: Option<String>,
}

/// The caller's scope in `workspace_id`, or `None` when the workspace does not exist, is
/// not `ready` (being provisioned or deleted), or the caller has no access to it (all
/// indistinguishable to the caller: I1).
///
/// API keys: a workspace key reaches only its workspace, with its role's permissions
/// bounded by what its creator may still do there; an organization key reaches every
/// workspace of its account with its role's permissions (K1, K2).
pub async fn resolve(
    ex: &mut impl Executor,
    regions: &Regions,
    principal: &Principal,
    workspace_id: &str,
) -> Result<Option<Scope>> {
    let row: Option<Row> = on!(ex, |c| {
        sqlx::query_as(
        "SELECT w.id, w.account_id, w.name, w.status, w.region, w.created_by, w.created_at, w.updated_at, m.role AS role,
                r.permissions AS role_permissions, au.role AS account_role
         FROM workspaces w
         LEFT JOIN memberships m ON m.workspace_id = w.id AND m.user_id = $2
         LEFT JOIN roles r ON r.id = m.role AND r.account_id = w.account_id
         LEFT JOIN account_users au ON au.account_id = w.account_id AND au.user_id = $2
         WHERE w.id = $1 AND w.lifecycle = 'ready'"
    )
    .bind(workspace_id)
    .bind(principal.user_id())
    .fetch_optional(c)
    .await
    })?;
    let Some(row) = row else { return Ok(None) };
    let user_perms = permissions_for(row.role.as_deref(), row.role_permissions.as_deref(), row.account_role.as_deref());
    let (permissions, role) = match principal {
        Principal::User { .. } => match user_perms {
            Some(p) => (p, row.role.clone()),
            None => return Ok(None),
        },
        Principal::ApiKey(key) => {
            if key.account_id != row.workspace.account_id {
                return Ok(None);
            }
            let key_perms = role_of_account(ex, &row.workspace.account_id, &key.role).await?;
            match &key.workspace_id {
                Some(ws) if ws != &row.workspace.id => return Ok(None),
                Some(_) => match user_perms {
                    Some(creator) => (key_perms.intersect(creator), Some(key.role.clone())),
                    None => return Ok(None),
                },
                None => (key_perms, Some(key.role.clone())),
            }
        }
    };
    let region =
        regions.get(&row.workspace.region).ok_or_else(|| Error::RegionUnavailable(row.workspace.region.clone()))?;
    Ok(Some(Scope {
        region_db: region.db.clone(),
        workspace: row.workspace,
        role,
        account_role: row.account_role.as_deref().and_then(AccountRole::parse),
        permissions,
        principal: principal.clone(),
    }))
}

/// The permissions of a role as defined in an account (built-in or the account's custom role).
pub async fn role_of_account(ex: &mut impl Executor, account_id: &str, role: &str) -> Result<PermissionSet> {
    if BuiltinRole::parse(role).is_some() {
        return Ok(role_permissions(role, None));
    }
    let custom: Option<String> =
        on!(ex, |c| sqlx::query_scalar("SELECT permissions FROM roles WHERE account_id = $1 AND id = $2")
            .bind(account_id)
            .bind(role)
            .fetch_optional(c)
            .await)?;
    Ok(role_permissions(role, Some(custom.as_deref().unwrap_or(""))))
}
