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

/// An active agent (named "Caller") and a bought Indian number in workspace `ws`:
/// their ids.
async fn equip(app: &TestApp, token: &str, ws: &str) -> (String, String) {
    let ws = format!("/api/v1/workspaces/{ws}");
    let agent =
        app.post(&format!("{ws}/agents"), token, json!({ "name": "Caller", "status": "active" })).await.expect(201);
    let offer = app.get(&format!("{ws}/phone-numbers/available?country=IN&limit=1"), token).await.expect(200);
    let number = app.post(&format!("{ws}/phone-numbers"), token, json!({ "e164": offer["data"][0]["e164"] })).await;
    let number = number.expect(201);
    (agent["id"].as_str().unwrap().into(), number["id"].as_str().unwrap().into())
}

/// A workspace with an active agent, a number and `funds` paise in the wallet.
async fn setup(app: &TestApp, funds: i64) -> Setup {
    let u = app.signup(&email("owner"), "Acme").await;
    let (agent, number) = equip(app, &u.token, &u.workspace_id).await;
    if funds > 0 {
        wallet::credit(&app.state, &u.account_id, funds, "test funds").await.unwrap();
    }
    Setup { agent, number, u }
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

/// The raw body and content type of a GET.
async fn fetch_bytes(app: &TestApp, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let res = app.http.get(format!("{}{path}", app.base)).bearer_auth(token).send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, ct, res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn p7_an_answered_call_leaves_a_transcript_an_analysis_and_a_recording_only_its_workspace_fetches() {
    let app = spawn_app().await;
    let s = setup(&app, 10_000).await;
    let ws = &s.u.workspace_id;
    let template = app
        .post(
            &format!("/api/v1/workspaces/{ws}/analysis-templates"),
            &s.u.token,
            json!({ "name": "Lead", "fields": [
                { "name": "summary", "type": "text" },
                { "name": "interested", "type": "boolean" },
                { "name": "lead_score", "type": "number" },
                { "name": "disposition", "type": "enum", "enum_values": ["booked", "call_back", "not_interested"] },
            ] }),
        )
        .await
        .expect(201);
    app.patch(
        &format!("/api/v1/workspaces/{ws}/agents/{}", s.agent),
        &s.u.token,
        json!({ "first_message": "Hi {{contact.name}}, this is {{agent.name}} from {{workspace.name}}.",
                "analysis_template_id": template["id"], "recording": true }),
    )
    .await
    .expect(200);
    let contact = app
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            &s.u.token,
            json!({ "phone": "+919876500061", "name": "Asha" }),
        )
        .await
        .expect(201);
    let c =
        app.post(&calls(ws), &s.u.token, json!({ "agent_id": s.agent, "contact_id": contact["id"] })).await.expect(201);
    let id = c["id"].as_str().unwrap();
    assert!(c.get("transcript").is_none(), "nothing said before the answer");
    run_for(&app, 120_000).await;
    let done = call(&app, &s, id).await;
    assert_eq!((done["status"].as_str(), done["end_reason"].as_str()), (Some("completed"), Some("hangup")), "{done}");
    let transcript = done["transcript"].as_array().unwrap();
    assert_eq!(transcript[0]["speaker"], "agent");
    assert_eq!(transcript[0]["text"], "Hi Asha, this is Caller from Acme.", "the first message, rendered");
    assert!(transcript.iter().any(|t| t["speaker"] == "caller"));
    assert!(transcript.iter().all(|t| t["end_ms"].as_i64().unwrap() <= 61_000));
    let analysis = done["analysis"].as_object().unwrap();
    let mut keys: Vec<&str> = analysis.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["disposition", "interested", "lead_score", "summary"], "the template's fields, no others");
    assert!(analysis["interested"].is_boolean() && analysis["lead_score"].is_i64() && analysis["summary"].is_string());
    assert!(["booked", "call_back", "not_interested"].contains(&analysis["disposition"].as_str().unwrap()));
    assert_eq!(done["outcome"].as_str().map(|o| ["booked", "callback", "not_interested"].contains(&o)), Some(true));

    let url = done["recording_url"].as_str().unwrap();
    assert_eq!(url, format!("/api/v1/workspaces/{ws}/calls/{id}/recording"));
    let (status, ct, wav) = fetch_bytes(&app, url, &s.u.token).await;
    assert_eq!((status, ct.as_str()), (200, "audio/wav"));
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(wav.len(), 44 + 61 * 8_000, "8 kHz, 8-bit, as long as the call talked");
    // Anonymous, another account and another workspace of the same account: 404 or 401.
    let res = app.http.get(format!("{}{url}", app.base)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let other = app.signup(&email("other"), "Other").await;
    assert_eq!(fetch_bytes(&app, url, &other.token).await.0, 404);
    let other_path = format!("/api/v1/workspaces/{}/calls/{id}/recording", other.workspace_id);
    assert_eq!(fetch_bytes(&app, &other_path, &other.token).await.0, 404, "the id in another workspace");
    let sibling = app.create_workspace(&s.u.token, "Sibling").await;
    let sibling_path = format!("/api/v1/workspaces/{sibling}/calls/{id}/recording");
    assert_eq!(fetch_bytes(&app, &sibling_path, &s.u.token).await.0, 404, "a sibling workspace of one account");
    app.get(&format!("/api/v1/workspaces/{sibling}/calls/{id}"), &s.u.token).await.expect_problem(404, "not_found");

    // An agent that does not record leaves no recording.
    app.patch(&format!("/api/v1/workspaces/{ws}/agents/{}", s.agent), &s.u.token, json!({ "recording": false }))
        .await
        .expect(200);
    let quiet = place(&app, &s, "+919876543210").await;
    run_for(&app, 200_000).await;
    let quiet = call(&app, &s, quiet["id"].as_str().unwrap()).await;
    assert!(quiet["transcript"].is_array() && quiet.get("recording_url").is_none(), "{quiet}");
    assert_eq!(
        fetch_bytes(&app, &format!("{}/{}/recording", calls(ws), quiet["id"].as_str().unwrap()), &s.u.token).await.0,
        404
    );
}

#[tokio::test]
async fn p7_inbound_calls_reach_the_numbers_agent_or_an_announcement() {
    let app = spawn_app().await;
    let s = setup(&app, 10_000).await;
    let ws = &s.u.workspace_id;
    let number = format!("/api/v1/workspaces/{ws}/phone-numbers/{}", s.number);
    app.patch(&number, &s.u.token, json!({ "agent_id": s.agent })).await.expect(200);
    let contact = app
        .post(
            &format!("/api/v1/workspaces/{ws}/contacts"),
            &s.u.token,
            json!({ "phone": "+919812345678", "name": "Ravi" }),
        )
        .await
        .expect(201);
    let c = app
        .post(&format!("{number}/simulate-inbound"), &s.u.token, json!({ "from": "+919812345678" }))
        .await
        .expect(201);
    assert_eq!((c["direction"].as_str(), c["agent_id"].as_str()), (Some("inbound"), Some(s.agent.as_str())));
    assert_eq!(c["contact_id"], contact["id"], "the caller is known as a contact");
    assert_eq!(c["from"], "+919812345678");
    run_for(&app, 200_000).await;
    let done = call(&app, &s, c["id"].as_str().unwrap()).await;
    assert_eq!((done["status"].as_str(), done["end_reason"].as_str()), (Some("completed"), Some("hangup")), "{done}");
    let statuses: Vec<&str> =
        done["timeline"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["queued", "ringing", "in-progress", "completed"]);
    assert!(done["transcript"].as_array().unwrap().len() > 2);
    let inbound_rate = done["rate"]["amount"].as_i64().unwrap();
    assert_eq!(done["cost"]["amount"].as_i64().unwrap(), done["billed_minutes"].as_i64().unwrap() * inbound_rate);
    assert_eq!(balance(&app, &s).await, (10_000 - done["cost"]["amount"].as_i64().unwrap(), 0));

    // Without an agent the number answers with an announcement and hangs up.
    app.patch(&number, &s.u.token, json!({ "agent_id": null })).await.expect(200);
    let c = app
        .post(&format!("{number}/simulate-inbound"), &s.u.token, json!({ "from": "+14155550123" }))
        .await
        .expect(201);
    assert_eq!(c["agent_id"], Value::Null);
    run_for(&app, 30_000).await;
    let done = call(&app, &s, c["id"].as_str().unwrap()).await;
    assert_eq!((done["status"].as_str(), done["end_reason"].as_str()), (Some("completed"), Some("no_agent")), "{done}");
    assert_eq!(done["duration_secs"], 6);
    assert!(done["transcript"][0]["text"].as_str().unwrap().contains("No one is available"));
    assert!(done.get("analysis").is_none() || done["analysis"].is_null());

    // Bad input, and another workspace's number.
    app.post(&format!("{number}/simulate-inbound"), &s.u.token, json!({ "from": "12" }))
        .await
        .expect_problem(422, "validation_failed");
    let other = app.signup(&email("other"), "Other").await;
    app.post(
        &format!("/api/v1/workspaces/{}/phone-numbers/{}/simulate-inbound", other.workspace_id, s.number),
        &other.token,
        json!({ "from": "+919812345678" }),
    )
    .await
    .expect_problem(404, "not_found");

    // An empty wallet: the call is recorded as refused, nothing charged.
    let drained = setup(&app, 0).await;
    let n = format!("/api/v1/workspaces/{}/phone-numbers/{}", drained.u.workspace_id, drained.number);
    let c = app
        .post(&format!("{n}/simulate-inbound"), &drained.u.token, json!({ "from": "+919812345678" }))
        .await
        .expect(201);
    assert_eq!((c["status"].as_str(), c["end_reason"].as_str()), (Some("failed"), Some("insufficient_funds")));
    run_for(&app, 2_000).await;
    assert_eq!(call(&app, &drained, c["id"].as_str().unwrap()).await["settled"], true);
    assert_eq!(balance(&app, &drained).await, (0, 0));
}

#[tokio::test]
async fn b3_usage_per_day_and_month_and_money_only_for_billing_view() {
    let app = spawn_app().await;
    let s = setup(&app, 10_000).await;
    let ws = &s.u.workspace_id;
    for _ in 0..3 {
        place(&app, &s, "+919876500061").await; // 61 s: 2 minutes at 60 paise
    }
    run_for(&app, 100_000).await;
    app.clock.advance(86_400_000);
    place(&app, &s, "+919876500061").await;
    run_for(&app, 100_000).await;

    let usage = app.get(&format!("/api/v1/workspaces/{ws}/usage"), &s.u.token).await.expect(200);
    assert_eq!((usage["calls"].as_i64(), usage["cost"]["amount"].as_i64()), (Some(4), Some(480)), "{usage}");
    let buckets = usage["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 30, "every day of the default range, empty ones too");
    let busy: Vec<(i64, i64)> = buckets
        .iter()
        .filter(|b| b["calls"].as_i64() > Some(0))
        .map(|b| (b["calls"].as_i64().unwrap(), b["cost"]["amount"].as_i64().unwrap()))
        .collect();
    assert_eq!(busy, [(3, 360), (1, 120)]);
    let months = app.get(&format!("/api/v1/workspaces/{ws}/usage?period=month"), &s.u.token).await.expect(200);
    assert_eq!(months["buckets"].as_array().unwrap().len(), 12);
    assert_eq!(months["cost"]["amount"], 480);
    assert!(months["buckets"][0]["start"].as_str().unwrap().contains("-01T00:00:00Z"), "{months}");
    app.get(&format!("/api/v1/workspaces/{ws}/usage?period=week"), &s.u.token)
        .await
        .expect_problem(422, "validation_failed");
    // Another workspace of the account has its own (empty) usage.
    let sibling = app.create_workspace(&s.u.token, "Sibling").await;
    let other = app.get(&format!("/api/v1/workspaces/{sibling}/usage"), &s.u.token).await.expect(200);
    assert_eq!(other["calls"], 0);

    // An admin of the workspace (no billing_view) sees calls, never money.
    let admin = app.signup(&email("admin"), "Admin home").await;
    app.add_member(ws, &admin.user_id, "admin").await;
    app.get(&format!("/api/v1/workspaces/{ws}/usage"), &admin.token).await.expect_problem(403, "permission_denied");
    let list = app.get(&calls(ws), &admin.token).await.expect(200);
    let first = &list["data"][0];
    assert_eq!(first["duration_secs"], 61);
    assert!(first["cost"].is_null() && first["rate"].is_null(), "{first}");
    let csv = app.http.get(format!("{}{}/export", app.base, calls(ws))).bearer_auth(&admin.token).send().await.unwrap();
    let csv = csv.text().await.unwrap();
    assert!(csv.lines().nth(1).unwrap().contains(",61,2,,,"), "money cells empty: {csv}");
}

#[tokio::test]
async fn w9_the_call_history_exports_as_csv_with_its_filters() {
    let app = spawn_app().await;
    let s = setup(&app, 10_000).await;
    let ws = &s.u.workspace_id;
    for to in ["+919876500486", "+919876500061", "+919876500486"] {
        place(&app, &s, to).await;
    }
    run_for(&app, 100_000).await;
    let res = app.http.get(format!("{}{}/export", app.base, calls(ws))).bearer_auth(&s.u.token).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,created_at,direction,status,end_reason,"));
    assert_eq!(lines.len(), 4);
    assert_eq!(csv.matches(",busy,busy,").count(), 2);
    assert!(csv.contains(",completed,hangup,'+91"), "numbers guarded against spreadsheet formulas: {csv}");
    let busy =
        app.http.get(format!("{}{}/export?status=busy", app.base, calls(ws))).bearer_auth(&s.u.token).send().await;
    assert_eq!(busy.unwrap().text().await.unwrap().lines().count(), 3);
    let bad = app.get(&format!("{}/export?status=lost", calls(ws)), &s.u.token).await;
    bad.expect_problem(422, "validation_failed");
    // Another workspace exports its own, empty history.
    let other = app.signup(&email("other"), "Other").await;
    let theirs = app
        .http
        .get(format!("{}{}/export", app.base, calls(&other.workspace_id)))
        .bearer_auth(&other.token)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.text().await.unwrap().lines().count(), 1);
}

#[tokio::test]
async fn w5_a_workspace_with_calls_in_flight_is_not_deleted_then_its_calls_go_and_the_ledger_stays() {
    let app = spawn_app().await;
    let s = setup(&app, 10_000).await;
    let ws = s.u.workspace_id.clone();
    let keep = app.create_workspace(&s.u.token, "Keep").await;
    app.switch(&s.u.token, &keep).await.expect(200);
    // A call in the workspace that stays, and a finished and a live one in the doomed one.
    let (kept_agent, _) = equip(&app, &s.u.token, &keep).await;
    let kept_call =
        app.post(&calls(&keep), &s.u.token, json!({ "agent_id": kept_agent, "to": "+919876500061" })).await.expect(201);
    place(&app, &s, "+919876500061").await;
    run_for(&app, 100_000).await;
    let live = place(&app, &s, "+919876543210").await;
    run_for(&app, 5_000).await;

    app.patch(&format!("/api/v1/workspaces/{ws}/agents/{}", s.agent), &s.u.token, json!({ "status": "inactive" }))
        .await
        .expect(200);
    app.delete(&format!("/api/v1/workspaces/{ws}/phone-numbers/{}", s.number), &s.u.token, json!({})).await.expect(204);
    let del = app.delete(&format!("/api/v1/workspaces/{ws}"), &s.u.token, json!({ "confirm_name": "Acme" })).await;
    del.expect_problem(409, "calls_in_flight");
    assert_eq!(del.body["calls_in_flight"], 1);
    assert_eq!(call(&app, &s, live["id"].as_str().unwrap()).await["status"], "in-progress", "nothing was cut");

    run_for(&app, 200_000).await;
    app.delete(&format!("/api/v1/workspaces/{ws}"), &s.u.token, json!({ "confirm_name": "Acme" })).await.expect(204);
    let counts = app.row_counts(&ws).await;
    for table in ["calls", "call_events", "call_artifacts"] {
        let n = counts.iter().find(|(t, _)| *t == table).map(|(_, n)| *n);
        assert_eq!(n, Some(0), "{table} of the deleted workspace: {counts:?}");
    }
    // The other workspace's call is untouched; the ledger keeps every charge.
    let kept =
        app.get(&format!("{}/{}", calls(&keep), kept_call["id"].as_str().unwrap()), &s.u.token).await.expect(200);
    assert_eq!(kept["status"], "completed");
    let w = app.get(&format!("/api/v1/accounts/{}/wallet", s.u.account_id), &s.u.token).await.expect(200);
    let charges: Vec<&Value> =
        w["entries"]["data"].as_array().unwrap().iter().filter(|e| e["kind"] == "charge").collect();
    assert_eq!(charges.len(), 3, "past charges stay on record: {w}");
    assert!(charges.iter().any(|e| e["workspace_id"] == ws.as_str()));
    assert_eq!(w["reserved"]["amount"], 0);
    let charged: i64 = charges.iter().map(|e| e["amount"]["amount"].as_i64().unwrap().abs()).sum();
    assert_eq!(w["balance"]["amount"].as_i64().unwrap(), 10_000 - charged);
}

#[tokio::test]
async fn b1_fifty_parallel_api_calls_from_three_workspaces_end_at_exactly_the_expected_balance() {
    let app = spawn_app().await;
    let s = setup(&app, 0).await;
    // Two more workspaces of the account, each with an active agent and a number.
    let mut places = vec![(s.u.workspace_id.clone(), s.agent.clone())];
    for name in ["B", "C"] {
        let ws = app.create_workspace(&s.u.token, name).await;
        let (agent, _) = equip(&app, &s.u.token, &ws).await;
        places.push((ws, agent));
    }
    // ₹20 at 60 paise a minute: 33 calls can set their first minute aside, 17 cannot.
    wallet::credit(&app.state, &s.u.account_id, 2_000, "test funds").await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let (http, base, token) = (app.http.clone(), app.base.clone(), s.u.token.clone());
            let (ws, agent) = places[i % 3].clone();
            tokio::spawn(async move {
                http.post(format!("{base}{}", calls(&ws)))
                    .bearer_auth(token)
                    .json(&json!({ "agent_id": agent, "to": "+919876500061" }))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let count = |what: &str| statuses.iter().filter(|b| b.contains(what)).count();
    assert_eq!(count("\"status\":\"queued\""), 33, "{statuses:?}");
    assert_eq!(count("insufficient_funds"), 17, "{statuses:?}");
    run_for(&app, 200_000).await;
    // Each answered call wanted 61 s but the wallet covered one minute: 60 s, 60 paise.
    let mut total = 0;
    for (ws, _) in &places {
        let list = app.get(&format!("{}?limit=100", calls(ws)), &s.u.token).await.expect(200);
        for c in list["data"].as_array().unwrap() {
            assert_eq!((c["status"].as_str(), c["settled"].as_bool()), (Some("completed"), Some(true)), "{c}");
            assert_eq!((c["duration_secs"].as_i64(), c["end_reason"].as_str()), (Some(60), Some("funds_limit")), "{c}");
            total += c["cost"]["amount"].as_i64().unwrap();
        }
    }
    assert_eq!(total, 33 * 60);
    assert_eq!(balance(&app, &s).await, (2_000 - 33 * 60, 0), "exactly the expected balance, nothing reserved");
}
