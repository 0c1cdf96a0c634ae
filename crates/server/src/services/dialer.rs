//! The dialer (SPEC P6): places the calls of running campaigns from durable state in
//! each region database, through the same path as `POST /calls` (validation, pricing,
//! the wallet).
//!
//! A pass over a campaign, in one transaction holding the campaign's row (PostgreSQL:
//! `FOR UPDATE`, so replicas take turns):
//! 1. a scheduled campaign whose start came runs; a running one with nothing left to
//!    dial completes;
//! 2. the budget: the campaign's concurrency, the workspace's and the account's calls in
//!    flight, and its pace (`paced_until_us`, shared by every replica);
//! 3. due targets: do-not-call and opted-out contacts are skipped; a contact outside the
//!    calling window (in its own time zone, else the campaign's) waits for the next
//!    opening; the rest, up to the budget, are claimed with a lease.
//!
//! Then each claimed attempt is placed with the idempotency key of its attempt
//! (`campaign:<id>:<contact>:<n>`) and the call recorded on the target. A crash between
//! the claim and the record leaves the claim leased with no call: when the lease ends
//! (at once on SQLite, at the next start) it is placed again with the same key, which
//! finds the first call if there was one. So a contact is dialed once per attempt, even
//! across crashes and replicas. The call's end moves the target on, in the call's own
//! transaction (`campaigns::call_ended`).

use std::collections::HashMap;
use std::time::Duration;

use callplane_domain::campaign::{attempt_key, zone, TimeZone};
use callplane_domain::Principal;
use callplane_store::access::Scope;
use callplane_store::product::calls;
use callplane_store::product::campaigns::{self as store, Active};
use callplane_store::regions::RegionDb;
use futures_util::StreamExt;

use crate::error::{ApiError, ApiResult, Code};
use crate::services::audit::Auditor;
use crate::services::calls::{self as call_svc, PlaceInput};
use crate::services::campaigns::{take_audience, transition_by_dialer, window_of};
use crate::state::AppState;

/// Calls in flight per workspace and per account, across every region database.
#[derive(Debug, Default)]
struct InFlight {
    workspace: HashMap<String, i64>,
    account: HashMap<String, i64>,
}

impl InFlight {
    async fn read(state: &AppState) -> ApiResult<Self> {
        let mut out = Self::default();
        for region in state.regions.databases() {
            for (ws, account, n) in calls::in_flight(region).await? {
                *out.workspace.entry(ws).or_default() += n;
                *out.account.entry(account).or_default() += n;
            }
        }
        Ok(out)
    }
}

/// One pass over every running campaign; returns how many attempts it placed.
pub async fn work_once(state: &AppState) -> usize {
    // Campaigns first: with none running, a pass costs one read per region database.
    let mut active = Vec::new();
    for region in state.regions.databases() {
        match store::active(region).await {
            Ok(a) => active.extend(a.into_iter().map(|a| (region, a))),
            Err(e) => tracing::warn!(error = %e, "reading running campaigns"),
        }
    }
    if active.is_empty() {
        return 0;
    }
    let mut in_flight = match InFlight::read(state).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e.detail, "counting calls in flight");
            return 0;
        }
    };
    let mut placed = 0;
    for (region, a) in &active {
        match dial_campaign(state, region, a, &mut in_flight).await {
            Ok(n) => placed += n,
            Err(e) => tracing::warn!(campaign = %a.id, error = %e.detail, "dialing a campaign; retried next pass"),
        }
    }
    placed
}

/// The person the campaign dials for (who started or last resumed it), and their scope
/// in the workspace: `None` when they no longer reach it or it is inactive.
async fn dialing_scope(state: &AppState, a: &Active) -> ApiResult<(Principal, Option<Scope>)> {
    let user_id = a.started_by.clone().unwrap_or_default();
    let mut conn = state.db.conn().await?;
    let email = callplane_store::users::get(&mut conn, &user_id).await?.map(|u| u.email).unwrap_or_default();
    let principal = Principal::User { user_id, session_id: String::new(), email };
    let scope = callplane_store::access::resolve(&mut conn, &state.regions, &principal, &a.workspace_id).await?;
    Ok((principal, scope.filter(|s| s.is_active())))
}

/// A claimed attempt to place.
struct Attempt {
    contact_id: String,
    attempt: i64,
}

