//! Sign-up, sign-in, sign-out.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::views::{AccountView, Problem, UserView, WorkspaceView};
use crate::api::ApiJson;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::services::identity::{self, SignupInput};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    pub email: String,
    pub password: String,
    pub name: String,
    pub account_name: String,
    /// Name of the first workspace; defaults to the account name.
    pub workspace_name: Option<String>,
    /// Data region of the first workspace; defaults to the configured default.
    pub region: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    pub user: UserView,
    pub account: AccountView,
    pub workspace: WorkspaceView,
    /// Session token for `Authorization: Bearer`.
    pub token: String,
}

#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 201, body = SignupResponse), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn signup(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<SignupRequest>,
) -> ApiResult<(StatusCode, Json<SignupResponse>)> {
    let s = identity::signup(
        &state,
        SignupInput {
            email: &req.email,
            password: &req.password,
            name: &req.name,
            account_name: &req.account_name,
            workspace_name: req.workspace_name.as_deref(),
            region: req.region.as_deref(),
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(SignupResponse {
            user: (&s.user).into(),
            account: (&s.account).into(),
            workspace: (&s.workspace).into(),
            token: s.token,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub user: UserView,
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem)))]
pub async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let (user, token) = identity::login(&state, &req.email, &req.password).await?;
    Ok(Json(LoginResponse { token, user: (&user).into() }))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
pub async fn logout(State(state): State<AppState>, Caller(p): Caller) -> ApiResult<StatusCode> {
    identity::logout(&state, &p).await?;
    Ok(StatusCode::NO_CONTENT)
}
