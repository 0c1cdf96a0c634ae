//! Campaigns (SPEC P6): creating and editing them, their lifecycle (draft → scheduled
//! → running ↔ paused → completed / cancelled, each step audited and sent to webhooks
//! as `campaign.*`), their progress, and what happens to a target when one of the
//! campaign's calls ends (`call_ended`, in that call's transaction). The dialer that
//! places the calls is `services::dialer`.

use callplane_domain::campaign::{self, Window, RETRYABLE};
use callplane_domain::id::new_id;
use callplane_store::access::Scope;
use callplane_store::product::calls::Call;
use callplane_store::product::campaigns::{self as store, Campaign, Fields};
use callplane_store::product::contacts::Filter;
use callplane_store::product::{agents, contacts, phone_numbers, InWorkspace};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Code};
use crate::services::audit::Auditor;
use crate::services::events;
use crate::state::AppState;

/// The most contacts a list audience names.
pub const MAX_LIST: usize = 10_000;

/// What a create or update gives; `None` keeps the current value (defaults on create).
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub name: Option<String>,
    pub agent_id: Option<String>,
    pub number_ids: Option<Vec<String>>,
    pub audience: Option<Audience>,
    pub timezone: Option<String>,
    pub window: Option<WindowInput>,
    pub max_concurrency: Option<i64>,
    pub calls_per_second: Option<i64>,
    pub max_attempts: Option<i64>,
    pub retry_delay_secs: Option<i64>,
    pub retry_on: Option<Vec<String>>,
    /// `Some(None)` clears a start time.
    pub start_at: Option<Option<i64>>,
    /// A SIP trunk of the workspace to dial through; `Some(None)` clears it (the
    /// workspace's provider decides again).
    pub sip_trunk_id: Option<Option<String>>,
}

/// Who a campaign calls: contacts with a tag and/or matching a search (taken when the
/// campaign starts), or a list of contacts.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    pub tag: Option<String>,
    pub q: Option<String>,
    pub contact_ids: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct WindowInput {
    pub days: Vec<String>,
    pub start: String,
    pub end: String,
}

/// How a campaign's targets stand.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct Progress {
    /// Contacts in the audience.
    pub total: i64,
    /// Contacts dialed at least once.
    pub dialed: i64,
    /// Contacts whose last call was answered and completed.
    pub answered: i64,
    /// Contacts with a call in flight.
    pub in_progress: i64,
    /// Contacts still to dial (including retries waiting for their delay or window).
    pub remaining: i64,
    /// Contacts never dialed: do-not-call, opted out, or no longer callable.
    pub skipped: i64,
    /// Contacts whose attempts all ended without an answer (busy, no-answer, failed).
    pub failed: i64,
    /// Calls placed, retries included.
    pub attempts: i64,
}

pub async fn progress(ex: &mut impl InWorkspace, id: &str) -> ApiResult<Progress> {
    let mut p = Progress::default();
    for t in store::tally(ex, id).await? {
        p.total += t.targets;
        p.dialed += t.dialed;
        p.attempts += t.attempts;
        match (t.state.as_str(), t.outcome.as_deref()) {
            ("pending", _) => p.remaining += t.targets,
            ("dialing", _) => p.in_progress += t.targets,
            ("skipped", _) => p.skipped += t.targets,
            ("done", Some("completed")) => p.answered += t.targets,
            _ => p.failed += t.targets,
        }
    }
    Ok(p)
}

fn bad(e: callplane_domain::contact::FieldError) -> ApiError {
    ApiError::invalid(e.field, e.message)
}

