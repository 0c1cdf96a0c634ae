//! Shared application state, cheap to clone.

use std::ops::Deref;
use std::sync::Arc;

use callplane_domain::Clock;
use callplane_store::Db;

use crate::config::Config;
use crate::web::templates::Templates;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub db: Db,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    pub templates: Templates,
    pub metrics: crate::metrics::Metrics,
    /// Wakes the email worker after a commit that queued mail.
    pub email_wakeup: tokio::sync::Notify,
    pub login_limiter: crate::auth::limiter::LoginLimiter,
}

impl AppState {
    pub fn new(db: Db, config: Config, clock: Arc<dyn Clock>) -> Self {
        Self(Arc::new(Inner {
            db,
            config,
            clock,
            templates: Templates::new(),
            metrics: Default::default(),
            email_wakeup: tokio::sync::Notify::new(),
            login_limiter: Default::default(),
        }))
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
