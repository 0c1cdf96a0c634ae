//! The JSON API under `/api/v1` (conventions in `shared/API.md`).

pub mod audit;
pub mod auth;
pub mod me;
pub mod members;
pub mod openapi;
pub mod system;
pub mod views;
pub mod workspaces;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::Method;
use callplane_domain::Permission as P;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;

/// Every API route with the access it needs.
pub fn routes() -> Routes {
    use Access::*;
    Routes::new()
        .add(Method::POST, "/api/v1/auth/signup", Public, auth::signup)
        .add(Method::POST, "/api/v1/auth/login", Public, auth::login)
        .add(
            Method::POST,
            "/api/v1/auth/logout",
            Authenticated,
            auth::logout,
        )
        .add(Method::GET, "/api/v1/me", Authenticated, me::get)
        .add(
            Method::PUT,
            "/api/v1/me/active-workspace",
            Authenticated,
            me::switch,
        )
        .add(
            Method::GET,
            "/api/v1/workspaces",
            Authenticated,
            workspaces::list,
        )
        .add(
            Method::POST,
            "/api/v1/workspaces",
            Account(P::WorkspacesCreate),
            workspaces::create,
        )
        .add(
            Method::GET,
            "/api/v1/workspaces/{ws}",
            WorkspaceAnyStatus(P::WorkspacesView),
            workspaces::get,
        )
        .add(
            Method::PATCH,
            "/api/v1/workspaces/{ws}",
            WorkspaceAnyStatus(P::WorkspacesEdit),
            workspaces::update,
        )
        .add(
            Method::DELETE,
            "/api/v1/workspaces/{ws}",
            WorkspaceAnyStatus(P::WorkspacesDelete),
            workspaces::delete,
        )
        .add(
            Method::GET,
            "/api/v1/workspaces/{ws}/members",
            Workspace(P::MembersView),
            members::list,
        )
        .add(
            Method::GET,
            "/api/v1/workspaces/{ws}/audit-log",
            WorkspaceAnyStatus(P::AuditView),
            audit::list,
        )
        .add(Method::GET, "/api/openapi.json", Public, openapi::serve)
        .add(Method::GET, "/healthz", Public, system::healthz)
        .add(Method::GET, "/readyz", Public, system::readyz)
        .add(Method::GET, "/metrics", Public, system::metrics)
}

/// `Json<T>` whose rejections are problem documents (malformed, unknown field, too large).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> ApiResult<Self> {
        let axum::Json(v) = axum::Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(v))
    }
}

/// `Query<T>` whose rejections are problem documents.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let axum::extract::Query(v) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(v))
    }
}

/// `?limit=` (default 50, 1–500) and `?cursor=`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct PageParams {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> ApiResult<i64> {
        match self.limit {
            None => Ok(50),
            Some(n @ 1..=500) => Ok(n),
            Some(_) => Err(ApiError::invalid("limit", "must be between 1 and 500")),
        }
    }
}
