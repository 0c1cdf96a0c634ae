//! The dialer across crashes and replicas (SPEC P6): a 5,000-contact campaign with the
//! server killed (SIGKILL) three times mid-run dials every eligible contact exactly once
//! per attempt; two processes on one PostgreSQL run one campaign without a duplicate
//! dial.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use callplane_testkit::process::{Installation, Server};
use callplane_testkit::{postgres_admin_url, Scratch};
use serde_json::{json, Value};

use crate::{admin, bin, email};

/// Calls play out 600× faster; leases end after a second; the dialer may go fast.
const DIALER: &str = "[workers]\nlease_secs = 1\npoll_secs = 1\n[calls]\ntime_scale = 600.0\norphan_hold_grace_secs = 1\n\
[campaigns]\ndialer = true\nmax_concurrency_per_workspace = 200\nmax_concurrency_per_account = 400\nmax_calls_per_second = 1000\n";

/// A funded workspace with an agent, a number and `n` contacts tagged `leads` (every
/// 50th do-not-call); returns (token, workspace, campaign id) of a draft dialing them.
async fn prepare(server: &Server, install: &Installation, n: usize) -> (String, String, String) {
    let (token, _, account, ws) = server.signup(&email("owner"), "Dialer Co").await;
    admin(install, &["wallet", "credit", "--account", &account, "--amount", "100000000"]);
    let base = format!("/api/v1/workspaces/{ws}");
    let (agent, number) = server.agent_and_number(&ws, &token, "A").await;
    let mut csv = String::from("phone,name,tags,do_not_call\n");
    for i in 0..n {
        csv.push_str(&format!("+9198765{:05},Person {i},leads,{}\n", 10_000 + i, i % 50 == 7));
    }
    server.import_contacts(&ws, &token, csv).await;
    let c = server
        .post(
            &format!("{base}/campaigns"),
            &token,
            json!({ "name": "Everyone", "agent_id": agent, "number_ids": [number], "audience": { "tag": "leads" },
                    "max_concurrency": 200, "calls_per_second": 1000, "max_attempts": 1,
                    "window": { "days": ["mon","tue","wed","thu","fri","sat","sun"], "start": "00:00", "end": "00:00" } }),
        )
        .await
        .expect(201);
    (token, ws, c["id"].as_str().unwrap().to_owned())
}

async fn campaign(server: &Server, ws: &str, token: &str, id: &str) -> Value {
    server.get(&format!("/api/v1/workspaces/{ws}/campaigns/{id}"), token).await.expect(200)
}

async fn wait_completed(server: &Server, ws: &str, token: &str, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let c = campaign(server, ws, token, id).await;
        if c["status"] == "completed" {
            return c;
        }
        assert!(Instant::now() < deadline, "the campaign did not complete: {c}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every call the campaign placed, per contact, with their idempotency attempt count.
async fn calls_per_contact(server: &Server, ws: &str, token: &str, id: &str) -> HashMap<String, usize> {
    let mut per = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/workspaces/{ws}/calls?campaign_id={id}&limit=500");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = server.get(&path, token).await.expect(200);
        for c in page["data"].as_array().unwrap() {
            *per.entry(c["contact_id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return per,
        }
    }
}

/// Every target's result.
async fn results(server: &Server, ws: &str, token: &str, id: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/workspaces/{ws}/campaigns/{id}/results?limit=500");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = server.get(&path, token).await.expect(200);
        out.extend(page["data"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// Each eligible contact dialed exactly once per attempt; do-not-call ones never.
async fn check_exactly_once(server: &Server, ws: &str, token: &str, id: &str, n: usize) {
    let done = wait_completed(server, ws, token, id).await;
    let skipped = (0..n).filter(|i| i % 50 == 7).count() as i64;
    assert_eq!(done["progress"]["total"], n as i64);
    assert_eq!(done["progress"]["skipped"], skipped, "{done}");
    assert_eq!(done["progress"]["dialed"], n as i64 - skipped, "{done}");
    let per = calls_per_contact(server, ws, token, id).await;
    let rows = results(server, ws, token, id).await;
    assert_eq!(rows.len(), n);
    for r in &rows {
        let calls = per.get(r["contact_id"].as_str().unwrap()).copied().unwrap_or(0);
        assert_eq!(calls as i64, r["attempts"].as_i64().unwrap(), "calls = attempts for {r}");
        if r["outcome"] == "do_not_call" {
            assert_eq!(calls, 0);
        } else {
            assert_eq!(calls, 1, "one attempt each: {r}");
        }
    }
}

#[tokio::test]
async fn p6_a_five_thousand_contact_campaign_survives_three_sigkills_and_dials_each_once() {
    const N: usize = 5_000;
    let install = Installation::new(DIALER).await;
    let mut server = Server::start(bin(), &install, &[]);
    let (token, ws, id) = prepare(&server, &install, N).await;
    server.post(&format!("/api/v1/workspaces/{ws}/campaigns/{id}/start"), &token, json!({})).await.expect(200);
    for round in 0..3 {
        // Kill it once it has dialed some more, mid-run.
        let deadline = Instant::now() + Duration::from_secs(60);
        let before = campaign(&server, &ws, &token, &id).await["progress"]["dialed"].as_i64().unwrap();
        loop {
            let c = campaign(&server, &ws, &token, &id).await;
            let dialed = c["progress"]["dialed"].as_i64().unwrap();
            assert_ne!(
                c["status"], "completed",
                "round {round}: the campaign must still run when the server is killed"
            );
            if dialed >= before + 300 {
                break;
            }
            assert!(Instant::now() < deadline, "round {round}: the dialer made no progress: {c}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server.kill();
        server = Server::start(bin(), &install, &[]);
    }
    check_exactly_once(&server, &ws, &token, &id, N).await;
    server.kill();
}

#[tokio::test]
async fn p6_two_replicas_on_one_postgres_run_one_campaign_without_a_duplicate_dial() {
    const N: usize = 1_500;
    let mut scratch = Scratch::new("callplane-dialer-replicas");
    let url = scratch.postgres_database(&postgres_admin_url()).await;
    let install = Installation::with_urls(scratch, url, vec![], DIALER);
    let a = Server::start(bin(), &install, &[]);
    let b = Server::start(bin(), &install, &[]);
    let (token, ws, id) = prepare(&a, &install, N).await;
    b.post(&format!("/api/v1/workspaces/{ws}/campaigns/{id}/start"), &token, json!({})).await.expect(200);
    check_exactly_once(&a, &ws, &token, &id, N).await;
    a.kill();
    b.kill();
}
