//! SPEC P6, P9: campaigns dialed by the dialer on the simulated carrier with the
//! injected clock (windows in each contact's time zone, daylight saving, retries,
//! do-not-call, pause and resume, the wallet running dry), their isolation, and
//! analytics rollups that equal a full recount.

use callplane_domain::Clock;
use callplane_server::services::{calls as call_worker, dialer, wallet};
use callplane_store::product::analytics;
use serde_json::{json, Value};

use crate::common::{email, spawn_with, TestApp, User};

fn ws_path(ws: &str) -> String {
    format!("/api/v1/workspaces/{ws}")
}

struct Setup {
    u: User,
    agent: String,
    number: String,
}

async fn app() -> TestApp {
    spawn_with(|c| {
        c.webhooks.allow_private_targets = true;
        c.campaigns.dialer = false; // the test drives it, step by step
    })
    .await
}

/// A workspace with an active agent, an Indian number and `funds` paise.
async fn setup(app: &TestApp, funds: i64) -> Setup {
    let u = app.signup(&email("owner"), "Acme").await;
    let ws = ws_path(&u.workspace_id);
    let agent = app.post(&format!("{ws}/agents"), &u.token, json!({ "name": "Caller", "status": "active" })).await;
    let agent = agent.expect(201)["id"].as_str().unwrap().to_owned();
    let offer = app.get(&format!("{ws}/phone-numbers/available?country=IN&limit=1"), &u.token).await.expect(200);
    let number = app.post(&format!("{ws}/phone-numbers"), &u.token, json!({ "e164": offer["data"][0]["e164"] })).await;
    let number = number.expect(201)["id"].as_str().unwrap().to_owned();
    if funds > 0 {
        wallet::credit(&app.state, &u.account_id, funds, "test funds").await.unwrap();
    }
    Setup { u, agent, number }
}

async fn contact(app: &TestApp, s: &Setup, phone: &str, extra: Value) -> String {
    let mut body = json!({ "phone": phone, "tags": ["leads"] });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let c = app.post(&format!("{}/contacts", ws_path(&s.u.workspace_id)), &s.u.token, body).await.expect(201);
    c["id"].as_str().unwrap().to_owned()
}

async fn campaign(app: &TestApp, s: &Setup, extra: Value) -> String {
    let mut body = json!({
        "name": "Renewals", "agent_id": s.agent, "number_ids": [s.number], "audience": { "tag": "leads" },
        "timezone": "Asia/Kolkata", "max_concurrency": 10, "calls_per_second": 10,
        "window": { "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "00:00" },
    });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let c = app.post(&format!("{}/campaigns", ws_path(&s.u.workspace_id)), &s.u.token, body).await.expect(201);
    assert_eq!(c["status"], "draft");
    c["id"].as_str().unwrap().to_owned()
}

async fn act(app: &TestApp, s: &Setup, id: &str, action: &str) -> Value {
    app.post(&format!("{}/campaigns/{id}/{action}", ws_path(&s.u.workspace_id)), &s.u.token, json!({}))
        .await
        .expect(200)
}

async fn get(app: &TestApp, s: &Setup, id: &str) -> Value {
    app.get(&format!("{}/campaigns/{id}", ws_path(&s.u.workspace_id)), &s.u.token).await.expect(200)
}

async fn results(app: &TestApp, s: &Setup, id: &str) -> Vec<Value> {
    let page = app.get(&format!("{}/campaigns/{id}/results?limit=500", ws_path(&s.u.workspace_id)), &s.u.token).await;
    page.expect(200)["data"].as_array().unwrap().clone()
}

fn result_of<'a>(rows: &'a [Value], contact: &str) -> &'a Value {
    rows.iter().find(|r| r["contact_id"] == contact).expect("the contact is a target")
}

