//! Prompt and message templates (SPEC P4) and post-call analysis templates (P5).

use callplane_domain::id::{has_prefix, new_id};
use callplane_domain::template;
use callplane_store::access::Scope;
use callplane_store::product::agents::{self, Agent};
use callplane_store::product::contacts::{self, Contact};
use callplane_store::product::templates::{self, AnalysisTemplate, Template};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Code};
use crate::services::audit::Auditor;
use crate::state::AppState;

fn name(raw: &str) -> ApiResult<String> {
    let n = raw.trim();
    if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
        return Err(ApiError::invalid("name", "must be 1–100 characters"));
    }
    Ok(n.to_owned())
}

fn body(raw: &str) -> ApiResult<String> {
    if raw.chars().count() > 20_000 || raw.contains('\0') {
        return Err(ApiError::invalid("body", "must be at most 20,000 characters"));
    }
    template::check(raw).map_err(|e| ApiError::invalid("body", e))?;
    Ok(raw.to_owned())
}

pub async fn create(state: &AppState, scope: &Scope, n: &str, kind: &str, b: &str) -> ApiResult<Template> {
    let (n, b) = (name(n)?, body(b)?);
    if !matches!(kind, "prompt" | "message") {
        return Err(ApiError::invalid("kind", "must be prompt or message"));
    }
    let (now, id) = (state.now(), new_id("tpl"));
    let mut tx = scope.begin().await?;
    let t = templates::create_template(&mut tx, &id, &n, kind, &b, now).await?;
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "template.created", ("template", &id), None, Some(json!({ "name": n, "kind": kind })))
        .await?;
    tx.commit().await?;
    Ok(t)
}

pub async fn update(
    state: &AppState,
    scope: &Scope,
    id: &str,
    n: Option<&str>,
    b: Option<&str>,
) -> ApiResult<Template> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let current: Template = templates::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let n = n.map(name).transpose()?.unwrap_or(current.name.clone());
    let b = b.map(body).transpose()?.unwrap_or(current.body.clone());
    let t = templates::update_template(&mut tx, id, &n, &b, now).await?.ok_or_else(ApiError::not_found)?;
    Auditor::for_scope(scope, now)
        .record_product(
            &mut tx,
            "template.updated",
            ("template", id),
            Some(json!({ "name": current.name })),
            Some(json!({ "name": n })),
        )
        .await?;
    tx.commit().await?;
    Ok(t)
}

/// Renders a template against one of the workspace's contacts (and optionally agent).
pub async fn preview(scope: &Scope, id: &str, contact_id: &str, agent_id: Option<&str>) -> ApiResult<String> {
    let mut conn = scope.read().await?;
    let t: Template = templates::get(&mut conn, id).await?.ok_or_else(ApiError::not_found)?;
    let contact = match has_prefix(contact_id, "ct") {
        true => contacts::get(&mut conn, contact_id).await?,
        false => None,
    }
    .ok_or_else(|| ApiError::invalid("contact_id", "is not a contact of this workspace"))?;
    let agent = match agent_id {
        Some(a) if has_prefix(a, "agt") => Some(
            agents::get(&mut conn, a)
                .await?
                .ok_or_else(|| ApiError::invalid("agent_id", "is not an agent of this workspace"))?,
        ),
        Some(_) => return Err(ApiError::invalid("agent_id", "is not an agent of this workspace")),
        None => None,
    };
    Ok(render_for(&t.body, Some(&contact), agent.as_ref(), scope.workspace_name()))
}

/// Renders a template body against a contact, an agent and the workspace (P4): what a
/// preview shows and what an agent's first message says on a call.
pub fn render_for(body: &str, contact: Option<&Contact>, agent: Option<&Agent>, workspace_name: &str) -> String {
    let tags: Vec<String> = contact.map(|c| serde_json::from_str(&c.tags).unwrap_or_default()).unwrap_or_default();
    let custom: std::collections::BTreeMap<String, String> =
        contact.map(|c| serde_json::from_str(&c.custom_fields).unwrap_or_default()).unwrap_or_default();
    template::render(body, |var| match var {
        "contact.name" => contact.map(|c| c.name.clone()),
        "contact.phone" => contact.map(|c| c.phone.clone()),
        "contact.email" => contact.and_then(|c| c.email.clone()),
        "contact.timezone" => contact.and_then(|c| c.timezone.clone()),
        "contact.tags" => Some(tags.join(", ")),
        "agent.name" => agent.map(|a| a.name.clone()),
        "workspace.name" => Some(workspace_name.to_owned()),
        other => other.strip_prefix("contact.custom.").and_then(|k| custom.get(k).cloned()),
    })
}

