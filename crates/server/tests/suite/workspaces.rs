//! SPEC W1–W7: workspaces.

use serde_json::json;

use crate::common::{email, spawn_app, spawn_with};

#[tokio::test]
async fn w1_create_trims_name_defaults_and_makes_creator_owner() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let ws = app
        .post("/api/v1/workspaces", &u.token, json!({ "name": "  Client A – Marketing  ", "region": "eu" }))
        .await
        .expect(201);
    assert_eq!(ws["name"], "Client A – Marketing");
    assert_eq!(ws["status"], "active");
    assert_eq!(ws["region"], "eu");
    assert_eq!(ws["account_id"], u.account_id.as_str());
    let id = ws["id"].as_str().unwrap();
    assert!(id.starts_with("ws_"));
    let members = app.get(&format!("/api/v1/workspaces/{id}/members"), &u.token).await.expect(200);
    assert_eq!(members["data"].as_array().unwrap().len(), 1);
    assert_eq!(members["data"][0]["user_id"], u.user_id.as_str());
    assert_eq!(members["data"][0]["role"], "owner");
    let got = app.get(&format!("/api/v1/workspaces/{id}"), &u.token).await.expect(200);
    assert_eq!(got["role"], "owner");
}

#[tokio::test]
async fn w1_region_defaults_and_must_be_configured() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let ws = app.post("/api/v1/workspaces", &u.token, json!({ "name": "Default region" })).await.expect(201);
    assert_eq!(ws["region"], "in");
    let r = app.post("/api/v1/workspaces", &u.token, json!({ "name": "Mars", "region": "mars" })).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "region");
}

#[tokio::test]
async fn w1_inactive_status_can_be_chosen_at_creation() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let ws =
        app.post("/api/v1/workspaces", &u.token, json!({ "name": "Later", "status": "inactive" })).await.expect(201);
    assert_eq!(ws["status"], "inactive");
    let r = app.post("/api/v1/workspaces", &u.token, json!({ "name": "Odd", "status": "paused" })).await;
    r.expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn w1_names_are_unique_per_account_case_insensitively() {
    let app = spawn_app().await;
    let a = app.signup(&email("a"), "Agency A").await;
    let b = app.signup(&email("b"), "Agency B").await;
    app.create_workspace(&a.token, "Sales North").await;
    for dup in ["sales north", "  SALES NORTH ", "Sales   North"] {
        let r = app.post("/api/v1/workspaces", &a.token, json!({ "name": dup })).await;
        r.expect_problem(409, "workspace_name_taken");
        assert_eq!(r.body["errors"][0]["field"], "name");
    }
    // Another account may use the same name.
    app.create_workspace(&b.token, "Sales North").await;
}

#[tokio::test]
async fn w1_name_length_is_one_to_one_hundred_characters() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    for bad in ["", "   ", &"x".repeat(101)] {
        let r = app.post("/api/v1/workspaces", &u.token, json!({ "name": bad })).await;
        r.expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "name");
    }
    let hundred = "é".repeat(100);
    let ws = app.post("/api/v1/workspaces", &u.token, json!({ "name": hundred })).await.expect(201);
    assert_eq!(ws["name"].as_str().unwrap().chars().count(), 100);
}

#[tokio::test]
async fn w1_creating_needs_workspaces_create_at_account_level() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let other = app.signup(&email("member"), "Elsewhere").await;
    // A plain account member (not admin) with a membership in Acme's workspace.
    app.add_account_user(&owner.account_id, &other.user_id, "member").await;
    app.add_member(&owner.workspace_id, &other.user_id, "admin").await;
    let r =
        app.post("/api/v1/workspaces", &other.token, json!({ "name": "Sneaky", "account_id": owner.account_id })).await;
    r.expect_problem(403, "permission_denied");
    assert_eq!(r.body["permission"], "workspaces_create");
    // An account they do not belong to at all does not exist for them.
    let stranger = app.signup(&email("stranger"), "Strangers").await;
    let r = app
        .post("/api/v1/workspaces", &stranger.token, json!({ "name": "Sneaky", "account_id": owner.account_id }))
        .await;
    r.expect_problem(404, "not_found");
}

