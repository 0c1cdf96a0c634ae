//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;

#[derive(OpenApi)]
#[openapi(
    info(title = "callplane API", description = "Multi-tenant core of an AI voice-calling platform. Conventions: shared/API.md."),
    paths(
        api::auth::signup, api::auth::login, api::auth::logout,
        api::me::get, api::me::switch,
        api::regions::list, api::workspaces::list, api::workspaces::create, api::workspaces::get,
        api::workspaces::update, api::workspaces::delete,
        api::members::list, api::audit::list, api::audit::export,
        api::contacts::list, api::contacts::create, api::contacts::get, api::contacts::update, api::contacts::delete,
        api::contacts::bulk_delete, api::contacts::export,
        api::agents::list, api::agents::create, api::agents::get, api::agents::update, api::agents::delete,
        api::agents::get_settings, api::agents::put_settings,
        api::appointments::list, api::appointments::create, api::appointments::get, api::appointments::update,
        api::appointments::delete,
        api::templates::list, api::templates::create, api::templates::get, api::templates::update, api::templates::delete,
        api::templates::preview, api::templates::list_analysis, api::templates::create_analysis,
        api::templates::get_analysis, api::templates::update_analysis, api::templates::delete_analysis,
        api::numbers::available, api::numbers::list, api::numbers::buy, api::numbers::get, api::numbers::assign,
        api::numbers::release, api::numbers::transfer,
        api::calls::place, api::calls::list, api::calls::get, api::calls::cancel, api::calls::export,
        api::calls::recording, api::calls::simulate_inbound, api::wallet::usage,
        api::telephony::get, api::telephony::update, api::telephony::groups, api::telephony::update_group,
        api::telephony::route,
        api::sip_trunks::list, api::sip_trunks::create, api::sip_trunks::get, api::sip_trunks::update,
        api::sip_trunks::delete,
        api::webhooks::list, api::webhooks::create, api::webhooks::get, api::webhooks::update, api::webhooks::delete,
        api::webhooks::rotate, api::webhooks::test, api::webhooks::deliveries, api::webhooks::attempts,
        api::webhooks::redeliver, api::webhooks::event_types,
        api::campaigns::list, api::campaigns::create, api::campaigns::get, api::campaigns::update,
        api::campaigns::delete, api::campaigns::start, api::campaigns::pause, api::campaigns::resume,
        api::campaigns::cancel, api::campaigns::results, api::campaigns::export, api::campaigns::analytics_report,
        api::imports::create, api::imports::create_import, api::imports::list, api::imports::get, api::imports::errors,
        api::team::change_role, api::team::remove, api::team::transfer, api::team::roles,
        api::team::list_invitations, api::team::invite, api::team::resend, api::team::revoke, api::team::accept,
        api::keys::list, api::keys::create, api::keys::revoke, api::keys::list_org, api::keys::create_org, api::keys::revoke_org,
        api::accounts::list_roles, api::accounts::create_role, api::accounts::update_role, api::accounts::delete_role,
        api::accounts::create_user, api::accounts::grant, api::accounts::withdraw, api::accounts::access_review,
        api::accounts::audit_log, api::wallet::get,
        api::system::healthz, api::system::readyz, api::system::metrics,
        serve,
    ),
    components(schemas(
        crate::services::events::WebhookMessage, crate::services::events::CallEventData,
        crate::services::events::CallSummary, crate::services::events::CallAnalyzedData,
        crate::services::events::ImportCompletedData, crate::services::events::TestEventData,
        crate::services::campaigns::CampaignEventData,
    )),
    modifiers(&BearerAuth, &EventCatalog, &UniqueOperationIds),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The event catalog as a schema (`WebhookEventType`: every `type` a webhook message can
/// have), next to the payload schemas.
struct EventCatalog;

impl Modify for EventCatalog {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let names: Vec<&str> = crate::services::events::CATALOG.iter().map(|e| e.name).collect();
        let description = crate::services::events::CATALOG
            .iter()
            .map(|e| format!("`{}`: {}", e.name, e.summary))
            .collect::<Vec<_>>()
            .join("\n");
        let schema =
            ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names)).description(Some(description));
        doc.components.get_or_insert_with(Default::default).schemas.insert("WebhookEventType".into(), schema.into());
    }
}

/// Operation ids are the handlers' names, which repeat across resources (`list`,
/// `get`, ...): OpenAPI wants each unique (client generators name methods by it). A
/// repeated one takes the path's resource words: `list_contacts`, `list_contacts_imports`.
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for item in doc.paths.paths.values() {
            for op in operations(item) {
                *seen.entry(op.operation_id.clone().unwrap_or_default()).or_default() += 1;
            }
        }
        for (path, item) in doc.paths.paths.iter_mut() {
            let words: Vec<&str> = path
                .trim_start_matches("/api/v1/")
                .split('/')
                .skip_while(|w| matches!(*w, "workspaces" | "accounts" | "{ws}" | "{acct}"))
                .filter(|w| !w.starts_with('{') && !w.is_empty())
                .collect();
            let resource = words.join("_").replace('-', "_");
            for op in operations_mut(item) {
                let id = op.operation_id.clone().unwrap_or_default();
                if seen.get(&id).copied().unwrap_or(0) > 1 && !resource.is_empty() {
                    op.operation_id = Some(format!("{id}_{resource}"));
                }
            }
        }
    }
}

fn operations(item: &utoipa::openapi::PathItem) -> impl Iterator<Item = &utoipa::openapi::path::Operation> {
    [&item.get, &item.put, &item.post, &item.delete, &item.options, &item.head, &item.patch, &item.trace]
        .into_iter()
        .flatten()
}

fn operations_mut(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .flatten()
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "system", responses((status = 200, description = "This document")))]
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
