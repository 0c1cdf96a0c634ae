//! API keys: workspace keys and organization keys (SPEC K1–K3).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use callplane_store::api_keys;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::views::{ApiKeyView, CreatedKeyView, Page, Problem};
use crate::api::{ApiJson, ApiQuery, PageParams};
use crate::auth::{AccountCaller, WorkspaceScope};
use crate::error::ApiResult;
use crate::services::keys;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    pub name: String,
    /// The role the key acts with; not above your own.
    pub role: String,
}

fn created(c: keys::Created) -> (StatusCode, Json<CreatedKeyView>) {
    (StatusCode::CREATED, Json(CreatedKeyView { id: c.id, secret: c.secret, prefix: c.display_prefix }))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/api-keys", tag = "api-keys", params(("ws" = String, Path), PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<ApiKeyView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<ApiKeyView>>> {
    page.limit()?;
    let mut conn = state.db.conn().await?;
    let rows = api_keys::list_for_workspace(&mut conn, &scope).await?;
    Ok(Json(page.page(&rows, ApiKeyView::from)?))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/api-keys", tag = "api-keys", params(("ws" = String, Path)),
    request_body = CreateKeyRequest, security(("bearer" = [])),
    responses((status = 201, body = CreatedKeyView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(req): ApiJson<CreateKeyRequest>,
) -> ApiResult<(StatusCode, Json<CreatedKeyView>)> {
    Ok(created(keys::create_for_workspace(&state, &scope, &req.name, &req.role).await?))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/api-keys/{id}", tag = "api-keys",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    keys::revoke_in_workspace(&state, &scope, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/accounts/{acct}/api-keys", tag = "api-keys", params(("acct" = String, Path), PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<ApiKeyView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_org(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<ApiKeyView>>> {
    page.limit()?;
    let account = caller.authorize(&state, None).await?;
    let mut conn = state.db.conn().await?;
    let rows = api_keys::list_for_account(&mut conn, &account.id).await?;
    Ok(Json(page.page(&rows, ApiKeyView::from)?))
}

#[utoipa::path(post, path = "/api/v1/accounts/{acct}/api-keys", tag = "api-keys", params(("acct" = String, Path)),
    request_body = CreateKeyRequest, security(("bearer" = [])),
    responses((status = 201, body = CreatedKeyView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn create_org(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiJson(req): ApiJson<CreateKeyRequest>,
) -> ApiResult<(StatusCode, Json<CreatedKeyView>)> {
    let account = caller.authorize(&state, None).await?;
    Ok(created(keys::create_for_account(&state, &account, &caller.principal, &req.name, &req.role).await?))
}

#[utoipa::path(delete, path = "/api/v1/accounts/{acct}/api-keys/{id}", tag = "api-keys",
    params(("acct" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn revoke_org(
    State(state): State<AppState>,
    caller: AccountCaller,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let account = caller.authorize(&state, None).await?;
    keys::revoke_for_account(&state, &account.id, &caller.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
