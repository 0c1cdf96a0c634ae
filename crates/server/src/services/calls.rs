//! Calls (SPEC P7, B2): placing an outbound call (validated against the workspace's
//! telephony configuration, priced by its network group, its minimum set aside in the
//! account's wallet), the lifecycle worker that plays the carrier's steps out on durable
//! state, cancelling, and settling each call's money exactly once.
//!
//! A call's money crosses databases (the call in its region, the wallet in the control
//! database), so it moves in steps keyed by the call id, each safe to repeat:
//! 1. hold the minimum (control) — a hold whose call never reaches its region database
//!    is released by the sweeper;
//! 2. insert the call (region);
//! 3. on answer, extend the hold to cover the call's limit as far as the wallet allows
//!    (control), then mark it in progress with the limit it may talk (region);
//! 4. when it ends, record duration and cost (region), settle the hold (control), mark
//!    the call settled (region). A crash between 4's steps leaves an ended, unsettled
//!    call, which the worker settles again (the wallet charges a call once).

use std::time::Duration;

use callplane_domain::id::new_id;
use callplane_domain::telephony::{billed_minutes, cost, ProviderKind};
use callplane_store::access::Scope;
use callplane_store::product::calls::{self, Call, NewCall, Step, Work};
use callplane_store::product::{agents, contacts, phone_numbers};
use callplane_store::regions::RegionDb;
use callplane_telephony::Answer;

use crate::error::{ApiError, ApiResult, Code};
use crate::services::{call_outputs, campaigns, events, sip_calls, telephony, wallet};
use crate::state::AppState;

/// What placing a call asks for.
#[derive(Debug, Clone, Default)]
pub struct PlaceInput {
    pub agent_id: String,
    /// A number of the workspace to call from; default: one answering for the agent,
    /// else the workspace's first active number.
    pub from_number_id: Option<String>,
    /// The destination, or a contact whose phone it is.
    pub to: Option<String>,
    pub contact_id: Option<String>,
    pub idempotency_key: Option<String>,
    /// The campaign whose dialer places it (not settable through the API).
    pub campaign_id: Option<String>,
    /// A SIP trunk of the workspace to place it through (a test call, or a choice):
    /// priced at the SIP/BYOC flat rate whatever provider the workspace uses.
    pub sip_trunk_id: Option<String>,
}

/// Places an outbound call; `false` when the Idempotency-Key named an earlier one.
pub async fn place(state: &AppState, scope: &Scope, input: &PlaceInput) -> ApiResult<(Call, bool)> {
    let mut placed = place_many(state, scope, std::slice::from_ref(input)).await;
    placed.pop().unwrap_or_else(|| Err(ApiError::internal("no call placed")))
}

/// Places outbound calls of one workspace together (the dialer's batches), each
/// checked, priced and held exactly as one placed alone: the holds are one control
/// transaction, the calls one region transaction. Answers each input's outcome, in
/// order; `false` when its Idempotency-Key named an earlier call.
pub async fn place_many(state: &AppState, scope: &Scope, inputs: &[PlaceInput]) -> Vec<ApiResult<(Call, bool)>> {
    let mut out: Vec<Option<ApiResult<(Call, bool)>>> = Vec::with_capacity(inputs.len());
    let mut ready: Vec<(usize, Ready)> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        match prepare(state, scope, input).await {
            Ok(Prepared::Earlier(call)) => out.push(Some(Ok((call, false)))),
            Ok(Prepared::Ready(r)) => {
                out.push(None);
                ready.push((i, r));
            }
            Err(e) => out.push(Some(Err(e))),
        }
    }
    // 1. The minimum (one minute) of each set aside; 2. the calls.
    let held = match hold_all(state, scope, &ready).await {
        Ok(h) => h,
        Err(e) => {
            for (i, _) in &ready {
                out[*i] = Some(Err(e.clone()));
            }
            return answered(out);
        }
    };
    let mut to_create = Vec::new();
    for ((i, r), ok) in ready.into_iter().zip(held) {
        match ok {
            Ok(()) => to_create.push((i, r)),
            Err(e) => out[i] = Some(Err(e)),
        }
    }
    if to_create.is_empty() {
        return answered(out);
    }
    crate::failpoint::hit("call.place.after_hold");
    let now = state.now();
    let created = async {
        let mut tx = scope.begin().await?;
        let mut calls_made = Vec::with_capacity(to_create.len());
        for (_, r) in &to_create {
            let mut call = calls::create(&mut tx, &r.as_new_call(now), now).await?;
            if let Some(trunk) = &r.sip_trunk_id {
                let pinned = serde_json::json!({ "trunk_id": trunk }).to_string();
                calls::set_sip(&mut tx, &r.id, &pinned).await?;
                call.sip = Some(pinned);
            }
            events::call_changed(&mut tx, &call, now).await?;
            calls_made.push(call);
        }
        tx.commit().await?;
        Ok::<_, ApiError>(calls_made)
    }
    .await;
    match created {
        Ok(made) => {
            for ((i, _), call) in to_create.iter().zip(made) {
                out[*i] = Some(Ok((call, true)));
            }
            state.call_wakeup.notify_one();
            state.webhook_wakeup.notify_one();
        }
        Err(e) => {
            // Not placed: nothing set aside stays (a concurrent request with the same
            // Idempotency-Key won the race: answer its call).
            for (i, r) in &to_create {
                let answer = match wallet::settle(state, &r.id, 0, "not placed").await {
                    Err(release) => Err(release),
                    Ok(_) => match inputs[*i].idempotency_key.as_deref() {
                        Some(key) => earlier(scope, key).await.map(|call| (call, false)).ok_or_else(|| e.clone()),
                        None => Err(e.clone()),
                    },
                };
                out[*i] = Some(answer);
            }
        }
    }
    answered(out)
}

