//! Access changes: how caches of access data (who a credential is, what it may do in a
//! workspace) learn that they are stale, in this process and in every other replica.
//!
//! Every control transaction that changes access (a key revoked, a member removed, a
//! role edited, a workspace deactivated or deleted, a session ended) calls
//! [`crate::db::Raw::access_changed`]; its commit then
//!
//! 1. on PostgreSQL, sends `NOTIFY callplane_access, '<token>'` inside the transaction,
//!    so the announcement exists exactly when the change does;
//! 2. bumps this process's [`AccessChanges::epoch`], which makes every cached entry
//!    stale at once (entries remember the epoch they were read under);
//! 3. on PostgreSQL, waits (at most [`ACK_TIMEOUT`]) until every replica listening on
//!    this database has acknowledged the token, which each does only after bumping its
//!    own epoch. When the writer answers its client, no replica still trusts old data.
//!
//! A replica that is not listening (its connection lost, or not yet connected) trusts
//! nothing: [`AccessChanges::epoch`] is `None` and every request reads the database.
//! On SQLite there is one process per database file, so every change passes through
//! step 2 and the cache is always trusted.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgNotification, PgPoolOptions};
use sqlx::{PgConnection, PgPool};

use crate::db::Db;
use crate::error::Result;

const CHANNEL: &str = "callplane_access";
const ACK_CHANNEL: &str = "callplane_access_ack";
/// The `application_name` prefix of listening connections; writers find the replicas
/// they wait for by it in `pg_stat_activity`.
const LISTENER_NAME: &str = "callplane-listener ";
/// How long a writer waits for replicas to acknowledge a change.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a listener proves its connection alive; three missed beats mean it is lost.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct AccessChanges {
    pool: Option<PgPool>,
    epoch: AtomicU64,
    /// Always true on SQLite; on PostgreSQL, true while this process listens.
    trusted: AtomicBool,
    replica: String,
    seq: AtomicU64,
    /// Tokens of this process's commits awaiting acknowledgement → replicas that acked.
    waits: Mutex<HashMap<String, HashSet<String>>>,
    acked: tokio::sync::Notify,
}

impl AccessChanges {
    pub(crate) fn new(pool: Option<PgPool>) -> Self {
        let trusted = pool.is_none();
        Self {
            pool,
            epoch: AtomicU64::new(1),
            trusted: AtomicBool::new(trusted),
            replica: callplane_domain::id::new_id("rpl"),
            seq: AtomicU64::new(0),
            waits: Mutex::new(HashMap::new()),
            acked: tokio::sync::Notify::new(),
        }
    }

    /// The current epoch, or `None` when cached access data must not be trusted.
    pub fn epoch(&self) -> Option<u64> {
        self.trusted.load(Ordering::Acquire).then(|| self.epoch.load(Ordering::Acquire))
    }