/// Moves time on in one-second steps; the dialer and the call worker act at each.
async fn run_for(app: &TestApp, ms: i64) {
    let mut left = ms;
    loop {
        dialer::work_once(&app.state).await;
        call_worker::work_once(&app.state).await;
        if left <= 0 {
            break;
        }
        let step = left.min(1_000);
        app.clock.advance(step);
        left -= step;
    }
    dialer::work_once(&app.state).await;
}

/// The campaign's calls, oldest first.
async fn campaign_calls(app: &TestApp, s: &Setup, id: &str) -> Vec<Value> {
    let path = format!("{}/calls?campaign_id={id}&limit=500", ws_path(&s.u.workspace_id));
    let mut calls = app.get(&path, &s.u.token).await.expect(200)["data"].as_array().unwrap().clone();
    calls.reverse();
    calls
}

#[tokio::test]
async fn p6_a_campaign_dials_its_audience_retries_busy_skips_do_not_call_and_completes() {
    let app = app().await;
    let s = setup(&app, 100_000).await;
    let receiver = callplane_testkit::receiver::Receiver::start().await;
    app.post(
        &format!("{}/webhooks", ws_path(&s.u.workspace_id)),
        &s.u.token,
        json!({ "url": receiver.url("/hook"), "event_types": ["campaign.started", "campaign.completed"] }),
    )
    .await
    .expect(201);
    let answers = contact(&app, &s, "+919876500061", json!({ "name": "Asha" })).await;
    let busy = contact(&app, &s, "+919876500486", json!({})).await;
    let dnc = contact(&app, &s, "+919876500111", json!({ "do_not_call": true })).await;
    let opted = contact(&app, &s, "+919876500112", json!({ "opted_out": true })).await;
    let outside = app
        .post(&format!("{}/contacts", ws_path(&s.u.workspace_id)), &s.u.token, json!({ "phone": "+919876500113" }))
        .await
        .expect(201);
    let id = campaign(&app, &s, json!({ "max_attempts": 2, "retry_delay_secs": 300 })).await;

    let started = act(&app, &s, &id, "start").await;
    assert_eq!(started["status"], "running");
    assert_eq!(started["progress"]["total"], 4, "the tag's contacts, taken at start: {started}");
    run_for(&app, 120_000).await;
    let mid = get(&app, &s, &id).await;
    assert_eq!(mid["status"], "running", "the busy contact waits for its retry: {mid}");
    assert_eq!(mid["progress"]["skipped"], 2);
    assert_eq!(mid["progress"]["answered"], 1);
    assert_eq!(mid["progress"]["remaining"], 1);
    run_for(&app, 300_000).await;
    let done = get(&app, &s, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let p = &done["progress"];
    assert_eq!((p["total"].as_i64(), p["dialed"].as_i64(), p["answered"].as_i64()), (Some(4), Some(2), Some(1)));
    assert_eq!((p["skipped"].as_i64(), p["failed"].as_i64(), p["attempts"].as_i64()), (Some(2), Some(1), Some(3)));
    assert_eq!((p["remaining"].as_i64(), p["in_progress"].as_i64()), (Some(0), Some(0)));

    let rows = results(&app, &s, &id).await;
    assert_eq!(result_of(&rows, &answers)["outcome"], "completed");
    assert_eq!(result_of(&rows, &busy)["outcome"], "busy");
    assert_eq!(result_of(&rows, &busy)["attempts"], 2, "retried once, then out of attempts");
    assert_eq!(result_of(&rows, &dnc)["outcome"], "do_not_call");
    assert_eq!(result_of(&rows, &dnc)["attempts"], 0);
    assert_eq!(result_of(&rows, &opted)["outcome"], "opted_out");
    assert!(rows.iter().all(|r| r["contact_id"] != outside["id"]), "untagged contacts are not in the audience");
    let calls = campaign_calls(&app, &s, &id).await;
    assert_eq!(calls.len(), 3, "one call per attempt");
    assert!(calls.iter().all(|c| c["settled"] == true));
    let last = result_of(&rows, &answers)["call_id"].as_str().unwrap();
    assert!(calls.iter().any(|c| c["id"] == last), "a result links its call");

    // The CSV export of results.
    let csv = app.http.get(format!("{}{}/campaigns/{id}/results/export", app.base, ws_path(&s.u.workspace_id)));
    let csv = csv.bearer_auth(&s.u.token).send().await.unwrap().text().await.unwrap();
    assert!(csv.starts_with("contact_id,name,phone,state,attempts,outcome"));
    assert_eq!(csv.lines().count(), 5);
    assert!(csv.contains("Asha"));

    // Every transition is on the audit log and sent to webhooks.
    let log = app.get(&format!("{}/audit-log?limit=100", ws_path(&s.u.workspace_id)), &s.u.token).await.expect(200);
    let actions: Vec<&str> = log["data"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    for a in ["campaign.created", "campaign.started", "campaign.completed"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let hooks = app.get(&format!("{}/webhooks", ws_path(&s.u.workspace_id)), &s.u.token).await.expect(200);
    let hook = hooks["data"][0]["id"].as_str().unwrap().to_owned();
    let sent = app.get(&format!("{}/webhooks/{hook}/deliveries", ws_path(&s.u.workspace_id)), &s.u.token).await;
    let mut types: Vec<String> =
        sent.expect(200)["data"].as_array().unwrap().iter().map(|d| d["event_type"].as_str().unwrap().into()).collect();
    types.sort();
    assert_eq!(types, ["campaign.completed", "campaign.started"]);
    // A finished campaign is history.
    app.post(&format!("{}/campaigns/{id}/resume", ws_path(&s.u.workspace_id)), &s.u.token, json!({}))
        .await
        .expect_problem(409, "campaign_state");
    app.delete(&format!("{}/campaigns/{id}", ws_path(&s.u.workspace_id)), &s.u.token, json!({}))
        .await
        .expect_problem(409, "campaign_state");
}

/// Milliseconds of an RFC 3339 time.
fn at(s: &str) -> i64 {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap().unix_timestamp() * 1000
}

#[tokio::test]
async fn p6_the_window_is_each_contacts_local_time_across_midnight() {
    let app = app().await;
    let s = setup(&app, 100_000).await;
    // 2026-11-27 16:00 UTC: 21:30 in Kolkata, 08:00 in Los Angeles (PST).
    app.clock.set(at("2026-11-27T16:00:00Z"));
    let kolkata = contact(&app, &s, "+919876500201", json!({ "timezone": "Asia/Kolkata" })).await;
    let la = contact(&app, &s, "+919876500202", json!({ "timezone": "America/Los_Angeles" })).await;
    let id = campaign(&app, &s, json!({ "window": { "days": ["fri"], "start": "22:00", "end": "02:00" } })).await;
    act(&app, &s, &id, "start").await;
    run_for(&app, 1_000).await;
    assert_eq!(get(&app, &s, &id).await["progress"]["dialed"], 0, "closed for both");
    let rows = results(&app, &s, &id).await;
    assert_eq!(result_of(&rows, &kolkata)["next_attempt_at"], "2026-11-27T16:30:00Z", "22:00 IST");
    assert_eq!(result_of(&rows, &la)["next_attempt_at"], "2026-11-28T06:00:00Z", "Friday 22:00 PST");

    // 17:00 UTC: 22:30 IST, open in Kolkata only.
    app.clock.set(at("2026-11-27T17:00:00Z"));
    run_for(&app, 0).await;
    let rows = results(&app, &s, &id).await;
    assert_eq!(result_of(&rows, &kolkata)["attempts"], 1);
    assert_eq!(result_of(&rows, &la)["attempts"], 0);
    // Saturday 08:30 UTC = 00:30 PST: Friday's window, past midnight, in Los Angeles.
    app.clock.set(at("2026-11-28T08:30:00Z"));
    run_for(&app, 0).await;
    let rows = results(&app, &s, &id).await;
    assert_eq!(result_of(&rows, &la)["attempts"], 1, "Friday's window crosses midnight");
}

#[tokio::test]
async fn p6_the_window_moves_with_daylight_saving() {
    let app = app().await;
    let s = setup(&app, 100_000).await;
    // Saturday 2026-03-07 16:30 UTC = 08:30 PST: before a 09:00 window.
    app.clock.set(at("2026-03-07T16:30:00Z"));
    let la = contact(&app, &s, "+919876500301", json!({ "timezone": "America/Los_Angeles" })).await;
    let id = campaign(&app, &s, json!({ "window": { "days": ["sun"], "start": "09:00", "end": "17:00" } })).await;
    act(&app, &s, &id, "start").await;
    run_for(&app, 0).await;
    // Sunday 09:00 is PDT (clocks went forward at 02:00): 16:00 UTC, not 17:00.
    assert_eq!(result_of(&results(&app, &s, &id).await, &la)["next_attempt_at"], "2026-03-08T16:00:00Z");
    app.clock.set(at("2026-03-08T15:59:00Z"));
    run_for(&app, 0).await;
    assert_eq!(result_of(&results(&app, &s, &id).await, &la)["attempts"], 0);
    // 16:30 UTC on Sunday is 09:30 PDT (a fixed -08:00 would still say 08:30).
    app.clock.set(at("2026-03-08T16:30:00Z"));
    run_for(&app, 0).await;
    assert_eq!(result_of(&results(&app, &s, &id).await, &la)["attempts"], 1);
}

#[tokio::test]
async fn p6_pause_stops_dialing_and_a_flag_set_mid_campaign_is_honoured() {
    let app = app().await;
    let s = setup(&app, 100_000).await;
    let first = contact(&app, &s, "+919876500401", json!({})).await;
    let second = contact(&app, &s, "+919876500402", json!({})).await;
    let third = contact(&app, &s, "+919876500403", json!({})).await;
    let id = campaign(&app, &s, json!({ "calls_per_second": 1, "max_concurrency": 1 })).await;
    act(&app, &s, &id, "start").await;
    dialer::work_once(&app.state).await;
    let paused = act(&app, &s, &id, "pause").await;
    assert_eq!(paused["status"], "paused");
    assert_eq!(paused["progress"]["dialed"], 1, "one call at a time");
    // While paused nothing more is dialed, however long it waits.
    run_for(&app, 600_000).await;
    let p = get(&app, &s, &id).await;
    assert_eq!(p["progress"]["dialed"], 1);
    assert_eq!(p["progress"]["remaining"], 2);
    // A contact marked do-not-call mid-campaign is skipped when its turn comes.
    let dialed_first = result_of(&results(&app, &s, &id).await, &first)["attempts"] == 1;
    let flagged = if dialed_first { &second } else { &first };
    app.patch(
        &format!("{}/contacts/{flagged}", ws_path(&s.u.workspace_id)),
        &s.u.token,
        json!({ "do_not_call": true }),
    )
    .await
    .expect(200);
    // Settings can change while paused.
    let edited = app
        .patch(&format!("{}/campaigns/{id}", ws_path(&s.u.workspace_id)), &s.u.token, json!({ "max_concurrency": 5 }))
        .await
        .expect(200);
    assert_eq!(edited["max_concurrency"], 5);
    assert_eq!(act(&app, &s, &id, "resume").await["status"], "running");
    app.patch(&format!("{}/campaigns/{id}", ws_path(&s.u.workspace_id)), &s.u.token, json!({ "name": "x" }))
        .await
        .expect_problem(409, "campaign_state");
    run_for(&app, 600_000).await;
    let done = get(&app, &s, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let rows = results(&app, &s, &id).await;
    assert_eq!(result_of(&rows, flagged)["outcome"], "do_not_call");
    assert_eq!(result_of(&rows, flagged)["attempts"], 0);
    assert_eq!(done["progress"]["skipped"], 1);
    assert_eq!(done["progress"]["answered"], 2);
    let _ = third;
    // Cancelling a finished campaign is refused; a fresh one can be cancelled.
    let other = campaign(&app, &s, json!({ "name": "Second" })).await;
    act(&app, &s, &other, "start").await;
    assert_eq!(act(&app, &s, &other, "cancel").await["status"], "cancelled");
    run_for(&app, 5_000).await;
    assert_eq!(get(&app, &s, &other).await["progress"]["dialed"], 0, "a cancelled campaign dials nobody");
}

#[tokio::test]
async fn p6_the_wallet_running_dry_pauses_the_campaign_with_the_reason() {
    let app = app().await;
    // 60 paise a minute in India: enough for two calls' first minutes.
    let s = setup(&app, 150).await;
    for i in 0..5 {
        contact(&app, &s, &format!("+91987650050{i}"), json!({})).await;
    }
    let id = campaign(&app, &s, json!({ "max_concurrency": 5, "calls_per_second": 5 })).await;
    act(&app, &s, &id, "start").await;
    run_for(&app, 1_000).await;
    let paused = get(&app, &s, &id).await;
    assert_eq!(paused["status"], "paused", "{paused}");
    assert_eq!(paused["pause_reason"], "insufficient_funds");
    assert_eq!(paused["progress"]["dialed"], 2);
    assert_eq!(paused["progress"]["remaining"], 3, "unplaced attempts go back, not counted");
    run_for(&app, 300_000).await;
    assert_eq!(get(&app, &s, &id).await["progress"]["dialed"], 2, "a paused campaign waits");
    wallet::credit(&app.state, &s.u.account_id, 100_000, "top-up").await.unwrap();
    let resumed = act(&app, &s, &id, "resume").await;
    assert_eq!(resumed["pause_reason"], Value::Null);
    run_for(&app, 300_000).await;
    let done = get(&app, &s, &id).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["progress"]["dialed"], 5);
    assert_eq!(campaign_calls(&app, &s, &id).await.len(), 5, "no contact was dialed twice for an attempt");
}

#[tokio::test]
async fn p6_a_campaign_only_reaches_its_workspace_and_the_schema_refuses_another_contact() {
    let app = app().await;
    let a = setup(&app, 10_000).await;
    let b = setup(&app, 10_000).await;
    let theirs = contact(&app, &b, "+919876500601", json!({})).await;
    contact(&app, &a, "+919876500602", json!({})).await;
    let ours = campaign(&app, &a, json!({})).await;
    let base =
        json!({ "name": "Steal", "agent_id": a.agent, "number_ids": [a.number], "audience": { "tag": "leads" } });
    let path = format!("{}/campaigns", ws_path(&a.u.workspace_id));
    for (field, value) in [
        ("agent_id", json!(b.agent)),
        ("number_ids", json!([b.number])),
        ("audience", json!({ "contact_ids": [theirs] })),
    ] {
        let mut body = base.clone();
        body[field] = value;
        app.post(&path, &a.u.token, body).await.expect_problem(422, "validation_failed");
    }
    // B cannot see, start or edit A's campaign.
    let other = format!("{}/campaigns/{ours}", ws_path(&b.u.workspace_id));
    app.get(&other, &b.u.token).await.expect_problem(404, "not_found");
    app.post(&format!("{other}/start"), &b.u.token, json!({})).await.expect_problem(404, "not_found");
    let list = app.get(&format!("{}/campaigns", ws_path(&b.u.workspace_id)), &b.u.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
    // Behind the handlers, the composite key refuses a target from another workspace.
    let db = app.region_db(&a.u.workspace_id).await;
    let mut conn = db.conn().await.unwrap();
    let sql = format!(
        "INSERT INTO campaign_targets (workspace_id, campaign_id, contact_id, state, attempts, updated_at)
         VALUES ('{}', '{ours}', '{theirs}', 'pending', 0, 0)",
        a.u.workspace_id
    );
    assert!(callplane_store::fixtures::raw_execute(&mut conn, &sql).await.is_err(), "the schema refuses it");
}

#[tokio::test]
async fn p6_bad_campaign_input_is_refused_with_field_errors() {
    let app = app().await;
    let s = setup(&app, 10_000).await;
    let path = format!("{}/campaigns", ws_path(&s.u.workspace_id));
    let base = json!({ "name": "Bad", "agent_id": s.agent, "number_ids": [s.number], "audience": { "tag": "nobody" } });
    for (field, value) in [
        ("window", json!({ "days": ["funday"], "start": "09:00", "end": "17:00" })),
        ("window", json!({ "days": ["mon"], "start": "9", "end": "17:00" })),
        ("timezone", json!("Mars/Olympus")),
        ("max_concurrency", json!(10_000)),
        ("calls_per_second", json!(0)),
        ("retry_on", json!(["completed"])),
        ("start_at", json!("tomorrow")),
        ("name", json!("")),
    ] {
        let mut body = base.clone();
        body[field] = value.clone();
        let res = app.post(&path, &s.u.token, body).await;
        res.expect_problem(422, "validation_failed");
        assert!(res.body["errors"][0]["field"].as_str().unwrap().starts_with(field), "{field}: {}", res.body);
    }
    let id = app.post(&path, &s.u.token, base).await.expect(201)["id"].as_str().unwrap().to_owned();
    app.post(&format!("{path}/{id}/start"), &s.u.token, json!({})).await.expect_problem(422, "audience_empty");
    app.post(&format!("{path}/{id}/pause"), &s.u.token, json!({})).await.expect_problem(409, "campaign_state");
    app.get(&format!("{path}?status=lost"), &s.u.token).await.expect_problem(422, "validation_failed");
    app.delete(&format!("{path}/{id}"), &s.u.token, json!({})).await.expect(204);
}

#[tokio::test]
async fn p6_a_scheduled_campaign_starts_at_its_time() {
    let app = app().await;
    let s = setup(&app, 10_000).await;
    contact(&app, &s, "+919876500701", json!({})).await;
    let start = app.clock.now_ms() + 3_600_000;
    let start_at = time::OffsetDateTime::from_unix_timestamp(start / 1000).unwrap();
    let start_at = start_at.format(&time::format_description::well_known::Rfc3339).unwrap();
    let id = campaign(&app, &s, json!({ "start_at": start_at })).await;
    assert_eq!(act(&app, &s, &id, "start").await["status"], "scheduled");
    run_for(&app, 60_000).await;
    assert_eq!(get(&app, &s, &id).await["progress"]["dialed"], 0);
    app.clock.advance(3_600_000);
    run_for(&app, 0).await;
    let running = get(&app, &s, &id).await;
    assert_eq!(running["status"], "running");
    assert_eq!(running["progress"]["dialed"], 1);
}

#[tokio::test]
async fn p9_rollups_equal_a_full_recount_after_a_random_mix_of_calls() {
    let app = app().await;
    let s = setup(&app, 10_000_000).await;
    let ws = ws_path(&s.u.workspace_id);
    let second = app.post(&format!("{ws}/agents"), &s.u.token, json!({ "name": "Second", "status": "active" })).await;
    let second = second.expect(201)["id"].as_str().unwrap().to_owned();
    // A deterministic pseudo-random mix over three days: outcomes, agents, cancels,
    // inbound calls, and a campaign.
    let mut seed = 0x2545_f491_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let tails = ["0486", "0408", "0500", "0061", "1234", "5678"];
    let mut placed = Vec::new();
    for day in 0..3 {
        for _ in 0..12 {
            let r = next();
            let to = format!("+91987650{}", tails[(r % 6) as usize]);
            let agent = if r % 3 == 0 { &second } else { &s.agent };
            let c = app.post(&format!("{ws}/calls"), &s.u.token, json!({ "agent_id": agent, "to": to })).await;
            placed.push((c.expect(201)["id"].as_str().unwrap().to_owned(), r % 7 == 0));
        }
        let inbound = format!("{ws}/phone-numbers/{}/simulate-inbound", s.number);
        app.post(&inbound, &s.u.token, json!({ "from": format!("+91987650{:04}", next() % 10_000) })).await.expect(201);
        run_for(&app, 5_000).await;
        for (id, cancel) in &placed {
            if *cancel {
                let _ = app.post(&format!("{ws}/calls/{id}/cancel"), &s.u.token, json!({})).await;
            }
        }
        run_for(&app, 200_000).await;
        if day == 1 {
            contact(&app, &s, "+919876500801", json!({})).await;
            contact(&app, &s, "+919876500486", json!({})).await;
            let id = campaign(&app, &s, json!({ "max_attempts": 1 })).await;
            act(&app, &s, &id, "start").await;
            run_for(&app, 300_000).await;
        }
        app.clock.advance(analytics::DAY_MS);
    }
    run_for(&app, 400_000).await;

    let db = app.region_db(&s.u.workspace_id).await;
    let now = app.clock.now_ms();
    let (from, to) = (now - 10 * analytics::DAY_MS, now + analytics::DAY_MS);
    let (from, to) = (from - from % analytics::DAY_MS, to - to % analytics::DAY_MS);
    let mut conn = callplane_store::fixtures::in_workspace(db.conn().await.unwrap(), &s.u.workspace_id);
    let rollups = analytics::rollups(&mut conn, from, to).await.unwrap();
    let recount = analytics::recount(&mut conn, from, to).await.unwrap();
    assert!(rollups.len() > 10, "a mix of days, agents, statuses: {rollups:?}");
    assert_eq!(rollups, recount, "the rollups equal a full recount");
    assert!(rollups.iter().any(|r| !r.campaign_id.is_empty()));
    assert!(rollups.iter().any(|r| r.direction == "inbound"));
    assert!(rollups.iter().any(|r| r.status == "canceled"));

    // The endpoint reads the rollups: its totals are the recount's.
    let report = app.get(&format!("{ws}/analytics?from=2000-01-01&to=2000-12-31"), &s.u.token).await.expect(200);
    assert_eq!(report["totals"]["calls"], 0);
    let report = app.get(&format!("{ws}/analytics"), &s.u.token).await.expect(200);
    let sum = |f: fn(&analytics::Row) -> i64| recount.iter().map(f).sum::<i64>();
    assert_eq!(report["totals"]["calls"].as_i64().unwrap(), sum(|r| r.calls));
    assert_eq!(report["totals"]["answered"].as_i64().unwrap(), sum(|r| r.answered));
    assert_eq!(report["totals"]["cost"]["amount"].as_i64().unwrap(), sum(|r| r.cost));
    assert_eq!(report["days"].as_array().unwrap().len(), 30);
    assert_eq!(report["by_agent"].as_array().unwrap().len(), 3, "two agents and the inbound without one? {report}");
    assert_eq!(report["by_campaign"].as_array().unwrap().len(), 1);
    // Money only with billing_view.
    let viewer = app.signup(&email("viewer"), "Viewer home").await;
    app.add_member(&s.u.workspace_id, &viewer.user_id, "viewer").await;
    let seen = app.get(&format!("{ws}/analytics"), &viewer.token).await.expect(200);
    assert_eq!(seen["totals"]["calls"], report["totals"]["calls"]);
    assert_eq!(seen["totals"]["cost"], Value::Null);
    app.get(&format!("{ws}/analytics?from=2026-13-01"), &s.u.token).await.expect_problem(422, "validation_failed");
}