/// Each input's answer (every one is set by then).
fn answered(out: Vec<Option<ApiResult<(Call, bool)>>>) -> Vec<ApiResult<(Call, bool)>> {
    out.into_iter().map(|o| o.unwrap_or_else(|| Err(ApiError::internal("not placed")))).collect()
}

/// The call an Idempotency-Key already names, if any.
async fn earlier(scope: &Scope, key: &str) -> Option<Call> {
    calls::by_key(&mut scope.read().await.ok()?, key).await.ok().flatten()
}

/// What placing one call resolved to before any money moves.
enum Prepared {
    /// Its Idempotency-Key named an earlier call.
    Earlier(Call),
    Ready(Ready),
}

/// A call checked and priced, ready to be held and created.
struct Ready {
    id: String,
    agent_id: String,
    phone_number_id: String,
    contact_id: Option<String>,
    from_e164: String,
    to_e164: String,
    provider: String,
    network_group: Option<String>,
    rate: i64,
    max_seconds: i64,
    idempotency_key: Option<String>,
    campaign_id: Option<String>,
    sip_trunk_id: Option<String>,
}

impl Ready {
    fn as_new_call(&self, now: i64) -> NewCall<'_> {
        NewCall {
            id: &self.id,
            direction: "outbound",
            agent_id: Some(&self.agent_id),
            phone_number_id: Some(&self.phone_number_id),
            contact_id: self.contact_id.as_deref(),
            from_e164: &self.from_e164,
            to_e164: &self.to_e164,
            provider: &self.provider,
            network_group: self.network_group.as_deref(),
            rate: self.rate,
            held: self.rate,
            max_seconds: self.max_seconds,
            idempotency_key: self.idempotency_key.as_deref(),
            campaign_id: self.campaign_id.as_deref(),
            next_step_at: now,
        }
    }
}

/// Sets each call's minimum aside, in one control transaction; each call's answer.
async fn hold_all(state: &AppState, scope: &Scope, ready: &[(usize, Ready)]) -> ApiResult<Vec<ApiResult<()>>> {
    let holds: Vec<(&str, i64)> = ready.iter().map(|(_, r)| (r.id.as_str(), r.rate)).collect();
    wallet::hold_many(state, scope.account_id(), scope.workspace_id(), &holds).await
}

