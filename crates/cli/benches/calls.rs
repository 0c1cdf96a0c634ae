//! Calls benchmark (P7, B2), on SQLite, against a baseline measured in the same run:
//!
//! 1. baseline: authenticated `GET /api/v1/workspaces/{ws}` requests per second from the
//!    same client at the same concurrency (the cheapest request the API answers);
//! 2. `CALLPLANE_BENCH_CALLS` calls (default 5,000) placed through `POST /calls` by 32
//!    concurrent clients against the real `callplane serve` (release build), each
//!    validated against the telephony configuration, priced, held in the wallet, then
//!    played out by the call worker (queued, ringing, in-progress, completed: transcript,
//!    analysis, charge) on the simulated carrier with time compressed 100,000×; calls
//!    placed *and completed* per second, and as a ratio against the baseline.
//!
//! Run with `cargo bench -p callplane --bench calls` (or `scripts/bench`).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use callplane_testkit::process::{Installation, Server};
use serde_json::json;

const CLIENTS: usize = 32;

fn calls() -> usize {
    std::env::var("CALLPLANE_BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000)
}

/// `n` requests from `CLIENTS` concurrent clients; `make(i)` sends request `i`.
async fn drive<F, Fut>(n: usize, make: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let make = Arc::new(make);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (make, next) = (make.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    make(i).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = calls();
    let bin = Path::new(env!("CARGO_BIN_EXE_callplane"));
    let install = Installation::new("[calls]\ntime_scale = 100000.0\n[agents]\nmax_call_seconds = 600\n").await;
    let server = Server::start(bin, &install, &[]);
    let (token, _, account, ws) = server.signup("bench@example.com", "Bench").await;
    let out = std::process::Command::new(bin)
        .arg("--config")
        .arg(&install.config_file)
        .args(["admin", "wallet", "credit", "--account", &account, "--amount", "1000000000"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let base = format!("/api/v1/workspaces/{ws}");
    let (agent, _) = server.agent_and_number(&ws, &token, "Bench").await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build().unwrap();
    let url = Arc::new(server.base.clone());
    let (tok, ws_path) = (Arc::new(token.clone()), Arc::new(base.clone()));

    println!("calls: {n} through the API on SQLite, {CLIENTS} concurrent clients, time compressed 100,000x");
    let (h, u, t, p) = (http.clone(), url.clone(), tok.clone(), ws_path.clone());
    let baseline_n = 20_000;
    let secs = drive(baseline_n, move |_| {
        let (h, u, t, p) = (h.clone(), u.clone(), t.clone(), p.clone());
        async move {
            let r = h.get(format!("{u}{p}")).bearer_auth(&*t).send().await.unwrap();
            assert_eq!(r.status(), 200);
        }
    })
    .await;
    let baseline = baseline_n as f64 / secs;
    println!("  baseline GET {{ws}}: {baseline_n} requests in {secs:.2} s = {baseline:.0} requests/s");

    let (h, u, t, p) = (http.clone(), url.clone(), tok.clone(), ws_path.clone());
    let agent = Arc::new(agent);
    let start = Instant::now();
    let placed = drive(n, move |i| {
        let (h, u, t, p, agent) = (h.clone(), u.clone(), t.clone(), p.clone(), agent.clone());
        async move {
            // Ordinary mobiles (never the carrier's test suffixes): every call is answered.
            let to = format!("+9198{:04}{:04}", 1_000 + i / 8_000, 1_000 + i % 8_000);
            let r = h
                .post(format!("{u}{p}/calls"))
                .bearer_auth(&*t)
                .json(&json!({ "agent_id": *agent, "to": to }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
        }
    })
    .await;
    // Completed: every call charged (the usage of the workspace counts charges).
    loop {
        let usage = server.get(&format!("{base}/usage"), &token).await.expect(200);
        if usage["calls"].as_u64() == Some(n as u64) {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(600), "calls did not complete: {usage}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let rate = n as f64 / secs;
    println!("  placed {n} calls in {placed:.2} s ({:.0} placements/s)", n as f64 / placed);
    println!("  placed and completed {n} calls in {secs:.2} s = {rate:.0} calls/s   (goal: at least 500/s)");
    println!("  ratio (calls completed/s / baseline requests/s): {:.3}x", rate / baseline);
}
