//! A1–A5 by construction: every route is in the table with the access it needs, the
//! OpenAPI document lists every API route, and the declared permission is enforced.

use std::collections::BTreeSet;

use callplane_server::routes::Access;
use reqwest::Method;
use serde_json::json;

use crate::common::{email, spawn_app};

/// The expected table. Adding a route without adding it here fails `a5_every_route_is_in_the_table`.
const EXPECTED: &[(&str, &str, &str)] = &[
    ("POST", "/api/v1/auth/signup", "public"),
    ("POST", "/api/v1/auth/login", "public"),
    ("POST", "/api/v1/auth/logout", "authenticated"),
    ("GET", "/api/v1/me", "authenticated"),
    ("GET", "/api/v1/regions", "public"),
    ("PUT", "/api/v1/me/active-workspace", "authenticated"),
    ("GET", "/api/v1/workspaces", "authenticated"),
    ("POST", "/api/v1/workspaces", "account:workspaces_create"),
    ("GET", "/api/v1/workspaces/{ws}", "workspace*:workspaces_view"),
    ("PATCH", "/api/v1/workspaces/{ws}", "workspace*:workspaces_edit"),
    ("DELETE", "/api/v1/workspaces/{ws}", "workspace*:workspaces_delete"),
    ("GET", "/api/v1/workspaces/{ws}/members", "workspace:members_view"),
    ("GET", "/api/v1/workspaces/{ws}/settings", "workspace:settings_view"),
    ("PUT", "/api/v1/workspaces/{ws}/settings", "workspace:settings_edit"),
    ("GET", "/api/v1/workspaces/{ws}/agents", "workspace:agents_view"),
    ("POST", "/api/v1/workspaces/{ws}/agents", "workspace:agents_create"),
    ("GET", "/api/v1/workspaces/{ws}/agents/{id}", "workspace:agents_view"),
    ("PATCH", "/api/v1/workspaces/{ws}/agents/{id}", "workspace:agents_edit"),
    ("DELETE", "/api/v1/workspaces/{ws}/agents/{id}", "workspace:agents_delete"),
    ("GET", "/api/v1/workspaces/{ws}/appointments", "workspace:appointments_view"),
    ("POST", "/api/v1/workspaces/{ws}/appointments", "workspace:appointments_create"),
    ("GET", "/api/v1/workspaces/{ws}/appointments/{id}", "workspace:appointments_view"),
    ("PATCH", "/api/v1/workspaces/{ws}/appointments/{id}", "workspace:appointments_edit"),
    ("DELETE", "/api/v1/workspaces/{ws}/appointments/{id}", "workspace:appointments_delete"),
    ("GET", "/api/v1/workspaces/{ws}/templates", "workspace:templates_view"),
    ("POST", "/api/v1/workspaces/{ws}/templates", "workspace:templates_create"),
    ("GET", "/api/v1/workspaces/{ws}/templates/{id}", "workspace:templates_view"),
    ("PATCH", "/api/v1/workspaces/{ws}/templates/{id}", "workspace:templates_edit"),
    ("DELETE", "/api/v1/workspaces/{ws}/templates/{id}", "workspace:templates_delete"),
    ("GET", "/api/v1/workspaces/{ws}/templates/{id}/preview", "workspace:templates_view"),
    ("GET", "/api/v1/workspaces/{ws}/analysis-templates", "workspace:templates_view"),
    ("POST", "/api/v1/workspaces/{ws}/analysis-templates", "workspace:templates_create"),
    ("GET", "/api/v1/workspaces/{ws}/analysis-templates/{id}", "workspace:templates_view"),
    ("PATCH", "/api/v1/workspaces/{ws}/analysis-templates/{id}", "workspace:templates_edit"),
    ("DELETE", "/api/v1/workspaces/{ws}/analysis-templates/{id}", "workspace:templates_delete"),
    ("GET", "/api/v1/workspaces/{ws}/phone-numbers/available", "workspace:phone_numbers_view"),
    ("GET", "/api/v1/workspaces/{ws}/phone-numbers", "workspace:phone_numbers_view"),
    ("POST", "/api/v1/workspaces/{ws}/phone-numbers", "workspace:phone_numbers_create"),
    ("GET", "/api/v1/workspaces/{ws}/phone-numbers/{id}", "workspace:phone_numbers_view"),
    ("PATCH", "/api/v1/workspaces/{ws}/phone-numbers/{id}", "workspace:phone_numbers_edit"),
    ("DELETE", "/api/v1/workspaces/{ws}/phone-numbers/{id}", "workspace:phone_numbers_delete"),
    ("POST", "/api/v1/workspaces/{ws}/phone-numbers/{id}/transfer", "workspace:phone_numbers_transfer"),
    ("POST", "/api/v1/workspaces/{ws}/calls", "workspace:calls_create"),
    ("GET", "/api/v1/workspaces/{ws}/calls", "workspace:calls_view"),
    ("GET", "/api/v1/workspaces/{ws}/usage", "workspace:billing_view"),
    ("GET", "/api/v1/workspaces/{ws}/calls/export", "workspace:calls_export"),
    ("GET", "/api/v1/workspaces/{ws}/calls/{id}", "workspace:calls_view"),
    ("GET", "/api/v1/workspaces/{ws}/calls/{id}/recording", "workspace:calls_view"),
    ("POST", "/api/v1/workspaces/{ws}/phone-numbers/{id}/simulate-inbound", "workspace:calls_create"),
    ("POST", "/api/v1/workspaces/{ws}/calls/{id}/cancel", "workspace:calls_create"),
    ("GET", "/api/v1/workspaces/{ws}/campaigns", "workspace:campaigns_view"),
    ("POST", "/api/v1/workspaces/{ws}/campaigns", "workspace:campaigns_create"),
    ("GET", "/api/v1/workspaces/{ws}/campaigns/{id}", "workspace:campaigns_view"),
    ("PATCH", "/api/v1/workspaces/{ws}/campaigns/{id}", "workspace:campaigns_edit"),
    ("DELETE", "/api/v1/workspaces/{ws}/campaigns/{id}", "workspace:campaigns_delete"),
    ("POST", "/api/v1/workspaces/{ws}/campaigns/{id}/start", "workspace:campaigns_edit"),
    ("POST", "/api/v1/workspaces/{ws}/campaigns/{id}/pause", "workspace:campaigns_edit"),
    ("POST", "/api/v1/workspaces/{ws}/campaigns/{id}/resume", "workspace:campaigns_edit"),
    ("POST", "/api/v1/workspaces/{ws}/campaigns/{id}/cancel", "workspace:campaigns_edit"),
    ("GET", "/api/v1/workspaces/{ws}/campaigns/{id}/results", "workspace:campaigns_view"),
    ("GET", "/api/v1/workspaces/{ws}/campaigns/{id}/results/export", "workspace:campaigns_view"),
    ("GET", "/api/v1/workspaces/{ws}/analytics", "workspace:analytics_view"),
    ("GET", "/api/v1/webhook-event-types", "public"),
    ("GET", "/api/v1/workspaces/{ws}/webhooks", "workspace:webhooks_view"),
    ("POST", "/api/v1/workspaces/{ws}/webhooks", "workspace:webhooks_create"),
    ("GET", "/api/v1/workspaces/{ws}/webhooks/{id}", "workspace:webhooks_view"),
    ("PATCH", "/api/v1/workspaces/{ws}/webhooks/{id}", "workspace:webhooks_edit"),
    ("DELETE", "/api/v1/workspaces/{ws}/webhooks/{id}", "workspace:webhooks_delete"),
    ("POST", "/api/v1/workspaces/{ws}/webhooks/{id}/rotate-secret", "workspace:webhooks_edit"),
    ("POST", "/api/v1/workspaces/{ws}/webhooks/{id}/test", "workspace:webhooks_edit"),
    ("GET", "/api/v1/workspaces/{ws}/webhooks/{id}/deliveries", "workspace:webhooks_view"),
    ("GET", "/api/v1/workspaces/{ws}/webhooks/{id}/attempts", "workspace:webhooks_view"),
    ("POST", "/api/v1/workspaces/{ws}/webhooks/{id}/deliveries/{delivery_id}/redeliver", "workspace:webhooks_edit"),
    ("GET", "/api/v1/workspaces/{ws}/telephony", "workspace:telephony_view"),
    ("PATCH", "/api/v1/workspaces/{ws}/telephony", "workspace:telephony_edit"),
    ("GET", "/api/v1/workspaces/{ws}/telephony/groups", "workspace:telephony_view"),
    ("PATCH", "/api/v1/workspaces/{ws}/telephony/groups/{group}", "workspace:telephony_edit"),
    ("GET", "/api/v1/workspaces/{ws}/telephony/route", "workspace:telephony_view"),
    ("GET", "/api/v1/workspaces/{ws}/sip-trunks", "workspace:telephony_view"),
    ("POST", "/api/v1/workspaces/{ws}/sip-trunks", "workspace:telephony_edit"),
    ("GET", "/api/v1/workspaces/{ws}/sip-trunks/{id}", "workspace:telephony_view"),
    ("PATCH", "/api/v1/workspaces/{ws}/sip-trunks/{id}", "workspace:telephony_edit"),
    ("DELETE", "/api/v1/workspaces/{ws}/sip-trunks/{id}", "workspace:telephony_edit"),
    ("GET", "/api/v1/workspaces/{ws}/contacts", "workspace:contacts_view"),
    ("POST", "/api/v1/workspaces/{ws}/contacts", "workspace:contacts_create"),
    ("GET", "/api/v1/workspaces/{ws}/contacts/export", "workspace:contacts_export"),
    ("POST", "/api/v1/workspaces/{ws}/contacts/bulk-delete", "workspace:contacts_delete"),
    ("GET", "/api/v1/workspaces/{ws}/contacts/imports", "workspace:contacts_import"),
    ("POST", "/api/v1/workspaces/{ws}/contacts/imports", "workspace:contacts_import"),
    ("POST", "/api/v1/workspaces/{ws}/contacts/import", "workspace:contacts_import"),
    ("GET", "/api/v1/workspaces/{ws}/contacts/imports/{id}", "workspace:contacts_import"),
    ("GET", "/api/v1/workspaces/{ws}/contacts/imports/{id}/errors", "workspace:contacts_import"),
    ("GET", "/api/v1/workspaces/{ws}/contacts/{id}", "workspace:contacts_view"),
    ("PATCH", "/api/v1/workspaces/{ws}/contacts/{id}", "workspace:contacts_edit"),
    ("DELETE", "/api/v1/workspaces/{ws}/contacts/{id}", "workspace:contacts_delete"),
    ("GET", "/api/v1/workspaces/{ws}/audit-log", "workspace*:audit_view"),
    ("GET", "/api/v1/workspaces/{ws}/audit-log/export", "workspace*:audit_view"),
    ("PATCH", "/api/v1/workspaces/{ws}/members/{user}", "workspace:members_edit"),
    ("DELETE", "/api/v1/workspaces/{ws}/members/{user}", "workspace:members_remove"),
    ("POST", "/api/v1/workspaces/{ws}/ownership", "workspace:members_edit"),
    ("GET", "/api/v1/workspaces/{ws}/roles", "workspace:members_view"),
    ("GET", "/api/v1/workspaces/{ws}/invitations", "workspace:members_invite"),
    ("POST", "/api/v1/workspaces/{ws}/invitations", "workspace:members_invite"),
    ("POST", "/api/v1/workspaces/{ws}/invitations/{id}/resend", "workspace:members_invite"),
    ("DELETE", "/api/v1/workspaces/{ws}/invitations/{id}", "workspace:members_invite"),
    ("POST", "/api/v1/invitations/accept", "authenticated"),
    ("GET", "/api/v1/workspaces/{ws}/api-keys", "workspace:api_keys_view"),
    ("POST", "/api/v1/workspaces/{ws}/api-keys", "workspace:api_keys_create"),
    ("DELETE", "/api/v1/workspaces/{ws}/api-keys/{id}", "workspace:api_keys_delete"),
    ("GET", "/api/v1/accounts/{acct}/api-keys", "account:api_keys_view"),
    ("POST", "/api/v1/accounts/{acct}/api-keys", "account:api_keys_create"),
    ("DELETE", "/api/v1/accounts/{acct}/api-keys/{id}", "account:api_keys_delete"),
    ("GET", "/api/v1/accounts/{acct}/wallet", "account:billing_view"),
    ("GET", "/api/v1/accounts/{acct}/roles", "account:roles_manage"),
    ("POST", "/api/v1/accounts/{acct}/roles", "account:roles_manage"),
    ("PATCH", "/api/v1/accounts/{acct}/roles/{role}", "account:roles_manage"),
    ("DELETE", "/api/v1/accounts/{acct}/roles/{role}", "account:roles_manage"),
    ("POST", "/api/v1/accounts/{acct}/users", "account:members_invite"),
    ("PUT", "/api/v1/accounts/{acct}/users/{user}/workspaces/{workspace}", "account:members_edit"),
    ("DELETE", "/api/v1/accounts/{acct}/users/{user}/workspaces/{workspace}", "account:members_remove"),
    ("GET", "/api/v1/accounts/{acct}/access-review", "account:audit_view"),
    ("GET", "/api/v1/accounts/{acct}/audit-log", "account:audit_view"),
    ("GET", "/api/openapi.json", "public"),
    ("GET", "/healthz", "public"),
    ("GET", "/readyz", "public"),
    ("GET", "/metrics", "public"),
    ("GET", "/", "public"),
    ("GET", "/login", "public"),
    ("POST", "/login", "public"),
    ("GET", "/signup", "public"),
    ("POST", "/signup", "public"),
    ("POST", "/logout", "authenticated"),
    ("GET", "/dashboard", "workspace:workspaces_view"),
    ("POST", "/switch", "authenticated"),
    ("GET", "/workspaces", "authenticated"),
    ("POST", "/workspaces", "account:workspaces_create"),
    ("POST", "/workspaces/{ws}/edit", "workspace*:workspaces_edit"),
    ("POST", "/workspaces/{ws}/delete", "workspace*:workspaces_delete"),
    ("GET", "/static/app.css", "public"),
    ("GET", "/invite", "public"),
    ("GET", "/set-password", "public"),
    ("POST", "/set-password", "public"),
    ("GET", "/contacts", "workspace:contacts_view"),
    ("POST", "/contacts", "workspace:contacts_create"),
    ("GET", "/contacts/export", "workspace:contacts_export"),
    ("GET", "/contacts/import", "workspace:contacts_import"),
    ("POST", "/contacts/import", "workspace:contacts_import"),
    ("GET", "/contacts/imports/{id}", "workspace:contacts_import"),
    ("POST", "/contacts/imports/{id}/start", "workspace:contacts_import"),
    ("GET", "/contacts/imports/{id}/errors", "workspace:contacts_import"),
    ("POST", "/contacts/{id}/flags", "workspace:contacts_edit"),
    ("POST", "/contacts/{id}/delete", "workspace:contacts_delete"),
    ("GET", "/appointments", "workspace:appointments_view"),
    ("POST", "/appointments", "workspace:appointments_create"),
    ("GET", "/campaigns", "workspace:campaigns_view"),
    ("POST", "/campaigns", "workspace:campaigns_create"),
    ("GET", "/campaigns/{id}", "workspace:campaigns_view"),
    ("GET", "/campaigns/{id}/results.csv", "workspace:campaigns_view"),
    ("POST", "/campaigns/{id}/delete", "workspace:campaigns_delete"),
    ("POST", "/campaigns/{id}/{action}", "workspace:campaigns_edit"),
    ("GET", "/agents", "workspace:agents_view"),
    ("POST", "/agents", "workspace:agents_create"),
    ("GET", "/agents/{id}", "workspace:agents_view"),
    ("POST", "/agents/{id}", "workspace:agents_edit"),
    ("POST", "/agents/{id}/delete", "workspace:agents_delete"),
    ("GET", "/templates", "workspace:templates_view"),
    ("POST", "/templates", "workspace:templates_create"),
    ("POST", "/templates/analysis", "workspace:templates_create"),
    ("POST", "/templates/analysis/{id}/delete", "workspace:templates_delete"),
    ("GET", "/templates/{id}", "workspace:templates_view"),
    ("POST", "/templates/{id}", "workspace:templates_edit"),
    ("POST", "/templates/{id}/delete", "workspace:templates_delete"),
    ("GET", "/settings/workspace", "workspace:settings_view"),
    ("POST", "/settings/workspace", "workspace:settings_edit"),
    ("GET", "/settings/telephony", "workspace:telephony_view"),
    ("POST", "/settings/telephony", "workspace:telephony_edit"),
    ("POST", "/settings/telephony/groups/{group}", "workspace:telephony_edit"),
    ("GET", "/settings/telephony/sip", "workspace:telephony_view"),
    ("POST", "/settings/telephony/sip", "workspace:telephony_edit"),
    ("POST", "/settings/telephony/sip/{id}/delete", "workspace:telephony_edit"),
    ("GET", "/calls", "workspace:calls_view"),
    ("POST", "/calls", "workspace:calls_create"),
    ("GET", "/calls/export", "workspace:calls_export"),
    ("GET", "/calls/{id}", "workspace:calls_view"),
    ("GET", "/calls/{id}/recording.wav", "workspace:calls_view"),
    ("POST", "/calls/{id}/cancel", "workspace:calls_create"),
    ("POST", "/numbers/{id}/inbound", "workspace:calls_create"),
    ("GET", "/numbers", "workspace:phone_numbers_view"),
    ("POST", "/numbers", "workspace:phone_numbers_create"),
    ("POST", "/numbers/{id}/agent", "workspace:phone_numbers_edit"),
    ("POST", "/numbers/{id}/release", "workspace:phone_numbers_delete"),
    ("GET", "/settings/team", "workspace:members_view"),
    ("POST", "/settings/team/invitations", "workspace:members_invite"),
    ("POST", "/settings/team/invitations/{id}/resend", "workspace:members_invite"),
    ("POST", "/settings/team/invitations/{id}/revoke", "workspace:members_invite"),
    ("POST", "/settings/team/members/{user}/role", "workspace:members_edit"),
    ("POST", "/settings/team/members/{user}/remove", "workspace:members_remove"),
    ("POST", "/settings/team/ownership", "workspace:members_edit"),
    ("GET", "/settings/webhooks", "workspace:webhooks_view"),
    ("POST", "/settings/webhooks", "workspace:webhooks_create"),
    ("GET", "/settings/webhooks/{id}", "workspace:webhooks_view"),
    ("POST", "/settings/webhooks/{id}", "workspace:webhooks_edit"),
    ("POST", "/settings/webhooks/{id}/test", "workspace:webhooks_edit"),
    ("POST", "/settings/webhooks/{id}/rotate", "workspace:webhooks_edit"),
    ("POST", "/settings/webhooks/{id}/delete", "workspace:webhooks_delete"),
    ("POST", "/settings/webhooks/{id}/deliveries/{delivery_id}/redeliver", "workspace:webhooks_edit"),
    ("GET", "/docs/webhooks", "public"),
    ("GET", "/settings/api-keys", "workspace:api_keys_view"),
    ("POST", "/settings/api-keys", "workspace:api_keys_create"),
    ("POST", "/settings/api-keys/{id}/revoke", "workspace:api_keys_delete"),
    ("GET", "/audit", "workspace:audit_view"),
    ("GET", "/audit/export", "workspace:audit_view"),
    ("GET", "/account/users", "account:members_view"),
    ("GET", "/account/access-review.csv", "account:audit_view"),
    ("POST", "/account/users", "account:members_invite"),
    ("POST", "/account/access/grant", "account:members_edit"),
    ("POST", "/account/access/withdraw", "account:members_remove"),
    ("GET", "/account/wallet", "account:billing_view"),
    ("GET", "/account/roles", "account:roles_manage"),
    ("POST", "/account/roles", "account:roles_manage"),
    ("POST", "/account/roles/{id}", "account:roles_manage"),
    ("POST", "/account/roles/{id}/delete", "account:roles_manage"),
];

