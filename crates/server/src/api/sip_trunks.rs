//! SIP/BYOC trunks of a workspace (SPEC N2): Settings → Telephony Config → SIP/BYOC.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use callplane_store::product::sip_trunks;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::views::Problem;
use crate::api::ApiJson;
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::sip_trunks::{self as svc, TrunkInput, TrunkView};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct TrunkList {
    pub data: Vec<TrunkView>,
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/sip-trunks", tag = "telephony", params(("ws" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = TrunkList)))]
pub async fn list(scope: WorkspaceScope) -> ApiResult<Json<TrunkList>> {
    let rows = sip_trunks::list(&mut scope.read().await?).await?;
    Ok(Json(TrunkList { data: rows.iter().map(TrunkView::from).collect() }))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/sip-trunks", tag = "telephony", params(("ws" = String, Path)),
    request_body = TrunkInput, security(("bearer" = [])),
    responses((status = 201, body = TrunkView), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(r): ApiJson<TrunkInput>,
) -> ApiResult<(StatusCode, Json<TrunkView>)> {
    let t = svc::create(&state, &scope, &r).await?;
    Ok((StatusCode::CREATED, Json((&t).into())))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/sip-trunks/{id}", tag = "telephony",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = TrunkView), (status = 404, body = Problem)))]
pub async fn get(scope: WorkspaceScope, Path((_, id)): Path<(String, String)>) -> ApiResult<Json<TrunkView>> {
    let t = sip_trunks::get(&mut scope.read().await?, &id).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json((&t).into()))
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/sip-trunks/{id}", tag = "telephony",
    params(("ws" = String, Path), ("id" = String, Path)), request_body = TrunkInput, security(("bearer" = [])),
    responses((status = 200, body = TrunkView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiJson(r): ApiJson<TrunkInput>,
) -> ApiResult<Json<TrunkView>> {
    Ok(Json((&svc::update(&state, &scope, &id, &r).await?).into()))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/sip-trunks/{id}", tag = "telephony",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    svc::delete(&state, &scope, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
