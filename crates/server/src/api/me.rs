//! The signed-in user, their accounts and workspaces, and the active workspace (W6, W7).

use axum::extract::State;
use axum::Json;
use callplane_store::{accounts, users, workspaces};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::views::{AccountView, Problem, UserView, WorkspaceView};
use crate::api::ApiJson;
use crate::auth::principal::SignedIn;
use crate::auth::scope::active_scope;
use crate::error::{ApiError, ApiResult};
use crate::services;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub user: UserView,
    pub accounts: Vec<AccountView>,
    /// Every workspace the user reaches, active and inactive, with their role.
    pub workspaces: Vec<WorkspaceView>,
    /// The session's active workspace; `null` when the user reaches none.
    pub active_workspace: Option<WorkspaceView>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = Problem)))]
pub async fn get(State(state): State<AppState>, SignedIn(p, session): SignedIn) -> ApiResult<Json<MeResponse>> {
    let active = active_scope(&state, &p, &session).await?;
    let mut conn = state.db.conn().await?;
    let user = users::get(&mut conn, p.user_id()).await?.ok_or_else(ApiError::unauthenticated)?;
    let accts = accounts::for_user(&mut conn, p.user_id()).await?;
    let list = workspaces::accessible(&mut conn, p.user_id(), None).await?;
    let active_workspace =
        active.as_ref().and_then(|s| list.iter().find(|w| w.id == s.workspace_id())).map(WorkspaceView::from);
    Ok(Json(MeResponse {
        user: (&user).into(),
        accounts: accts.iter().map(AccountView::from).collect(),
        workspaces: list.iter().map(WorkspaceView::from).collect(),
        active_workspace,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SwitchRequest {
    pub workspace_id: String,
}

#[utoipa::path(put, path = "/api/v1/me/active-workspace", tag = "me", request_body = SwitchRequest,
    security(("bearer" = [])),
    responses((status = 200, body = WorkspaceView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn switch(
    State(state): State<AppState>,
    SignedIn(p, _): SignedIn,
    ApiJson(req): ApiJson<SwitchRequest>,
) -> ApiResult<Json<WorkspaceView>> {
    let scope = services::workspaces::switch(&state, &p, &req.workspace_id).await?;
    let mut conn = state.db.conn().await?;
    let ws = workspaces::get(&mut conn, &scope).await?;
    Ok(Json((&ws).into()))
}
