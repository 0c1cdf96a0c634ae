//! Shared application state, cheap to clone.

use std::ops::Deref;
use std::sync::Arc;

use callplane_domain::Clock;
use callplane_store::{Db, Regions};

use crate::auth::cache::AccessCache;
use crate::config::Config;
use crate::web::templates::Templates;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    /// The control database: accounts, users, sessions, the workspace registry, access.
    pub db: Db,
    /// The region databases; product data is reached through a workspace's `Scope`.
    pub regions: Regions,
    /// Credentials and scopes of warm principals (exactly invalidated).
    pub access_cache: AccessCache,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub templates: Templates,
    pub metrics: crate::metrics::Metrics,
    /// Wakes the email worker after a commit that queued mail.
    pub email_wakeup: tokio::sync::Notify,
    /// Wakes the import worker after an upload is queued.
    pub import_wakeup: tokio::sync::Notify,
    /// Wakes the call worker after a call is placed.
    pub call_wakeup: tokio::sync::Notify,
    /// Wakes the dialer after a campaign starts or resumes, or one of its calls ends.
    pub dialer_wakeup: tokio::sync::Notify,
    /// Wakes the webhook delivery worker after an event is written.
    pub webhook_wakeup: tokio::sync::Notify,
    /// Wakes the keeper of SIP registrations (a trunk changed).
    pub sip_trunks_changed: tokio::sync::Notify,
    /// The client webhooks are sent with (timeouts, no redirects, the SSRF guard).
    pub webhook_client: reqwest::Client,
    /// The telephony provider numbers are bought from (the simulated carrier).
    pub provider: Arc<dyn callplane_telephony::Provider>,
    /// The telephony catalog in force with its prefix routes (SPEC N1, N3), rebuilt when
    /// another version is put in force (`services::telephony`).
    pub routes: std::sync::RwLock<Arc<callplane_domain::telephony::Routes>>,
    /// Seals carrier passwords (loaded on first use: `sip.secret_key` or the data
    /// directory's key file).
    sealer: std::sync::OnceLock<crate::sealing::Sealer>,
    /// The SIP user agent and its prompt, when this process serves SIP (`[sip] listen`).
    pub sip: std::sync::OnceLock<crate::services::sip_calls::Sip>,
    /// The SIP calls this process carries, by call id: what hangs each up.
    pub sip_live: crate::services::sip_calls::Live,
}

impl AppState {
    pub fn new(db: Db, regions: Regions, config: Config, clock: Arc<dyn Clock>) -> Self {
        let webhook_client = crate::services::webhooks::delivery::client(&config.webhooks);
        Self(Arc::new(Inner {
            access_cache: AccessCache::new(db.changes().clone()),
            db,
            regions,
            config,
            clock,
            templates: Templates::new(),
            metrics: Default::default(),
            email_wakeup: tokio::sync::Notify::new(),
            import_wakeup: tokio::sync::Notify::new(),
            call_wakeup: tokio::sync::Notify::new(),
            webhook_wakeup: tokio::sync::Notify::new(),
            dialer_wakeup: tokio::sync::Notify::new(),
            sip_trunks_changed: tokio::sync::Notify::new(),
            webhook_client,
            provider: Arc::new(callplane_telephony::Simulated),
            routes: std::sync::RwLock::new(Arc::new(shipped_routes())),
            sealer: std::sync::OnceLock::new(),
            sip: std::sync::OnceLock::new(),
            sip_live: Default::default(),
        }))
    }

    /// The key carrier passwords are sealed with.
    pub fn sealer(&self) -> crate::error::ApiResult<&crate::sealing::Sealer> {
        if let Some(s) = self.sealer.get() {
            return Ok(s);
        }
        let loaded = crate::sealing::Sealer::load(self.config.sip.secret_key.as_deref(), &self.config.server.data_dir)
            .map_err(crate::error::ApiError::internal)?;
        Ok(self.sealer.get_or_init(|| loaded))
    }

    /// The same service on another clock (the demo plays a month of calls out on a
    /// clock that starts a month ago).
    pub fn with_clock(&self, clock: Arc<dyn Clock>) -> Self {
        let state = Self::new(self.db.clone(), self.regions.clone(), self.config.clone(), clock);
        *state.routes.write().unwrap_or_else(|e| e.into_inner()) = crate::services::telephony::routes(self);
        state
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}

/// The shipped catalog's routes: what a replica uses until it reads the catalog in force.
fn shipped_routes() -> callplane_domain::telephony::Routes {
    use callplane_domain::telephony::{Catalog, Routes, SHIPPED};
    Routes::new(Catalog::parse(SHIPPED).expect("the shipped catalog parses (a unit test checks it)"))
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
