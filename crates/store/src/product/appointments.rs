//! Appointments (SPEC P8): a calendar per workspace; booked slots never overlap within
//! a workspace.

use super::InWorkspace;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Appointment {
    pub id: String,
    pub contact_id: String,
    pub agent_id: Option<String>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub timezone: String,
    pub status: String,
    pub notes: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    pub contact_id: String,
    pub agent_id: Option<String>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub timezone: String,
    pub status: String,
    pub notes: String,
}

impl From<&Appointment> for Fields {
    fn from(a: &Appointment) -> Self {
        Self {
            contact_id: a.contact_id.clone(),
            agent_id: a.agent_id.clone(),
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            timezone: a.timezone.clone(),
            status: a.status.clone(),
            notes: a.notes.clone(),
        }
    }
}

const COLUMNS: &str = "id, contact_id, agent_id, starts_at, ends_at, timezone, status, notes, created_at, updated_at";

/// Serialises bookings of the workspace until the transaction ends (PostgreSQL: a row
/// lock on its anchor; SQLite's single writer serialises anyway).
pub async fn lock_calendar(ex: &mut impl InWorkspace) -> Result<()> {
    if ex.is_postgres() {
        let ws = ex.workspace_id().to_owned();
        execute!(ex, "SELECT 1 FROM workspace_anchors WHERE workspace_id = $1 FOR UPDATE", &ws)?;
    }
    Ok(())
}

/// The first booked appointment overlapping `[starts_at, ends_at)`, other than `except`.
pub async fn overlapping(
    ex: &mut impl InWorkspace,
    starts_at: i64,
    ends_at: i64,
    except: Option<&str>,
) -> Result<Option<Appointment>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM appointments
         WHERE workspace_id = $1 AND status = 'booked' AND starts_at < $3 AND ends_at > $2
           AND ($4 IS NULL OR id <> $4)
         ORDER BY starts_at LIMIT 1"
    )))
    .bind(&ws)
    .bind(starts_at)
    .bind(ends_at)
    .bind(except)
    .fetch_optional(c)
    .await)?)
}

pub async fn create(ex: &mut impl InWorkspace, id: &str, f: &Fields, now: i64) -> Result<Appointment> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO appointments (workspace_id, id, contact_id, agent_id, starts_at, ends_at, timezone, status, notes,
                                   created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING {COLUMNS}"
    )))
    .bind(&ws)
    .bind(id)
    .bind(&f.contact_id)
    .bind(&f.agent_id)
    .bind(f.starts_at)
    .bind(f.ends_at)
    .bind(&f.timezone)
    .bind(&f.status)
    .bind(&f.notes)
    .bind(now)
    .fetch_one(c)
    .await)?)
}

pub async fn update(ex: &mut impl InWorkspace, id: &str, f: &Fields, now: i64) -> Result<Option<Appointment>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE appointments SET contact_id = $3, agent_id = $4, starts_at = $5, ends_at = $6, timezone = $7,
                status = $8, notes = $9, updated_at = $10
         WHERE workspace_id = $1 AND id = $2 RETURNING {COLUMNS}"
    )))
    .bind(&ws)
    .bind(id)
    .bind(&f.contact_id)
    .bind(&f.agent_id)
    .bind(f.starts_at)
    .bind(f.ends_at)
    .bind(&f.timezone)
    .bind(&f.status)
    .bind(&f.notes)
    .bind(now)
    .fetch_optional(c)
    .await)?)
}

pub async fn get(ex: &mut impl InWorkspace, id: &str) -> Result<Option<Appointment>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM appointments WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(&ws)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// Appointments starting in `[from, to)`, by start time.
pub async fn between(ex: &mut impl InWorkspace, from: i64, to: i64, limit: i64) -> Result<Vec<Appointment>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM appointments WHERE workspace_id = $1 AND starts_at >= $2 AND starts_at < $3
         ORDER BY starts_at, id LIMIT $4"
    )))
    .bind(&ws)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

pub async fn delete(ex: &mut impl InWorkspace, id: &str) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    Ok(execute!(ex, "DELETE FROM appointments WHERE workspace_id = $1 AND id = $2", &ws, id)? > 0)
}

/// How many appointments name the agent (an agent with appointments is not deleted).
pub async fn count_for_agent(ex: &mut impl InWorkspace, agent_id: &str) -> Result<i64> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_scalar("SELECT COUNT(*) FROM appointments WHERE workspace_id = $1 AND agent_id = $2")
        .bind(&ws)
        .bind(agent_id)
        .fetch_one(c)
        .await)?)
}