/// A concrete path for a route template.
pub fn fill(template: &str, ws: &str, acct: &str, user: &str) -> String {
    template
        .replace("{ws}", ws)
        .replace("{workspace}", ws)
        .replace("{acct}", acct)
        .replace("{user}", user)
        .replace("{id}", "inv_00000000000000000000000000000000")
        .replace("{role}", "role_00000000000000000000000000000000")
}

fn describe(a: Access) -> String {
    match a {
        Access::Public => "public".into(),
        Access::Authenticated => "authenticated".into(),
        Access::Account(p) => format!("account:{p}"),
        Access::Workspace(p) => format!("workspace:{p}"),
        Access::WorkspaceAnyStatus(p) => format!("workspace*:{p}"),
    }
}

#[test]
fn a5_every_route_is_in_the_table() {
    let actual: BTreeSet<(String, String, String)> = callplane_server::route_table()
        .into_iter()
        .map(|r| (r.method.to_string(), r.path.to_owned(), describe(r.access)))
        .collect();
    let expected: BTreeSet<(String, String, String)> =
        EXPECTED.iter().map(|(m, p, a)| (m.to_string(), p.to_string(), a.to_string())).collect();
    let missing: Vec<_> = actual.difference(&expected).collect();
    let stale: Vec<_> = expected.difference(&actual).collect();
    assert!(missing.is_empty(), "routes missing from the expected table (or with another access): {missing:#?}");
    assert!(stale.is_empty(), "expected routes the router does not have: {stale:#?}");
}

