//! Workspaces (SPEC W1–W5).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use callplane_store::workspaces;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::views::{Page, Problem, WorkspaceView};
use crate::api::{ApiJson, ApiQuery, PageParams};
use crate::auth::{AccountCaller, Caller, WorkspaceScope};
use crate::error::{ApiError, ApiResult, Code};
use crate::services::workspaces::{self as svc, CreateInput, UpdateInput};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `active`, `inactive` or `all` (default).
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/workspaces", tag = "workspaces", params(ListParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<WorkspaceView>), (status = 401, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<WorkspaceView>>> {
    let status = match q.status.as_deref() {
        None | Some("all") => None,
        Some(s @ ("active" | "inactive")) => Some(s),
        Some(_) => return Err(ApiError::invalid("status", "must be active, inactive or all")),
    };
    let page = PageParams { limit: q.limit, cursor: q.cursor };
    page.limit()?;
    let mut conn = state.db.conn().await?;
    let all = workspaces::accessible(&mut conn, p.user_id(), status).await?;
    Ok(Json(page.page(&all, WorkspaceView::from)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkspaceRequest {
    /// 1–100 characters, unique in the account (case-insensitive).
    pub name: String,
    /// One of the configured regions; defaults to the configured default.
    pub region: Option<String>,
    /// `active` (default) or `inactive`.
    pub status: Option<String>,
    /// The account to create it in; defaults to the active workspace's account.
    pub account_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/workspaces", tag = "workspaces", request_body = CreateWorkspaceRequest,
    security(("bearer" = [])),
    responses((status = 201, body = WorkspaceView), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiJson(req): ApiJson<CreateWorkspaceRequest>,
) -> ApiResult<(StatusCode, Json<WorkspaceView>)> {
    let account = caller.authorize(&state, req.account_id.as_deref()).await?;
    let ws = svc::create(
        &state,
        &caller.principal,
        &account,
        CreateInput { name: &req.name, region: req.region.as_deref(), status: req.status.as_deref() },
    )
    .await?;
    Ok((StatusCode::CREATED, Json((&ws).into())))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}", tag = "workspaces", params(("ws" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = WorkspaceView), (status = 404, body = Problem)))]
pub async fn get(scope: WorkspaceScope) -> ApiResult<Json<WorkspaceView>> {
    // The scope carries the registry row, exactly as fresh as the database: every change
    // to the workspace invalidates cached scopes.
    let mut view = WorkspaceView::from(scope.workspace());
    view.role = scope.role().map(str::to_owned);
    Ok(Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkspaceRequest {
    pub name: Option<String>,
    pub status: Option<String>,
    /// Accepted only when equal to the current region (`region_immutable` otherwise).
    pub region: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}", tag = "workspaces", params(("ws" = String, Path)),
    request_body = UpdateWorkspaceRequest, security(("bearer" = [])),
    responses((status = 200, body = WorkspaceView), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(req): ApiJson<UpdateWorkspaceRequest>,
) -> ApiResult<Json<WorkspaceView>> {
    let ws = svc::update(
        &state,
        &scope,
        UpdateInput { name: req.name.as_deref(), status: req.status.as_deref(), region: req.region.as_deref() },
    )
    .await?;
    Ok(Json((&ws).into()))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteWorkspaceRequest {
    /// The workspace's exact name, typed as confirmation.
    pub confirm_name: String,
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}", tag = "workspaces", params(("ws" = String, Path)),
    request_body = DeleteWorkspaceRequest, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn delete(State(state): State<AppState>, scope: WorkspaceScope, body: Bytes) -> ApiResult<StatusCode> {
    // DELETE bodies are unusual, so read it by hand and explain what is missing.
    if body.is_empty() {
        return Err(ApiError::invalid("confirm_name", "is required: type the workspace name to confirm"));
    }
    let req: DeleteWorkspaceRequest = serde_json::from_slice(&body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            ApiError::new(Code::MalformedJson, e.to_string())
        } else {
            ApiError::invalid("confirm_name", e.to_string())
        }
    })?;
    svc::delete(&state, &scope, &req.confirm_name).await?;
    Ok(StatusCode::NO_CONTENT)
}
