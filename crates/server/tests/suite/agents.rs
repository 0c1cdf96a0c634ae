//! SPEC P3, W8: voice agents and default agent settings; A1's matrix for agents.

use serde_json::json;

use crate::common::{email, spawn_app};

#[tokio::test]
async fn w8_new_agents_take_the_workspace_defaults_and_override_them() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    let settings = app.get(&format!("{ws}/settings"), &u.token).await.expect(200);
    assert_eq!(settings["agent_defaults"]["llm_model"], "gpt-4o-mini", "the configuration's first model");
    assert!(settings["allowed"]["tts_voices"].as_array().unwrap().len() > 1);
    let saved = app
        .put(
            &format!("{ws}/settings"),
            &u.token,
            json!({ "agent_defaults": { "llm_model": "gpt-4o", "tts_voice": "azure-neerja-en-IN", "max_call_seconds": 300, "recording": false } }),
        )
        .await
        .expect(200);
    assert_eq!(saved["agent_defaults"]["max_call_seconds"], 300);
    app.put(&format!("{ws}/settings"), &u.token, json!({ "agent_defaults": { "llm_model": "gpt-99" } }))
        .await
        .expect_problem(422, "validation_failed");

    // The dashboard's new-agent form starts from the defaults too: recording off.
    let page = app
        .http
        .get(format!("{}/agents", app.base))
        .header("cookie", format!("cp_session={}", u.token))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = &page[page.find("name=\"recording\"").expect("the new-agent form")..];
    assert!(!form[..form.find('>').unwrap()].contains("checked"), "recording pre-ticked against the default");

    let a = app
        .post(&format!("{ws}/agents"), &u.token, json!({ "name": "Receptionist", "system_prompt": "Be kind." }))
        .await
        .expect(201);
    assert_eq!((a["llm_model"].as_str(), a["tts_voice"].as_str()), (Some("gpt-4o"), Some("azure-neerja-en-IN")));
    assert_eq!((a["max_call_seconds"].as_i64(), a["recording"].as_bool()), (Some(300), Some(false)));
    assert_eq!(a["status"], "active");
    let b = app
        .post(
            &format!("{ws}/agents"),
            &u.token,
            json!({ "name": "Sales", "llm_model": "claude-3-5-sonnet", "recording": true,
                                                          "webhook_url": "https://hooks.example.com/agent" }),
        )
        .await
        .expect(201);
    assert_eq!((b["llm_model"].as_str(), b["recording"].as_bool()), (Some("claude-3-5-sonnet"), Some(true)));
    for (body, field) in [
        (json!({}), "name"),
        (json!({ "name": "x", "transcriber": "none" }), "transcriber"),
        (json!({ "name": "x", "max_call_seconds": 5 }), "max_call_seconds"),
        (json!({ "name": "x", "webhook_url": "ftp://x" }), "webhook_url"),
        (json!({ "name": "x", "status": "paused" }), "status"),
    ] {
        let r = app.post(&format!("{ws}/agents"), &u.token, body).await;
        r.expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field);
    }
    let path = format!("{ws}/agents/{}", a["id"].as_str().unwrap());
    let edited =
        app.patch(&path, &u.token, json!({ "status": "inactive", "first_message": "Hello!" })).await.expect(200);
    assert_eq!((edited["status"].as_str(), edited["first_message"].as_str()), (Some("inactive"), Some("Hello!")));
    let list = app.get(&format!("{ws}/agents?limit=1"), &u.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let rest = app
        .get(&format!("{ws}/agents?limit=1&cursor={}", list["next_cursor"].as_str().unwrap()), &u.token)
        .await
        .expect(200);
    assert_eq!(rest["data"][0]["name"], "Receptionist");
    let log = app.get(&format!("{ws}/audit-log?action=agent.updated"), &u.token).await.expect(200);
    assert_eq!(log["data"][0]["before"]["status"], "active");
}

#[tokio::test]
async fn a1_members_create_and_edit_agents_but_cannot_delete_them_and_viewers_write_nothing() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let member = app.signup(&email("member"), "M home").await;
    let viewer = app.signup(&email("viewer"), "V home").await;
    app.add_member(&owner.workspace_id, &member.user_id, "member").await;
    app.add_member(&owner.workspace_id, &viewer.user_id, "viewer").await;
    let base = format!("/api/v1/workspaces/{}/agents", owner.workspace_id);
    let a = app.post(&base, &member.token, json!({ "name": "Member's agent" })).await.expect(201);
    let path = format!("{base}/{}", a["id"].as_str().unwrap());
    app.patch(&path, &member.token, json!({ "name": "Renamed" })).await.expect(200);
    let r = app.delete(&path, &member.token, json!({})).await;
    r.expect_problem(403, "permission_denied");
    assert_eq!(r.body["permission"], "agents_delete");
    app.get(&path, &viewer.token).await.expect(200);
    app.post(&base, &viewer.token, json!({ "name": "no" })).await.expect_problem(403, "permission_denied");
    app.patch(&path, &viewer.token, json!({ "name": "no" })).await.expect_problem(403, "permission_denied");
    let settings = format!("/api/v1/workspaces/{}/settings", owner.workspace_id);
    app.put(&settings, &member.token, json!({ "agent_defaults": {} })).await.expect_problem(403, "permission_denied");
    app.delete(&path, &owner.token, json!({})).await.expect(204);
    app.get(&path, &owner.token).await.expect_problem(404, "not_found");
}

#[tokio::test]
async fn w5_an_active_agent_made_through_the_api_blocks_deletion_until_deactivated() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let ws = app.create_workspace(&owner.token, "Busy").await;
    let a =
        app.post(&format!("/api/v1/workspaces/{ws}/agents"), &owner.token, json!({ "name": "Bot" })).await.expect(201);
    let path = format!("/api/v1/workspaces/{ws}");
    app.delete(&path, &owner.token, json!({ "confirm_name": "Busy" })).await.expect_problem(409, "workspace_not_empty");
    app.patch(&format!("{path}/agents/{}", a["id"].as_str().unwrap()), &owner.token, json!({ "status": "inactive" }))
        .await
        .expect(200);
    app.delete(&path, &owner.token, json!({ "confirm_name": "Busy" })).await.expect(204);
    assert!(app.row_counts(&ws).await.iter().all(|(_, n)| *n == 0));
}
