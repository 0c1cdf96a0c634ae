//! Webhook delivery benchmark (E2), against a baseline measured in the same run:
//!
//! 1. baseline: `N` unsigned POSTs of the same body to the same local receiver, from
//!    this process, by as many concurrent senders as the worker uses (64): the ratio
//!    the goal is judged by. A loop sending one POST at a time is measured too and
//!    printed beside it, for the record: the worker, with 64 in flight, is not
//!    compared with one request at a time;
//! 2. `N` events (default 5,000) queued through the API to one endpoint of a real
//!    `callplane serve` (release build) while the receiver holds its answers, then the
//!    receiver let go: signed deliveries per second from the durable outbox (lease,
//!    sign, send, record the attempt), on SQLite, then on PostgreSQL when
//!    `CALLPLANE_BENCH_POSTGRES` names an admin URL (`scripts/bench` starts one).
//!
//! Run with `cargo bench -p callplane --bench webhooks` (or `scripts/bench`).

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use callplane_testkit::process::{Installation, Server};
use callplane_testkit::receiver::{Receiver, Reply};
use callplane_testkit::Scratch;
use futures_util::StreamExt;
use serde_json::json;

const SENDERS: usize = 64;
const CONFIG: &str =
    "[webhooks]\nallow_private_targets = true\nmax_in_flight = 64\nper_endpoint_in_flight = 64\ntimeout_secs = 60\n";

fn events() -> usize {
    std::env::var("CALLPLANE_BENCH_EVENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000)
}

/// `n` unsigned POSTs of `body` to `url` by `senders` concurrent senders; seconds taken.
async fn baseline(url: &str, body: &str, n: usize, senders: usize) -> f64 {
    let http = reqwest::Client::builder().pool_max_idle_per_host(senders).build().unwrap();
    let start = Instant::now();
    futures_util::stream::iter(0..n)
        .map(|_| {
            let (http, url, body) = (http.clone(), url.to_owned(), body.to_owned());
            async move {
                let r = http.post(url).header("content-type", "application/json").body(body).send().await.unwrap();
                assert!(r.status().is_success());
                r.bytes().await.unwrap();
            }
        })
        .buffer_unordered(senders)
        .collect::<Vec<_>>()
        .await;
    start.elapsed().as_secs_f64()
}

/// Signed deliveries per second from the outbox of a server on `install`.
async fn outbox(install: &Installation, r: &Receiver, path: &str, n: usize) -> (f64, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_callplane"));
    let server = Server::start(bin, install, &[]);
    let (token, _, _, ws) = server.signup(&format!("bench{}@example.com", path.len()), "Bench").await;
    let e = server.post(&format!("/api/v1/workspaces/{ws}/webhooks"), &token, json!({ "url": r.url(path) })).await;
    let endpoint = e.expect(201)["id"].as_str().unwrap().to_owned();
    let test = Arc::new(format!("/api/v1/workspaces/{ws}/webhooks/{endpoint}/test"));
    let (server, token) = (Arc::new(server), Arc::new(token));
    futures_util::stream::iter(0..n)
        .map(|_| {
            let (server, token, test) = (server.clone(), token.clone(), test.clone());
            async move {
                server.post(&test, &token, json!({})).await.expect(202);
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let sample = r.wait_for(path, 1, Duration::from_secs(30)).await[0].body.clone();
    eprintln!("  {n} events queued; delivering");
    let start = Instant::now();
    r.open_gate();
    // Counting is O(1) on the receiver: the measuring must not take the CPU it measures.
    while r.count_at(path) < n {
        assert!(start.elapsed() < Duration::from_secs(600), "{} of {n} delivered", r.count_at(path));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Done when every attempt is recorded too: a delivery the receiver heard but the
    // outbox still holds would be sent again after a crash.
    let pending = format!("/api/v1/workspaces/{ws}/webhooks/{endpoint}/deliveries?status=pending&limit=1");
    while !server.get(&pending, &token).await.expect(200)["data"].as_array().unwrap().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(600), "attempts not recorded");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = start.elapsed().as_secs_f64();
    let ids: HashSet<String> = r.received_at(path).iter().map(|m| m.header("webhook-id").to_owned()).collect();
    assert_eq!(ids.len(), n, "every event delivered once");
    if let Ok(server) = Arc::try_unwrap(server) {
        server.kill();
    }
    (secs, sample)
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = events();
    println!("webhooks: {n} events from the durable outbox to a local receiver, {SENDERS} in flight");
    let mut backends = vec![("SQLite", Installation::new(CONFIG).await)];
    if let Ok(admin) = std::env::var("CALLPLANE_BENCH_POSTGRES") {
        let mut scratch = Scratch::new("callplane-bench-hooks");
        let url = scratch.postgres_database(&admin).await;
        backends.push(("PostgreSQL", Installation::with_urls(scratch, url, vec![], CONFIG)));
    }
    for (name, install) in &backends {
        let r = Receiver::start().await;
        // Held until the outbox is full, then answered at once.
        r.script(|path, _| if path == "/hooks" { Reply::status(200).held() } else { Reply::status(200) });
        let (secs, body) = outbox(install, &r, "/hooks", n).await;
        let rate = n as f64 / secs;
        let base_secs = baseline(&r.url("/plain"), &body, n, SENDERS).await;
        let base = n as f64 / base_secs;
        let one_secs = baseline(&r.url("/plain"), &body, n, 1).await;
        let one = n as f64 / one_secs;
        println!("  {name}: baseline {n} unsigned POSTs, {SENDERS} in flight, in {base_secs:.2} s = {base:.0}/s");
        println!("  {name}: (one POST at a time: {one_secs:.2} s = {one:.0}/s; outbox {:.2}x that)", rate / one);
        println!("  {name}: {n} signed deliveries from the outbox in {secs:.2} s = {rate:.0}/s");
        println!("  {name}: ratio {:.2}x against {SENDERS} in flight   (goal: at least 0.5x)", rate / base);
    }
}
