//! Test support shared by callplane's test suites (never a dependency of the binary).

pub mod process;
pub mod receiver;
pub mod sipp;
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

/// A test's scratch space: a temporary directory and the databases made for the test,
/// all removed when it is dropped (PostgreSQL databases with `DROP DATABASE … WITH
/// (FORCE)`), so a full run's disk use stays that of one test, not of hundreds.
pub struct Scratch {
    pub dir: std::path::PathBuf,
    /// `(admin URL, database name)` of each PostgreSQL database made here.
    postgres: Vec<(String, String)>,
}

impl Scratch {
    /// An empty scratch space under the system's temporary directory.
    pub fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir, postgres: Vec::new() }
    }

    /// A fresh database named `name` on the suite's backend: a file in the directory
    /// (SQLite, the default), or a new database on the PostgreSQL cluster that
    /// `CALLPLANE_TEST_DATABASE` points at.
    pub async fn database(&mut self, name: &str) -> String {
        match std::env::var("CALLPLANE_TEST_DATABASE") {
            Ok(url) if url.starts_with("postgres") => self.postgres_database(&url).await,
            Ok(other) if other != "sqlite" && !other.is_empty() => {
                panic!("CALLPLANE_TEST_DATABASE must be `sqlite` or a postgres:// URL, got {other}")
            }
            _ => format!("sqlite://{}", self.dir.join(format!("{name}.db")).display()),
        }
    }

    /// A fresh database on the PostgreSQL cluster whose admin URL is `admin_url`.
    pub async fn postgres_database(&mut self, admin_url: &str) -> String {
        let name = format!("cp_test_{}", uuid::Uuid::now_v7().simple());
        let url = callplane_store::fixtures::create_postgres_database(admin_url, &name)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is not usable: {e}"));
        self.postgres.push((admin_url.to_owned(), name));
        url
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if self.postgres.is_empty() {
            return;
        }
        // Drop runs inside the test's runtime, which cannot be blocked on; a thread with
        // a runtime of its own drops the databases, and the test waits for it.
        let databases = std::mem::take(&mut self.postgres);
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            for (admin, name) in databases {
                if let Err(e) = rt.block_on(callplane_store::fixtures::drop_postgres_database(&admin, &name)) {
                    eprintln!("could not drop test database {name}: {e}");
                }
            }
        });
        let _ = dropped.join();
    }
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
