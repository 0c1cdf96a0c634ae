//! The dashboard home and Workspaces → Management (W1–W7): switching, creating,
//! editing and deleting workspaces.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use callplane_domain::{Permission, Principal};
use callplane_store::access::permissions_for;
use callplane_store::product::{agents as agent_store, calls, phone_numbers};
use callplane_store::sessions::Session;
use callplane_store::{accounts, workspaces};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::views::rfc3339;
use crate::auth::scope::NO_WORKSPACE;
use crate::auth::{AccountCaller, SignedIn, WorkspaceScope};
use crate::error::{ApiError, ApiResult};
use crate::services::workspaces::{self as svc, CreateInput, UpdateInput};
use crate::state::AppState;
use crate::web::common::{nav, region_options, Dash, WebForm};

#[derive(Deserialize)]
pub struct DashboardQuery {
    /// The analytics period: the last 7, 30 or 90 days.
    days: Option<i64>,
}

pub async fn dashboard(
    dash: Dash,
    scope: WorkspaceScope,
    axum::extract::Query(q): axum::extract::Query<DashboardQuery>,
) -> ApiResult<Response> {
    let days = q.days.filter(|d| [7, 30, 90].contains(d)).unwrap_or(30);
    dashboard_page(dash, scope, StatusCode::OK, json!({ "days": days })).await
}

/// The analytics section (P9): figures for the period and server-drawn charts.
async fn analytics_section(state: &crate::state::AppState, scope: &WorkspaceScope, days: i64) -> ApiResult<Value> {
    use crate::services::analytics::{report, Period};
    use crate::web::charts;
    let r = report(scope, Period::last_days(state.now(), days)).await?;
    let daily: Vec<(String, i64, i64)> =
        r.days.iter().map(|d| (d.date.clone(), d.figures.calls, d.figures.answered)).collect();
    let outcomes: Vec<(String, i64)> = {
        let mut o: Vec<(String, i64)> = r.totals.outcomes.iter().map(|(k, v)| (k.clone(), *v)).collect();
        o.sort_by_key(|x| std::cmp::Reverse(x.1));
        o
    };
    let group = |g: &crate::services::analytics::Group| {
        json!({ "id": g.id, "name": g.name, "calls": g.figures.calls, "answered": g.figures.answered,
                "answer_rate": format!("{:.0}%", g.figures.answer_rate * 100.0),
                "average": format!("{:.0} s", g.figures.average_duration_secs),
                "cost": g.figures.cost.as_ref().map(|m| crate::web::common::rupees(m.amount)),
                "outcomes": g.figures.outcomes })
    };
    Ok(json!({
        "days": days,
        "from": r.from, "to": r.to,
        "calls": r.totals.calls,
        "answered": r.totals.answered,
        "answer_rate": format!("{:.0}%", r.totals.answer_rate * 100.0),
        "average": format!("{:.0} s", r.totals.average_duration_secs),
        "cost": r.totals.cost.as_ref().map(|m| crate::web::common::rupees(m.amount)),
        "daily_svg": charts::daily_calls(&daily),
        "outcomes_svg": charts::bars("chart-outcomes", &outcomes),
        "by_agent": r.by_agent.iter().map(group).collect::<Vec<_>>(),
        "by_campaign": r.by_campaign.iter().map(group).collect::<Vec<_>>(),
    }))
}

/// The workspace's home: the latest calls and a form to place a test call.
pub async fn dashboard_page(
    dash: Dash,
    scope: WorkspaceScope,
    status: StatusCode,
    extra: Value,
) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let (nav, _) = nav(&state, &p, &session).await?;
    let mut conn = state.db.conn().await?;
    let ws = workspaces::get(&mut conn, &scope).await?;
    drop(conn);
    let role = scope.role().unwrap_or("account admin");
    let mut ctx = json!({ "title": ws.name, "page": "dashboard", "nav": nav, "csrf": csrf.0,
                          "workspace": { "name": ws.name, "region": state.config.region_name(&ws.region) }, "role": role });
    if scope.can(Permission::CallsView) {
        let mut conn = scope.read().await?;
        let recent = calls::list(&mut conn, &calls::Filter::default(), None, 5).await?;
        let agents: Vec<_> =
            agent_store::list(&mut conn, None, 500).await?.into_iter().filter(|a| a.status == "active").collect();
        let numbers = phone_numbers::list(&mut conn, Some("active"), None, 500).await?;
        drop(conn);
        let names = crate::web::calls::agent_names(&scope).await?;
        ctx["recent"] = json!(recent.iter().map(|c| crate::web::calls::row(&scope, c, &names)).collect::<Vec<_>>());
        ctx["agents"] = json!(agents.iter().map(|a| json!({ "id": a.id, "name": a.name })).collect::<Vec<_>>());
        ctx["numbers"] = json!(numbers
            .iter()
            .map(|n| json!({ "id": n.id, "e164": n.e164, "national": n.national }))
            .collect::<Vec<_>>());
        ctx["can_call"] = json!(scope.can(Permission::CallsCreate));
    }
    if scope.can(Permission::AnalyticsView) {
        let days = extra.get("days").and_then(Value::as_i64).unwrap_or(30);
        ctx["analytics"] = analytics_section(&state, &scope, days).await?;
    }
    if let (Value::Object(ctx), Value::Object(extra)) = (&mut ctx, extra) {
        ctx.extend(extra);
    }
    Ok(state.templates.render(status, "dashboard.html", ctx))
}

