//! The dashboard: server-rendered pages and plain forms (no JavaScript needed).

pub mod account;
pub mod agents;
pub mod appointments;
pub mod audit;
pub mod auth;
pub mod calls;
pub mod campaigns;
pub mod charts;
pub mod common;
pub mod contacts;
pub mod invite;
pub mod keys;
pub mod numbers;
pub mod prompt_templates;
pub mod sip_trunks;
pub mod team;
pub mod telephony;
pub mod templates;
pub mod wallet;
pub mod webhooks;
pub mod workspaces;

use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use callplane_domain::Permission as P;
use serde_json::json;

use crate::error::{Code, ProblemMarker};
use crate::routes::{Access, Routes};
use crate::state::AppState;

#[rustfmt::skip]
pub fn routes() -> Routes {
    use Access::*;
    Routes::new()
        .add(Method::GET, "/", Public, auth::home)
        .add(Method::GET, "/login", Public, auth::login_form)
        .add(Method::POST, "/login", Public, auth::login)
        .add(Method::GET, "/signup", Public, auth::signup_form)
        .add(Method::POST, "/signup", Public, auth::signup)
        .add(Method::POST, "/logout", Authenticated, auth::logout)
        .add(Method::GET, "/invite", Public, invite::invite_page)
        .add(Method::GET, "/set-password", Public, invite::set_password_form)
        .add(Method::POST, "/set-password", Public, invite::set_password)
        .add(Method::GET, "/dashboard", Workspace(P::WorkspacesView), workspaces::dashboard)
        .add(Method::POST, "/switch", Authenticated, workspaces::switch)
        .add(Method::GET, "/workspaces", Authenticated, workspaces::workspaces)
        .add(Method::POST, "/workspaces", Account(P::WorkspacesCreate), workspaces::create_workspace)
        .add(Method::POST, "/workspaces/{ws}/edit", WorkspaceAnyStatus(P::WorkspacesEdit), workspaces::edit_workspace)
        .add(Method::POST, "/workspaces/{ws}/delete", WorkspaceAnyStatus(P::WorkspacesDelete), workspaces::delete_workspace)
        .add(Method::GET, "/contacts", Workspace(P::ContactsView), contacts::list)
        .add(Method::POST, "/contacts", Workspace(P::ContactsCreate), contacts::create)
        .add(Method::GET, "/contacts/export", Workspace(P::ContactsExport), crate::api::contacts::export)
        .add(Method::GET, "/contacts/import", Workspace(P::ContactsImport), contacts::import_form)
        .add_streamed(Method::POST, "/contacts/import", Workspace(P::ContactsImport), contacts::upload)
        .add(Method::GET, "/contacts/imports/{id}", Workspace(P::ContactsImport), contacts::import_page)
        .add(Method::POST, "/contacts/imports/{id}/start", Workspace(P::ContactsImport), contacts::start_import)
        .add(Method::GET, "/contacts/imports/{id}/errors", Workspace(P::ContactsImport), contacts::import_errors)
        .add(Method::POST, "/contacts/{id}/flags", Workspace(P::ContactsEdit), contacts::set_flag)
        .add(Method::POST, "/contacts/{id}/delete", Workspace(P::ContactsDelete), contacts::delete)
        .add(Method::GET, "/appointments", Workspace(P::AppointmentsView), appointments::week)
        .add(Method::POST, "/appointments", Workspace(P::AppointmentsCreate), appointments::book)
        .add(Method::GET, "/calls", Workspace(P::CallsView), calls::history)
        .add(Method::POST, "/calls", Workspace(P::CallsCreate), calls::place)
        .add(Method::GET, "/calls/export", Workspace(P::CallsExport), crate::api::calls::export)
        .add(Method::GET, "/calls/{id}", Workspace(P::CallsView), calls::detail)
        .add(Method::GET, "/calls/{id}/recording.wav", Workspace(P::CallsView), calls::recording)
        .add(Method::POST, "/calls/{id}/cancel", Workspace(P::CallsCreate), calls::cancel)
        .add(Method::POST, "/numbers/{id}/inbound", Workspace(P::CallsCreate), calls::simulate_inbound)
        .add(Method::GET, "/campaigns", Workspace(P::CampaignsView), campaigns::list)
        .add(Method::POST, "/campaigns", Workspace(P::CampaignsCreate), campaigns::create)
        .add(Method::GET, "/campaigns/{id}", Workspace(P::CampaignsView), campaigns::detail)
        .add(Method::GET, "/campaigns/{id}/results.csv", Workspace(P::CampaignsView), campaigns::export)
        .add(Method::POST, "/campaigns/{id}/delete", Workspace(P::CampaignsDelete), campaigns::delete)
        .add(Method::POST, "/campaigns/{id}/{action}", Workspace(P::CampaignsEdit), campaigns::act)
        .add(Method::GET, "/numbers", Workspace(P::PhoneNumbersView), numbers::page)
        .add(Method::POST, "/numbers", Workspace(P::PhoneNumbersCreate), numbers::buy)
        .add(Method::POST, "/numbers/{id}/agent", Workspace(P::PhoneNumbersEdit), numbers::assign)
        .add(Method::POST, "/numbers/{id}/release", Workspace(P::PhoneNumbersDelete), numbers::release)
        .add(Method::GET, "/agents", Workspace(P::AgentsView), agents::list)
        .add(Method::POST, "/agents", Workspace(P::AgentsCreate), agents::create)
        .add(Method::GET, "/agents/{id}", Workspace(P::AgentsView), agents::edit)
        .add(Method::POST, "/agents/{id}", Workspace(P::AgentsEdit), agents::update)
        .add(Method::POST, "/agents/{id}/delete", Workspace(P::AgentsDelete), agents::delete)
        .add(Method::GET, "/templates", Workspace(P::TemplatesView), prompt_templates::list)
        .add(Method::POST, "/templates", Workspace(P::TemplatesCreate), prompt_templates::create)
        .add(Method::POST, "/templates/analysis", Workspace(P::TemplatesCreate), prompt_templates::create_analysis)
        .add(Method::POST, "/templates/analysis/{id}/delete", Workspace(P::TemplatesDelete), prompt_templates::delete_analysis)
        .add(Method::GET, "/templates/{id}", Workspace(P::TemplatesView), prompt_templates::edit)
        .add(Method::POST, "/templates/{id}", Workspace(P::TemplatesEdit), prompt_templates::update)
        .add(Method::POST, "/templates/{id}/delete", Workspace(P::TemplatesDelete), prompt_templates::delete)
        .add(Method::GET, "/settings/workspace", Workspace(P::SettingsView), agents::settings)
        .add(Method::POST, "/settings/workspace", Workspace(P::SettingsEdit), agents::save_settings)
        .add(Method::GET, "/settings/telephony", Workspace(P::TelephonyView), telephony::show)
        .add(Method::POST, "/settings/telephony", Workspace(P::TelephonyEdit), telephony::save)
        .add(Method::POST, "/settings/telephony/groups/{group}", Workspace(P::TelephonyEdit), telephony::toggle)
        .add(Method::GET, "/settings/telephony/sip", Workspace(P::TelephonyView), sip_trunks::show)
        .add(Method::POST, "/settings/telephony/sip", Workspace(P::TelephonyEdit), sip_trunks::create)
        .add(Method::POST, "/settings/telephony/sip/{id}/delete", Workspace(P::TelephonyEdit), sip_trunks::delete)
        .add(Method::GET, "/settings/team", Workspace(P::MembersView), team::team)
        .add(Method::POST, "/settings/team/invitations", Workspace(P::MembersInvite), team::invite)
        .add(Method::POST, "/settings/team/invitations/{id}/resend", Workspace(P::MembersInvite), team::resend)
        .add(Method::POST, "/settings/team/invitations/{id}/revoke", Workspace(P::MembersInvite), team::revoke_invitation)
        .add(Method::POST, "/settings/team/members/{user}/role", Workspace(P::MembersEdit), team::change_role)
        .add(Method::POST, "/settings/team/members/{user}/remove", Workspace(P::MembersRemove), team::remove_member)
        .add(Method::POST, "/settings/team/ownership", Workspace(P::MembersEdit), team::transfer)
        .add(Method::GET, "/settings/webhooks", Workspace(P::WebhooksView), webhooks::list)
        .add(Method::POST, "/settings/webhooks", Workspace(P::WebhooksCreate), webhooks::create)
        .add(Method::GET, "/settings/webhooks/{id}", Workspace(P::WebhooksView), webhooks::detail)
        .add(Method::POST, "/settings/webhooks/{id}", Workspace(P::WebhooksEdit), webhooks::update)
        .add(Method::POST, "/settings/webhooks/{id}/test", Workspace(P::WebhooksEdit), webhooks::send_test)
        .add(Method::POST, "/settings/webhooks/{id}/rotate", Workspace(P::WebhooksEdit), webhooks::rotate)
        .add(Method::POST, "/settings/webhooks/{id}/delete", Workspace(P::WebhooksDelete), webhooks::delete)
        .add(
            Method::POST,
            "/settings/webhooks/{id}/deliveries/{delivery_id}/redeliver",
            Workspace(P::WebhooksEdit),
            webhooks::redeliver,
        )
        .add(Method::GET, "/docs/webhooks", Public, webhooks::docs)
        .add(Method::GET, "/settings/api-keys", Workspace(P::ApiKeysView), keys::keys)
        .add(Method::POST, "/settings/api-keys", Workspace(P::ApiKeysCreate), keys::create_key)
        .add(Method::POST, "/settings/api-keys/{id}/revoke", Workspace(P::ApiKeysDelete), keys::revoke_key)
        .add(Method::GET, "/audit", Workspace(P::AuditView), audit::audit)
        .add(Method::GET, "/audit/export", Workspace(P::AuditView), audit::audit_export)
        .add(Method::GET, "/account/users", Account(P::MembersView), account::users)
        .add(Method::GET, "/account/access-review.csv", Account(P::AuditView), account::export)
        .add(Method::POST, "/account/users", Account(P::MembersInvite), account::create_user)
        .add(Method::POST, "/account/access/grant", Account(P::MembersEdit), account::grant)
        .add(Method::POST, "/account/access/withdraw", Account(P::MembersRemove), account::withdraw)
        .add(Method::GET, "/account/wallet", Account(P::BillingView), wallet::show)
        .add(Method::GET, "/account/roles", Account(P::RolesManage), account::roles_page)
        .add(Method::POST, "/account/roles", Account(P::RolesManage), account::create_role)
        .add(Method::POST, "/account/roles/{id}", Account(P::RolesManage), account::update_role)
        .add(Method::POST, "/account/roles/{id}/delete", Account(P::RolesManage), account::delete_role)
        .add(Method::GET, "/static/app.css", Public, stylesheet)
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=300")],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

/// Turns problem responses on dashboard routes into pages: unauthenticated → sign-in,
/// no workspace → the empty-selector message, anything else → an error page.
pub async fn problems_as_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let csrf = req.extensions().get::<crate::auth::csrf::CsrfToken>().map(|t| t.0.clone());
    let res = next.run(req).await;
    let Some(problem) = res.extensions().get::<ProblemMarker>().cloned() else {
        return res;
    };
    let status = res.status();
    match problem.code {
        Code::Unauthenticated => Redirect::to("/login").into_response(),
        Code::NoWorkspace => Redirect::to("/workspaces").into_response(),
        code => state.templates.render(
            status,
            "error.html",
            json!({
                "title": code.title(),
                "heading": if status == StatusCode::NOT_FOUND { "Not found" } else { code.title() },
                "message": problem.detail,
                "csrf": csrf,
            }),
        ),
    }
}
