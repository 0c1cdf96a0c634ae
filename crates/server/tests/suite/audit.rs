//! SPEC A6: the audit log records every workspace and membership change.

use serde_json::json;

use crate::common::{email, spawn_app};

#[tokio::test]
async fn a6_workspace_changes_are_recorded_with_actor_and_before_after() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let id = app.create_workspace(&u.token, "Audited").await;
    let path = format!("/api/v1/workspaces/{id}");
    app.patch(&path, &u.token, json!({ "name": "Audited 2", "status": "inactive" })).await.expect(200);
    // A no-op edit records nothing.
    app.patch(&path, &u.token, json!({ "name": "Audited 2" })).await.expect(200);

    let log = app.get(&format!("{path}/audit-log"), &u.token).await.expect(200);
    let events = log["data"].as_array().unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["workspace.updated", "member.added", "workspace.created"], "newest first");
    let updated = &events[0];
    assert_eq!(updated["actor_type"], "user");
    assert_eq!(updated["actor_id"], u.user_id.as_str());
    assert_eq!(updated["actor_label"], u.email.as_str());
    assert_eq!(updated["before"]["name"], "Audited");
    assert_eq!(updated["after"]["name"], "Audited 2");
    assert_eq!(updated["after"]["status"], "inactive");
    assert_eq!(events[1]["after"]["role"], "owner");
    assert!(updated["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a6_audit_log_filters_and_pages() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let path = format!("/api/v1/workspaces/{}", u.workspace_id);
    for i in 0..5 {
        app.patch(&path, &u.token, json!({ "name": format!("Acme {i}") })).await.expect(200);
    }
    let log = app.get(&format!("{path}/audit-log?action=workspace.updated&limit=2"), &u.token).await.expect(200);
    assert_eq!(log["data"].as_array().unwrap().len(), 2);
    let mut seen = log["data"].as_array().unwrap().clone();
    let mut cursor = log["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let page = app
            .get(&format!("{path}/audit-log?action=workspace.updated&limit=2&cursor={c}"), &u.token)
            .await
            .expect(200);
        seen.extend(page["data"].as_array().unwrap().iter().cloned());
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().all(|e| e["action"] == "workspace.updated"));
    let by_actor = app.get(&format!("{path}/audit-log?actor_id={}", u.user_id), &u.token).await.expect(200);
    assert_eq!(by_actor["data"].as_array().unwrap().len(), 7);
    let nobody = app.get(&format!("{path}/audit-log?actor_id=usr_nobody"), &u.token).await.expect(200);
    assert!(nobody["data"].as_array().unwrap().is_empty());
    let future = app.get(&format!("{path}/audit-log?since=2999-01-01T00:00:00Z"), &u.token).await.expect(200);
    assert!(future["data"].as_array().unwrap().is_empty());
    app.get(&format!("{path}/audit-log?since=yesterday"), &u.token).await.expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn a6_a_refused_change_writes_no_event() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let path = format!("/api/v1/workspaces/{}", u.workspace_id);
    let before = app.get(&format!("{path}/audit-log"), &u.token).await.expect(200);
    app.patch(&path, &u.token, json!({ "region": "us" })).await.expect_problem(422, "region_immutable");
    app.post("/api/v1/workspaces", &u.token, json!({ "name": "acme" }))
        .await
        .expect_problem(409, "workspace_name_taken");
    let after = app.get(&format!("{path}/audit-log"), &u.token).await.expect(200);
    assert_eq!(before["data"], after["data"]);
}