#[tokio::test]
async fn w2_starter_plan_caps_workspaces_at_three() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    app.create_workspace(&u.token, "Two").await;
    app.create_workspace(&u.token, "Three").await;
    let r = app.post("/api/v1/workspaces", &u.token, json!({ "name": "Four" })).await;
    r.expect_problem(403, "plan_limit_reached");
    assert_eq!(r.body["limit"], 3);
    assert!(r.body["detail"].as_str().unwrap().contains("starter"));
    // Upgrading lifts the cap to twenty.
    app.set_plan(&u.account_id, "professional").await;
    for i in 4..=20 {
        app.create_workspace(&u.token, &format!("Workspace {i}")).await;
    }
    let r = app.post("/api/v1/workspaces", &u.token, json!({ "name": "Twenty-one" })).await;
    r.expect_problem(403, "plan_limit_reached");
    // Enterprise is unlimited.
    app.set_plan(&u.account_id, "enterprise").await;
    app.create_workspace(&u.token, "Twenty-one").await;
}

#[tokio::test]
async fn w2_plan_limits_are_configurable() {
    let app = spawn_with(|c| c.plans.starter = 1).await;
    let u = app.signup(&email("owner"), "Acme").await;
    let r = app.post("/api/v1/workspaces", &u.token, json!({ "name": "Second" })).await;
    r.expect_problem(403, "plan_limit_reached");
}

#[tokio::test]
async fn w3_name_and_status_change_region_never_does() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let id = app.create_workspace(&u.token, "Support").await;
    let path = format!("/api/v1/workspaces/{id}");
    let ws = app.patch(&path, &u.token, json!({ "name": "Support EMEA", "status": "inactive" })).await.expect(200);
    assert_eq!(ws["name"], "Support EMEA");
    assert_eq!(ws["status"], "inactive");
    let r = app.patch(&path, &u.token, json!({ "region": "us" })).await;
    r.expect_problem(422, "region_immutable");
    // Refused as a whole: the name in the same request did not change either.
    let r = app.patch(&path, &u.token, json!({ "name": "Renamed", "region": "us" })).await;
    r.expect_problem(422, "region_immutable");
    let ws = app.get(&path, &u.token).await.expect(200);
    assert_eq!(ws["region"], "in");
    assert_eq!(ws["name"], "Support EMEA");
    // Naming the current region is not a change.
    app.patch(&path, &u.token, json!({ "region": "in", "status": "active" })).await.expect(200);
    // Renaming onto a sibling's name is refused.
    let first = app.get(&format!("/api/v1/workspaces/{}", u.workspace_id), &u.token).await.expect(200);
    let r = app.patch(&path, &u.token, json!({ "name": first["name"] })).await;
    r.expect_problem(409, "workspace_name_taken");
}

#[tokio::test]
async fn w4_inactive_workspace_is_hidden_refused_and_restored_intact() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let id = app.create_workspace(&u.token, "Seasonal").await;
    app.plant_agent(&id, "agt_fixture", "inactive").await;
    let path = format!("/api/v1/workspaces/{id}");
    app.patch(&path, &u.token, json!({ "status": "inactive" })).await.expect(200);

    // Hidden from the selector's list and from switching.
    let active = app.get("/api/v1/workspaces?status=active", &u.token).await.expect(200);
    assert!(active["data"].as_array().unwrap().iter().all(|w| w["id"] != id.as_str()));
    let inactive = app.get("/api/v1/workspaces?status=inactive", &u.token).await.expect(200);
    assert_eq!(inactive["data"].as_array().unwrap().len(), 1);
    app.switch(&u.token, &id).await.expect_problem(403, "workspace_inactive");
    // Its data is refused with a clear error.
    let r = app.get(&format!("{path}/members"), &u.token).await;
    r.expect_problem(403, "workspace_inactive");
    assert!(r.body["detail"].as_str().unwrap().contains("inactive"));
    // Nothing was deleted.
    let counts = app.row_counts(&id).await;
    assert!(
        counts.contains(&("workspaces", 1)) && counts.contains(&("memberships", 1)) && counts.contains(&("agents", 1))
    );

    app.patch(&path, &u.token, json!({ "status": "active" })).await.expect(200);
    let members = app.get(&format!("{path}/members"), &u.token).await.expect(200);
    assert_eq!(members["data"][0]["role"], "owner");
    app.switch(&u.token, &id).await.expect(200);
}