    /// Makes every entry cached under an earlier epoch stale.
    pub fn bump(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// This process's replica id (also in its listener's `application_name`).
    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// Whether this process currently listens for other replicas' changes (PostgreSQL).
    pub fn is_listening(&self) -> bool {
        self.pool.is_some() && self.trusted.load(Ordering::Acquire)
    }

    fn set_listening(&self, on: bool) {
        // Bump first: nothing cached before a (re)connection may be trusted after it.
        self.bump();
        self.trusted.store(on, Ordering::Release);
    }

    fn lock_waits(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashSet<String>>> {
        self.waits.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh token for one commit; acknowledgements for it are collected from now on.
    pub(crate) fn next_token(&self) -> String {
        let token = format!("{}:{}", self.replica, self.seq.fetch_add(1, Ordering::Relaxed));
        if self.pool.is_some() {
            self.lock_waits().insert(token.clone(), HashSet::new());
        }
        token
    }

    /// After the commit of a change: invalidate here, then wait for the other replicas.
    pub(crate) async fn committed(&self, token: &str) {
        self.bump();
        if let Some(pool) = &self.pool {
            if self.is_listening() {
                if let Err(e) = self.await_acks(pool, token).await {
                    tracing::warn!(error = %e, "could not wait for replicas to acknowledge an access change");
                }
            }
            self.lock_waits().remove(token);
        }
    }

    async fn await_acks(&self, pool: &PgPool, token: &str) -> Result<()> {
        let listeners: Vec<String> = sqlx::query_scalar(
            "SELECT substr(application_name, $1) FROM pg_stat_activity
             WHERE datname = current_database() AND starts_with(application_name, $2)",
        )
        .bind(LISTENER_NAME.len() as i32 + 1)
        .bind(LISTENER_NAME)
        .fetch_all(pool)
        .await?;
        let deadline = tokio::time::Instant::now() + ACK_TIMEOUT;
        loop {
            let notified = self.acked.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let missing: Vec<&String> = {
                let waits = self.lock_waits();
                let acked = waits.get(token);
                listeners.iter().filter(|r| !acked.is_some_and(|a| a.contains(*r))).collect()
            };
            if missing.is_empty() {
                return Ok(());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                tracing::warn!(?missing, "replicas did not acknowledge an access change in time");
                return Ok(());
            }
        }
    }

    async fn on_notification(&self, listener: &mut PgListener, n: PgNotification) -> Result<()> {
        match n.channel() {
            CHANNEL => {
                // Invalidate before acknowledging: the ack promises this replica is fresh.
                self.bump();
                sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(ACK_CHANNEL)
                    .bind(format!("{} {}", n.payload(), self.replica))
                    .execute(&mut *listener)
                    .await?;
            }
            _ => {
                if let Some((token, replica)) = n.payload().split_once(' ') {
                    let mut waits = self.lock_waits();
                    if let Some(acked) = waits.get_mut(token) {
                        acked.insert(replica.to_owned());
                        drop(waits);
                        self.acked.notify_waiters();
                    }
                }
            }
        }
        Ok(())
    }
}

/// Announces a change inside its transaction (delivered by PostgreSQL at commit).
pub(crate) async fn announce(conn: &mut PgConnection, token: &str) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(token).execute(conn).await?;
    Ok(())
}

/// Listens for other replicas' access changes until the process ends (PostgreSQL only;
/// returns at once on SQLite). While the listening connection is down, this process
/// trusts no cached access data; after it reconnects, it starts from a new epoch.
pub async fn listen(db: Db) {
    let changes = db.changes().clone();
    let Some(pool) = &changes.pool else { return };
    let options =
        pool.connect_options().as_ref().clone().application_name(&format!("{LISTENER_NAME}{}", changes.replica));
    let own = PgPoolOptions::new().max_connections(1).connect_lazy_with(options);
    // Heartbeats prove that notifications still arrive; a silent connection is a lost one.
    let beat_pool = pool.clone();
    // Ends with this task (the guard aborts it when `listen` is dropped).
    let _beat = AbortOnDrop(tokio::spawn(async move {
        loop {
            let _ = sqlx::query("SELECT pg_notify($1, 'heartbeat')").bind(ACK_CHANNEL).execute(&beat_pool).await;
            tokio::time::sleep(HEARTBEAT).await;
        }
    }));
    loop {
        let mut listener = match connect(&own).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for access changes; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        changes.set_listening(true);
        tracing::debug!(replica = %changes.replica, "listening for access changes");
        loop {
            match tokio::time::timeout(HEARTBEAT * 3, listener.try_recv()).await {
                Ok(Ok(Some(n))) => {
                    if let Err(e) = changes.on_notification(&mut listener, n).await {
                        tracing::warn!(error = %e, "acknowledging an access change failed");
                        break;
                    }
                }
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "access-change listener failed");
                    break;
                }
                Err(_) => {
                    tracing::warn!("no heartbeat from the access-change listener");
                    break;
                }
            }
        }
        changes.set_listening(false);
        tracing::warn!("lost the access-change listener; cached access data is not trusted until it reconnects");
        drop(listener);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn connect(pool: &PgPool) -> Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    // A lost connection must surface here (we distrust the cache, then reconnect), not
    // be replaced silently inside `try_recv`.
    listener.eager_reconnect(false);
    listener.listen_all([CHANNEL, ACK_CHANNEL]).await?;
    Ok(listener)
}
