//! Building and running the service.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::Router;
use callplane_domain::Clock;
use callplane_store::migrate::{self, Set};
use callplane_store::{Db, Regions};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::{ApiError, Code};
use crate::routes::RouteInfo;
use crate::state::AppState;
use crate::{api, auth, web};

/// A migrated database, a bound listener and the router: ready to serve. Binding happens
/// here, so tests can ask for port 0 and read the real address.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    /// Exclusive locks on the SQLite files this process serves (one process per file).
    _sqlite_locks: Vec<std::fs::File>,
    /// Inbound SIP calls, when this process serves SIP.
    sip_incoming: Option<tokio::sync::mpsc::Receiver<callplane_telephony::sip::Incoming>>,
}

impl Application {
    /// Locks the SQLite files (one serving process each), binds the listener, then
    /// connects and migrates every database ([`open`]).
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let mut config = config.with_default_regions();
        let mut sqlite_locks = Vec::new();
        for path in sqlite_files(&config) {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("creating data folder {}", dir.display()))?;
            }
            sqlite_locks.push(lock_sqlite(&path)?);
        }
        let addr = config.server.addr;
        let listener = TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
        // Links in emails point at the real address when none is configured (port 0 in tests).
        if config.server.public_url.is_none() {
            config.server.public_url = Some(format!("http://{}", listener.local_addr()?));
        }
        let state = open(config, clock).await?;
        if !state.db.is_postgres() {
            // This process holds the SQLite lock: every lease left is a dead process's.
            let mut tx = state.db.begin().await?;
            callplane_store::workspaces::release_leases(&mut tx).await?;
            tx.commit().await?;
        }
        let sip_incoming = crate::services::sip_calls::start(&state).await.context("starting SIP")?;
        let router = router(state.clone());
        Ok(Self { listener, router, state, _sqlite_locks: sqlite_locks, sip_incoming })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests. Background
    /// work runs alongside: the access-change listener (PostgreSQL), the email worker,
    /// the workspace lifecycle worker, the contact import worker, the telephony catalog
    /// refresher and the call worker.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let state = self.state.clone();
        let workers = [
            tokio::spawn(callplane_store::changes::listen(state.db.clone())),
            tokio::spawn(crate::services::email::run_worker(state.clone())),
            tokio::spawn(crate::services::lifecycle::run_worker(state.clone())),
            tokio::spawn(crate::services::imports::run_worker(state.clone())),
            tokio::spawn(crate::services::telephony::run_refresher(state.clone())),
            tokio::spawn(crate::services::calls::run_worker(state.clone())),
            tokio::spawn(crate::services::webhooks::delivery::run_worker(state.clone())),
            tokio::spawn(crate::services::dialer::run_worker(state.clone())),
        ];
        // The process serving SIP also answers inbound INVITEs, renews the leases of
        // the calls it carries and keeps registration trunks registered.
        let sip = self.sip_incoming.map(|rx| {
            [
                tokio::spawn(crate::services::sip_calls::run_inbound(state.clone(), rx)),
                tokio::spawn(crate::services::sip_calls::keep_leases(state.clone())),
                tokio::spawn(crate::services::sip_registrations::keep_registrations(state.clone())),
            ]
        });
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await?;
        for w in workers.into_iter().chain(sip.into_iter().flatten()) {
            w.abort();
        }
        state.regions.close().await;
        state.db.close().await;
        drop(self._sqlite_locks);
        Ok(())
    }
}

/// Connects to the control database and every region database and applies their
/// migrations: the state the service and the administration commands work on.
pub async fn open(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    let config = config.with_default_regions();
    if !config.has_region(&config.default_region) {
        anyhow::bail!("the default region `{}` is not among the configured regions", config.default_region);
    }
    for path in sqlite_files(&config) {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating data folder {}", dir.display()))?;
        }
    }
    let url = config.database_url();
    let options = config.db_options();
    let db = Db::connect(&url, &options)
        .await
        .with_context(|| format!("connecting to the control database ({})", redact(&url)))?;
    migrate::run(&db, Set::Control).await.context("applying the control migrations")?;
    let regions = Regions::connect(&db, &url, &config.region_specs(), &options)
        .await
        .context("connecting to the region databases")?;
    regions.migrate().await.context("applying the product migrations")?;
    let state = AppState::new(db, regions, config, clock);
    crate::services::telephony::ensure_catalog(&state).await.context("loading the telephony catalog")?;
    Ok(state)
}

/// The SQLite files of the configuration (control and regions).
fn sqlite_files(config: &Config) -> Vec<PathBuf> {
    let mut urls = vec![config.database_url()];
    urls.extend(config.regions.values().filter_map(|r| r.database_url.clone()));
    let mut files: Vec<PathBuf> = urls.iter().filter_map(|u| sqlite_path(u)).collect();
    files.dedup();
    files
}

/// The file of a `sqlite:` URL (none for in-memory databases).
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Takes the exclusive lock that makes a SQLite file one process's (a second `serve`
/// on it would otherwise race its caches and background work).
fn lock_sqlite(db_file: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let mut lock_path = db_file.as_os_str().to_owned();
    lock_path.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", PathBuf::from(&lock_path).display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another callplane process is already serving the SQLite database {}. SQLite serves one process: \
             stop the other one, or use PostgreSQL (--database-url postgres://…) to run several replicas",
            db_file.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", PathBuf::from(&lock_path).display()))
        }
    }
}

/// Hides the password in a database URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…{}", &url[..s], &url[at..]),
        _ => url.to_owned(),
    }
}

/// The full route table (API and dashboard), for tests and documentation.
pub fn route_table() -> Vec<RouteInfo> {
    api::routes().merge(web::routes()).into_parts().1
}

pub fn router(state: AppState) -> Router {
    let (api, _) = api::routes().into_parts();
    let (web, _) = web::routes().into_parts();
    // CSRF runs first; problems (its refusals included) are shown as pages.
    let web = web
        .layer(from_fn_with_state(state.clone(), auth::csrf::protect))
        .layer(from_fn_with_state(state.clone(), web::problems_as_pages));
    api.merge(web)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.config.server.max_body_bytes))
        .layer(from_fn(security_headers))
        .layer(from_fn_with_state(state.clone(), api::system::count))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(|_| ApiError::internal("a handler panicked").into_response()))
        .with_state(state)
}

async fn not_found(req: Request) -> Response {
    let _ = req;
    ApiError::not_found().into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::new(Code::MethodNotAllowed, "This route does not accept that method.").into_response()
}

async fn security_headers(req: Request, next: axum::middleware::Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, header::HeaderValue::from_static("same-origin"));
    if res.status() == StatusCode::UNAUTHORIZED && !res.headers().contains_key(header::WWW_AUTHENTICATE) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    }
    res
}
