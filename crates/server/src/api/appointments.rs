//! Appointments (SPEC P8): the workspace's calendar.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use callplane_store::product::appointments::{self, Appointment};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::views::{rfc3339, Page, Problem};
use crate::api::{ApiJson, ApiQuery};
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::appointments::{self as svc, parse_time, Input};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentView {
    pub id: String,
    pub contact_id: String,
    pub agent_id: Option<String>,
    pub starts_at: String,
    pub ends_at: String,
    /// IANA zone the appointment is shown in.
    pub timezone: String,
    /// `booked`, `cancelled`, `completed` or `no_show`.
    pub status: String,
    pub notes: String,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Appointment> for AppointmentView {
    fn from(a: &Appointment) -> Self {
        Self {
            id: a.id.clone(),
            contact_id: a.contact_id.clone(),
            agent_id: a.agent_id.clone(),
            starts_at: rfc3339(a.starts_at),
            ends_at: rfc3339(a.ends_at),
            timezone: a.timezone.clone(),
            status: a.status.clone(),
            notes: a.notes.clone(),
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentRequest {
    pub contact_id: Option<String>,
    /// `""` clears it.
    pub agent_id: Option<String>,
    /// RFC 3339.
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    /// IANA zone; defaults to the contact's, else UTC.
    pub timezone: Option<String>,
    pub status: Option<String>,
    pub notes: Option<String>,
}

impl From<AppointmentRequest> for Input {
    fn from(r: AppointmentRequest) -> Self {
        Input {
            contact_id: r.contact_id,
            agent_id: r.agent_id,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            timezone: r.timezone,
            status: r.status,
            notes: r.notes,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RangeParams {
    /// RFC 3339; appointments starting at or after (default: now).
    pub from: Option<String>,
    /// RFC 3339; appointments starting before (default: 31 days after `from`).
    pub to: Option<String>,
}

/// Most appointments one range answers.
const RANGE_LIMIT: i64 = 1000;

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/appointments", tag = "appointments",
    params(("ws" = String, Path), RangeParams), security(("bearer" = [])),
    responses((status = 200, body = Page<AppointmentView>), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiQuery(q): ApiQuery<RangeParams>,
) -> ApiResult<Json<Page<AppointmentView>>> {
    let from = q.from.as_deref().map(|s| parse_time("from", s)).transpose()?.unwrap_or_else(|| state.now());
    let to = q.to.as_deref().map(|s| parse_time("to", s)).transpose()?.unwrap_or(from + 31 * 24 * 3600 * 1000);
    if to <= from || to - from > 366 * 24 * 3600 * 1000 {
        return Err(ApiError::invalid("to", "must be after `from`, at most a year later"));
    }
    let rows = appointments::between(&mut scope.read().await?, from, to, RANGE_LIMIT).await?;
    Ok(Json(Page { data: rows.iter().map(AppointmentView::from).collect(), next_cursor: None }))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/appointments", tag = "appointments", params(("ws" = String, Path)),
    request_body = AppointmentRequest, security(("bearer" = [])),
    responses((status = 201, body = AppointmentView), (status = 409, body = Problem, description = "appointment_conflict"),
              (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(req): ApiJson<AppointmentRequest>,
) -> ApiResult<(StatusCode, Json<AppointmentView>)> {
    let a = svc::create(&state, &scope, &req.into()).await?;
    Ok((StatusCode::CREATED, Json((&a).into())))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/appointments/{id}", tag = "appointments",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = AppointmentView), (status = 404, body = Problem)))]
pub async fn get(scope: WorkspaceScope, Path((_, id)): Path<(String, String)>) -> ApiResult<Json<AppointmentView>> {
    Ok(Json((&svc::get(&scope, &id).await?).into()))
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/appointments/{id}", tag = "appointments",
    params(("ws" = String, Path), ("id" = String, Path)), request_body = AppointmentRequest, security(("bearer" = [])),
    responses((status = 200, body = AppointmentView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<AppointmentRequest>,
) -> ApiResult<Json<AppointmentView>> {
    Ok(Json((&svc::update(&state, &scope, &id, &req.into()).await?).into()))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/appointments/{id}", tag = "appointments",
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