#[test]
fn a5_only_workspace_scoped_paths_use_workspace_access() {
    for r in callplane_server::route_table() {
        let scoped = matches!(r.access, Access::Workspace(_) | Access::WorkspaceAnyStatus(_));
        if r.path.contains("{ws}") {
            assert!(scoped, "{} {} names a workspace but is not workspace-scoped", r.method, r.path);
        }
    }
}

#[tokio::test]
async fn openapi_lists_every_api_route() {
    let app = spawn_app().await;
    let doc = app.call(Method::GET, "/api/openapi.json", None, None).await.expect(200);
    for r in callplane_server::route_table() {
        if !(r.path.starts_with("/api/") || matches!(r.path, "/healthz" | "/readyz" | "/metrics")) {
            continue;
        }
        let op = &doc["paths"][r.path][r.method.as_str().to_lowercase()];
        assert!(op.is_object(), "{} {} is missing from /api/openapi.json", r.method, r.path);
    }
    // A valid document: operation ids unique, and a path parameter only where the path
    // names it (query parameters declared as such), so generated clients work.
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} repeats ({method} {path})");
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    let name = p["name"].as_str().unwrap();
                    assert!(path.contains(&format!("{{{name}}}")), "{method} {path}: `{name}` is no path parameter");
                }
            }
        }
    }
    let contacts = &doc["paths"]["/api/v1/workspaces/{ws}/contacts"]["get"]["parameters"];
    assert!(contacts.as_array().unwrap().iter().any(|p| p["name"] == "limit" && p["in"] == "query"), "{contacts}");
}

