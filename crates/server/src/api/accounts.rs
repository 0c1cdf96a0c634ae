//! Account administration: custom roles (A2), users and access (A3), the account's
//! audit trail (A6).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use callplane_store::members::AccessRow;
use callplane_store::roles as role_store;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::audit::{page_of, AuditParams};
use crate::api::export::{csv_document, csv_response};
use crate::api::views::{rfc3339, AccessRowView, AuditEventView, Page, Problem, RoleView, UserView};
use crate::api::{ApiJson, ApiQuery};
use crate::auth::AccountCaller;
use crate::error::ApiResult;
use crate::services::account_admin::{self, ReviewFilter};
use crate::services::roles;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/accounts/{acct}/roles", tag = "roles", params(("acct" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Page<RoleView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_roles(State(state): State<AppState>, caller: AccountCaller) -> ApiResult<Json<Page<RoleView>>> {
    let account = caller.authorize(&state, None).await?;
    let mut conn = state.db.conn().await?;
    let custom = role_store::list(&mut conn, &account.id).await?;
    let mut data = RoleView::builtin();
    data.extend(custom.iter().map(RoleView::from));
    Ok(Json(Page { data, next_cursor: None }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    pub name: Option<String>,
    /// Permission names (`contacts_view`, `agents_edit`, …).
    pub permissions: Option<Vec<String>>,
}

#[utoipa::path(post, path = "/api/v1/accounts/{acct}/roles", tag = "roles", params(("acct" = String, Path)),
    request_body = RoleBody, security(("bearer" = [])),
    responses((status = 201, body = RoleView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_role(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiJson(req): ApiJson<RoleBody>,
) -> ApiResult<(StatusCode, Json<RoleView>)> {
    let account = caller.authorize(&state, None).await?;
    let name = req.name.as_deref().unwrap_or_default();
    let perms = req.permissions.unwrap_or_default();
    let role = roles::create(&state, &account.id, &caller.principal, name, &perms).await?;
    Ok((StatusCode::CREATED, Json((&role).into())))
}

#[utoipa::path(patch, path = "/api/v1/accounts/{acct}/roles/{role}", tag = "roles",
    params(("acct" = String, Path), ("role" = String, Path)), request_body = RoleBody, security(("bearer" = [])),
    responses((status = 200, body = RoleView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_role(
    State(state): State<AppState>,
    caller: AccountCaller,
    Path((_, role)): Path<(String, String)>,
    ApiJson(req): ApiJson<RoleBody>,
) -> ApiResult<Json<RoleView>> {
    let account = caller.authorize(&state, None).await?;
    let updated =
        roles::update(&state, &account.id, &caller.principal, &role, req.name.as_deref(), req.permissions.as_deref())
            .await?;
    Ok(Json((&updated).into()))
}

#[utoipa::path(delete, path = "/api/v1/accounts/{acct}/roles/{role}", tag = "roles",
    params(("acct" = String, Path), ("role" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_role(
    State(state): State<AppState>,
    caller: AccountCaller,
    Path((_, role)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let account = caller.authorize(&state, None).await?;
    roles::delete(&state, &account.id, &caller.principal, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReviewParams {
    /// Email or name contains.
    pub user: Option<String>,
    /// Workspace name contains.
    pub workspace: Option<String>,
    /// Role label contains.
    pub role: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/accounts/{acct}/access-review", tag = "account", params(("acct" = String, Path), ReviewParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<AccessRowView>, description = "JSON, or CSV with ?format=csv"),
              (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn access_review(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiQuery(q): ApiQuery<ReviewParams>,
) -> ApiResult<Response> {
    let account = caller.authorize(&state, None).await?;
    let filter = ReviewFilter { user: q.user.as_deref(), workspace: q.workspace.as_deref(), role: q.role.as_deref() };
    let rows: Vec<_> =
        account_admin::access_review(&state, &account).await?.into_iter().filter(|r| filter.matches(r)).collect();
    Ok(match q.format.as_deref() {
        Some("csv") => access_review_export(&rows),
        _ => Json(Page { data: rows.iter().map(AccessRowView::from).collect(), next_cursor: None }).into_response(),
    })
}

/// The access review rows as a CSV download.
pub fn access_review_export(rows: &[AccessRow]) -> Response {
    let header = "email,name,account_role,workspace_id,workspace,role,last_active_at";
    let body = csv_document(
        header,
        rows.iter().map(|r| {
            [
                r.email.clone(),
                r.name.clone(),
                r.account_role.clone().unwrap_or_default(),
                r.workspace_id.clone().unwrap_or_default(),
                r.workspace_name.clone().unwrap_or_default(),
                r.role.clone().unwrap_or_default(),
                r.last_active_at.map(rfc3339).unwrap_or_default(),
            ]
        }),
    );
    csv_response("access-review.csv", body)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub name: String,
    /// `member` (default) or `admin` (reaches every workspace of the account).
    pub account_role: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUserResponse {
    pub user: UserView,
    /// The set-password link when email stays in the local outbox.
    pub set_password_url: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/accounts/{acct}/users", tag = "account", params(("acct" = String, Path)),
    request_body = CreateUserRequest, security(("bearer" = [])),
    responses((status = 201, body = CreatedUserResponse), (status = 403, body = Problem), (status = 409, body = Problem)))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<CreatedUserResponse>)> {
    let account = caller.authorize(&state, None).await?;
    let created = account_admin::create_user(
        &state,
        &account,
        &caller.principal,
        &req.email,
        &req.name,
        req.account_role.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUserResponse { user: (&created.user).into(), set_password_url: created.set_password_link }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    pub role: String,
}

#[utoipa::path(put, path = "/api/v1/accounts/{acct}/users/{user}/workspaces/{workspace}", tag = "account",
    params(("acct" = String, Path), ("user" = String, Path), ("workspace" = String, Path)),
    request_body = GrantRequest, security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn grant(
    State(state): State<AppState>,
    caller: AccountCaller,
    Path((_, user, workspace)): Path<(String, String, String)>,
    ApiJson(req): ApiJson<GrantRequest>,
) -> ApiResult<StatusCode> {
    let account = caller.authorize(&state, None).await?;
    account_admin::grant(&state, &account, &caller.principal, &user, &workspace, &req.role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/accounts/{acct}/users/{user}/workspaces/{workspace}", tag = "account",
    params(("acct" = String, Path), ("user" = String, Path), ("workspace" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn withdraw(
    State(state): State<AppState>,
    caller: AccountCaller,
    Path((_, user, workspace)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let account = caller.authorize(&state, None).await?;
    account_admin::withdraw(&state, &account, &caller.principal, &user, &workspace).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/accounts/{acct}/audit-log", tag = "audit", params(("acct" = String, Path), AuditParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<AuditEventView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn audit_log(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> ApiResult<Json<Page<AuditEventView>>> {
    let account = caller.authorize(&state, None).await?;
    let (filter, limit) = q.filter()?;
    let rows = crate::services::audit::account_log(&state, &account.id, &filter, limit + 1).await?;
    Ok(Json(page_of(rows, limit)))
}
