//! Settings → Webhooks (E1–E3): the workspace's and the agents' endpoints, each with its
//! delivery log, "send a test event", "redeliver" and secret rotation; and the public
//! docs page of the event catalog.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use callplane_domain::Permission;
use callplane_store::product::webhooks as store;
use serde_json::{json, Value};

use crate::api::views::rfc3339;
use crate::api::webhooks::{AttemptView, DeliveryView, WebhookView};
use crate::auth::WorkspaceScope;
use crate::error::ApiResult;
use crate::services::events;
use crate::services::webhooks::{self as svc, Input};
use crate::state::AppState;
use crate::web::common::{outcome, page_context, render, Dash, FormPairs};

/// How many attempts the log shows.
const LOG_ROWS: i64 = 50;

fn when(ms: i64) -> String {
    rfc3339(ms).get(..19).unwrap_or_default().replace('T', " ")
}

async fn list_page(dash: &Dash, scope: &WorkspaceScope, status: StatusCode, extra: Value) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "webhooks", "Webhooks").await?;
    let mut conn = scope.read().await?;
    let endpoints = store::list(&mut conn, None, 200).await?;
    let agents = callplane_store::product::agents::list(&mut conn, None, 500).await?;
    let now = state.now();
    let mut rows = Vec::new();
    for e in &endpoints {
        let (pending, delivered, failed) = store::counts(&mut conn, &e.id).await?;
        let agent = e.agent_id.as_ref().and_then(|id| agents.iter().find(|a| &a.id == id)).map(|a| a.name.clone());
        rows.push(json!({ "e": WebhookView::new(e, now), "agent": agent,
                          "pending": pending, "delivered": delivered, "failed": failed }));
    }
    ctx.insert("endpoints".into(), json!(rows));
    ctx.insert("event_types".into(), json!(events::CATALOG.iter().map(|e| e.name).collect::<Vec<_>>()));
    ctx.insert("can_create".into(), json!(scope.can(Permission::WebhooksCreate)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "webhooks.html", ctx))
}

pub async fn list(dash: Dash, scope: WorkspaceScope) -> ApiResult<Response> {
    list_page(&dash, &scope, StatusCode::OK, json!({})).await
}

/// The endpoint form: the URL, a description, a checkbox per event type (none ticked:
/// every event) and, when editing, "enabled".
fn endpoint_input(f: &FormPairs, editing: bool) -> Input {
    Input {
        url: Some(f.get("url").unwrap_or_default().to_owned()),
        description: Some(f.get("description").unwrap_or_default().to_owned()),
        event_types: Some(f.all("event_types")),
        enabled: editing.then(|| f.get("enabled").is_some()),
    }
}

pub async fn create(dash: Dash, scope: WorkspaceScope, f: FormPairs) -> ApiResult<Response> {
    let result = svc::create(&dash.state, &scope, &endpoint_input(&f, false)).await;
    match result {
        Ok(e) => {
            let extra = json!({ "notice": "Endpoint added.", "webhook_secret": e.secret });
            detail_page(&dash, &scope, &e.id, StatusCode::OK, extra).await
        }
        Err(e) => {
            let (status, extra) = outcome(Err(e));
            list_page(&dash, &scope, status, extra).await
        }
    }
}

