//! What still runs in a workspace and so blocks its deletion (W5).

use super::InWorkspace;
use crate::error::Result;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActiveDependents {
    pub agents: i64,
    pub phone_numbers: i64,
    /// Calls not yet ended, or ended with their money not yet settled.
    pub calls_in_flight: i64,
}

impl ActiveDependents {
    pub fn any(&self) -> bool {
        self.agents > 0 || self.phone_numbers > 0
    }
}

pub async fn active(ex: &mut impl InWorkspace) -> Result<ActiveDependents> {
    let ws = ex.workspace_id().to_owned();
    let agents =
        on!(ex, |c| sqlx::query_scalar("SELECT COUNT(*) FROM agents WHERE workspace_id = $1 AND status = 'active'")
            .bind(&ws)
            .fetch_one(c)
            .await)?;
    let phone_numbers = on!(ex, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM phone_numbers WHERE workspace_id = $1 AND status = 'active'"
    )
    .bind(&ws)
    .fetch_one(c)
    .await)?;
    let calls_in_flight = on!(ex, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM calls WHERE workspace_id = $1 AND (ended_at IS NULL OR NOT settled)"
    )
    .bind(&ws)
    .fetch_one(c)
    .await)?;
    Ok(ActiveDependents { agents, phone_numbers, calls_in_flight })
}
