//! The JSON API under `/api/v1` (conventions in `shared/API.md`).

pub mod accounts;
pub mod agents;
pub mod appointments;
pub mod audit;
pub mod auth;
pub mod calls;
pub mod campaigns;
pub mod contacts;
pub mod export;
pub mod imports;
pub mod keys;
pub mod me;
pub mod members;
pub mod numbers;
pub mod openapi;
pub mod regions;
pub mod sip_trunks;
pub mod system;
pub mod team;
pub mod telephony;
pub mod templates;
pub mod views;
pub mod wallet;
pub mod webhooks;
pub mod workspaces;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::Method;
use callplane_domain::Permission as P;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use crate::routes::{Access, Routes};
use crate::state::AppState;

/// Every API route with the access it needs (one line per route: this is the table).
#[rustfmt::skip]
pub fn routes() -> Routes {
    use Access::*;
    Routes::new()
        .add(Method::POST, "/api/v1/auth/signup", Public, auth::signup)
        .add(Method::POST, "/api/v1/auth/login", Public, auth::login)
        .add(Method::POST, "/api/v1/auth/logout", Authenticated, auth::logout)
        .add(Method::GET, "/api/v1/me", Authenticated, me::get)
        .add(Method::PUT, "/api/v1/me/active-workspace", Authenticated, me::switch)
        .add(Method::GET, "/api/v1/regions", Public, regions::list)
        .add(Method::GET, "/api/v1/workspaces", Authenticated, workspaces::list)
        .add(Method::POST, "/api/v1/workspaces", Account(P::WorkspacesCreate), workspaces::create)
        .add(Method::GET, "/api/v1/workspaces/{ws}", WorkspaceAnyStatus(P::WorkspacesView), workspaces::get)
        .add(Method::PATCH, "/api/v1/workspaces/{ws}", WorkspaceAnyStatus(P::WorkspacesEdit), workspaces::update)
        .add(Method::DELETE, "/api/v1/workspaces/{ws}", WorkspaceAnyStatus(P::WorkspacesDelete), workspaces::delete)
        .add(Method::GET, "/api/v1/workspaces/{ws}/members", Workspace(P::MembersView), members::list)
        .add(Method::PATCH, "/api/v1/workspaces/{ws}/members/{user}", Workspace(P::MembersEdit), team::change_role)
        .add(Method::DELETE, "/api/v1/workspaces/{ws}/members/{user}", Workspace(P::MembersRemove), team::remove)
        .add(Method::POST, "/api/v1/workspaces/{ws}/ownership", Workspace(P::MembersEdit), team::transfer)
        .add(Method::GET, "/api/v1/workspaces/{ws}/roles", Workspace(P::MembersView), team::roles)
        .add(Method::GET, "/api/v1/workspaces/{ws}/invitations", Workspace(P::MembersInvite), team::list_invitations)
        .add(Method::POST, "/api/v1/workspaces/{ws}/invitations", Workspace(P::MembersInvite), team::invite)
        .add(Method::POST, "/api/v1/workspaces/{ws}/invitations/{id}/resend", Workspace(P::MembersInvite), team::resend)
        .add(Method::DELETE, "/api/v1/workspaces/{ws}/invitations/{id}", Workspace(P::MembersInvite), team::revoke)
        .add(Method::POST, "/api/v1/invitations/accept", Authenticated, team::accept)
        .add(Method::GET, "/api/v1/workspaces/{ws}/api-keys", Workspace(P::ApiKeysView), keys::list)
        .add(Method::POST, "/api/v1/workspaces/{ws}/api-keys", Workspace(P::ApiKeysCreate), keys::create)
        .add(Method::DELETE, "/api/v1/workspaces/{ws}/api-keys/{id}", Workspace(P::ApiKeysDelete), keys::revoke)
        .add(Method::GET, "/api/v1/workspaces/{ws}/settings", Workspace(P::SettingsView), agents::get_settings)
        .add(Method::PUT, "/api/v1/workspaces/{ws}/settings", Workspace(P::SettingsEdit), agents::put_settings)
        .add(Method::GET, "/api/v1/workspaces/{ws}/agents", Workspace(P::AgentsView), agents::list)
        .add(Method::POST, "/api/v1/workspaces/{ws}/agents", Workspace(P::AgentsCreate), agents::create)
        .add(Method::GET, "/api/v1/workspaces/{ws}/agents/{id}", Workspace(P::AgentsView), agents::get)
        .add(Method::PATCH, "/api/v1/workspaces/{ws}/agents/{id}", Workspace(P::AgentsEdit), agents::update)
        .add(Method::DELETE, "/api/v1/workspaces/{ws}/agents/{id}", Workspace(P::AgentsDelete), agents::delete)
        .add(Method::GET, "/api/v1/workspaces/{ws}/appointments", Workspace(P::AppointmentsView), appointments::list)
        .add(Method::POST, "/api/v1/workspaces/{ws}/appointments", Workspace(P::AppointmentsCreate), appointments::create)
        .add(Method::GET, "/api/v1/workspaces/{ws}/appointments/{id}", Workspace(P::AppointmentsView), appointments::get)
        .add(Method::PATCH, "/api/v1/workspaces/{ws}/appointments/{id}", Workspace(P::AppointmentsEdit), appointments::update)
        .add(Method::DELETE, "/api/v1/workspaces/{ws}/appointments/{id}", Workspace(P::AppointmentsDelete), appointments::delete)
        .add(Method::GET, "/api/v1/workspaces/{ws}/templates", Workspace(P::TemplatesView), templates::list)
        .add(Method::POST, "/api/v1/workspaces/{ws}/templates", Workspace(P::TemplatesCreate), templates::create)
        .add(Method::GET, "/api/v1/workspaces/{ws}/templates/{id}", Workspace(P::TemplatesView), templates::get)
        .add(Method::PATCH, "/api/v1/workspaces/{ws}/templates/{id}", Workspace(P::TemplatesEdit), templates::update)
        .add(Method::DELETE, "/api/v1/workspaces/{ws}/templates/{id}", Workspace(P::TemplatesDelete), templates::delete)
        .add(Method::GET, "/api/v1/workspaces/{ws}/templates/{id}/preview", Workspace(P::TemplatesView), templates::preview)
        .add(Method::GET, "/api/v1/workspaces/{ws}/analysis-templates", Workspace(P::TemplatesView), templates::list_analysis)
        .add(Method::POST, "/api/v1/workspaces/{ws}/analysis-templates", Workspace(P::TemplatesCreate), templates::create_analysis)
        .add(Method::GET, "/api/v1/workspaces/{ws}/analysis-templates/{id}", Workspace(P::TemplatesView), templates::get_analysis)
        .add(Method::PATCH, "/api/v1/workspaces/{ws}/analysis-templates/{id}", Workspace(P::TemplatesEdit), templates::update_analysis)
        .add(Method::DELETE, "/api/v1/workspaces/{ws}/analysis-templates/{id}", Workspace(P::TemplatesDelete), templates::delete_analysis)
        .add(Method::GET, "/api/v1/workspaces/{ws}/phone-numbers/available", Workspace(P::PhoneNumbersView), numbers::available)
        .add(Method::GET, "/api/v1/workspaces/{ws}/phone-numbers", Workspace(P::PhoneNumbersView), numbers::list)
        .add(Method::POST, "/api/v1/workspaces/{ws}/phone-numbers", Workspace(P::PhoneNumbersCreate), numbers::buy)
        .add(Method::GET, "/api/v1/workspaces/{ws}/phone-numbers/{id}", Workspace(P::PhoneNumbersView), numbers::get)
        .add(Method::PATCH, "/api/v1/workspaces/{ws}/phone-numbers/{id}", Workspace(P::PhoneNumbersEdit), numbers::assign)
        .add(Method::DELETE, "/api/v1/workspaces/{ws}/phone-numbers/{id}", Workspace(P::PhoneNumbersDelete), numbers::release)
        .add(Method::POST, "/api/v1/workspaces/{ws}/phone-numbers/{id}/transfer", Workspace(P::PhoneNumbersTransfer), numbers::transfer)
        .add(Method::POST, "/api/v1/workspaces/{ws}/calls", Workspace(P::CallsCreate), calls::place)
        .add(Method::GET, "/api/v1/workspaces/{ws}/calls", Workspace(P::CallsView), calls::list)
        .add(Method::GET, "/api/v1/workspaces/{ws}/usage", Workspace(P::BillingView), wallet::usage)
        .add(Method::GET, "/api/v1/workspaces/{ws}/calls/export", Workspace(P::CallsExport), calls::export)
        .add(Method::GET, "/api/v1/workspaces/{ws}/calls/{id}", Workspace(P::CallsView), calls::get)
        .add(Method::GET, "/api/v1/workspaces/{ws}/calls/{id}/recording", Workspace(P::CallsView), calls::recording)
        .add(
            Method::POST,
            "/api/v1/workspaces/{ws}/phone-numbers/{id}/simulate-inbound",
            Workspace(P::CallsCreate),
            calls::simulate_inbound,
        )
        .add(Method::POST, "/api/v1/workspaces/{ws}/calls/{id}/cancel", Workspace(P::CallsCreate), calls::cancel)
        .add(Method::GET, "/api/v1/workspaces/{ws}/campaigns", Workspace(P::CampaignsView), campaigns::list)
        .add(Method::POST, "/api/v1/workspaces/{ws}/campaigns", Workspace(P::CampaignsCreate), campaigns::create)
        .add(Method::GET, "/api/v1/workspaces/{ws}/campaigns/{id}", Workspace(P::CampaignsView), campaigns::get)
        .add(Method::PATCH, "/api/v1/workspaces/{ws}/campaigns/{id}", Workspace(P::CampaignsEdit), campaigns::update)
        .add(Method::DELETE, "/api/v1/workspaces/{ws}/campaigns/{id}", Workspace(P::CampaignsDelete), campaigns::delete)
        .add(Method::POST, "/api/v1/workspaces/{ws}/campaigns/{id}/start", Workspace(P::CampaignsEdit), campaigns::start)
        .add(Method::POST, "/api/v1/workspaces/{ws}/campaigns/{id}/pause", Workspace(P::CampaignsEdit), campaigns::pause)
        .add(Method::POST, "/api/v1/workspaces/{ws}/campaigns/{id}/resume", Workspace(P::CampaignsEdit), campaigns::resume)
        .add(Method::POST, "/api/v1/workspaces/{ws}/campaigns/{id}/cancel", Workspace(P::CampaignsEdit), campaigns::cancel)
        .add(Method::GET, "/api/v1/workspaces/{ws}/campaigns/{id}/results", Workspace(P::CampaignsView), campaigns::results)
        .add(Method::GET, "/api/v1/workspaces/{ws}/campaigns/{id}/results/export", Workspace(P::CampaignsView), campaigns::export)
        .add(Method::GET, "/api/v1/workspaces/{ws}/analytics", Workspace(P::AnalyticsView), campaigns::analytics_report)
        .add(Method::GET, "/api/v1/webhook-event-types", Public, webhooks::event_types)
        .add(Method::GET, "/api/v1/workspaces/{ws}/webhooks", Workspace(P::WebhooksView), webhooks::list)
        .add(Method::POST, "/api/v1/workspaces/{ws}/webhooks", Workspace(P::WebhooksCreate), webhooks::create)
        .add(Method::GET, "/api/v1/workspaces/{ws}/webhooks/{id}", Workspace(P::WebhooksView), webhooks::get)
        .add(Method::PATCH, "/api/v1/workspaces/{ws}/webhooks/{id}", Workspace(P::WebhooksEdit), webhooks::update)
        .add(Method::DELETE, "/api/v1/workspaces/{ws}/webhooks/{id}", Workspace(P::WebhooksDelete), webhooks::delete)
        .add(Method::POST, "/api/v1/workspaces/{ws}/webhooks/{id}/rotate-secret", Workspace(P::WebhooksEdit), webhooks::rotate)
        .add(Method::POST, "/api/v1/workspaces/{ws}/webhooks/{id}/test", Workspace(P::WebhooksEdit), webhooks::test)
        .add(Method::GET, "/api/v1/workspaces/{ws}/webhooks/{id}/deliveries", Workspace(P::WebhooksView), webhooks::deliveries)
        .add(Method::GET, "/api/v1/workspaces/{ws}/webhooks/{id}/attempts", Workspace(P::WebhooksView), webhooks::attempts)
        .add(
            Method::POST,
            "/api/v1/workspaces/{ws}/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            Workspace(P::WebhooksEdit),
            webhooks::redeliver,
        )
        .add(Method::GET, "/api/v1/workspaces/{ws}/telephony", Workspace(P::TelephonyView), telephony::get)
        .add(Method::PATCH, "/api/v1/workspaces/{ws}/telephony", Workspace(P::TelephonyEdit), telephony::update)
        .add(Method::GET, "/api/v1/workspaces/{ws}/telephony/groups", Workspace(P::TelephonyView), telephony::groups)
        .add(Method::PATCH, "/api/v1/workspaces/{ws}/telephony/groups/{group}", Workspace(P::TelephonyEdit), telephony::update_group)
        .add(Method::GET, "/api/v1/workspaces/{ws}/telephony/route", Workspace(P::TelephonyView), telephony::route)
        .add(Method::GET, "/api/v1/workspaces/{ws}/sip-trunks", Workspace(P::TelephonyView), sip_trunks::list)
        .add(Method::POST, "/api/v1/workspaces/{ws}/sip-trunks", Workspace(P::TelephonyEdit), sip_trunks::create)
        .add(Method::GET, "/api/v1/workspaces/{ws}/sip-trunks/{id}", Workspace(P::TelephonyView), sip_trunks::get)
        .add(Method::PATCH, "/api/v1/workspaces/{ws}/sip-trunks/{id}", Workspace(P::TelephonyEdit), sip_trunks::update)
        .add(Method::DELETE, "/api/v1/workspaces/{ws}/sip-trunks/{id}", Workspace(P::TelephonyEdit), sip_trunks::delete)
        .add(Method::GET, "/api/v1/workspaces/{ws}/contacts", Workspace(P::ContactsView), contacts::list)
        .add(Method::POST, "/api/v1/workspaces/{ws}/contacts", Workspace(P::ContactsCreate), contacts::create)
        .add(Method::GET, "/api/v1/workspaces/{ws}/contacts/export", Workspace(P::ContactsExport), contacts::export)
        .add(Method::POST, "/api/v1/workspaces/{ws}/contacts/bulk-delete", Workspace(P::ContactsDelete), contacts::bulk_delete)
        .add(Method::GET, "/api/v1/workspaces/{ws}/contacts/imports", Workspace(P::ContactsImport), imports::list)
        .add(Method::POST, "/api/v1/workspaces/{ws}/contacts/imports", Workspace(P::ContactsImport), imports::create)
        .add(Method::POST, "/api/v1/workspaces/{ws}/contacts/import", Workspace(P::ContactsImport), imports::create_import)
        .add(Method::GET, "/api/v1/workspaces/{ws}/contacts/imports/{id}", Workspace(P::ContactsImport), imports::get)
        .add(Method::GET, "/api/v1/workspaces/{ws}/contacts/imports/{id}/errors", Workspace(P::ContactsImport), imports::errors)
        .add(Method::GET, "/api/v1/workspaces/{ws}/contacts/{id}", Workspace(P::ContactsView), contacts::get)
        .add(Method::PATCH, "/api/v1/workspaces/{ws}/contacts/{id}", Workspace(P::ContactsEdit), contacts::update)
        .add(Method::DELETE, "/api/v1/workspaces/{ws}/contacts/{id}", Workspace(P::ContactsDelete), contacts::delete)
        .add(Method::GET, "/api/v1/workspaces/{ws}/audit-log", WorkspaceAnyStatus(P::AuditView), audit::list)
        .add(Method::GET, "/api/v1/workspaces/{ws}/audit-log/export", WorkspaceAnyStatus(P::AuditView), audit::export)
        .add(Method::GET, "/api/v1/accounts/{acct}/api-keys", Account(P::ApiKeysView), keys::list_org)
        .add(Method::POST, "/api/v1/accounts/{acct}/api-keys", Account(P::ApiKeysCreate), keys::create_org)
        .add(Method::DELETE, "/api/v1/accounts/{acct}/api-keys/{id}", Account(P::ApiKeysDelete), keys::revoke_org)
        .add(Method::GET, "/api/v1/accounts/{acct}/wallet", Account(P::BillingView), wallet::get)
        .add(Method::GET, "/api/v1/accounts/{acct}/roles", Account(P::RolesManage), accounts::list_roles)
        .add(Method::POST, "/api/v1/accounts/{acct}/roles", Account(P::RolesManage), accounts::create_role)
        .add(Method::PATCH, "/api/v1/accounts/{acct}/roles/{role}", Account(P::RolesManage), accounts::update_role)
        .add(Method::DELETE, "/api/v1/accounts/{acct}/roles/{role}", Account(P::RolesManage), accounts::delete_role)
        .add(Method::POST, "/api/v1/accounts/{acct}/users", Account(P::MembersInvite), accounts::create_user)
        .add(Method::PUT, "/api/v1/accounts/{acct}/users/{user}/workspaces/{workspace}", Account(P::MembersEdit), accounts::grant)
        .add(Method::DELETE, "/api/v1/accounts/{acct}/users/{user}/workspaces/{workspace}", Account(P::MembersRemove), accounts::withdraw)
        .add(Method::GET, "/api/v1/accounts/{acct}/access-review", Account(P::AuditView), accounts::access_review)
        .add(Method::GET, "/api/v1/accounts/{acct}/audit-log", Account(P::AuditView), accounts::audit_log)
        .add(Method::GET, "/api/openapi.json", Public, openapi::serve)
        .add(Method::GET, "/healthz", Public, system::healthz)
        .add(Method::GET, "/readyz", Public, system::readyz)
        .add(Method::GET, "/metrics", Public, system::metrics)
}