/// The campaign's settings after `input`, checked against the workspace.
async fn settle_fields(
    state: &AppState,
    scope: &Scope,
    base: Option<&Campaign>,
    input: &Input,
) -> ApiResult<(OwnedFields, Option<Vec<String>>)> {
    let limits = &state.config.campaigns;
    let name = match (&input.name, base) {
        (Some(n), _) => n.trim().to_owned(),
        (None, Some(b)) => b.name.clone(),
        (None, None) => return Err(ApiError::invalid("name", "is required")),
    };
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid("name", "must be 1 to 100 characters"));
    }
    let agent_id = match (&input.agent_id, base) {
        (Some(a), _) => a.clone(),
        (None, Some(b)) => b.agent_id.clone(),
        (None, None) => return Err(ApiError::invalid("agent_id", "is required")),
    };
    let mut read = scope.read().await?;
    if agents::get(&mut read, &agent_id).await?.is_none() {
        return Err(ApiError::invalid("agent_id", "is not an agent of this workspace"));
    }
    let sip_trunk_id = match (&input.sip_trunk_id, base) {
        (Some(Some(id)), _) => {
            let trunk = callplane_store::product::sip_trunks::get(&mut read, id)
                .await?
                .ok_or_else(|| ApiError::invalid("sip_trunk_id", "is not a SIP trunk of this workspace"))?;
            if !crate::services::sip_calls::has_outbound_gateway(&trunk) {
                return Err(ApiError::invalid("sip_trunk_id", "the trunk has no outbound gateway"));
            }
            Some(trunk.id)
        }
        (Some(None), _) => None,
        (None, Some(b)) => b.sip_trunk_id.clone(),
        (None, None) => None,
    };
    if let Some(ids) = &input.number_ids {
        if ids.is_empty() || ids.len() > 50 {
            return Err(ApiError::invalid("number_ids", "must name 1 to 50 numbers of the workspace"));
        }
        for id in ids {
            let ok = phone_numbers::get(&mut read, id).await?.is_some_and(|n| n.status == "active");
            if !ok {
                return Err(ApiError::invalid("number_ids", format!("{id} is not an active number of this workspace")));
            }
        }
    } else if base.is_none() {
        return Err(ApiError::invalid("number_ids", "name at least one number of the workspace to call from"));
    }
    let (tag, q, list) = match (&input.audience, base) {
        (Some(a), _) => {
            let tag = a.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
            let q = a.q.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
            match &a.contact_ids {
                Some(_) if tag.is_some() || q.is_some() => {
                    return Err(ApiError::invalid("audience", "give a tag and/or search, or a list of contacts"));
                }
                Some(ids) => {
                    if ids.is_empty() || ids.len() > MAX_LIST {
                        return Err(ApiError::invalid(
                            "audience.contact_ids",
                            format!("must name 1 to {MAX_LIST} contacts"),
                        ));
                    }
                    for id in ids {
                        if contacts::get(&mut read, id).await?.is_none() {
                            return Err(ApiError::invalid(
                                "audience.contact_ids",
                                format!("{id} is not a contact of this workspace"),
                            ));
                        }
                    }
                    (None, None, Some(ids.clone()))
                }
                None if tag.is_none() && q.is_none() => {
                    return Err(ApiError::invalid("audience", "give a tag and/or search, or a list of contacts"))
                }
                None => (tag, q, None),
            }
        }
        (None, Some(b)) => (b.audience_tag.clone(), b.audience_q.clone(), None),
        (None, None) => return Err(ApiError::invalid("audience", "is required: a tag, a search or contact_ids")),
    };
    // A new audience is a list or a filter; without one the campaign keeps its own.
    let audience_list = list.is_some() || (input.audience.is_none() && base.is_some_and(|b| b.audience_list));
    drop(read);
    let timezone = match (&input.timezone, base) {
        (Some(tz), _) => callplane_domain::contact::parse_timezone(tz).map_err(bad)?,
        (None, Some(b)) => b.timezone.clone(),
        (None, None) => {
            let country = crate::services::agents::default_country(state, scope).await?;
            callplane_domain::contact::country_timezone(&country).unwrap_or("UTC").to_owned()
        }
    };
    let window = match (&input.window, base) {
        (Some(w), _) => Window::parse(&w.days, &w.start, &w.end).map_err(bad)?,
        (None, Some(b)) => window_of(b),
        (None, None) => {
            Window::parse(&["mon", "tue", "wed", "thu", "fri"].map(String::from), "09:00", "18:00").map_err(bad)?
        }
    };
    let pick = |v: Option<i64>, b: Option<i64>, default: i64| v.or(b).unwrap_or(default);
    let max_concurrency = pick(input.max_concurrency, base.map(|b| b.max_concurrency), 5);
    if !(1..=limits.max_concurrency_per_workspace).contains(&max_concurrency) {
        return Err(ApiError::invalid(
            "max_concurrency",
            format!("must be 1 to {} (the workspace's limit)", limits.max_concurrency_per_workspace),
        ));
    }
    let calls_per_second = pick(input.calls_per_second, base.map(|b| b.calls_per_second), 1);
    if !(1..=limits.max_calls_per_second).contains(&calls_per_second) {
        return Err(ApiError::invalid("calls_per_second", format!("must be 1 to {}", limits.max_calls_per_second)));
    }
    let max_attempts = pick(input.max_attempts, base.map(|b| b.max_attempts), 3);
    if !(1..=10).contains(&max_attempts) {
        return Err(ApiError::invalid("max_attempts", "must be 1 to 10"));
    }
    let retry_delay_secs = pick(input.retry_delay_secs, base.map(|b| b.retry_delay_secs), 3600);
    if !(60..=7 * 86_400).contains(&retry_delay_secs) {
        return Err(ApiError::invalid("retry_delay_secs", "must be 60 seconds to 7 days"));
    }
    let retry_on = match (&input.retry_on, base) {
        (Some(list), _) => {
            if let Some(bad) = list.iter().find(|s| !RETRYABLE.contains(&s.as_str())) {
                return Err(ApiError::invalid("retry_on", format!("{bad} is not one of {}", RETRYABLE.join(", "))));
            }
            let mut l: Vec<&str> = RETRYABLE.iter().copied().filter(|r| list.iter().any(|s| s == r)).collect();
            l.dedup();
            l.join(" ")
        }
        (None, Some(b)) => b.retry_on.clone(),
        (None, None) => "busy no-answer".into(),
    };
    let start_at = match (input.start_at, base) {
        (Some(v), _) => v,
        (None, Some(b)) => b.start_at,
        (None, None) => None,
    };
    let f = OwnedFields {
        name,
        agent_id,
        audience_tag: tag,
        audience_q: q,
        audience_list,
        timezone,
        window,
        max_concurrency,
        calls_per_second,
        max_attempts,
        retry_delay_secs,
        retry_on,
        start_at,
        sip_trunk_id,
    };
    Ok((f, list))
}

