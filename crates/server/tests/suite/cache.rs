//! The request path's access cache: warm principals are served without reading the
//! database, and every access change (K3, T3, A2, W4, W5) takes effect on the very next
//! request anyway. Each test warms the cache first, proves it is being hit, then
//! changes access and expects the refusal at once.

use serde_json::json;

use crate::common::{email, spawn_app, TestApp};

/// Requests `path` twice with `token` (warming the cache) and asserts the second was
/// answered from it.
async fn warm(app: &TestApp, path: &str, token: &str) {
    app.get(path, token).await.expect(200);
    let (hits_before, misses_before) = app.state.access_cache.stats();
    app.get(path, token).await.expect(200);
    let (hits, misses) = app.state.access_cache.stats();
    assert!(hits >= hits_before + 2, "credential and scope come from the cache");
    assert_eq!(misses, misses_before, "a warm request reads nothing: {hits}/{misses}");
}

#[tokio::test]
async fn k3_cached_key_fails_on_the_next_request_after_revocation() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let (key_id, secret) = app.create_key(&owner.token, &owner.workspace_id, "viewer").await;
    let path = format!("/api/v1/workspaces/{}", owner.workspace_id);
    warm(&app, &path, &secret).await;
    app.delete(&format!("{path}/api-keys/{key_id}"), &owner.token, json!({})).await.expect(204);
    app.get(&path, &secret).await.expect_problem(401, "unauthenticated");
}

#[tokio::test]
async fn t3_cached_member_loses_access_on_the_next_request_after_removal() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let person = app.signup(&email("person"), "Home").await;
    app.add_member(&owner.workspace_id, &person.user_id, "admin").await;
    let (_, key) = app.create_key(&person.token, &owner.workspace_id, "member").await;
    let path = format!("/api/v1/workspaces/{}", owner.workspace_id);
    warm(&app, &path, &person.token).await;
    warm(&app, &path, &key).await;
    app.delete(&format!("{path}/members/{}", person.user_id), &owner.token, json!({})).await.expect(204);
    app.get(&path, &person.token).await.expect_problem(404, "not_found");
    app.get(&path, &key).await.expect_problem(401, "unauthenticated");
}

#[tokio::test]
async fn a1_cached_role_change_applies_on_the_next_request() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let person = app.signup(&email("person"), "Home").await;
    app.add_member(&owner.workspace_id, &person.user_id, "admin").await;
    let base = format!("/api/v1/workspaces/{}", owner.workspace_id);
    warm(&app, &format!("{base}/members"), &person.token).await;
    app.patch(&format!("{base}/members/{}", person.user_id), &owner.token, json!({ "role": "viewer" }))
        .await
        .expect(200);
    // Viewers may list members but not invite; the cached Admin scope must be gone.
    let r =
        app.post(&format!("{base}/invitations"), &person.token, json!({ "email": email("x"), "role": "viewer" })).await;
    r.expect_problem(403, "permission_denied");
    let me = app.get(&base, &person.token).await.expect(200);
    assert_eq!(me["role"], "viewer");
}

#[tokio::test]
async fn a2_cached_custom_role_edit_applies_on_the_next_request() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let person = app.signup(&email("person"), "Home").await;
    let roles = format!("/api/v1/accounts/{}/roles", owner.account_id);
    let role = app
        .post(&roles, &owner.token, json!({ "name": "Auditor", "permissions": ["workspaces_view", "members_view"] }))
        .await
        .expect(201);
    let role_id = role["id"].as_str().unwrap();
    app.add_member(&owner.workspace_id, &person.user_id, role_id).await;
    let members = format!("/api/v1/workspaces/{}/members", owner.workspace_id);
    warm(&app, &members, &person.token).await;
    app.patch(&format!("{roles}/{role_id}"), &owner.token, json!({ "permissions": ["workspaces_view"] }))
        .await
        .expect(200);
    let r = app.get(&members, &person.token).await;
    r.expect_problem(403, "permission_denied");
    assert_eq!(r.body["permission"], "members_view");
}

#[tokio::test]
async fn w4_cached_key_is_refused_on_the_next_request_after_deactivation() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let ws = app.create_workspace(&owner.token, "Second").await;
    let (_, key) = app.create_key(&owner.token, &ws, "admin").await;
    let path = format!("/api/v1/workspaces/{ws}");
    warm(&app, &format!("{path}/members"), &key).await;
    app.patch(&path, &owner.token, json!({ "status": "inactive" })).await.expect(200);
    app.get(&format!("{path}/members"), &key).await.expect_problem(403, "workspace_inactive");
    app.patch(&path, &owner.token, json!({ "status": "active" })).await.expect(200);
    app.get(&format!("{path}/members"), &key).await.expect(200);
}

#[tokio::test]
async fn w5_cached_scope_is_gone_on_the_next_request_after_deletion() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let ws = app.create_workspace(&owner.token, "Doomed").await;
    let (_, key) = app.create_key(&owner.token, &ws, "viewer").await;
    let path = format!("/api/v1/workspaces/{ws}");
    warm(&app, &path, &key).await;
    warm(&app, &path, &owner.token).await;
    app.delete(&path, &owner.token, json!({ "confirm_name": "Doomed" })).await.expect(204);
    app.get(&path, &owner.token).await.expect_problem(404, "not_found");
    app.get(&path, &key).await.expect_problem(401, "unauthenticated");
}

#[tokio::test]
async fn w7_cached_session_follows_a_switch_and_a_logout() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let second = app.create_workspace(&owner.token, "Second").await;
    warm(&app, "/api/v1/me", &owner.token).await;
    app.switch(&owner.token, &second).await.expect(200);
    let me = app.get("/api/v1/me", &owner.token).await.expect(200);
    assert_eq!(me["active_workspace"]["id"], second.as_str());
    app.call(reqwest::Method::POST, "/api/v1/auth/logout", Some(&owner.token), None).await;
    app.get("/api/v1/me", &owner.token).await.expect_problem(401, "unauthenticated");
}
