//! Dialer benchmark (P6), against a baseline measured in the same run, on a real
//! `callplane serve` (release build, SQLite) with the simulated carrier's time
//! compressed 6000× (a call rings and talks for a few milliseconds):
//!
//! 1. baseline: `N` calls placed through `POST /calls` by 16 concurrent clients (the
//!    path the dialer places each attempt through: validation, pricing, the wallet);
//! 2. a campaign over `N` contacts (default 5,000): dial attempts per second from start
//!    until every contact has been dialed (claims, pacing, windows, placing, recording).
//!
//! Goal: at least 1,000 dial attempts per second, so the dialer is never the bottleneck
//! next to carrier limits of 1–30 calls per second per trunk.
//!
//! Run with `cargo bench -p callplane --bench dialer` (or `scripts/bench`).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use callplane_testkit::process::{Installation, Server};
use futures_util::StreamExt;
use serde_json::json;

const CONFIG: &str = "[calls]\ntime_scale = 6000.0\n[campaigns]\nmax_concurrency_per_workspace = 20000\n\
max_concurrency_per_account = 20000\nmax_calls_per_second = 20000\n";

fn contacts() -> usize {
    std::env::var("CALLPLANE_BENCH_CONTACTS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000)
}

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_callplane"))
}

/// A funded workspace with an agent and a number: (token, workspace, agent, number).
async fn workspace(server: &Server, install: &Installation, tag: &str) -> (String, String, String, String) {
    let (token, _, account, ws) = server.signup(&format!("{tag}@example.com"), tag).await;
    let out = std::process::Command::new(bin())
        .arg("--config")
        .arg(&install.config_file)
        .args(["admin", "wallet", "credit", "--account", &account, "--amount", "1000000000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "admin wallet credit: {}", String::from_utf8_lossy(&out.stderr));
    let (agent, number) = server.agent_and_number(&ws, &token, "A").await;
    (token, ws, agent, number)
}

fn phone(i: usize) -> String {
    format!("+9198765{:05}", 10_000 + i)
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = contacts();
    println!("dialer: {n} contacts, SQLite, simulated carrier at 6000x");
    let install = Installation::new(CONFIG).await;
    let server = Arc::new(Server::start(bin(), &install, &[]));

    // Both workspaces are funded before any call runs: the admin command writes to the
    // SQLite file beside the busy server.
    let (token, ws, agent, _) = workspace(&server, &install, "baseline").await;
    let campaign_ws = workspace(&server, &install, "campaign").await;

    // 1. Baseline: the same number of calls through POST /calls.
    let path = Arc::new(format!("/api/v1/workspaces/{ws}/calls"));
    let start = Instant::now();
    futures_util::stream::iter(0..n)
        .map(|i| {
            let (server, token, path, agent) = (server.clone(), token.clone(), path.clone(), agent.clone());
            async move {
                server.post(&path, &token, json!({ "agent_id": agent, "to": phone(i) })).await.expect(201);
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let base_secs = start.elapsed().as_secs_f64();
    let base = n as f64 / base_secs;
    println!("  baseline: {n} calls placed through POST /calls in {base_secs:.2} s = {base:.0}/s");

    // 2. A campaign over n contacts.
    let (token, ws, agent, number) = campaign_ws;
    let mut csv = String::from("phone,tags\n");
    for i in 0..n {
        csv.push_str(&format!("{},bench\n", phone(i)));
    }
    server.import_contacts(&ws, &token, csv).await;
    let c = server
        .post(
            &format!("/api/v1/workspaces/{ws}/campaigns"),
            &token,
            json!({ "name": "Bench", "agent_id": agent, "number_ids": [number], "audience": { "tag": "bench" },
                    "max_concurrency": 20000, "calls_per_second": 20000, "max_attempts": 1,
                    "window": { "days": ["mon","tue","wed","thu","fri","sat","sun"], "start": "00:00", "end": "00:00" } }),
        )
        .await
        .expect(201);
    let id = c["id"].as_str().unwrap().to_owned();
    let campaign = format!("/api/v1/workspaces/{ws}/campaigns/{id}");
    // Counted in the database (read-only, beside the server): calls the campaign placed.
    let db = callplane_store::Db::connect(
        &install.control_url,
        &callplane_store::DbOptions { sqlite_sync_full: false, max_connections: 1 },
    )
    .await
    .unwrap();
    let count = format!("SELECT count(*) FROM calls WHERE campaign_id = '{id}'");
    let start = Instant::now();
    server.post(&format!("{campaign}/start"), &token, json!({})).await.expect(200);
    loop {
        let placed = callplane_store::fixtures::raw_scalar(&mut db.conn().await.unwrap(), &count).await.unwrap();
        if placed >= n as i64 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(600), "the dialer stalled at {placed}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let rate = n as f64 / secs;
    println!("  dialer:   {n} dial attempts placed by the campaign's dialer in {secs:.2} s = {rate:.0}/s");
    println!("  ratio {:.2}x the API baseline   (goal: at least 1,000 attempts/s)", rate / base);
    if let Ok(server) = Arc::try_unwrap(server) {
        server.kill();
    }
}
