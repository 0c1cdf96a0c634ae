//! Contacts (SPEC P1, I3, W9): CRUD, filtered keyset lists, bulk delete, CSV export.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use callplane_store::product::contacts::{self, Contact, Filter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::export::{csv_line, csv_stream};
use crate::api::views::{rfc3339, Page, Problem};
use crate::api::{keyset_page, ApiJson, ApiQuery, PageParams};
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::contacts::{self as svc, Input};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    pub id: String,
    /// E.164.
    pub phone: String,
    pub name: String,
    pub email: Option<String>,
    /// IANA time zone; derived from the number when it determines one.
    pub timezone: Option<String>,
    pub tags: Vec<String>,
    pub custom_fields: BTreeMap<String, String>,
    pub do_not_call: bool,
    pub opted_out: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Contact> for ContactView {
    fn from(c: &Contact) -> Self {
        Self {
            id: c.id.clone(),
            phone: c.phone.clone(),
            name: c.name.clone(),
            email: c.email.clone(),
            timezone: c.timezone.clone(),
            tags: serde_json::from_str(&c.tags).unwrap_or_default(),
            custom_fields: serde_json::from_str(&c.custom_fields).unwrap_or_default(),
            do_not_call: c.do_not_call,
            opted_out: c.opted_out,
            created_at: rfc3339(c.created_at),
            updated_at: rfc3339(c.updated_at),
        }
    }
}

/// A contact to create (`phone` required) or the fields to change (absent: unchanged;
/// `""` clears `email` or `timezone`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    /// International (`+91 98765 43210`) or national, read against the workspace's country.
    pub phone: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub timezone: Option<String>,
    pub tags: Option<Vec<String>>,
    pub custom_fields: Option<BTreeMap<String, String>>,
    pub do_not_call: Option<bool>,
    pub opted_out: Option<bool>,
}

impl From<ContactRequest> for Input {
    fn from(r: ContactRequest) -> Self {
        Input {
            phone: r.phone,
            name: r.name,
            email: r.email,
            timezone: r.timezone,
            tags: r.tags,
            custom_fields: r.custom_fields,
            do_not_call: r.do_not_call,
            opted_out: r.opted_out,
        }
    }
}

/// Filters shared by the list, the bulk delete and the export.
#[derive(Debug, Default, Clone, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContactFilter {
    /// Contacts with this tag (case-insensitive).
    pub tag: Option<String>,
    /// `do_not_call`, `opted_out`, or `callable` (neither flag).
    pub flag: Option<String>,
    /// Text in the name, phone or email.
    pub q: Option<String>,
}

