//! Delivering webhooks (SPEC E2): a worker drains the outbox of every region database.
//!
//! - On PostgreSQL each due delivery is leased before it is sent, and its attempt is
//!   recorded only under that lease: replicas on one database never send the same
//!   attempt (a lease outlives the request's total timeout). On SQLite, served by one
//!   process, the worker's set of claimed-but-unrecorded deliveries does that job
//!   without a write. A crash between sending and recording sends the event again
//!   later, with the same `webhook-id`: at least once.
//! - Up to `webhooks.max_in_flight` requests at a time, at most
//!   `webhooks.per_endpoint_in_flight` of them to one endpoint, so a slow endpoint
//!   never holds back the others.
//! - Retries follow the Standard Webhooks schedule with ±10% jitter; `429` with
//!   `Retry-After` waits at least that long; `410 Gone` disables the endpoint; an
//!   endpoint failing for `webhooks.disable_after_days` is disabled, audited, and its
//!   workspace's Owner is emailed. Redirects are not followed.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use callplane_store::product::webhooks::{self as store, AttemptResult, Claimed, EndpointEffect, Next, Outgoing};
use callplane_store::RegionDb;
use rand::Rng;

use super::{guard, signing};
use crate::error::ApiResult;
use crate::state::AppState;

/// Seconds to wait before each attempt: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h,
/// 10 h and 10 h (the schedule the Standard Webhooks specification suggests).
pub const SCHEDULE_SECS: [i64; 8] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000];

/// How far the worker leases ahead: up to this many times `max_in_flight` deliveries
/// queued, and this many times an endpoint's in-flight limit queued for one endpoint,
/// so the queue outlasts a claim's round trip.
const LEASE_AHEAD: usize = 4;

/// Bytes of a response kept for the delivery log.
const EXCERPT_BYTES: usize = 1024;

/// The HTTP client webhooks are sent with: bounded connect and total time, no
/// redirects, and the guarded resolver.
pub fn client(config: &crate::config::WebhooksConfig) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
        .timeout(Duration::from_secs(config.timeout_secs))
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(guard::GuardedResolver { allow_private: config.allow_private_targets }))
        .user_agent(concat!("callplane-webhooks/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(64)
        .build()
        .unwrap_or_default()
}

/// When attempt number `done + 1` is due after attempt `done` failed at `at`
/// (`None`: the schedule ran out), at least `retry_after_ms` later.
pub fn next_attempt(done: i64, at: i64, retry_after_ms: Option<i64>) -> Option<i64> {
    let base = *SCHEDULE_SECS.get(usize::try_from(done).ok()?)? * 1000;
    let jitter = if base == 0 { 0 } else { rand::thread_rng().gen_range(-(base / 10)..=base / 10) };
    Some(at + (base + jitter).max(retry_after_ms.unwrap_or(0)))
}

/// What an attempt got back.
struct Sent {
    status: Option<u16>,
    latency_ms: i64,
    excerpt: Option<String>,
    error: Option<String>,
    retry_after_ms: Option<i64>,
}

/// `url` is `out.url` parsed (`None`: it does not parse), once per claim and endpoint.
async fn send(state: &AppState, out: &Outgoing, url: Option<reqwest::Url>, now: i64) -> Sent {
    let refused =
        |error: String| Sent { status: None, latency_ms: 0, excerpt: None, error: Some(error), retry_after_ms: None };
    let Some(url) = url else { return refused("the endpoint's URL does not parse".into()) };
    if !state.config.webhooks.allow_private_targets {
        if let Some(why) = guard::refuse_literal(&url) {
            return refused(format!("refused: {why}"));
        }
    }
    let mut secrets = vec![out.secret.as_str()];
    if let (Some(prev), Some(until)) = (&out.previous_secret, out.previous_secret_until) {
        if now < until {
            secrets.push(prev);
        }
    }
    let timestamp = now.div_euclid(1000);
    let signature = signing::header(&secrets, &out.event_id, timestamp, &out.payload);
    let started = Instant::now();
    let res = state
        .webhook_client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &out.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(out.payload.clone())
        .send()
        .await;
    let mut res = match res {
        Ok(r) => r,
        Err(e) => {
            return Sent {
                status: None,
                latency_ms: started.elapsed().as_millis() as i64,
                excerpt: None,
                error: Some(printable(&describe(&e))),
                retry_after_ms: None,
            }
        }
    };
    let status = res.status();
    let retry_after_ms =
        res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| retry_after(v, now));
    let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut body = Vec::new();
    while body.len() < EXCERPT_BYTES {
        match res.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let latency_ms = started.elapsed().as_millis() as i64;
    let error = if status.is_success() {
        None
    } else if status.is_redirection() {
        Some(format!("redirect not followed (Location: {})", location.as_deref().unwrap_or("none")))
    } else {
        Some(format!("the endpoint answered {status}"))
    };
    Sent {
        status: Some(status.as_u16()),
        latency_ms,
        excerpt: (!body.is_empty()).then(|| excerpt(&body)),
        error: error.map(|e| printable(&e)),
        retry_after_ms,
    }
}

/// The first [`EXCERPT_BYTES`] of a response for the delivery log, as text: cut at a
/// character boundary, and with control characters written out (`\u{0}`), since the
/// receiver's bytes are shown in the dashboard and PostgreSQL's text holds no NUL.
fn excerpt(body: &[u8]) -> String {
    let mut cut = &body[..body.len().min(EXCERPT_BYTES)];
    if cut.len() < body.len() {
        // A character the cut split in two is left out rather than shown as garbage.
        if let Err(e) = std::str::from_utf8(cut) {
            if e.error_len().is_none() {
                cut = &cut[..e.valid_up_to()];
            }
        }
    }
    printable(&String::from_utf8_lossy(cut))
}

/// `text` with control characters other than tab and line breaks written as `\u{…}`.
fn printable(text: &str) -> String {
    if !text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A `Retry-After` in seconds or as an HTTP date, in milliseconds from `now`, at most a
/// day (a longer or absurd one still waits that day, rather than being ignored).
fn retry_after(v: &str, now: i64) -> Option<i64> {
    let v = v.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        let secs = v.parse::<i64>().unwrap_or(i64::MAX);
        return Some(secs.clamp(0, 86_400) * 1000);
    }
    let at = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc2822).ok()?;
    Some(((at.unix_timestamp() * 1000) - now).clamp(0, 86_400_000))
}

