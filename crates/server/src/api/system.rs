//! Health, readiness and Prometheus metrics (SPEC O3).

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::state::AppState;

#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, description = "The process is up")))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/readyz", tag = "system",
    responses((status = 200, description = "The control database and every region database answer"),
              (status = 503, description = "One of them does not")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut ready = true;
    if let Err(e) = state.db.ping().await {
        tracing::warn!(error = %e, "readiness: the control database does not answer");
        ready = false;
    }
    // Each database once, however many regions share it.
    let mut answering = Vec::new();
    for db in state.regions.databases() {
        match db.ping().await {
            Ok(()) => answering.push(db.url().to_owned()),
            Err(e) => tracing::warn!(error = %e, "readiness: a region database does not answer"),
        }
    }
    let mut regions = serde_json::Map::new();
    for region in state.regions.list() {
        let ok = answering.iter().any(|u| u == region.db.url());
        ready &= ok;
        regions.insert(region.id.clone(), json!(if ok { "ok" } else { "unavailable" }));
    }
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "database": state.db.backend(),
        "regions": regions,
        // Which process answered, and whether it may answer from its access cache
        // (a PostgreSQL replica not listening for changes does not).
        "replica": state.db.changes().replica(),
        "access_cache": if state.access_cache.is_trusted() { "trusted" } else { "untrusted" },
    });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

/// Middleware counting every response.
pub async fn count(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    state.metrics.record(res.status());
    res
}

#[utoipa::path(get, path = "/metrics", tag = "system", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let (hits, misses) = state.access_cache.stats();
    let trusted = u8::from(state.access_cache.is_trusted());
    let body = format!(
        "{}# HELP callplane_access_cache_lookups_total Credential and scope lookups, by whether the access cache answered.\n\
         # TYPE callplane_access_cache_lookups_total counter\n\
         callplane_access_cache_lookups_total{{result=\"hit\"}} {hits}\n\
         callplane_access_cache_lookups_total{{result=\"miss\"}} {misses}\n\
         # HELP callplane_access_cache_trusted Whether this replica may answer from its access cache.\n\
         # TYPE callplane_access_cache_trusted gauge\n\
         callplane_access_cache_trusted {trusted}\n",
        state.metrics.render()
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
