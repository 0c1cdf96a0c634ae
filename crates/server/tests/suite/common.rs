//! Test harness: the real application on `127.0.0.1:0`, a fresh database per test, and
//! a small HTTP client that talks to it like any API client.
//!
//! The backend is chosen by `CALLPLANE_TEST_DATABASE`: unset or `sqlite` gives a temp
//! SQLite file; a `postgres://…` URL (an admin connection to a throwaway cluster) gives a
//! fresh database on it. `scripts/test` runs the whole suite once with each.

use std::path::PathBuf;
use std::sync::Arc;

use callplane_domain::{Clock, ManualClock, SystemClock};
use callplane_server::{AppState, Application, Config};
use callplane_store::fixtures;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    pub data_dir: PathBuf,
    /// The test's directory and databases, removed when the app is dropped.
    _scratch: callplane_testkit::Scratch,
}

/// A signed-up user: their session token, account and first workspace.
#[derive(Debug, Clone)]
pub struct User {
    pub token: String,
    pub user_id: String,
    pub email: String,
    pub account_id: String,
    pub workspace_id: String,
}

pub struct Res {
    pub status: StatusCode,
    pub body: Value,
    pub content_type: String,
}

impl Res {
    /// The problem `code`, or "" for a non-problem body.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        self.body
    }
    #[track_caller]
    pub fn expect_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        assert_eq!(self.code(), code, "unexpected code; body: {}", self.body);
        assert!(
            self.content_type.starts_with("application/problem+json"),
            "problem content type, got {}",
            self.content_type
        );
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let mut scratch = callplane_testkit::Scratch::new("callplane-test");
    let data_dir = scratch.dir.clone();
    let mut config = Config::default().with_default_regions();
    config.server.addr = "127.0.0.1:0".parse().unwrap();
    config.server.data_dir = data_dir.clone();
    config.database.url = Some(scratch.database("test").await);
    config.database.max_connections = 4;
    // `CALLPLANE_TEST_LAYOUT=split`: every region on a database of its own (SPEC O2).
    if layout_is_split() {
        for (id, region) in config.regions.iter_mut() {
            region.database_url = Some(scratch.database(&format!("region-{id}")).await);
        }
    }
    tweak(&mut config);
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let app = Application::build(config, clock.clone()).await.expect("application builds");
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    tokio::spawn(app.run(std::future::pending()));
    // On PostgreSQL the access cache is trusted once the change listener is connected;
    // tests about the cache start from there.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !state.access_cache.is_trusted() {
        assert!(std::time::Instant::now() < deadline, "the access-change listener did not connect");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    TestApp {
        base,
        http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        clock,
        state,
        data_dir,
        _scratch: scratch,
    }
}

pub use callplane_testkit::layout_is_split;

impl TestApp {
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Res {
        Self::read(callplane_testkit::send(&self.http, &self.base, method, path, token, body).await).await
    }

    pub async fn read(res: reqwest::Response) -> Res {
        let status = res.status();
        let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        Res { status, body: callplane_testkit::body_json(res).await, content_type }
    }

