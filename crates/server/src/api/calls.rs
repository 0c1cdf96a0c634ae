//! Calls (SPEC P7): place an outbound call, list and read calls with their timeline,
//! cancel one in flight.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use callplane_store::product::calls::{self, Artifacts, Call, Event, Filter};
use callplane_store::product::phone_numbers;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::export::{csv_line, csv_stream};
use crate::api::numbers::Money;
use crate::api::views::{parse_time, rfc3339, Page, Problem};
use crate::api::{idempotency_key, keyset_page, ApiJson, ApiQuery};
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::call_outputs;
use crate::services::calls::{self as svc, PlaceInput};
use crate::state::AppState;
use callplane_domain::permission::Permission;
use callplane_store::access::Scope;

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
    /// The campaign whose dialer placed it.
    pub campaign_id: Option<String>,
    pub from: String,
    pub to: String,
    pub provider: String,
    /// The network group that prices it (none on SIP/BYOC).
    pub network_group: Option<String>,
    /// Per minute (shown to callers holding `billing_view`).
    pub rate: Option<Money>,
    pub duration_secs: i64,
    /// Started minutes.
    pub billed_minutes: i64,
    /// Shown to callers holding `billing_view`.
    pub cost: Option<Money>,
    /// The wallet has charged (or released) the call.
    pub settled: bool,
    pub error: Option<String>,
    /// Why it ended: `hangup`, `agent_limit`, `funds_limit`, `busy`, `no_answer`,
    /// `carrier_refused`, `canceled`, `no_agent`, `insufficient_funds`.
    pub end_reason: Option<String>,
    pub created_at: String,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
    /// Every status the call went through (on a single call).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<Vec<EventView>>,
    /// What was said (on a single answered call).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<Vec<TurnView>>,
    /// How the conversation went: `booked`, `callback` or `not_interested`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The post-call analysis, one value per field of the agent's analysis template.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub analysis: Option<serde_json::Value>,
    /// The recording (a WAV file), fetched with the same credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_secs: Option<i64>,
    /// A SIP call's signaling and media: `call_id`, `codec`, the final SIP `code`,
    /// `packets_sent`, `packets_received`, `packets_lost`, `packets_ignored`, `digits`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub sip: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TurnView {
    /// `agent` or `caller`.
    pub speaker: String,
    /// From the answer.
    pub start_ms: i64,
    pub end_ms: i64,
    pub text: String,
}

impl CallView {
    /// The view for this caller: money only for `billing_view` (SPEC B3).
    pub fn for_caller(scope: &Scope, call: &Call) -> Self {
        Self::from(call).priced(scope)
    }

    fn priced(mut self, scope: &Scope) -> Self {
        if !scope.can(Permission::BillingView) {
            self.rate = None;
            self.cost = None;
        }
        self
    }