/// One field a post-call analysis extracts (P5).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AnalysisField {
    /// snake_case, unique in the template.
    pub name: String,
    /// `text`, `number`, `boolean` or `enum`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub description: String,
    /// The allowed values of an `enum` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
}

fn check_fields(fields: &[AnalysisField]) -> ApiResult<String> {
    if fields.is_empty() || fields.len() > 50 {
        return Err(ApiError::invalid("fields", "must list 1–50 fields"));
    }
    for (i, f) in fields.iter().enumerate() {
        let ok_name = (1..=64).contains(&f.name.len())
            && f.name.starts_with(|c: char| c.is_ascii_lowercase())
            && f.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok_name {
            return Err(ApiError::invalid("fields", format!("field {} name “{}” must be snake_case", i + 1, f.name)));
        }
        if fields[..i].iter().any(|g| g.name == f.name) {
            return Err(ApiError::invalid("fields", format!("field “{}” appears twice", f.name)));
        }
        match f.kind.as_str() {
            "text" | "number" | "boolean" if f.enum_values.is_empty() => {}
            "enum" if !f.enum_values.is_empty() && f.enum_values.len() <= 50 => {}
            "enum" => return Err(ApiError::invalid("fields", format!("enum field “{}” needs 1–50 values", f.name))),
            "text" | "number" | "boolean" => {
                return Err(ApiError::invalid("fields", format!("only enum fields have values (“{}”)", f.name)))
            }
            _ => {
                return Err(ApiError::invalid(
                    "fields",
                    format!("field “{}” type must be text, number, boolean or enum", f.name),
                ))
            }
        }
        if f.description.chars().count() > 500 {
            return Err(ApiError::invalid("fields", format!("description of “{}” is over 500 characters", f.name)));
        }
    }
    Ok(serde_json::to_string(fields).expect("serialises"))
}

pub async fn create_analysis(
    state: &AppState,
    scope: &Scope,
    n: &str,
    fields: &[AnalysisField],
) -> ApiResult<AnalysisTemplate> {
    let (n, f) = (name(n)?, check_fields(fields)?);
    let (now, id) = (state.now(), new_id("atp"));
    let mut tx = scope.begin().await?;
    let t = templates::create_analysis(&mut tx, &id, &n, &f, now).await?;
    Auditor::for_scope(scope, now)
        .record_product(
            &mut tx,
            "analysis_template.created",
            ("analysis_template", &id),
            None,
            Some(json!({ "name": n })),
        )
        .await?;
    tx.commit().await?;
    Ok(t)
}

pub async fn update_analysis(
    state: &AppState,
    scope: &Scope,
    id: &str,
    n: Option<&str>,
    fields: Option<&[AnalysisField]>,
) -> ApiResult<AnalysisTemplate> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let current: AnalysisTemplate = templates::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let n = n.map(name).transpose()?.unwrap_or(current.name.clone());
    let f = fields.map(check_fields).transpose()?.unwrap_or(current.fields.clone());
    let t = templates::update_analysis(&mut tx, id, &n, &f, now).await?.ok_or_else(ApiError::not_found)?;
    Auditor::for_scope(scope, now)
        .record_product(
            &mut tx,
            "analysis_template.updated",
            ("analysis_template", id),
            None,
            Some(json!({ "name": n })),
        )
        .await?;
    tx.commit().await?;
    Ok(t)
}

pub async fn delete_template(state: &AppState, scope: &Scope, id: &str) -> ApiResult<()> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    if !templates::delete::<Template>(&mut tx, id).await? {
        return Err(ApiError::not_found());
    }
    Auditor::for_scope(scope, now).record_product(&mut tx, "template.deleted", ("template", id), None, None).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_analysis(state: &AppState, scope: &Scope, id: &str) -> ApiResult<()> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let users = templates::agents_using(&mut tx, id).await?;
    if users > 0 {
        return Err(ApiError::new(
            Code::TemplateInUse,
            format!("{users} agent(s) use this analysis template; change them first."),
        ));
    }
    if !templates::delete::<AnalysisTemplate>(&mut tx, id).await? {
        return Err(ApiError::not_found());
    }
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "analysis_template.deleted", ("analysis_template", id), None, None)
        .await?;
    tx.commit().await?;
    Ok(())
}
