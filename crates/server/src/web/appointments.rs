//! Appointments (P8): the week view with a list, and booking from the dashboard.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use callplane_domain::contact::{local_to_utc_ms, utc_ms_to_local};
use callplane_domain::Permission;
use callplane_store::product::appointments;
use callplane_store::product::contacts::{self, Filter};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::views::rfc3339;
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::appointments::{self as svc, Input};
use crate::web::common::{outcome, page_context, render, Dash, WebForm};

const DAY_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Default, Deserialize)]
pub struct WeekQuery {
    /// Any day of the week to show (`2026-12-01`); default this week.
    week: Option<String>,
}

/// Monday 00:00 UTC of the week holding `ms`.
fn week_start(ms: i64) -> i64 {
    let day = ms.div_euclid(DAY_MS);
    // 1970-01-01 was a Thursday: Monday is three days earlier in the cycle.
    (day - (day + 3).rem_euclid(7)) * DAY_MS
}

async fn week_page(
    dash: &Dash,
    scope: &WorkspaceScope,
    q: &WeekQuery,
    status: StatusCode,
    extra: Value,
) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "appointments", "Appointments").await?;
    let anchor = match q.week.as_deref().filter(|w| !w.is_empty()) {
        Some(w) => {
            local_to_utc_ms(&format!("{w}T12:00"), "UTC").ok_or_else(|| ApiError::invalid("week", "must be a date"))?
        }
        None => state.now(),
    };
    let start = week_start(anchor);
    let mut conn = scope.read().await?;
    let rows = appointments::between(&mut conn, start, start + 7 * DAY_MS, 500).await?;
    let people = contacts::list(&mut conn, &Filter::default(), None, 200).await?;
    let name_of = |id: &str| {
        people.iter().find(|c| c.id == id).map(|c| if c.name.is_empty() { c.phone.clone() } else { c.name.clone() })
    };
    let mut days: Vec<Value> = Vec::new();
    for d in 0..7 {
        let day_start = start + d * DAY_MS;
        let items: Vec<Value> = rows
            .iter()
            .filter(|a| a.starts_at >= day_start && a.starts_at < day_start + DAY_MS)
            .map(|a| {
                let (_, from) = utc_ms_to_local(a.starts_at, &a.timezone).unwrap_or_default();
                let (_, to) = utc_ms_to_local(a.ends_at, &a.timezone).unwrap_or_default();
                json!({ "id": a.id, "from": from, "to": to, "timezone": a.timezone, "status": a.status,
                        "who": name_of(&a.contact_id).unwrap_or_else(|| a.contact_id.clone()), "notes": a.notes })
            })
            .collect();
        let (date, _) = utc_ms_to_local(day_start, "UTC").unwrap_or_default();
        days.push(json!({ "date": date, "items": items }));
    }
    let list: Vec<Value> = rows
        .iter()
        .map(|a| {
            json!({ "id": a.id, "starts": rfc3339(a.starts_at)[..16].replace('T', " "), "timezone": a.timezone,
                         "status": a.status, "who": name_of(&a.contact_id).unwrap_or_default() })
        })
        .collect();
    let day = |offset: i64| utc_ms_to_local(start + offset, "UTC").unwrap_or_default().0;
    ctx.insert("days".into(), json!(days));
    ctx.insert("list".into(), json!(list));
    ctx.insert("prev".into(), json!(day(-7 * DAY_MS)));
    ctx.insert("next".into(), json!(day(7 * DAY_MS)));
    ctx.insert("contacts".into(), json!(people.iter().map(|c| json!({ "id": c.id, "label": format!("{} {}", c.name, c.phone).trim().to_owned(), "timezone": c.timezone })).collect::<Vec<_>>()));
    ctx.insert("can_book".into(), json!(scope.can(Permission::AppointmentsCreate)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "appointments.html", ctx))
}

pub async fn week(dash: Dash, scope: WorkspaceScope, Query(q): Query<WeekQuery>) -> ApiResult<Response> {
    week_page(&dash, &scope, &q, StatusCode::OK, json!({})).await
}

#[derive(Debug, Deserialize)]
pub struct BookForm {
    contact_id: String,
    /// Wall-clock time (`datetime-local`) in `timezone`.
    starts_at: String,
    minutes: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    notes: String,
}

/// Books from the form: a contact, a wall-clock start in a zone, a length in minutes.
pub async fn book(dash: Dash, scope: WorkspaceScope, WebForm(f): WebForm<BookForm>) -> ApiResult<Response> {
    let zone = if f.timezone.trim().is_empty() { "UTC" } else { f.timezone.trim() };
    let result = async {
        let start = local_to_utc_ms(&f.starts_at, zone)
            .ok_or_else(|| ApiError::invalid("starts_at", "must be a date and time in a valid time zone"))?;
        let minutes: i64 =
            f.minutes.trim().parse().map_err(|_| ApiError::invalid("minutes", "must be a number of minutes"))?;
        let input = Input {
            contact_id: Some(f.contact_id.clone()),
            starts_at: Some(rfc3339(start)),
            ends_at: Some(rfc3339(start + minutes * 60_000)),
            timezone: Some(zone.to_owned()),
            notes: Some(f.notes.clone()),
            ..Input::default()
        };
        svc::create(&dash.state, &scope, &input).await
    }
    .await;
    let week = f.starts_at.get(..10).map(str::to_owned);
    let (status, extra) = outcome(result.map(|_| json!({ "notice": "Appointment booked." })));
    week_page(&dash, &scope, &WeekQuery { week }, status, extra).await
}
