//! Members, ownership and invitations (SPEC T1–T3).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use callplane_store::{invitations, roles as role_store};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::views::{InvitationView, MemberView, Page, Problem, RoleView};
use crate::api::{ApiJson, ApiQuery, PageParams};
use crate::auth::{Caller, WorkspaceScope};
use crate::error::ApiResult;
use crate::services::team;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleRequest {
    /// `admin`, `member`, `viewer` or a custom role id.
    pub role: String,
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/members/{user}", tag = "members",
    params(("ws" = String, Path), ("user" = String, Path)), request_body = RoleRequest, security(("bearer" = [])),
    responses((status = 200, body = MemberView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn change_role(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, user)): Path<(String, String)>,
    ApiJson(req): ApiJson<RoleRequest>,
) -> ApiResult<Json<MemberView>> {
    let m = team::change_role(&state, &scope, &user, &req.role).await?;
    Ok(Json((&m).into()))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/members/{user}", tag = "members",
    params(("ws" = String, Path), ("user" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn remove(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, user)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    team::remove(&state, &scope, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The member who becomes Owner; the current Owner becomes an Admin.
    pub user_id: String,
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/ownership", tag = "members", params(("ws" = String, Path)),
    request_body = TransferRequest, security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn transfer(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(req): ApiJson<TransferRequest>,
) -> ApiResult<StatusCode> {
    team::transfer_ownership(&state, &scope, &req.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/roles", tag = "members", params(("ws" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Page<RoleView>), (status = 404, body = Problem)))]
pub async fn roles(State(state): State<AppState>, scope: WorkspaceScope) -> ApiResult<Json<Page<RoleView>>> {
    let mut conn = state.db.conn().await?;
    let custom = role_store::list(&mut conn, scope.account_id()).await?;
    let mut data = RoleView::builtin();
    data.extend(custom.iter().map(RoleView::from));
    Ok(Json(Page { data, next_cursor: None }))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/invitations", tag = "invitations", params(("ws" = String, Path), PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<InvitationView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list_invitations(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<InvitationView>>> {
    page.limit()?;
    let mut conn = state.db.conn().await?;
    let rows = invitations::list(&mut conn, &scope).await?;
    let now = state.now();
    Ok(Json(page.page(&rows, |i| InvitationView::new(i, now, None))?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    pub email: String,
    /// `admin`, `member`, `viewer` or a custom role id; not above your own.
    pub role: String,
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/invitations", tag = "invitations", params(("ws" = String, Path)),
    request_body = InviteRequest, security(("bearer" = [])),
    responses((status = 201, body = InvitationView), (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn invite(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(req): ApiJson<InviteRequest>,
) -> ApiResult<(StatusCode, Json<InvitationView>)> {
    let sent = team::invite(&state, &scope, &req.email, &req.role).await?;
    Ok((StatusCode::CREATED, Json(InvitationView::new(&sent.invitation, state.now(), sent.link))))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/invitations/{id}/resend", tag = "invitations",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = InvitationView), (status = 404, body = Problem), (status = 410, body = Problem)))]
pub async fn resend(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<InvitationView>> {
    let sent = team::resend(&state, &scope, &id).await?;
    Ok(Json(InvitationView::new(&sent.invitation, state.now(), sent.link)))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/invitations/{id}", tag = "invitations",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem), (status = 410, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    team::revoke(&state, &scope, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptResponse {
    pub workspace_id: String,
    pub workspace_name: String,
    pub role: String,
}

#[utoipa::path(post, path = "/api/v1/invitations/accept", tag = "invitations", request_body = AcceptRequest,
    security(("bearer" = [])),
    responses((status = 200, body = AcceptResponse), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem), (status = 410, body = Problem)))]
pub async fn accept(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiJson(req): ApiJson<AcceptRequest>,
) -> ApiResult<Json<AcceptResponse>> {
    let joined = team::accept(&state, &p, &req.token).await?;
    Ok(Json(AcceptResponse {
        workspace_id: joined.workspace_id,
        workspace_name: joined.workspace_name,
        role: joined.role,
    }))
}
