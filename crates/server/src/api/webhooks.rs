//! Webhooks (SPEC E1–E3): endpoints, their delivery log, test events, redelivery,
//! secret rotation, and the event catalog.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use callplane_store::product::webhooks::{self as store, Attempt, Delivery, Endpoint};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::views::{rfc3339, Page, Problem};
use crate::api::{keyset_page, ApiJson, ApiQuery, PageParams};
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::events;
use crate::services::webhooks::{self as svc, Input};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    /// Set on an agent's own endpoint (its URL is the agent's `webhook_url`): it receives
    /// that agent's events only. Unset: the workspace's, for every agent's events.
    pub agent_id: Option<String>,
    pub url: String,
    pub description: String,
    /// The event types it receives; empty: every event.
    pub event_types: Vec<String>,
    pub enabled: bool,
    /// Why the service disabled it (`410 Gone`, failing for days).
    pub disabled_reason: Option<String>,
    /// The signing secret (`whsec_…`), only in the answer that created or rotated it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Until when the previous secret still signs beside the current one (after a
    /// rotation).
    pub previous_secret_expires_at: Option<String>,
    /// Since when it has been failing (unset: its last attempt succeeded).
    pub failing_since: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl WebhookView {
    pub fn new(e: &Endpoint, now: i64) -> Self {
        Self {
            id: e.id.clone(),
            agent_id: e.agent_id.clone(),
            url: e.url.clone(),
            description: e.description.clone(),
            event_types: e.types(),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.clone(),
            secret: None,
            previous_secret_expires_at: e.previous_secret_until.filter(|u| *u > now).map(rfc3339),
            failing_since: e.failing_since.map(rfc3339),
            created_at: rfc3339(e.created_at),
            updated_at: rfc3339(e.updated_at),
        }
    }

    fn with_secret(e: &Endpoint, now: i64) -> Self {
        Self { secret: Some(e.secret.clone()), ..Self::new(e, now) }
    }
}

/// An endpoint to create (`url` required) or the fields to change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    pub url: Option<String>,
    pub description: Option<String>,
    /// Event types to receive; empty or absent on creation: every event.
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

