//! Workspace anchors: a workspace's registration in its region database. Every product
//! table cascades from the anchor, so purging it removes the workspace's product rows
//! and nothing of any other workspace. Both steps are idempotent: the workspace
//! lifecycle (creation, deletion) repeats them after a crash.

use crate::error::Result;
use crate::regions::RegionDb;

/// Registers the workspace in its region database (a no-op when it already is).
pub async fn register(region: &RegionDb, workspace_id: &str, account_id: &str, now: i64) -> Result<()> {
    let mut tx = region.begin().await?;
    execute!(
        &mut tx,
        "INSERT INTO workspace_anchors (workspace_id, account_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (workspace_id) DO NOTHING",
        workspace_id,
        account_id,
        now
    )?;
    tx.commit().await
}

/// Deletes the workspace's anchor and, by cascade, every product row of the workspace.
/// Returns whether there was an anchor to purge.
pub async fn purge(region: &RegionDb, workspace_id: &str) -> Result<bool> {
    let mut tx = region.begin().await?;
    let n = execute!(&mut tx, "DELETE FROM workspace_anchors WHERE workspace_id = $1", workspace_id)?;
    tx.commit().await?;
    Ok(n > 0)
}

/// Whether the workspace is registered in this region database.
pub async fn exists(region: &RegionDb, workspace_id: &str) -> Result<bool> {
    let mut conn = region.conn().await?;
    let n: i64 =
        on!(&mut conn, |c| sqlx::query_scalar("SELECT COUNT(*) FROM workspace_anchors WHERE workspace_id = $1")
            .bind(workspace_id)
            .fetch_one(c)
            .await)?;
    Ok(n > 0)
}
