//! The audit log page and its CSV export (A6).

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use callplane_store::members;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::audit::{export_csv, page_of, AuditParams};
use crate::auth::WorkspaceScope;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::web::common::{page_context, query_string, render, Dash};

/// Date inputs (`YYYY-MM-DD`) to the RFC 3339 the audit filters take.
fn audit_params(q: &AuditQuery) -> AuditParams {
    let day = |d: &Option<String>| d.as_deref().filter(|s| !s.is_empty()).map(|s| format!("{s}T00:00:00Z"));
    AuditParams {
        action: q.action.clone(),
        actor_id: q.actor_id.clone(),
        since: day(&q.from),
        until: day(&q.to),
        limit: Some(100),
        cursor: q.cursor.clone(),
    }
}

#[derive(Deserialize, Default, serde::Serialize)]
pub struct AuditQuery {
    action: Option<String>,
    actor_id: Option<String>,
    /// First day included (`YYYY-MM-DD`).
    from: Option<String>,
    /// First day excluded (`YYYY-MM-DD`).
    to: Option<String>,
    cursor: Option<String>,
}

/// The audit log page (A6): filters by actor, action and date; CSV export.
pub async fn audit(
    Dash { state, csrf, p, session }: Dash,
    scope: WorkspaceScope,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Response> {
    let (mut ctx, _) = page_context(&state, &p, &session, &csrf.0, "audit", "Audit log").await?;
    let params = audit_params(&q);
    let (filter, limit) = params.filter()?;
    let rows = crate::services::audit::workspace_log(&state, &scope, &filter, limit + 1).await?;
    let page = page_of(rows, limit);
    let mut conn = state.db.conn().await?;
    let people = members::list(&mut conn, &scope).await?;
    let events: Vec<Value> = page
        .data
        .iter()
        .map(|e| {
            json!({ "time": e.created_at.replace('T', " ").trim_end_matches('Z').get(..19).unwrap_or_default(),
                    "actor": e.actor_label, "actor_type": e.actor_type, "action": e.action,
                    "target": format!("{} {}", e.target_type, e.target_id),
                    "before": e.before.as_ref().map(Value::to_string), "after": e.after.as_ref().map(Value::to_string) })
        })
        .collect();
    let query = query_string(&[("action", &q.action), ("actor_id", &q.actor_id), ("from", &q.from), ("to", &q.to)]);
    ctx.insert("events".into(), json!(events));
    ctx.insert("next_cursor".into(), json!(page.next_cursor));
    ctx.insert("filter".into(), json!(q));
    ctx.insert("query".into(), json!(query));
    ctx.insert(
        "actors".into(),
        json!(people.iter().map(|m| json!({ "id": m.user_id, "email": m.email })).collect::<Vec<_>>()),
    );
    ctx.insert("actions".into(), json!(AUDIT_ACTIONS));
    Ok(render(&state, StatusCode::OK, "audit.html", ctx))
}

/// The actions the filter offers.
const AUDIT_ACTIONS: &[&str] = &[
    "workspace.created",
    "workspace.updated",
    "workspace.deleted",
    "member.added",
    "member.joined",
    "member.role_changed",
    "member.removed",
    "ownership.transferred",
    "invitation.created",
    "invitation.resent",
    "invitation.revoked",
    "api_key.created",
    "api_key.revoked",
];

pub async fn audit_export(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Response> {
    export_csv(&state, &scope, &audit_params(&q)).await
}
