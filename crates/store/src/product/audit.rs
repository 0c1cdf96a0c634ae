//! Audit events about product data (SPEC A6), in the region database, written in the
//! same transaction as the change. Same shape as the control log ([`crate::audit`]).

use super::InWorkspace;
use crate::audit::{insert, insert_sql, select, select_sql, AuditEvent, Entry, Filter};
use crate::error::Result;
use crate::regions::RegionDb;

/// Records a change to the workspace's product data, in the caller's transaction.
/// `e.account_id` and `e.workspace_id` are taken from the handle's scope.
pub async fn record(ex: &mut impl InWorkspace, e: Entry<'_>) -> Result<()> {
    let (account, ws) = (ex.account_id().to_owned(), ex.workspace_id().to_owned());
    let e = Entry { account_id: &account, workspace_id: Some(&ws), ..e };
    insert(ex, insert_sql!("product_audit_events"), e).await
}

/// The workspace's product events, newest first.
pub async fn list(ex: &mut impl InWorkspace, f: &Filter<'_>, limit: i64) -> Result<Vec<AuditEvent>> {
    let (account, ws) = (ex.account_id().to_owned(), ex.workspace_id().to_owned());
    select(ex, select_sql!("product_audit_events"), &account, Some(&ws), f, limit).await
}

/// An account's product events held in one region database, newest first (for the
/// account-wide trail, which reads every region database).
pub async fn list_for_account(
    region: &RegionDb,
    account_id: &str,
    f: &Filter<'_>,
    limit: i64,
) -> Result<Vec<AuditEvent>> {
    let mut conn = region.conn().await?;
    select(&mut conn, select_sql!("product_audit_events"), account_id, None, f, limit).await
}