/// [`Fields`] with owned values.
struct OwnedFields {
    name: String,
    agent_id: String,
    audience_tag: Option<String>,
    audience_q: Option<String>,
    audience_list: bool,
    timezone: String,
    window: Window,
    max_concurrency: i64,
    calls_per_second: i64,
    max_attempts: i64,
    retry_delay_secs: i64,
    retry_on: String,
    start_at: Option<i64>,
    sip_trunk_id: Option<String>,
}

impl OwnedFields {
    fn fields(&self) -> Fields<'_> {
        Fields {
            name: &self.name,
            agent_id: &self.agent_id,
            audience_tag: self.audience_tag.as_deref(),
            audience_q: self.audience_q.as_deref(),
            audience_list: self.audience_list,
            timezone: &self.timezone,
            window_days: i64::from(self.window.days),
            window_start: i64::from(self.window.start_min),
            window_end: i64::from(self.window.end_min),
            max_concurrency: self.max_concurrency,
            calls_per_second: self.calls_per_second,
            max_attempts: self.max_attempts,
            retry_delay_secs: self.retry_delay_secs,
            retry_on: &self.retry_on,
            start_at: self.start_at,
            sip_trunk_id: self.sip_trunk_id.as_deref(),
        }
    }
}

/// The campaign's calling window.
pub fn window_of(c: &Campaign) -> Window {
    Window { days: c.window_days as u8, start_min: c.window_start as u16, end_min: c.window_end as u16 }
}

/// An audit snapshot of a campaign.
fn snapshot(c: &Campaign) -> serde_json::Value {
    let w = window_of(c);
    json!({ "name": c.name, "status": c.status, "agent_id": c.agent_id, "audience_tag": c.audience_tag,
            "audience_q": c.audience_q, "audience_list": c.audience_list, "timezone": c.timezone,
            "window": { "days": w.day_names(), "start": w.start(), "end": w.end() },
            "max_concurrency": c.max_concurrency, "calls_per_second": c.calls_per_second,
            "max_attempts": c.max_attempts, "retry_delay_secs": c.retry_delay_secs, "retry_on": c.retry_on,
            "pause_reason": c.pause_reason })
}

