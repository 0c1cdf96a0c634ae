//! SIP calls in the call lifecycle (SPEC N2): the process that serves SIP places a
//! workspace's outbound calls through its trunk and answers inbound calls from its
//! gateways, and turns what the SIP user agent reports into the same call steps,
//! wallet steps and events a simulated call takes.
//!
//! A SIP call lives in the process carrying it, so its durable state carries a lease
//! instead of a script: `next_step_at` is when the lease ends, and the carrying
//! process renews the leases of its calls every third of `workers.lease_secs`. The
//! call worker claims a queued SIP call by moving it to ringing (one process wins),
//! and ends a call whose lease ran out while no process carries it (the process
//! died): failed, `interrupted`, charged for the time it may have talked. A renewal
//! also tells the carrier which of its calls ended elsewhere (canceled through
//! another replica): those are hung up.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use callplane_domain::telephony::cost;
use callplane_store::access::Scope;
use callplane_store::product::calls::{self, Artifacts, Call, Step, Work};
use callplane_store::product::{agents, contacts, sip_trunks};
use callplane_store::regions::RegionDb;
use callplane_telephony::sdp::Codec;
use callplane_telephony::sip::{
    Agent, Answering, CancellationToken, Decision, Dial, Ended, Event, Incoming, Outcome, Side, SipConfig,
};
use callplane_telephony::stream::PortRange;
use serde_json::json;
use tokio::sync::mpsc;

use crate::error::{ApiError, ApiResult, Code};
use crate::services::calls::{self as call_service, Via};
use crate::services::sip_trunks::{in_cidr, sealed_for, Gateway};
use crate::services::{call_outputs, campaigns, events, wallet};
use crate::state::AppState;

/// How long a SIP call's lease lasts (ms).
fn lease_ms(state: &AppState) -> i64 {
    state.config.workers.lease_secs.max(1) * 1000
}

/// The SIP user agent of this process and what it says when a call is answered.
pub struct Sip {
    pub agent: Arc<Agent>,
    /// The agent's first message as 8 kHz audio.
    pub prompt: Arc<[i16]>,
}

/// The SIP calls this process carries: where each lives (to renew its lease) and a
/// token that hangs it up.
#[derive(Default)]
pub struct Live(Mutex<HashMap<String, LiveCall>>);

struct LiveCall {
    token: CancellationToken,
    region: RegionDb,
    work: Work,
}

impl Live {
    fn insert(&self, region: &RegionDb, w: &Work) -> CancellationToken {
        let token = CancellationToken::new();
        let carried = LiveCall { token: token.clone(), region: region.clone(), work: w.clone() };
        self.0.lock().expect("never poisoned").insert(w.id.clone(), carried);
        token
    }
    fn remove(&self, call_id: &str) {
        self.0.lock().expect("never poisoned").remove(call_id);
    }
    fn get(&self, call_id: &str) -> Option<CancellationToken> {
        self.0.lock().expect("never poisoned").get(call_id).map(|c| c.token.clone())
    }
    /// The live calls, by region database and workspace.
    fn by_workspace(&self) -> Vec<(RegionDb, Work, Vec<String>)> {
        let mut groups: HashMap<(String, String), (RegionDb, Work, Vec<String>)> = HashMap::new();
        for (id, c) in self.0.lock().expect("never poisoned").iter() {
            let key = (c.region.url().to_owned(), c.work.workspace_id.clone());
            let group = groups
                .entry(key)
                .or_insert_with(|| (c.region.clone(), Work { id: String::new(), ..c.work.clone() }, Vec::new()));
            group.2.push(id.clone());
        }
        groups.into_values().collect()
    }
}

/// Renews the leases of the calls this process carries, for as long as it runs; hangs
/// up those that ended elsewhere.
pub async fn keep_leases(state: AppState) {
    let every = Duration::from_millis((lease_ms(&state) / 3).max(100) as u64);
    loop {
        tokio::time::sleep(every).await;
        for (region, w, ids) in state.sip_live.by_workspace() {
            if let Err(e) = renew(&state, &region, &w, &ids).await {
                tracing::warn!(workspace = %w.workspace_id, error = %e.detail, "renewing SIP call leases");
            }
        }
    }
}

