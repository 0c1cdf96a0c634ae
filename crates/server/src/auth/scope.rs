//! Authorization: the workspace a request acts in, and what the caller may do there.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use callplane_domain::id::{has_prefix, prefix};
use callplane_domain::{Permission, Principal};
use callplane_store::access::{self, Scope};
use callplane_store::sessions::{self, Session};
use callplane_store::{accounts, workspaces};

use crate::auth::principal::{authenticate, session_required};
use crate::error::{ApiError, ApiResult, Code};
use crate::routes::Access;
use crate::state::AppState;

/// The caller's [`Scope`] in the workspace the request names, after authentication,
/// workspace resolution and the permission check of the route's [`Access`].
///
/// This is the one place a workspace id is read from a request: the `{ws}` path segment
/// for API and management routes, otherwise the session's active workspace (W6).
/// Workspaces the caller cannot reach answer 404, exactly like ones that do not exist.
pub struct WorkspaceScope(pub Arc<Scope>);

impl std::ops::Deref for WorkspaceScope {
    type Target = Scope;
    fn deref(&self) -> &Scope {
        &self.0
    }
}

impl FromRequestParts<AppState> for WorkspaceScope {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let (permission, any_status) = match route_access(parts)? {
            Access::Workspace(p) => (p, false),
            Access::WorkspaceAnyStatus(p) => (p, true),
            other => return Err(ApiError::internal(format!("WorkspaceScope on a route with {other:?}"))),
        };
        let auth = authenticate(parts, state).await?.ok_or_else(ApiError::unauthenticated)?;
        let scope = match path_param(parts, state, "ws").await {
            Some(id) => resolve(state, &auth.principal, &id).await?.ok_or_else(ApiError::not_found)?,
            None => {
                let session = auth.session.as_ref().ok_or_else(session_required)?;
                active_scope(state, &auth.principal, session)
                    .await?
                    .ok_or_else(|| ApiError::new(Code::NoWorkspace, NO_WORKSPACE))?
            }
        };
        authorize(&scope, permission, any_status)?;
        Ok(WorkspaceScope(scope))
    }
}

/// A named segment of the route's path (`{ws}`, `{acct}`), if the route has one.
async fn path_param(parts: &mut Parts, state: &AppState, name: &str) -> Option<String> {
    RawPathParams::from_request_parts(parts, state)
        .await
        .ok()
        .and_then(|params| params.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_owned()))
}

pub const NO_WORKSPACE: &str =
    "You have not been given access to any workspace yet. Ask an administrator of your organization to invite you.";

/// The route's declared access, attached by [`crate::routes::Routes::add`].
fn route_access(parts: &Parts) -> ApiResult<Access> {
    parts
        .extensions
        .get::<Access>()
        .copied()
        .ok_or_else(|| ApiError::internal(format!("route {} has no access entry", parts.uri.path())))
}

/// The caller's scope in a workspace: from the access cache when warm, else one read.
pub async fn resolve(state: &AppState, principal: &Principal, workspace_id: &str) -> ApiResult<Option<Arc<Scope>>> {
    // Something that is not a workspace id names no workspace; no need to ask the database.
    if !has_prefix(workspace_id, prefix::WORKSPACE) {
        return Ok(None);
    }
    // A scope carries its principal: key it by the session or the API key.
    let key = principal.session_id().unwrap_or(principal.actor_id());
    if let Some(scope) = state.access_cache.scope(key, workspace_id) {
        return Ok(Some(scope));
    }
    let epoch = state.access_cache.epoch();
    let mut conn = state.db.conn().await?;
    let scope = access::resolve(&mut conn, &state.regions, principal, workspace_id).await?.map(Arc::new);
    if let Some(scope) = &scope {
        state.access_cache.put_scope(epoch, key, scope.clone());
    }
    Ok(scope)
}

/// Refuses an inactive workspace (W4) unless allowed, then checks the permission (A4, A5).
pub fn authorize(scope: &Scope, permission: Permission, any_status: bool) -> ApiResult<()> {
    if !any_status && !scope.is_active() {
        return Err(ApiError::new(
            Code::WorkspaceInactive,
            format!("The workspace “{}” is inactive. Reactivate it to use it.", scope.workspace_name()),
        ));
    }
    if !scope.can(permission) {
        return Err(ApiError::permission_denied(permission));
    }
    Ok(())
}

