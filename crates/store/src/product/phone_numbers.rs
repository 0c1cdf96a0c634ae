//! Phone numbers of a workspace (SPEC P2, I4).

use super::InWorkspace;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PhoneNumber {
    pub id: String,
    pub e164: String,
    pub provider: String,
    pub country: String,
    pub national: String,
    pub locality: String,
    pub monthly_price: i64,
    pub currency: String,
    pub status: String,
    pub agent_id: Option<String>,
    pub transferred_to: Option<String>,
    pub created_at: i64,
    pub ended_at: Option<i64>,
}

const COLUMNS: &str = "id, e164, provider, country, national, locality, monthly_price, currency, status, agent_id, \
                       transferred_to, created_at, ended_at";

pub struct NewNumber<'a> {
    pub id: &'a str,
    pub e164: &'a str,
    pub provider: &'a str,
    pub country: &'a str,
    pub national: &'a str,
    pub locality: &'a str,
    pub monthly_price: i64,
    pub currency: &'a str,
}

/// Inserts the number as active (a no-op when this id exists: purchases are retried).
pub async fn insert(ex: &mut impl InWorkspace, n: &NewNumber<'_>, now: i64) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "INSERT INTO phone_numbers (workspace_id, id, e164, provider, country, national, locality, monthly_price,
                                    currency, status, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10) ON CONFLICT (workspace_id, id) DO NOTHING",
        &ws,
        n.id,
        n.e164,
        n.provider,
        n.country,
        n.national,
        n.locality,
        n.monthly_price,
        n.currency,
        now
    )?;
    Ok(())
}

pub async fn get(ex: &mut impl InWorkspace, id: &str) -> Result<Option<PhoneNumber>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM phone_numbers WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(&ws)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// The workspace's numbers (`status` filters), newest first, older than `before_id`.
pub async fn list(
    ex: &mut impl InWorkspace,
    status: Option<&str>,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Vec<PhoneNumber>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM phone_numbers WHERE workspace_id = $1 AND ($2 IS NULL OR status = $2)
           AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
    )))
    .bind(&ws)
    .bind(status)
    .bind(before_id)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

pub async fn set_agent(ex: &mut impl InWorkspace, id: &str, agent_id: Option<&str>) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    Ok(execute!(
        ex,
        "UPDATE phone_numbers SET agent_id = $3 WHERE workspace_id = $1 AND id = $2 AND status = 'active'",
        &ws,
        id,
        agent_id
    )? > 0)
}

/// Ends the number here: `released` (back to the provider) or `transferred` (to `to`).
pub async fn end(ex: &mut impl InWorkspace, id: &str, status: &str, to: Option<&str>, now: i64) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    Ok(execute!(
        ex,
        "UPDATE phone_numbers SET status = $3, transferred_to = $4, ended_at = $5, agent_id = NULL
         WHERE workspace_id = $1 AND id = $2 AND status = 'active'",
        &ws,
        id,
        status,
        to,
        now
    )? > 0)
}

/// Active numbers assigned to an agent (for inbound calls).
pub async fn count_for_agent(ex: &mut impl InWorkspace, agent_id: &str) -> Result<i64> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM phone_numbers WHERE workspace_id = $1 AND agent_id = $2 AND status = 'active'"
    )
    .bind(&ws)
    .bind(agent_id)
    .fetch_one(c)
    .await)?)
}