    /// The single-call view: the call with its timeline and what it left.
    pub fn detailed(scope: &Scope, call: &Call, timeline: &[Event], artifacts: Option<&Artifacts>) -> Self {
        let ws = scope.workspace_id();
        let mut view = CallView::for_caller(scope, call);
        view.timeline = Some(timeline.iter().map(EventView::from).collect());
        if let Some(a) = artifacts {
            view.transcript = Some(
                call_outputs::turns(a)
                    .into_iter()
                    .map(|t| TurnView {
                        speaker: t.speaker.as_str().to_owned(),
                        start_ms: t.start_ms,
                        end_ms: t.end_ms,
                        text: t.text,
                    })
                    .collect(),
            );
            view.outcome = a.outcome.clone();
            view.analysis = a.analysis.as_deref().and_then(|j| serde_json::from_str(j).ok());
            if let Some(secs) = a.recording_secs {
                view.recording_url = Some(format!("/api/v1/workspaces/{ws}/calls/{}/recording", call.id));
                view.recording_secs = Some(secs);
            }
        }
        view
    }
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
            campaign_id: c.campaign_id.clone(),
            from: c.from_e164.clone(),
            to: c.to_e164.clone(),
            provider: c.provider.clone(),
            network_group: c.network_group.clone(),
            rate: Some(Money::inr(c.rate)),
            duration_secs: c.duration_secs,
            billed_minutes: c.billed_minutes,
            cost: Some(Money::inr(c.cost)),
            settled: c.settled,
            error: c.error.clone(),
            end_reason: c.end_reason.clone(),
            created_at: rfc3339(c.created_at),
            answered_at: c.answered_at.map(rfc3339),
            ended_at: c.ended_at.map(rfc3339),
            timeline: None,
            transcript: None,
            outcome: None,
            analysis: None,
            recording_url: None,
            recording_secs: None,
            sip: c.sip.as_deref().and_then(|j| serde_json::from_str(j).ok()),
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
    /// Place it through this SIP trunk of the workspace (at the SIP/BYOC flat rate),
    /// whatever provider the workspace dials with.
    pub sip_trunk_id: Option<String>,
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
        campaign_id: None,
        sip_trunk_id: req.sip_trunk_id,
    };
    let (call, _) = svc::place(&state, &scope, &input).await?;
    Ok((StatusCode::CREATED, Json(CallView::for_caller(&scope, &call))))
}

#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub status: Option<String>,
    /// `outbound` or `inbound`.
    pub direction: Option<String>,
    pub agent_id: Option<String>,
    pub phone_number_id: Option<String>,
    /// Calls a campaign placed.
    pub campaign_id: Option<String>,
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
    let f = q.filter()?;
    let rows = calls::list(&mut scope.read().await?, &f, q.cursor.as_deref(), limit + 1).await?;
    Ok(Json(keyset_page(&rows, limit, |c| c.id.clone(), |c| CallView::for_caller(&scope, c))))
}

impl ListParams {
    /// The filter these parameters ask for, or which one is malformed.
    pub fn filter(&self) -> ApiResult<Filter<'_>> {
        const STATUSES: &[&str] =
            &["queued", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"];
        if self.status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
            return Err(ApiError::invalid("status", format!("must be one of {}", STATUSES.join(", "))));
        }
        if self.direction.as_deref().is_some_and(|d| d != "outbound" && d != "inbound") {
            return Err(ApiError::invalid("direction", "must be outbound or inbound"));
        }
        Ok(Filter {
            status: self.status.as_deref(),
            direction: self.direction.as_deref(),
            agent_id: self.agent_id.as_deref(),
            phone_number_id: self.phone_number_id.as_deref(),
            campaign_id: self.campaign_id.as_deref(),
            from: parse_time("from", &self.from)?,
            to: parse_time("to", &self.to)?,
        })
    }
}

const EXPORT_HEADER: &str = "id,created_at,direction,status,end_reason,from,to,agent_id,phone_number_id,contact_id,\
network_group,duration_secs,billed_minutes,rate_paise,cost_paise,answered_at,ended_at";
const EXPORT_BATCH: i64 = 1_000;

/// One call as a CSV line; money only for `billing_view` (empty cells otherwise).
fn export_line(c: &Call, money: bool) -> String {
    let paise = |v: i64| if money { v.to_string() } else { String::new() };
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    csv_line([
        c.id.clone(),
        rfc3339(c.created_at),
        c.direction.clone(),
        c.status.clone(),
        opt(&c.end_reason),
        c.from_e164.clone(),
        c.to_e164.clone(),
        opt(&c.agent_id),
        opt(&c.phone_number_id),
        opt(&c.contact_id),
        opt(&c.network_group),
        c.duration_secs.to_string(),
        c.billed_minutes.to_string(),
        paise(c.rate),
        paise(c.cost),
        c.answered_at.map(rfc3339).unwrap_or_default(),
        c.ended_at.map(rfc3339).unwrap_or_default(),
    ])
}

