//! Contacts (P1, W9): the list with filters, adding and deleting, flags, and CSV import
//! (upload, a preview with column mapping, live progress, the error report).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use callplane_domain::Permission;
use callplane_store::product::contacts::{self, Filter};
use callplane_store::product::imports;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::contacts::ContactView;
use crate::api::imports::ImportView;
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::contacts::{self as svc, Input};
use crate::services::imports::{self as import_svc, FIELDS};
use crate::web::common::{form_pairs, outcome, page_context, query_string, render, Dash, WebForm};

const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    tag: Option<String>,
    flag: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
}

async fn list_page(
    dash: &Dash,
    scope: &WorkspaceScope,
    q: &ListQuery,
    status: StatusCode,
    extra: Value,
) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "contacts", "Contacts").await?;
    let nonempty = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let (do_not_call, opted_out) = match q.flag.as_deref() {
        Some("do_not_call") => (Some(true), None),
        Some("opted_out") => (None, Some(true)),
        Some("callable") => (Some(false), Some(false)),
        _ => (None, None),
    };
    let (tag, text) = (nonempty(&q.tag), nonempty(&q.q));
    let filter = Filter { tag: tag.as_deref(), do_not_call, opted_out, q: text.as_deref() };
    let cursor = q.cursor.as_deref().filter(|c| callplane_domain::id::has_prefix(c, "ct"));
    let rows = contacts::list(&mut scope.read().await?, &filter, cursor, PAGE + 1).await?;
    let more = rows.len() as i64 > PAGE;
    let views: Vec<ContactView> = rows.iter().take(PAGE as usize).map(ContactView::from).collect();
    let filters = query_string(&[("tag", &q.tag), ("flag", &q.flag), ("q", &q.q)]);
    let next = if more { views.last().map(|c| format!("?{filters}&cursor={}", c.id)) } else { None };
    ctx.insert("contacts".into(), json!(views));
    ctx.insert("filters".into(), json!({ "tag": tag, "flag": q.flag, "q": text }));
    ctx.insert("query".into(), json!(filters));
    ctx.insert("next".into(), json!(next));
    ctx.insert("can_create".into(), json!(scope.can(Permission::ContactsCreate)));
    ctx.insert("can_edit".into(), json!(scope.can(Permission::ContactsEdit)));
    ctx.insert("can_delete".into(), json!(scope.can(Permission::ContactsDelete)));
    ctx.insert("can_import".into(), json!(scope.can(Permission::ContactsImport)));
    ctx.insert("can_export".into(), json!(scope.can(Permission::ContactsExport)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "contacts.html", ctx))
}

pub async fn list(dash: Dash, scope: WorkspaceScope, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    list_page(&dash, &scope, &q, StatusCode::OK, json!({})).await
}

#[derive(Debug, Deserialize)]
pub struct ContactForm {
    phone: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    /// Comma-separated.
    #[serde(default)]
    tags: String,
}

pub async fn create(dash: Dash, scope: WorkspaceScope, WebForm(f): WebForm<ContactForm>) -> ApiResult<Response> {
    let input = Input {
        phone: Some(f.phone.clone()),
        name: Some(f.name.clone()),
        email: Some(f.email.clone()),
        tags: Some(f.tags.split(',').map(str::to_owned).collect()),
        ..Input::default()
    };
    let result = svc::create(&dash.state, &scope, &input).await;
    let failed = result.is_err();
    let (status, mut extra) = outcome(result.map(|c| json!({ "notice": format!("Added {}.", c.phone) })));
    if failed {
        extra["form"] = json!({ "phone": f.phone, "name": f.name, "email": f.email, "tags": f.tags });
    }
    list_page(&dash, &scope, &ListQuery::default(), status, extra).await
}

#[derive(Debug, Deserialize)]
pub struct FlagForm {
    flag: String,
    value: String,
}

pub async fn set_flag(
    dash: Dash,
    scope: WorkspaceScope,
    Path(id): Path<String>,
    WebForm(f): WebForm<FlagForm>,
) -> ApiResult<Response> {
    let on = f.value == "true";
    let input = match f.flag.as_str() {
        "do_not_call" => Input { do_not_call: Some(on), ..Input::default() },
        "opted_out" => Input { opted_out: Some(on), ..Input::default() },
        _ => return Err(ApiError::invalid("flag", "must be do_not_call or opted_out")),
    };
    let result = svc::update(&dash.state, &scope, &id, &input).await;
    let (status, extra) = outcome(result.map(|c| json!({ "notice": format!("Updated {}.", c.phone) })));
    list_page(&dash, &scope, &ListQuery::default(), status, extra).await
}

