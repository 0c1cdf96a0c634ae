//! A workspace's telephony configuration (SPEC N2): its provider, SIP/BYOC's status and
//! each network group's status. A group without a row is disabled.

use super::InWorkspace;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Settings {
    pub provider: String,
    pub sip_enabled: bool,
    pub updated_at: i64,
}

pub async fn settings(ex: &mut impl InWorkspace) -> Result<Option<Settings>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT provider, sip_enabled, updated_at FROM telephony_settings WHERE workspace_id = $1"
    )
    .bind(&ws)
    .fetch_optional(c)
    .await)?)
}

/// Writes the first configuration of a workspace: `provider`, SIP off, and `enabled`
/// groups on. Does nothing when the workspace has one (a concurrent first read).
pub async fn initialise(ex: &mut impl InWorkspace, provider: &str, enabled: &[&str], now: i64) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    let created = execute!(
        ex,
        "INSERT INTO telephony_settings (workspace_id, provider, sip_enabled, updated_at) VALUES ($1, $2, false, $3)
         ON CONFLICT (workspace_id) DO NOTHING",
        &ws,
        provider,
        now
    )? > 0;
    if created {
        for group in enabled {
            set_group(ex, group, true, now).await?;
        }
    }
    Ok(created)
}

pub async fn save_settings(ex: &mut impl InWorkspace, provider: &str, sip_enabled: bool, now: i64) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "UPDATE telephony_settings SET provider = $2, sip_enabled = $3, updated_at = $4 WHERE workspace_id = $1",
        &ws,
        provider,
        sip_enabled,
        now
    )?;
    Ok(())
}

/// The ids of the workspace's enabled groups.
pub async fn enabled_groups(ex: &mut impl InWorkspace) -> Result<Vec<String>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_scalar(
        "SELECT group_id FROM network_group_settings WHERE workspace_id = $1 AND enabled ORDER BY group_id"
    )
    .bind(&ws)
    .fetch_all(c)
    .await)?)
}

/// Whether one group is enabled in the workspace (the call path's check).
pub async fn group_enabled(ex: &mut impl InWorkspace, group_id: &str) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    let enabled: Option<bool> = on!(ex, |c| sqlx::query_scalar(
        "SELECT enabled FROM network_group_settings WHERE workspace_id = $1 AND group_id = $2"
    )
    .bind(&ws)
    .bind(group_id)
    .fetch_optional(c)
    .await)?;
    Ok(enabled.unwrap_or(false))
}

/// Sets a group's status; returns what it was.
pub async fn set_group(ex: &mut impl InWorkspace, group_id: &str, enabled: bool, now: i64) -> Result<bool> {
    let before = group_enabled(ex, group_id).await?;
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "INSERT INTO network_group_settings (workspace_id, group_id, enabled, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id, group_id) DO UPDATE SET enabled = $3, updated_at = $4",
        &ws,
        group_id,
        enabled,
        now
    )?;
    Ok(before)
}
