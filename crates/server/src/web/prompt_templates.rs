//! Templates (P4) with a preview against a chosen contact, and post-call analysis
//! templates (P5), whose fields the form takes one per line.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use callplane_domain::template::VARIABLES;
use callplane_domain::Permission;
use callplane_store::product::contacts::{self, Filter};
use callplane_store::product::templates::{self, AnalysisTemplate, Template};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::templates::{AnalysisTemplateView, TemplateView};
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::templates::{self as svc, AnalysisField};
use crate::web::common::{outcome, page_context, render, Dash, WebForm};

async fn list_page(dash: &Dash, scope: &WorkspaceScope, status: StatusCode, extra: Value) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "templates", "Templates").await?;
    let mut conn = scope.read().await?;
    let list: Vec<Template> = templates::list(&mut conn, None, 200).await?;
    let analysis: Vec<AnalysisTemplate> = templates::list(&mut conn, None, 200).await?;
    drop(conn);
    ctx.insert("templates".into(), json!(list.iter().map(TemplateView::from).collect::<Vec<_>>()));
    ctx.insert("analysis".into(), json!(analysis.iter().map(AnalysisTemplateView::from).collect::<Vec<_>>()));
    ctx.insert("variables".into(), json!(VARIABLES));
    ctx.insert("can_create".into(), json!(scope.can(Permission::TemplatesCreate)));
    ctx.insert("can_delete".into(), json!(scope.can(Permission::TemplatesDelete)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "templates.html", ctx))
}

pub async fn list(dash: Dash, scope: WorkspaceScope) -> ApiResult<Response> {
    list_page(&dash, &scope, StatusCode::OK, json!({})).await
}

#[derive(Debug, Deserialize)]
pub struct TemplateForm {
    name: String,
    #[serde(default)]
    kind: Option<String>,
    body: String,
}

pub async fn create(dash: Dash, scope: WorkspaceScope, WebForm(f): WebForm<TemplateForm>) -> ApiResult<Response> {
    let kind = f.kind.as_deref().unwrap_or("prompt");
    let result = svc::create(&dash.state, &scope, &f.name, kind, &f.body).await;
    let (status, extra) = outcome(result.map(|t| json!({ "notice": format!("Template “{}” created.", t.name) })));
    // A refused form comes back filled in, so the user can mend it.
    let extra = match status {
        StatusCode::OK => extra,
        _ => json!({ "error": extra["error"], "form": { "name": f.name, "kind": kind, "body": f.body } }),
    };
    list_page(&dash, &scope, status, extra).await
}

#[derive(Debug, Default, Deserialize)]
pub struct PreviewQuery {
    contact_id: Option<String>,
    agent_id: Option<String>,
}

async fn edit_page(
    dash: &Dash,
    scope: &WorkspaceScope,
    id: &str,
    q: &PreviewQuery,
    status: StatusCode,
    extra: Value,
) -> ApiResult<Response> {
    let mut conn = scope.read().await?;
    let t: Template = templates::get(&mut conn, id).await?.ok_or_else(ApiError::not_found)?;
    let people = contacts::list(&mut conn, &Filter::default(), None, 100).await?;
    let agents = callplane_store::product::agents::list(&mut conn, None, 100).await?;
    drop(conn);
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "templates", &t.name).await?;
    let contact_id = q.contact_id.clone().filter(|c| !c.is_empty()).or_else(|| people.first().map(|c| c.id.clone()));
    let agent_id = q.agent_id.clone().filter(|a| !a.is_empty());
    if let Some(contact_id) = &contact_id {
        match svc::preview(scope, id, contact_id, agent_id.as_deref()).await {
            Ok(text) => ctx.insert("preview".into(), json!(text)),
            Err(e) => ctx.insert("preview_error".into(), json!(e.detail)),
        };
    }
    ctx.insert("template".into(), json!(TemplateView::from(&t)));
    ctx.insert(
        "contacts".into(),
        json!(people
            .iter()
            .map(|c| json!({ "id": c.id, "label": if c.name.is_empty() { c.phone.clone() } else { format!("{} · {}", c.name, c.phone) } }))
            .collect::<Vec<_>>()),
    );
    ctx.insert(
        "agents".into(),
        json!(agents.iter().map(|a| json!({ "id": a.id, "name": a.name })).collect::<Vec<_>>()),
    );
    ctx.insert("chosen".into(), json!({ "contact_id": contact_id, "agent_id": agent_id }));
    ctx.insert("variables".into(), json!(VARIABLES));
    ctx.insert("can_edit".into(), json!(scope.can(Permission::TemplatesEdit)));
    ctx.insert("can_delete".into(), json!(scope.can(Permission::TemplatesDelete)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "template.html", ctx))
}

pub async fn edit(
    dash: Dash,
    scope: WorkspaceScope,
    Path(id): Path<String>,
    Query(q): Query<PreviewQuery>,
) -> ApiResult<Response> {
    edit_page(&dash, &scope, &id, &q, StatusCode::OK, json!({})).await
}

pub async fn update(
    dash: Dash,
    scope: WorkspaceScope,
    Path(id): Path<String>,
    WebForm(f): WebForm<TemplateForm>,
) -> ApiResult<Response> {
    let result = svc::update(&dash.state, &scope, &id, Some(&f.name), Some(&f.body)).await;
    let (status, extra) = outcome(result.map(|_| json!({ "notice": "Template saved." })));
    edit_page(&dash, &scope, &id, &PreviewQuery::default(), status, extra).await
}

pub async fn delete(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    let result = svc::delete_template(&dash.state, &scope, &id).await;
    let (status, extra) = outcome(result.map(|()| json!({ "notice": "Template deleted." })));
    list_page(&dash, &scope, status, extra).await
}

#[derive(Debug, Deserialize)]
pub struct AnalysisForm {
    name: String,
    /// One field per line: `name | type | description | value, value`.
    fields: String,
}

/// Reads the form's field lines; a malformed line is refused naming its number.
fn parse_fields(text: &str) -> ApiResult<Vec<AnalysisField>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        if parts.len() < 2 || parts.len() > 4 {
            return Err(ApiError::invalid(
                "fields",
                format!("line {} must read `name | type | description | value, value`", i + 1),
            ));
        }
        let enum_values = parts
            .get(3)
            .map(|v| v.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        out.push(AnalysisField {
            name: parts[0].to_owned(),
            kind: parts[1].to_owned(),
            description: parts.get(2).copied().unwrap_or_default().to_owned(),
            enum_values,
        });
    }
    Ok(out)
}

pub async fn create_analysis(
    dash: Dash,
    scope: WorkspaceScope,
    WebForm(f): WebForm<AnalysisForm>,
) -> ApiResult<Response> {
    let result = match parse_fields(&f.fields) {
        Ok(fields) => svc::create_analysis(&dash.state, &scope, &f.name, &fields).await,
        Err(e) => Err(e),
    };
    let (status, extra) =
        outcome(result.map(|t| json!({ "notice": format!("Analysis template “{}” created.", t.name) })));
    let extra = match status {
        StatusCode::OK => extra,
        _ => json!({ "error": extra["error"], "analysis_form": { "name": f.name, "fields": f.fields } }),
    };
    list_page(&dash, &scope, status, extra).await
}

pub async fn delete_analysis(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    let result = svc::delete_analysis(&dash.state, &scope, &id).await;
    let (status, extra) = outcome(result.map(|()| json!({ "notice": "Analysis template deleted." })));
    list_page(&dash, &scope, status, extra).await
}