async fn prepare(state: &AppState, scope: &Scope, input: &PlaceInput) -> ApiResult<Prepared> {
    if let Some(key) = &input.idempotency_key {
        if let Some(call) = calls::by_key(&mut scope.read().await?, key).await? {
            return Ok(Prepared::Earlier(call));
        }
    }
    let mut read = scope.read().await?;
    let agent = agents::get(&mut read, &input.agent_id)
        .await?
        .ok_or_else(|| ApiError::invalid("agent_id", "is not an agent of this workspace"))?;
    if agent.status != "active" {
        return Err(ApiError::invalid("agent_id", "is inactive; activate the agent to place calls"));
    }
    let from = match &input.from_number_id {
        Some(id) => phone_numbers::get(&mut read, id)
            .await?
            .filter(|n| n.status == "active")
            .ok_or_else(|| ApiError::invalid("from_number_id", "is not an active number of this workspace"))?,
        None => {
            let active = phone_numbers::list(&mut read, Some("active"), None, 500).await?;
            let agents_own = active.iter().find(|n| n.agent_id.as_deref() == Some(agent.id.as_str())).cloned();
            agents_own.or_else(|| active.into_iter().next()).ok_or_else(|| {
                ApiError::invalid("from_number_id", "the workspace has no active number to call from; buy one first")
            })?
        }
    };
    let (to_raw, contact_id) = match (&input.to, &input.contact_id) {
        (_, Some(id)) => {
            let c = contacts::get(&mut read, id)
                .await?
                .ok_or_else(|| ApiError::invalid("contact_id", "is not a contact of this workspace"))?;
            if c.do_not_call || c.opted_out {
                return Err(ApiError::new(
                    Code::ContactNotCallable,
                    format!("The contact is marked {}.", if c.do_not_call { "do not call" } else { "opted out" }),
                ));
            }
            (c.phone.clone(), Some(c.id))
        }
        (Some(to), None) => (to.clone(), None),
        (None, None) => return Err(ApiError::invalid("to", "give a destination number or a contact_id")),
    };
    drop(read);
    let country = crate::services::agents::default_country(state, scope).await?;
    let to = callplane_domain::contact::parse_phone(&to_raw, &country)
        .map_err(|e| ApiError::invalid(if contact_id.is_some() { "contact_id" } else { "to" }, e.message))?
        .e164;
    let config = telephony::config(state, scope).await?;
    let (provider, group, rate) = match &input.sip_trunk_id {
        Some(trunk) => {
            let sip = sip_calls::check_trunk(state, scope, trunk).await?;
            (sip.id.clone(), None, sip.flat_rate.unwrap_or(0))
        }
        None => match telephony::route(&config, &to)? {
            telephony::Route::Group { group, .. } => (config.provider.clone(), Some(group.id), group.outbound_rate),
            telephony::Route::Sip { flat_rate } => {
                sip_calls::check_can_dial(state, scope).await?;
                (config.provider.clone(), None, flat_rate)
            }
        },
    };

    Ok(Prepared::Ready(Ready {
        id: new_id("call"),
        agent_id: agent.id,
        phone_number_id: from.id,
        contact_id,
        from_e164: from.e164,
        to_e164: to,
        provider,
        network_group: group,
        rate,
        max_seconds: agent.max_call_seconds,
        idempotency_key: input.idempotency_key.clone(),
        campaign_id: input.campaign_id.clone(),
        sip_trunk_id: input.sip_trunk_id.clone(),
    }))
}

/// Cancels a call in flight: ringing ends it unanswered; in progress ends it with the
/// time talked so far, charged by the minute, its transcript cut there.
pub async fn cancel(state: &AppState, scope: &Scope, id: &str) -> ApiResult<Call> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let call = calls::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    if call.has_ended() {
        return Err(ApiError::new(Code::CallEnded, format!("The call has already ended ({}).", call.status)));
    }
    let sip = is_sip(state, &call.provider);
    if sip && sip_calls::hang_up(state, id) {
        // This process carries it: the hang-up ends it with what the media carried.
        drop(tx);
        return sip_calls::wait_ended(scope, id).await;
    }
    // A SIP call's time is real time; the simulated carrier's may run faster.
    let since = |at: i64| if sip { (now - at) / 1000 } else { simulated_secs(state, now - at) };
    let talked = call.answered_at.map_or(0, |at| since(at).clamp(0, call.max_seconds));
    if call.answered_at.is_some() && !sip {
        let (artifacts, _) = call_outputs::build(&mut tx, &call, talked, talked, scope.workspace_name(), now).await?;
        calls::save_artifacts(&mut tx, &call.id, &artifacts).await?;
    }
    let step = Step { detail: Some("canceled through the API"), ..priced(&call, "canceled", "canceled", talked) };
    let Some(after) = calls::advance(&mut tx, id, &call.status, &step, now).await? else {
        return Err(ApiError::new(Code::CallEnded, "The call changed meanwhile; reload it."));
    };
    events::call_changed(&mut tx, &after, now).await?;
    let campaign_moved = campaigns::call_ended(&mut tx, &after, now).await?;
    tx.commit().await?;
    state.webhook_wakeup.notify_one();
    if campaign_moved {
        state.dialer_wakeup.notify_one();
    }
    let call = calls::get(&mut scope.read().await?, id).await?.ok_or_else(ApiError::not_found)?;
    wallet::settle(state, &call.id, call.cost, &charge_note(&call)).await?;
    let mut tx = scope.begin().await?;
    calls::mark_settled(&mut tx, &[id]).await?;
    tx.commit().await?;
    calls::get(&mut scope.read().await?, id).await?.ok_or_else(ApiError::not_found)
}

