//! Campaigns (P6) on the dashboard: the list with each campaign's progress, a form for a
//! new one, and the campaign page with live progress (it refreshes itself while the
//! campaign runs), pause / resume / cancel, the results and their CSV.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use callplane_domain::campaign::WEEKDAYS;
use callplane_domain::Permission;
use callplane_store::product::campaigns::{self as store, Campaign};
use callplane_store::product::{agents, phone_numbers, sip_trunks};
use serde_json::{json, Value};

use crate::api::views::rfc3339;
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::campaigns::{self as svc, window_of, Audience, Input, Progress, WindowInput};
use crate::web::common::{outcome, page_context, render, Dash, FormPairs};

/// How many results the campaign page shows (the CSV has them all).
const RESULT_ROWS: i64 = 100;

fn when(ms: i64) -> String {
    rfc3339(ms).get(..16).unwrap_or_default().replace('T', " ")
}

fn percent(p: &Progress) -> i64 {
    if p.total == 0 {
        return 0;
    }
    (p.total - p.remaining - p.in_progress) * 100 / p.total
}

fn campaign_json(c: &Campaign, p: &Progress) -> Value {
    let w = window_of(c);
    json!({ "id": c.id, "name": c.name, "status": c.status, "pause_reason": c.pause_reason,
            "audience": match (&c.audience_tag, &c.audience_q, c.audience_list) {
                (_, _, true) => "a list of contacts".to_owned(),
                (Some(t), None, _) => format!("tag “{t}”"),
                (None, Some(q), _) => format!("contacts matching “{q}”"),
                (Some(t), Some(q), _) => format!("tag “{t}” matching “{q}”"),
                _ => String::new(),
            },
            "window": format!("{} · {}–{} ({})", w.day_names().join(" "), w.start(), w.end(), c.timezone),
            "max_concurrency": c.max_concurrency, "calls_per_second": c.calls_per_second,
            "max_attempts": c.max_attempts, "retry_delay_min": c.retry_delay_secs / 60, "retry_on": c.retry_on,
            "created_at": when(c.created_at), "started_at": c.started_at.map(when),
            "finished_at": c.finished_at.map(when), "start_at": c.start_at.map(when),
            "progress": p, "percent": percent(p) })
}

async fn list_page(dash: &Dash, scope: &WorkspaceScope, status: StatusCode, extra: Value) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "campaigns", "Campaigns").await?;
    let mut conn = scope.read().await?;
    let list = store::list(&mut conn, None, None, 200).await?;
    let mut rows = Vec::new();
    for c in &list {
        let p = svc::progress(&mut conn, &c.id).await?;
        rows.push(campaign_json(c, &p));
    }
    let agent_list: Vec<Value> = agents::list(&mut conn, None, 500)
        .await?
        .into_iter()
        .filter(|a| a.status == "active")
        .map(|a| json!({ "id": a.id, "name": a.name }))
        .collect();
    let numbers: Vec<Value> = phone_numbers::list(&mut conn, Some("active"), None, 500)
        .await?
        .into_iter()
        .map(|n| json!({ "id": n.id, "national": n.national }))
        .collect();
    let trunks: Vec<Value> = sip_trunks::list(&mut conn)
        .await?
        .iter()
        .filter(|t| crate::services::sip_calls::has_outbound_gateway(t))
        .map(|t| json!({ "id": t.id, "name": t.name }))
        .collect();
    drop(conn);
    let country = crate::services::agents::default_country(state, scope).await?;
    ctx.insert("trunks".into(), json!(trunks));
    ctx.insert("campaigns".into(), json!(rows));
    ctx.insert("agents".into(), json!(agent_list));
    ctx.insert("numbers".into(), json!(numbers));
    ctx.insert("weekdays".into(), json!(WEEKDAYS));
    ctx.insert(
        "default_timezone".into(),
        json!(callplane_domain::contact::country_timezone(&country).unwrap_or("UTC")),
    );
    ctx.insert("can_create".into(), json!(scope.can(Permission::CampaignsCreate)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "campaigns.html", ctx))
}

pub async fn list(dash: Dash, scope: WorkspaceScope) -> ApiResult<Response> {
    list_page(&dash, &scope, StatusCode::OK, json!({})).await
}