/// A transport error in words, naming the guard's refusal when it is the cause.
fn describe(e: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<guard::Refused>() {
            return r.0.clone();
        }
        source = s.source();
    }
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Sends one claimed delivery; what happened, to be recorded.
async fn deliver(state: &AppState, out: &Outgoing, url: Option<reqwest::Url>) -> AttemptResult {
    let now = state.now();
    let sent = send(state, out, url, now).await;
    let done = out.attempts + 1;
    let ok = sent.status.is_some_and(|s| (200..300).contains(&s));
    let gone = sent.status == Some(410);
    let next = if ok {
        Next::Delivered
    } else if gone {
        Next::GaveUp
    } else {
        // RFC 9110 defines `Retry-After` for 429 and for 503.
        let retry_after = sent.retry_after_ms.filter(|_| matches!(sent.status, Some(429 | 503)));
        if out.by_hand {
            // Beside the schedule: the retry it displaced is due again, no sooner than
            // the endpoint asked; a schedule that had ended stays ended.
            out.resume_at.map_or(Next::GaveUp, |at| Next::RetryAt(at.max(now + retry_after.unwrap_or(0))))
        } else {
            next_attempt(done, now, retry_after).map_or(Next::GaveUp, Next::RetryAt)
        }
    };
    let effect = match (ok, gone) {
        (true, _) => EndpointEffect::Healthy,
        (_, true) => EndpointEffect::Gone,
        _ => EndpointEffect::Failing { disable_after_ms: state.config.webhooks.disable_after_days * 86_400_000 },
    };
    AttemptResult {
        at: now,
        by_hand: out.by_hand,
        status_code: sent.status.map(i64::from),
        latency_ms: sent.latency_ms,
        response_excerpt: sent.excerpt,
        error: sent.error,
        next,
        effect,
    }
}

/// A sent attempt on its way to the recorder: its region database (by index), the
/// claim, the account, the result.
type Attempted = (usize, Claimed, String, AttemptResult);

