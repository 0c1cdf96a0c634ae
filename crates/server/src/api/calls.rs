//! Calls (SPEC P7): place an outbound call, list and read calls with their timeline,
//! cancel one in flight.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use callplane_store::product::calls::{self, Call, Event, Filter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::numbers::Money;
use crate::api::views::{parse_time, rfc3339, Page, Problem};
use crate::api::{idempotency_key, keyset_page, ApiJson, ApiQuery};
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::calls::{self as svc, PlaceInput};
use crate::state::AppState;

fn inr(amount: i64) -> Money {
    Money { amount, currency: "INR".into() }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub status: String,
    pub at: String,
    pub detail: Option<String>,
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        Self { status: e.status.clone(), at: rfc3339(e.at), detail: e.detail.clone() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    pub id: String,
    /// `outbound` or `inbound`.
    pub direction: String,
    /// `queued`, `ringing`, `in-progress`, then `completed`, `busy`, `no-answer`,
    /// `failed` or `canceled`.
    pub status: String,
    pub agent_id: Option<String>,
    /// The workspace's number (the caller ID of an outbound call).
    pub phone_number_id: Option<String>,
    pub contact_id: Option<String>,
    pub from: String,
    pub to: String,
    pub provider: String,
    /// The network group that prices it (none on SIP/BYOC).
    pub network_group: Option<String>,
    /// Per minute.
    pub rate: Money,
    pub duration_secs: i64,
    /// Started minutes.
    pub billed_minutes: i64,
    pub cost: Money,
    /// The wallet has charged (or released) the call.
    pub settled: bool,
    pub error: Option<String>,
    pub created_at: String,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
    /// Every status the call went through (on a single call).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<EventView>>,
}

impl From<&Call> for CallView {
    fn from(c: &Call) -> Self {
        Self {
            id: c.id.clone(),
            direction: c.direction.clone(),
            status: c.status.clone(),
            agent_id: c.agent_id.clone(),
            phone_number_id: c.phone_number_id.clone(),
            contact_id: c.contact_id.clone(),
            from: c.from_e164.clone(),
            to: c.to_e164.clone(),
            provider: c.provider.clone(),
            network_group: c.network_group.clone(),
            rate: inr(c.rate),
            duration_secs: c.duration_secs,
            billed_minutes: c.billed_minutes,
            cost: inr(c.cost),
            settled: c.settled,
            error: c.error.clone(),
            created_at: rfc3339(c.created_at),
            answered_at: c.answered_at.map(rfc3339),
            ended_at: c.ended_at.map(rfc3339),
            timeline: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceRequest {
    pub agent_id: String,
    /// A number of the workspace to call from (default: one answering for the agent,
    /// else the first active one).
    pub from_number_id: Option<String>,
    /// The destination (E.164, or national in the workspace's country)...
    pub to: Option<String>,
    /// ...or a contact of the workspace.
    pub contact_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/calls", tag = "calls", params(("ws" = String, Path)),
    request_body = PlaceRequest, security(("bearer" = [])),
    responses((status = 201, body = CallView, description = "Repeating with the same Idempotency-Key header answers the same call"),
              (status = 402, body = Problem, description = "`insufficient_funds`"),
              (status = 409, body = Problem, description = "`contact_not_callable`"),
              (status = 422, body = Problem, description = "`destination_not_enabled`, `validation_failed`")))]
pub async fn place(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PlaceRequest>,
) -> ApiResult<(StatusCode, Json<CallView>)> {
    let input = PlaceInput {
        agent_id: req.agent_id,
        from_number_id: req.from_number_id,
        to: req.to,
        contact_id: req.contact_id,
        idempotency_key: idempotency_key(&headers)?.map(str::to_owned),
    };
    let (call, _) = svc::place(&state, &scope, &input).await?;
    Ok((StatusCode::CREATED, Json((&call).into())))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub status: Option<String>,
    /// `outbound` or `inbound`.
    pub direction: Option<String>,
    pub agent_id: Option<String>,
    pub phone_number_id: Option<String>,
    /// Created at or after (RFC 3339).
    pub from: Option<String>,
    /// Created before (RFC 3339).
    pub to: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/calls", tag = "calls", params(("ws" = String, Path), ListParams),
    security(("bearer" = [])), responses((status = 200, body = Page<CallView>), (status = 422, body = Problem)))]
pub async fn list(scope: WorkspaceScope, ApiQuery(q): ApiQuery<ListParams>) -> ApiResult<Json<Page<CallView>>> {
    let limit = crate::api::PageParams { limit: q.limit, cursor: None }.limit()?;
    const STATUSES: &[&str] =
        &["queued", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"];
    if q.status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
        return Err(ApiError::invalid("status", format!("must be one of {}", STATUSES.join(", "))));
    }
    if q.direction.as_deref().is_some_and(|d| d != "outbound" && d != "inbound") {
        return Err(ApiError::invalid("direction", "must be outbound or inbound"));
    }
    let f = Filter {
        status: q.status.as_deref(),
        direction: q.direction.as_deref(),
        agent_id: q.agent_id.as_deref(),
        phone_number_id: q.phone_number_id.as_deref(),
        from: parse_time("from", &q.from)?,
        to: parse_time("to", &q.to)?,
    };
    let rows = calls::list(&mut scope.read().await?, &f, q.cursor.as_deref(), limit + 1).await?;
    Ok(Json(keyset_page(&rows, limit, |c| c.id.clone(), |c| CallView::from(c))))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/calls/{id}", tag = "calls",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = CallView), (status = 404, body = Problem)))]
pub async fn get(scope: WorkspaceScope, Path((_, id)): Path<(String, String)>) -> ApiResult<Json<CallView>> {
    let mut conn = scope.read().await?;
    let call = calls::get(&mut conn, &id).await?.ok_or_else(ApiError::not_found)?;
    let timeline = calls::timeline(&mut conn, &id).await?;
    let mut view = CallView::from(&call);
    view.timeline = Some(timeline.iter().map(EventView::from).collect());
    Ok(Json(view))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/calls/{id}/cancel", tag = "calls",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = CallView), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "`call_ended`")))]
pub async fn cancel(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<CallView>> {
    Ok(Json((&svc::cancel(&state, &scope, &id).await?).into()))
}
