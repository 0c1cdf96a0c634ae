//! SPEC E1–E3: events reach the workspace's and the agent's webhooks, signed (verified
//! with the official Standard Webhooks library), retried on the schedule, deduplicable
//! by `webhook-id`, disabled on 410 or after days of failure, with rotation and the SSRF
//! guard. A real HTTP receiver started by each test stands in for the customer.

use std::time::Duration;

use callplane_domain::Clock;
use callplane_server::services::{calls as call_worker, wallet};
use callplane_testkit::receiver::{Received, Receiver, Reply};
use serde_json::{json, Value};

use crate::common::{email, spawn_with, TestApp, User};

const WAIT: Duration = Duration::from_secs(20);

fn hooks(ws: &str) -> String {
    format!("/api/v1/workspaces/{ws}/webhooks")
}

/// An app whose webhooks may reach the test's receiver on 127.0.0.1.
async fn app() -> TestApp {
    spawn_with(|c| c.webhooks.allow_private_targets = true).await
}

/// Creates an endpoint; returns (id, secret).
async fn endpoint(app: &TestApp, u: &User, url: &str, types: &[&str]) -> (String, String) {
    let e = app.post(&hooks(&u.workspace_id), &u.token, json!({ "url": url, "event_types": types })).await.expect(201);
    (e["id"].as_str().unwrap().into(), e["secret"].as_str().unwrap().into())
}

fn header_map(r: &Received) -> axum::http::HeaderMap {
    let mut h = axum::http::HeaderMap::new();
    for (k, v) in &r.headers {
        h.insert(axum::http::HeaderName::try_from(k.as_str()).unwrap(), v.parse().unwrap());
    }
    h
}

/// Verified by the official library, timestamp tolerance included.
fn verify(secret: &str, r: &Received) -> bool {
    standardwebhooks::Webhook::new(secret).unwrap().verify(r.body.as_bytes(), &header_map(r)).is_ok()
}

/// Whether one of the request's signatures is `secret`'s (the library signs; the
/// timestamp is not checked: the test's clock runs ahead of the wall clock).
fn signed_by(secret: &str, r: &Received) -> bool {
    let ts: i64 = r.header("webhook-timestamp").parse().unwrap();
    let expected = standardwebhooks::Webhook::new(secret).unwrap().sign(r.header("webhook-id"), ts, r.body.as_bytes());
    r.header("webhook-signature").split(' ').any(|s| Some(s) == expected.as_deref().ok())
}

async fn deliveries(app: &TestApp, u: &User, id: &str) -> Vec<Value> {
    let page = app.get(&format!("{}/{id}/deliveries", hooks(&u.workspace_id)), &u.token).await.expect(200);
    page["data"].as_array().unwrap().clone()
}

async fn test_event(app: &TestApp, u: &User, id: &str) -> String {
    let t = app.post(&format!("{}/{id}/test", hooks(&u.workspace_id)), &u.token, json!({})).await.expect(202);
    t["event_id"].as_str().unwrap().into()
}

/// Moves the clock on and lets the delivery worker look.
async fn advance(app: &TestApp, ms: i64) {
    app.clock.advance(ms);
    app.state.webhook_wakeup.notify_one();
}

/// Asserts that nothing more reaches `path` for a moment.
async fn stays_at(r: &Receiver, path: &str, n: usize) {
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(r.received_at(path).len(), n, "no further attempt was due yet");
}

/// Plays every call out (the carrier's steps on the test's clock).
async fn play_calls(app: &TestApp) {
    for _ in 0..200 {
        app.clock.advance(1_000);
        call_worker::work_once(&app.state).await;
    }
}

