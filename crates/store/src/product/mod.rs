//! Product data: what lives in a workspace's region database. Every repository here
//! takes an [`InWorkspace`] handle, which only [`crate::access::Scope`] hands out
//! (`scope.begin()`, `scope.read()`), and filters by its workspace id itself.

pub mod anchors;
pub mod audit;
pub mod contacts;
pub mod dependents;

use crate::access::Scope;
use crate::db::{Conn, Ex, Raw, Tx};
use crate::error::Result;

/// A connection or transaction on one workspace's region database.
pub trait InWorkspace: Raw {
    fn scope(&self) -> &Scope;
    fn workspace_id(&self) -> &str {
        self.scope().workspace_id()
    }
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
    fn scope(&self) -> &Scope {
        self.scope
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
    fn scope(&self) -> &Scope {
        self.scope
    }
}
