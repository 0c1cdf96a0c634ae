//! SPEC P2, I4: phone numbers — inventory, purchase (idempotent), assignment, release,
//! transfer within an account and region.

use serde_json::json;

use crate::common::{email, spawn_app};

#[tokio::test]
async fn p2_buy_assign_and_release_a_number() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    let offers =
        app.get(&format!("{ws}/phone-numbers/available?country=IN&prefix=9180&limit=3"), &u.token).await.expect(200);
    let first = &offers["data"][0];
    assert_eq!(first["e164"], "+918041230000");
    assert_eq!(first["national"], "080 4123 0000");
    assert_eq!(first["monthly_price"], json!({ "amount": 50000, "currency": "INR" }));
    // Bought with an Idempotency-Key: the same request again answers the same number.
    let buy = |key: &'static str| {
        let (http, url, token) = (app.http.clone(), format!("{}{ws}/phone-numbers", app.base), u.token.clone());
        async move {
            let res = http
                .post(url)
                .bearer_auth(token)
                .header("idempotency-key", key)
                .json(&json!({ "e164": "+918041230000" }))
                .send()
                .await
                .unwrap();
            crate::common::TestApp::read(res).await
        }
    };
    let n = buy("k1").await.expect(201);
    let again = buy("k1").await.expect(201);
    assert_eq!(n["id"], again["id"]);
    assert_eq!(n["status"], "active");
    // Bought numbers leave the inventory; buying it twice is refused.
    let offers =
        app.get(&format!("{ws}/phone-numbers/available?country=IN&prefix=9180&limit=3"), &u.token).await.expect(200);
    assert_ne!(offers["data"][0]["e164"], "+918041230000");
    app.post(&format!("{ws}/phone-numbers"), &u.token, json!({ "e164": "+918041230000" }))
        .await
        .expect_problem(409, "number_unavailable");
    app.post(&format!("{ws}/phone-numbers"), &u.token, json!({ "e164": "+919999999999" }))
        .await
        .expect_problem(422, "validation_failed");
    // Assigned to an agent for inbound calls; the agent then cannot be deleted.
    let agent = app.post(&format!("{ws}/agents"), &u.token, json!({ "name": "Front desk" })).await.expect(201);
    let path = format!("{ws}/phone-numbers/{}", n["id"].as_str().unwrap());
    let assigned = app.patch(&path, &u.token, json!({ "agent_id": agent["id"] })).await.expect(200);
    assert_eq!(assigned["agent_id"], agent["id"]);
    app.patch(&path, &u.token, json!({ "agent_id": "agt_0190b5b5d8a27c2a9f8e1a2b3c4d5e6f" }))
        .await
        .expect_problem(422, "validation_failed");
    app.delete(&format!("{ws}/agents/{}", agent["id"].as_str().unwrap()), &u.token, json!({}))
        .await
        .expect_problem(409, "agent_in_use");
    // An active number blocks the workspace's deletion until released (W5).
    app.delete(&path, &u.token, json!({})).await.expect(204);
    let released = app.get(&path, &u.token).await.expect(200);
    assert_eq!(released["status"], "released", "its history stays");
    let offers =
        app.get(&format!("{ws}/phone-numbers/available?country=IN&prefix=9180&limit=1"), &u.token).await.expect(200);
    assert_eq!(offers["data"][0]["e164"], "+918041230000", "back in the inventory");
    let active = app.get(&format!("{ws}/phone-numbers"), &u.token).await.expect(200);
    assert!(active["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn i4_a_number_moves_only_by_transfer_within_the_account_and_region() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    app.set_plan(&u.account_id, "professional").await;
    let b = app.create_workspace(&u.token, "Support").await;
    let us = app.post("/api/v1/workspaces", &u.token, json!({ "name": "US", "region": "us" })).await.expect(201);
    let us = us["id"].as_str().unwrap().to_owned();
    let stranger = app.signup(&email("stranger"), "Elsewhere").await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    let n = app.post(&format!("{ws}/phone-numbers"), &u.token, json!({ "e164": "+918041230001" })).await.expect(201);
    let id = n["id"].as_str().unwrap();
    // Another workspace cannot buy a number someone holds.
    app.post(&format!("/api/v1/workspaces/{b}/phone-numbers"), &u.token, json!({ "e164": "+918041230001" }))
        .await
        .expect_problem(409, "number_unavailable");
    // Not to another region (its history lives where its data lives), not to another account.
    app.post(&format!("{ws}/phone-numbers/{id}/transfer"), &u.token, json!({ "to_workspace_id": us }))
        .await
        .expect_problem(409, "region_mismatch");
    app.post(
        &format!("{ws}/phone-numbers/{id}/transfer"),
        &u.token,
        json!({ "to_workspace_id": stranger.workspace_id }),
    )
    .await
    .expect_problem(404, "not_found");
    // A user who may transfer here but not in the target is refused.
    let admin = app.signup(&email("admin"), "Admin home").await;
    app.add_member(&u.workspace_id, &admin.user_id, "admin").await;
    app.add_member(&b, &admin.user_id, "member").await;
    let r = app.post(&format!("{ws}/phone-numbers/{id}/transfer"), &admin.token, json!({ "to_workspace_id": b })).await;
    r.expect_problem(403, "permission_denied");
    assert_eq!(r.body["permission"], "phone_numbers_transfer");
    // The owner moves it; the history stays with the old workspace; both logs record it.
    let moved = app
        .post(&format!("{ws}/phone-numbers/{id}/transfer"), &u.token, json!({ "to_workspace_id": b }))
        .await
        .expect(200);
    assert_eq!(moved["e164"], "+918041230001");
    assert_ne!(moved["id"], id);
    let old = app.get(&format!("{ws}/phone-numbers/{id}"), &u.token).await.expect(200);
    assert_eq!((old["status"].as_str(), old["transferred_to"].as_str()), (Some("transferred"), Some(b.as_str())));
    let theirs = app.get(&format!("/api/v1/workspaces/{b}/phone-numbers"), &u.token).await.expect(200);
    assert_eq!(theirs["data"][0]["e164"], "+918041230001");
    let mine = app.get(&format!("{ws}/phone-numbers"), &u.token).await.expect(200);
    assert!(mine["data"].as_array().unwrap().is_empty());
    let out = app.get(&format!("{ws}/audit-log?action=phone_number.transferred_out"), &u.token).await.expect(200);
    assert_eq!(out["data"].as_array().unwrap().len(), 1);
    let inn = app
        .get(&format!("/api/v1/workspaces/{b}/audit-log?action=phone_number.transferred_in"), &u.token)
        .await
        .expect(200);
    assert_eq!(inn["data"].as_array().unwrap().len(), 1);
    // A member cannot manage numbers (A1).
    let member = app.signup(&email("member"), "M home").await;
    app.add_member(&b, &member.user_id, "member").await;
    app.post(&format!("/api/v1/workspaces/{b}/phone-numbers"), &member.token, json!({ "e164": "+918041230002" }))
        .await
        .expect_problem(403, "permission_denied");
}

#[tokio::test]
async fn i5_no_other_path_moves_data_between_workspaces() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let b = app.create_workspace(&u.token, "Other").await;
    let a = format!("/api/v1/workspaces/{}", u.workspace_id);
    let contact = app.post(&format!("{a}/contacts"), &u.token, json!({ "phone": "+919876543210" })).await.expect(201);
    let agent = app.post(&format!("{a}/agents"), &u.token, json!({ "name": "Bot" })).await.expect(201);
    let number =
        app.post(&format!("{a}/phone-numbers"), &u.token, json!({ "e164": "+918041230003" })).await.expect(201);
    // Naming another workspace in an edit is refused, whatever the resource.
    for (path, id) in [("contacts", &contact), ("agents", &agent), ("phone-numbers", &number)] {
        let r = app
            .patch(&format!("{a}/{path}/{}", id["id"].as_str().unwrap()), &u.token, json!({ "workspace_id": b }))
            .await;
        r.expect_problem(422, "validation_failed");
        app.get(&format!("{a}/{path}/{}", id["id"].as_str().unwrap()), &u.token).await.expect(200);
        app.get(&format!("/api/v1/workspaces/{b}/{path}/{}", id["id"].as_str().unwrap()), &u.token)
            .await
            .expect_problem(404, "not_found");
    }
    // Through an export and an import, data is copied (new, independent rows), never moved.
    let csv = app.get(&format!("{a}/contacts/export"), &u.token).await.body.as_str().unwrap().to_owned();
    let url = format!("{}/api/v1/workspaces/{b}/contacts/imports", app.base);
    let res =
        app.http.post(url).bearer_auth(&u.token).header("content-type", "text/csv").body(csv).send().await.unwrap();
    let job = crate::common::TestApp::read(res).await.expect(202);
    let status = format!("/api/v1/workspaces/{b}/contacts/imports/{}", job["id"].as_str().unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.get(&status, &u.token).await.expect(200)["status"] != "completed" {
        assert!(std::time::Instant::now() < deadline, "the import did not finish");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let theirs = app.get(&format!("/api/v1/workspaces/{b}/contacts"), &u.token).await.expect(200);
    assert_eq!(theirs["data"][0]["phone"], "+919876543210");
    assert_ne!(theirs["data"][0]["id"], contact["id"], "a new contact, not the same one");
    app.get(&format!("{a}/contacts/{}", contact["id"].as_str().unwrap()), &u.token).await.expect(200);
}
