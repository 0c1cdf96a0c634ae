//! Calls (SPEC P7): the history with its filters and keyset pages, a call's page (its
//! timeline, transcript, recording and analysis; it refreshes itself while the call is
//! in flight), placing a test call from the dashboard, simulating an inbound call to a
//! number, cancelling.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use callplane_domain::Permission;
use callplane_store::product::calls::{self, Call};
use callplane_store::product::{agents, phone_numbers};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::calls::{CallView, ListParams};
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::calls::{self as svc, PlaceInput};
use crate::web::common::{page_context, query_string, render, rupees, Dash, WebForm};

const PAGE: i64 = 50;

/// The history's filters as the page's form sends them (dates as `YYYY-MM-DD`, UTC).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct HistoryQuery {
    status: Option<String>,
    direction: Option<String>,
    agent_id: Option<String>,
    phone_number_id: Option<String>,
    from_date: Option<String>,
    to_date: Option<String>,
    cursor: Option<String>,
}

impl HistoryQuery {
    fn some(v: &Option<String>) -> Option<String> {
        v.clone().filter(|v| !v.is_empty())
    }

    /// The API's list parameters: a date range covers whole UTC days.
    fn params(&self) -> ApiResult<ListParams> {
        let day = |field: &str, v: &Option<String>, end: bool| -> ApiResult<Option<String>> {
            let Some(d) = Self::some(v) else { return Ok(None) };
            let iso = time::format_description::well_known::Iso8601::DATE;
            let date =
                time::Date::parse(&d, &iso).map_err(|_| ApiError::invalid(field, "must be a date, YYYY-MM-DD"))?;
            let date = if end { date.next_day().unwrap_or(date) } else { date };
            Ok(Some(format!("{date}T00:00:00Z")))
        };
        Ok(ListParams {
            status: Self::some(&self.status),
            direction: Self::some(&self.direction),
            agent_id: Self::some(&self.agent_id),
            phone_number_id: Self::some(&self.phone_number_id),
            campaign_id: None,
            from: day("from_date", &self.from_date, false)?,
            to: day("to_date", &self.to_date, true)?,
            limit: None,
            cursor: Self::some(&self.cursor),
        })
    }
}

/// A call as the pages show it.
pub fn row(scope: &WorkspaceScope, c: &Call, agent_names: &[(String, String)]) -> Value {
    let money = scope.can(Permission::BillingView);
    let agent = c.agent_id.as_ref().and_then(|id| agent_names.iter().find(|(a, _)| a == id)).map(|(_, n)| n.clone());
    json!({
        "id": c.id, "direction": c.direction, "status": c.status, "from": c.from_e164, "to": c.to_e164,
        "agent": agent, "duration": format!("{}:{:02}", c.duration_secs / 60, c.duration_secs % 60),
        "cost": money.then(|| rupees(c.cost)), "rate": money.then(|| rupees(c.rate)),
        "end_reason": c.end_reason, "error": c.error, "network_group": c.network_group,
        "created_at": crate::api::views::rfc3339(c.created_at), "ended": c.has_ended(),
    })
}

pub async fn agent_names(scope: &WorkspaceScope) -> ApiResult<Vec<(String, String)>> {
    let list = agents::list(&mut scope.read().await?, None, 500).await?;
    Ok(list.into_iter().map(|a| (a.id, a.name)).collect())
}

pub async fn history(dash: Dash, scope: WorkspaceScope, Query(q): Query<HistoryQuery>) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(&state, &p, &session, &csrf.0, "calls", "Calls").await?;
    let params = q.params()?;
    let filter = params.filter()?;
    let mut conn = scope.read().await?;
    let rows = calls::list(&mut conn, &filter, params.cursor.as_deref(), PAGE + 1).await?;
    let numbers = phone_numbers::list(&mut conn, None, None, 500).await?;
    drop(conn);
    let names = agent_names(&scope).await?;
    let shown = &rows[..rows.len().min(PAGE as usize)];
    let next = (rows.len() as i64 > PAGE).then(|| shown.last().map(|c| c.id.clone())).flatten();
    let keep = |cursor: &Option<String>| {
        query_string(&[
            ("status", &q.status),
            ("direction", &q.direction),
            ("agent_id", &q.agent_id),
            ("phone_number_id", &q.phone_number_id),
            ("from_date", &q.from_date),
            ("to_date", &q.to_date),
            ("cursor", cursor),
        ])
    };
    let export = query_string(&[
        ("status", &params.status),
        ("direction", &params.direction),
        ("agent_id", &params.agent_id),
        ("phone_number_id", &params.phone_number_id),
        ("from", &params.from),
        ("to", &params.to),
    ]);
    ctx.insert("calls".into(), json!(shown.iter().map(|c| row(&scope, c, &names)).collect::<Vec<_>>()));
    ctx.insert("agents".into(), json!(names.iter().map(|(id, n)| json!({ "id": id, "name": n })).collect::<Vec<_>>()));
    ctx.insert(
        "numbers".into(),
        json!(numbers.iter().map(|n| json!({ "id": n.id, "e164": n.e164 })).collect::<Vec<_>>()),
    );
    ctx.insert(
        "q".into(),
        json!({ "status": q.status, "direction": q.direction, "agent_id": q.agent_id,
                "phone_number_id": q.phone_number_id, "from_date": q.from_date, "to_date": q.to_date }),
    );
    ctx.insert("next".into(), json!(next.map(|n| keep(&Some(n)))));
    ctx.insert("export".into(), json!(export));
    ctx.insert("can_export".into(), json!(scope.can(Permission::CallsExport)));
    ctx.insert("money".into(), json!(scope.can(Permission::BillingView)));
    Ok(render(&state, StatusCode::OK, "calls.html", ctx))
}