/// Real milliseconds for simulated ones (`calls.time_scale` compresses the simulated
/// carrier's time; durations and prices stay as simulated).
fn real_ms(state: &AppState, simulated_ms: i64) -> i64 {
    (simulated_ms as f64 / state.config.calls.time_scale).ceil() as i64
}

/// Simulated seconds in `real_ms` real milliseconds.
fn simulated_secs(state: &AppState, real_ms: i64) -> i64 {
    (real_ms as f64 * state.config.calls.time_scale / 1000.0).floor() as i64
}

/// The ledger's words for a call's charge.
pub(crate) fn charge_note(call: &Call) -> String {
    match call.direction.as_str() {
        "inbound" => format!("inbound call from {}", call.from_e164),
        _ => format!("call to {}", call.to_e164),
    }
}

/// What the platform says on a number with no agent, before hanging up.
pub const NO_AGENT_SECONDS: i64 = 6;

/// An inbound call from `from` to `to` (the carrier delivers it; the simulator triggers
/// one): it reaches the workspace holding the number, answered by the number's agent,
/// or by an announcement when the number has none. It is priced by the inbound rate of
/// the number's network group (SIP/BYOC: the flat rate) and needs a minute's funds:
/// without them it is recorded as refused (`insufficient_funds`).
pub async fn receive(state: &AppState, from: &str, to: &str) -> ApiResult<Call> {
    let e164 = |field: &str, raw: &str| {
        callplane_domain::contact::parse_phone(raw, "").map(|p| p.e164).map_err(|e| {
            ApiError::invalid(field, format!("{} (give the number in E.164, +<country><number>)", e.message))
        })
    };
    let (from, to) = (e164("from", from)?, e164("to", to)?);
    let held = callplane_store::carrier::holder(&mut state.db.conn().await?, state.provider.id(), &to)
        .await?
        .ok_or_else(|| ApiError::invalid("to", "no workspace holds this number"))?;
    Ok(admit(state, &from, &held, Via::Simulated).await?.call)
}

/// How an inbound call reached the platform.
#[derive(Debug, Clone, Copy)]
pub enum Via {
    /// The simulated carrier: the call worker plays its script out.
    Simulated,
    /// A SIP trunk: the process that answered carries it, renewing its lease; the call
    /// worker ends it if that process is gone when the lease (`lease_until`, ms) ends.
    Sip { lease_until: i64 },
}

/// An inbound call let in: the call (ringing for SIP; refused calls have ended), and
/// where its work happens.
pub struct Admitted {
    pub call: Call,
    pub work: Work,
    pub region: String,
}

