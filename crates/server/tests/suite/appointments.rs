//! SPEC P8 (with I2): appointments — conflicts within a workspace only, and concurrent
//! overlapping bookings never both succeed.

use serde_json::json;

use crate::common::{email, spawn_app, TestApp, User};

async fn contact(app: &TestApp, u: &User, ws: &str, phone: &str) -> String {
    let c =
        app.post(&format!("/api/v1/workspaces/{ws}/contacts"), &u.token, json!({ "phone": phone })).await.expect(201);
    let _ = u;
    c["id"].as_str().unwrap().to_owned()
}

fn slot(contact: &str, start: &str, end: &str) -> serde_json::Value {
    json!({ "contact_id": contact, "starts_at": start, "ends_at": end })
}

#[tokio::test]
async fn p8_a_booked_slot_conflicts_only_within_its_workspace() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let other = app.create_workspace(&u.token, "Other").await;
    let ws = u.workspace_id.clone();
    let base = format!("/api/v1/workspaces/{ws}/appointments");
    let c = contact(&app, &u, &ws, "+919876543210").await;
    let first =
        app.post(&base, &u.token, slot(&c, "2026-12-01T10:00:00+05:30", "2026-12-01T10:30:00+05:30")).await.expect(201);
    assert_eq!(first["timezone"], "Asia/Kolkata", "the contact's zone");
    assert_eq!(first["status"], "booked");
    // Overlapping by ten minutes: refused, naming the appointment in the way.
    let r = app.post(&base, &u.token, slot(&c, "2026-12-01T04:50:00Z", "2026-12-01T05:20:00Z")).await;
    r.expect_problem(409, "appointment_conflict");
    assert_eq!(r.body["conflicting_appointment"]["id"], first["id"]);
    // Back to back is fine.
    app.post(&base, &u.token, slot(&c, "2026-12-01T10:30:00+05:30", "2026-12-01T11:00:00+05:30")).await.expect(201);
    // The same slot in another workspace never conflicts.
    let c2 = contact(&app, &u, &other, "+919876543210").await;
    app.post(
        &format!("/api/v1/workspaces/{other}/appointments"),
        &u.token,
        slot(&c2, "2026-12-01T10:00:00+05:30", "2026-12-01T10:30:00+05:30"),
    )
    .await
    .expect(201);
    // Another workspace's contact cannot be booked here (I2).
    let r = app.post(&base, &u.token, slot(&c2, "2026-12-02T10:00:00Z", "2026-12-02T10:30:00Z")).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "contact_id");
    // Cancelling frees the slot.
    let path = format!("{base}/{}", first["id"].as_str().unwrap());
    app.patch(&path, &u.token, json!({ "status": "cancelled" })).await.expect(200);
    app.post(&base, &u.token, slot(&c, "2026-12-01T04:40:00Z", "2026-12-01T05:00:00Z")).await.expect(201);
    // The calendar lists a range by start time.
    let list =
        app.get(&format!("{base}?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z"), &u.token).await.expect(200);
    let starts: Vec<&str> = list["data"].as_array().unwrap().iter().map(|a| a["starts_at"].as_str().unwrap()).collect();
    assert_eq!(starts.len(), 3);
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
    for (body, field) in [
        (slot(&c, "2026-12-03T10:00:00Z", "2026-12-03T09:00:00Z"), "ends_at"),
        (slot(&c, "tomorrow", "2026-12-03T09:00:00Z"), "starts_at"),
        (
            json!({ "contact_id": c, "starts_at": "2026-12-03T10:00:00Z", "ends_at": "2026-12-03T11:00:00Z", "timezone": "Nowhere/City" }),
            "timezone",
        ),
        (
            json!({ "contact_id": c, "starts_at": "2026-12-03T10:00:00Z", "ends_at": "2026-12-03T11:00:00Z", "agent_id": "agt_x" }),
            "agent_id",
        ),
    ] {
        let r = app.post(&base, &u.token, body).await;
        r.expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn p8_parallel_overlapping_bookings_exactly_one_succeeds() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let ws = u.workspace_id.clone();
    let c = contact(&app, &u, &ws, "+919876543210").await;
    let base = format!("/api/v1/workspaces/{ws}/appointments");
    for round in 0..3 {
        let day = format!("2026-12-1{round}");
        let mut handles = Vec::new();
        for i in 0..8 {
            let (http, url, token) = (app.http.clone(), format!("{}{base}", app.base), u.token.clone());
            let body = slot(&c, &format!("{day}T10:{:02}:00Z", i * 5), &format!("{day}T11:{:02}:00Z", i * 5));
            handles.push(tokio::spawn(async move {
                http.post(url).bearer_auth(token).json(&body).send().await.unwrap().status().as_u16()
            }));
        }
        let mut statuses = Vec::new();
        for h in handles {
            statuses.push(h.await.unwrap());
        }
        statuses.sort();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "round {round}: {statuses:?}");
        assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    }
}

#[tokio::test]
async fn p8_an_agent_with_appointments_is_not_deleted_from_under_them() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let ws = u.workspace_id.clone();
    let c = contact(&app, &u, &ws, "+919876543210").await;
    let agent =
        app.post(&format!("/api/v1/workspaces/{ws}/agents"), &u.token, json!({ "name": "Booker" })).await.expect(201);
    let agent_id = agent["id"].as_str().unwrap();
    let mut body = slot(&c, "2026-12-05T10:00:00Z", "2026-12-05T10:30:00Z");
    body["agent_id"] = json!(agent_id);
    app.post(&format!("/api/v1/workspaces/{ws}/appointments"), &u.token, body).await.expect(201);
    app.delete(&format!("/api/v1/workspaces/{ws}/agents/{agent_id}"), &u.token, json!({}))
        .await
        .expect_problem(409, "agent_in_use");
}