/// Records attempts in batches (one transaction per region database per batch: on
/// SQLite's single writer, a transaction per attempt would be the bottleneck). A batch
/// that fails to commit leaves its deliveries pending; they are sent again (at least
/// once): on PostgreSQL when their lease ends, on SQLite a second later.
async fn run_recorder(state: AppState, mut rx: tokio::sync::mpsc::Receiver<Attempted>, held: Held) {
    const BATCH: usize = 1024;
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let regions = state.regions.databases();
        let mut by_region: Vec<Vec<(Claimed, String, AttemptResult)>> = regions.iter().map(|_| Vec::new()).collect();
        for (i, c, account, r) in batch {
            if let Some(mine) = by_region.get_mut(i) {
                mine.push((c, account, r));
            }
        }
        for (region, mine) in regions.iter().zip(by_region) {
            if mine.is_empty() {
                continue;
            }
            record(&state, region, mine, &held).await;
        }
    }
}

/// Records one region database's batch, then lets the worker claim its deliveries
/// again (those whose attempt did not commit are due again).
async fn record(state: &AppState, region: &RegionDb, mine: Vec<(Claimed, String, AttemptResult)>, held: &Held) {
    let recorded = store::record_many(region, &mine).await;
    if recorded.is_err() {
        // A failing database: on SQLite, which takes no lease, the rows are due again
        // once released; wait before sending them again.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    {
        let mut h = held.lock().unwrap_or_else(|e| e.into_inner());
        for (c, _, _) in &mine {
            h.unrecorded.remove(&c.id);
        }
    }
    match recorded {
        Ok((recorded, disabled)) => {
            if recorded < mine.len() {
                tracing::info!(lost = mine.len() - recorded, "webhook attempts whose lease another worker took over");
            }
            if disabled {
                tell_owners(state).await;
            }
        }
        Err(e) => tracing::warn!(error = %e, "recording webhook attempts; they are sent again"),
    }
}

/// What the worker holds: requests in flight per endpoint, leased deliveries waiting
/// for a slot, and every delivery it claimed whose attempt is not recorded yet. The
/// worker never claims one of those again, even when its lease ran out meanwhile (a
/// clock that jumps): a lease guards against other workers, this against itself.
#[derive(Default)]
struct Holding {
    per_endpoint: HashMap<String, usize>,
    queue: VecDeque<Queued>,
    unrecorded: HashSet<String>,
    /// Where the last claim of each region database (by index) stopped reading.
    cursors: HashMap<usize, store::ClaimCursor>,
}
type Held = Arc<Mutex<Holding>>;

/// A claimed delivery waiting for a slot: its region database (by index), the claim,
/// what it sends, and its endpoint's URL parsed.
type Queued = (usize, Claimed, Outgoing, Option<reqwest::Url>);

/// The delivery worker's parts. Claiming and sending overlap: the worker leases up to
/// `max_in_flight` deliveries ahead into a queue, and a slot that frees starts the
/// next queued one at once, so no send waits for a database round trip.
#[derive(Clone)]
struct Worker {
    state: AppState,
    slots: Arc<tokio::sync::Semaphore>,
    held: Held,
    done: Arc<tokio::sync::Notify>,
    recorder: tokio::sync::mpsc::Sender<Attempted>,
    /// Requests in flight at most, and deliveries queued at most.
    max: usize,
}

impl Worker {
    fn held(&self) -> std::sync::MutexGuard<'_, Holding> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Milliseconds a lease must still have for its send to finish under it.
    fn send_ms(&self) -> i64 {
        let w = &self.state.config.webhooks;
        (w.timeout_secs as i64 + w.connect_timeout_secs as i64) * 1000
    }