#[tokio::test]
async fn e1_e2_call_events_reach_the_workspace_and_the_agents_webhooks_signed_and_only_their_own() {
    let app = app().await;
    let r = Receiver::start().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    let (_, all_secret) = endpoint(&app, &u, &r.url("/all"), &[]).await;
    let (_, ended_secret) = endpoint(&app, &u, &r.url("/ended"), &["call.ended"]).await;
    // The agent's own webhook: its secret comes with the change that created it.
    let agent = app
        .post(&format!("{ws}/agents"), &u.token, json!({ "name": "Caller", "webhook_url": r.url("/agent") }))
        .await
        .expect(201);
    let agent_secret = agent["webhook_secret"].as_str().expect("the agent's webhook secret, shown once").to_owned();
    assert!(app.get(&format!("{ws}/agents/{}", agent["id"].as_str().unwrap()), &u.token).await.expect(200)
        ["webhook_secret"]
        .is_null());
    let other = app.post(&format!("{ws}/agents"), &u.token, json!({ "name": "Other" })).await.expect(201);
    let offer = app.get(&format!("{ws}/phone-numbers/available?country=IN&limit=1"), &u.token).await.expect(200);
    app.post(&format!("{ws}/phone-numbers"), &u.token, json!({ "e164": offer["data"][0]["e164"] })).await.expect(201);
    wallet::credit(&app.state, &u.account_id, 100_000, "test funds").await.unwrap();
    // Another workspace's endpoint hears nothing of this one (I1).
    let stranger = app.signup(&email("stranger"), "Globex").await;
    let (_, _) = endpoint(&app, &stranger, &r.url("/stranger"), &[]).await;

    let call =
        app.post(&format!("{ws}/calls"), &u.token, json!({ "agent_id": agent["id"], "to": "+919812345678" })).await;
    let call_id = call.expect(201)["id"].as_str().unwrap().to_owned();
    let other_call = app
        .post(&format!("{ws}/calls"), &u.token, json!({ "agent_id": other["id"], "to": "+919812340486" }))
        .await
        .expect(201);
    play_calls(&app).await;

    let lifecycle = ["call.queued", "call.ringing", "call.started", "call.ended", "call.analyzed"];
    let agent_got = r.wait_for("/agent", lifecycle.len(), WAIT).await;
    let types_of = |got: &[Received], call: &str| -> Vec<String> {
        let mut t: Vec<(String, String)> = got
            .iter()
            .map(Received::json)
            .filter(|m| m["data"]["call"]["id"] == call || m["data"]["call_id"] == call)
            .map(|m| (m["id"].as_str().unwrap().to_owned(), m["type"].as_str().unwrap().to_owned()))
            .collect();
        t.sort();
        t.into_iter().map(|(_, ty)| ty).collect()
    };
    assert_eq!(types_of(&agent_got, &call_id), lifecycle, "the agent's webhook hears its call's whole lifecycle");
    assert!(
        types_of(&agent_got, other_call["id"].as_str().unwrap()).is_empty(),
        "and nothing of another agent's calls"
    );
    // The workspace's endpoint hears both calls: the busy one queued, rang and ended.
    let all = r.wait_for("/all", lifecycle.len() + 3, WAIT).await;
    assert_eq!(types_of(&all, &call_id), lifecycle);
    assert_eq!(types_of(&all, other_call["id"].as_str().unwrap()), ["call.queued", "call.ringing", "call.ended"]);
    let ended = r.wait_for("/ended", 2, WAIT).await;
    assert!(ended.iter().all(|m| m.json()["type"] == "call.ended"), "the type filter holds");

    // Every message verifies with its endpoint's secret, and only with it.
    for (got, secret) in [(&agent_got, &agent_secret), (&all, &all_secret), (&ended, &ended_secret)] {
        for m in got.iter() {
            assert!(verify(secret, m), "signature verifies: {}", m.body);
            assert!(!verify(&all_secret, m) || std::ptr::eq(secret, &all_secret));
            assert_eq!(m.header("content-type"), "application/json");
            assert_eq!(m.json()["id"], m.header("webhook-id"), "the body's id is the webhook-id");
            assert_eq!(m.json()["workspace_id"], u.workspace_id.as_str());
        }
    }
    let ended_msg =
        all.iter().map(Received::json).find(|m| m["type"] == "call.ended" && m["data"]["call"]["id"] == call_id);
    let ended_msg = ended_msg.unwrap();
    assert_eq!(ended_msg["data"]["call"]["status"], "completed");
    assert!(ended_msg["data"]["call"]["duration_secs"].as_i64().unwrap() > 0);
    assert!(ended_msg["data"]["call"].get("cost").is_none(), "money stays behind billing_view");
    let analyzed = all.iter().map(Received::json).find(|m| m["type"] == "call.analyzed").unwrap();
    assert!(analyzed["data"]["analysis"].is_object());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(r.received_at("/stranger").is_empty(), "another workspace's endpoint heard nothing");

    // The agent's endpoint is listed with the workspace's, marked with its agent;
    // clearing the agent's URL removes it.
    let list = app.get(&hooks(&u.workspace_id), &u.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 3);
    assert!(list["data"].as_array().unwrap().iter().all(|e| e.get("secret").is_none()), "secrets are not listed");
    assert!(list["data"].as_array().unwrap().iter().any(|e| e["agent_id"] == agent["id"]));
    app.patch(&format!("{ws}/agents/{}", agent["id"].as_str().unwrap()), &u.token, json!({ "webhook_url": "" }))
        .await
        .expect(200);
    let list = app.get(&hooks(&u.workspace_id), &u.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn e2_failed_deliveries_retry_on_the_schedule_with_one_webhook_id_then_give_up_and_redeliver() {
    let app = app().await;
    let r = Receiver::start().await;
    r.script(|_, _| Reply::status(500).with_body("upstream exploded"));
    let u = app.signup(&email("owner"), "Acme").await;
    let (id, secret) = endpoint(&app, &u, &r.url("/flaky"), &[]).await;
    let event = test_event(&app, &u, &id).await;
    r.wait_for("/flaky", 1, WAIT).await;

    // 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after each failure, ±10%.
    let schedule = [5_000i64, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
    for (i, wait) in schedule.iter().enumerate() {
        let d = delivery_after(&app, &u, &id, i as i64 + 1).await;
        assert_eq!(d["status"], "pending");
        assert_eq!(d["last_status_code"], 500);
        advance(&app, wait * 89 / 100).await;
        stays_at(&r, "/flaky", i + 1).await;
        advance(&app, wait * 22 / 100).await;
        r.wait_for("/flaky", i + 2, WAIT).await;
    }
    let d = delivery_after(&app, &u, &id, 8).await;
    assert_eq!(d["status"], "failed", "eight attempts, then it gives up");
    assert!(d["next_attempt_at"].is_null());
    let got = r.received_at("/flaky");
    assert_eq!(got.len(), 8);
    assert!(got.iter().all(|m| m.header("webhook-id") == event), "one webhook-id across retries: receivers dedupe");
    assert!(got.iter().all(|m| signed_by(&secret, m)));
    let bodies: std::collections::BTreeSet<&str> = got.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies.len(), 1, "the same body every time");

    // The log has every attempt, newest first, with the answer's excerpt.
    let log = app.get(&format!("{}/{id}/attempts", hooks(&u.workspace_id)), &u.token).await.expect(200);
    let log = log["data"].as_array().unwrap();
    assert_eq!(log.len(), 8);
    assert_eq!(log[0]["status_code"], 500);
    assert_eq!(log[0]["response_excerpt"], "upstream exploded");
    assert!(log[0]["error"].as_str().unwrap().contains("500"));

    // Redelivered by hand once the receiver is fixed: same webhook-id, delivered.
    r.script(|_, _| Reply::status(204));
    let dlv = d["id"].as_str().unwrap();
    app.post(&format!("{}/{id}/deliveries/{dlv}/redeliver", hooks(&u.workspace_id)), &u.token, json!({}))
        .await
        .expect(202);
    let got = r.wait_for("/flaky", 9, WAIT).await;
    assert_eq!(got[8].header("webhook-id"), event);
    let d = delivery_after(&app, &u, &id, 9).await;
    assert_eq!(d["status"], "delivered");
    let e = app.get(&format!("{}/{id}", hooks(&u.workspace_id)), &u.token).await.expect(200);
    assert!(e["failing_since"].is_null(), "a success ends the failing streak");
}

/// An RFC 3339 time of the API in milliseconds.
fn ms(v: &Value) -> i64 {
    let t = time::OffsetDateTime::parse(v.as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

#[tokio::test]
async fn e2_a_redelivery_by_hand_is_beside_the_retry_schedule() {
    let app = app().await;
    let r = Receiver::start().await;
    r.script(|_, _| Reply::status(500));
    let u = app.signup(&email("owner"), "Acme").await;
    let (id, _) = endpoint(&app, &u, &r.url("/flaky"), &[]).await;
    test_event(&app, &u, &id).await;
    let d = delivery_after(&app, &u, &id, 1).await;
    let first_retry = ms(&d["next_attempt_at"]);
    let dlv = d["id"].as_str().unwrap().to_owned();
    let redeliver = format!("{}/{id}/deliveries/{dlv}/redeliver", hooks(&u.workspace_id));

    // Two failed redeliveries leave the schedule where it was.
    for attempts in [2, 3] {
        app.post(&redeliver, &u.token, json!({})).await.expect(202);
        let d = delivery_after(&app, &u, &id, attempts).await;
        assert_eq!(d["status"], "pending");
        assert_eq!(ms(&d["next_attempt_at"]), first_retry, "the retry it displaced is due when it was");
    }
    // The schedule's first retry comes 5 s on, and the next one 5 min after it: the
    // attempts by hand did not move it on.
    advance(&app, 6_000).await;
    r.wait_for("/flaky", 4, WAIT).await;
    let d = delivery_after(&app, &u, &id, 4).await;
    let wait = ms(&d["next_attempt_at"]) - ms(&d["updated_at"]);
    assert!((270_000..=330_000).contains(&wait), "second retry 5 min after the first, not later: {wait} ms");

    // A delivery that was done (delivered) and is redelivered into a failure is failed:
    // a redelivery by hand starts no schedule of its own.
    r.script(|path, _| Reply::status(if path == "/once" { 200 } else { 500 }));
    let (once, _) = endpoint(&app, &u, &r.url("/once"), &[]).await;
    test_event(&app, &u, &once).await;
    let d = delivery_after(&app, &u, &once, 1).await;
    assert_eq!(d["status"], "delivered");
    r.script(|_, _| Reply::status(500));
    let dlv = d["id"].as_str().unwrap();
    app.post(&format!("{}/{once}/deliveries/{dlv}/redeliver", hooks(&u.workspace_id)), &u.token, json!({}))
        .await
        .expect(202);
    let d = delivery_after(&app, &u, &once, 2).await;
    assert_eq!(d["status"], "failed");
    assert!(d["next_attempt_at"].is_null());
}

#[tokio::test]
async fn e2_control_bytes_in_an_answer_are_logged_printable_and_hold_back_no_one() {
    let app = app().await;
    let r = Receiver::start().await;
    r.script(|path, _| match path {
        "/odd" => Reply::status(500).with_body("\0binary\0\u{1b}[31m"),
        _ => Reply::status(200),
    });
    let u = app.signup(&email("owner"), "Acme").await;
    let other = app.signup(&email("other"), "Other").await;
    let (odd, _) = endpoint(&app, &u, &r.url("/odd"), &[]).await;
    let (fine, _) = endpoint(&app, &u, &r.url("/fine"), &[]).await;
    let (theirs, _) = endpoint(&app, &other, &r.url("/theirs"), &[]).await;
    test_event(&app, &u, &odd).await;
    test_event(&app, &u, &fine).await;
    test_event(&app, &other, &theirs).await;
    // Every attempt is recorded (PostgreSQL's text holds no NUL: stored as sent, the
    // batch would fail and every delivery in it be sent again and again).
    delivery_after(&app, &u, &odd, 1).await;
    assert_eq!(delivery_after(&app, &u, &fine, 1).await["status"], "delivered");
    let theirs_path = format!("{}/{theirs}/deliveries", hooks(&other.workspace_id));
    let deadline = std::time::Instant::now() + WAIT;
    while app.get(&theirs_path, &other.token).await.expect(200)["data"][0]["status"] != "delivered" {
        assert!(std::time::Instant::now() < deadline, "the other workspace's delivery was never recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let log = app.get(&format!("{}/{odd}/attempts", hooks(&u.workspace_id)), &u.token).await.expect(200);
    assert_eq!(log["data"][0]["response_excerpt"], "\\u{0}binary\\u{0}\\u{1b}[31m");
    stays_at(&r, "/fine", 1).await;
}

/// The endpoint's only delivery once it has `attempts` attempts recorded.
async fn delivery_after(app: &TestApp, u: &User, id: &str, attempts: i64) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let d = deliveries(app, u, id).await;
        if d.len() == 1 && d[0]["attempts"] == attempts {
            return d[0].clone();
        }
        assert!(std::time::Instant::now() < deadline, "delivery never reached {attempts} attempts: {d:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn e2_429_waits_for_retry_after_and_410_disables_the_endpoint_with_an_audit_event() {
    let app = app().await;
    let r = Receiver::start().await;
    r.script(|path, _| match path {
        "/busy" => Reply::status(429).with_header("retry-after", "120"),
        _ => Reply::status(410).with_body("gone"),
    });
    let u = app.signup(&email("owner"), "Acme").await;
    let (busy, _) = endpoint(&app, &u, &r.url("/busy"), &[]).await;
    let (gone, _) = endpoint(&app, &u, &r.url("/gone"), &[]).await;
    let before = app.clock.now_ms();
    test_event(&app, &u, &busy).await;
    let d = delivery_after(&app, &u, &busy, 1).await;
    let next = time::OffsetDateTime::parse(
        d["next_attempt_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let next_ms = (next.unix_timestamp_nanos() / 1_000_000) as i64;
    assert!(next_ms >= before + 120_000, "Retry-After: 120 is honoured over the 5 s of the schedule");
    advance(&app, 60_000).await;
    stays_at(&r, "/busy", 1).await;
    advance(&app, 61_000).await;
    r.wait_for("/busy", 2, WAIT).await;

    test_event(&app, &u, &gone).await;
    r.wait_for("/gone", 1, WAIT).await;
    let d = delivery_after(&app, &u, &gone, 1).await;
    assert_eq!(d["status"], "failed", "410: no retry");
    let e = app.get(&format!("{}/{gone}", hooks(&u.workspace_id)), &u.token).await.expect(200);
    assert_eq!(e["enabled"], false);
    assert!(e["disabled_reason"].as_str().unwrap().contains("410"));
    let audit = app.get(&format!("/api/v1/workspaces/{}/audit-log", u.workspace_id), &u.token).await.expect(200);
    assert!(audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["action"] == "webhook.disabled" && a["target_id"] == gone));
    app.post(&format!("{}/{gone}/test", hooks(&u.workspace_id)), &u.token, json!({}))
        .await
        .expect_problem(409, "webhook_disabled");
    // Re-enabled by a person, it receives again.
    r.script(|_, _| Reply::status(200));
    app.patch(&format!("{}/{gone}", hooks(&u.workspace_id)), &u.token, json!({ "enabled": true })).await.expect(200);
    test_event(&app, &u, &gone).await;
    r.wait_for("/gone", 2, WAIT).await;
}

#[tokio::test]
async fn e2_an_endpoint_failing_for_five_days_is_disabled_audited_and_its_owner_emailed() {
    let app = app().await;
    let r = Receiver::start().await;
    r.script(|_, _| Reply::status(503));
    let u = app.signup(&email("owner"), "Acme").await;
    let (id, _) = endpoint(&app, &u, &r.url("/down"), &[]).await;
    test_event(&app, &u, &id).await;
    r.wait_for("/down", 1, WAIT).await;
    // Four days on it still fails, and is still enabled.
    advance(&app, 4 * 86_400_000).await;
    r.wait_for("/down", 2, WAIT).await;
    test_event(&app, &u, &id).await;
    r.wait_for("/down", 3, WAIT).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.get(&format!("{}/{id}", hooks(&u.workspace_id)), &u.token).await.expect(200)["enabled"], true);
    // Past five days of failing, the next retry disables it, audited, the Owner told.
    advance(&app, 86_400_000 + 1_000).await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let e = app.get(&format!("{}/{id}", hooks(&u.workspace_id)), &u.token).await.expect(200);
        if e["enabled"] == false {
            assert!(e["disabled_reason"].as_str().unwrap().contains("5 days"), "{e}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the endpoint was never disabled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let audit = app.get(&format!("/api/v1/workspaces/{}/audit-log", u.workspace_id), &u.token).await.expect(200);
    assert!(audit["data"].as_array().unwrap().iter().any(|a| a["action"] == "webhook.disabled"));
    let deadline = std::time::Instant::now() + WAIT;
    while !app.outbox().await.iter().any(|m| m.to_email == u.email && m.subject.contains("webhook")) {
        assert!(std::time::Instant::now() < deadline, "the Owner was never emailed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn e2_a_rotated_secret_signs_beside_the_new_one_for_a_day_then_only_the_new_one() {
    let app = app().await;
    let r = Receiver::start().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let (id, old) = endpoint(&app, &u, &r.url("/rot"), &[]).await;
    let rotated = app.post(&format!("{}/{id}/rotate-secret", hooks(&u.workspace_id)), &u.token, json!({})).await;
    let rotated = rotated.expect(200);
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated["previous_secret_expires_at"].is_string());
    assert!(app.get(&format!("{}/{id}", hooks(&u.workspace_id)), &u.token).await.expect(200).get("secret").is_none());

    test_event(&app, &u, &id).await;
    let got = r.wait_for("/rot", 1, WAIT).await;
    assert!(verify(&old, &got[0]) && verify(&new, &got[0]), "both secrets verify during the overlap");

    advance(&app, 24 * 3_600_000 + 1_000).await;
    test_event(&app, &u, &id).await;
    let got = r.wait_for("/rot", 2, WAIT).await;
    assert!(signed_by(&new, &got[1]), "the new secret signs");
    assert!(!signed_by(&old, &got[1]), "the old one no longer does");
    assert_eq!(got[1].header("webhook-signature").split(' ').count(), 1);
}

#[tokio::test]
async fn e2_a_slow_endpoint_does_not_hold_back_the_others() {
    let app = spawn_with(|c| {
        c.webhooks.allow_private_targets = true;
        c.webhooks.max_in_flight = 8;
        c.webhooks.per_endpoint_in_flight = 2;
    })
    .await;
    let r = Receiver::start().await;
    r.script(|path, _| if path == "/slow" { Reply::status(200).held() } else { Reply::status(200) });
    let u = app.signup(&email("owner"), "Acme").await;
    let (slow, _) = endpoint(&app, &u, &r.url("/slow"), &[]).await;
    let (fast, _) = endpoint(&app, &u, &r.url("/fast"), &[]).await;
    for _ in 0..20 {
        test_event(&app, &u, &slow).await;
    }
    for _ in 0..20 {
        test_event(&app, &u, &fast).await;
    }
    // Every fast delivery arrives while the slow endpoint still holds its answers.
    r.wait_for("/fast", 20, Duration::from_secs(10)).await;
    assert_eq!(r.received_at("/slow").len(), 2, "the slow endpoint has at most its share in flight");
    r.open_gate();
    r.wait_for("/slow", 20, WAIT).await;
}

#[tokio::test]
async fn e3_private_loopback_link_local_cgnat_and_metadata_targets_are_refused() {
    let app = spawn_with(|c| c.webhooks.allow_private_targets = false).await;
    let r = Receiver::start().await;
    let u = app.signup(&email("owner"), "Acme").await;
    for url in [
        "http://127.0.0.1/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/hook",
        "http://100.64.1.1/hook",
    ] {
        app.post(&hooks(&u.workspace_id), &u.token, json!({ "url": url }))
            .await
            .expect_problem(422, "webhook_target_refused");
        let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
        app.post(&format!("{ws}/agents"), &u.token, json!({ "name": "A", "webhook_url": url }))
            .await
            .expect_problem(422, "webhook_target_refused");
    }
    // A name that resolves to loopback is accepted as a name, refused when resolved,
    // and the refusal shows in the delivery log; nothing reaches the receiver.
    let port = r.base.rsplit(':').next().unwrap();
    let (id, _) = endpoint(&app, &u, &format!("http://localhost:{port}/named"), &[]).await;
    test_event(&app, &u, &id).await;
    let deadline = std::time::Instant::now() + WAIT;
    let attempt = loop {
        let log = app.get(&format!("{}/{id}/attempts", hooks(&u.workspace_id)), &u.token).await.expect(200);
        if let Some(a) = log["data"].as_array().unwrap().first() {
            break a.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no attempt was logged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let error = attempt["error"].as_str().unwrap();
    assert!(error.contains("localhost resolves to") && error.contains("loopback"), "{error}");
    assert!(attempt["status_code"].is_null());
    assert!(r.received().is_empty());
}

#[tokio::test]
async fn e3_a_redirect_to_loopback_is_not_followed() {
    let app = app().await;
    let r = Receiver::start().await;
    let target = r.url("/inside");
    r.script(move |path, _| match path {
        "/redirect" => Reply::status(302).with_header("location", &target),
        _ => Reply::status(200),
    });
    let u = app.signup(&email("owner"), "Acme").await;
    let (id, _) = endpoint(&app, &u, &r.url("/redirect"), &[]).await;
    test_event(&app, &u, &id).await;
    r.wait_for("/redirect", 1, WAIT).await;
    let d = delivery_after(&app, &u, &id, 1).await;
    assert_eq!(d["status"], "pending", "a redirect is a failure, retried later");
    assert_eq!(d["last_status_code"], 302);
    assert!(d["last_error"].as_str().unwrap().contains("redirect not followed"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(r.received_at("/inside").is_empty(), "the redirect's target was never contacted");
}

#[tokio::test]
async fn e1_webhooks_are_the_workspaces_own_and_bad_input_is_refused() {
    let app = app().await;
    let r = Receiver::start().await;
    let a = app.signup(&email("a"), "Acme").await;
    let b = app.signup(&email("b"), "Globex").await;
    let (id, _) = endpoint(&app, &a, &r.url("/a"), &["call.ended"]).await;
    // Another workspace cannot see, change, test, rotate or delete it (I1, I2).
    let theirs = format!("{}/{id}", hooks(&b.workspace_id));
    app.get(&theirs, &b.token).await.expect_problem(404, "not_found");
    app.patch(&theirs, &b.token, json!({ "enabled": false })).await.expect_problem(404, "not_found");
    app.post(&format!("{theirs}/test"), &b.token, json!({})).await.expect_problem(404, "not_found");
    app.post(&format!("{theirs}/rotate-secret"), &b.token, json!({})).await.expect_problem(404, "not_found");
    app.get(&format!("{theirs}/deliveries"), &b.token).await.expect_problem(404, "not_found");
    app.get(&format!("{theirs}/attempts"), &b.token).await.expect_problem(404, "not_found");
    app.delete(&theirs, &b.token, json!({})).await.expect_problem(404, "not_found");
    app.get(&format!("{}/{id}", hooks(&a.workspace_id)), &b.token).await.expect_problem(404, "not_found");
    assert!(app.get(&hooks(&b.workspace_id), &b.token).await.expect(200)["data"].as_array().unwrap().is_empty());
    // A delivery of one endpoint is not redelivered through another.
    let (other, _) = endpoint(&app, &a, &r.url("/other"), &[]).await;
    let event = test_event(&app, &a, &id).await;
    r.wait_for("/a", 1, WAIT).await;
    let dlv = deliveries(&app, &a, &id).await[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(deliveries(&app, &a, &id).await[0]["event_id"], event.as_str());
    app.post(&format!("{}/{other}/deliveries/{dlv}/redeliver", hooks(&a.workspace_id)), &a.token, json!({}))
        .await
        .expect_problem(404, "not_found");

    for (body, field) in [
        (json!({}), "url"),
        (json!({ "url": "ftp://example.com/x" }), "url"),
        (json!({ "url": "https://user:pw@example.com/x" }), "url"),
        (json!({ "url": "http:///path" }), "url"),
        (json!({ "url": "https:/example.com/x" }), "url"),
        (json!({ "url": "https://example.com:0/x" }), "url"),
        (json!({ "url": "https://example.com/x#part" }), "url"),
        (json!({ "url": format!("https://example.com/{}", "x".repeat(2000)) }), "url"),
        (json!({ "url": "https://example.com/x", "event_types": ["call.exploded"] }), "event_types"),
        (json!({ "url": "https://example.com/x", "description": "x".repeat(201) }), "description"),
    ] {
        let res = app.post(&hooks(&a.workspace_id), &a.token, body).await;
        res.expect_problem(422, "validation_failed");
        assert_eq!(res.body["errors"][0]["field"], field);
    }
    app.get(&format!("{}/{id}/deliveries?status=lost", hooks(&a.workspace_id)), &a.token)
        .await
        .expect_problem(422, "validation_failed");

    // The catalog lists every event with an example message.
    let types = app.call(reqwest::Method::GET, "/api/v1/webhook-event-types", None, None).await.expect(200);
    let names: Vec<&str> = types.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    for t in ["call.queued", "call.ringing", "call.started", "call.ended", "call.analyzed", "contact.import.completed"]
    {
        assert!(names.contains(&t), "{t} in the catalog");
    }
    assert!(types.as_array().unwrap().iter().all(|t| t["example"]["type"] == t["name"]));
    // ... and so do the docs page and the OpenAPI document, with the payload schemas.
    let docs = app.http.get(format!("{}/docs/webhooks", app.base)).send().await.unwrap().text().await.unwrap();
    let openapi = app.call(reqwest::Method::GET, "/api/openapi.json", None, None).await.expect(200);
    let catalog = &openapi["components"]["schemas"]["WebhookEventType"]["enum"];
    for name in &names {
        assert!(docs.contains(&format!("id=\"{name}\"")), "{name} on the docs page");
        assert!(catalog.as_array().unwrap().iter().any(|n| n == name), "{name} in the OpenAPI catalog");
    }
    assert!(docs.contains("at least once") && docs.contains("Order is not promised"));
    for schema in ["WebhookMessage", "CallEventData", "CallAnalyzedData", "ImportCompletedData", "TestEventData"] {
        assert!(openapi["components"]["schemas"][schema].is_object(), "{schema} is documented");
    }
}

#[tokio::test]
async fn e1_a_finished_import_is_an_event() {
    let app = app().await;
    let r = Receiver::start().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let (_, secret) = endpoint(&app, &u, &r.url("/imports"), &["contact.import.completed"]).await;
    let csv = "phone,name\n+919812345678,Asha\n+919812345679,Ravi\nnot-a-phone,Bad\n";
    let res = app
        .http
        .post(format!("{}/api/v1/workspaces/{}/contacts/imports", app.base, u.workspace_id))
        .bearer_auth(&u.token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
    let got = r.wait_for("/imports", 1, WAIT).await;
    let m = got[0].json();
    assert_eq!(m["type"], "contact.import.completed");
    assert_eq!(m["data"]["imported"], 2);
    assert_eq!(m["data"]["failed"], 1);
    assert!(verify(&secret, &got[0]));
}