impl ContactFilter {
    fn filter(&self) -> ApiResult<Filter<'_>> {
        let (do_not_call, opted_out) = match self.flag.as_deref().filter(|f| !f.is_empty()) {
            None => (None, None),
            Some("do_not_call") => (Some(true), None),
            Some("opted_out") => (None, Some(true)),
            Some("callable") => (Some(false), Some(false)),
            Some(_) => return Err(ApiError::invalid("flag", "must be do_not_call, opted_out or callable")),
        };
        for (field, v) in [("tag", &self.tag), ("q", &self.q)] {
            if v.as_deref().is_some_and(|s| s.chars().count() > 200 || s.chars().any(char::is_control)) {
                return Err(ApiError::invalid(field, "is not a valid filter value"));
            }
        }
        fn nonempty(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        Ok(Filter { tag: nonempty(&self.tag), do_not_call, opted_out, q: nonempty(&self.q) })
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub tag: Option<String>,
    pub flag: Option<String>,
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/contacts", tag = "contacts", params(("ws" = String, Path), ListParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<ContactView>), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn list(scope: WorkspaceScope, ApiQuery(q): ApiQuery<ListParams>) -> ApiResult<Json<Page<ContactView>>> {
    let page = PageParams { limit: q.limit, cursor: q.cursor };
    let (limit, cursor) = (page.limit()?, page.keyset_cursor("ct")?);
    let f = ContactFilter { tag: q.tag, flag: q.flag, q: q.q };
    let rows = contacts::list(&mut scope.read().await?, &f.filter()?, cursor, limit + 1).await?;
    Ok(Json(keyset_page(&rows, limit, |c| c.id.clone(), |c| ContactView::from(c))))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/contacts", tag = "contacts", params(("ws" = String, Path)),
    request_body = ContactRequest, security(("bearer" = [])),
    responses((status = 201, body = ContactView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(req): ApiJson<ContactRequest>,
) -> ApiResult<(StatusCode, Json<ContactView>)> {
    let contact = svc::create(&state, &scope, &req.into()).await?;
    Ok((StatusCode::CREATED, Json((&contact).into())))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/contacts/{id}", tag = "contacts",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ContactView), (status = 404, body = Problem)))]
pub async fn get(scope: WorkspaceScope, Path((_, id)): Path<(String, String)>) -> ApiResult<Json<ContactView>> {
    Ok(Json((&svc::get(&scope, &id).await?).into()))
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/contacts/{id}", tag = "contacts",
    params(("ws" = String, Path), ("id" = String, Path)), request_body = ContactRequest, security(("bearer" = [])),
    responses((status = 200, body = ContactView), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<ContactRequest>,
) -> ApiResult<Json<ContactView>> {
    Ok(Json((&svc::update(&state, &scope, &id, &req.into()).await?).into()))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/contacts/{id}", tag = "contacts",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    svc::delete(&state, &scope, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes every contact the filter selects. An empty filter must be confirmed with
/// `"all": true`, so a forgotten filter never empties a workspace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDeleteRequest {
    pub tag: Option<String>,
    /// `do_not_call`, `opted_out` or `callable`.
    pub flag: Option<String>,
    pub q: Option<String>,
    #[serde(default)]
    pub all: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkDeleted {
    pub deleted: u64,
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/contacts/bulk-delete", tag = "contacts",
    params(("ws" = String, Path)), request_body = BulkDeleteRequest, security(("bearer" = [])),
    responses((status = 200, body = BulkDeleted), (status = 422, body = Problem)))]
pub async fn bulk_delete(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(req): ApiJson<BulkDeleteRequest>,
) -> ApiResult<Json<BulkDeleted>> {
    let f = ContactFilter { tag: req.tag, flag: req.flag, q: req.q };
    let filter = f.filter()?;
    let empty =
        filter.tag.is_none() && filter.do_not_call.is_none() && filter.opted_out.is_none() && filter.q.is_none();
    if empty && !req.all {
        return Err(ApiError::invalid("all", "must be true to delete every contact (no filter was given)"));
    }
    Ok(Json(BulkDeleted { deleted: svc::delete_matching(&state, &scope, &filter).await? }))
}

/// Rows per page read while streaming an export.
const EXPORT_BATCH: i64 = 1000;
const EXPORT_HEADER: &str = "id,phone,name,email,timezone,tags,custom_fields,do_not_call,opted_out,created_at";

fn export_line(c: &Contact) -> String {
    let tags: Vec<String> = serde_json::from_str(&c.tags).unwrap_or_default();
    csv_line([
        c.id.clone(),
        c.phone.clone(),
        c.name.clone(),
        c.email.clone().unwrap_or_default(),
        c.timezone.clone().unwrap_or_default(),
        tags.join("; "),
        c.custom_fields.clone(),
        c.do_not_call.to_string(),
        c.opted_out.to_string(),
        rfc3339(c.created_at),
    ])
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/contacts/export", tag = "contacts",
    params(("ws" = String, Path), ContactFilter), security(("bearer" = [])),
    responses((status = 200, description = "text/csv, streamed; cells that a spreadsheet would run as formulas are prefixed with '"),
              (status = 404, body = Problem)))]
pub async fn export(
    WorkspaceScope(scope): WorkspaceScope,
    ApiQuery(q): ApiQuery<ContactFilter>,
) -> ApiResult<Response> {
    q.filter()?;
    Ok(csv_stream("contacts.csv", EXPORT_HEADER, move |cursor: Option<String>| {
        let (scope, q) = (scope.clone(), q.clone());
        async move {
            let rows = contacts::list(&mut scope.read().await?, &q.filter()?, cursor.as_deref(), EXPORT_BATCH).await?;
            let next = (rows.len() as i64 == EXPORT_BATCH).then(|| rows.last().map(|c| c.id.clone())).flatten();
            Ok((rows.iter().map(export_line).collect(), next))
        }
    }))
}
