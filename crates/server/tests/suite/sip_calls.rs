//! SPEC N2, P7: SIP/BYOC calls through the server against a real SIP peer (sipp):
//! an outbound call placed through the API goes out over the workspace's trunk, talks,
//! is recorded, priced at the flat rate and stays in its workspace; inbound INVITEs
//! reach the workspace holding the number only from its trunk's gateways.

use std::time::Duration;

use callplane_server::services::wallet;
use callplane_store::product::calls::Work;
use callplane_store::regions::RegionDb;
use callplane_telephony::media::{stereo_channel, tone_share};
use callplane_testkit::sipp;
use serde_json::{json, Value};

use crate::common::{email, spawn_with, TestApp, User};

/// A server serving SIP on loopback (its RTP below the ports sipp picks).
async fn sip_app() -> TestApp {
    spawn_with(|c| {
        c.sip.listen = Some("127.0.0.1:0".parse().unwrap());
        c.sip.rtp_port_min = 20_000;
        c.sip.rtp_port_max = 29_998;
        c.sip.ring_timeout_secs = 10;
        // Leases renewed every third of a second: a call ended elsewhere is hung up soon.
        c.workers.lease_secs = 1;
        c.webhooks.allow_private_targets = true;
    })
    .await
}

fn ws_path(ws: &str) -> String {
    format!("/api/v1/workspaces/{ws}")
}

/// A workspace on SIP/BYOC with funds, an active recording agent, a number, and a trunk
/// whose gateway is `gateway` and which lets calls in from `inbound_cidr`.
async fn sip_workspace(app: &TestApp, tag: &str, gateway: &str, inbound_cidr: &str) -> (User, String, String) {
    let u = app.signup(&email(tag), tag).await;
    let ws = ws_path(&u.workspace_id);
    wallet::credit(&app.state, &u.account_id, 100_000, "test funds").await.unwrap();
    app.patch(&format!("{ws}/telephony"), &u.token, json!({ "provider": "sip", "sip_enabled": true }))
        .await
        .expect(200);
    let agent = app
        .post(
            &format!("{ws}/agents"),
            &u.token,
            json!({ "name": "Maya", "status": "active", "recording": true, "first_message": "Hello from Maya." }),
        )
        .await
        .expect(201);
    let offer = app.get(&format!("{ws}/phone-numbers/available?country=IN&limit=1"), &u.token).await.expect(200);
    let number = app.post(&format!("{ws}/phone-numbers"), &u.token, json!({ "e164": offer["data"][0]["e164"] })).await;
    let number = number.expect(201);
    let agent_id = agent["id"].as_str().unwrap().to_owned();
    app.patch(
        &format!("{ws}/phone-numbers/{}", number["id"].as_str().unwrap()),
        &u.token,
        json!({ "agent_id": agent_id }),
    )
    .await
    .expect(200);
    let (host, port) = gateway.split_once(':').unwrap();
    app.post(
        &format!("{ws}/sip-trunks"),
        &u.token,
        json!({
            "name": "Loopback carrier",
            "kind": "static_ip",
            "gateways": [{ "host": host, "port": port.parse::<u16>().unwrap(), "inbound_cidrs": [inbound_cidr] }],
            "codecs": ["PCMU", "PCMA"],
        }),
    )
    .await
    .expect(201);
    (u, agent_id, number["e164"].as_str().unwrap().to_owned())
}

