//! Test support shared by callplane's test suites (never a dependency of the binary).

pub mod process;
pub mod smtp;

use reqwest::Method;
use serde_json::Value;

/// Sends a request like any API client: an optional bearer token and JSON body.
pub async fn send(
    http: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = http.request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("request sent")
}

/// A response's body as JSON, or as a JSON string when it is not JSON (CSV, HTML).
pub async fn body_json(res: reqwest::Response) -> Value {
    let bytes = res.bytes().await.expect("a body");
    serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
}

/// A fresh database named `name`: a file in `dir` (SQLite, the default), or a new
/// database on the PostgreSQL cluster that `CALLPLANE_TEST_DATABASE` points at.
pub async fn database_url(dir: &std::path::Path, name: &str) -> String {
    match std::env::var("CALLPLANE_TEST_DATABASE") {
        Ok(url) if url.starts_with("postgres") => postgres_database(&url).await,
        Ok(other) if other != "sqlite" && !other.is_empty() => {
            panic!("CALLPLANE_TEST_DATABASE must be `sqlite` or a postgres:// URL, got {other}")
        }
        _ => {
            std::fs::create_dir_all(dir).unwrap();
            format!("sqlite://{}", dir.join(format!("{name}.db")).display())
        }
    }
}

/// A fresh database on the PostgreSQL cluster whose admin URL is `admin_url`.
pub async fn postgres_database(admin_url: &str) -> String {
    let name = format!("cp_test_{}", uuid::Uuid::now_v7().simple());
    callplane_store::fixtures::create_postgres_database(admin_url, &name)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is not usable: {e}"))
}

/// Whether the regions get databases of their own (`CALLPLANE_TEST_LAYOUT=split`) or
/// share the control database (`shared`, the default).
pub fn layout_is_split() -> bool {
    match std::env::var("CALLPLANE_TEST_LAYOUT").as_deref() {
        Ok("split") => true,
        Ok("shared") | Ok("") | Err(_) => false,
        Ok(other) => panic!("CALLPLANE_TEST_LAYOUT must be `shared` or `split`, got {other}"),
    }
}

/// The PostgreSQL cluster for tests that need PostgreSQL whatever the suite's backend
/// (two replicas on one database): `CALLPLANE_TEST_POSTGRES`, else a postgres
/// `CALLPLANE_TEST_DATABASE`. `scripts/test` always provides one; without it the test
/// fails, it does not skip.
pub fn postgres_admin_url() -> String {
    std::env::var("CALLPLANE_TEST_POSTGRES")
        .ok()
        .or_else(|| std::env::var("CALLPLANE_TEST_DATABASE").ok().filter(|u| u.starts_with("postgres")))
        .expect("this test needs PostgreSQL: set CALLPLANE_TEST_POSTGRES to an admin URL (scripts/test does)")
}
