//! Phone numbers (P2): the workspace's numbers with their agents, the provider's
//! inventory to buy from, release.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use callplane_domain::Permission;
use callplane_store::product::{agents, phone_numbers};
use callplane_telephony::Search;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::numbers::{OfferView, PhoneNumberView};
use crate::auth::WorkspaceScope;
use crate::error::ApiResult;
use crate::services::numbers as svc;
use crate::web::common::{outcome, page_context, render, Dash, WebForm};

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    country: Option<String>,
    contains: Option<String>,
}

async fn numbers_page(
    dash: &Dash,
    scope: &WorkspaceScope,
    q: &SearchQuery,
    status: StatusCode,
    extra: Value,
) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "numbers", "Phone numbers").await?;
    let mut conn = scope.read().await?;
    let numbers = phone_numbers::list(&mut conn, Some("active"), None, 200).await?;
    let agents = agents::list(&mut conn, None, 200).await?;
    drop(conn);
    let country = match q.country.clone().filter(|c| !c.is_empty()) {
        Some(c) => c,
        None => crate::services::agents::default_country(state, scope).await?,
    };
    let search =
        Search { country: Some(country.clone()), contains: q.contains.clone(), limit: 10, ..Search::default() };
    let offers = svc::available(state, &search).await?;
    ctx.insert("numbers".into(), json!(numbers.iter().map(PhoneNumberView::from).collect::<Vec<_>>()));
    ctx.insert(
        "agents".into(),
        json!(agents.iter().map(|a| json!({ "id": a.id, "name": a.name })).collect::<Vec<_>>()),
    );
    ctx.insert("offers".into(), json!(offers.iter().map(OfferView::from).collect::<Vec<_>>()));
    ctx.insert(
        "countries".into(),
        json!(state.provider.countries().iter().map(|c| json!({ "code": c.code, "name": c.name })).collect::<Vec<_>>()),
    );
    ctx.insert("search".into(), json!({ "country": country, "contains": q.contains }));
    ctx.insert("can_buy".into(), json!(scope.can(Permission::PhoneNumbersCreate)));
    ctx.insert("can_edit".into(), json!(scope.can(Permission::PhoneNumbersEdit)));
    ctx.insert("can_release".into(), json!(scope.can(Permission::PhoneNumbersDelete)));
    ctx.insert("can_call".into(), json!(scope.can(Permission::CallsCreate)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "numbers.html", ctx))
}

pub async fn page(dash: Dash, scope: WorkspaceScope, Query(q): Query<SearchQuery>) -> ApiResult<Response> {
    numbers_page(&dash, &scope, &q, StatusCode::OK, json!({})).await
}

#[derive(Debug, Deserialize)]
pub struct BuyForm {
    e164: String,
}

pub async fn buy(dash: Dash, scope: WorkspaceScope, WebForm(f): WebForm<BuyForm>) -> ApiResult<Response> {
    let result = svc::buy(&dash.state, &scope, &f.e164, None).await;
    let (status, extra) = outcome(result.map(|n| json!({ "notice": format!("Bought {}.", n.national) })));
    numbers_page(&dash, &scope, &SearchQuery::default(), status, extra).await
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    /// Empty: nobody answers.
    agent_id: String,
}

pub async fn assign(
    dash: Dash,
    scope: WorkspaceScope,
    Path(id): Path<String>,
    WebForm(f): WebForm<AssignForm>,
) -> ApiResult<Response> {
    let agent = Some(f.agent_id.trim()).filter(|a| !a.is_empty());
    let result = svc::assign(&dash.state, &scope, &id, agent).await;
    let (status, extra) = outcome(result.map(|n| json!({ "notice": format!("{} updated.", n.national) })));
    numbers_page(&dash, &scope, &SearchQuery::default(), status, extra).await
}

pub async fn release(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    let result = svc::release(&dash.state, &scope, &id).await;
    let (status, extra) = outcome(result.map(|()| json!({ "notice": "Number released." })));
    numbers_page(&dash, &scope, &SearchQuery::default(), status, extra).await
}