    /// Leases due deliveries of every region database into the queue, up to
    /// `LEASE_AHEAD` times `max_in_flight` queued, and up to `LEASE_AHEAD` times an
    /// endpoint's in-flight limit queued for one endpoint. Returns how many it leased.
    async fn refill(&self) -> usize {
        let w = &self.state.config.webhooks;
        let mut leased = 0;
        for (index, region) in self.state.regions.databases().iter().enumerate() {
            let (room, busy, unrecorded, mut cursor) = {
                let h = self.held();
                let mut busy = h.per_endpoint.clone();
                for (_, c, _, _) in &h.queue {
                    *busy.entry(c.endpoint_id.clone()).or_default() += 1;
                }
                let cursor = h.cursors.get(&index).cloned().unwrap_or_default();
                ((LEASE_AHEAD * self.max).saturating_sub(h.queue.len()), busy, h.unrecorded.clone(), cursor)
            };
            if room == 0 {
                break;
            }
            let now = self.state.now();
            // The lease outlives a wait in the queue and the request's longest time,
            // with a margin to record it.
            let lease_until = now + 2 * self.send_ms() + 5_000;
            let limits =
                store::ClaimLimits { limit: room.min(256), per_endpoint: (LEASE_AHEAD + 1) * w.per_endpoint_in_flight };
            let claimed = store::claim(region, now, lease_until, limits, &busy, &unrecorded, &mut cursor).await;
            let claimed = match claimed {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming webhook deliveries");
                    continue;
                }
            };
            leased += claimed.len();
            // Parsing a URL costs more than the rest of a request's setup: once per
            // endpoint and claim.
            let mut urls: HashMap<String, Option<reqwest::Url>> = HashMap::new();
            let mut h = self.held();
            h.cursors.insert(index, cursor);
            for (c, out) in claimed {
                let url = urls.entry(out.url.clone()).or_insert_with(|| reqwest::Url::parse(&out.url).ok()).clone();
                h.unrecorded.insert(c.id.clone());
                h.queue.push_back((index, c, out, url));
            }
        }
        leased
    }

    /// Starts queued deliveries while slots are free, skipping those whose endpoint
    /// is at its in-flight limit (a slow endpoint never holds back the others). A
    /// queued delivery whose lease would end before its send could is given back: it
    /// is claimed again once the lease ends.
    fn dispatch(&self) {
        let cap = self.state.config.webhooks.per_endpoint_in_flight;
        let now = self.state.now();
        loop {
            let Ok(permit) = self.slots.clone().try_acquire_owned() else { return };
            let next = {
                let mut h = self.held();
                let send_ms = self.send_ms();
                let mut given_back = Vec::new();
                h.queue.retain(|(_, c, _, _)| {
                    let fresh = c.lease_until - now > send_ms;
                    if !fresh {
                        given_back.push(c.id.clone());
                    }
                    fresh
                });
                for id in &given_back {
                    h.unrecorded.remove(id);
                }
                let at =
                    h.queue.iter().position(|(_, c, _, _)| h.per_endpoint.get(&c.endpoint_id).is_none_or(|n| *n < cap));
                let next = at.and_then(|i| h.queue.remove(i));
                if let Some((_, c, _, _)) = &next {
                    *h.per_endpoint.entry(c.endpoint_id.clone()).or_default() += 1;
                }
                next
            };
            let Some((index, c, out, url)) = next else { return };
            let worker = self.clone();
            tokio::spawn(async move {
                let result = deliver(&worker.state, &out, url).await;
                crate::failpoint::hit("webhook.after_send");
                let (endpoint, id) = (c.endpoint_id.clone(), c.id.clone());
                let lost = worker.recorder.send((index, c, out.account_id, result)).await.is_err();
                {
                    let mut h = worker.held();
                    if lost {
                        tracing::warn!("the webhook recorder stopped; the attempt is sent again when its lease ends");
                        h.unrecorded.remove(&id);
                    }
                    if let Some(n) = h.per_endpoint.get_mut(&endpoint) {
                        *n -= 1;
                        if *n == 0 {
                            h.per_endpoint.remove(&endpoint);
                        }
                    }
                }
                drop(permit);
                worker.dispatch();
                worker.done.notify_one();
            });
        }
    }
}

/// Emails the Owner(s) of each workspace whose endpoint the service disabled for
/// failing; the endpoint's flag is cleared once the email is queued (a crash between
/// the two sends it again: at least once).
pub async fn tell_owners(state: &AppState) {
    for region in state.regions.databases() {
        let pending = match store::to_notify(region, 100).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "reading disabled webhooks to report");
                continue;
            }
        };
        for e in pending {
            if let Err(err) = tell_owner(state, region, &e).await {
                tracing::warn!(endpoint = %e.id, error = %err.detail, "emailing the Owner about a disabled webhook");
            }
        }
    }
}