/// Records an inbound call from `from` to the number `held`, priced and held in the
/// wallet (see [`receive`]).
pub async fn admit(
    state: &AppState,
    from: &str,
    held: &callplane_store::carrier::Allocation,
    via: Via,
) -> ApiResult<Admitted> {
    let mut conn = state.db.conn().await?;
    let region_id = callplane_store::workspaces::region_of(&mut conn, &held.workspace_id).await?;
    let account = callplane_store::workspaces::account_of(&mut conn, &held.workspace_id).await?;
    drop(conn);
    let (Some(region_id), Some(account)) = (region_id, account) else {
        return Err(ApiError::invalid("to", "no workspace holds this number"));
    };
    let region =
        &state.regions.get(&region_id).ok_or_else(|| ApiError::invalid("to", "no workspace holds this number"))?.db;
    let w = Work { workspace_id: held.workspace_id.clone(), account_id: account.clone(), id: new_id("call") };

    // What the region database knows: the number, its agent, the caller as a contact,
    // and the workspace's provider.
    let mut tx = calls::begin_work(region, &w).await?;
    let number = phone_numbers::get(&mut tx, &held.phone_number_id)
        .await?
        .filter(|n| n.status == "active")
        .ok_or_else(|| ApiError::invalid("to", "the number is not in service"))?;
    let agent = match &number.agent_id {
        Some(id) => agents::get(&mut tx, id).await?.filter(|a| a.status == "active"),
        None => None,
    };
    let contact = contacts::get_by_phone(&mut tx, from).await?;
    let provider = callplane_store::product::telephony::settings(&mut tx).await?.map(|s| s.provider);
    drop(tx);
    let routes = telephony::routes(state);
    let catalog = routes.catalog();
    let provider = match via {
        // A call over a trunk is a SIP/BYOC call whatever the workspace dials out with.
        Via::Sip { .. } => catalog.providers.iter().find(|p| p.kind == ProviderKind::Sip),
        Via::Simulated => provider.and_then(|p| catalog.provider(&p)),
    }
    .unwrap_or_else(|| catalog.default_provider());
    let (group, rate) = match provider.flat_rate {
        Some(flat) => (None, flat),
        None => match routes.group_of(&provider.id, &number.e164) {
            Some(g) => (Some(g.id.clone()), g.inbound_rate),
            None => (None, 0),
        },
    };

    let now = state.now();
    let refused = match wallet::hold(state, &account, &w.workspace_id, &w.id, rate).await {
        Ok(()) => false,
        Err(e) if e.code == Code::InsufficientFunds => true,
        Err(e) => return Err(e),
    };
    let new = NewCall {
        id: &w.id,
        direction: "inbound",
        agent_id: agent.as_ref().map(|a| a.id.as_str()),
        phone_number_id: Some(&number.id),
        contact_id: contact.as_ref().map(|c| c.id.as_str()),
        from_e164: from,
        to_e164: &number.e164,
        provider: &provider.id,
        network_group: group.as_deref(),
        rate,
        held: if refused { 0 } else { rate },
        max_seconds: agent.as_ref().map_or(NO_AGENT_SECONDS, |a| a.max_call_seconds),
        idempotency_key: None,
        campaign_id: None,
        next_step_at: now,
    };
    let mut tx = calls::begin_work(region, &w).await?;
    let queued = calls::create(&mut tx, &new, now).await?;
    events::call_changed(&mut tx, &queued, now).await?;
    let step = match (refused, via) {
        (true, _) => Some(Step {
            detail: Some("the account's wallet cannot cover a minute"),
            ..ended("failed", "insufficient_funds", None)
        }),
        (false, Via::Sip { lease_until }) => {
            Some(Step { status: "ringing", next_step_at: Some(lease_until), ..Step::default() })
        }
        (false, Via::Simulated) => None,
    };
    let moved = match &step {
        Some(step) => calls::advance(&mut tx, &w.id, "queued", step, now).await?,
        None => None,
    };
    let call = match moved {
        Some(call) => call,
        None => calls::get(&mut tx, &w.id).await?.ok_or_else(ApiError::not_found)?,
    };
    if step.is_some() {
        events::call_changed(&mut tx, &call, now).await?;
    }
    tx.commit().await?;
    state.call_wakeup.notify_one();
    state.webhook_wakeup.notify_one();
    Ok(Admitted { call, work: w, region: region_id })
}

/// What the worker does with a due call, decided outside any transaction.
enum Plan {
    /// Nothing is due (it moved meanwhile, or its step is later).
    Nothing,
    /// It ended; its money is still to settle.
    Settle(Call),
    /// It goes over SIP: this process's agent steps it.
    Sip(Call),
    /// A step of the simulated carrier.
    Step(Box<Planned>),
}

/// A simulated call's next step, with what it writes.
struct Planned {
    call: Call,
    step: Step<'static>,
    /// Seconds the other side would talk.
    script_secs: i64,
    /// Answered: the hold is first extended to this (control database).
    hold_up_to: Option<i64>,
    /// The transcript and analysis, written with the status that ends the call.
    artifacts: Option<calls::Artifacts>,
}

/// Reads a due call and decides its step. Only reads (each on a read connection, no
/// transaction): the writer is held only to write, and `advance` moves the call only
/// from the status read here.
async fn plan(state: &AppState, region: &RegionDb, w: &Work, workspace_name: &str, now: i64) -> ApiResult<Plan> {
    let mut conn = calls::read_work(region, w).await?;
    let Some(call) = calls::get(&mut conn, &w.id).await? else { return Ok(Plan::Nothing) };
    if call.has_ended() {
        return Ok(if call.settled { Plan::Nothing } else { Plan::Settle(call) });
    }
    if call.next_step_at.is_none_or(|at| at > now) {
        return Ok(Plan::Nothing);
    }
    if is_sip(state, &call.provider) {
        return Ok(Plan::Sip(call));
    }
    let inbound = call.direction == "inbound";
    let script = match inbound {
        true => state.provider.receive(&call.from_e164),
        false => state.provider.place(&call.to_e164),
    };
    let script_secs = match script.answer {
        Answer::Talk { seconds } if call.agent_id.is_some() || !inbound => seconds,
        // A number without an agent answers with an announcement, then hangs up.
        _ if inbound => NO_AGENT_SECONDS,
        _ => 0,
    };
    let (mut step, mut hold_up_to, mut artifacts) = (Step::default(), None, None);
    match (call.status.as_str(), script.answer) {
        ("queued", _) => {
            step = Step { status: "ringing", next_step_at: Some(now + real_ms(state, script.ring_ms)), ..step }
        }
        // 3. Answered: the hold grows to cover the call's limit first (`talking`).
        ("ringing", Answer::Talk { .. }) => hold_up_to = Some(cost(call.max_seconds, call.rate)),
        ("ringing", Answer::Busy) => step = ended("busy", "busy", None),
        ("ringing", Answer::NoAnswer) => step = ended("no-answer", "no_answer", None),
        ("ringing", Answer::Failed { code }) => step = ended("failed", "carrier_refused", Some(code)),
        ("in-progress", _) => {
            let talked = call.duration_secs;
            let (written, reason) = match call.agent_id {
                None => (call_outputs::announcement(&call, now), "no_agent"),
                Some(_) => call_outputs::build(&mut conn, &call, talked, script_secs, workspace_name, now).await?,
            };
            artifacts = Some(written);
            step = Step {
                status: "completed",
                billed_minutes: Some(billed_minutes(talked)),
                cost: Some(cost(talked, call.rate).min(call.held)),
                end_reason: Some(reason),
                ..step
            };
        }
        _ => return Ok(Plan::Nothing),
    }
    Ok(Plan::Step(Box::new(Planned { call, step, script_secs, hold_up_to, artifacts })))
}