/// `Json<T>` whose rejections are problem documents (malformed, unknown field, too large).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> ApiResult<Self> {
        let axum::Json(v) = axum::Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(v))
    }
}

/// `Query<T>` whose rejections are problem documents.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let axum::extract::Query(v) = axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(v))
    }
}

/// The `Idempotency-Key` header of a request that creates something (a repeated request
/// with the same key answers what the first one created).
pub fn idempotency_key(headers: &axum::http::HeaderMap) -> ApiResult<Option<&str>> {
    let key = headers.get("idempotency-key").map(|v| v.to_str().unwrap_or("")).map(str::trim);
    if key.is_some_and(|k| k.is_empty() || k.len() > 200) {
        return Err(ApiError::invalid("Idempotency-Key", "must be 1–200 visible characters"));
    }
    Ok(key)
}

/// `?limit=` (default 50, 1–500) and `?cursor=`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl PageParams {
    /// One page of a list that is read whole (a workspace's members, keys, invitations,
    /// a user's workspaces: short lists); the cursor is an offset into it.
    pub fn page<'a, T, V>(&self, all: &'a [T], view: impl Fn(&'a T) -> V) -> ApiResult<views::Page<V>> {
        let limit = self.limit()? as usize;
        let offset = match &self.cursor {
            None => 0,
            Some(c) => c.parse::<usize>().map_err(|_| ApiError::invalid("cursor", "is not a valid cursor"))?,
        };
        let data = all.iter().skip(offset).take(limit).map(view).collect();
        let next_cursor = (offset + limit < all.len()).then(|| (offset + limit).to_string());
        Ok(views::Page { data, next_cursor })
    }

    /// The cursor of a keyset list, which must be an id with `prefix` (`ct`, `agt`, …).
    pub fn keyset_cursor(&self, prefix: &str) -> ApiResult<Option<&str>> {
        let cursor = self.cursor.as_deref().filter(|c| !c.is_empty());
        if cursor.is_some_and(|c| !callplane_domain::id::has_prefix(c, prefix)) {
            return Err(ApiError::invalid("cursor", "is not a valid cursor"));
        }
        Ok(cursor)
    }

    pub fn limit(&self) -> ApiResult<i64> {
        match self.limit {
            None => Ok(50),
            Some(n @ 1..=500) => Ok(n),
            Some(_) => Err(ApiError::invalid("limit", "must be between 1 and 500")),
        }
    }
}

/// A page of a keyset list from `limit + 1` rows read newest first: the extra row only
/// says there is more, and the next cursor is the last row's id.
pub fn keyset_page<T, V>(rows: &[T], limit: i64, id: impl Fn(&T) -> String, view: impl Fn(&T) -> V) -> views::Page<V> {
    let shown = &rows[..rows.len().min(limit as usize)];
    let next_cursor = (rows.len() as i64 > limit).then(|| shown.last().map(&id)).flatten();
    views::Page { data: shown.iter().map(view).collect(), next_cursor }
}
