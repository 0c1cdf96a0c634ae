//! Building and running the service.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::Router;
use callplane_domain::Clock;
use callplane_store::{migrate, Db};
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
}

impl Application {
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let url = config.database_url();
        if url.starts_with("sqlite:") {
            std::fs::create_dir_all(&config.server.data_dir)
                .with_context(|| format!("creating data folder {}", config.server.data_dir.display()))?;
        }
        let db = Db::connect(&url, &config.db_options())
            .await
            .with_context(|| format!("connecting to the database ({})", redact(&url)))?;
        migrate::run(&db).await.context("applying migrations")?;
        let mut config = config;
        let addr = config.server.addr;
        let listener = TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
        // Links in emails point at the real address when none is configured (port 0 in tests).
        if config.server.public_url.is_none() {
            config.server.public_url = Some(format!("http://{}", listener.local_addr()?));
        }
        let state = AppState::new(db, config, clock);
        let router = router(state.clone());
        Ok(Self { listener, router, state })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let db = self.state.db.clone();
        let worker = tokio::spawn(crate::services::email::run_worker(self.state.clone()));
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await?;
        worker.abort();
        db.close().await;
        Ok(())
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