/// The step of an answered call whose hold is now `held`: it talks at most what the
/// hold covers, and never past its limit.
fn talking(state: &AppState, p: &Planned, held: i64, now: i64) -> Step<'static> {
    let call = &p.call;
    let covered = if call.rate == 0 { call.max_seconds } else { held / call.rate * 60 };
    let limit = call.max_seconds.min(covered);
    let talk = p.script_secs.min(limit);
    Step {
        status: "in-progress",
        next_step_at: Some(now + real_ms(state, talk * 1000)),
        answered_at: Some(now),
        max_seconds: Some(limit),
        held: Some(held),
        duration_secs: Some(talk),
        ..Step::default()
    }
}

/// Applies planned steps of one workspace (`w`'s) in one region transaction: each
/// call's status, its transcript when it ends, its event and its campaign target. A
/// call that moved meanwhile (cancelled) is left as it is. Returns the calls that ended.
async fn apply(state: &AppState, region: &RegionDb, w: &Work, planned: &[&Planned], now: i64) -> ApiResult<Vec<Call>> {
    let ids: Vec<&str> = planned.iter().map(|p| p.call.id.as_str()).collect();
    let mut tx = calls::begin_work_on(region, w, &ids).await?;
    let (mut ended, mut told, mut campaign_moved) = (Vec::new(), false, false);
    for p in planned {
        let Some(after) = calls::advance(&mut tx, &p.call.id, &p.call.status, &p.step, now).await? else {
            continue;
        };
        if let Some(a) = &p.artifacts {
            calls::save_artifacts(&mut tx, &after.id, a).await?;
        }
        told |= events::call_changed(&mut tx, &after, now).await?;
        if after.has_ended() {
            campaign_moved |= campaigns::call_ended(&mut tx, &after, now).await?;
            ended.push(after);
        }
    }
    tx.commit().await?;
    if told {
        state.webhook_wakeup.notify_one();
    }
    if campaign_moved {
        state.dialer_wakeup.notify_one();
    }
    Ok(ended)
}