impl From<WebhookRequest> for Input {
    fn from(r: WebhookRequest) -> Self {
        Input { url: r.url, description: r.description, event_types: r.event_types, enabled: r.enabled }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub endpoint_id: String,
    /// The event's id: the `webhook-id` of every attempt.
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed` (the retry schedule ran out, or 410 Gone).
    pub status: String,
    pub attempts: i64,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<String>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Delivery> for DeliveryView {
    fn from(d: &Delivery) -> Self {
        Self {
            id: d.id.clone(),
            endpoint_id: d.endpoint_id.clone(),
            event_id: d.event_id.clone(),
            event_type: d.event_type.clone(),
            status: d.status.clone(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at.filter(|_| d.status == "pending").map(rfc3339),
            last_status_code: d.last_status,
            last_error: d.last_error.clone(),
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
        }
    }
}

/// One attempt of the delivery log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub id: String,
    pub delivery_id: String,
    pub event_id: String,
    pub event_type: String,
    pub at: String,
    /// The endpoint's answer (none when it was not reached).
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    /// The first kilobyte of the answer's body.
    pub response_excerpt: Option<String>,
    /// Why it failed: the status, a timeout, a refused address, a redirect not followed.
    pub error: Option<String>,
}

impl From<&Attempt> for AttemptView {
    fn from(a: &Attempt) -> Self {
        Self {
            id: a.id.clone(),
            delivery_id: a.delivery_id.clone(),
            event_id: a.event_id.clone(),
            event_type: a.event_type.clone(),
            at: rfc3339(a.at),
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            response_excerpt: a.response_excerpt.clone(),
            error: a.error.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TestEventView {
    /// The test event's id (its `webhook-id`).
    pub event_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeView {
    pub name: String,
    pub summary: String,
    /// An example message (`WebhookMessage`) of this type.
    #[schema(value_type = Object)]
    pub example: serde_json::Value,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    /// `pending`, `delivered` or `failed`.
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AttemptParams {
    /// Only this delivery's attempts.
    pub delivery_id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn page(limit: Option<i64>, cursor: &Option<String>, prefix: &str) -> ApiResult<(i64, Option<String>)> {
    let p = PageParams { limit, cursor: cursor.clone() };
    Ok((p.limit()?, p.keyset_cursor(prefix)?.map(str::to_owned)))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/webhooks", tag = "webhooks", params(("ws" = String, Path), PageParams),
    security(("bearer" = [])), responses((status = 200, body = Page<WebhookView>), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<WebhookView>>> {
    let (limit, cursor) = (q.limit()?, q.keyset_cursor("wh")?);
    let rows = store::list(&mut scope.read().await?, cursor, limit + 1).await?;
    let now = state.now();
    Ok(Json(keyset_page(&rows, limit, |e| e.id.clone(), |e| WebhookView::new(e, now))))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/webhooks", tag = "webhooks", params(("ws" = String, Path)),
    request_body = WebhookRequest, security(("bearer" = [])),
    responses((status = 201, body = WebhookView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(req): ApiJson<WebhookRequest>,
) -> ApiResult<(StatusCode, Json<WebhookView>)> {
    let e = svc::create(&state, &scope, &req.into()).await?;
    Ok((StatusCode::CREATED, Json(WebhookView::with_secret(&e, state.now()))))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/webhooks/{id}", tag = "webhooks",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = WebhookView), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<WebhookView>> {
    Ok(Json(WebhookView::new(&svc::get(&scope, &id).await?, state.now())))
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/webhooks/{id}", tag = "webhooks",
    params(("ws" = String, Path), ("id" = String, Path)), request_body = WebhookRequest, security(("bearer" = [])),
    responses((status = 200, body = WebhookView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<WebhookRequest>,
) -> ApiResult<Json<WebhookView>> {
    let e = svc::update(&state, &scope, &id, &req.into()).await?;
    Ok(Json(WebhookView::new(&e, state.now())))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/webhooks/{id}", tag = "webhooks",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    svc::delete(&state, &scope, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = WebhookView, description = "The new secret, shown this once; the previous one signs beside it for 24 hours"),
              (status = 404, body = Problem)))]
pub async fn rotate(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<WebhookView>> {
    let e = svc::rotate(&state, &scope, &id).await?;
    Ok(Json(WebhookView::with_secret(&e, state.now())))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/webhooks/{id}/test", tag = "webhooks",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 202, body = TestEventView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn test(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<TestEventView>)> {
    let event_id = svc::send_test(&state, &scope, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(TestEventView { event_id })))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/webhooks/{id}/deliveries", tag = "webhooks",
    params(("ws" = String, Path), ("id" = String, Path), DeliveryParams), security(("bearer" = [])),
    responses((status = 200, body = Page<DeliveryView>), (status = 404, body = Problem)))]
pub async fn deliveries(
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<DeliveryParams>,
) -> ApiResult<Json<Page<DeliveryView>>> {
    let (limit, cursor) = page(q.limit, &q.cursor, "dlv")?;
    if q.status.as_deref().is_some_and(|s| !["pending", "delivered", "failed"].contains(&s)) {
        return Err(ApiError::invalid("status", "must be pending, delivered or failed"));
    }
    let e = svc::get(&scope, &id).await?;
    let rows =
        store::deliveries(&mut scope.read().await?, &e.id, q.status.as_deref(), cursor.as_deref(), limit + 1).await?;
    Ok(Json(keyset_page(&rows, limit, |d| d.id.clone(), |d| DeliveryView::from(d))))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/webhooks/{id}/attempts", tag = "webhooks",
    params(("ws" = String, Path), ("id" = String, Path), AttemptParams), security(("bearer" = [])),
    responses((status = 200, body = Page<AttemptView>, description = "The delivery log, newest first"),
              (status = 404, body = Problem)))]
pub async fn attempts(
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<AttemptParams>,
) -> ApiResult<Json<Page<AttemptView>>> {
    let (limit, cursor) = page(q.limit, &q.cursor, "watt")?;
    let e = svc::get(&scope, &id).await?;
    let rows = store::attempts(&mut scope.read().await?, &e.id, q.delivery_id.as_deref(), cursor.as_deref(), limit + 1)
        .await?;
    Ok(Json(keyset_page(&rows, limit, |a| a.id.clone(), |a| AttemptView::from(a))))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/webhooks/{id}/deliveries/{delivery_id}/redeliver", tag = "webhooks",
    params(("ws" = String, Path), ("id" = String, Path), ("delivery_id" = String, Path)), security(("bearer" = [])),
    responses((status = 202, body = DeliveryView, description = "One more attempt, now, with the same webhook-id"),
              (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn redeliver(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id, delivery_id)): Path<(String, String, String)>,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    let d = svc::redeliver(&state, &scope, &id, &delivery_id).await?;
    Ok((StatusCode::ACCEPTED, Json((&d).into())))
}

#[utoipa::path(get, path = "/api/v1/webhook-event-types", tag = "webhooks",
    responses((status = 200, body = Vec<EventTypeView>, description = "Every event a webhook can receive, with an example")))]
pub async fn event_types() -> Json<Vec<EventTypeView>> {
    Json(
        events::CATALOG
            .iter()
            .map(|e| EventTypeView {
                name: e.name.into(),
                summary: e.summary.into(),
                example: events::example_message(e),
            })
            .collect(),
    )
}
