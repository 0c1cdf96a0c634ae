//! Appointments (SPEC P8): a calendar per workspace. A booked slot conflicts only with
//! the same workspace's booked slots; the overlap check and the write happen under the
//! workspace's calendar lock, so concurrent overlapping bookings cannot both succeed.

use callplane_domain::id::{has_prefix, new_id};
use callplane_store::access::Scope;
use callplane_store::product::appointments::{self, Appointment, Fields};
use callplane_store::product::{agents, contacts, InWorkspace};
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::api::views::rfc3339;
use crate::error::{ApiError, ApiResult, Code};
use crate::services::audit::Auditor;
use crate::state::AppState;

/// Longest appointment: a day.
const MAX_LENGTH_MS: i64 = 24 * 60 * 60 * 1000;
pub const STATUSES: &[&str] = &["booked", "cancelled", "completed", "no_show"];

#[derive(Debug, Default, Clone)]
pub struct Input {
    pub contact_id: Option<String>,
    /// `""` clears it.
    pub agent_id: Option<String>,
    /// RFC 3339.
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub timezone: Option<String>,
    pub status: Option<String>,
    pub notes: Option<String>,
}

pub fn parse_time(field: &str, raw: &str) -> ApiResult<i64> {
    OffsetDateTime::parse(raw.trim(), &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
        .map_err(|_| ApiError::invalid(field, "must be an RFC 3339 time such as 2026-12-01T10:00:00+05:30"))
}

async fn apply(tx: &mut impl InWorkspace, base: Option<&Fields>, input: &Input) -> ApiResult<Fields> {
    let contact_id = match (&input.contact_id, base) {
        (Some(id), _) => id.trim().to_owned(),
        (None, Some(b)) => b.contact_id.clone(),
        (None, None) => return Err(ApiError::invalid("contact_id", "is required")),
    };
    // References stay inside the workspace (I2): another workspace's contact or agent is
    // as unknown here as one that does not exist.
    let contact = match has_prefix(&contact_id, "ct") {
        true => contacts::get(tx, &contact_id).await?,
        false => None,
    };
    let Some(contact) = contact else {
        return Err(ApiError::invalid("contact_id", "is not a contact of this workspace"));
    };
    let agent_id = match (&input.agent_id, base) {
        (Some(a), _) if a.trim().is_empty() => None,
        (Some(a), _) => Some(a.trim().to_owned()),
        (None, b) => b.and_then(|b| b.agent_id.clone()),
    };
    if let Some(a) = &agent_id {
        if !has_prefix(a, "agt") || agents::get(tx, a).await?.is_none() {
            return Err(ApiError::invalid("agent_id", "is not an agent of this workspace"));
        }
    }
    let starts_at = match (&input.starts_at, base) {
        (Some(s), _) => parse_time("starts_at", s)?,
        (None, Some(b)) => b.starts_at,
        (None, None) => return Err(ApiError::invalid("starts_at", "is required")),
    };
    let ends_at = match (&input.ends_at, base) {
        (Some(s), _) => parse_time("ends_at", s)?,
        (None, Some(b)) => b.ends_at,
        (None, None) => return Err(ApiError::invalid("ends_at", "is required")),
    };
    if ends_at <= starts_at {
        return Err(ApiError::invalid("ends_at", "must be after starts_at"));
    }
    if ends_at - starts_at > MAX_LENGTH_MS {
        return Err(ApiError::invalid("ends_at", "an appointment lasts at most 24 hours"));
    }
    let timezone = match &input.timezone {
        Some(tz) => callplane_domain::contact::parse_timezone(tz).map_err(|e| ApiError::invalid(e.field, e.message))?,
        None => base.map(|b| b.timezone.clone()).or(contact.timezone).unwrap_or_else(|| "UTC".into()),
    };
    let status = match input.status.as_deref() {
        Some(s) if STATUSES.contains(&s) => s.to_owned(),
        Some(_) => return Err(ApiError::invalid("status", "must be booked, cancelled, completed or no_show")),
        None => base.map_or_else(|| "booked".to_owned(), |b| b.status.clone()),
    };
    let notes = input.notes.clone().or(base.map(|b| b.notes.clone())).unwrap_or_default();
    if notes.chars().count() > 5000 || notes.contains('\0') {
        return Err(ApiError::invalid("notes", "must be at most 5,000 characters"));
    }
    Ok(Fields { contact_id, agent_id, starts_at, ends_at, timezone, status, notes })
}

/// Refuses a booked slot that overlaps another booked slot of the workspace (409).
async fn refuse_overlap(tx: &mut impl InWorkspace, f: &Fields, except: Option<&str>) -> ApiResult<()> {
    if f.status != "booked" {
        return Ok(());
    }
    if let Some(other) = appointments::overlapping(tx, f.starts_at, f.ends_at, except).await? {
        return Err(ApiError::new(
            Code::AppointmentConflict,
            format!(
                "The slot overlaps appointment {} ({} to {}).",
                other.id,
                rfc3339(other.starts_at),
                rfc3339(other.ends_at)
            ),
        )
        .with(
            "conflicting_appointment",
            json!({ "id": other.id, "starts_at": rfc3339(other.starts_at),
                                                  "ends_at": rfc3339(other.ends_at) }),
        ));
    }
    Ok(())
}

fn snapshot(f: &Fields) -> serde_json::Value {
    json!({ "contact_id": f.contact_id, "agent_id": f.agent_id, "starts_at": rfc3339(f.starts_at),
            "ends_at": rfc3339(f.ends_at), "timezone": f.timezone, "status": f.status })
}

pub async fn create(state: &AppState, scope: &Scope, input: &Input) -> ApiResult<Appointment> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    appointments::lock_calendar(&mut tx).await?;
    let f = apply(&mut tx, None, input).await?;
    refuse_overlap(&mut tx, &f, None).await?;
    let id = new_id("apt");
    let created = appointments::create(&mut tx, &id, &f, now).await?;
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "appointment.created", ("appointment", &id), None, Some(snapshot(&f)))
        .await?;
    tx.commit().await?;
    Ok(created)
}

pub async fn update(state: &AppState, scope: &Scope, id: &str, input: &Input) -> ApiResult<Appointment> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    appointments::lock_calendar(&mut tx).await?;
    let current = appointments::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let before = Fields::from(&current);
    let after = apply(&mut tx, Some(&before), input).await?;
    if after == before {
        return Ok(current);
    }
    refuse_overlap(&mut tx, &after, Some(id)).await?;
    let updated = appointments::update(&mut tx, id, &after, now).await?.ok_or_else(ApiError::not_found)?;
    Auditor::for_scope(scope, now)
        .record_product(
            &mut tx,
            "appointment.updated",
            ("appointment", id),
            Some(snapshot(&before)),
            Some(snapshot(&after)),
        )
        .await?;
    tx.commit().await?;
    Ok(updated)
}

pub async fn get(scope: &Scope, id: &str) -> ApiResult<Appointment> {
    appointments::get(&mut scope.read().await?, id).await?.ok_or_else(ApiError::not_found)
}

pub async fn delete(state: &AppState, scope: &Scope, id: &str) -> ApiResult<()> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let current = appointments::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    appointments::delete(&mut tx, id).await?;
    Auditor::for_scope(scope, now)
        .record_product(
            &mut tx,
            "appointment.deleted",
            ("appointment", id),
            Some(snapshot(&Fields::from(&current))),
            None,
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
