//! SPEC K1–K3: API keys.

use reqwest::Method;
use serde_json::json;

use crate::common::{email, spawn_app};

#[tokio::test]
async fn k1_workspace_keys_reach_only_their_workspace_and_are_shown_once() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let sibling = app.create_workspace(&owner.token, "Sibling").await;
    let created = app
        .post(
            &format!("/api/v1/workspaces/{}/api-keys", owner.workspace_id),
            &owner.token,
            json!({ "name": "CRM sync", "role": "viewer" }),
        )
        .await
        .expect(201);
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("cp_live_"));
    assert!(secret.starts_with(created["prefix"].as_str().unwrap().trim_end_matches('…')));
    app.get(&format!("/api/v1/workspaces/{}", owner.workspace_id), secret).await.expect(200);
    // A sibling workspace of the same account does not exist for this key.
    app.get(&format!("/api/v1/workspaces/{sibling}"), secret).await.expect_problem(404, "not_found");
    // Listed with name, prefix, role, creator and last use; never the secret.
    let list = app.get(&format!("/api/v1/workspaces/{}/api-keys", owner.workspace_id), &owner.token).await.expect(200);
    let k = &list["data"][0];
    assert_eq!(k["name"], "CRM sync");
    assert_eq!(k["role"], "viewer");
    assert_eq!(k["created_by"], owner.user_id.as_str());
    assert!(k["last_used_at"].is_string(), "last use recorded");
    assert!(!list.to_string().contains(secret));
    if let Some(bytes) = app.database_bytes() {
        assert!(!bytes.contains(secret), "only a hash is stored");
    }
    // Malformed and made-up keys fail before any lookup.
    for bad in ["cp_live_x", "cp_live_00000000000000000000000000000000000000"] {
        app.get("/api/v1/workspaces", bad).await.expect_problem(401, "unauthenticated");
    }
}

#[tokio::test]
async fn k1_a_keys_role_is_not_above_its_creators() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let admin = app.signup(&email("admin"), "Admin home").await;
    app.add_member(&owner.workspace_id, &admin.user_id, "admin").await;
    let path = format!("/api/v1/workspaces/{}/api-keys", owner.workspace_id);
    app.post(&path, &admin.token, json!({ "name": "too much", "role": "owner" }))
        .await
        .expect_problem(403, "role_above_own");
    app.post(&path, &admin.token, json!({ "name": "fine", "role": "admin" })).await.expect(201);
    app.post(&path, &admin.token, json!({ "name": "bad role", "role": "superuser" }))
        .await
        .expect_problem(422, "validation_failed");
    // A key cannot mint keys: keys belong to people.
    let (_, secret) = app.create_key(&owner.token, &owner.workspace_id, "admin").await;
    app.post(&path, &secret, json!({ "name": "child", "role": "viewer" }))
        .await
        .expect_problem(403, "session_required");
}

#[tokio::test]
async fn k1_a_viewer_key_is_refused_every_write_with_permission_denied() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let (_, secret) = app.create_key(&owner.token, &owner.workspace_id, "viewer").await;
    let before = app.snapshot().await;
    let mut writes = 0;
    for r in callplane_server::route_table() {
        if r.method == "GET" || !r.path.starts_with("/api/v1/workspaces/{ws}") {
            continue;
        }
        let path = crate::route_table::fill(r.path, &owner.workspace_id, &owner.account_id, &owner.user_id);
        let method = Method::from_bytes(r.method.as_str().as_bytes()).unwrap();
        let body = json!({ "name": "x", "role": "viewer", "email": "x@example.com", "confirm_name": "Acme",
                           "user_id": owner.user_id, "status": "inactive" });
        let res = app.call(method, &path, Some(&secret), Some(body)).await;
        res.expect_problem(403, "permission_denied");
        writes += 1;
    }
    assert!(writes >= 9, "tried {writes} writes");
    assert_eq!(app.snapshot().await, before);
    // Reads work.
    app.get(&format!("/api/v1/workspaces/{}/members", owner.workspace_id), &secret).await.expect(200);
}

#[tokio::test]
async fn k2_organization_keys_reach_every_workspace_of_an_enterprise_account() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let second = app.create_workspace(&owner.token, "Second").await;
    let other = app.signup(&email("other"), "Other Co").await;
    let path = format!("/api/v1/accounts/{}/api-keys", owner.account_id);
    app.post(&path, &owner.token, json!({ "name": "org", "role": "admin" })).await.expect_problem(403, "plan_required");
    app.set_plan(&owner.account_id, "enterprise").await;
    let created = app.post(&path, &owner.token, json!({ "name": "org", "role": "admin" })).await.expect(201);
    let secret = created["secret"].as_str().unwrap();
    for ws in [&owner.workspace_id, &second] {
        app.get(&format!("/api/v1/workspaces/{ws}/members"), secret).await.expect(200);
    }
    app.patch(&format!("/api/v1/workspaces/{second}"), secret, json!({ "name": "Second (org key)" })).await.expect(200);
    app.get(&format!("/api/v1/workspaces/{}", other.workspace_id), secret).await.expect_problem(404, "not_found");
    // Audited as the key, not as a person.
    let log = app
        .get(&format!("/api/v1/workspaces/{second}/audit-log?action=workspace.updated"), &owner.token)
        .await
        .expect(200);
    assert_eq!(log["data"][0]["actor_type"], "api_key");
    assert_eq!(log["data"][0]["actor_id"], created["id"]);
    // Another account's admin cannot list or make this account's keys.
    app.get(&path, &other.token).await.expect_problem(404, "not_found");
    let list = app.get(&path, &owner.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    app.delete(&format!("{path}/{}", created["id"].as_str().unwrap()), &owner.token, json!({})).await.expect(204);
    app.get(&format!("/api/v1/workspaces/{second}"), secret).await.expect_problem(401, "unauthenticated");
}

#[tokio::test]
async fn k3_revoked_inactive_and_deleted_workspace_keys_fail_at_once() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let ws = app.create_workspace(&owner.token, "Keys").await;
    let path = format!("/api/v1/workspaces/{ws}");
    let (id, revoked) = app.create_key(&owner.token, &ws, "viewer").await;
    let (_, live) = app.create_key(&owner.token, &ws, "viewer").await;
    app.delete(&format!("{path}/api-keys/{id}"), &owner.token, json!({})).await.expect(204);
    app.get(&path, &revoked).await.expect_problem(401, "unauthenticated");
    app.get(&path, &live).await.expect(200);

    app.patch(&path, &owner.token, json!({ "status": "inactive" })).await.expect(200);
    let r = app.get(&path, &live).await;
    r.expect_problem(403, "workspace_inactive");
    app.patch(&path, &owner.token, json!({ "status": "active" })).await.expect(200);
    app.get(&path, &live).await.expect(200);

    app.delete(&path, &owner.token, json!({ "confirm_name": "Keys" })).await.expect(204);
    app.get(&path, &live).await.expect_problem(401, "unauthenticated");
}