#[tokio::test]
async fn w5_delete_needs_the_exact_name_typed() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let id = app.create_workspace(&u.token, "Client B").await;
    let path = format!("/api/v1/workspaces/{id}");
    for wrong in ["client b", "Client", ""] {
        let r = app.delete(&path, &u.token, json!({ "confirm_name": wrong })).await;
        r.expect_problem(422, "confirmation_mismatch");
    }
    let r = app.call(reqwest::Method::DELETE, &path, Some(&u.token), None).await;
    r.expect_problem(422, "validation_failed");
    app.get(&path, &u.token).await.expect(200);
    app.delete(&path, &u.token, json!({ "confirm_name": "Client B" })).await.expect(204);
    app.get(&path, &u.token).await.expect_problem(404, "not_found");
}

#[tokio::test]
async fn w5_refuses_the_accounts_only_workspace() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Solo").await;
    let r = app
        .delete(&format!("/api/v1/workspaces/{}", u.workspace_id), &u.token, json!({ "confirm_name": "Solo" }))
        .await;
    r.expect_problem(409, "only_workspace");
}

#[tokio::test]
async fn w5_refuses_the_callers_active_workspace() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let other = app.create_workspace(&u.token, "Other").await;
    app.switch(&u.token, &other).await.expect(200);
    let r = app.delete(&format!("/api/v1/workspaces/{other}"), &u.token, json!({ "confirm_name": "Other" })).await;
    r.expect_problem(409, "active_workspace");
    app.switch(&u.token, &u.workspace_id).await.expect(200);
    app.delete(&format!("/api/v1/workspaces/{other}"), &u.token, json!({ "confirm_name": "Other" })).await.expect(204);
}

#[tokio::test]
async fn w5_refuses_while_active_agents_or_numbers_remain() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let id = app.create_workspace(&u.token, "Busy").await;
    let path = format!("/api/v1/workspaces/{id}");
    app.plant_agent(&id, "agt_one", "active").await;
    app.plant_number(&id, "num_one", "active").await;
    let r = app.delete(&path, &u.token, json!({ "confirm_name": "Busy" })).await;
    r.expect_problem(409, "workspace_not_empty");
    assert_eq!(r.body["active_agents"], 1);
    assert_eq!(r.body["active_phone_numbers"], 1);

    let mut tx = app.region_db(&id).await.begin().await.unwrap();
    callplane_store::fixtures::set_agent_status(&mut tx, &id, "agt_one", "inactive").await.unwrap();
    tx.commit().await.unwrap();
    let r = app.delete(&path, &u.token, json!({ "confirm_name": "Busy" })).await;
    r.expect_problem(409, "workspace_not_empty");
    assert_eq!(r.body["active_agents"], 0);

    let mut tx = app.region_db(&id).await.begin().await.unwrap();
    callplane_store::fixtures::set_phone_number_status(&mut tx, &id, "num_one", "released").await.unwrap();
    tx.commit().await.unwrap();
    app.delete(&path, &u.token, json!({ "confirm_name": "Busy" })).await.expect(204);
}

#[tokio::test]
async fn w5_delete_needs_workspaces_delete() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let admin = app.signup(&email("admin"), "Admin's own").await;
    let id = app.create_workspace(&owner.token, "Target").await;
    app.add_member(&id, &admin.user_id, "admin").await;
    let r = app.delete(&format!("/api/v1/workspaces/{id}"), &admin.token, json!({ "confirm_name": "Target" })).await;
    r.expect_problem(403, "permission_denied");
    assert_eq!(r.body["permission"], "workspaces_delete");
}

