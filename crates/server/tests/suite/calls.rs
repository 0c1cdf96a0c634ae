//! SPEC P7, B2: outbound calls on the simulated carrier — validation, pricing, every
//! lifecycle outcome, cancelling in flight, and the wallet steps of each call.

use callplane_server::services::{calls as call_worker, wallet};
use serde_json::{json, Value};

use crate::common::{email, spawn_app, TestApp, User};

struct Setup {
    u: User,
    agent: String,
    number: String,
}

fn calls(ws: &str) -> String {
    format!("/api/v1/workspaces/{ws}/calls")
}

/// A workspace with an active agent, a number and `funds` paise in the wallet.
async fn setup(app: &TestApp, funds: i64) -> Setup {
    let u = app.signup(&email("owner"), "Acme").await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    let agent =
        app.post(&format!("{ws}/agents"), &u.token, json!({ "name": "Caller", "status": "active" })).await.expect(201);
    let offer = app.get(&format!("{ws}/phone-numbers/available?country=IN&limit=1"), &u.token).await.expect(200);
    let e164 = offer["data"][0]["e164"].as_str().unwrap().to_owned();
    let number = app.post(&format!("{ws}/phone-numbers"), &u.token, json!({ "e164": e164 })).await.expect(201);
    if funds > 0 {
        wallet::credit(&app.state, &u.account_id, funds, "test funds").await.unwrap();
    }
    Setup { agent: agent["id"].as_str().unwrap().into(), number: number["id"].as_str().unwrap().into(), u }
}

async fn place(app: &TestApp, s: &Setup, to: &str) -> Value {
    app.post(&calls(&s.u.workspace_id), &s.u.token, json!({ "agent_id": s.agent, "to": to })).await.expect(201)
}

async fn call(app: &TestApp, s: &Setup, id: &str) -> Value {
    app.get(&format!("{}/{id}", calls(&s.u.workspace_id)), &s.u.token).await.expect(200)
}

/// Moves time on in steps and lets the worker play the calls out.
async fn run_for(app: &TestApp, ms: i64) {
    let mut left = ms;
    while left > 0 {
        let step = left.min(1_000);
        app.clock.advance(step);
        left -= step;
        call_worker::work_once(&app.state).await;
    }
    call_worker::work_once(&app.state).await;
}

async fn balance(app: &TestApp, s: &Setup) -> (i64, i64) {
    let w = app.get(&format!("/api/v1/accounts/{}/wallet", s.u.account_id), &s.u.token).await.expect(200);
    (w["balance"]["amount"].as_i64().unwrap(), w["reserved"]["amount"].as_i64().unwrap())
}

