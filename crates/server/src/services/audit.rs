//! The audit log (SPEC A6): writing events from services, in the caller's transaction,
//! and reading the merged log.
//!
//! Events about control data (members, keys, the workspace itself) are written to the
//! control database; events about product data to the workspace's region database, in
//! the same transaction as the change. Readers merge both, newest first: ids are
//! time-ordered, so the keyset cursor (`id < cursor`) is correct across both sources.

use callplane_domain::Principal;
use callplane_store::access::Scope;
use callplane_store::audit::{AuditEvent, Filter};
use callplane_store::product::{self, InWorkspace};
use callplane_store::{audit, Tx};
use serde_json::Value;

use crate::error::ApiResult;
use crate::state::AppState;

/// Who acts, where and when; one per operation, recording one or more events.
pub struct Auditor<'a> {
    pub account_id: &'a str,
    /// `None` for account-level changes (custom roles, organization keys, account users).
    pub workspace_id: Option<&'a str>,
    pub actor: &'a Principal,
    pub now: i64,
}

impl<'a> Auditor<'a> {
    pub fn for_scope(scope: &'a Scope, now: i64) -> Self {
        Self { account_id: scope.account_id(), workspace_id: Some(scope.workspace_id()), actor: scope.principal(), now }
    }

    /// Records `action` on `target` (`(type, id)`), with JSON snapshots before and after.
    /// Callers never put secrets in the snapshots.
    pub async fn record(
        &self,
        tx: &mut Tx,
        action: &str,
        target: (&str, &str),
        before: Option<Value>,
        after: Option<Value>,
    ) -> ApiResult<()> {
        audit::record(tx, self.entry(action, target, before, after)).await?;
        Ok(())
    }

    /// Records a change to product data in the workspace's region database, in the
    /// change's own transaction.
    pub async fn record_product(
        &self,
        tx: &mut impl InWorkspace,
        action: &str,
        target: (&str, &str),
        before: Option<Value>,
        after: Option<Value>,
    ) -> ApiResult<()> {
        product::audit::record(tx, self.entry(action, target, before, after)).await?;
        Ok(())
    }

    fn entry<'e>(
        &'e self,
        action: &'e str,
        target: (&'e str, &'e str),
        before: Option<Value>,
        after: Option<Value>,
    ) -> audit::Entry<'e> {
        audit::Entry {
            account_id: self.account_id,
            workspace_id: self.workspace_id,
            actor: self.actor,
            action,
            target_type: target.0,
            target_id: target.1,
            before: before.map(|v| v.to_string()),
            after: after.map(|v| v.to_string()),
            now: self.now,
        }
    }
}

/// The workspace's log, control and product events merged, newest first, at most
/// `limit` events.
pub async fn workspace_log(state: &AppState, scope: &Scope, f: &Filter<'_>, limit: i64) -> ApiResult<Vec<AuditEvent>> {
    let mut conn = state.db.conn().await?;
    let control = audit::list(&mut conn, scope, f, limit).await?;
    drop(conn);
    let product = product::audit::list(&mut scope.read().await?, f, limit).await?;
    Ok(merge(vec![control, product], limit))
}

/// The account's log (its own events and every workspace's, control and product, from
/// every region database), newest first, at most `limit` events.
pub async fn account_log(state: &AppState, account_id: &str, f: &Filter<'_>, limit: i64) -> ApiResult<Vec<AuditEvent>> {
    let mut conn = state.db.conn().await?;
    let mut sources = vec![audit::list_for_account(&mut conn, account_id, f, limit).await?];
    drop(conn);
    for region in state.regions.databases() {
        sources.push(product::audit::list_for_account(region, account_id, f, limit).await?);
    }
    Ok(merge(sources, limit))
}

/// Lists each sorted newest first, merged into one, newest first, cut to `limit`.
fn merge(sources: Vec<Vec<AuditEvent>>, limit: i64) -> Vec<AuditEvent> {
    let mut all: Vec<AuditEvent> = sources.into_iter().flatten().collect();
    all.sort_by(|a, b| b.id.cmp(&a.id));
    all.truncate(usize::try_from(limit).unwrap_or(0));
    all
}