/// Polls the call until it has ended.
async fn ended(app: &TestApp, u: &User, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + sipp::WAIT;
    loop {
        let call = app.get(&format!("{}/calls/{id}", ws_path(&u.workspace_id)), &u.token).await.expect(200);
        if call["ended_at"].is_string() && call["settled"] == true {
            return call;
        }
        assert!(tokio::time::Instant::now() < deadline, "the call did not end: {call}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A call placed to a sipp that answers, echoes and stays until hung up, once it is in
/// progress: (sipp, user, workspace path, call id).
async fn talking_call(app: &TestApp, tag: &str) -> (sipp::Sipp, User, String, String) {
    let peer = sipp::spawn(tag, &["-sf", "uas_echo.xml", "-rtp_echo"]);
    sipp::ready().await;
    let (u, agent, _) = sip_workspace(app, tag, &peer.sip.to_string(), "127.0.0.1/32").await;
    let ws = ws_path(&u.workspace_id);
    let placed = app
        .post(&format!("{ws}/calls"), &u.token, json!({ "agent_id": agent, "to": "+919812345678" }))
        .await
        .expect(201);
    let id = placed["id"].as_str().unwrap().to_owned();
    let deadline = tokio::time::Instant::now() + sipp::WAIT;
    loop {
        let call = app.get(&format!("{ws}/calls/{id}"), &u.token).await.expect(200);
        if call["status"] == "in-progress" {
            return (peer, u, ws, id);
        }
        assert!(tokio::time::Instant::now() < deadline, "never answered: {call}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The region database of the user's workspace and the call's work handle there.
async fn region_work(app: &TestApp, u: &User, call_id: &str) -> (RegionDb, Work) {
    let mut conn = app.state.db.conn().await.unwrap();
    let region_id = callplane_store::fixtures::region_of(&mut conn, &u.workspace_id).await.unwrap().unwrap();
    drop(conn);
    let region = app.state.regions.get(&region_id).unwrap().db.clone();
    (region, Work { workspace_id: u.workspace_id.clone(), account_id: u.account_id.clone(), id: call_id.into() })
}

async fn fetch(app: &TestApp, path: &str, token: &str) -> (u16, Vec<u8>) {
    let res = app.http.get(format!("{}{path}", app.base)).bearer_auth(token).send().await.unwrap();
    (res.status().as_u16(), res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn n2_a_call_placed_through_the_api_goes_out_over_the_trunk_is_recorded_priced_and_stays_in_its_workspace() {
    let app = sip_app().await;
    // sipp answers, echoes our audio for 4 s, then hangs up.
    let peer = sipp::spawn("server-echo", &["-sf", "uas_far_bye.xml", "-rtp_echo", "-d", "4000"]);
    sipp::ready().await;
    let (u, agent, _) = sip_workspace(&app, "sip-a", &peer.sip.to_string(), "127.0.0.1/32").await;
    let other = app.signup(&email("sip-b"), "Other").await;
    let ws = ws_path(&u.workspace_id);

    let placed = app
        .post(&format!("{ws}/calls"), &u.token, json!({ "agent_id": agent, "to": "+919812345678" }))
        .await
        .expect(201);
    assert_eq!(placed["provider"], "sip");
    let id = placed["id"].as_str().unwrap();
    let call = ended(&app, &u, id).await;
    assert_eq!(peer.exit_code().await, 0, "sipp saw INVITE, ACK, its BYE answered");
    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(call["end_reason"], "hangup", "the far end hung up");
    let secs = call["duration_secs"].as_i64().unwrap();
    assert!((3..=6).contains(&secs), "talked about 4 s: {secs}");
    assert_eq!(call["billed_minutes"], 1);
    assert_eq!(call["cost"]["amount"], 90, "the SIP/BYOC flat rate for a minute");
    let sip = &call["sip"];
    assert_eq!(sip["code"], 200);
    assert_eq!(sip["codec"], "PCMU");
    assert!(sip["call_id"].as_str().unwrap().ends_with("@callplane"));
    assert!(sip["packets_sent"].as_u64().unwrap() >= 150, "the 3 s prompt went out: {sip}");
    assert!(sip["packets_received"].as_u64().unwrap() >= 145, "and came back: {sip}");
    let statuses: Vec<&str> =
        call["timeline"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["queued", "ringing", "in-progress", "completed"]);
    assert_eq!(call["transcript"][0]["text"], "Hello from Maya.");

    // The recording is the media: the echoed tone on the far end's channel.
    let url = call["recording_url"].as_str().unwrap();
    let (status, wav) = fetch(&app, url, &u.token).await;
    assert_eq!(status, 200);
    let heard = stereo_channel(&wav, 1).expect("a stereo WAV");
    assert!(tone_share(&heard[..24_000], 440.0) > 0.5, "the echo holds the 440 Hz tone");
    let said = stereo_channel(&wav, 0).unwrap();
    assert!(tone_share(&said[..24_000], 440.0) > 0.9, "the agent's leg is the prompt");

    // The wallet charged the call once; the other workspace sees none of it.
    let w = app.get(&format!("/api/v1/accounts/{}/wallet", u.account_id), &u.token).await.expect(200);
    assert_eq!(w["balance"]["amount"], 100_000 - 90);
    assert_eq!(w["reserved"]["amount"], 0);
    let theirs = ws_path(&other.workspace_id);
    app.get(&format!("{theirs}/calls/{id}"), &other.token).await.expect_problem(404, "not_found");
    assert_eq!(fetch(&app, &url.replace(&u.workspace_id, &other.workspace_id), &other.token).await.0, 404);
    assert_eq!(fetch(&app, url, &other.token).await.0, 404, "a URL of another workspace is refused");
    let listed = app.get(&format!("{theirs}/calls"), &other.token).await.expect(200);
    assert_eq!(listed["data"], json!([]));
    // Nor can it place a call through A's trunk.
    let trunks = app.get(&format!("{ws}/sip-trunks"), &u.token).await.expect(200);
    let trunk = trunks["data"][0]["id"].as_str().unwrap();
    let their_agent =
        app.post(&format!("{theirs}/agents"), &other.token, json!({ "name": "B", "status": "active" })).await;
    let their_agent = their_agent.expect(201);
    let offer =
        app.get(&format!("{theirs}/phone-numbers/available?country=IN&limit=1"), &other.token).await.expect(200);
    app.post(&format!("{theirs}/phone-numbers"), &other.token, json!({ "e164": offer["data"][0]["e164"] }))
        .await
        .expect(201);
    let res = app
        .post(
            &format!("{theirs}/calls"),
            &other.token,
            json!({ "agent_id": their_agent["id"], "to": "+919812345678", "sip_trunk_id": trunk }),
        )
        .await;
    res.expect_problem(422, "validation_failed");
    assert!(res.body.to_string().contains("sip_trunk_id"), "{}", res.body);

    // The SIP and RTP counters (SPEC O3).
    let metrics = app.http.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    let counter = |name: &str| -> u64 {
        let line = metrics.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {metrics}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(counter("callplane_sip_calls_total{outcome=\"completed\"}"), 1);
    assert_eq!(counter("callplane_sip_active_calls"), 0);
    assert!(counter("callplane_rtp_packets_received_total") >= 145);
    assert_eq!(counter("callplane_rtp_packets_ignored_total"), 0);
}

#[tokio::test]
async fn n2_cancelling_a_sip_call_in_progress_hangs_it_up_and_charges_what_it_talked() {
    let app = sip_app().await;
    let (peer, u, ws, id) = talking_call(&app, "server-cancel").await;
    let id = id.as_str();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let canceled = app.post(&format!("{ws}/calls/{id}/cancel"), &u.token, json!({})).await.expect(200);
    assert_eq!(canceled["status"], "canceled", "{canceled}");
    assert_eq!(canceled["end_reason"], "canceled");
    assert_eq!(peer.exit_code().await, 0, "sipp got our BYE");
    let call = ended(&app, &u, id).await;
    assert!(call["duration_secs"].as_i64().unwrap() >= 1, "{call}");
    assert_eq!(call["cost"]["amount"], 90);
    assert_eq!(call["sip"]["hung_up_by"], "agent");
}

#[tokio::test]
async fn n2_a_workspace_without_an_outbound_trunk_cannot_place_sip_calls() {
    let app = sip_app().await;
    let u = app.signup(&email("no-trunk"), "No trunk").await;
    let ws = ws_path(&u.workspace_id);
    wallet::credit(&app.state, &u.account_id, 10_000, "test funds").await.unwrap();
    app.patch(&format!("{ws}/telephony"), &u.token, json!({ "provider": "sip", "sip_enabled": true }))
        .await
        .expect(200);
    let agent =
        app.post(&format!("{ws}/agents"), &u.token, json!({ "name": "A", "status": "active" })).await.expect(201);
    let offer = app.get(&format!("{ws}/phone-numbers/available?country=IN&limit=1"), &u.token).await.expect(200);
    app.post(&format!("{ws}/phone-numbers"), &u.token, json!({ "e164": offer["data"][0]["e164"] })).await.expect(201);
    let res =
        app.post(&format!("{ws}/calls"), &u.token, json!({ "agent_id": agent["id"], "to": "+919812345678" })).await;
    res.expect_problem(422, "no_sip_trunk");
    let w = app.get(&format!("/api/v1/accounts/{}/wallet", u.account_id), &u.token).await.expect(200);
    assert_eq!(w["reserved"]["amount"], 0, "nothing set aside for a call not placed");
}

#[tokio::test]
async fn n2_an_inbound_invite_reaches_the_numbers_workspace_with_its_digits_and_others_are_refused() {
    let app = sip_app().await;
    let ours = app.state.sip.get().expect("serving SIP").agent.local_addr().to_string();
    let (a, _, a_number) = sip_workspace(&app, "in-a", "192.0.2.10:5060", "127.0.0.0/8").await;
    // Workspace B trusts loopback too, but its number is its own.
    let (b, _, b_number) = sip_workspace(&app, "in-b", "192.0.2.20:5060", "127.0.0.1/32").await;
    // Workspace C's trunk lets only another network in.
    let (c, _, c_number) = sip_workspace(&app, "in-c", "192.0.2.30:5060", "198.51.100.0/24").await;

    let caller = sipp::spawn("server-inbound", &["-sf", "uac_pcap.xml", "-s", a_number.trim_start_matches('+'), &ours]);
    assert_eq!(caller.exit_code().await, 0, "sipp's call was answered, played and hung up cleanly");
    let listed = app.get(&format!("{}/calls", ws_path(&a.workspace_id)), &a.token).await.expect(200);
    let id = listed["data"][0]["id"].as_str().expect("the inbound call is in A").to_owned();
    let call = ended(&app, &a, &id).await;
    assert_eq!(call["direction"], "inbound");
    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(call["to"], a_number);
    assert_eq!(call["provider"], "sip");
    assert_eq!(call["end_reason"], "hangup");
    assert_eq!(call["sip"]["codec"], "PCMA", "uac_pcap offers PCMA only");
    assert_eq!(call["sip"]["digits"], "1", "the RFC 4733 digit of the pcap");
    let timeline = call["timeline"].as_array().unwrap();
    assert!(timeline.iter().any(|e| e["status"] == "digit" && e["detail"] == "1"), "{timeline:?}");
    assert_eq!(call["cost"]["amount"], 90, "priced at the flat rate");
    let (status, wav) = fetch(&app, call["recording_url"].as_str().unwrap(), &a.token).await;
    assert_eq!(status, 200);
    let heard = stereo_channel(&wav, 1).unwrap();
    assert!(heard.iter().any(|s| s.unsigned_abs() > 1_000), "the caller's audio is recorded");

    for (who, _) in [(&b, &b_number), (&c, &c_number)] {
        let theirs = app.get(&format!("{}/calls", ws_path(&who.workspace_id)), &who.token).await.expect(200);
        assert_eq!(theirs["data"], json!([]), "A's call never appears elsewhere");
    }

    // C's number from a source its trunk does not allow: 403; a number nobody holds: 404.
    let forbidden = sipp::spawn("server-403", &["-sf", "uac_pcap.xml", "-s", c_number.trim_start_matches('+'), &ours]);
    let (code, seen) = forbidden.finish().await;
    assert!(code != 0 && seen.contains("SIP/2.0 403"), "refused with 403: {seen}");
    let unknown = sipp::spawn("server-404", &["-sf", "uac_pcap.xml", "-s", "919800000002", &ours]);
    let (code, seen) = unknown.finish().await;
    assert!(code != 0 && seen.contains("SIP/2.0 404"), "refused with 404: {seen}");
    let theirs = app.get(&format!("{}/calls", ws_path(&c.workspace_id)), &c.token).await.expect(200);
    assert_eq!(theirs["data"], json!([]), "a refused INVITE leaves no call");
}

#[tokio::test]
async fn n2_a_sip_call_left_behind_by_a_dead_process_is_ended_when_its_lease_runs_out_and_settled_once() {
    use callplane_server::services::calls as call_worker;
    use callplane_store::product::calls::{self as store_calls, NewCall, Step};
    let app = sip_app().await;
    let (u, agent, _) = sip_workspace(&app, "sip-dead", "192.0.2.10:5060", "192.0.2.10/32").await;
    // What a process that died mid-call leaves: a SIP call answered 20 s ago, its
    // lease run out, a minute held in the wallet, and no process carrying it.
    let now = app.state.now();
    let id = "call_left_behind";
    wallet::hold(&app.state, &u.account_id, &u.workspace_id, id, 90).await.unwrap();
    let (region, w) = region_work(&app, &u, id).await;
    let mut tx = store_calls::begin_work(&region, &w).await.unwrap();
    let new = NewCall {
        id,
        direction: "outbound",
        agent_id: Some(&agent),
        phone_number_id: None,
        contact_id: None,
        from_e164: "+918041234567",
        to_e164: "+919812345678",
        provider: "sip",
        network_group: None,
        rate: 90,
        held: 90,
        max_seconds: 600,
        idempotency_key: None,
        campaign_id: None,
        next_step_at: now,
    };
    store_calls::create(&mut tx, &new, now - 25_000).await.unwrap();
    let ringing = Step { status: "ringing", next_step_at: Some(now - 1), ..Step::default() };
    assert!(store_calls::advance(&mut tx, id, "queued", &ringing, now - 25_000).await.unwrap().is_some());
    let answered =
        Step { status: "in-progress", next_step_at: Some(now - 1), answered_at: Some(now - 20_000), ..Step::default() };
    assert!(store_calls::advance(&mut tx, id, "ringing", &answered, now - 20_000).await.unwrap().is_some());
    tx.commit().await.unwrap();

    call_worker::work_once(&app.state).await;
    let call = ended(&app, &u, id).await;
    assert_eq!(call["status"], "failed");
    assert_eq!(call["end_reason"], "interrupted");
    assert_eq!(call["duration_secs"], 20, "charged for the time it may have talked");
    assert_eq!(call["cost"]["amount"], 90);
    call_worker::work_once(&app.state).await;
    let w = app.get(&format!("/api/v1/accounts/{}/wallet", u.account_id), &u.token).await.expect(200);
    assert_eq!(w["balance"]["amount"], 100_000 - 90, "charged once");
    assert_eq!(w["reserved"]["amount"], 0);
}

/// Polls the campaign until it has completed.
async fn campaign_done(app: &TestApp, u: &User, id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + sipp::WAIT;
    loop {
        let c = app.get(&format!("{}/campaigns/{id}", ws_path(&u.workspace_id)), &u.token).await.expect(200);
        if c["status"] == "completed" {
            return c;
        }
        assert!(tokio::time::Instant::now() < deadline, "the campaign did not complete: {c}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn n2_p6_a_campaign_dials_through_its_own_sip_trunk_and_its_sip_calls_reach_webhooks() {
    let app = sip_app().await;
    // sipp answers two calls, echoes for a second, then hangs up each.
    let peer = sipp::spawn_calls("server-campaign", 2, &["-sf", "uas_far_bye.xml", "-rtp_echo", "-d", "1000"]);
    sipp::ready().await;
    let (u, agent, _) = sip_workspace(&app, "sip-campaign", &peer.sip.to_string(), "127.0.0.1/32").await;
    let ws = ws_path(&u.workspace_id);
    let trunk = app.get(&format!("{ws}/sip-trunks"), &u.token).await.expect(200)["data"][0].clone();
    let trunk_id = trunk["id"].as_str().unwrap().to_owned();
    // The workspace's preferred gateway is elsewhere (an address nothing answers at):
    // only the campaign's own trunk reaches sipp.
    let mut gateways = trunk["gateways"].clone();
    gateways[0]["priority"] = json!(5);
    app.patch(&format!("{ws}/sip-trunks/{trunk_id}"), &u.token, json!({ "gateways": gateways })).await.expect(200);
    app.post(
        &format!("{ws}/sip-trunks"),
        &u.token,
        json!({ "name": "Preferred elsewhere", "gateways": [{ "host": "192.0.2.99", "priority": 0 }] }),
    )
    .await
    .expect(201);
    let receiver = callplane_testkit::receiver::Receiver::start().await;
    app.post(
        &format!("{ws}/webhooks"),
        &u.token,
        json!({ "url": receiver.url("/hook"), "event_types": ["call.ringing", "call.started", "call.ended"] }),
    )
    .await
    .expect(201);
    for phone in ["+919812345671", "+919812345672"] {
        app.post(&format!("{ws}/contacts"), &u.token, json!({ "phone": phone, "tags": ["sip"] })).await.expect(201);
    }
    let numbers = app.get(&format!("{ws}/phone-numbers"), &u.token).await.expect(200);
    let body = json!({
        "name": "Over the trunk", "agent_id": agent, "number_ids": [numbers["data"][0]["id"]],
        "audience": { "tag": "sip" }, "timezone": "UTC", "max_concurrency": 2, "calls_per_second": 2,
        "window": { "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "00:00" },
        "sip_trunk_id": trunk_id,
    });
    let campaign = app.post(&format!("{ws}/campaigns"), &u.token, body.clone()).await.expect(201);
    assert_eq!(campaign["sip_trunk_id"], trunk_id.as_str());
    let id = campaign["id"].as_str().unwrap();

    // Another workspace can neither dial through the trunk nor see it.
    let other = app.signup(&email("sip-campaign-b"), "Other").await;
    let theirs = ws_path(&other.workspace_id);
    app.get(&format!("{theirs}/sip-trunks/{trunk_id}"), &other.token).await.expect_problem(404, "not_found");
    let res = app.post(&format!("{theirs}/campaigns"), &other.token, body).await;
    res.expect_problem(422, "validation_failed");
    // A trunk a campaign may still dial through cannot be deleted.
    app.delete(&format!("{ws}/sip-trunks/{trunk_id}"), &u.token, json!({})).await.expect_problem(409, "trunk_in_use");

    app.post(&format!("{ws}/campaigns/{id}/start"), &u.token, json!({})).await.expect(200);
    let done = campaign_done(&app, &u, id).await;
    assert_eq!(done["progress"]["answered"], 2, "{done}");
    assert_eq!(peer.exit_code().await, 0, "sipp took both calls cleanly");
    let calls = app.get(&format!("{ws}/calls"), &u.token).await.expect(200);
    let calls = calls["data"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    let mut ids = Vec::new();
    for c in calls {
        let call = ended(&app, &u, c["id"].as_str().unwrap()).await;
        assert_eq!((call["status"].as_str(), call["provider"].as_str()), (Some("completed"), Some("sip")), "{call}");
        assert_eq!(call["campaign_id"], id);
        assert_eq!(call["sip"]["code"], 200);
        assert_eq!(call["cost"]["amount"], 90, "the SIP/BYOC flat rate");
        ids.push(call["id"].as_str().unwrap().to_owned());
    }

    // Each SIP call's lifecycle reached the webhook: ringing, started, ended.
    let got = receiver.wait_for("/hook", 6, sipp::WAIT).await;
    for call in &ids {
        let mut types: Vec<String> = got
            .iter()
            .map(|r| r.json())
            .filter(|e| e["data"]["call"]["id"] == call.as_str())
            .map(|e| e["type"].as_str().unwrap().to_owned())
            .collect();
        types.sort();
        assert_eq!(types, ["call.ended", "call.ringing", "call.started"], "{call}");
    }
    let ended_event = got.iter().map(|r| r.json()).find(|e| e["type"] == "call.ended").unwrap();
    assert_eq!(ended_event["data"]["call"]["status"], "completed", "{ended_event}");

    // Once the campaign is done, the trunk may go.
    app.delete(&format!("{ws}/sip-trunks/{trunk_id}"), &u.token, json!({})).await.expect(204);
}

#[tokio::test]
async fn n2_an_inbound_call_to_a_number_without_an_agent_is_answered_with_a_tone_and_recorded_as_no_agent() {
    let app = sip_app().await;
    let ours = app.state.sip.get().expect("serving SIP").agent.local_addr().to_string();
    let (u, _, number) = sip_workspace(&app, "in-no-agent", "192.0.2.10:5060", "127.0.0.0/8").await;
    let ws = ws_path(&u.workspace_id);
    let numbers = app.get(&format!("{ws}/phone-numbers"), &u.token).await.expect(200);
    let number_id = numbers["data"][0]["id"].as_str().unwrap();
    app.patch(&format!("{ws}/phone-numbers/{number_id}"), &u.token, json!({ "agent_id": null })).await.expect(200);

    let caller =
        sipp::spawn("server-no-agent", &["-sf", "uac_stream_ulaw.xml", "-s", number.trim_start_matches('+'), &ours]);
    assert_eq!(caller.exit_code().await, 0, "answered, streamed and hung up cleanly");
    let listed = app.get(&format!("{ws}/calls"), &u.token).await.expect(200);
    let id = listed["data"][0]["id"].as_str().expect("the inbound call is recorded").to_owned();
    let call = ended(&app, &u, &id).await;
    assert_eq!(call["direction"], "inbound");
    assert_eq!(call["agent_id"], Value::Null);
    assert_eq!(call["status"], "completed", "{call}");
    assert_eq!(call["end_reason"], "no_agent", "a clear outcome: {call}");
    assert_eq!(call["sip"]["code"], 200);
    assert!(call["sip"]["packets_sent"].as_u64().unwrap() >= 90, "the 2 s tone went out: {}", call["sip"]);
    assert_eq!(call["cost"]["amount"], 90, "priced like any inbound SIP call");
}

#[tokio::test]
async fn n2_a_sip_call_canceled_through_another_replica_is_hung_up_by_the_process_carrying_it() {
    use callplane_store::product::calls::{self as store_calls, Step};
    let app = sip_app().await;
    let (peer, u, ws, id) = talking_call(&app, "server-remote-cancel").await;
    let (region, w) = region_work(&app, &u, &id).await;
    let lease = || async {
        let mut tx = store_calls::begin_work(&region, &w).await.unwrap();
        store_calls::get(&mut tx, &id).await.unwrap().unwrap().next_step_at.expect("a lease")
    };
    // Its lease (one second here) is renewed while it talks (the test's clock moves
    // only when told to).
    let first = lease().await;
    app.clock.advance(2_000);
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let renewed = lease().await;
    assert!(renewed > first + 1_500, "the lease moved on: {first} → {renewed}");
    assert!(renewed > app.state.now(), "and is not over");

    // Another replica cancels it: the row ends there, this process is not told.
    let mut tx = store_calls::begin_work(&region, &w).await.unwrap();
    let canceled = Step {
        status: "canceled",
        duration_secs: Some(1),
        billed_minutes: Some(1),
        cost: Some(90),
        end_reason: Some("canceled"),
        ..Step::default()
    };
    assert!(store_calls::advance(&mut tx, &id, "in-progress", &canceled, app.state.now()).await.unwrap().is_some());
    tx.commit().await.unwrap();

    assert_eq!(peer.exit_code().await, 0, "the carrying process sent BYE at its next renewal");
    let deadline = tokio::time::Instant::now() + sipp::WAIT;
    let call = loop {
        let call = app.get(&format!("{ws}/calls/{id}"), &u.token).await.expect(200);
        if call["sip"]["hung_up_by"] == "agent" {
            break call;
        }
        assert!(tokio::time::Instant::now() < deadline, "the hang-up was not recorded: {call}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(call["status"], "canceled", "the other replica's ending stands: {call}");
    assert_eq!(call["duration_secs"], 1);
    assert!(call["sip"]["packets_received"].as_u64().unwrap() > 0, "its media facts are kept");
}

/// Polls a trunk until its registration is no longer pending.
async fn registration(app: &TestApp, u: &User, trunk: &str) -> Value {
    let deadline = tokio::time::Instant::now() + sipp::WAIT;
    loop {
        let t = app.get(&format!("{}/sip-trunks/{trunk}", ws_path(&u.workspace_id)), &u.token).await.expect(200);
        if t["registration"]["status"] != "pending" {
            return t;
        }
        assert!(tokio::time::Instant::now() < deadline, "the registration stayed pending: {t}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn n2_a_registration_trunk_registers_with_its_registrar_and_shows_where_it_stands() {
    let app = sip_app().await;
    let args = ["-sf", "registrar.xml", "-set", "authuser", "trunk", "-set", "authpass", "s3cret"];
    let registrar = sipp::spawn("server-registrar", &args);
    sipp::ready().await;
    let u = app.signup(&email("sip-register"), "Registering").await;
    let ws = ws_path(&u.workspace_id);
    let trunk = |port: u16, password: &str| {
        json!({
            "name": "Registered carrier", "kind": "registration", "username": "trunk", "password": password,
            "gateways": [{ "host": "127.0.0.1", "port": port }],
        })
    };
    let created = app.post(&format!("{ws}/sip-trunks"), &u.token, trunk(registrar.sip.port(), "s3cret")).await;
    let created = created.expect(201);
    assert_eq!(created["registration"]["status"], "pending");
    let id = created["id"].as_str().unwrap().to_owned();
    let t = registration(&app, &u, &id).await;
    assert_eq!(t["registration"]["status"], "registered", "{t}");
    assert_eq!(t["registration"]["code"], 200);
    assert_eq!(t["registration"]["expires_secs"], 60, "what the registrar granted");
    assert!(!t.to_string().contains("s3cret"), "the password never shows");
    let other = app.signup(&email("sip-register-b"), "Other").await;
    let theirs = ws_path(&other.workspace_id);
    app.get(&format!("{theirs}/sip-trunks/{id}"), &other.token).await.expect_problem(404, "not_found");
    // Deleting the trunk removes the binding (REGISTER with Expires: 0).
    app.delete(&format!("{ws}/sip-trunks/{id}"), &u.token, json!({})).await.expect(204);
    let (code, messages) = registrar.finish().await;
    assert_eq!(code, 0, "registered, then removed: {messages}");
    assert!(messages.contains("Expires: 0"));

    // A wrong password: the registrar's 403 is what the trunk shows.
    let registrar = sipp::spawn("server-registrar-bad", &args);
    sipp::ready().await;
    let created = app.post(&format!("{ws}/sip-trunks"), &u.token, trunk(registrar.sip.port(), "wrong")).await;
    let id = created.expect(201)["id"].as_str().unwrap().to_owned();
    let t = registration(&app, &u, &id).await;
    assert_eq!(
        (t["registration"]["status"].as_str(), t["registration"]["code"].as_u64()),
        (Some("refused"), Some(403))
    );
    drop(registrar);
}