pub async fn detail(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let mut conn = scope.read().await?;
    let call = calls::get(&mut conn, &id).await?.ok_or_else(ApiError::not_found)?;
    let timeline = calls::timeline(&mut conn, &id).await?;
    let artifacts = calls::artifacts(&mut conn, &id).await?;
    drop(conn);
    let (mut ctx, _) = page_context(&state, &p, &session, &csrf.0, "calls", "Call").await?;
    let view = CallView::detailed(&scope, &call, &timeline, artifacts.as_ref());
    let names = agent_names(&scope).await?;
    ctx.insert("call".into(), row(&scope, &call, &names));
    ctx.insert("timeline".into(), json!(view.timeline));
    ctx.insert(
        "transcript".into(),
        json!(view.transcript.as_ref().map(|turns| turns
            .iter()
            .map(|t| json!({ "speaker": t.speaker, "text": t.text,
                             "at": format!("{}:{:02}", t.start_ms / 60_000, t.start_ms / 1000 % 60) }))
            .collect::<Vec<_>>())),
    );
    let analysis: Vec<Value> = match &view.analysis {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| json!({ "name": k, "value": v.as_str().map_or_else(|| v.to_string(), str::to_owned) }))
            .collect(),
        _ => Vec::new(),
    };
    ctx.insert("analysis".into(), json!(analysis));
    ctx.insert("outcome".into(), json!(view.outcome));
    ctx.insert("recording".into(), json!(view.recording_url.is_some()));
    ctx.insert("sip".into(), json!(view.sip));
    ctx.insert("can_cancel".into(), json!(!call.has_ended() && scope.can(Permission::CallsCreate)));
    Ok(render(&state, StatusCode::OK, "call.html", ctx))
}

pub async fn recording(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    crate::api::calls::recording_response(&dash.state, &scope, &id).await
}

#[derive(Debug, Deserialize)]
pub struct PlaceForm {
    agent_id: String,
    #[serde(default)]
    from_number_id: String,
    to: String,
    /// A test call through a SIP trunk (from Settings → Telephony → SIP/BYOC).
    #[serde(default)]
    sip_trunk_id: String,
}

/// Places a test call from the dashboard and opens its page; a refusal is shown on the
/// dashboard with its reason.
pub async fn place(dash: Dash, scope: WorkspaceScope, WebForm(f): WebForm<PlaceForm>) -> ApiResult<Response> {
    let input = PlaceInput {
        agent_id: f.agent_id,
        from_number_id: Some(f.from_number_id).filter(|n| !n.is_empty()),
        to: Some(f.to),
        sip_trunk_id: Some(f.sip_trunk_id).filter(|t| !t.is_empty()),
        ..PlaceInput::default()
    };
    match svc::place(&dash.state, &scope, &input).await {
        Ok((call, _)) => Ok(Redirect::to(&format!("/calls/{}", call.id)).into_response()),
        Err(e) => crate::web::workspaces::dashboard_page(dash, scope, e.status(), json!({ "error": e.detail })).await,
    }
}

pub async fn cancel(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    svc::cancel(&dash.state, &scope, &id).await?;
    Ok(Redirect::to(&format!("/calls/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct InboundForm {
    from: String,
}

/// Rings one of the workspace's numbers from `from` through the simulated carrier.
pub async fn simulate_inbound(
    dash: Dash,
    scope: WorkspaceScope,
    Path(id): Path<String>,
    WebForm(f): WebForm<InboundForm>,
) -> ApiResult<Response> {
    let number = phone_numbers::get(&mut scope.read().await?, &id).await?.ok_or_else(ApiError::not_found)?;
    let call = svc::receive(&dash.state, &f.from, &number.e164).await?;
    Ok(Redirect::to(&format!("/calls/{}", call.id)).into_response())
}