/// The calls a filter selects as CSV (W9), newest first, streamed a page at a time.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/calls/export", tag = "calls", params(("ws" = String, Path), ListParams),
    security(("bearer" = [])), responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = Problem)))]
pub async fn export(WorkspaceScope(scope): WorkspaceScope, ApiQuery(q): ApiQuery<ListParams>) -> ApiResult<Response> {
    q.filter()?;
    Ok(csv_stream("calls.csv", EXPORT_HEADER, move |cursor: Option<String>| {
        let (scope, q) = (scope.clone(), q.clone());
        async move {
            let rows = calls::list(&mut scope.read().await?, &q.filter()?, cursor.as_deref(), EXPORT_BATCH).await?;
            let next = (rows.len() as i64 == EXPORT_BATCH).then(|| rows.last().map(|c| c.id.clone())).flatten();
            let money = scope.can(Permission::BillingView);
            Ok((rows.iter().map(|c| export_line(c, money)).collect(), next))
        }
    }))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/calls/{id}", tag = "calls",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = CallView), (status = 404, body = Problem)))]
pub async fn get(scope: WorkspaceScope, Path((_, id)): Path<(String, String)>) -> ApiResult<Json<CallView>> {
    let mut conn = scope.read().await?;
    let call = calls::get(&mut conn, &id).await?.ok_or_else(ApiError::not_found)?;
    let timeline = calls::timeline(&mut conn, &id).await?;
    let artifacts = calls::artifacts(&mut conn, &id).await?;
    Ok(Json(CallView::detailed(&scope, &call, &timeline, artifacts.as_ref())))
}

/// A call's recording as a WAV file, or 404 when there is none (the agent does not
/// record, the call was not answered, or it is another workspace's call).
pub async fn recording_response(state: &AppState, scope: &Scope, id: &str) -> ApiResult<Response> {
    let mut conn = scope.read().await?;
    let call = calls::get(&mut conn, id).await?.ok_or_else(ApiError::not_found)?;
    let artifacts = calls::artifacts(&mut conn, id).await?.ok_or_else(ApiError::not_found)?;
    let secs = artifacts.recording_secs.ok_or_else(ApiError::not_found)?;
    // A SIP call's recording is the media it carried; a simulated one is rendered.
    let stored = calls::recording(&mut conn, id).await?;
    drop(conn);
    let wav = match stored {
        Some(wav) => wav,
        None => state.provider.recording(&call_outputs::turns(&artifacts), secs),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "audio/wav".to_owned()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{}.wav\"", call.id)),
            (header::CACHE_CONTROL, "private, max-age=3600".to_owned()),
        ],
        wav,
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/calls/{id}/recording", tag = "calls",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "audio/wav", body = Vec<u8>), (status = 404, body = Problem)))]
pub async fn recording(
    State(state): State<AppState>,
    WorkspaceScope(scope): WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    recording_response(&state, &scope, &id).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundRequest {
    /// The caller (E.164).
    pub from: String,
}

/// The simulated carrier delivers a call from `from` to this number: its agent answers
/// (a number without one answers with an announcement).
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/phone-numbers/{id}/simulate-inbound", tag = "calls",
    params(("ws" = String, Path), ("id" = String, Path)), request_body = InboundRequest, security(("bearer" = [])),
    responses((status = 201, body = CallView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn simulate_inbound(
    State(state): State<AppState>,
    WorkspaceScope(scope): WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<InboundRequest>,
) -> ApiResult<(StatusCode, Json<CallView>)> {
    let number = phone_numbers::get(&mut scope.read().await?, &id).await?.ok_or_else(ApiError::not_found)?;
    let call = svc::receive(&state, &req.from, &number.e164).await?;
    Ok((StatusCode::CREATED, Json(CallView::for_caller(&scope, &call))))
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
    Ok(Json(CallView::for_caller(&scope, &svc::cancel(&state, &scope, &id).await?)))
}