async fn renew(state: &AppState, region: &RegionDb, w: &Work, ids: &[String]) -> ApiResult<()> {
    let until = state.now() + lease_ms(state);
    let mut tx = calls::begin_work(region, w).await?;
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let live = calls::renew_leases(&mut tx, &refs, until).await?;
    tx.commit().await?;
    for id in ids.iter().filter(|id| !live.contains(id)) {
        // Ended elsewhere (or just now here): hanging up an ended call does nothing.
        if let Some(token) = state.sip_live.get(id) {
            token.cancel();
        }
    }
    Ok(())
}

/// Starts the SIP user agent when `[sip] listen` is set; answers where inbound INVITEs
/// arrive (hand them to [`run_inbound`]).
pub async fn start(state: &AppState) -> anyhow::Result<Option<mpsc::Receiver<Incoming>>> {
    let c = &state.config.sip;
    let Some(listen) = c.listen else { return Ok(None) };
    let prompt: Vec<i16> = match &c.prompt_wav {
        Some(path) => {
            let bytes =
                std::fs::read(path).map_err(|e| anyhow::anyhow!("reading sip.prompt_wav {}: {e}", path.display()))?;
            callplane_telephony::media::mono_pcm(&bytes)
                .map_err(|e| anyhow::anyhow!("sip.prompt_wav {}: {e}", path.display()))?
        }
        None => callplane_telephony::media::tone(440.0, 3_000),
    };
    if c.rtp_port_min < 1024 || c.rtp_port_max < c.rtp_port_min.saturating_add(2) {
        anyhow::bail!("sip.rtp_port_min/max: give a range of at least two ports above 1023");
    }
    let rtp_ports = PortRange { min: c.rtp_port_min, max: c.rtp_port_max };
    let config = SipConfig { listen, advertise: c.advertise, rtp_ports, decide_timeout: Duration::from_secs(5) };
    let (tx, rx) = mpsc::channel(1024);
    let agent = Agent::start(config, Some(tx)).await.map_err(|e| anyhow::anyhow!(e))?;
    tracing::info!(address = %agent.local_addr(), "serving SIP");
    let _ = state.sip.set(Sip { agent, prompt: prompt.into() });
    Ok(Some(rx))
}

/// Refuses when this process does not serve SIP.
fn serving(state: &AppState) -> ApiResult<()> {
    match state.sip.get() {
        Some(_) => Ok(()),
        None => Err(ApiError::new(
            Code::SipUnavailable,
            "This server does not serve SIP; set [sip] listen in its configuration to place SIP/BYOC calls.",
        )),
    }
}

/// Whether the workspace can place a SIP call now: this process serves SIP and a trunk
/// of the workspace has an outbound gateway.
pub async fn check_can_dial(state: &AppState, scope: &Scope) -> ApiResult<()> {
    serving(state)?;
    let trunks = sip_trunks::list(&mut scope.read().await?).await?;
    if preferred_trunk(&trunks).is_none() {
        return Err(ApiError::new(
            Code::NoSipTrunk,
            "The workspace's provider is SIP/BYOC but none of its SIP trunks has an outbound gateway; add one under Settings → Telephony → SIP/BYOC.",
        ));
    }
    Ok(())
}

/// The SIP/BYOC provider a call through `trunk_id` is priced as, once the trunk is
/// known to be the workspace's with an outbound gateway and this process serves SIP.
pub async fn check_trunk(
    state: &AppState,
    scope: &Scope,
    trunk_id: &str,
) -> ApiResult<callplane_domain::telephony::Provider> {
    let trunk = sip_trunks::get(&mut scope.read().await?, trunk_id)
        .await?
        .ok_or_else(|| ApiError::invalid("sip_trunk_id", "is not a SIP trunk of this workspace"))?;
    if !has_outbound_gateway(&trunk) {
        return Err(ApiError::invalid("sip_trunk_id", "the trunk has no outbound gateway"));
    }
    serving(state)?;
    let routes = crate::services::telephony::routes(state);
    let sip = routes.catalog().providers.iter().find(|p| p.kind == callplane_domain::telephony::ProviderKind::Sip);
    sip.cloned().ok_or_else(|| ApiError::invalid("sip_trunk_id", "the telephony catalog offers no SIP/BYOC provider"))
}

/// Whether calls can go out through the trunk.
pub fn has_outbound_gateway(trunk: &sip_trunks::Trunk) -> bool {
    !outbound_gateways(trunk).is_empty()
}