#[derive(Deserialize)]
pub struct SwitchForm {
    workspace_id: String,
}

pub async fn switch(
    State(state): State<AppState>,
    SignedIn(p, _): SignedIn,
    WebForm(f): WebForm<SwitchForm>,
) -> ApiResult<Redirect> {
    svc::switch(&state, &p, &f.workspace_id).await?;
    Ok(Redirect::to("/dashboard"))
}

#[derive(Deserialize, Default)]
pub struct Done {
    done: Option<String>,
}

/// Workspaces → Management: every workspace the user reaches, with what they may do.
async fn workspaces_page(
    state: &AppState,
    p: &Principal,
    session: &Session,
    csrf: &str,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
) -> ApiResult<Response> {
    let (nav, active) = nav(state, p, session).await?;
    let mut conn = state.db.conn().await?;
    let list = workspaces::accessible(&mut conn, p.user_id(), None).await?;
    let rows: Vec<Value> = list
        .iter()
        .map(|w| {
            let perms = permissions_for(w.role.as_deref(), w.role_permissions.as_deref(), w.account_role.as_deref())
                .unwrap_or_default();
            json!({
                "id": w.id, "name": w.name, "status": w.status, "region": state.config.region_name(&w.region),
                "role": w.role.clone().unwrap_or_else(|| "account admin".into()),
                "created": rfc3339(w.created_at).get(..10).unwrap_or_default(),
                "can_edit": perms.contains(Permission::WorkspacesEdit),
                "can_delete": perms.contains(Permission::WorkspacesDelete),
            })
        })
        .collect();
    // Creation happens in the active workspace's account (or the user's first one).
    let mine = accounts::for_user(&mut conn, p.user_id()).await?;
    let account = active
        .as_ref()
        .and_then(|s| mine.iter().find(|a| a.id == s.account_id()))
        .or_else(|| mine.iter().find(|a| a.role == "admin"))
        .or(mine.first());
    let can_create = account.is_some_and(|a| a.role == "admin");
    let (limit, used) = match account {
        Some(a) => (state.config.plans.max_workspaces(&a.plan), workspaces::count_for_account(&mut conn, &a.id).await?),
        None => (None, 0),
    };
    Ok(state.templates.render(
        status,
        "workspaces.html",
        json!({
            "title": "Workspaces", "page": "workspaces", "nav": nav, "csrf": csrf,
            "workspaces": rows, "regions": region_options(state), "can_create": can_create,
            "limit": limit, "used": used, "notice": notice, "error": error,
            "no_workspace_message": NO_WORKSPACE,
        }),
    ))
}

pub async fn workspaces(Dash { state, csrf, p, session }: Dash, Query(done): Query<Done>) -> ApiResult<Response> {
    let notice = match done.done.as_deref() {
        Some("created") => Some("Workspace created. You are now working in it."),
        Some("updated") => Some("Workspace updated."),
        Some("deleted") => Some("Workspace deleted."),
        _ => None,
    };
    workspaces_page(&state, &p, &session, &csrf.0, StatusCode::OK, notice, None).await
}

/// Answers a failed form with the management page and the reason shown plainly.
async fn refused(state: &AppState, p: &Principal, session: &Session, csrf: &str, e: ApiError) -> ApiResult<Response> {
    workspaces_page(state, p, session, csrf, e.status(), None, Some(e.detail)).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    name: String,
    status: Option<String>,
    region: Option<String>,
}

pub async fn create_workspace(
    Dash { state, csrf, p, session }: Dash,
    caller: AccountCaller,
    WebForm(f): WebForm<CreateForm>,
) -> ApiResult<Response> {
    let result = async {
        let account = caller.authorize(&state, None).await?;
        let input = CreateInput { name: &f.name, region: f.region.as_deref(), status: f.status.as_deref() };
        let ws = svc::create(&state, &p, &account, input).await?;
        // W1: the creator is switched to the new workspace (when it is active).
        if ws.status == "active" {
            svc::switch(&state, &p, &ws.id).await?;
        }
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to("/workspaces?done=created").into_response()),
        Err(e) => refused(&state, &p, &session, &csrf.0, e).await,
    }
}

#[derive(Deserialize)]
pub struct EditForm {
    name: Option<String>,
    status: Option<String>,
}

pub async fn edit_workspace(
    Dash { state, csrf, p, session }: Dash,
    scope: WorkspaceScope,
    WebForm(f): WebForm<EditForm>,
) -> ApiResult<Response> {
    let input = UpdateInput { name: f.name.as_deref(), status: f.status.as_deref(), region: None };
    match svc::update(&state, &scope, input).await {
        Ok(_) => Ok(Redirect::to("/workspaces?done=updated").into_response()),
        Err(e) => refused(&state, &p, &session, &csrf.0, e).await,
    }
}

#[derive(Deserialize)]
pub struct DeleteForm {
    confirm_name: String,
}

pub async fn delete_workspace(
    Dash { state, csrf, p, session }: Dash,
    scope: WorkspaceScope,
    WebForm(f): WebForm<DeleteForm>,
) -> ApiResult<Response> {
    match svc::delete(&state, &scope, &f.confirm_name).await {
        Ok(()) => Ok(Redirect::to("/workspaces?done=deleted").into_response()),
        Err(e) => refused(&state, &p, &session, &csrf.0, e).await,
    }
}
