//! Product data: what lives in a workspace's region database. Every repository here
//! takes an [`InWorkspace`] handle, which only [`crate::access::Scope`] hands out
//! (`scope.begin()`, `scope.read()`), and filters by its workspace id itself.

pub mod agents;
pub mod analytics;
pub mod anchors;
pub mod appointments;
pub mod audit;
pub mod calls;
pub mod campaigns;
pub mod contacts;
pub mod dependents;
pub mod imports;
pub mod phone_numbers;
pub mod sip_trunks;
pub mod telephony;
pub mod templates;
pub mod webhooks;

use crate::access::Scope;
use crate::db::{Conn, Ex, Raw, Tx};
use crate::error::Result;

/// A connection or transaction on one workspace's region database: from a request's
/// [`Scope`], or from a job claimed in that workspace ([`imports::Claimed`]).
pub trait InWorkspace: Raw {
    fn workspace_id(&self) -> &str;
    fn account_id(&self) -> &str;
}

/// A write transaction on the workspace's region database. Dropping it without
/// [`ProductTx::commit`] rolls back.
pub struct ProductTx<'s> {
    tx: Tx,
    scope: &'s Scope,
}

impl<'s> ProductTx<'s> {
    pub(crate) fn new(tx: Tx, scope: &'s Scope) -> Self {
        Self { tx, scope }
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await
    }
}

impl Raw for ProductTx<'_> {
    fn ex(&mut self) -> Ex<'_> {
        self.tx.ex()
    }
}

impl InWorkspace for ProductTx<'_> {
    fn workspace_id(&self) -> &str {
        self.scope.workspace_id()
    }
    fn account_id(&self) -> &str {
        self.scope.account_id()
    }
}

/// A read connection on the workspace's region database.
pub struct ProductConn<'s> {
    conn: Conn,
    scope: &'s Scope,
}

impl<'s> ProductConn<'s> {
    pub(crate) fn new(conn: Conn, scope: &'s Scope) -> Self {
        Self { conn, scope }
    }
}

impl Raw for ProductConn<'_> {
    fn ex(&mut self) -> Ex<'_> {
        self.conn.ex()
    }
}

impl InWorkspace for ProductConn<'_> {
    fn workspace_id(&self) -> &str {
        self.scope.workspace_id()
    }
    fn account_id(&self) -> &str {
        self.scope.account_id()
    }
}

/// A transaction or connection in one workspace for background work, built only by the
/// store from a claimed job row (which names its workspace).
pub struct Job<E> {
    inner: E,
    workspace_id: String,
    account_id: String,
}

/// A transaction in one workspace for background work.
pub type JobTx = Job<Tx>;
/// A read connection in one workspace for background work: what a worker reads before
/// it decides to write.
pub type JobConn = Job<Conn>;

impl<E> Job<E> {
    pub(crate) fn new(inner: E, workspace_id: &str, account_id: &str) -> Self {
        Self { inner, workspace_id: workspace_id.to_owned(), account_id: account_id.to_owned() }
    }
}

impl JobTx {
    pub async fn commit(self) -> Result<()> {
        self.inner.commit().await
    }
}

impl<E: Raw> Raw for Job<E> {
    fn ex(&mut self) -> Ex<'_> {
        self.inner.ex()
    }
}

impl<E: Raw> InWorkspace for Job<E> {
    fn workspace_id(&self) -> &str {
        &self.workspace_id
    }
    fn account_id(&self) -> &str {
        &self.account_id
    }
}

/// One transaction on a region database acting in two workspaces of it (a number
/// transfer: I4). Built only from two scopes that share the database.
pub struct PairTx<'s> {
    tx: Tx,
    from: &'s Scope,
    to: &'s Scope,
}

/// One side of a [`PairTx`].
pub struct Side<'a> {
    tx: &'a mut Tx,
    scope: &'a Scope,
}

impl<'s> PairTx<'s> {
    pub(crate) fn new(tx: Tx, from: &'s Scope, to: &'s Scope) -> Self {
        Self { tx, from, to }
    }
    pub fn from(&mut self) -> Side<'_> {
        Side { tx: &mut self.tx, scope: self.from }
    }
    pub fn to(&mut self) -> Side<'_> {
        Side { tx: &mut self.tx, scope: self.to }
    }
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await
    }
}

impl Raw for Side<'_> {
    fn ex(&mut self) -> Ex<'_> {
        self.tx.ex()
    }
}

impl InWorkspace for Side<'_> {
    fn workspace_id(&self) -> &str {
        self.scope.workspace_id()
    }
    fn account_id(&self) -> &str {
        self.scope.account_id()
    }
}