pub async fn delete(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    let result = svc::delete(&dash.state, &scope, &id).await;
    let (status, extra) = outcome(result.map(|()| json!({ "notice": "Contact deleted." })));
    list_page(&dash, &scope, &ListQuery::default(), status, extra).await
}

/// Contacts → Import: the upload form and recent imports.
pub async fn import_form(dash: Dash, scope: WorkspaceScope) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = &dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "contacts", "Import contacts").await?;
    let recent = imports::list(&mut scope.read().await?, 10).await?;
    ctx.insert("imports".into(), json!(recent.iter().map(ImportView::from).collect::<Vec<_>>()));
    Ok(render(state, StatusCode::OK, "contacts_import.html", ctx))
}

/// The upload (multipart): stored as an import waiting for its mapping.
pub async fn upload(Dash { state, .. }: Dash, scope: WorkspaceScope, mut form: Multipart) -> ApiResult<Response> {
    while let Some(field) = form.next_field().await.map_err(|e| ApiError::invalid("file", e.body_text()))? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().map(str::to_owned).unwrap_or_else(|| "contacts.csv".into());
        let stream = futures_util::stream::unfold(field, |mut f| async move {
            match f.chunk().await {
                Ok(Some(bytes)) => Some((Ok(bytes), f)),
                Ok(None) => None,
                Err(e) => Some((Err(e.body_text()), f)),
            }
        });
        let import =
            import_svc::upload(&state, &scope, &name, "update", &BTreeMap::new(), false, Box::pin(stream)).await?;
        return Ok(Redirect::to(&format!("/contacts/imports/{}", import.id)).into_response());
    }
    Err(ApiError::invalid("file", "choose a CSV file to upload"))
}

/// An import: its column mapping (while it waits for one), then its progress.
pub async fn import_page(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = &dash;
    let import = import_svc::get(&scope, &id).await?;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "contacts", "Import contacts").await?;
    if import.status == "uploaded" {
        let (header, rows) = import_svc::preview(&scope, &id, 5).await?;
        let columns: Vec<Value> = header
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let samples: Vec<&str> = rows.iter().filter_map(|r| r.get(i).map(String::as_str)).collect();
                json!({ "index": i, "name": name, "field": import_svc::default_field(name), "samples": samples })
            })
            .collect();
        ctx.insert("columns".into(), json!(columns));
        ctx.insert("fields".into(), json!(FIELDS));
    }
    let view = ImportView::from(&import);
    let percent = if import.rows_estimate > 0 { (import.rows_done * 100 / import.rows_estimate).min(100) } else { 100 };
    ctx.insert("import".into(), json!(view));
    ctx.insert("percent".into(), json!(percent));
    ctx.insert("running".into(), json!(matches!(import.status.as_str(), "queued" | "running")));
    Ok(render(state, StatusCode::OK, "contact_import.html", ctx))
}

/// Starts an uploaded import with the mapping chosen on its preview.
pub async fn start_import(
    dash: Dash,
    scope: WorkspaceScope,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let pairs = form_pairs(&body);
    let (header, _) = import_svc::preview(&scope, &id, 0).await?;
    let mut mapping = BTreeMap::new();
    for (i, name) in header.iter().enumerate() {
        if let Some((_, field)) = pairs.iter().find(|(k, _)| *k == format!("map.{i}")) {
            let field = if field == "custom" { format!("custom.{}", custom_key(name)) } else { field.clone() };
            mapping.insert(name.trim().to_owned(), field);
        }
    }
    let on_duplicate = pairs.iter().find(|(k, _)| k == "on_duplicate").map_or("update", |(_, v)| v.as_str()).to_owned();
    match import_svc::start(&dash.state, &scope, &id, &on_duplicate, &mapping).await {
        Ok(()) => Ok(Redirect::to(&format!("/contacts/imports/{id}")).into_response()),
        Err(e) => Err(e),
    }
}

/// A column name as a custom field key (`Plan Tier` → `plan_tier`).
fn custom_key(column: &str) -> String {
    let key: String =
        column.trim().to_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let key = key.trim_matches('_').to_owned();
    if key.starts_with(|c: char| c.is_ascii_lowercase()) {
        key
    } else {
        format!("f_{key}")
    }
}

/// The error report of an import, as CSV.
pub async fn import_errors(scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    crate::api::imports::errors(scope, Path((String::new(), id))).await
}