pub async fn create(state: &AppState, scope: &Scope, input: &Input) -> ApiResult<Campaign> {
    let (f, list) = settle_fields(state, scope, None, input).await?;
    let now = state.now();
    let id = new_id("cmp");
    let mut tx = scope.begin().await?;
    let c = store::create(&mut tx, &id, &f.fields(), now).await?;
    store::set_numbers(&mut tx, &id, input.number_ids.as_deref().unwrap_or_default()).await?;
    if let Some(ids) = &list {
        store::add_contacts(&mut tx, &id, ids, now).await?;
    }
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "campaign.created", ("campaign", &id), None, Some(snapshot(&c)))
        .await?;
    tx.commit().await?;
    Ok(c)
}

/// Edits a draft or a paused campaign (a running one is paused first; a finished one
/// is history). A paused campaign keeps its audience: its targets were taken at start.
pub async fn update(state: &AppState, scope: &Scope, id: &str, input: &Input) -> ApiResult<Campaign> {
    let current = get(scope, id).await?;
    if !matches!(current.status.as_str(), "draft" | "paused") {
        return Err(ApiError::new(
            Code::CampaignState,
            format!("A {} campaign cannot be edited; pause it first.", current.status),
        ));
    }
    if current.status != "draft" && input.audience.is_some() {
        return Err(ApiError::invalid("audience", "is fixed once the campaign has started"));
    }
    let (f, list) = settle_fields(state, scope, Some(&current), input).await?;
    let now = state.now();
    let mut tx = scope.begin().await?;
    store::update(&mut tx, id, &f.fields(), now).await?;
    if let Some(ids) = &input.number_ids {
        store::set_numbers(&mut tx, id, ids).await?;
    }
    if input.audience.is_some() {
        store::clear_targets(&mut tx, id).await?;
        if let Some(ids) = &list {
            store::add_contacts(&mut tx, id, ids, now).await?;
        }
    }
    let after = store::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "campaign.updated", ("campaign", id), Some(snapshot(&current)), Some(snapshot(&after)))
        .await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn get(scope: &Scope, id: &str) -> ApiResult<Campaign> {
    store::get(&mut scope.read().await?, id).await?.ok_or_else(ApiError::not_found)
}

/// Deletes a draft (a campaign that has dialed stays as the record of its calls).
pub async fn delete(state: &AppState, scope: &Scope, id: &str) -> ApiResult<()> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let c = store::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    if c.status != "draft" {
        return Err(ApiError::new(
            Code::CampaignState,
            format!("A {} campaign is kept with its calls; only drafts are deleted.", c.status),
        ));
    }
    store::delete(&mut tx, id).await?;
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "campaign.deleted", ("campaign", id), Some(snapshot(&c)), None)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// `data` of the `campaign.*` events.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignEventData {
    pub campaign_id: String,
    pub name: String,
    pub agent_id: String,
    /// The status it moved to.
    pub status: String,
    /// Why it paused by itself (`insufficient_funds`, `agent_inactive`, ...).
    pub reason: Option<String>,
    pub progress: Progress,
}

/// Records a transition in the transaction that made it: the audit event and the
/// `campaign.<event>` webhook event.
async fn announce(
    tx: &mut impl InWorkspace,
    auditor: &Auditor<'_>,
    before: &Campaign,
    after: &Campaign,
    event: &str,
    now: i64,
) -> ApiResult<bool> {
    auditor
        .record_product(
            tx,
            &format!("campaign.{event}"),
            ("campaign", &after.id),
            Some(snapshot(before)),
            Some(snapshot(after)),
        )
        .await?;
    let data = CampaignEventData {
        campaign_id: after.id.clone(),
        name: after.name.clone(),
        agent_id: after.agent_id.clone(),
        status: after.status.clone(),
        reason: after.pause_reason.clone(),
        progress: progress(tx, &after.id).await?,
    };
    events::emit(tx, &format!("campaign.{event}"), Some(&after.agent_id), data, now).await
}

