//! The request path's cache of access data, so that a warm principal is authenticated
//! and scoped without reading the database.
//!
//! Two maps: credentials (a token's hash → who it is) and scopes ((principal,
//! workspace) → what it may do there, with the workspace's registry row). Every entry
//! is stamped with the access epoch current *before* the database read that produced it
//! ([`callplane_store::changes`]) and is served only while that epoch is still current.
//! Every committed access change bumps the epoch (here at once, in other replicas
//! through PostgreSQL `NOTIFY` before the writer answers), so a revoked key, a removed
//! member, an edited role or a deactivated workspace is seen by the very next request.
//! While a replica is not listening for changes, the epoch is `None` and nothing is
//! served from, or put in, the cache.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use callplane_store::access::Scope;
use callplane_store::changes::AccessChanges;

use crate::auth::principal::Auth;

/// Entries per map before it is emptied (a bound, not an eviction policy: stale
/// entries are also dropped this way).
const MAX_ENTRIES: usize = 100_000;

/// A credential as the cache keeps it.
#[derive(Debug, Clone)]
pub struct Credential {
    pub auth: Auth,
    /// When activity was last recorded (session `last_seen_at`, key `last_used_at`).
    pub touched_at: Option<i64>,
    /// For a workspace key whose workspace is inactive: that workspace's name (W4).
    pub inactive_workspace: Option<String>,
}

pub struct AccessCache {
    changes: Arc<AccessChanges>,
    hits: AtomicU64,
    misses: AtomicU64,
    credentials: EpochMap<String, Credential>,
    scopes: EpochMap<(String, String), Arc<Scope>>,
}

impl AccessCache {
    pub fn new(changes: Arc<AccessChanges>) -> Self {
        Self {
            changes,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            credentials: EpochMap::default(),
            scopes: EpochMap::default(),
        }
    }

    /// Lookups answered from the cache and lookups that went to the database.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// Whether cached entries may be served now (false while a PostgreSQL replica is not
    /// listening for other replicas' changes).
    pub fn is_trusted(&self) -> bool {
        self.epoch().is_some()
    }

    fn count<T>(&self, found: Option<T>) -> Option<T> {
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// The epoch to stamp on what is about to be read; `None`: do not cache.
    pub fn epoch(&self) -> Option<u64> {
        self.changes.epoch()
    }

    pub fn credential(&self, token_hash: &str) -> Option<Credential> {
        self.count(self.epoch().and_then(|epoch| self.credentials.get(token_hash, epoch)))
    }

    pub fn put_credential(&self, epoch: Option<u64>, token_hash: String, credential: Credential) {
        if let Some(epoch) = epoch {
            self.credentials.put(epoch, token_hash, credential);
        }
    }

    /// `principal_key`: the session id or API key id (a scope carries its principal).
    pub fn scope(&self, principal_key: &str, workspace_id: &str) -> Option<Arc<Scope>> {
        let found = self.epoch().and_then(|epoch| {
            self.scopes.get_with(epoch, |map| map.get(&(principal_key.to_owned(), workspace_id.to_owned())).cloned())
        });
        self.count(found)
    }

    pub fn put_scope(&self, epoch: Option<u64>, principal_key: &str, scope: Arc<Scope>) {
        if let Some(epoch) = epoch {
            self.scopes.put(epoch, (principal_key.to_owned(), scope.workspace_id().to_owned()), scope);
        }
    }
}

/// A map whose entries are valid only under the epoch they were stamped with.
struct EpochMap<K, V> {
    inner: RwLock<HashMap<K, (u64, V)>>,
}

impl<K, V> Default for EpochMap<K, V> {
    fn default() -> Self {
        Self { inner: RwLock::new(HashMap::new()) }
    }
}

impl<K: Eq + Hash, V: Clone> EpochMap<K, V> {
    fn get<Q>(&self, key: &Q, epoch: u64) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.get_with(epoch, |map| map.get(key).cloned())
    }

    fn get_with(&self, epoch: u64, find: impl FnOnce(&HashMap<K, (u64, V)>) -> Option<(u64, V)>) -> Option<V> {
        let map = self.inner.read().unwrap_or_else(|e| e.into_inner());
        find(&map).and_then(|(stamp, v)| (stamp == epoch).then_some(v))
    }

    fn put(&self, epoch: u64, key: K, value: V) {
        let mut map = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (epoch, value));
    }
}