#[tokio::test]
async fn a5_every_protected_route_refuses_anonymous_callers() {
    let app = spawn_app().await;
    let u = app.signup(&email("anon"), "Acme").await;
    for r in callplane_server::route_table() {
        if r.access == Access::Public {
            continue;
        }
        let path = fill(r.path, &u.workspace_id, &u.account_id, &u.user_id);
        let method = Method::from_bytes(r.method.as_str().as_bytes()).unwrap();
        let res = app.http.request(method, format!("{}{path}", app.base)).json(&json!({})).send().await.unwrap();
        let status = res.status().as_u16();
        if path.starts_with("/api/") {
            assert_eq!(status, 401, "{} {path}", r.method);
        } else if r.method == "GET" {
            assert_eq!(status, 303, "{} {path} sends to sign-in", r.method);
        } else {
            // Dashboard forms without a CSRF token are refused before anything else.
            assert_eq!(status, 403, "{} {path}", r.method);
        }
    }
}

#[tokio::test]
async fn a5_declared_permissions_are_enforced_for_every_workspace_route() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let ws = app.create_workspace(&owner.token, "Checked").await;
    let viewer = app.signup(&email("viewer"), "Viewer's own").await;
    app.add_member(&ws, &viewer.user_id, "viewer").await;
    let viewer_perms = callplane_domain::BuiltinRole::Viewer.permissions();
    let csrf = "t0ken";
    let mut checked = 0;
    for r in callplane_server::route_table() {
        let Some(p) = r.access.permission() else {
            continue;
        };
        if !r.path.contains("{ws}") {
            continue;
        }
        let path = fill(r.path, &ws, &owner.account_id, &owner.user_id);
        let method = Method::from_bytes(r.method.as_str().as_bytes()).unwrap();
        let req = app.http.request(method, format!("{}{path}", app.base));
        let req = if path.starts_with("/api/") {
            req.bearer_auth(&viewer.token).json(&json!({
                "confirm_name": "Checked", "role": "viewer", "email": "x@example.com", "name": "k",
                "user_id": owner.user_id,
            }))
        } else {
            req.header("cookie", format!("cp_session={}; cp_csrf={csrf}", viewer.token)).form(&[
                ("csrf", csrf),
                ("confirm_name", "Checked"),
                ("name", "Checked"),
            ])
        };
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        if viewer_perms.contains(p) {
            assert_ne!(status, 403, "{} {path} needs {p}, which a Viewer has", r.method);
        } else {
            assert_eq!(status, 403, "{} {path} needs {p}, which a Viewer lacks", r.method);
            if path.starts_with("/api/") {
                let body: serde_json::Value = res.json().await.unwrap();
                assert_eq!(body["permission"], p.as_str());
            }
        }
        checked += 1;
    }
    assert!(checked >= 7, "checked {checked} routes");
}
