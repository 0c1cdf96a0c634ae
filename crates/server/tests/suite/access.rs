//! SPEC A1–A5: roles, permissions, account administrators, per-workspace checks, refusals.

use serde_json::json;

use crate::common::{email, spawn_app, TestApp, User};
use crate::workspaces::page;

/// An owner's account with one extra workspace "Team", and a user of each role in it.
async fn team(app: &TestApp) -> (User, String, [User; 3]) {
    let owner = app.signup(&email("owner"), "Acme").await;
    let ws = app.create_workspace(&owner.token, "Team").await;
    let mut users = Vec::new();
    for role in ["admin", "member", "viewer"] {
        let u = app.signup(&email(role), &format!("{role}'s own")).await;
        app.add_member(&ws, &u.user_id, role).await;
        users.push(u);
    }
    (owner, ws, users.try_into().unwrap())
}

#[tokio::test]
async fn a1_builtin_roles_grant_what_the_spec_says() {
    let app = spawn_app().await;
    let (owner, ws, [admin, member, viewer]) = team(&app).await;
    let path = format!("/api/v1/workspaces/{ws}");

    // Everyone in the workspace can see it and its members.
    for u in [&owner, &admin, &member, &viewer] {
        app.get(&path, &u.token).await.expect(200);
        app.get(&format!("{path}/members"), &u.token).await.expect(200);
    }
    // Owner and Admin edit; Member and Viewer cannot.
    app.patch(&path, &admin.token, json!({ "name": "Team (renamed by admin)" })).await.expect(200);
    app.patch(&path, &owner.token, json!({ "name": "Team" })).await.expect(200);
    for u in [&member, &viewer] {
        let r = app.patch(&path, &u.token, json!({ "name": "nope" })).await;
        r.expect_problem(403, "permission_denied");
        assert_eq!(r.body["permission"], "workspaces_edit");
    }
    // Only the Owner deletes.
    for u in [&admin, &member, &viewer] {
        let r = app.delete(&path, &u.token, json!({ "confirm_name": "Team" })).await;
        r.expect_problem(403, "permission_denied");
        assert_eq!(r.body["permission"], "workspaces_delete");
    }
    // The audit log is for Owner and Admin, not Member or Viewer.
    app.get(&format!("{path}/audit-log"), &admin.token).await.expect(200);
    for u in [&member, &viewer] {
        app.get(&format!("{path}/audit-log"), &u.token).await.expect_problem(403, "permission_denied");
    }
    app.delete(&path, &owner.token, json!({ "confirm_name": "Team" })).await.expect(204);
}

#[tokio::test]
async fn a1_exactly_one_owner_per_new_workspace() {
    let app = spawn_app().await;
    let (owner, ws, _) = team(&app).await;
    let members = app.get(&format!("/api/v1/workspaces/{ws}/members"), &owner.token).await.expect(200);
    let owners: Vec<_> = members["data"].as_array().unwrap().iter().filter(|m| m["role"] == "owner").collect();
    assert_eq!(owners.len(), 1);
    assert_eq!(owners[0]["user_id"], owner.user_id.as_str());
}

#[tokio::test]
async fn a2_refusals_name_the_resource_action_permission() {
    let app = spawn_app().await;
    let (_, ws, [_, _, viewer]) = team(&app).await;
    let r = app.patch(&format!("/api/v1/workspaces/{ws}"), &viewer.token, json!({ "status": "inactive" })).await;
    r.expect_problem(403, "permission_denied");
    let p = r.body["permission"].as_str().unwrap();
    assert_eq!(p, "workspaces_edit");
    assert!(r.body["detail"].as_str().unwrap().contains(p));
}

#[tokio::test]
async fn a3_account_admins_reach_every_workspace_of_their_account() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let second = app.create_workspace(&owner.token, "Second").await;
    let other = app.signup(&email("other"), "Other Co").await;
    let admin = app.signup(&email("acct-admin"), "Admin's own").await;
    app.add_account_user(&owner.account_id, &admin.user_id, "admin").await;

    let list = app.get("/api/v1/workspaces", &admin.token).await.expect(200);
    let ids: Vec<&str> = list["data"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&owner.workspace_id.as_str()) && ids.contains(&second.as_str()));
    assert!(!ids.contains(&other.workspace_id.as_str()));
    app.patch(&format!("/api/v1/workspaces/{second}"), &admin.token, json!({ "name": "Second (admin)" }))
        .await
        .expect(200);
    app.get(&format!("/api/v1/workspaces/{}", other.workspace_id), &admin.token).await.expect_problem(404, "not_found");
    // Account admins may create workspaces in the account.
    app.post("/api/v1/workspaces", &admin.token, json!({ "name": "By admin", "account_id": owner.account_id }))
        .await
        .expect(201);
}

#[tokio::test]
async fn a3_a_user_without_workspaces_sees_an_empty_selector_and_a_clear_message() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let lonely = app.signup(&email("lonely"), "Lonely").await;
    app.add_account_user(&owner.account_id, &lonely.user_id, "member").await;
    // They leave their own account: now they reach no workspace at all.
    let mut tx = app.state.db.begin().await.unwrap();
    callplane_store::fixtures::detach_user(&mut tx, &lonely.account_id, &lonely.user_id).await.unwrap();
    tx.commit().await.unwrap();

    let me = app.get("/api/v1/me", &lonely.token).await.expect(200);
    assert!(me["active_workspace"].is_null());
    let html = page(&app, "/workspaces", &lonely.token).await;
    assert!(html.contains("No workspace"), "selector says there is none");
    assert!(html.contains("not been given access to any workspace"), "a clear message");
    // The dashboard sends them to that page rather than failing.
    let res = app
        .http
        .get(format!("{}/dashboard", app.base))
        .header("cookie", format!("cp_session={}", lonely.token))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/workspaces");
}

#[tokio::test]
async fn a4_permissions_are_checked_per_workspace() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let sales = app.create_workspace(&owner.token, "Sales").await;
    let support = app.create_workspace(&owner.token, "Support").await;
    let u = app.signup(&email("split"), "Split's own").await;
    app.add_member(&sales, &u.user_id, "admin").await;
    app.add_member(&support, &u.user_id, "viewer").await;
    app.patch(&format!("/api/v1/workspaces/{sales}"), &u.token, json!({ "name": "Sales 2" })).await.expect(200);
    app.patch(&format!("/api/v1/workspaces/{support}"), &u.token, json!({ "name": "Support 2" }))
        .await
        .expect_problem(403, "permission_denied");
    app.get(&format!("/api/v1/workspaces/{support}/audit-log"), &u.token)
        .await
        .expect_problem(403, "permission_denied");
    app.get(&format!("/api/v1/workspaces/{sales}/audit-log"), &u.token).await.expect(200);
}

#[tokio::test]
async fn a5_refusals_are_clear_errors_never_silent() {
    let app = spawn_app().await;
    let (_, ws, [_, member, _]) = team(&app).await;
    let before = app.snapshot().await;
    let r = app.patch(&format!("/api/v1/workspaces/{ws}"), &member.token, json!({ "name": "x" })).await;
    r.expect_problem(403, "permission_denied");
    assert!(!r.body["detail"].as_str().unwrap().is_empty());
    assert_eq!(app.snapshot().await, before, "a refused write changes nothing");
    // No credentials at all: 401 with a code, not an empty list.
    let r = app.call(reqwest::Method::GET, "/api/v1/workspaces", None, None).await;
    r.expect_problem(401, "unauthenticated");
}