/// [`apply`] in batches; a batch that fails is applied call by call, so one call's
/// trouble never holds back the others (it is retried on the next pass).
async fn apply_all(state: &AppState, region: &RegionDb, w: &Work, planned: &[&Planned], now: i64) -> Vec<Call> {
    /// Steps per transaction: the single SQLite writer is held a few milliseconds.
    const BATCH: usize = 64;
    let mut ended = Vec::new();
    for batch in planned.chunks(BATCH) {
        match apply(state, region, w, batch, now).await {
            Ok(e) => ended.extend(e),
            Err(e) if batch.len() > 1 => {
                tracing::warn!(workspace = %w.workspace_id, error = %e.detail, "advancing calls together; one by one");
                for p in batch {
                    match apply(state, region, w, std::slice::from_ref(p), now).await {
                        Ok(e) => ended.extend(e),
                        Err(e) => {
                            tracing::warn!(call = %p.call.id, error = %e.detail, "advancing a call; retried on the next pass")
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(call = %batch[0].call.id, error = %e.detail, "advancing a call; retried on the next pass")
            }
        }
    }
    ended
}

/// 4. An ended call's money: the wallet charges it (once), then the call is marked.
pub(crate) async fn settle_ended(state: &AppState, region: &RegionDb, w: &Work, call: &Call) -> ApiResult<()> {
    settle_many(state, region, w, std::slice::from_ref(call)).await
}

/// [`settle_ended`] for ended calls of one workspace (`w`'s): the charges are one
/// control transaction, the marks one region transaction. A crash between the two
/// leaves calls charged but unmarked: settling them again charges nothing.
async fn settle_many(state: &AppState, region: &RegionDb, w: &Work, ended: &[Call]) -> ApiResult<()> {
    let charges: Vec<(&str, i64, String)> = ended.iter().map(|c| (c.id.as_str(), c.cost, charge_note(c))).collect();
    wallet::settle_many(state, &charges).await?;
    crate::failpoint::hit("call.settle.after_charge");
    let mut tx = calls::begin_work(region, w).await?;
    let ids: Vec<&str> = ended.iter().map(|c| c.id.as_str()).collect();
    calls::mark_settled(&mut tx, &ids).await?;
    tx.commit().await?;
    Ok(())
}

/// The step ending an answered call that talked `talked` seconds: billed by the minute
/// at its rate, never more than it holds.
pub(crate) fn priced(call: &Call, status: &'static str, reason: &'static str, talked: i64) -> Step<'static> {
    Step {
        status,
        duration_secs: Some(talked),
        billed_minutes: Some(billed_minutes(talked)),
        cost: Some(cost(talked, call.rate).min(call.held)),
        end_reason: Some(reason),
        ..Step::default()
    }
}

pub(crate) fn ended(status: &'static str, reason: &'static str, code: Option<u16>) -> Step<'static> {
    Step {
        status,
        end_reason: Some(reason),
        duration_secs: Some(0),
        billed_minutes: Some(0),
        cost: Some(0),
        error: code
            .map(|c| if c == 503 { "the carrier refused the call (503)" } else { "the carrier refused the call" }),
        ..Step::default()
    }
}

/// Whether calls of `provider` go over a SIP trunk (else the simulated carrier plays
/// them out).
pub fn is_sip(state: &AppState, provider: &str) -> bool {
    telephony::routes(state).catalog().provider(provider).is_some_and(|p| p.kind == ProviderKind::Sip)
}

/// One pass over every region database: each due call is read and its step decided
/// (up to `READS` at a time), the holds of answered calls grow in one control
/// transaction, the steps are applied per workspace in region transactions of many
/// calls (each only moves a call from the status it read, so concurrent workers cannot
/// both win), SIP calls step on their own, and the ended calls are settled together.
/// Returns how many calls it touched.
pub async fn work_once(state: &AppState) -> usize {
    use futures_util::StreamExt;
    use std::collections::BTreeMap;
    /// How many ended calls one settlement takes (its transactions stay short).
    const SETTLE_BATCH: usize = 200;
    const READS: usize = 16;
    let mut touched = 0;
    for region in state.regions.databases() {
        let now = state.now();
        let due = match calls::due(region, now, 500).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "reading due calls");
                continue;
            }
        };
        touched += due.len();
        // The transcript greets with the workspace's name: read once per workspace.
        let mut names: BTreeMap<&str, String> = BTreeMap::new();
        for w in &due {
            if !names.contains_key(w.workspace_id.as_str()) {
                let name = match state.db.conn().await {
                    Ok(mut c) => callplane_store::workspaces::name_of(&mut c, &w.workspace_id).await.ok().flatten(),
                    Err(_) => None,
                };
                names.insert(&w.workspace_id, name.unwrap_or_default());
            }
        }
        let names = &names;
        // By index: a closure over references would not be general enough for `spawn`.
        let due_ref = &due;
        let reads = (0..due.len()).map(|i| async move {
            let w = &due_ref[i];
            let name = names.get(w.workspace_id.as_str()).map_or("", String::as_str);
            (i, plan(state, region, w, name, now).await)
        });
        let plans: Vec<(usize, ApiResult<Plan>)> = futures_util::stream::iter(reads).buffered(READS).collect().await;
        let (mut steps, mut sip, mut ended) = (Vec::new(), Vec::new(), Vec::new());
        for (i, plan) in plans {
            let w = &due[i];
            match plan {
                Err(e) => {
                    tracing::warn!(call = %w.id, error = %e.detail, "reading a due call; retried on the next pass")
                }
                Ok(Plan::Nothing) => {}
                Ok(Plan::Settle(call)) => ended.push((w, call)),
                Ok(Plan::Sip(call)) => sip.push((w, call)),
                Ok(Plan::Step(p)) => steps.push((w, p)),
            }
        }
        // 3. Answered calls: their holds grow first, together.
        let answering: Vec<(&str, i64)> =
            steps.iter().filter_map(|(_, p)| p.hold_up_to.map(|up_to| (p.call.id.as_str(), up_to))).collect();
        if !answering.is_empty() {
            match wallet::extend_many(state, &answering).await {
                Ok(held) => {
                    let mut held = held.into_iter();
                    for (_, p) in steps.iter_mut().filter(|(_, p)| p.hold_up_to.is_some()) {
                        p.step = talking(state, p, held.next().unwrap_or(0), now);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e.detail, "extending the holds of answered calls; retried on the next pass");
                    steps.retain(|(_, p)| p.hold_up_to.is_none());
                }
            }
        }
        let mut by_workspace: BTreeMap<&str, (&Work, Vec<&Planned>)> = BTreeMap::new();
        for (w, p) in &steps {
            by_workspace.entry(w.workspace_id.as_str()).or_insert_with(|| (w, Vec::new())).1.push(p);
        }
        for (w, planned) in by_workspace.into_values() {
            ended.extend(apply_all(state, region, w, &planned, now).await.into_iter().map(|c| (w, c)));
        }
        futures_util::stream::iter(&sip)
            .for_each_concurrent(READS, |(w, call)| async move {
                if let Err(e) = sip_calls::step(state, region, w, call).await {
                    tracing::warn!(call = %w.id, error = %e.detail, "advancing a SIP call; retried on the next pass");
                }
            })
            .await;
        // The pass's ended calls are settled together, per workspace.
        let mut to_settle: BTreeMap<&str, (&Work, Vec<Call>)> = BTreeMap::new();
        for (w, call) in ended {
            to_settle.entry(w.workspace_id.as_str()).or_insert_with(|| (w, Vec::new())).1.push(call);
        }
        for (w, ended) in to_settle.into_values() {
            for chunk in ended.chunks(SETTLE_BATCH) {
                if let Err(e) = settle_many(state, region, w, chunk).await {
                    tracing::warn!(workspace = %w.workspace_id, error = %e.detail, "settling calls; retried on the next pass");
                }
            }
        }
    }
    touched
}