    pub async fn get(&self, path: &str, token: &str) -> Res {
        self.call(Method::GET, path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::PATCH, path, Some(token), Some(body)).await
    }
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }
    pub async fn delete(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::DELETE, path, Some(token), Some(body)).await
    }

    /// Signs up `email` with an account named `account`.
    pub async fn signup(&self, email: &str, account: &str) -> User {
        let body = self
            .call(
                Method::POST,
                "/api/v1/auth/signup",
                None,
                Some(json!({ "email": email, "password": "correct horse battery", "name": "Test User",
                             "account_name": account })),
            )
            .await
            .expect(201);
        User {
            token: body["token"].as_str().unwrap().to_owned(),
            user_id: body["user"]["id"].as_str().unwrap().to_owned(),
            email: email.to_owned(),
            account_id: body["account"]["id"].as_str().unwrap().to_owned(),
            workspace_id: body["workspace"]["id"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn login(&self, email: &str) -> String {
        let body = self
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({ "email": email, "password": "correct horse battery" })),
            )
            .await
            .expect(200);
        body["token"].as_str().unwrap().to_owned()
    }

    /// Creates a workspace in the caller's account; returns its id.
    pub async fn create_workspace(&self, token: &str, name: &str) -> String {
        let body = self.post("/api/v1/workspaces", token, json!({ "name": name, "region": "in" })).await.expect(201);
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn switch(&self, token: &str, workspace_id: &str) -> Res {
        self.put("/api/v1/me/active-workspace", token, json!({ "workspace_id": workspace_id })).await
    }

    pub async fn set_plan(&self, account_id: &str, plan: &str) {
        let mut tx = self.state.db.begin().await.unwrap();
        callplane_store::accounts::set_plan(&mut tx, account_id, plan).await.unwrap();
        tx.commit().await.unwrap();
    }

    pub async fn add_member(&self, workspace_id: &str, user_id: &str, role: &str) {
        let mut tx = self.state.db.begin().await.unwrap();
        fixtures::add_member(&mut tx, workspace_id, user_id, role).await.unwrap();
        tx.commit().await.unwrap();
    }

    pub async fn add_account_user(&self, account_id: &str, user_id: &str, role: &str) {
        let mut tx = self.state.db.begin().await.unwrap();
        fixtures::add_account_user(&mut tx, account_id, user_id, role).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// The region database holding a workspace's product data.
    pub async fn region_db(&self, workspace_id: &str) -> callplane_store::Db {
        let mut conn = self.state.db.conn().await.unwrap();
        let region = fixtures::region_of(&mut conn, workspace_id).await.unwrap().expect("the workspace exists");
        self.state.regions.get(&region).expect("a configured region").db.db().clone()
    }

    pub async fn plant_agent(&self, workspace_id: &str, id: &str, status: &str) {
        let mut tx = self.region_db(workspace_id).await.begin().await.unwrap();
        fixtures::insert_agent(&mut tx, workspace_id, id, status).await.unwrap();
        tx.commit().await.unwrap();
    }

    pub async fn plant_number(&self, workspace_id: &str, id: &str, status: &str) {
        let mut tx = self.region_db(workspace_id).await.begin().await.unwrap();
        fixtures::insert_phone_number(&mut tx, workspace_id, id, status).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// A workspace's rows per table: control tables, then product tables summed over
    /// every region database (so a deletion is proven complete wherever rows were).
    pub async fn row_counts(&self, workspace_id: &str) -> Vec<(&'static str, i64)> {
        let mut conn = self.state.db.conn().await.unwrap();
        let mut counts = fixtures::count_control_rows(&mut conn, workspace_id).await.unwrap();
        let mut product: Vec<(&'static str, i64)> = Vec::new();
        for region in self.state.regions.databases() {
            let mut conn = region.db().conn().await.unwrap();
            for (table, n) in fixtures::count_product_rows(&mut conn, workspace_id).await.unwrap() {
                match product.iter_mut().find(|(t, _)| *t == table) {
                    Some((_, total)) => *total += n,
                    None => product.push((table, n)),
                }
            }
        }
        counts.extend(product);
        counts
    }

    /// A digest of the control tables and of every region database's product tables.
    pub async fn snapshot(&self) -> Vec<String> {
        let mut conn = self.state.db.conn().await.unwrap();
        let mut out = fixtures::snapshot_control(&mut conn).await.unwrap();
        for region in self.state.regions.databases() {
            let mut conn = region.db().conn().await.unwrap();
            out.push(format!("region {}", region.url()));
            out.extend(fixtures::snapshot_product(&mut conn).await.unwrap());
        }
        out
    }
}

/// A new email address unique to this test run.
pub fn email(tag: &str) -> String {
    format!("{tag}.{}@example.com", &uuid::Uuid::now_v7().simple().to_string()[20..])
}

impl TestApp {
    /// Invites `email` into `ws`; returns the invitation id and the token from its link.
    pub async fn invite(&self, token: &str, ws: &str, email: &str, role: &str) -> (String, String) {
        let body = self
            .post(&format!("/api/v1/workspaces/{ws}/invitations"), token, json!({ "email": email, "role": role }))
            .await
            .expect(201);
        let url = body["invite_url"].as_str().expect("outbox mode shows the link");
        (body["id"].as_str().unwrap().to_owned(), token_of(url))
    }

    pub async fn accept(&self, token: &str, invitation_token: &str) -> Res {
        self.post("/api/v1/invitations/accept", token, json!({ "token": invitation_token })).await
    }

    /// Creates a workspace API key; returns (id, secret).
    pub async fn create_key(&self, token: &str, ws: &str, role: &str) -> (String, String) {
        let body = self
            .post(&format!("/api/v1/workspaces/{ws}/api-keys"), token, json!({ "name": "test key", "role": role }))
            .await
            .expect(201);
        (body["id"].as_str().unwrap().to_owned(), body["secret"].as_str().unwrap().to_owned())
    }

    /// The emails in the outbox, newest first.
    pub async fn outbox(&self) -> Vec<callplane_store::emails::Email> {
        let mut conn = self.state.db.conn().await.unwrap();
        callplane_store::emails::recent(&mut conn, 100).await.unwrap()
    }

    /// Every byte the database holds (SQLite file and WAL), to prove secrets are not in it.
    pub fn database_bytes(&self) -> Option<String> {
        let file = self.data_dir.join("test.db");
        if !file.exists() {
            return None;
        }
        let mut all = std::fs::read(&file).unwrap();
        all.extend(std::fs::read(self.data_dir.join("test.db-wal")).unwrap_or_default());
        Some(String::from_utf8_lossy(&all).into_owned())
    }
}

/// The `token` query parameter of a link.
pub fn token_of(url: &str) -> String {
    url.split("token=").nth(1).expect("token in link").split('&').next().unwrap().to_owned()
}