#[tokio::test]
async fn p7_every_outcome_of_the_simulated_carrier_with_its_timeline_and_price() {
    let app = spawn_app().await;
    let s = setup(&app, 10_000).await;
    // The simulated carrier's documented test numbers.
    let placed = [
        ("+919876500486", "busy"),
        ("+919876500408", "no-answer"),
        ("+919876500500", "failed"),
        ("+919876500061", "completed"),
    ];
    let mut ids = Vec::new();
    for (to, _) in &placed {
        let c = place(&app, &s, to).await;
        assert_eq!(c["status"], "queued");
        assert_eq!(c["network_group"], "in-mobile");
        assert_eq!(c["rate"]["amount"], 60);
        ids.push(c["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(balance(&app, &s).await, (10_000, 4 * 60), "each call's minimum is set aside");
    run_for(&app, 120_000).await;
    for (id, (_, outcome)) in ids.iter().zip(&placed) {
        let c = call(&app, &s, id).await;
        assert_eq!(c["status"], *outcome, "{c}");
        assert_eq!(c["settled"], true);
    }
    let done = call(&app, &s, &ids[3]).await;
    assert_eq!(done["duration_secs"], 61);
    assert_eq!(done["billed_minutes"], 2, "a started minute is billed");
    assert_eq!(done["cost"]["amount"], 120);
    let statuses: Vec<&str> =
        done["timeline"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["queued", "ringing", "in-progress", "completed"]);
    let failed = call(&app, &s, &ids[2]).await;
    assert!(failed["error"].as_str().unwrap().contains("503"));
    assert_eq!(balance(&app, &s).await, (10_000 - 120, 0), "only the answered call is charged, once");
    // The history filters.
    let list = app.get(&format!("{}?status=busy", calls(&s.u.workspace_id)), &s.u.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let list =
        app.get(&format!("{}?agent_id={}&limit=2", calls(&s.u.workspace_id), s.agent), &s.u.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    assert!(list["next_cursor"].is_string());
    app.get(&format!("{}?status=lost", calls(&s.u.workspace_id)), &s.u.token)
        .await
        .expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn p7_a_call_is_cancelled_in_flight_and_charged_for_the_minutes_it_talked() {
    let app = spawn_app().await;
    let s = setup(&app, 10_000).await;
    let ringing = place(&app, &s, "+919876543210").await;
    let id = ringing["id"].as_str().unwrap();
    run_for(&app, 1_000).await;
    assert_eq!(call(&app, &s, id).await["status"], "ringing");
    let c = app.post(&format!("{}/{id}/cancel", calls(&s.u.workspace_id)), &s.u.token, json!({})).await.expect(200);
    assert_eq!((c["status"].as_str(), c["cost"]["amount"].as_i64()), (Some("canceled"), Some(0)));
    app.post(&format!("{}/{id}/cancel", calls(&s.u.workspace_id)), &s.u.token, json!({}))
        .await
        .expect_problem(409, "call_ended");

    let talking = place(&app, &s, "+919876543210").await;
    let id = talking["id"].as_str().unwrap();
    run_for(&app, 5_000).await;
    assert_eq!(call(&app, &s, id).await["status"], "in-progress");
    app.clock.advance(15_000);
    let c = app.post(&format!("{}/{id}/cancel", calls(&s.u.workspace_id)), &s.u.token, json!({})).await.expect(200);
    assert_eq!(c["status"], "canceled");
    let talked = c["duration_secs"].as_i64().unwrap();
    assert!((15..=17).contains(&talked), "{c}");
    assert_eq!(c["cost"]["amount"], 60, "one started minute");
    run_for(&app, 200_000).await;
    assert_eq!(call(&app, &s, id).await["status"], "canceled", "the carrier's later steps do not revive it");
    assert_eq!(balance(&app, &s).await, (10_000 - 60, 0));
}

#[tokio::test]
async fn b2_calls_are_refused_without_funds_or_route_and_talk_only_what_the_wallet_covers() {
    let app = spawn_app().await;
    let s = setup(&app, 0).await;
    let ws = &s.u.workspace_id;
    let r = app.post(&calls(ws), &s.u.token, json!({ "agent_id": s.agent, "to": "+919876543210" })).await;
    r.expect_problem(402, "insufficient_funds");
    let r = app.post(&calls(ws), &s.u.token, json!({ "agent_id": s.agent, "to": "+14155550100" })).await;
    r.expect_problem(422, "destination_not_enabled");
    assert!(app.get(&calls(ws), &s.u.token).await.expect(200)["data"].as_array().unwrap().is_empty());

    // ₹1 covers one minute at 60 paise with 40 left: the answered call may talk 60 s.
    wallet::credit(&app.state, &s.u.account_id, 100, "").await.unwrap();
    let c = place(&app, &s, "+919876543210").await;
    let id = c["id"].as_str().unwrap();
    run_for(&app, 300_000).await;
    let done = call(&app, &s, id).await;
    assert_eq!(done["status"], "completed");
    assert!(done["duration_secs"].as_i64().unwrap() <= 100, "{done}");
    let (balance, reserved) = balance(&app, &s).await;
    assert!(balance >= 0 && reserved == 0, "never below zero: {balance}");
    assert_eq!(balance, 100 - done["cost"]["amount"].as_i64().unwrap());
}

#[tokio::test]
async fn p7_idempotent_placement_contacts_and_their_flags() {
    let app = spawn_app().await;
    let s = setup(&app, 10_000).await;
    let ws = &s.u.workspace_id;
    let body = json!({ "agent_id": s.agent, "to": "09876543210", "from_number_id": s.number });
    let first = app
        .http
        .post(format!("{}{}", app.base, calls(ws)))
        .bearer_auth(&s.u.token)
        .header("idempotency-key", "order-42")
        .json(&body)
        .send()
        .await
        .unwrap();
    let first: Value = first.json().await.unwrap();
    let again: Value = app
        .http
        .post(format!("{}{}", app.base, calls(ws)))
        .bearer_auth(&s.u.token)
        .header("idempotency-key", "order-42")
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["id"], again["id"], "the same call");
    assert_eq!(first["to"], "+919876543210", "national numbers in the workspace's country");
    assert_eq!(balance(&app, &s).await.1, 60, "one hold");

    let contact = app
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            &s.u.token,
            json!({ "phone": "+919876512345", "name": "Asha" }),
        )
        .await
        .expect(201);
    let cid = contact["id"].as_str().unwrap();
    let c = app.post(&calls(ws), &s.u.token, json!({ "agent_id": s.agent, "contact_id": cid })).await.expect(201);
    assert_eq!((c["to"].as_str(), c["contact_id"].as_str()), (Some("+919876512345"), Some(cid)));
    app.patch(&format!("/api/v1/workspaces/{ws}/contacts/{cid}"), &s.u.token, json!({ "do_not_call": true }))
        .await
        .expect(200);
    app.post(&calls(ws), &s.u.token, json!({ "agent_id": s.agent, "contact_id": cid }))
        .await
        .expect_problem(409, "contact_not_callable");
    // Deleting the contact keeps its call history.
    app.delete(&format!("/api/v1/workspaces/{ws}/contacts/{cid}"), &s.u.token, json!({})).await.expect(204);
    let kept = call(&app, &s, c["id"].as_str().unwrap()).await;
    assert_eq!(kept["contact_id"], Value::Null);
    // An agent with calls is kept for them.
    app.patch(&format!("/api/v1/workspaces/{ws}/agents/{}", s.agent), &s.u.token, json!({ "status": "inactive" }))
        .await
        .expect(200);
    app.delete(&format!("/api/v1/workspaces/{ws}/agents/{}", s.agent), &s.u.token, json!({}))
        .await
        .expect_problem(409, "agent_in_use");
    app.post(&calls(ws), &s.u.token, json!({ "agent_id": s.agent, "to": "+919876543210" }))
        .await
        .expect_problem(422, "validation_failed");
}
