//! Workspace analytics (SPEC P9): calls over time, answer rate, durations, cost, and
//! outcomes by agent and by campaign, for a period of UTC days. Read from the call
//! rollups (`store::product::analytics`), never by scanning calls: a period costs one
//! indexed read of at most one row per day and combination.

use std::collections::BTreeMap;

use callplane_domain::permission::Permission;
use callplane_store::access::Scope;
use callplane_store::product::analytics::{self as store, Row, DAY_MS};
use callplane_store::product::{agents, campaigns};
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::numbers::Money;
use crate::error::{ApiError, ApiResult};

/// The longest period a report covers.
pub const MAX_DAYS: i64 = 400;

/// A period of whole UTC days, `[from, to)` in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: i64,
    pub to: i64,
}

impl Period {
    /// The `days` days ending with today (UTC).
    pub fn last_days(now: i64, days: i64) -> Self {
        let to = now - now.rem_euclid(DAY_MS) + DAY_MS;
        Self { from: to - days * DAY_MS, to }
    }

    /// From `from` to `to` (`YYYY-MM-DD`, both included); each defaults to the last 30
    /// days around the other.
    pub fn parse(now: i64, from: Option<&str>, to: Option<&str>) -> ApiResult<Self> {
        let day = |field: &str, raw: &str| {
            callplane_domain::contact::local_to_utc_ms(&format!("{}T00:00", raw.trim()), "UTC")
                .ok_or_else(|| ApiError::invalid(field, "must be a date, YYYY-MM-DD"))
        };
        let p = match (from, to) {
            (None, None) => Self::last_days(now, 30),
            (Some(f), None) => {
                let from = day("from", f)?;
                Self { from, to: Self::last_days(now, 1).to.max(from + DAY_MS) }
            }
            (None, Some(t)) => {
                let to = day("to", t)? + DAY_MS;
                Self { from: to - 30 * DAY_MS, to }
            }
            (Some(f), Some(t)) => Self { from: day("from", f)?, to: day("to", t)? + DAY_MS },
        };
        if p.to <= p.from {
            return Err(ApiError::invalid("to", "must not be before from"));
        }
        if (p.to - p.from) / DAY_MS > MAX_DAYS {
            return Err(ApiError::invalid("from", format!("a period covers at most {MAX_DAYS} days")));
        }
        Ok(p)
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from) / DAY_MS
    }
}

/// Sums of a set of calls.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq)]
pub struct Figures {
    /// Ended calls.
    pub calls: i64,
    pub answered: i64,
    /// Answered / calls (0 when there were none).
    pub answer_rate: f64,
    /// Talk time of answered calls.
    pub duration_secs: i64,
    /// Average talk time of an answered call.
    pub average_duration_secs: f64,
    pub billed_minutes: i64,
    /// Shown to callers holding `billing_view`.
    pub cost: Option<Money>,
    /// Calls by final status (`completed`, `busy`, `no-answer`, `failed`, `canceled`).
    pub outcomes: BTreeMap<String, i64>,
}

impl Figures {
    fn add(&mut self, r: &Row) {
        self.calls += r.calls;
        self.answered += r.answered;
        self.duration_secs += r.duration_secs;
        self.billed_minutes += r.billed_minutes;
        let cost = self.cost.get_or_insert_with(|| Money::inr(0));
        cost.amount += r.cost;
        *self.outcomes.entry(r.status.clone()).or_default() += r.calls;
    }

    fn finish(mut self, money: bool) -> Self {
        self.answer_rate = if self.calls > 0 { self.answered as f64 / self.calls as f64 } else { 0.0 };
        self.average_duration_secs =
            if self.answered > 0 { self.duration_secs as f64 / self.answered as f64 } else { 0.0 };
        self.cost = if money { Some(self.cost.unwrap_or_else(|| Money::inr(0))) } else { None };
        self
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Day {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Group {
    /// The agent's or campaign's id (`null`: calls without one).
    pub id: Option<String>,
    pub name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Report {
    /// First day of the period (`YYYY-MM-DD`, UTC).
    pub from: String,
    /// Last day of the period, included.
    pub to: String,
    pub totals: Figures,
    pub inbound: Figures,
    pub outbound: Figures,
    /// One entry per day of the period, days without calls included.
    pub days: Vec<Day>,
    pub by_agent: Vec<Group>,
    pub by_campaign: Vec<Group>,
}

fn date(ms: i64) -> String {
    callplane_domain::contact::utc_ms_to_local(ms, "UTC").map(|(d, _)| d).unwrap_or_default()
}

/// The report for `period`, money only for `billing_view`.
pub async fn report(scope: &Scope, period: Period) -> ApiResult<Report> {
    let money = scope.can(Permission::BillingView);
    let mut conn = scope.read().await?;
    let rows = store::rollups(&mut conn, period.from, period.to).await?;
    let mut totals = Figures::default();
    let (mut inbound, mut outbound) = (Figures::default(), Figures::default());
    let mut days: BTreeMap<i64, Figures> =
        (0..period.days()).map(|d| (period.from + d * DAY_MS, Figures::default())).collect();
    let mut by_agent: BTreeMap<String, Figures> = BTreeMap::new();
    let mut by_campaign: BTreeMap<String, Figures> = BTreeMap::new();
    for r in &rows {
        totals.add(r);
        match r.direction.as_str() {
            "inbound" => inbound.add(r),
            _ => outbound.add(r),
        }
        days.entry(r.day).or_default().add(r);
        by_agent.entry(r.agent_id.clone()).or_default().add(r);
        if !r.campaign_id.is_empty() {
            by_campaign.entry(r.campaign_id.clone()).or_default().add(r);
        }
    }
    let mut agent_groups = Vec::new();
    for (id, figures) in by_agent {
        let name = match id.as_str() {
            "" => "No agent".to_owned(),
            _ => agents::get(&mut conn, &id).await?.map_or_else(|| id.clone(), |a| a.name),
        };
        agent_groups.push(Group { id: (!id.is_empty()).then_some(id), name, figures: figures.finish(money) });
    }
    let mut campaign_groups = Vec::new();
    for (id, figures) in by_campaign {
        let name = campaigns::get(&mut conn, &id).await?.map_or_else(|| id.clone(), |c| c.name);
        campaign_groups.push(Group { id: Some(id), name, figures: figures.finish(money) });
    }
    // Busiest first.
    agent_groups.sort_by(|a, b| b.figures.calls.cmp(&a.figures.calls).then(a.name.cmp(&b.name)));
    campaign_groups.sort_by(|a, b| b.figures.calls.cmp(&a.figures.calls).then(a.name.cmp(&b.name)));
    Ok(Report {
        from: date(period.from),
        to: date(period.to - DAY_MS),
        totals: totals.finish(money),
        inbound: inbound.finish(money),
        outbound: outbound.finish(money),
        days: days.into_iter().map(|(day, f)| Day { date: date(day), figures: f.finish(money) }).collect(),
        by_agent: agent_groups,
        by_campaign: campaign_groups,
    })
}