/// Releases holds whose call never reached its region database (a crash between the
/// hold and the insert), once they are older than `grace_ms`.
pub async fn sweep_holds(state: &AppState, grace_ms: i64) -> ApiResult<usize> {
    let mut conn = state.db.conn().await?;
    let holds = callplane_store::wallet::held_before(&mut conn, state.now() - grace_ms, 200).await?;
    let mut released = 0;
    for h in holds {
        let region = callplane_store::workspaces::region_of(&mut conn, &h.workspace_id).await?;
        let db = region.as_deref().and_then(|r| state.regions.get(r)).map(|r| &r.db);
        let exists = match db {
            Some(db) => calls::exists(db, &h.workspace_id, &h.call_id).await?,
            None => false, // the workspace is gone: nothing will settle it
        };
        if !exists && wallet::settle(state, &h.call_id, 0, "never placed").await?.is_some() {
            released += 1;
        }
    }
    Ok(released)
}

/// Plays calls out: woken when a call is placed or cancelled, otherwise when the next
/// step is due (at most a second later); sweeps holds without a call as often as their
/// grace allows (at most every minute).
pub async fn run_worker(state: AppState) {
    let grace_ms = state.config.calls.orphan_hold_grace_secs * 1000;
    let sweep_every = (grace_ms / 2).clamp(1_000, 60_000);
    let mut last_sweep = 0;
    loop {
        let touched = work_once(&state).await;
        if state.now() - last_sweep >= sweep_every {
            last_sweep = state.now();
            if let Err(e) = sweep_holds(&state, grace_ms).await {
                tracing::warn!(error = %e.detail, "sweeping wallet holds");
            }
        }
        if touched == 0 {
            let wait = next_due_in(&state).await.clamp(1, 1_000);
            tokio::select! {
                _ = state.call_wakeup.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
            }
        }
    }
}

/// Milliseconds until the earliest next step of any call (a second when none is due).
async fn next_due_in(state: &AppState) -> i64 {
    next_due(state).await.map_or(1_000, |at| at - state.now())
}

/// When the earliest pending step of any call, in every region database, is due.
pub async fn next_due(state: &AppState) -> Option<i64> {
    let mut next = None::<i64>;
    for region in state.regions.databases() {
        if let Ok(Some(at)) = calls::next_due(region).await {
            next = Some(next.map_or(at, |n| n.min(at)));
        }
    }
    next
}
