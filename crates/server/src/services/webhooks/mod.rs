//! Webhook endpoints (SPEC E1–E3): the workspace's own, and each agent's (kept in step
//! with the agent's `webhook_url`). Creating one shows its `whsec_` secret once; a
//! rotation shows the new one once and keeps signing with the old one beside it for a
//! day. "Send a test event" and "redeliver" go through the same outbox as every event.
//!
//! Delivery is [`delivery`]; signing [`signing`]; the SSRF guard [`guard`].

pub mod delivery;
pub mod guard;
pub mod signing;

use callplane_domain::id::{has_prefix, new_id};
use callplane_store::access::Scope;
use callplane_store::product::webhooks::{self as store, Endpoint, EndpointFields, NewEndpoint};
use callplane_store::product::InWorkspace;
use serde_json::json;

use crate::error::{ApiError, ApiResult, Code};
use crate::services::audit::Auditor;
use crate::services::events;
use crate::state::AppState;

/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP_MS: i64 = 24 * 3600 * 1000;

/// An `http(s)://` URL a webhook may be sent to: no credentials in it, and (unless the
/// operator allows private targets) not a literal private, loopback, link-local, CGNAT
/// or metadata address. Names are checked again when they are resolved, at delivery.
pub fn check_url(state: &AppState, field: &str, raw: &str) -> ApiResult<String> {
    let raw = raw.trim();
    if raw.len() > 2000 {
        return Err(ApiError::invalid(field, "must be at most 2,000 characters"));
    }
    let url = reqwest::Url::parse(raw).map_err(|_| ApiError::invalid(field, "must be an http:// or https:// URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ApiError::invalid(field, "must be an http:// or https:// URL"));
    }
    // A parser that forgives `http:///path` or `http:/host` would read a host the
    // person never wrote: the host comes right after `//`.
    let after_scheme = raw.get(url.scheme().len()..).unwrap_or_default();
    if !after_scheme.starts_with("://") || after_scheme[3..].starts_with(['/', '\\']) {
        return Err(ApiError::invalid(field, "must name a host right after http:// or https://"));
    }
    if url.port() == Some(0) {
        return Err(ApiError::invalid(field, "port 0 cannot be sent to"));
    }
    if url.fragment().is_some() {
        return Err(ApiError::invalid(field, "must not end in a #fragment (it is never sent)"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::invalid(field, "must not carry a user name or password"));
    }
    if !state.config.webhooks.allow_private_targets {
        if let Some(why) = guard::refuse_literal(&url) {
            return Err(ApiError::new(Code::WebhookTargetRefused, format!("{field}: {why}."))
                .with("errors", json!([{ "field": field, "message": why }])));
        }
    }
    Ok(url.to_string())
}

/// The event types an endpoint asks for: known ones, each once (empty: every event).
fn check_types(types: &[String]) -> ApiResult<String> {
    let mut out: Vec<&str> = Vec::new();
    for t in types {
        let t = t.trim();
        if !events::is_known(t) {
            let known: Vec<&str> = events::CATALOG.iter().map(|e| e.name).collect();
            return Err(ApiError::invalid("event_types", format!("“{t}” is not an event type ({})", known.join(", "))));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(serde_json::to_string(&out).unwrap_or_else(|_| "[]".into()))
}

fn description(raw: &str) -> ApiResult<String> {
    let d = raw.trim();
    if d.chars().count() > 200 || d.chars().any(char::is_control) {
        return Err(ApiError::invalid("description", "must be at most 200 characters on one line"));
    }
    Ok(d.to_owned())
}

/// What a request gives; absent fields keep their value.
#[derive(Debug, Default, Clone)]
pub struct Input {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

fn snapshot(e: &Endpoint) -> serde_json::Value {
    json!({ "url": e.url, "description": e.description, "event_types": e.types(), "enabled": e.enabled,
            "agent_id": e.agent_id })
}

/// Creates a workspace endpoint; its secret is in the answer, and only there.
pub async fn create(state: &AppState, scope: &Scope, input: &Input) -> ApiResult<Endpoint> {
    let url = check_url(state, "url", input.url.as_deref().ok_or_else(|| ApiError::invalid("url", "is required"))?)?;
    let types = check_types(input.event_types.as_deref().unwrap_or_default())?;
    let desc = description(input.description.as_deref().unwrap_or_default())?;
    let (now, id, secret) = (state.now(), new_id("wh"), signing::new_secret());
    let new = NewEndpoint {
        id: &id,
        agent_id: None,
        url: &url,
        description: &desc,
        event_types: &types,
        enabled: input.enabled.unwrap_or(true),
        secret: &secret,
    };
    let mut tx = scope.begin().await?;
    let e = store::create(&mut tx, &new, now).await?;
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "webhook.created", ("webhook", &id), None, Some(snapshot(&e)))
        .await?;
    tx.commit().await?;
    Ok(e)
}

pub async fn get(scope: &Scope, id: &str) -> ApiResult<Endpoint> {
    if !has_prefix(id, "wh") {
        return Err(ApiError::not_found());
    }
    store::get(&mut scope.read().await?, id).await?.ok_or_else(ApiError::not_found)
}

/// Changes an endpoint. An agent's endpoint's URL is the agent's webhook URL: changing
/// one changes the other.
pub async fn update(state: &AppState, scope: &Scope, id: &str, input: &Input) -> ApiResult<Endpoint> {
    let current = get(scope, id).await?;
    let url = match &input.url {
        Some(u) => check_url(state, "url", u)?,
        None => current.url.clone(),
    };
    let types = match &input.event_types {
        Some(t) => check_types(t)?,
        None => current.event_types.clone(),
    };
    let desc = match &input.description {
        Some(d) => description(d)?,
        None => current.description.clone(),
    };
    let f = EndpointFields {
        url: &url,
        description: &desc,
        event_types: &types,
        enabled: input.enabled.unwrap_or(current.enabled),
    };
    let now = state.now();
    let mut tx = scope.begin().await?;
    let e = store::update(&mut tx, id, &f, now).await?.ok_or_else(ApiError::not_found)?;
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "webhook.updated", ("webhook", id), Some(snapshot(&current)), Some(snapshot(&e)))
        .await?;
    tx.commit().await?;
    if e.enabled && !current.enabled {
        state.webhook_wakeup.notify_one();
    }
    Ok(e)
}

/// Deletes an endpoint with its delivery log (an agent's clears the agent's URL).
pub async fn delete(state: &AppState, scope: &Scope, id: &str) -> ApiResult<()> {
    let current = get(scope, id).await?;
    let now = state.now();
    let mut tx = scope.begin().await?;
    if !store::delete(&mut tx, id).await? {
        return Err(ApiError::not_found());
    }
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "webhook.deleted", ("webhook", id), Some(snapshot(&current)), None)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A new secret, shown once; the old one signs beside it for [`ROTATION_OVERLAP_MS`].
pub async fn rotate(state: &AppState, scope: &Scope, id: &str) -> ApiResult<Endpoint> {
    get(scope, id).await?;
    let (now, secret) = (state.now(), signing::new_secret());
    let mut tx = scope.begin().await?;
    store::rotate(&mut tx, id, &secret, now + ROTATION_OVERLAP_MS, now).await?;
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "webhook.secret_rotated", ("webhook", id), None, Some(json!({ "overlap_hours": 24 })))
        .await?;
    let e = store::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    Ok(e)
}

/// Queues a `webhook.test` event for this endpoint alone; returns the event id.
pub async fn send_test(state: &AppState, scope: &Scope, id: &str) -> ApiResult<String> {
    let e = get(scope, id).await?;
    if !e.enabled {
        return Err(ApiError::new(Code::WebhookDisabled, "The endpoint is disabled; enable it to send it events."));
    }
    let now = state.now();
    let data =
        events::TestEventData { endpoint_id: e.id.clone(), message: "This is a test event from callplane.".into() };
    let mut tx = scope.begin().await?;
    let event_id = events::enqueue(&mut tx, "webhook.test", data, &[e.id.as_str()], now).await?;
    tx.commit().await?;
    state.webhook_wakeup.notify_one();
    Ok(event_id)
}

/// Sends a delivery once more, now, with the same `webhook-id`.
pub async fn redeliver(
    state: &AppState,
    scope: &Scope,
    endpoint_id: &str,
    delivery_id: &str,
) -> ApiResult<store::Delivery> {
    let e = get(scope, endpoint_id).await?;
    let mut tx = scope.begin().await?;
    let d = store::delivery(&mut tx, delivery_id)
        .await?
        .filter(|d| d.endpoint_id == e.id)
        .ok_or_else(ApiError::not_found)?;
    if !e.enabled {
        return Err(ApiError::new(Code::WebhookDisabled, "The endpoint is disabled; enable it to redeliver."));
    }
    let now = state.now();
    if !store::redeliver(&mut tx, &d.id, now).await? {
        return Err(ApiError::new(Code::BadRequest, "The delivery is being sent right now; look again in a moment."));
    }
    let d = store::delivery(&mut tx, &d.id).await?.ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    state.webhook_wakeup.notify_one();
    Ok(d)
}

/// Keeps the agent's endpoint in step with its webhook URL, in the agent's transaction:
/// created (with a new secret, returned) when the agent gains a URL, moved when it
/// changes, removed when it is cleared.
pub async fn sync_agent(
    tx: &mut impl InWorkspace,
    agent_id: &str,
    url: Option<&str>,
    now: i64,
) -> ApiResult<Option<Endpoint>> {
    let existing = store::for_agent(tx, agent_id).await?;
    match (url, existing) {
        (None, Some(_)) => {
            store::delete_for_agent(tx, agent_id).await?;
            Ok(None)
        }
        (None, None) => Ok(None),
        (Some(url), Some(e)) if e.url == url => Ok(None),
        (Some(url), Some(_)) => {
            store::set_agent_url(tx, agent_id, url, now).await?;
            Ok(None)
        }
        (Some(url), None) => {
            let (id, secret) = (new_id("wh"), signing::new_secret());
            let new = NewEndpoint {
                id: &id,
                agent_id: Some(agent_id),
                url,
                description: "",
                event_types: "[]",
                enabled: true,
                secret: &secret,
            };
            Ok(Some(store::create(tx, &new, now).await?))
        }
    }
}