/// One campaign's pass (see the module comment); returns the attempts placed.
async fn dial_campaign(state: &AppState, region: &RegionDb, a: &Active, in_flight: &mut InFlight) -> ApiResult<usize> {
    let now = state.now();
    if a.status == "scheduled" && a.start_at.is_some_and(|at| at > now) {
        return Ok(0);
    }
    let (principal, scope) = dialing_scope(state, a).await?;
    let auditor = Auditor { account_id: &a.account_id, workspace_id: Some(&a.workspace_id), actor: &principal, now };
    let Some(scope) = scope else {
        pause(state, region, a, &auditor, "access_lost").await?;
        return Ok(0);
    };

    // 1.–3. in one transaction holding the campaign.
    let mut tx = store::begin_dialing(region, a).await?;
    let Some(mut campaign) = store::get(&mut tx, &a.id).await? else { return Ok(0) };
    let mut told = false;
    if campaign.status == "scheduled" && campaign.start_at.is_none_or(|at| at <= now) {
        if campaign.started_at.is_none() {
            take_audience(&mut tx, &campaign, now).await?;
        }
        told |= transition_by_dialer(&mut tx, &auditor, &campaign, "running", None, now).await?;
        campaign = store::get(&mut tx, &a.id).await?.ok_or_else(ApiError::not_found)?;
    }
    if campaign.status != "running" {
        tx.commit().await?;
        return Ok(0);
    }
    let (pending, dialing) = store::open_targets(&mut tx, &a.id).await?;
    if pending + dialing == 0 {
        told |= transition_by_dialer(&mut tx, &auditor, &campaign, "completed", None, now).await?;
        tx.commit().await?;
        if told {
            state.webhook_wakeup.notify_one();
        }
        return Ok(0);
    }
    let limits = &state.config.campaigns;
    let ws_busy = in_flight.workspace.get(&a.workspace_id).copied().unwrap_or(0);
    let account_busy = in_flight.account.get(&a.account_id).copied().unwrap_or(0);
    let now_us = now * 1000;
    let paced = campaign.paced_until_us.max(now_us);
    // At most a second's worth of dials ahead of the pace.
    let allowance = (now_us + 1_000_000 - paced) * campaign.calls_per_second / 1_000_000;
    let budget = (campaign.max_concurrency - dialing)
        .min(limits.max_concurrency_per_workspace - ws_busy)
        .min(limits.max_concurrency_per_account - account_busy)
        .min(allowance)
        .max(0);

    let due = store::due(&mut tx, &a.id, now, budget.max(64)).await?;
    let window = window_of(&campaign);
    let campaign_tz = zone(&campaign.timezone);
    let mut zones: HashMap<String, Option<TimeZone>> = HashMap::new();
    let mut picked: Vec<&str> = Vec::new();
    let mut fresh = 0i64;
    for t in &due {
        if t.state == "dialing" {
            // A claim whose call was never recorded: the same attempt again.
            picked.push(&t.contact_id);
            continue;
        }
        if t.do_not_call || t.opted_out {
            let outcome = if t.do_not_call { "do_not_call" } else { "opted_out" };
            store::finish(&mut tx, &a.id, &t.contact_id, "skipped", outcome, None, now).await?;
            continue;
        }
        let tz = match &t.timezone {
            Some(name) => zones.entry(name.clone()).or_insert_with(|| zone(name)).clone(),
            None => None,
        }
        .or_else(|| campaign_tz.clone())
        .unwrap_or(TimeZone::UTC);
        if !window.is_open(&tz, now) {
            store::postpone(&mut tx, &a.id, &t.contact_id, window.next_open(&tz, now)).await?;
            continue;
        }
        if fresh < budget {
            fresh += 1;
            picked.push(&t.contact_id);
        }
    }
    let lease_until = now + state.config.workers.lease_secs * 1000;
    let claimed: Vec<Attempt> = store::claim(&mut tx, &a.id, &picked, lease_until, now)
        .await?
        .into_iter()
        .map(|(contact_id, attempt)| Attempt { contact_id, attempt })
        .collect();
    if fresh > 0 {
        store::set_paced_until(&mut tx, &a.id, paced + fresh * 1_000_000 / campaign.calls_per_second).await?;
    }
    tx.commit().await?;
    if told {
        state.webhook_wakeup.notify_one();
    }
    *in_flight.workspace.entry(a.workspace_id.clone()).or_default() += fresh;
    *in_flight.account.entry(a.account_id.clone()).or_default() += fresh;
    if claimed.is_empty() {
        return Ok(0);
    }

    // Place each attempt with its key, in batches (a batch's holds are one control
    // transaction and its calls one region transaction); record the call on the target.
    let numbers = store::numbers(&mut scope.read().await?, &a.id).await?;
    let inputs: Vec<PlaceInput> = claimed
        .iter()
        .enumerate()
        .map(|(i, at)| PlaceInput {
            agent_id: campaign.agent_id.clone(),
            from_number_id: numbers.get(i % numbers.len().max(1)).cloned(),
            to: None,
            contact_id: Some(at.contact_id.clone()),
            idempotency_key: Some(attempt_key(&a.id, &at.contact_id, at.attempt)),
            campaign_id: Some(a.id.clone()),
            // The campaign's trunk, else the workspace's provider decides (on
            // SIP/BYOC, its preferred trunk).
            sip_trunk_id: campaign.sip_trunk_id.clone(),
        })
        .collect();
    let batches: Vec<Vec<PlaceInput>> = inputs.chunks(PLACE_BATCH).map(<[PlaceInput]>::to_vec).collect();
    let placed_batches: Vec<Vec<ApiResult<(calls::Call, bool)>>> = futures_util::stream::iter(batches)
        .map(|batch| {
            let scope = &scope;
            async move { call_svc::place_many(state, scope, &batch).await }
        })
        .buffered(PLACE_BATCHES_AT_ONCE)
        .collect()
        .await;
    let outcomes: Vec<(Attempt, ApiResult<calls::Call>)> = claimed
        .into_iter()
        .zip(placed_batches.into_iter().flatten())
        .map(|(at, placed)| (at, placed.map(|(call, _)| call)))
        .collect();
    let mut placed = 0;
    let mut stop: Option<&'static str> = None;
    let mut tx = scope.begin().await?;
    for (at, result) in &outcomes {
        match result {
            Ok(call) => {
                placed += 1;
                store::record_call(&mut tx, &a.id, &at.contact_id, at.attempt, &call.id, now).await?;
            }
            Err(e) => match why_stop(e) {
                Some(reason) => {
                    stop = Some(reason);
                    store::release(&mut tx, &a.id, &at.contact_id, now).await?;
                }
                None if e.code == Code::ContactNotCallable => {
                    let outcome = if e.detail.contains("do not call") { "do_not_call" } else { "opted_out" };
                    store::finish(&mut tx, &a.id, &at.contact_id, "skipped", outcome, None, now).await?;
                }
                None if e.code.status().is_client_error() => {
                    // This contact cannot be called (its number is not enabled, ...).
                    store::finish(&mut tx, &a.id, &at.contact_id, "done", "failed", Some(&e.detail), now).await?;
                }
                None => {
                    tracing::warn!(campaign = %a.id, error = %e.detail, "placing a campaign call; retried when its lease ends");
                }
            },
        }
    }
    tx.commit().await?;
    if let Some(reason) = stop {
        pause(state, region, a, &auditor, reason).await?;
    }
    Ok(placed)
}

