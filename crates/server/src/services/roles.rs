//! Roles: which roles may be assigned where, "not above your own", and the account's
//! custom roles (SPEC A1, A2).

use callplane_domain::id::new_id;
use callplane_domain::role::BuiltinRole;
use callplane_domain::workspace::name_key;
use callplane_domain::{Permission, PermissionSet, Principal};
use callplane_store::access::role_of_account;
use callplane_store::roles::{self, NewRole, Role};
use callplane_store::Executor;
use serde_json::json;

use crate::error::{ApiError, ApiResult, Code};
use crate::services::audit::Auditor;
use crate::state::AppState;

pub const CUSTOM_PREFIX: &str = "role";

/// Checks that `role` names a built-in role (Owner only when `allow_owner`) or one of
/// the account's custom roles, and returns its permissions.
pub async fn assignable(
    ex: &mut impl Executor,
    account_id: &str,
    role: &str,
    allow_owner: bool,
) -> ApiResult<PermissionSet> {
    if let Some(builtin) = BuiltinRole::parse(role) {
        if builtin == BuiltinRole::Owner && !allow_owner {
            return Err(ApiError::invalid("role", "a workspace has exactly one Owner; transfer ownership instead"));
        }
        return Ok(builtin.permissions());
    }
    if roles::get(ex, account_id, role).await?.is_none() {
        return Err(ApiError::invalid(
            "role",
            "must be owner, admin, member, viewer or one of the account's custom role ids",
        ));
    }
    Ok(role_of_account(ex, account_id, role).await?)
}

/// Refuses granting (or acting on) a role with permissions the caller does not have.
pub fn not_above(own: PermissionSet, other: PermissionSet) -> ApiResult<()> {
    if other.is_subset_of(own) {
        Ok(())
    } else {
        let missing: Vec<&str> = other.iter().filter(|p| !own.contains(*p)).map(Permission::as_str).collect();
        Err(ApiError::new(
            Code::RoleAboveOwn,
            format!("That role has permissions you do not have: {}.", missing.join(", ")),
        )
        .with("missing_permissions", missing))
    }
}

/// A display label for a role value: built-in label or the custom role's name.
pub fn label(role: &str, custom_name: Option<&str>) -> String {
    BuiltinRole::parse(role)
        .map(|r| r.label().to_owned())
        .or_else(|| custom_name.map(str::to_owned))
        .unwrap_or_else(|| role.to_owned())
}

fn parse_role_name(raw: &str) -> ApiResult<(String, String)> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid("name", "must be 1-100 characters without control characters"));
    }
    if BuiltinRole::ALL.iter().any(|b| b.as_str() == name.to_lowercase()) {
        return Err(ApiError::invalid("name", "is the name of a built-in role"));
    }
    Ok((name.to_owned(), name_key(name)))
}

fn parse_permissions(names: &[String]) -> ApiResult<PermissionSet> {
    let unknown: Vec<&str> = names.iter().map(String::as_str).filter(|n| Permission::parse(n).is_none()).collect();
    if !unknown.is_empty() {
        return Err(ApiError::invalid("permissions", format!("unknown permissions: {}", unknown.join(", "))));
    }
    Ok(PermissionSet::from_names(names.iter().map(String::as_str)))
}

fn stored(perms: PermissionSet) -> String {
    perms.names().join(" ")
}

fn name_taken(e: callplane_store::Error) -> ApiError {
    if e.is_unique_on("name") {
        ApiError::new(Code::RoleNameTaken, "The account already has a role with this name.")
    } else {
        e.into()
    }
}

pub async fn create(
    state: &AppState,
    account_id: &str,
    actor: &Principal,
    name: &str,
    permissions: &[String],
) -> ApiResult<Role> {
    let (name, key) = parse_role_name(name)?;
    let perms = parse_permissions(permissions)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let id = new_id(CUSTOM_PREFIX);
    let role = roles::create(
        &mut tx,
        NewRole { id: &id, account_id, name: &name, name_key: &key, permissions: &stored(perms), now },
    )
    .await
    .map_err(name_taken)?;
    let auditor = Auditor { account_id, workspace_id: None, actor, now };
    let after = json!({ "name": role.name, "permissions": perms.names() });
    auditor.record(&mut tx, "role.created", ("role", &role.id), None, Some(after)).await?;
    tx.commit().await?;
    Ok(role)
}

pub async fn update(
    state: &AppState,
    account_id: &str,
    actor: &Principal,
    id: &str,
    name: Option<&str>,
    permissions: Option<&[String]>,
) -> ApiResult<Role> {
    let name = name.map(parse_role_name).transpose()?;
    let perms = permissions.map(parse_permissions).transpose()?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let before = roles::get(&mut tx, account_id, id).await?.ok_or_else(ApiError::not_found)?;
    let stored_perms = perms.map(stored);
    let after = roles::update(
        &mut tx,
        account_id,
        id,
        name.as_ref().map(|(n, k)| (n.as_str(), k.as_str())),
        stored_perms.as_deref(),
        now,
    )
    .await
    .map_err(name_taken)?
    .ok_or_else(ApiError::not_found)?;
    let auditor = Auditor { account_id, workspace_id: None, actor, now };
    let snap =
        |r: &Role| json!({ "name": r.name, "permissions": r.permissions.split_whitespace().collect::<Vec<_>>() });
    auditor.record(&mut tx, "role.updated", ("role", id), Some(snap(&before)), Some(snap(&after))).await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn delete(state: &AppState, account_id: &str, actor: &Principal, id: &str) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let before = roles::get(&mut tx, account_id, id).await?.ok_or_else(ApiError::not_found)?;
    let uses = roles::usage(&mut tx, account_id, id).await?;
    if uses > 0 {
        return Err(ApiError::new(
            Code::RoleInUse,
            format!("“{}” is still assigned {uses} time(s) (members, pending invitations or API keys). Reassign them first.", before.name),
        )
        .with("uses", uses));
    }
    roles::delete(&mut tx, account_id, id).await?;
    let auditor = Auditor { account_id, workspace_id: None, actor, now };
    auditor.record(&mut tx, "role.deleted", ("role", id), Some(json!({ "name": before.name })), None).await?;
    tx.commit().await?;
    Ok(())
}
