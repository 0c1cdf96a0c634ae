//! Crash safety of calls and their money (SPEC P7, B2): the server is killed (SIGKILL)
//! while calls are in flight, between a call's hold and its placement, and between a
//! charge and the call's mark; after a restart every call ends, every finished call is
//! charged exactly once, and no reservation is left.

use std::time::{Duration, Instant};

use callplane_testkit::process::{Installation, Server};
use reqwest::Method;
use serde_json::{json, Value};

use crate::{admin, bin, email};

/// Simulated time 60× faster; orphaned holds released after a second.
const CALLS: &str =
    "[workers]\nlease_secs = 1\npoll_secs = 1\n[calls]\ntime_scale = 60.0\norphan_hold_grace_secs = 1\n";

async fn all_calls(server: &Server, ws: &str, token: &str) -> Vec<Value> {
    let page = server.get(&format!("/api/v1/workspaces/{ws}/calls?limit=200"), token).await.expect(200);
    page["data"].as_array().unwrap().clone()
}

async fn wallet(server: &Server, account: &str, token: &str) -> Value {
    server.get(&format!("/api/v1/accounts/{account}/wallet?limit=200"), token).await.expect(200)
}

#[tokio::test]
async fn b2_calls_survive_sigkill_in_flight_between_hold_and_placement_and_between_charge_and_mark() {
    let install = Installation::new(CALLS).await;
    let server = Server::start(bin(), &install, &[]);
    let (token, _, account, ws) = server.signup(&email("owner"), "Crash Calls").await;
    admin(&install, &["wallet", "credit", "--account", &account, "--amount", "100000"]);
    let (agent, _) = server.agent_and_number(&ws, &token, "A").await;
    let place = |to: String| {
        let (server, token, ws, agent) = (&server, &token, &ws, agent.clone());
        async move {
            server
                .post(&format!("/api/v1/workspaces/{ws}/calls"), token, json!({ "agent_id": agent, "to": to }))
                .await
                .expect(201)
        }
    };
    // 1. Killed with calls queued, ringing and talking (20-179 simulated seconds: up to 3 s).
    for i in 0..12 {
        place(format!("+9198765{:05}", 43210 + i * 7)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while !all_calls(&server, &ws, &token).await.iter().any(|c| c["status"] == "in-progress") {
        assert!(Instant::now() < deadline, "no call was answered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill();

    // 2. Killed between a call's hold and its insert: a hold without a call.
    let armed = Server::start(bin(), &install, &[("CALLPLANE_FAILPOINTS", "call.place.after_hold")]);
    armed.send_detached(
        Method::POST,
        &format!("/api/v1/workspaces/{ws}/calls"),
        &token,
        json!({ "agent_id": agent, "to": "+919876500061" }),
    );
    armed.wait_for_output("failpoint reached: call.place.after_hold", Duration::from_secs(30)).await;
    armed.kill();

    // 3. Killed between a call's charge (control database) and its mark (region).
    let armed = Server::start(bin(), &install, &[("CALLPLANE_FAILPOINTS", "call.settle.after_charge")]);
    armed.wait_for_output("failpoint reached: call.settle.after_charge", Duration::from_secs(30)).await;
    armed.kill();

    // After a restart: every call ends and is settled, nothing stays reserved.
    let server = Server::start(bin(), &install, &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let calls = all_calls(&server, &ws, &token).await;
        let w = wallet(&server, &account, &token).await;
        let done = calls.iter().all(|c| c["settled"] == true && c["ended_at"].is_string());
        if done && w["reserved"]["amount"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "calls did not all end and settle: {calls:?} {w}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let calls = all_calls(&server, &ws, &token).await;
    assert_eq!(calls.len(), 12, "the call whose placement was cut never existed");
    assert!(calls.iter().all(|c| c["status"] == "completed"), "{calls:?}");
    let w = wallet(&server, &account, &token).await;
    let entries = w["entries"]["data"].as_array().unwrap();
    let charges: Vec<&Value> = entries.iter().filter(|e| e["kind"] == "charge").collect();
    for c in &calls {
        let mine: Vec<&&Value> = charges.iter().filter(|e| e["call_id"] == c["id"]).collect();
        assert_eq!(mine.len(), 1, "charged exactly once: {c}");
        assert_eq!(mine[0]["amount"]["amount"], c["cost"]["amount"], "charged what it cost: {c}");
    }
    let cost: i64 = calls.iter().map(|c| c["cost"]["amount"].as_i64().unwrap()).sum();
    assert!(cost > 0);
    assert_eq!(w["balance"]["amount"].as_i64().unwrap(), 100_000 - cost, "{w}");
    assert_eq!(w["reserved"]["amount"], 0, "no reservation left dangling");
}
