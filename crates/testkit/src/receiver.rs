//! A webhook receiver for tests and benchmarks: a real HTTP server on `127.0.0.1:0`
//! that records every request and answers as the test scripts it (status, headers,
//! body, or hold the answer until a gate opens).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

/// How to answer a request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait for [`Receiver::open_gate`] before answering.
    pub hold: bool,
    /// Take this long to answer.
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Reply { status, headers: vec![], body: String::new(), hold: false, delay: Duration::ZERO }
    }
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn with_body(mut self, body: &str) -> Self {
        self.body = body.into();
        self
    }
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
    pub fn held(mut self) -> Self {
        self.hold = true;
        self
    }
}

/// Chooses the answer to the `n`th request (from 0) to a path.
type Script = Arc<dyn Fn(&str, usize) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    log: Arc<Mutex<Vec<Received>>>,
    /// Requests per path, so counting them costs nothing (a benchmark polls it).
    counts: Arc<Mutex<HashMap<String, usize>>>,
    script: Arc<Mutex<Script>>,
    gate: Arc<tokio::sync::Semaphore>,
}

pub struct Receiver {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    shared: Shared,
}

impl Receiver {
    /// Starts a receiver that answers `200 OK` to everything.
    pub async fn start() -> Receiver {
        let shared = Shared {
            log: Arc::default(),
            counts: Arc::default(),
            script: Arc::new(Mutex::new(Arc::new(|_: &str, _: usize| Reply::status(200).with_body("ok")))),
            gate: Arc::new(tokio::sync::Semaphore::new(0)),
        };
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a receiver port");
        let base = format!("http://{}", listener.local_addr().expect("receiver address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { base, shared }
    }

    /// The URL of `path` on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Answers with `script(path, n)` from now on.
    pub fn script(&self, script: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) {
        *self.shared.script.lock().unwrap() = Arc::new(script);
    }

    /// Lets every held answer (and every later one) go.
    pub fn open_gate(&self) {
        self.shared.gate.add_permits(1 << 20);
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.log.lock().unwrap().clone()
    }

    /// How many requests reached `path`.
    pub fn count_at(&self, path: &str) -> usize {
        self.shared.counts.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// The requests to `path`.
    pub fn received_at(&self, path: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.path == path).collect()
    }

    /// Waits until `n` requests reached `path` (or panics after `timeout`).
    pub async fn wait_for(&self, path: &str, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let got = self.count_at(path);
            if got >= n {
                return self.received_at(path);
            }
            assert!(std::time::Instant::now() < deadline, "{path}: {got} of {n} requests arrived in {timeout:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn handle(State(s): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_owned();
    let received = Received {
        path: path.clone(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    s.log.lock().unwrap().push(received);
    let n = {
        let mut counts = s.counts.lock().unwrap();
        let n = counts.entry(path.clone()).or_default();
        *n += 1;
        *n - 1
    };
    let script = s.script.lock().unwrap().clone();
    let reply = script(&path, n);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    if reply.hold {
        drop(s.gate.acquire().await);
    }
    let mut res = (StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK), reply.body).into_response();
    for (k, v) in reply.headers {
        if let (Ok(k), Ok(v)) = (axum::http::HeaderName::try_from(k), axum::http::HeaderValue::try_from(v)) {
            res.headers_mut().insert(k, v);
        }
    }
    res
}
