//! The workspace's audit log (SPEC A6).

use axum::extract::State;
use axum::Json;
use callplane_store::audit::{self, Filter};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::IntoParams;

use crate::api::views::{AuditEventView, Page, Problem};
use crate::api::{ApiQuery, PageParams};
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
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

fn parse_time(field: &str, v: &Option<String>) -> ApiResult<Option<i64>> {
    v.as_deref()
        .map(|s| {
            OffsetDateTime::parse(s, &Rfc3339)
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
                .map_err(|_| ApiError::invalid(field, "must be an RFC 3339 time"))
        })
        .transpose()
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/audit-log", tag = "audit", params(("ws" = String, Path), AuditParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<AuditEventView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiQuery(q): ApiQuery<AuditParams>,
) -> ApiResult<Json<Page<AuditEventView>>> {
    let limit = PageParams {
        limit: q.limit,
        cursor: None,
    }
    .limit()?;
    for (field, v) in [
        ("action", &q.action),
        ("actor_id", &q.actor_id),
        ("cursor", &q.cursor),
    ] {
        if v.as_deref()
            .is_some_and(|s| s.len() > 200 || s.chars().any(char::is_control))
        {
            return Err(ApiError::invalid(field, "is not a valid filter value"));
        }
    }
    let filter = Filter {
        action: q.action.as_deref(),
        actor_id: q.actor_id.as_deref(),
        since_ms: parse_time("since", &q.since)?,
        until_ms: parse_time("until", &q.until)?,
        before_id: q.cursor.as_deref(),
    };
    let mut conn = state.db.conn().await?;
    let rows = audit::list(&mut conn, &scope, &filter, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    let data: Vec<AuditEventView> = rows
        .iter()
        .take(limit as usize)
        .map(AuditEventView::from)
        .collect();
    let next_cursor = if more {
        data.last().map(|e| e.id.clone())
    } else {
        None
    };
    Ok(Json(Page { data, next_cursor }))
}