/// A lifecycle action by a person: `start`, `pause`, `resume` or `cancel`.
pub async fn act(state: &AppState, scope: &Scope, id: &str, action: &str) -> ApiResult<Campaign> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let before = store::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    if !campaign::allows(&before.status, action) {
        return Err(ApiError::new(Code::CampaignState, format!("A {} campaign cannot {action}.", before.status)));
    }
    let later = before.start_at.is_some_and(|at| at > now);
    let (to, event) = match action {
        "start" | "resume" if later => ("scheduled", if action == "start" { "scheduled" } else { "resumed" }),
        "start" => ("running", "started"),
        "resume" => ("running", "resumed"),
        "pause" => ("paused", "paused"),
        _ => ("cancelled", "cancelled"),
    };
    if action == "start" {
        let agent = agents::get(&mut tx, &before.agent_id).await?;
        if agent.is_none_or(|a| a.status != "active") {
            return Err(ApiError::invalid("agent_id", "is inactive; activate the agent to start the campaign"));
        }
        if store::numbers(&mut tx, id).await?.is_empty() {
            return Err(ApiError::invalid("number_ids", "name at least one number to call from"));
        }
        // A scheduled campaign takes its audience when it starts dialing.
        if !later {
            take_audience(&mut tx, &before, now).await?;
            if store::open_targets(&mut tx, id).await? == (0, 0) {
                return Err(ApiError::new(
                    Code::AudienceEmpty,
                    "No contact of the workspace matches the campaign's audience.",
                ));
            }
        }
    }
    let started_by = matches!(action, "start" | "resume").then(|| scope.principal().user_id());
    store::transition(&mut tx, id, &before.status, to, None, started_by, now).await?;
    let after = store::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let told = announce(&mut tx, &Auditor::for_scope(scope, now), &before, &after, event, now).await?;
    tx.commit().await?;
    if told {
        state.webhook_wakeup.notify_one();
    }
    state.dialer_wakeup.notify_one();
    Ok(after)
}

/// The campaign's targets as it starts dialing: the contacts its filter matches now
/// (contacts added later are not called), or its list, due at once.
pub async fn take_audience(tx: &mut impl InWorkspace, c: &Campaign, now: i64) -> ApiResult<()> {
    if c.audience_list {
        store::targets_due_at(tx, &c.id, now).await?;
    } else {
        let f = Filter { tag: c.audience_tag.as_deref(), q: c.audience_q.as_deref(), ..Filter::default() };
        store::add_matching(tx, &c.id, &f, now).await?;
    }
    Ok(())
}

/// A transition the dialer makes by itself (`running` → `running` from `scheduled`,
/// `completed`, or `paused` with a reason), in the dialer's transaction; the actor on
/// record is the person the campaign dials for.
pub async fn transition_by_dialer(
    tx: &mut impl InWorkspace,
    auditor: &Auditor<'_>,
    before: &Campaign,
    to: &str,
    reason: Option<&str>,
    now: i64,
) -> ApiResult<bool> {
    if !store::transition(tx, &before.id, &before.status, to, reason, None, now).await? {
        return Ok(false);
    }
    let after = store::get(tx, &before.id).await?.ok_or_else(ApiError::not_found)?;
    let event = match to {
        "running" => "started",
        "completed" => "completed",
        _ => "paused",
    };
    announce(tx, auditor, before, &after, event, now).await
}

/// A campaign's call has ended (in the transaction that ended it): the target's attempt
/// is over, and it is retried after the campaign's delay when its status is one the
/// campaign retries and attempts are left. Returns whether a target moved.
pub async fn call_ended(tx: &mut impl InWorkspace, call: &Call, now: i64) -> ApiResult<bool> {
    let (Some(campaign_id), Some(contact_id)) = (&call.campaign_id, &call.contact_id) else { return Ok(false) };
    let Some(c) = store::get(tx, campaign_id).await? else { return Ok(false) };
    let attempts = store::attempts(tx, campaign_id, contact_id).await?.unwrap_or(0);
    let retry = c.retry_on.split(' ').any(|s| s == call.status)
        && attempts < c.max_attempts
        && !matches!(c.status.as_str(), "cancelled" | "completed");
    let retry_at = retry.then(|| now + c.retry_delay_secs * 1000);
    Ok(store::attempt_ended(tx, campaign_id, contact_id, &call.id, &call.status, retry_at, now).await?)
}
