//! Contact imports (SPEC P1): the CSV is the request body, streamed into a durable job;
//! its status and per-row error report are read back.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use callplane_store::product::imports::{self, Import};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::export::{csv_line, csv_stream};
use crate::api::views::{rfc3339, Page, Problem};
use crate::api::ApiQuery;
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::imports as svc;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportView {
    pub id: String,
    /// `receiving`, `queued`, `running`, `completed` or `failed`.
    pub status: String,
    pub file_name: String,
    /// `update` or `skip`: what a row whose phone is already a contact does.
    pub on_duplicate: String,
    pub bytes: i64,
    /// Data rows handled so far.
    pub rows_read: i64,
    /// The file's data rows, estimated from its lines (the end of a progress bar).
    pub rows_estimate: i64,
    pub imported: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
    /// Why the whole file was refused, when it was.
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Import> for ImportView {
    fn from(i: &Import) -> Self {
        Self {
            id: i.id.clone(),
            status: i.status.clone(),
            file_name: i.file_name.clone(),
            on_duplicate: i.on_duplicate.clone(),
            bytes: i.bytes,
            rows_read: i.rows_done,
            rows_estimate: i.rows_estimate,
            imported: i.imported,
            updated: i.updated,
            skipped: i.skipped,
            failed: i.failed,
            error: i.error.clone(),
            created_at: rfc3339(i.created_at),
            updated_at: rfc3339(i.updated_at),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// `update` (default) or `skip`.
    pub on_duplicate: Option<String>,
    /// Shown in the list of imports.
    pub file_name: Option<String>,
    /// JSON object: CSV column name → field (`phone`, `name`, `email`, `timezone`,
    /// `tags`, `do_not_call`, `opted_out`, `custom.<key>`, or `""` to ignore). Without
    /// it, columns named like fields map to them.
    pub mapping: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/contacts/imports", tag = "contacts",
    params(("ws" = String, Path), ImportParams), security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv", description = "The CSV file, streamed"),
    responses((status = 202, body = ImportView), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiQuery(q): ApiQuery<ImportParams>,
    body: Body,
) -> ApiResult<(StatusCode, Json<ImportView>)> {
    let mapping: BTreeMap<String, String> = match q.mapping.as_deref().filter(|m| !m.is_empty()) {
        None => BTreeMap::new(),
        Some(m) => serde_json::from_str(m)
            .map_err(|_| ApiError::invalid("mapping", "must be a JSON object of column names to field names"))?,
    };
    let file_name = q.file_name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or("contacts.csv");
    if file_name.chars().count() > 200 || file_name.chars().any(char::is_control) {
        return Err(ApiError::invalid("file_name", "must be at most 200 characters"));
    }
    let on_duplicate = q.on_duplicate.as_deref().unwrap_or("update");
    let import = svc::upload(&state, &scope, file_name, on_duplicate, &mapping, true, body.into_data_stream()).await?;
    Ok((StatusCode::ACCEPTED, Json((&import).into())))
}

/// `POST …/contacts/import`, the spelling of the API conventions (shared/API.md): the
/// same as `POST …/contacts/imports`.
#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/contacts/import", tag = "contacts",
    params(("ws" = String, Path), ImportParams), security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv", description = "The CSV file, streamed"),
    responses((status = 202, body = ImportView), (status = 413, body = Problem), (status = 422, body = Problem)))]
pub async fn create_import(
    state: State<AppState>,
    scope: WorkspaceScope,
    q: ApiQuery<ImportParams>,
    body: Body,
) -> ApiResult<(StatusCode, Json<ImportView>)> {
    create(state, scope, q, body).await
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/contacts/imports", tag = "contacts",
    params(("ws" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Page<ImportView>), (status = 404, body = Problem)))]
pub async fn list(scope: WorkspaceScope) -> ApiResult<Json<Page<ImportView>>> {
    let rows = imports::list(&mut scope.read().await?, 50).await?;
    Ok(Json(Page { data: rows.iter().map(ImportView::from).collect(), next_cursor: None }))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/contacts/imports/{id}", tag = "contacts",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ImportView), (status = 404, body = Problem)))]
pub async fn get(scope: WorkspaceScope, Path((_, id)): Path<(String, String)>) -> ApiResult<Json<ImportView>> {
    Ok(Json((&svc::get(&scope, &id).await?).into()))
}

const ERRORS_PAGE: i64 = 1000;

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/contacts/imports/{id}/errors", tag = "contacts",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "text/csv: row, column, reason"), (status = 404, body = Problem)))]
pub async fn errors(
    WorkspaceScope(scope): WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    svc::get(&scope, &id).await?;
    Ok(csv_stream("import-errors.csv", "row,column,reason", move |cursor: Option<String>| {
        let (scope, id) = (scope.clone(), id.clone());
        async move {
            let after: i64 = cursor.as_deref().and_then(|c| c.parse().ok()).unwrap_or(0);
            let rows = imports::errors(&mut scope.read().await?, &id, after, ERRORS_PAGE).await?;
            let next =
                (rows.len() as i64 == ERRORS_PAGE).then(|| rows.last().map(|e| e.row_number.to_string())).flatten();
            let text =
                rows.iter().map(|e| csv_line([e.row_number.to_string(), e.column_name.clone(), e.reason.clone()]));
            Ok((text.collect(), next))
        }
    }))
}
