//! Settings → Telephony Config (SPEC N2, N4): the provider selector, the countries of
//! the selected provider, a search by country, network group or prefix, each group's
//! status toggle, rates when the plan shows them, and SIP/BYOC's flat-rate row with its
//! single toggle.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use callplane_domain::telephony::ProviderKind;
use callplane_domain::Permission;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::telephony::{search_groups, GroupParams};
use crate::auth::WorkspaceScope;
use crate::error::ApiResult;
use crate::services::telephony as svc;
use crate::web::common::{outcome, page_context, render, Dash, WebForm};

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// The provider shown (default: the workspace's).
    pub provider: Option<String>,
    pub country: Option<String>,
    pub q: Option<String>,
}

async fn page(
    dash: &Dash,
    scope: &WorkspaceScope,
    q: PageQuery,
    status: StatusCode,
    extra: Value,
) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "telephony", "Telephony Config").await?;
    let c = svc::config(state, scope).await?;
    let catalog = c.routes.catalog();
    let shown = q.provider.filter(|id| catalog.provider(id).is_some()).unwrap_or_else(|| c.provider.clone());
    let provider = catalog.provider(&shown).expect("checked above");
    let country = q.country.filter(|s| !s.is_empty());
    let search = q.q.filter(|s| !s.trim().is_empty());
    let groups = if provider.kind == ProviderKind::Sip {
        Vec::new()
    } else {
        let params = GroupParams { provider: Some(shown.clone()), country: country.clone(), q: search.clone() };
        match search_groups(&c, &params) {
            Ok(g) => g,
            Err(e) => {
                ctx.insert("error".into(), json!(e.detail));
                Vec::new()
            }
        }
    };
    let countries: Vec<Value> = catalog
        .countries
        .iter()
        .filter(|k| catalog.groups.iter().any(|g| g.provider == shown && g.country == k.code))
        .map(|k| json!({ "code": k.code, "name": k.name }))
        .collect();
    ctx.insert(
        "providers".into(),
        json!(catalog.providers.iter().map(|p| json!({ "id": p.id, "name": p.name })).collect::<Vec<_>>()),
    );
    ctx.insert(
        "shown".into(),
        json!({ "id": provider.id, "name": provider.name, "sip": provider.kind == ProviderKind::Sip,
                                       "flat_rate": provider.flat_rate }),
    );
    ctx.insert("in_use".into(), json!(c.provider));
    ctx.insert("sip_enabled".into(), json!(c.sip_enabled));
    ctx.insert("rates_visible".into(), json!(c.rates_visible));
    ctx.insert("countries".into(), json!(countries));
    ctx.insert("groups".into(), serde_json::to_value(&groups).unwrap_or_default());
    ctx.insert("filter".into(), json!({ "country": country, "q": search }));
    ctx.insert("catalog_version".into(), json!(catalog.version()));
    ctx.insert("can_edit".into(), json!(scope.can(Permission::TelephonyEdit)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "telephony.html", ctx))
}

pub async fn show(dash: Dash, scope: WorkspaceScope, Query(q): Query<PageQuery>) -> ApiResult<Response> {
    page(&dash, &scope, q, StatusCode::OK, json!({})).await
}

#[derive(Debug, Deserialize)]
pub struct ProviderForm {
    pub provider: String,
    #[serde(default)]
    pub sip_enabled: Option<String>,
    /// Present when the form sets SIP/BYOC's status (its checkbox is absent when off).
    #[serde(default)]
    pub sip_form: Option<String>,
}

/// Uses a provider for outbound calls, or sets SIP/BYOC's status.
pub async fn save(dash: Dash, scope: WorkspaceScope, WebForm(f): WebForm<ProviderForm>) -> ApiResult<Response> {
    let sip = f.sip_form.map(|_| f.sip_enabled.is_some());
    let result = svc::update(&dash.state, &scope, Some(&f.provider), sip)
        .await
        .map(|_| json!({ "notice": "Telephony settings saved." }));
    let (status, extra) = outcome(result);
    let q = PageQuery { provider: Some(f.provider), ..PageQuery::default() };
    page(&dash, &scope, q, status, extra).await
}

#[derive(Debug, Deserialize)]
pub struct GroupForm {
    #[serde(default)]
    pub enabled: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
}

/// Turns one network group on or off, then shows the same search again.
pub async fn toggle(
    dash: Dash,
    scope: WorkspaceScope,
    Path(group): Path<String>,
    WebForm(f): WebForm<GroupForm>,
) -> ApiResult<Response> {
    let enabled = f.enabled.is_some();
    let result = svc::set_group(&dash.state, &scope, &group, enabled)
        .await
        .map(|g| json!({ "notice": format!("{} {}.", g.name, if enabled { "enabled" } else { "disabled" }) }));
    let provider = svc::routes(&dash.state).catalog().group(&group).map(|g| g.provider.clone());
    let (status, extra) = outcome(result);
    page(&dash, &scope, PageQuery { provider, country: f.country, q: f.q }, status, extra).await
}