/// The session's active workspace (W6). When it is gone, inactive or no longer
/// reachable, the session moves to the first active workspace the user reaches, and
/// `None` means there is none.
///
/// The session's active workspace is exact even when the session came from the access
/// cache: changing it is an access change.
pub async fn active_scope(state: &AppState, principal: &Principal, session: &Session) -> ApiResult<Option<Arc<Scope>>> {
    let current = session.active_workspace_id.as_deref();
    if let Some(id) = current {
        if let Some(scope) = resolve(state, principal, id).await? {
            if scope.is_active() {
                return Ok(Some(scope));
            }
        }
    }
    let mut conn = state.db.conn().await?;
    let candidates = workspaces::accessible(&mut conn, principal.user_id(), Some("active")).await?;
    drop(conn);
    let mut fallback = None;
    for ws in candidates {
        if let Some(scope) = resolve(state, principal, &ws.id).await? {
            if scope.can(Permission::WorkspacesSwitch) {
                fallback = Some(scope);
                break;
            }
        }
    }
    let new_id = fallback.as_ref().map(|s| s.workspace_id());
    if new_id != current {
        let mut tx = state.db.begin().await?;
        sessions::set_active_workspace(&mut tx, &session.id, new_id).await?;
        tx.commit().await?;
    }
    Ok(fallback)
}

/// A caller of an account-level route (`Access::Account`); [`AccountCaller::authorize`]
/// checks the route's permission in the account the request acts on.
pub struct AccountCaller {
    pub principal: Principal,
    pub session: Session,
    permission: Permission,
    /// The `{acct}` path segment, on routes that name the account.
    path_account: Option<String>,
    /// That account, once authorized by the extractor.
    authorized: Option<accounts::Account>,
}

impl FromRequestParts<AppState> for AccountCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let Access::Account(permission) = route_access(parts)? else {
            return Err(ApiError::internal("AccountCaller on a non-account route"));
        };
        let auth = authenticate(parts, state).await?.ok_or_else(ApiError::unauthenticated)?;
        let session = auth.session.ok_or_else(session_required)?;
        let mut caller = Self {
            principal: auth.principal,
            session,
            permission,
            path_account: path_param(parts, state, "acct").await,
            authorized: None,
        };
        // A route that names its account is resolved and authorized here, before the
        // body is read: an account the caller does not belong to is a 404 first.
        if caller.path_account.is_some() {
            caller.authorized = Some(caller.authorize(state, None).await?);
        }
        Ok(caller)
    }
}

impl AccountCaller {
    /// The account to act on: the one named, else the account of the active workspace,
    /// else the first account the user administers, else their first account. Accounts
    /// the user does not belong to answer 404.
    pub async fn authorize(&self, state: &AppState, named: Option<&str>) -> ApiResult<accounts::Account> {
        if let (Some(account), None) = (&self.authorized, named) {
            return Ok(account.clone());
        }
        let mut conn = state.db.conn().await?;
        let mine = accounts::for_user(&mut conn, self.principal.user_id()).await?;
        let chosen = match named.or(self.path_account.as_deref()) {
            Some(id) => mine.iter().find(|a| a.id == id),
            None => {
                let active_account = match &self.session.active_workspace_id {
                    Some(ws) => resolve(state, &self.principal, ws).await?.map(|s| s.account_id().to_owned()),
                    None => None,
                };
                active_account
                    .and_then(|acct| mine.iter().find(|a| a.id == acct))
                    .or_else(|| mine.iter().find(|a| a.role == "admin"))
                    .or(mine.first())
            }
        };
        let chosen = chosen.ok_or_else(ApiError::not_found)?;
        let perms = callplane_domain::AccountRole::parse(&chosen.role).map(|r| r.permissions()).unwrap_or_default();
        if !perms.contains(self.permission) {
            return Err(ApiError::permission_denied(self.permission));
        }
        accounts::get(&mut conn, &chosen.id).await?.ok_or_else(ApiError::not_found)
    }
}