async fn detail_page(
    dash: &Dash,
    scope: &WorkspaceScope,
    id: &str,
    status: StatusCode,
    extra: Value,
) -> ApiResult<Response> {
    let e = svc::get(scope, id).await?;
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "webhooks", "Webhook endpoint").await?;
    let mut conn = scope.read().await?;
    let agent = match &e.agent_id {
        Some(a) => callplane_store::product::agents::get(&mut conn, a).await?.map(|a| a.name),
        None => None,
    };
    let (pending, delivered, failed) = store::counts(&mut conn, &e.id).await?;
    let attempts: Vec<Value> = store::attempts(&mut conn, &e.id, None, None, LOG_ROWS)
        .await?
        .iter()
        .map(|a| json!({ "a": AttemptView::from(a), "at": when(a.at) }))
        .collect();
    let deliveries: Vec<Value> = store::deliveries(&mut conn, &e.id, None, None, LOG_ROWS)
        .await?
        .iter()
        .map(|d| json!({ "d": DeliveryView::from(d), "next": d.next_attempt_at.filter(|_| d.status == "pending").map(when) }))
        .collect();
    let selected = e.types();
    let types: Vec<Value> = events::CATALOG
        .iter()
        .map(|t| json!({ "name": t.name, "checked": selected.iter().any(|s| s == t.name) }))
        .collect();
    ctx.insert("e".into(), json!(WebhookView::new(&e, state.now())));
    ctx.insert("agent".into(), json!(agent));
    ctx.insert("counts".into(), json!({ "pending": pending, "delivered": delivered, "failed": failed }));
    ctx.insert("attempts".into(), json!(attempts));
    ctx.insert("deliveries".into(), json!(deliveries));
    ctx.insert("event_types".into(), json!(types));
    ctx.insert("can_edit".into(), json!(scope.can(Permission::WebhooksEdit)));
    ctx.insert("can_delete".into(), json!(scope.can(Permission::WebhooksDelete)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "webhook.html", ctx))
}

pub async fn detail(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    detail_page(&dash, &scope, &id, StatusCode::OK, json!({})).await
}

pub async fn update(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>, f: FormPairs) -> ApiResult<Response> {
    let result = svc::update(&dash.state, &scope, &id, &endpoint_input(&f, true)).await;
    let (status, extra) = outcome(result.map(|_| json!({ "notice": "Endpoint saved." })));
    detail_page(&dash, &scope, &id, status, extra).await
}

pub async fn send_test(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    let result = svc::send_test(&dash.state, &scope, &id).await;
    let (status, extra) =
        outcome(result.map(|_| json!({ "notice": "Test event sent; its attempt appears in the delivery log." })));
    detail_page(&dash, &scope, &id, status, extra).await
}

pub async fn rotate(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    let result = svc::rotate(&dash.state, &scope, &id).await;
    let (status, extra) = outcome(result.map(|e| {
        json!({ "notice": "Secret rotated. The previous one keeps signing beside it for 24 hours.",
                "webhook_secret": e.secret })
    }));
    detail_page(&dash, &scope, &id, status, extra).await
}

pub async fn redeliver(
    dash: Dash,
    scope: WorkspaceScope,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let result = svc::redeliver(&dash.state, &scope, &id, &delivery_id).await;
    let (status, extra) = outcome(result.map(|_| json!({ "notice": "Redelivery queued with the same webhook-id." })));
    detail_page(&dash, &scope, &id, status, extra).await
}

pub async fn delete(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    match svc::delete(&dash.state, &scope, &id).await {
        Ok(()) => list_page(&dash, &scope, StatusCode::OK, json!({ "notice": "Endpoint deleted." })).await,
        Err(e) => detail_page(&dash, &scope, &id, e.status(), json!({ "error": e.detail })).await,
    }
}

/// `/docs/webhooks`: every event with an example message, how to verify signatures,
/// the retry schedule and what is (not) promised about order.
pub async fn docs(State(state): State<AppState>) -> ApiResult<Response> {
    let catalog: Vec<Value> = events::CATALOG
        .iter()
        .map(|e| {
            json!({ "name": e.name, "summary": e.summary,
                    "example": serde_json::to_string_pretty(&events::example_message(e)).unwrap_or_default() })
        })
        .collect();
    let mut ctx = serde_json::Map::new();
    ctx.insert("catalog".into(), json!(catalog));
    ctx.insert("title".into(), json!("Webhook events"));
    ctx.insert(
        "schedule".into(),
        json!(["immediately", "5 seconds", "5 minutes", "30 minutes", "2 hours", "5 hours", "10 hours", "10 hours"]),
    );
    ctx.insert("disable_after_days".into(), json!(state.config.webhooks.disable_after_days));
    Ok(render(&state, StatusCode::OK, "webhook_docs.html", ctx))
}