/// A trunk's outbound gateways in the order calls try them (lowest priority first).
fn outbound_gateways(trunk: &sip_trunks::Trunk) -> Vec<Gateway> {
    let mut gateways: Vec<Gateway> = serde_json::from_str(&trunk.gateways).unwrap_or_default();
    gateways.retain(|g| g.outbound);
    gateways.sort_by_key(|g| g.priority);
    gateways
}

/// The trunk calls go through when none is chosen: the one with the lowest-priority
/// outbound gateway (the oldest among equals).
fn preferred_trunk(trunks: &[sip_trunks::Trunk]) -> Option<&sip_trunks::Trunk> {
    trunks
        .iter()
        .filter_map(|t| outbound_gateways(t).first().map(|g| (g.priority, t.created_at, t)))
        .min_by_key(|(priority, created_at, _)| (*priority, *created_at))
        .map(|(_, _, t)| t)
}

/// Hangs up a call this process carries; `false` when it carries no such call.
pub fn hang_up(state: &AppState, call_id: &str) -> bool {
    match state.sip_live.get(call_id) {
        Some(token) => {
            token.cancel();
            true
        }
        None => false,
    }
}

/// Waits (up to ten seconds) for a hung-up call to be recorded as ended.
pub async fn wait_ended(scope: &Scope, call_id: &str) -> ApiResult<Call> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let call = calls::get(&mut scope.read().await?, call_id).await?.ok_or_else(ApiError::not_found)?;
        if call.has_ended() || tokio::time::Instant::now() >= deadline {
            return Ok(call);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The call worker's step for a due SIP call: dial a queued one (this process wins it
/// by moving it to ringing), or end one whose deadline passed with no one carrying it.
pub async fn step(state: &AppState, region: &RegionDb, w: &Work, call: &Call) -> ApiResult<()> {
    let now = state.now();
    if state.sip_live.get(&call.id).is_some() {
        // Carried here, its renewal late: renew it now.
        let mut tx = calls::begin_work(region, w).await?;
        calls::postpone(&mut tx, &call.id, &call.status, now + lease_ms(state)).await?;
        tx.commit().await?;
        return Ok(());
    }
    if call.status == "queued" {
        let Some(sip) = state.sip.get() else {
            return finish_without_media(state, region, w, call, "failed", "sip_unavailable", "no process serving SIP")
                .await;
        };
        let ring = state.config.sip.ring_timeout_secs as i64 * 1000;
        let mut tx = calls::begin_work(region, w).await?;
        let claim = Step { status: "ringing", next_step_at: Some(now + lease_ms(state)), ..Step::default() };
        let Some(ringing) = calls::advance(&mut tx, &call.id, "queued", &claim, now).await? else {
            return Ok(());
        };
        let told = events::call_changed(&mut tx, &ringing, now).await?;
        let trunks = sip_trunks::list(&mut tx).await?;
        tx.commit().await?;
        if told {
            state.webhook_wakeup.notify_one();
        }
        // A call placed through a chosen trunk goes through it; others through the
        // workspace's preferred gateway.
        let pinned = call.sip.as_deref().and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok());
        let pinned = pinned.as_ref().and_then(|j| j["trunk_id"].as_str());
        let trunks: Vec<_> = trunks.into_iter().filter(|t| pinned.is_none_or(|id| id == t.id)).collect();
        let Some(trunk) = preferred_trunk(&trunks) else {
            return finish_without_media(
                state,
                region,
                w,
                &ringing,
                "failed",
                "no_sip_trunk",
                "no outbound SIP gateway",
            )
            .await;
        };
        let credential = match (&trunk.username, &trunk.password_sealed) {
            (Some(user), Some(sealed)) => {
                let password = state.sealer()?.open(sealed, &sealed_for(&w.workspace_id, &trunk.id));
                password.map(|p| (user.clone(), p))
            }
            _ => None,
        };
        let number = |e164: &str| {
            let digits = e164.trim_start_matches('+');
            format!("{}{}{digits}", trunk.tech_prefix, if trunk.leading_plus { "+" } else { "" })
        };
        let dial = Dial {
            gateways: outbound_gateways(trunk).iter().map(|g| format!("{}:{}", g.host, g.port)).collect(),
            proxy: trunk.outbound_proxy.clone(),
            failover_after: Duration::from_millis(state.config.sip.failover_after_ms),
            to_user: number(&call.to_e164),
            from_user: call.from_e164.trim_start_matches('+').to_owned(),
            from_domain: trunk.from_domain.clone(),
            credential,
            codecs: codecs(&trunk.codecs),
            ring_timeout: Duration::from_millis(ring as u64),
            talk_limit: Duration::from_secs(call.max_seconds.max(1) as u64),
            prompt: sip.prompt.clone(),
        };
        let token = state.sip_live.insert(region, w);
        let mut placed = sip.agent.dial(dial);
        let mut events = std::mem::replace(&mut placed.events, mpsc::unbounded_channel().1);
        let (state, region_db, w) = (state.clone(), region.clone(), w.clone());
        tokio::spawn(async move {
            let sip_call_id = placed.sip_call_id.clone();
            carry(&state, &region_db, &w, &sip_call_id, &mut events, token, move || placed.hang_up(), false).await;
        });
        return Ok(());
    }
    // Ringing or in progress past its deadline, and no process carries it.
    let talked = call.answered_at.map_or(0, |at| ((now - at) / 1000).clamp(0, call.max_seconds));
    let step = Step {
        error: Some("the process carrying the call stopped before it ended"),
        ..call_service::priced(call, "failed", "interrupted", talked)
    };
    end_call(state, region, w, call, &step, None).await
}

