//! What API-key authentication costs per request, as a ratio against requests measured
//! in the same run (not a timed test: the figures are ratios, so a slow machine moves
//! both sides).
//!
//! `cargo bench -p callplane-server --bench auth_cost`
//!
//! Requests go over real HTTP on loopback to the real service on SQLite, with
//! keep-alive, in interleaved rounds. Reported per request (median of rounds):
//! - `GET /healthz`, no auth: the floor of a request through the stack;
//! - `GET /api/v1/workspaces/{ws}` with a session token;
//! - the same with an API key (checksum, hash, lookup, scope resolution).

use std::sync::Arc;
use std::time::{Duration, Instant};

use callplane_domain::SystemClock;
use callplane_server::{Application, Config};

const ROUNDS: usize = 7;
const PER_ROUND: usize = 1500;

async fn time_requests(client: &reqwest::Client, url: &str, bearer: Option<&str>) -> Duration {
    let start = Instant::now();
    for _ in 0..PER_ROUND {
        let mut req = client.get(url);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        assert!(res.status().is_success(), "{url}: {}", res.status());
        res.bytes().await.unwrap();
    }
    start.elapsed() / PER_ROUND as u32
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = std::env::temp_dir().join(format!("callplane-bench-{}", std::process::id()));
    let mut config = Config::default();
    config.server.addr = "127.0.0.1:0".parse().unwrap();
    config.server.data_dir = dir.clone();
    config.log.filter = "warn".into();
    let app = Application::build(config, Arc::new(SystemClock)).await.expect("app");
    let base = format!("http://{}", app.local_addr());
    tokio::spawn(app.run(std::future::pending()));
    let client = reqwest::Client::new();

    let signup: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&serde_json::json!({ "email": "bench@example.com", "password": "bench password", "name": "Bench",
                                   "account_name": "Bench Co" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = signup["token"].as_str().unwrap().to_owned();
    let ws = signup["workspace"]["id"].as_str().unwrap().to_owned();
    let key: serde_json::Value = client
        .post(format!("{base}/api/v1/workspaces/{ws}/api-keys"))
        .bearer_auth(&session)
        .json(&serde_json::json!({ "name": "bench", "role": "viewer" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = key["secret"].as_str().unwrap().to_owned();

    let health = format!("{base}/healthz");
    let workspace = format!("{base}/api/v1/workspaces/{ws}");
    // Warm up connections, caches and the last-used stamp.
    time_requests(&client, &health, None).await;
    time_requests(&client, &workspace, Some(&key)).await;

    let (mut none, mut with_session, mut with_key) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        none.push(time_requests(&client, &health, None).await);
        with_session.push(time_requests(&client, &workspace, Some(&session)).await);
        with_key.push(time_requests(&client, &workspace, Some(&key)).await);
    }
    let (none, with_session, with_key) = (median(none), median(with_session), median(with_key));
    let ratio = |d: Duration| d.as_secs_f64() / none.as_secs_f64();
    println!("auth_cost: {ROUNDS} rounds x {PER_ROUND} requests, median per request");
    println!("  no auth        GET /healthz              {:>8.1} µs  1.00x", none.as_secs_f64() * 1e6);
    println!(
        "  session token  GET /api/v1/workspaces/…  {:>8.1} µs  {:.2}x",
        with_session.as_secs_f64() * 1e6,
        ratio(with_session)
    );
    println!(
        "  API key        GET /api/v1/workspaces/…  {:>8.1} µs  {:.2}x",
        with_key.as_secs_f64() * 1e6,
        ratio(with_key)
    );
    println!(
        "  API key vs session token: {:.2}x; API key auth + scope over no auth: +{:.1} µs/request",
        with_key.as_secs_f64() / with_session.as_secs_f64(),
        (with_key.as_secs_f64() - none.as_secs_f64()) * 1e6
    );
    let _ = std::fs::remove_dir_all(dir);
}
