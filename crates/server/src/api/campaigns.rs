//! Campaigns (SPEC P6): CRUD, the lifecycle actions (`start`, `pause`, `resume`,
//! `cancel`), live progress, and per-contact results with their CSV export. Analytics
//! (P9) is `GET /analytics`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use callplane_store::access::Scope;
use callplane_store::product::campaigns::{self as store, Campaign, Target};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::api::export::{csv_line, csv_stream};
use crate::api::views::{parse_time, rfc3339, Page, Problem};
use crate::api::{keyset_page, ApiJson, ApiQuery, PageParams};
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::analytics::{self, Period, Report};
use crate::services::campaigns::{self as svc, window_of, Audience, Input, Progress, WindowInput};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AudienceView {
    /// Contacts with this tag...
    pub tag: Option<String>,
    /// ...and/or matching this search (name, phone, email), taken when the campaign
    /// starts.
    pub q: Option<String>,
    /// Or these contacts (on create or update; the view says `list: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_ids: Option<Vec<String>>,
    #[serde(default)]
    pub list: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WindowView {
    /// Calling days: `mon` … `sun`.
    pub days: Vec<String>,
    /// Local time of day, `HH:MM`, in each contact's time zone (else the campaign's).
    /// An end not after the start crosses midnight.
    pub start: String,
    pub end: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: String,
    pub name: String,
    /// `draft`, `scheduled`, `running`, `paused`, `completed` or `cancelled`.
    pub status: String,
    /// Why it paused by itself: `insufficient_funds`, `agent_inactive`,
    /// `number_unavailable`, `access_lost`.
    pub pause_reason: Option<String>,
    pub agent_id: String,
    /// Caller numbers, used in turn.
    pub number_ids: Vec<String>,
    pub audience: AudienceView,
    /// The time zone of contacts without one.
    pub timezone: String,
    pub window: WindowView,
    pub max_concurrency: i64,
    pub calls_per_second: i64,
    pub max_attempts: i64,
    pub retry_delay_secs: i64,
    /// Call statuses that are retried: `busy`, `no-answer`, `failed`.
    pub retry_on: Vec<String>,
    pub start_at: Option<String>,
    /// The SIP trunk the campaign dials through (none: the workspace's provider).
    pub sip_trunk_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub progress: Progress,
}

impl CampaignView {
    async fn of(scope: &Scope, c: &Campaign) -> ApiResult<Self> {
        let mut conn = scope.read().await?;
        let number_ids = store::numbers(&mut conn, &c.id).await?;
        let progress = svc::progress(&mut conn, &c.id).await?;
        let w = window_of(c);
        Ok(Self {
            id: c.id.clone(),
            name: c.name.clone(),
            status: c.status.clone(),
            pause_reason: c.pause_reason.clone(),
            agent_id: c.agent_id.clone(),
            number_ids,
            audience: AudienceView {
                tag: c.audience_tag.clone(),
                q: c.audience_q.clone(),
                contact_ids: None,
                list: c.audience_list,
            },
            timezone: c.timezone.clone(),
            window: WindowView {
                days: w.day_names().into_iter().map(str::to_owned).collect(),
                start: w.start(),
                end: w.end(),
            },
            max_concurrency: c.max_concurrency,
            calls_per_second: c.calls_per_second,
            max_attempts: c.max_attempts,
            retry_delay_secs: c.retry_delay_secs,
            retry_on: c.retry_on.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            start_at: c.start_at.map(rfc3339),
            sip_trunk_id: c.sip_trunk_id.clone(),
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
            started_at: c.started_at.map(rfc3339),
            finished_at: c.finished_at.map(rfc3339),
            progress,
        })
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    pub name: Option<String>,
    pub agent_id: Option<String>,
    pub number_ids: Option<Vec<String>>,
    pub audience: Option<AudienceView>,
    pub timezone: Option<String>,
    pub window: Option<WindowView>,
    pub max_concurrency: Option<i64>,
    pub calls_per_second: Option<i64>,
    pub max_attempts: Option<i64>,
    pub retry_delay_secs: Option<i64>,
    pub retry_on: Option<Vec<String>>,
    /// RFC 3339; starting before then schedules the campaign. `null` clears it.
    #[schema(value_type = Option<String>)]
    pub start_at: Option<Value>,
    /// A SIP trunk of the workspace to dial through (priced at the SIP/BYOC flat
    /// rate); `null` clears it.
    #[schema(value_type = Option<String>)]
    pub sip_trunk_id: Option<Value>,
}

impl CampaignRequest {
    pub fn input(self) -> ApiResult<Input> {
        let start_at = match self.start_at {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(parse_time("start_at", &Some(s))?),
            Some(_) => return Err(ApiError::invalid("start_at", "must be an RFC 3339 time or null")),
        };
        let sip_trunk_id = match self.sip_trunk_id {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => Some(Some(s)),
            Some(_) => return Err(ApiError::invalid("sip_trunk_id", "must be a trunk id or null")),
        };
        Ok(Input {
            name: self.name,
            agent_id: self.agent_id,
            number_ids: self.number_ids,
            audience: self.audience.map(|a| Audience { tag: a.tag, q: a.q, contact_ids: a.contact_ids }),
            timezone: self.timezone,
            window: self.window.map(|w| WindowInput { days: w.days, start: w.start, end: w.end }),
            max_concurrency: self.max_concurrency,
            calls_per_second: self.calls_per_second,
            max_attempts: self.max_attempts,
            retry_delay_secs: self.retry_delay_secs,
            retry_on: self.retry_on,
            start_at,
            sip_trunk_id,
        })
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Only campaigns in this status.
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/campaigns", tag = "campaigns", params(("ws" = String, Path), ListParams),
    security(("bearer" = [])), responses((status = 200, body = Page<CampaignView>), (status = 422, body = Problem)))]
pub async fn list(scope: WorkspaceScope, ApiQuery(q): ApiQuery<ListParams>) -> ApiResult<Json<Page<CampaignView>>> {
    let limit = PageParams { limit: q.limit, cursor: None }.limit()?;
    if q.status.as_deref().is_some_and(|s| !callplane_domain::campaign::STATUSES.contains(&s)) {
        return Err(ApiError::invalid(
            "status",
            format!("must be one of {}", callplane_domain::campaign::STATUSES.join(", ")),
        ));
    }
    let rows = store::list(&mut scope.read().await?, q.status.as_deref(), q.cursor.as_deref(), limit + 1).await?;
    let page = keyset_page(&rows, limit, |c| c.id.clone(), |c| c.clone());
    let mut data = Vec::with_capacity(page.data.len());
    for c in &page.data {
        data.push(CampaignView::of(&scope, c).await?);
    }
    Ok(Json(Page { data, next_cursor: page.next_cursor }))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/campaigns", tag = "campaigns", params(("ws" = String, Path)),
    request_body = CampaignRequest, security(("bearer" = [])),
    responses((status = 201, body = CampaignView, description = "A draft"), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(req): ApiJson<CampaignRequest>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    let c = svc::create(&state, &scope, &req.input()?).await?;
    Ok((StatusCode::CREATED, Json(CampaignView::of(&scope, &c).await?)))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/campaigns/{id}", tag = "campaigns",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = CampaignView), (status = 404, body = Problem)))]
pub async fn get(scope: WorkspaceScope, Path((_, id)): Path<(String, String)>) -> ApiResult<Json<CampaignView>> {
    let c = svc::get(&scope, &id).await?;
    Ok(Json(CampaignView::of(&scope, &c).await?))
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/campaigns/{id}", tag = "campaigns",
    params(("ws" = String, Path), ("id" = String, Path)), request_body = CampaignRequest, security(("bearer" = [])),
    responses((status = 200, body = CampaignView), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "`campaign_state`: only drafts and paused campaigns are edited"),
              (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<CampaignRequest>,
) -> ApiResult<Json<CampaignView>> {
    let c = svc::update(&state, &scope, &id, &req.input()?).await?;
    Ok(Json(CampaignView::of(&scope, &c).await?))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/campaigns/{id}", tag = "campaigns",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "`campaign_state`: only drafts are deleted")))]
pub async fn delete(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    svc::delete(&state, &scope, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

macro_rules! action {
    ($name:ident, $verb:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = concat!("/api/v1/workspaces/{ws}/campaigns/{id}/", $verb), tag = "campaigns",
                    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
                    responses((status = 200, body = CampaignView), (status = 404, body = Problem),
                              (status = 409, body = Problem, description = "`campaign_state`"),
                              (status = 422, body = Problem, description = "`audience_empty`, `validation_failed`")))]
        pub async fn $name(
            State(state): State<AppState>,
            scope: WorkspaceScope,
            Path((_, id)): Path<(String, String)>,
        ) -> ApiResult<Json<CampaignView>> {
            let c = svc::act(&state, &scope, &id, $verb).await?;
            Ok(Json(CampaignView::of(&scope, &c).await?))
        }
    };
}

action!(start, "start", "Starts a draft: its audience is taken now; it runs (or is scheduled for its start time).");
action!(pause, "pause", "Stops dialing; calls in flight finish.");
action!(resume, "resume", "Dials again, with the access of the person who resumes it.");
action!(cancel, "cancel", "Ends the campaign; contacts not yet dialed are not called.");

#[derive(Debug, Serialize, ToSchema)]
pub struct ResultView {
    pub contact_id: String,
    pub name: Option<String>,
    pub phone: String,
    /// `pending`, `dialing`, `done` or `skipped`.
    pub state: String,
    pub attempts: i64,
    /// The last call's status, or why it was skipped (`do_not_call`, `opted_out`).
    pub outcome: Option<String>,
    pub detail: Option<String>,
    /// The last attempt's call.
    pub call_id: Option<String>,
    /// When a pending contact is due (its retry delay or calling window).
    pub next_attempt_at: Option<String>,
    pub updated_at: String,
}

impl From<&Target> for ResultView {
    fn from(t: &Target) -> Self {
        Self {
            contact_id: t.contact_id.clone(),
            name: t.name.clone(),
            phone: t.phone.clone(),
            state: t.state.clone(),
            attempts: t.attempts,
            outcome: t.outcome.clone(),
            detail: t.detail.clone(),
            call_id: t.call_id.clone(),
            next_attempt_at: if t.state == "pending" { t.next_at.map(rfc3339) } else { None },
            updated_at: rfc3339(t.updated_at),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/campaigns/{id}/results", tag = "campaigns",
    params(("ws" = String, Path), ("id" = String, Path), PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<ResultView>), (status = 404, body = Problem)))]
pub async fn results(
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<ResultView>>> {
    let limit = q.limit()?;
    svc::get(&scope, &id).await?;
    let rows = store::targets(&mut scope.read().await?, &id, q.cursor.as_deref(), limit + 1).await?;
    Ok(Json(keyset_page(&rows, limit, |t| t.contact_id.clone(), |t| ResultView::from(t))))
}

const EXPORT_HEADER: &str = "contact_id,name,phone,state,attempts,outcome,detail,call_id,updated_at";
const EXPORT_BATCH: i64 = 1_000;

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/campaigns/{id}/results/export", tag = "campaigns",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = Problem)))]
pub async fn export(
    WorkspaceScope(scope): WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let c = svc::get(&scope, &id).await?;
    let filename = format!("campaign-{}-results.csv", c.id);
    Ok(csv_stream(&filename, EXPORT_HEADER, move |cursor: Option<String>| {
        let (scope, id) = (scope.clone(), id.clone());
        async move {
            let rows = store::targets(&mut scope.read().await?, &id, cursor.as_deref(), EXPORT_BATCH).await?;
            let next = (rows.len() as i64 == EXPORT_BATCH).then(|| rows.last().map(|t| t.contact_id.clone())).flatten();
            let lines = rows.iter().map(|t| {
                csv_line([
                    t.contact_id.clone(),
                    t.name.clone().unwrap_or_default(),
                    t.phone.clone(),
                    t.state.clone(),
                    t.attempts.to_string(),
                    t.outcome.clone().unwrap_or_default(),
                    t.detail.clone().unwrap_or_default(),
                    t.call_id.clone().unwrap_or_default(),
                    rfc3339(t.updated_at),
                ])
            });
            Ok((lines.collect(), next))
        }
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsParams {
    /// First day (`YYYY-MM-DD`, UTC); default: 30 days before `to`.
    pub from: Option<String>,
    /// Last day, included; default: today.
    pub to: Option<String>,
}

/// The workspace's call figures for a period: totals, per day, by agent and by
/// campaign (money only with `billing_view`). Read from rollups kept as calls end.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/analytics", tag = "analytics",
    params(("ws" = String, Path), AnalyticsParams), security(("bearer" = [])),
    responses((status = 200, body = Report), (status = 422, body = Problem)))]
pub async fn analytics_report(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiQuery(q): ApiQuery<AnalyticsParams>,
) -> ApiResult<Json<Report>> {
    let period = Period::parse(state.now(), q.from.as_deref(), q.to.as_deref())?;
    Ok(Json(analytics::report(&scope, period).await?))
}
