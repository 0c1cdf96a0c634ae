//! Throughput and tail latency of the authenticated request path, as ratios against a
//! baseline measured in the same run (not a timed test: a slow machine moves both).
//!
//! `cargo bench -p callplane-server --bench request_path` (SQLite), and with
//! `CALLPLANE_BENCH_POSTGRES=postgres://…/postgres` (an admin URL; a fresh database is
//! created) on PostgreSQL too. `scripts/bench` runs both.
//!
//! Both servers run in this process on one runtime: the real service (every layer and
//! extractor, an API key, `GET /api/v1/workspaces/{ws}`), and a plain axum handler
//! returning the same JSON. A load generator on its own thread keeps 64 keep-alive
//! connections busy against each in turn, in interleaved rounds, and reports
//! requests per second (median of rounds) and the p99 latency of all requests.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::{Json, Router};
use callplane_domain::SystemClock;
use callplane_server::{Application, Config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CONNECTIONS: usize = 64;
const ROUNDS: usize = 5;
const ROUND: Duration = Duration::from_secs(2);

struct Measured {
    rps: Vec<f64>,
    latencies: Vec<Duration>,
}

impl Measured {
    fn median_rps(&self) -> f64 {
        let mut v = self.rps.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }
    fn p99(&mut self) -> Duration {
        self.latencies.sort();
        self.latencies[self.latencies.len() * 99 / 100]
    }
}

/// Reads one HTTP/1.1 response with a Content-Length body; returns its status.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> u16 {
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).expect("ascii headers");
            let status: u16 = head[9..12].parse().expect("status");
            let length: usize = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .expect("content-length");
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).await.expect("read");
                assert!(n > 0, "connection closed");
                buf.extend_from_slice(&chunk[..n]);
            }
            return status;
        }
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Keeps `CONNECTIONS` connections busy with `request` for `duration`.
async fn load(addr: std::net::SocketAddr, request: Arc<Vec<u8>>, duration: Duration) -> (usize, Vec<Duration>) {
    let until = Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            stream.set_nodelay(true).unwrap();
            let mut buf = Vec::with_capacity(4096);
            let mut latencies = Vec::new();
            while Instant::now() < until {
                let start = Instant::now();
                stream.write_all(&request).await.expect("write");
                let status = read_response(&mut stream, &mut buf).await;
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&buf));
                latencies.push(start.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all.len(), all)
}

fn request_bytes(path: &str, bearer: Option<&str>) -> Arc<Vec<u8>> {
    let auth = bearer.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    Arc::new(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n").into_bytes())
}

async fn setup(database_url: Option<String>) -> (std::net::SocketAddr, std::net::SocketAddr, String, String, String) {
    let dir = std::env::temp_dir().join(format!("callplane-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = Config::default();
    config.server.addr = "127.0.0.1:0".parse().unwrap();
    config.server.data_dir = dir;
    config.database.url = database_url;
    config.log.filter = "warn".into();
    let app = Application::build(config, Arc::new(SystemClock)).await.expect("app");
    let api = app.local_addr();
    let state = app.state().clone();
    tokio::spawn(app.run(std::future::pending()));
    while !state.access_cache.is_trusted() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let client = reqwest::Client::new();
    let base = format!("http://{api}");
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
    // The plain handler answers the very JSON the real endpoint answers.
    let body: serde_json::Value = client
        .get(format!("{base}/api/v1/workspaces/{ws}"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let plain_router =
        Router::new().route("/api/v1/workspaces/{ws}", get(move || std::future::ready(Json(body.clone()))));
    let plain_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain = plain_listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(plain_listener, plain_router).await });
    (api, plain, ws, key, session)
}

async fn bench(label: &str, database_url: Option<String>) {
    let (api, plain, ws, key, session) = setup(database_url).await;
    let path = format!("/api/v1/workspaces/{ws}");
    let targets = [
        ("plain axum handler, same JSON", plain, request_bytes(&path, None)),
        ("API key  GET /api/v1/workspaces/{ws}", api, request_bytes(&path, Some(&key))),
        ("session  GET /api/v1/workspaces/{ws}", api, request_bytes(&path, Some(&session))),
    ];
    // The load generator runs on a thread of its own, apart from the servers' runtime.
    let generator = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let mut results: Vec<Measured> =
        targets.iter().map(|_| Measured { rps: Vec::new(), latencies: Vec::new() }).collect();
    for (_, addr, req) in &targets {
        generator.spawn(load(*addr, req.clone(), Duration::from_millis(500))).await.unwrap();
    }
    for _ in 0..ROUNDS {
        for (i, (_, addr, req)) in targets.iter().enumerate() {
            let started = Instant::now();
            let (n, lat) = generator.spawn(load(*addr, req.clone(), ROUND)).await.unwrap();
            results[i].rps.push(n as f64 / started.elapsed().as_secs_f64());
            results[i].latencies.extend(lat);
        }
    }
    generator.shutdown_background();
    let baseline = results[0].median_rps();
    println!("request_path on {label}: {CONNECTIONS} connections, {ROUNDS} rounds x {ROUND:?}, median of rounds");
    for ((name, _, _), m) in targets.iter().zip(results.iter_mut()) {
        let rps = m.median_rps();
        println!(
            "  {name:<40} {rps:>9.0} req/s  {:>5.2}x  p99 {:>7.2} ms",
            rps / baseline,
            m.p99().as_secs_f64() * 1e3
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    bench("SQLite", None).await;
    if let Ok(admin) = std::env::var("CALLPLANE_BENCH_POSTGRES") {
        let name = format!("cp_bench_{}", std::process::id());
        let url = callplane_store::fixtures::create_postgres_database(&admin, &name).await.expect("a bench database");
        bench("PostgreSQL", Some(url)).await;
    } else {
        println!(
            "(set CALLPLANE_BENCH_POSTGRES=postgres://…/postgres, or run scripts/bench, for the PostgreSQL figures)"
        );
    }
}