/// How many attempts are placed together, and how many such batches at once (one
/// prepares while another writes).
const PLACE_BATCH: usize = 64;
const PLACE_BATCHES_AT_ONCE: usize = 3;

/// Errors that stop the whole campaign rather than one contact: the reason it pauses.
fn why_stop(e: &ApiError) -> Option<&'static str> {
    match e.code {
        Code::InsufficientFunds => Some("insufficient_funds"),
        Code::ValidationFailed if e.detail.starts_with("agent_id:") => Some("agent_inactive"),
        Code::ValidationFailed if e.detail.starts_with("from_number_id:") => Some("number_unavailable"),
        _ => None,
    }
}

/// Pauses a running campaign by itself, with the reason shown to its users.
async fn pause(state: &AppState, region: &RegionDb, a: &Active, auditor: &Auditor<'_>, reason: &str) -> ApiResult<()> {
    let now = state.now();
    let mut tx = store::begin_dialing(region, a).await?;
    let Some(current) = store::get(&mut tx, &a.id).await? else { return Ok(()) };
    if !matches!(current.status.as_str(), "running" | "scheduled") {
        return Ok(());
    }
    let told = transition_by_dialer(&mut tx, auditor, &current, "paused", Some(reason), now).await?;
    tx.commit().await?;
    tracing::info!(campaign = %a.id, reason, "campaign paused by the dialer");
    if told {
        state.webhook_wakeup.notify_one();
    }
    Ok(())
}

/// Dials: woken when a campaign starts or resumes or one of its calls ends, else every
/// quarter second (pace, windows and retry delays come due on their own).
pub async fn run_worker(state: AppState) {
    if !state.config.campaigns.dialer {
        return;
    }
    for region in state.regions.databases() {
        if region.backend() == "sqlite" {
            if let Err(e) = store::release_leases(region).await {
                tracing::warn!(error = %e, "releasing dial claims");
            }
        }
    }
    loop {
        let placed = work_once(&state).await;
        if placed == 0 {
            tokio::select! {
                _ = state.dialer_wakeup.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    }
}
