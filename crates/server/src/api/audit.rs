//! The audit log (SPEC A6): JSON pages with filters, and CSV export.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use callplane_store::access::Scope;
use callplane_store::audit::{AuditEvent, Filter};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::export::{csv_document, csv_response};
use crate::api::views::{rfc3339, AuditEventView, Page, Problem};
use crate::api::{ApiQuery, PageParams};
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services;
use crate::state::AppState;

/// Most rows one CSV export holds.
const EXPORT_LIMIT: i64 = 10_000;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// e.g. `workspace.updated`.
    pub action: Option<String>,
    /// A user or key id.
    pub actor_id: Option<String>,
    /// RFC 3339; events at or after.
    pub since: Option<String>,
    /// RFC 3339; events before.
    pub until: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl AuditParams {
    /// The store filter and page size, after validating every parameter.
    pub fn filter(&self) -> ApiResult<(Filter<'_>, i64)> {
        let limit = PageParams { limit: self.limit, cursor: None }.limit()?;
        for (field, v) in [("action", &self.action), ("actor_id", &self.actor_id), ("cursor", &self.cursor)] {
            if v.as_deref().is_some_and(|s| s.len() > 200 || s.chars().any(char::is_control)) {
                return Err(ApiError::invalid(field, "is not a valid filter value"));
            }
        }
        fn nonempty(v: &Option<String>) -> Option<&str> {
            v.as_deref().filter(|s| !s.is_empty())
        }
        let filter = Filter {
            action: nonempty(&self.action),
            actor_id: nonempty(&self.actor_id),
            since_ms: crate::api::views::parse_time("since", &self.since)?,
            until_ms: crate::api::views::parse_time("until", &self.until)?,
            before_id: nonempty(&self.cursor),
        };
        Ok((filter, limit))
    }
}

/// A page from `limit + 1` rows: the extra row only says there is more.
pub fn page_of(rows: Vec<AuditEvent>, limit: i64) -> Page<AuditEventView> {
    let more = rows.len() as i64 > limit;
    let data: Vec<AuditEventView> = rows.iter().take(limit as usize).map(AuditEventView::from).collect();
    let next_cursor = if more { data.last().map(|e| e.id.clone()) } else { None };
    Page { data, next_cursor }
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/audit-log", tag = "audit", params(("ws" = String, Path), AuditParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<AuditEventView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> ApiResult<Json<Page<AuditEventView>>> {
    let (filter, limit) = q.filter()?;
    let rows = services::audit::workspace_log(&state, &scope, &filter, limit + 1).await?;
    Ok(Json(page_of(rows, limit)))
}

/// The events as CSV, newest first.
fn events_csv(rows: &[AuditEvent]) -> String {
    let header = "time,actor_type,actor_id,actor,action,target_type,target_id,workspace_id,before,after";
    csv_document(
        header,
        rows.iter().map(|e| {
            [
                rfc3339(e.created_at),
                e.actor_type.clone(),
                e.actor_id.clone(),
                e.actor_label.clone(),
                e.action.clone(),
                e.target_type.clone(),
                e.target_id.clone(),
                e.workspace_id.clone().unwrap_or_default(),
                e.before_json.clone().unwrap_or_default(),
                e.after_json.clone().unwrap_or_default(),
            ]
        }),
    )
}

/// The workspace's events that `params` select as a CSV download (at most
/// `EXPORT_LIMIT`, newest first): the API's export and the dashboard's.
pub async fn export_csv(state: &AppState, scope: &Scope, params: &AuditParams) -> ApiResult<Response> {
    let (filter, _) = params.filter()?;
    let rows = services::audit::workspace_log(state, scope, &filter, EXPORT_LIMIT).await?;
    Ok(csv_response("audit-log.csv", events_csv(&rows)))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/audit-log/export", tag = "audit", params(("ws" = String, Path), AuditParams),
    security(("bearer" = [])),
    responses((status = 200, description = "text/csv"), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn export(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> ApiResult<Response> {
    export_csv(&state, &scope, &q).await
}