fn codecs(list: &str) -> Vec<Codec> {
    let parsed: Vec<Codec> = list.split(',').filter_map(|c| Codec::parse(c.trim())).collect();
    if parsed.is_empty() {
        vec![Codec::Pcmu, Codec::Pcma]
    } else {
        parsed
    }
}

/// Ends a call that never reached the far end.
async fn finish_without_media(
    state: &AppState,
    region: &RegionDb,
    w: &Work,
    call: &Call,
    status: &'static str,
    reason: &'static str,
    error: &'static str,
) -> ApiResult<()> {
    let step = Step { error: Some(error), ..call_service::ended(status, reason, None) };
    end_call(state, region, w, call, &step, None).await
}

/// What a call carried, for its row and page.
struct Carried<'a> {
    facts: serde_json::Value,
    recording: Option<&'a [u8]>,
    /// The agent's first message and how long it played (ms), for the transcript.
    prompt_ms: i64,
}

/// Follows a SIP call's events until it ends, stepping the durable call with them.
#[allow(clippy::too_many_arguments)]
async fn carry(
    state: &AppState,
    region: &RegionDb,
    w: &Work,
    sip_call_id: &str,
    events: &mut mpsc::UnboundedReceiver<Event>,
    token: CancellationToken,
    hang_up: impl Fn(),
    inbound: bool,
) {
    let mut limit: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    let (mut funds_limited, mut canceled) = (false, false);
    let mut digits = String::new();
    let mut codec = None;
    let end = loop {
        let timer = async {
            match limit.as_mut() {
                Some(t) => t.await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            event = events.recv() => match event {
                Some(Event::Ringing) => {}
                Some(Event::Answered { codec: c }) => {
                    codec = Some(c);
                    match answered(state, region, w).await {
                        Ok(Some((limit_secs, max_secs))) if limit_secs < max_secs => {
                            limit = Some(Box::pin(tokio::time::sleep(Duration::from_secs(limit_secs.max(0) as u64))));
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(call = %w.id, error = %e.detail, "recording a SIP call's answer"),
                    }
                }
                Some(Event::Digit(d)) => {
                    digits.push(d.digit);
                    if let Err(e) = note_digit(state, region, w, d.digit).await {
                        tracing::warn!(call = %w.id, error = %e.detail, "recording a digit");
                    }
                }
                Some(Event::Ended(end)) => break end,
                None => break Ended {
                    outcome: Outcome::Failed,
                    sip_code: None,
                    sip_call_id: sip_call_id.to_owned(),
                    codec,
                    hung_up_by: None,
                    error: Some("the call's task stopped".into()),
                    media: None,
                },
            },
            _ = token.cancelled(), if !canceled => {
                canceled = true;
                hang_up();
            }
            _ = timer => {
                funds_limited = true;
                limit = None;
                hang_up();
            }
        }
    };
    // The ending is retried: it writes once (each write is keyed by the call), and a
    // call left unended is ended by the worker at its deadline.
    for attempt in 0..5 {
        match ended(state, region, w, &end, &digits, canceled, funds_limited, inbound).await {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(call = %w.id, attempt, error = %e.detail, "recording a SIP call's end");
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
        }
    }
    state.sip_live.remove(&w.id);
}

/// The far end answered: the hold grows to cover the call's limit as far as the
/// wallet allows, and the call is in progress. Answers (the limit the wallet covers,
/// the agent's limit) in seconds.
async fn answered(state: &AppState, region: &RegionDb, w: &Work) -> ApiResult<Option<(i64, i64)>> {
    let call = calls::get(&mut calls::read_work(region, w).await?, &w.id).await?.ok_or_else(ApiError::not_found)?;
    if call.status != "ringing" {
        return Ok(None);
    }
    let held = wallet::extend(state, &call.id, cost(call.max_seconds, call.rate)).await?;
    let covered = if call.rate == 0 { call.max_seconds } else { held / call.rate * 60 };
    let limit = call.max_seconds.min(covered);
    let now = state.now();
    let step = Step {
        status: "in-progress",
        next_step_at: Some(now + lease_ms(state)),
        answered_at: Some(now),
        max_seconds: Some(limit),
        held: Some(held),
        ..Step::default()
    };
    let mut tx = calls::begin_work(region, w).await?;
    let Some(after) = calls::advance(&mut tx, &call.id, "ringing", &step, now).await? else {
        return Ok(None);
    };
    let told = events::call_changed(&mut tx, &after, now).await?;
    tx.commit().await?;
    if told {
        state.webhook_wakeup.notify_one();
    }
    Ok(Some((limit, call.max_seconds)))
}

/// A digit the caller pressed (RFC 4733), on the call's timeline.
async fn note_digit(state: &AppState, region: &RegionDb, w: &Work, digit: char) -> ApiResult<()> {
    let mut tx = calls::begin_work(region, w).await?;
    calls::add_event(&mut tx, &w.id, "digit", state.now(), Some(&digit.to_string())).await?;
    tx.commit().await?;
    Ok(())
}

/// Records how a SIP call ended: its status, duration and price, SIP facts, the
/// recording and transcript of an answered call; then settles it.
#[allow(clippy::too_many_arguments)]
async fn ended(
    state: &AppState,
    region: &RegionDb,
    w: &Work,
    end: &Ended,
    digits: &str,
    canceled: bool,
    funds_limited: bool,
    inbound: bool,
) -> ApiResult<()> {
    let call = calls::get(&mut calls::read_work(region, w).await?, &w.id).await?.ok_or_else(ApiError::not_found)?;
    let media = end.media.as_ref();
    let talked = media.map_or(0, |m| ((m.duration_ms + 500) / 1000) as i64).min(call.max_seconds);
    let error = end.error.clone().or_else(|| end.sip_code.map(|c| format!("the carrier answered SIP {c}")));
    let priced = |status, reason| call_service::priced(&call, status, reason, talked);
    let step = match end.outcome {
        _ if canceled => Step { detail: Some("canceled through the API"), ..priced("canceled", "canceled") },
        Outcome::Completed if call.agent_id.is_none() && inbound => priced("completed", "no_agent"),
        Outcome::Completed => priced(
            "completed",
            match end.hung_up_by {
                Some(Side::Remote) => "hangup",
                _ if funds_limited => "funds_limit",
                _ => "agent_limit",
            },
        ),
        Outcome::Busy => call_service::ended("busy", "busy", None),
        Outcome::NoAnswer => call_service::ended("no-answer", "no_answer", None),
        Outcome::Canceled => priced("canceled", "canceled"),
        Outcome::Failed => Step { error: error.as_deref(), ..call_service::ended("failed", "carrier_refused", None) },
    };
    let facts = json!({
        "call_id": end.sip_call_id,
        "code": end.sip_code,
        "codec": end.codec.map(|c| c.name()),
        "hung_up_by": end.hung_up_by.map(|s| if s == Side::Remote { "far_end" } else { "agent" }),
        "packets_sent": media.map(|m| m.packets_sent),
        "packets_received": media.map(|m| m.packets_received),
        "packets_lost": media.map(|m| m.packets_lost),
        "packets_ignored": media.map(|m| m.packets_ignored),
        "digits": digits,
        "error": end.error,
    });
    let prompt_ms = state.sip.get().map_or(0, |s| s.prompt.len() as i64 / 8);
    let carried = Carried { facts, recording: media.map(|m| m.recording.as_slice()), prompt_ms };
    end_call(state, region, w, &call, &step, Some(&carried)).await
}

/// Writes a SIP call's end in one region transaction (status, SIP facts, recording,
/// transcript, timeline, events, campaign), then settles its money.
async fn end_call(
    state: &AppState,
    region: &RegionDb,
    w: &Work,
    call: &Call,
    step: &Step<'_>,
    carried: Option<&Carried<'_>>,
) -> ApiResult<()> {
    let now = state.now();
    let answered = call.answered_at.is_some();
    // Read before the region transaction (never both databases at once), and only for
    // a transcript that renders the agent's first message.
    let workspace_name = match answered && call.agent_id.is_some() {
        true => callplane_store::workspaces::name_of(&mut state.db.conn().await?, &w.workspace_id)
            .await?
            .unwrap_or_default(),
        false => String::new(),
    };
    let mut tx = calls::begin_work(region, w).await?;
    if let Some(c) = carried {
        calls::set_sip(&mut tx, &call.id, &c.facts.to_string()).await?;
    }
    if answered && step.status == "completed" && call.agent_id.is_none() {
        call_outputs::record_announcement(&mut tx, call, now).await?;
    } else if answered {
        let agent = match &call.agent_id {
            Some(id) => agents::get(&mut tx, id).await?,
            None => None,
        };
        let contact = match &call.contact_id {
            Some(id) => contacts::get(&mut tx, id).await?,
            None => None,
        };
        let first = agent.as_ref().map_or(String::new(), |a| {
            crate::services::templates::render_for(&a.first_message, contact.as_ref(), Some(a), &workspace_name)
                .trim()
                .to_owned()
        });
        let talked_ms = step.duration_secs.unwrap_or(0) * 1000;
        let prompt_ms = carried.map_or(0, |c| c.prompt_ms);
        // No speech recognition runs on SIP media yet: the transcript holds what the
        // agent said (its first message); the caller's side is in the recording.
        let turns = match first.is_empty() {
            true => json!([]),
            false => json!([{ "speaker": "agent", "start_ms": 0, "end_ms": prompt_ms.min(talked_ms), "text": first }]),
        };
        let digits = carried.and_then(|c| c.facts["digits"].as_str()).unwrap_or_default();
        let recorded = agent.as_ref().is_some_and(|a| a.recording);
        let artifacts = Artifacts {
            turns: turns.to_string(),
            outcome: None,
            analysis: Some(json!({ "summary": summary(step.duration_secs.unwrap_or(0), digits) }).to_string()),
            recording_secs: recorded.then_some(step.duration_secs.unwrap_or(0)),
            created_at: now,
        };
        calls::save_artifacts(&mut tx, &call.id, &artifacts).await?;
        if let (true, Some(wav)) = (recorded, carried.and_then(|c| c.recording)) {
            calls::save_recording(&mut tx, &call.id, wav).await?;
        }
    }
    // A call already ended (canceled through another replica) keeps its ending.
    let moved = match call.has_ended() {
        true => None,
        false => calls::advance(&mut tx, &call.id, &call.status, step, now).await?,
    };
    let (told, campaign_moved) = match &moved {
        Some(after) => {
            (events::call_changed(&mut tx, after, now).await?, campaigns::call_ended(&mut tx, after, now).await?)
        }
        None => (false, false),
    };
    let after = match moved {
        Some(after) => after,
        None => calls::get(&mut tx, &call.id).await?.ok_or_else(ApiError::not_found)?,
    };
    tx.commit().await?;
    if told {
        state.webhook_wakeup.notify_one();
    }
    if campaign_moved {
        state.dialer_wakeup.notify_one();
    }
    if after.has_ended() && !after.settled {
        call_service::settle_ended(state, region, w, &after).await?;
    }
    Ok(())
}

fn summary(talked: i64, digits: &str) -> String {
    match digits.is_empty() {
        true => format!("SIP call of {talked} s; no digits pressed. The caller's side is in the recording."),
        false => format!("SIP call of {talked} s; the caller pressed {digits}. The caller's side is in the recording."),
    }
}

/// Answers inbound INVITEs: each reaches the workspace holding the dialed number, if
/// it comes from one of that workspace's trunk gateways.
pub async fn run_inbound(state: AppState, mut incoming: mpsc::Receiver<Incoming>) {
    while let Some(inc) = incoming.recv().await {
        let state = state.clone();
        tokio::spawn(async move { admit(state, inc).await });
    }
}

async fn admit(state: AppState, inc: Incoming) {
    let Incoming { source, to_user, from_user, sip_call_id, decide } = inc;
    let routed = route_inbound(&state, source.ip(), &to_user, &from_user).await;
    let (admitted, decision) = match routed {
        Ok(Routed::Refuse(code, reason)) => (None, Decision::Refuse { code, reason: reason.into() }),
        Ok(Routed::Admitted(a)) if a.call.has_ended() => {
            (None, Decision::Refuse { code: 402, reason: "Payment Required".into() })
        }
        Ok(Routed::Admitted(a)) => {
            let Some(sip) = state.sip.get() else { return };
            let (events_tx, events_rx) = mpsc::unbounded_channel();
            let Some(region) = state.regions.get(&a.region).map(|r| r.db.clone()) else { return };
            let token = state.sip_live.insert(&region, &a.work);
            let prompt = match a.call.agent_id {
                Some(_) => sip.prompt.clone(),
                None => callplane_telephony::media::tone(660.0, 2_000).into(),
            };
            let answering = Answering {
                codecs: vec![Codec::Pcmu, Codec::Pcma],
                ring: Duration::from_millis(200),
                talk_limit: Duration::from_secs(a.call.max_seconds.max(1) as u64),
                prompt,
                events: events_tx,
                hangup: token.clone(),
            };
            (Some((a, events_rx, token, region)), Decision::Answer(answering))
        }
        Err(e) => {
            tracing::warn!(sip_call_id, error = %e.detail, "routing an inbound SIP call");
            (None, Decision::Refuse { code: 500, reason: "Server Internal Error".into() })
        }
    };
    if decide.send(decision).is_err() {
        tracing::debug!(sip_call_id, "the caller gave up before the decision");
    }
    if let Some((a, mut events, token, region)) = admitted {
        let inner = token.clone();
        carry(&state, &region, &a.work, &sip_call_id, &mut events, token, move || inner.cancel(), true).await;
    }
}

enum Routed {
    Refuse(u16, &'static str),
    Admitted(Box<call_service::Admitted>),
}

/// Which workspace an INVITE from `source` to `to_user` reaches: the one holding the
/// number (404 when none does), if the source is one of its trunks' gateways (403).
async fn route_inbound(state: &AppState, source: IpAddr, to_user: &str, from_user: &str) -> ApiResult<Routed> {
    let Some(to) = e164_of(to_user) else { return Ok(Routed::Refuse(404, "Not Found")) };
    let held = callplane_store::carrier::holder(&mut state.db.conn().await?, state.provider.id(), &to).await?;
    let Some(held) = held else { return Ok(Routed::Refuse(404, "Not Found")) };
    let region_id = callplane_store::workspaces::region_of(&mut state.db.conn().await?, &held.workspace_id).await?;
    let Some(region) = region_id.and_then(|r| state.regions.get(&r).map(|r| r.db.clone())) else {
        return Ok(Routed::Refuse(404, "Not Found"));
    };
    let trunks = {
        let w = Work { workspace_id: held.workspace_id.clone(), account_id: String::new(), id: String::new() };
        sip_trunks::list(&mut calls::begin_work(&region, &w).await?).await?
    };
    let allowed = trunks.iter().any(|t| {
        let gateways: Vec<Gateway> = serde_json::from_str(&t.gateways).unwrap_or_default();
        gateways.iter().any(|g| g.inbound_cidrs.iter().any(|c| in_cidr(source, c)))
    });
    if !allowed {
        return Ok(Routed::Refuse(403, "Forbidden"));
    }
    let from = e164_of(from_user).unwrap_or_else(|| from_user.chars().take(64).collect());
    let lease_until = state.now() + lease_ms(state);
    Ok(Routed::Admitted(Box::new(call_service::admit(state, &from, &held, Via::Sip { lease_until }).await?)))
}

/// The E.164 form of a SIP user part (`+919876543210`, `919876543210`), if it is one.
fn e164_of(user: &str) -> Option<String> {
    let digits: String = user.trim_start_matches('+').to_owned();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    callplane_domain::contact::parse_phone(&format!("+{digits}"), "").ok().map(|p| p.e164)
}