/// The new-campaign form as the service's input.
fn form_input(f: &FormPairs) -> ApiResult<Input> {
    let num = |field: &str| -> ApiResult<Option<i64>> {
        match f.get(field).map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| ApiError::invalid(field, "must be a whole number")),
        }
    };
    let text = |field: &str| f.get(field).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    let start_at = match text("start_at") {
        None => None,
        Some(local) => {
            let tz = text("timezone").unwrap_or_else(|| "UTC".into());
            Some(callplane_domain::contact::local_to_utc_ms(&local, &tz))
                .map(|ms| ms.ok_or_else(|| ApiError::invalid("start_at", "must be a date and time")))
                .transpose()?
        }
    };
    Ok(Input {
        name: text("name"),
        agent_id: text("agent_id"),
        number_ids: Some(f.all("number_ids")),
        audience: Some(Audience { tag: text("tag"), q: text("q"), contact_ids: None }),
        timezone: text("timezone"),
        window: Some(WindowInput {
            days: f.all("days"),
            start: text("start").unwrap_or_default(),
            end: text("end").unwrap_or_default(),
        }),
        max_concurrency: num("max_concurrency")?,
        calls_per_second: num("calls_per_second")?,
        max_attempts: num("max_attempts")?,
        retry_delay_secs: num("retry_delay_min")?.map(|m| m * 60),
        retry_on: Some(f.all("retry_on")),
        start_at: start_at.map(Some),
        sip_trunk_id: Some(text("sip_trunk_id")),
    })
}

pub async fn create(dash: Dash, scope: WorkspaceScope, f: FormPairs) -> ApiResult<Response> {
    let result = async { svc::create(&dash.state, &scope, &form_input(&f)?).await }.await;
    match result {
        Ok(c) => Ok(Redirect::to(&format!("/campaigns/{}", c.id)).into_response()),
        Err(e) => {
            let (status, extra) = outcome(Err(e));
            list_page(&dash, &scope, status, extra).await
        }
    }
}

async fn detail_page(
    dash: &Dash,
    scope: &WorkspaceScope,
    id: &str,
    status: StatusCode,
    extra: Value,
) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let c = svc::get(scope, id).await?;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "campaigns", &c.name).await?;
    let mut conn = scope.read().await?;
    let progress = svc::progress(&mut conn, id).await?;
    let agent = agents::get(&mut conn, &c.agent_id).await?.map(|a| a.name).unwrap_or_default();
    let targets = store::targets(&mut conn, id, None, RESULT_ROWS).await?;
    let trunk = match &c.sip_trunk_id {
        Some(t) => Some(sip_trunks::get(&mut conn, t).await?.map_or_else(|| format!("{t} (deleted)"), |t| t.name)),
        None => None,
    };
    drop(conn);
    let rows: Vec<Value> = targets
        .iter()
        .map(|t| {
            json!({ "contact_id": t.contact_id, "name": t.name, "phone": t.phone, "state": t.state,
                    "attempts": t.attempts, "outcome": t.outcome, "detail": t.detail, "call_id": t.call_id,
                    "next_at": if t.state == "pending" { t.next_at.map(when) } else { None } })
        })
        .collect();
    ctx.insert("c".into(), campaign_json(&c, &progress));
    ctx.insert("agent".into(), json!(agent));
    ctx.insert("trunk".into(), json!(trunk));
    ctx.insert("results".into(), json!(rows));
    ctx.insert("more_results".into(), json!(progress.total > RESULT_ROWS));
    ctx.insert("live".into(), json!(matches!(c.status.as_str(), "running" | "scheduled")));
    ctx.insert("can_edit".into(), json!(scope.can(Permission::CampaignsEdit)));
    ctx.insert("can_delete".into(), json!(scope.can(Permission::CampaignsDelete) && c.status == "draft"));
    for action in ["start", "pause", "resume", "cancel"] {
        ctx.insert(format!("can_{action}"), json!(callplane_domain::campaign::allows(&c.status, action)));
    }
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "campaign.html", ctx))
}

pub async fn detail(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    detail_page(&dash, &scope, &id, StatusCode::OK, json!({})).await
}

/// Start, pause, resume or cancel; back to the campaign page.
pub async fn act(dash: Dash, scope: WorkspaceScope, Path((id, action)): Path<(String, String)>) -> ApiResult<Response> {
    if !matches!(action.as_str(), "start" | "pause" | "resume" | "cancel") {
        return Err(ApiError::not_found());
    }
    match svc::act(&dash.state, &scope, &id, &action).await {
        Ok(_) => Ok(Redirect::to(&format!("/campaigns/{id}")).into_response()),
        Err(e) => {
            let (status, extra) = outcome(Err(e));
            detail_page(&dash, &scope, &id, status, extra).await
        }
    }
}

pub async fn delete(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    svc::delete(&dash.state, &scope, &id).await?;
    Ok(Redirect::to("/campaigns").into_response())
}

/// The results as CSV (the API's export).
pub async fn export(scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    let ws = scope.workspace_id().to_owned();
    crate::api::campaigns::export(scope, Path((ws, id))).await
}
