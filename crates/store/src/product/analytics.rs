//! Call rollups (SPEC P9): ended calls summed per UTC day of creation, agent, campaign,
//! direction and status, kept by [`count_ended`] in the transaction that ends each call
//! (`calls::advance`). Reading a period sums at most one row per day and combination,
//! however many calls the workspace has; [`recount`] computes the same rows from the
//! calls themselves (tests compare both; the benchmark times both).

use super::InWorkspace;
use crate::error::Result;

/// A day in milliseconds: rollups are keyed by the UTC day a call was created.
pub const DAY_MS: i64 = 86_400_000;

/// Adds an ended call to its rollup row. Runs once per call: `advance` calls it only
/// when it moved the call into an ended status.
pub async fn count_ended(ex: &mut impl InWorkspace, call_id: &str) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "INSERT INTO call_rollups (workspace_id, day, agent_id, campaign_id, direction, status, calls, answered,
                                   duration_secs, billed_minutes, cost)
         SELECT workspace_id, created_at - created_at % 86400000, coalesce(agent_id, ''), coalesce(campaign_id, ''),
                direction, status, 1, CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END, duration_secs, billed_minutes,
                cost
         FROM calls WHERE workspace_id = $1 AND id = $2
         ON CONFLICT (workspace_id, day, agent_id, campaign_id, direction, status) DO UPDATE SET
             calls = call_rollups.calls + excluded.calls, answered = call_rollups.answered + excluded.answered,
             duration_secs = call_rollups.duration_secs + excluded.duration_secs,
             billed_minutes = call_rollups.billed_minutes + excluded.billed_minutes,
             cost = call_rollups.cost + excluded.cost",
        &ws,
        call_id
    )?;
    Ok(())
}

/// One rollup row (or one group of a recount).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Row {
    pub day: i64,
    /// `""` for calls without one.
    pub agent_id: String,
    pub campaign_id: String,
    pub direction: String,
    pub status: String,
    pub calls: i64,
    pub answered: i64,
    pub duration_secs: i64,
    pub billed_minutes: i64,
    pub cost: i64,
}

/// The workspace's rollup rows for days in `[from, to)` (ms), in key order.
pub async fn rollups(ex: &mut impl InWorkspace, from: i64, to: i64) -> Result<Vec<Row>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT day, agent_id, campaign_id, direction, status, calls, answered, duration_secs, billed_minutes, cost
         FROM call_rollups WHERE workspace_id = $1 AND day >= $2 AND day < $3
         ORDER BY day, agent_id, campaign_id, direction, status"
    )
    .bind(&ws)
    .bind(from)
    .bind(to)
    .fetch_all(c)
    .await)?)
}

/// The same rows computed from the calls: a full scan of the workspace's ended calls
/// created in `[from, to)`.
pub async fn recount(ex: &mut impl InWorkspace, from: i64, to: i64) -> Result<Vec<Row>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT created_at - created_at % 86400000 AS day, coalesce(agent_id, '') AS agent_id,
                coalesce(campaign_id, '') AS campaign_id, direction, status, count(*) AS calls,
                CAST(sum(CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS answered,
                CAST(sum(duration_secs) AS BIGINT) AS duration_secs,
                CAST(sum(billed_minutes) AS BIGINT) AS billed_minutes, CAST(sum(cost) AS BIGINT) AS cost
         FROM calls WHERE workspace_id = $1 AND ended_at IS NOT NULL AND created_at >= $2 AND created_at < $3
         GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
    )
    .bind(&ws)
    .bind(from)
    .bind(to)
    .fetch_all(c)
    .await)?)
}