async fn tell_owner(state: &AppState, region: &RegionDb, e: &store::ToNotify) -> ApiResult<()> {
    let mut tx = state.db.begin().await?;
    let owners = callplane_store::members::owner_emails(&mut tx, &e.workspace_id).await?;
    let name = callplane_store::workspaces::name_of(&mut tx, &e.workspace_id).await?.unwrap_or_default();
    let reason = e.disabled_reason.as_deref().unwrap_or("failing");
    let subject = format!("A webhook of {name} was disabled");
    let link = match &state.config.server.public_url {
        Some(base) => format!("{}/webhooks/{}", base.trim_end_matches('/'), e.id),
        None => format!("/webhooks/{}", e.id),
    };
    let body = format!(
        "The webhook endpoint {url} of the workspace {name} was disabled: {reason}.\n\n\
         Events for it are no longer sent. When the endpoint works again, enable it on its page \
         (Settings → Webhooks: {link}) and redeliver what it missed.\n",
        url = e.url
    );
    for to in &owners {
        crate::services::email::queue(&mut tx, state, to, &subject, &body).await?;
    }
    tx.commit().await?;
    state.email_wakeup.notify_one();
    store::notified(region, &e.workspace_id, &e.id).await?;
    Ok(())
}

/// Milliseconds until the earliest pending delivery is due (a second when none is).
async fn next_due_in(state: &AppState) -> i64 {
    let mut next = None::<i64>;
    for region in state.regions.databases() {
        if let Ok(Some(at)) = store::next_due(region).await {
            next = Some(next.map_or(at, |n: i64| n.min(at)));
        }
    }
    next.map_or(1_000, |at| at - state.now())
}

/// Drains the outboxes: woken when an event is written or a send finishes, otherwise
/// when the next delivery is due (at most a second later).
pub async fn run_worker(state: AppState) {
    let max = state.config.webhooks.max_in_flight.max(1);
    let held: Held = Arc::default();
    let (recorder, rx) = tokio::sync::mpsc::channel(max * 16);
    tokio::spawn(run_recorder(state.clone(), rx, held.clone()));
    let worker = Worker {
        state: state.clone(),
        slots: Arc::new(tokio::sync::Semaphore::new(max)),
        held,
        done: Arc::new(tokio::sync::Notify::new()),
        recorder,
        max,
    };
    let mut last_report = 0;
    loop {
        // Lease ahead once a slot's worth of the queue is free, in batches.
        let queued = worker.held().queue.len();
        let full = queued > (LEASE_AHEAD - 1) * max;
        let leased = if !full { worker.refill().await } else { 0 };
        worker.dispatch();
        if state.now() - last_report >= 60_000 {
            last_report = state.now();
            tell_owners(&state).await;
        }
        if leased == 0 {
            // Queue full: the next send to finish wakes the loop; idle: the next due one.
            // Due now yet not claimed: held, its endpoint full, or behind the cursor (the
            // claim that found nothing read from the start): a send finishing wakes the
            // loop, or a second passes (and a lease that ran out is taken over).
            let wait = if full {
                1_000
            } else {
                Some(next_due_in(&state).await).filter(|&d| d > 0).unwrap_or(1_000).min(1_000)
            };
            tokio::select! {
                _ = state.webhook_wakeup.notified() => {}
                _ = worker.done.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e2_the_schedule_backs_off_with_jitter_and_ends() {
        for (done, secs) in SCHEDULE_SECS.iter().enumerate().skip(1) {
            for _ in 0..50 {
                let at = next_attempt(done as i64, 0, None).unwrap();
                assert!((secs * 900..=secs * 1100).contains(&at), "attempt {done}: {at} ms");
            }
        }
        assert_eq!(next_attempt(SCHEDULE_SECS.len() as i64, 0, None), None, "eight attempts in all");
        assert!(next_attempt(1, 0, Some(60_000)).unwrap() >= 60_000, "Retry-After is honoured");
    }

    #[test]
    fn e2_retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after("120", 0), Some(120_000));
        let now = 1_445_412_480_000; // 2015-10-21T07:28:00Z
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now), Some(60_000));
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("99999999999999999999", now), Some(86_400_000), "absurd: capped at a day");
        assert_eq!(retry_after("-5", now), None);
    }

    #[test]
    fn e2_excerpts_are_printable_and_cut_between_characters() {
        assert_eq!(excerpt(b"\xff\xfe\x00binary\x00\x1b[31m\n"), "\u{fffd}\u{fffd}\\u{0}binary\\u{0}\\u{1b}[31m\n");
        let long = format!("a{}", "é".repeat(3000));
        let cut = excerpt(long.as_bytes());
        assert!(cut.len() <= EXCERPT_BYTES && cut.len() >= EXCERPT_BYTES - 2, "{}", cut.len());
        assert!(cut.ends_with('é') && !cut.contains('\u{fffd}'), "cut between characters");
        assert_eq!(excerpt("ok ✓".as_bytes()), "ok ✓");
    }
}