#[tokio::test]
async fn w5_delete_removes_everything_in_it_and_nothing_else() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let member = app.signup(&email("member"), "Member's own").await;
    let doomed = app.create_workspace(&owner.token, "Doomed").await;
    let kept = app.create_workspace(&owner.token, "Kept").await;
    for ws in [&doomed, &kept] {
        app.plant_agent(ws, "agt_same_id", "inactive").await;
        app.plant_number(ws, "num_same_id", "released").await;
        app.add_member(ws, &member.user_id, "member").await;
    }
    // The member's session has the doomed workspace active; deletion must not break it.
    app.switch(&member.token, &doomed).await.expect(200);
    let kept_before = app.row_counts(&kept).await;
    let first_before = app.row_counts(&owner.workspace_id).await;

    app.delete(&format!("/api/v1/workspaces/{doomed}"), &owner.token, json!({ "confirm_name": "Doomed" }))
        .await
        .expect(204);

    assert!(app.row_counts(&doomed).await.iter().all(|(_, n)| *n == 0), "{:?}", app.row_counts(&doomed).await);
    assert_eq!(app.row_counts(&kept).await, kept_before);
    assert_eq!(app.row_counts(&owner.workspace_id).await, first_before);
    // The member falls back to a workspace they still reach.
    let me = app.get("/api/v1/me", &member.token).await.expect(200);
    assert_ne!(me["active_workspace"]["id"], doomed.as_str());
    // The deletion itself stays on record.
    let mut conn = app.state.db.conn().await.unwrap();
    let actions = callplane_store::fixtures::audit_actions(&mut conn, &doomed).await.unwrap();
    assert_eq!(actions.last().map(String::as_str), Some("workspace.deleted"));
}

#[tokio::test]
async fn w6_a_session_has_exactly_one_active_workspace_shown_in_the_navigation() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let me = app.get("/api/v1/me", &u.token).await.expect(200);
    assert_eq!(me["active_workspace"]["id"], u.workspace_id.as_str());
    let second = app.create_workspace(&u.token, "Second Brand").await;
    app.switch(&u.token, &second).await.expect(200);
    let me = app.get("/api/v1/me", &u.token).await.expect(200);
    assert_eq!(me["active_workspace"]["id"], second.as_str());
    assert_eq!(me["workspaces"].as_array().unwrap().len(), 2);

    // A second session of the same user has its own active workspace.
    let other_session = app.login(&u.email).await;
    let me2 = app.get("/api/v1/me", &other_session).await.expect(200);
    assert_eq!(me2["active_workspace"]["id"], u.workspace_id.as_str());

    // The dashboard names the active workspace in its top navigation.
    let html = page(&app, "/dashboard", &u.token).await;
    let nav = html.split("id=\"active-workspace\"").nth(1).expect("active workspace in nav");
    assert!(nav[..400.min(nav.len())].contains("Second Brand"), "{nav}");
}

#[tokio::test]
async fn w7_switching_lists_only_active_accessible_workspaces() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let stranger = app.signup(&email("stranger"), "Other Co").await;
    let paused = app.create_workspace(&u.token, "Paused").await;
    app.patch(&format!("/api/v1/workspaces/{paused}"), &u.token, json!({ "status": "inactive" })).await.expect(200);
    app.switch(&u.token, &paused).await.expect_problem(403, "workspace_inactive");
    app.switch(&u.token, &stranger.workspace_id).await.expect_problem(404, "not_found");
    app.switch(&u.token, "ws_doesnotexist").await.expect_problem(404, "not_found");

    // The selector shows only the one active workspace: no dropdown.
    let html = page(&app, "/dashboard", &u.token).await;
    assert!(!html.contains("class=\"dropdown\""), "no dropdown with one active workspace");
    assert!(!html.contains("Paused"));

    // With two active workspaces the dropdown lists both, and switching changes the view.
    let second = app.create_workspace(&u.token, "Second").await;
    let html = page(&app, "/dashboard", &u.token).await;
    assert!(html.contains("class=\"dropdown\""));
    assert!(html.contains("data-workspace-name=\"Second\""));
    assert!(!html.contains("data-workspace-name=\"Paused\""));
    app.switch(&u.token, &second).await.expect(200);
    let html = page(&app, "/dashboard", &u.token).await;
    assert!(html.contains("<h1>Second</h1>"));
    assert!(!html.contains("<h1>Acme</h1>"));
}

/// A dashboard page fetched with the session cookie.
pub async fn page(app: &crate::common::TestApp, path: &str, token: &str) -> String {
    let res = app
        .http
        .get(format!("{}{path}", app.base))
        .header("cookie", format!("cp_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "GET {path}");
    res.text().await.unwrap()
}
