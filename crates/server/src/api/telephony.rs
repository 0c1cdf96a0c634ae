//! Settings → Telephony Config (SPEC N1–N4): the catalog's providers and countries with
//! the workspace's provider and SIP/BYOC status, its network groups with their status
//! (searchable by country, group or prefix; rates only when the plan shows them), and
//! the outbound check of a destination.

use axum::extract::{Path, State};
use axum::Json;
use callplane_domain::telephony::NetworkGroup;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::numbers::Money;
use crate::api::views::Problem;
use crate::api::{ApiJson, ApiQuery};
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::telephony::{self as svc, Config, Route};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderView {
    pub id: String,
    pub name: String,
    /// `carrier` or `sip`.
    pub kind: String,
    /// The provider new workspaces start on.
    pub default: bool,
    /// SIP/BYOC's flat rate per minute, when the plan shows rates.
    pub flat_rate: Option<Money>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountryView {
    pub code: String,
    pub name: String,
    pub calling_code: String,
    /// Network groups of the selected provider in this country, and how many are on.
    pub groups: usize,
    pub enabled_groups: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TelephonyView {
    /// The catalog version in force.
    pub catalog_version: String,
    /// The provider outbound calls use.
    pub provider: String,
    /// SIP/BYOC's single status.
    pub sip_enabled: bool,
    /// Whether the account's plan shows per-minute rates (N4).
    pub rates_visible: bool,
    pub providers: Vec<ProviderView>,
    /// Countries with network groups of the selected provider.
    pub countries: Vec<CountryView>,
}

fn view(c: &Config) -> TelephonyView {
    let catalog = c.routes.catalog();
    let providers = catalog
        .providers
        .iter()
        .map(|p| ProviderView {
            id: p.id.clone(),
            name: p.name.clone(),
            kind: p.kind.as_str().into(),
            default: p.default,
            flat_rate: p.flat_rate.filter(|_| c.rates_visible).map(Money::inr),
        })
        .collect();
    let countries = catalog
        .countries
        .iter()
        .filter_map(|country| {
            let groups: Vec<&NetworkGroup> =
                catalog.groups.iter().filter(|g| g.provider == c.provider && g.country == country.code).collect();
            (!groups.is_empty()).then(|| CountryView {
                code: country.code.clone(),
                name: country.name.clone(),
                calling_code: country.calling_code.clone(),
                groups: groups.len(),
                enabled_groups: groups.iter().filter(|g| c.is_enabled(&g.id)).count(),
            })
        })
        .collect();
    TelephonyView {
        catalog_version: catalog.version(),
        provider: c.provider.clone(),
        sip_enabled: c.sip_enabled,
        rates_visible: c.rates_visible,
        providers,
        countries,
    }
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/telephony", tag = "telephony", params(("ws" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = TelephonyView), (status = 403, body = Problem)))]
pub async fn get(State(state): State<AppState>, scope: WorkspaceScope) -> ApiResult<Json<TelephonyView>> {
    Ok(Json(view(&svc::config(&state, &scope).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TelephonyUpdate {
    /// The provider outbound calls use (a provider id of the catalog).
    pub provider: Option<String>,
    /// SIP/BYOC's status.
    pub sip_enabled: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/telephony", tag = "telephony", params(("ws" = String, Path)),
    request_body = TelephonyUpdate, security(("bearer" = [])),
    responses((status = 200, body = TelephonyView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(req): ApiJson<TelephonyUpdate>,
) -> ApiResult<Json<TelephonyView>> {
    Ok(Json(view(&svc::update(&state, &scope, req.provider.as_deref(), req.sip_enabled).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    pub id: String,
    pub provider: String,
    pub country: String,
    pub country_name: String,
    pub name: String,
    pub enabled: bool,
    /// Per minute, when the plan shows rates (N4).
    pub inbound_rate: Option<Money>,
    pub outbound_rate: Option<Money>,
    /// How many prefixes the group has.
    pub prefix_count: usize,
    /// The group's prefixes that a digit search matched (empty without one).
    pub matching_prefixes: Vec<String>,
}

fn group_view(c: &Config, g: &NetworkGroup, digits: Option<&str>) -> GroupView {
    let catalog = c.routes.catalog();
    let matching_prefixes = match digits {
        Some(d) => {
            g.prefixes.iter().filter(|p| p.starts_with(d) || d.starts_with(p.as_str())).take(20).cloned().collect()
        }
        None => Vec::new(),
    };
    GroupView {
        id: g.id.clone(),
        provider: g.provider.clone(),
        country: g.country.clone(),
        country_name: catalog.country(&g.country).map_or_else(|| g.country.clone(), |c| c.name.clone()),
        name: g.name.clone(),
        enabled: c.is_enabled(&g.id),
        inbound_rate: c.rates_visible.then(|| Money::inr(g.inbound_rate)),
        outbound_rate: c.rates_visible.then(|| Money::inr(g.outbound_rate)),
        prefix_count: g.prefixes.len(),
        matching_prefixes,
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GroupParams {
    /// A provider id (default: the workspace's provider).
    pub provider: Option<String>,
    /// ISO country code.
    pub country: Option<String>,
    /// A country or group name, a group id, or prefix digits (`+9180`, `9180`).
    pub q: Option<String>,
}

/// The search the Telephony Config page runs: groups of a provider, by country, name
/// or prefix.
pub fn search_groups(c: &Config, p: &GroupParams) -> ApiResult<Vec<GroupView>> {
    let catalog = c.routes.catalog();
    let provider = p.provider.as_deref().unwrap_or(&c.provider);
    if catalog.provider(provider).is_none() {
        return Err(ApiError::invalid("provider", "is not a provider of the catalog"));
    }
    let q = p.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.len() > 60 || q.chars().any(char::is_control)) {
        return Err(ApiError::invalid("q", "is not a valid search"));
    }
    let digits = q
        .map(|q| q.strip_prefix('+').unwrap_or(q))
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit() || b == b' '))
        .map(|d| d.replace(' ', ""));
    let text = q.map(str::to_lowercase);
    let groups = catalog
        .groups
        .iter()
        .filter(|g| g.provider == provider)
        .filter(|g| p.country.as_deref().is_none_or(|country| g.country.eq_ignore_ascii_case(country)))
        .filter(|g| match (&digits, &text) {
            (Some(d), _) => g.prefixes.iter().any(|p| p.starts_with(d.as_str()) || d.starts_with(p.as_str())),
            (None, Some(t)) => {
                let country = catalog.country(&g.country).map(|c| c.name.to_lowercase()).unwrap_or_default();
                g.name.to_lowercase().contains(t.as_str())
                    || g.id.contains(t.as_str())
                    || country.contains(t.as_str())
                    || g.country.eq_ignore_ascii_case(t)
            }
            (None, None) => true,
        })
        .map(|g| group_view(c, g, digits.as_deref()))
        .collect();
    Ok(groups)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupList {
    pub data: Vec<GroupView>,
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/telephony/groups", tag = "telephony",
    params(("ws" = String, Path), GroupParams), security(("bearer" = [])),
    responses((status = 200, body = GroupList), (status = 422, body = Problem)))]
pub async fn groups(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiQuery(p): ApiQuery<GroupParams>,
) -> ApiResult<Json<GroupList>> {
    let c = svc::config(&state, &scope).await?;
    Ok(Json(GroupList { data: search_groups(&c, &p)? }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupUpdate {
    pub enabled: bool,
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/telephony/groups/{group}", tag = "telephony",
    params(("ws" = String, Path), ("group" = String, Path)), request_body = GroupUpdate, security(("bearer" = [])),
    responses((status = 200, body = GroupView), (status = 404, body = Problem)))]
pub async fn update_group(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, group)): Path<(String, String)>,
    ApiJson(req): ApiJson<GroupUpdate>,
) -> ApiResult<Json<GroupView>> {
    let g = svc::set_group(&state, &scope, &group, req.enabled).await?;
    let c = svc::config(&state, &scope).await?;
    Ok(Json(group_view(&c, &g, None)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RouteParams {
    /// The destination (E.164, or national in the workspace's country).
    pub to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RouteView {
    /// The destination in E.164.
    pub to: String,
    pub provider: String,
    /// The network group that prices the call (none on SIP/BYOC).
    pub network_group: Option<String>,
    pub network_group_name: Option<String>,
    pub country: Option<String>,
    /// Per minute, when the plan shows rates.
    pub outbound_rate: Option<Money>,
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/telephony/route", tag = "telephony",
    params(("ws" = String, Path), RouteParams), security(("bearer" = [])),
    responses((status = 200, body = RouteView), (status = 422, body = Problem,
        description = "`destination_not_enabled`: the destination's group is disabled, or no group covers it")))]
pub async fn route(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiQuery(p): ApiQuery<RouteParams>,
) -> ApiResult<Json<RouteView>> {
    let country = crate::services::agents::default_country(&state, &scope).await?;
    let to =
        callplane_domain::contact::parse_phone(&p.to, &country).map_err(|e| ApiError::invalid("to", e.message))?.e164;
    let c = svc::config(&state, &scope).await?;
    let view = match svc::route(&c, &to)? {
        Route::Group { group, country } => RouteView {
            to,
            provider: c.provider.clone(),
            network_group: Some(group.id.clone()),
            network_group_name: Some(group.name.clone()),
            country: Some(country),
            outbound_rate: c.rates_visible.then(|| Money::inr(group.outbound_rate)),
        },
        Route::Sip { flat_rate } => RouteView {
            to,
            provider: c.provider.clone(),
            network_group: None,
            network_group_name: None,
            country: None,
            outbound_rate: c.rates_visible.then(|| Money::inr(flat_rate)),
        },
    };
    Ok(Json(view))
}
