//! A workspace's lifecycle across its two databases (control registry, region anchor).
//!
//! No transaction spans two databases, so creation and deletion are sequences of
//! idempotent steps, each durable before the next, recorded in the registry row's
//! `lifecycle` and claimed with a lease:
//!
//! - creation: register the row as `provisioning` (invisible) with its Owner → write
//!   the anchor in the region database → mark it `ready` (visible);
//! - deletion: mark the row `deleting` (refused everywhere at once) → purge the anchor
//!   and, by cascade, every product row of the workspace → remove the row (memberships,
//!   invitations, keys cascade).
//!
//! A crash between steps leaves a row that is not `ready`; [`run_worker`] finishes it
//! at the next start (or, on PostgreSQL, in another replica once the lease expires).
//! A crash can therefore never leave a visible half-workspace.

use std::time::Duration;

use callplane_store::product::anchors;
use callplane_store::workspaces;
use callplane_store::RegionDb;

use crate::error::{ApiError, ApiResult};
use crate::failpoint;
use crate::state::AppState;

/// Until when a step started now is leased to the one doing it.
pub fn lease_until(state: &AppState) -> i64 {
    state.now() + state.config.workers.lease_secs * 1000
}

fn region_db<'a>(state: &'a AppState, region: &str) -> ApiResult<&'a RegionDb> {
    state
        .regions
        .get(region)
        .map(|r| &r.db)
        .ok_or_else(|| callplane_store::Error::RegionUnavailable(region.into()).into())
}

/// Anchors a registered workspace in its region database, then makes it visible.
pub async fn provision(state: &AppState, workspace_id: &str, account_id: &str, region: &str) -> ApiResult<()> {
    anchors::register(region_db(state, region)?, workspace_id, account_id, state.now()).await?;
    failpoint::hit("workspace.create.after_anchor");
    let mut tx = state.db.begin().await?;
    workspaces::mark_ready(&mut tx, workspace_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Purges a workspace marked `deleting` from its region database, then removes its
/// registry row.
pub async fn purge(state: &AppState, workspace_id: &str, region: &str) -> ApiResult<()> {
    anchors::purge(region_db(state, region)?, workspace_id).await?;
    failpoint::hit("workspace.delete.after_purge");
    let mut tx = state.db.begin().await?;
    workspaces::remove_deleted(&mut tx, workspace_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Finishes every unfinished creation or deletion whose lease has expired; returns how
/// many it finished.
pub async fn finish_pending(state: &AppState) -> ApiResult<usize> {
    let mut done = 0;
    loop {
        let mut tx = state.db.begin().await?;
        let claimed = workspaces::claim_pending(&mut tx, state.now(), lease_until(state)).await?;
        tx.commit().await?;
        let Some(p) = claimed else { return Ok(done) };
        let result = match p.lifecycle.as_str() {
            "provisioning" => provision(state, &p.id, &p.account_id, &p.region).await,
            "deleting" => purge(state, &p.id, &p.region).await,
            other => Err(ApiError::internal(format!("unexpected lifecycle `{other}`"))),
        };
        match result {
            Ok(()) => {
                tracing::info!(workspace = %p.id, step = %p.lifecycle, "finished an interrupted workspace change");
                done += 1;
            }
            // Left leased: retried when the lease expires, not in a tight loop.
            Err(e) => {
                tracing::warn!(workspace = %p.id, error = %e.detail, "could not finish a workspace change");
                return Ok(done);
            }
        }
    }
}

/// Finishes interrupted workspace changes at start and then every few seconds.
pub async fn run_worker(state: AppState) {
    loop {
        if let Err(e) = finish_pending(&state).await {
            tracing::warn!(error = %e.detail, "workspace lifecycle worker");
        }
        tokio::time::sleep(Duration::from_secs(state.config.workers.poll_secs)).await;
    }
}
