//! Phone numbers (SPEC P2, I4): the provider's inventory, purchases, assignment to an
//! agent, release and transfer.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use callplane_store::product::phone_numbers::{self, PhoneNumber};
use callplane_telephony::{Offer, Search};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::views::{rfc3339, Page, Problem};
use crate::api::{keyset_page, ApiJson, ApiQuery, PageParams};
use crate::auth::scope::resolve;
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::numbers as svc;
use crate::state::AppState;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Money {
    /// Minor units (paise).
    pub amount: i64,
    pub currency: String,
}

impl Money {
    /// An amount of paise (wallet, rates and call prices are in INR).
    pub fn inr(amount: i64) -> Money {
        Money { amount, currency: "INR".into() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferView {
    pub e164: String,
    pub national: String,
    pub country: String,
    pub locality: String,
    pub monthly_price: Money,
}

impl From<&Offer> for OfferView {
    fn from(o: &Offer) -> Self {
        Self {
            e164: o.e164.clone(),
            national: o.national.clone(),
            country: o.country.to_owned(),
            locality: o.locality.to_owned(),
            monthly_price: Money { amount: o.monthly_price, currency: o.currency.to_owned() },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneNumberView {
    pub id: String,
    pub e164: String,
    pub national: String,
    pub country: String,
    pub locality: String,
    pub provider: String,
    /// `active`, `released` or `transferred` (history kept here).
    pub status: String,
    /// The agent answering inbound calls.
    pub agent_id: Option<String>,
    pub transferred_to: Option<String>,
    pub monthly_price: Money,
    pub created_at: String,
    pub ended_at: Option<String>,
}

impl From<&PhoneNumber> for PhoneNumberView {
    fn from(n: &PhoneNumber) -> Self {
        Self {
            id: n.id.clone(),
            e164: n.e164.clone(),
            national: n.national.clone(),
            country: n.country.clone(),
            locality: n.locality.clone(),
            provider: n.provider.clone(),
            status: n.status.clone(),
            agent_id: n.agent_id.clone(),
            transferred_to: n.transferred_to.clone(),
            monthly_price: Money { amount: n.monthly_price, currency: n.currency.clone() },
            created_at: rfc3339(n.created_at),
            ended_at: n.ended_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AvailableParams {
    /// ISO country (`IN`, `US`, `GB`, ...).
    pub country: Option<String>,
    /// Digits the number starts with (`+9180`).
    pub prefix: Option<String>,
    /// Digits anywhere in the number.
    pub contains: Option<String>,
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/phone-numbers/available", tag = "phone-numbers",
    params(("ws" = String, Path), AvailableParams), security(("bearer" = [])),
    responses((status = 200, body = Page<OfferView>)))]
pub async fn available(
    State(state): State<AppState>,
    _scope: WorkspaceScope,
    ApiQuery(q): ApiQuery<AvailableParams>,
) -> ApiResult<Json<Page<OfferView>>> {
    let limit = PageParams { limit: q.limit, cursor: None }.limit()? as usize;
    for (field, v) in [("country", &q.country), ("prefix", &q.prefix), ("contains", &q.contains)] {
        if v.as_deref().is_some_and(|s| s.len() > 20 || s.chars().any(char::is_control)) {
            return Err(ApiError::invalid(field, "is not a valid filter"));
        }
    }
    let search = Search { country: q.country, prefix: q.prefix, contains: q.contains, limit };
    let offers = svc::available(&state, &search).await?;
    Ok(Json(Page { data: offers.iter().map(OfferView::from).collect(), next_cursor: None }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `active` (default), `released`, `transferred` or `all`.
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/phone-numbers", tag = "phone-numbers",
    params(("ws" = String, Path), ListParams), security(("bearer" = [])),
    responses((status = 200, body = Page<PhoneNumberView>)))]
pub async fn list(scope: WorkspaceScope, ApiQuery(q): ApiQuery<ListParams>) -> ApiResult<Json<Page<PhoneNumberView>>> {
    let page = PageParams { limit: q.limit, cursor: q.cursor };
    let (limit, cursor) = (page.limit()?, page.keyset_cursor("num")?);
    let status = match q.status.as_deref() {
        None | Some("active") => Some("active"),
        Some("all") => None,
        Some(s @ ("released" | "transferred")) => Some(s),
        Some(_) => return Err(ApiError::invalid("status", "must be active, released, transferred or all")),
    };
    let rows = phone_numbers::list(&mut scope.read().await?, status, cursor, limit + 1).await?;
    Ok(Json(keyset_page(&rows, limit, |n| n.id.clone(), |n| PhoneNumberView::from(n))))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuyRequest {
    /// A number from `/phone-numbers/available`.
    pub e164: String,
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/phone-numbers", tag = "phone-numbers", params(("ws" = String, Path)),
    request_body = BuyRequest, security(("bearer" = [])),
    responses((status = 201, body = PhoneNumberView, description = "Repeating with the same Idempotency-Key header answers the same number"),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn buy(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    headers: HeaderMap,
    ApiJson(req): ApiJson<BuyRequest>,
) -> ApiResult<(StatusCode, Json<PhoneNumberView>)> {
    let key = crate::api::idempotency_key(&headers)?;
    let n = svc::buy(&state, &scope, &req.e164, key).await?;
    Ok((StatusCode::CREATED, Json((&n).into())))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/phone-numbers/{id}", tag = "phone-numbers",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = PhoneNumberView), (status = 404, body = Problem)))]
pub async fn get(scope: WorkspaceScope, Path((_, id)): Path<(String, String)>) -> ApiResult<Json<PhoneNumberView>> {
    Ok(Json((&svc::get(&scope, &id).await?).into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The agent answering inbound calls; `null` for none.
    pub agent_id: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/phone-numbers/{id}", tag = "phone-numbers",
    params(("ws" = String, Path), ("id" = String, Path)), request_body = AssignRequest, security(("bearer" = [])),
    responses((status = 200, body = PhoneNumberView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn assign(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> ApiResult<Json<PhoneNumberView>> {
    Ok(Json((&svc::assign(&state, &scope, &id, req.agent_id.as_deref()).await?).into()))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/phone-numbers/{id}", tag = "phone-numbers",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204, description = "Released back to the provider"), (status = 404, body = Problem)))]
pub async fn release(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    svc::release(&state, &scope, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub to_workspace_id: String,
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/phone-numbers/{id}/transfer", tag = "phone-numbers",
    params(("ws" = String, Path), ("id" = String, Path)), request_body = TransferRequest, security(("bearer" = [])),
    responses((status = 200, body = PhoneNumberView, description = "The number in its new workspace"),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn transfer(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<TransferRequest>,
) -> ApiResult<Json<PhoneNumberView>> {
    // The target is resolved for the same caller: a workspace they do not reach is a 404.
    let to = resolve(&state, scope.principal(), &req.to_workspace_id).await?.ok_or_else(ApiError::not_found)?;
    crate::auth::scope::authorize(&to, callplane_domain::Permission::PhoneNumbersTransfer, false)?;
    Ok(Json((&svc::transfer(&state, &scope, &id, &to).await?).into()))
}
