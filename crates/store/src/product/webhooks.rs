//! Webhooks (SPEC E1–E3) in the workspace's region database: endpoints, the outbox of
//! events, one delivery per event and endpoint, and every attempt.
//!
//! Events are written by [`enqueue`] in the transaction of the change that caused them,
//! each delivery with its row in the queue (`webhook_queue`: a delivery is pending if
//! and only if it is queued, and due at its row's `due_at`). The delivery worker
//! [`claim`]s due deliveries with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
//! replicas never take the same row), sends them, and records each attempt
//! ([`record_many`]) only while its lease is still the one it took.

use std::collections::{HashMap, HashSet};

use super::InWorkspace;
use crate::db::{Ex, Raw};
use crate::error::Result;
use crate::regions::RegionDb;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Endpoint {
    pub id: String,
    /// Set for an agent's own endpoint (only that agent's events).
    pub agent_id: Option<String>,
    pub url: String,
    pub description: String,
    /// JSON array of event types; empty: every event.
    pub event_types: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<i64>,
    pub failing_since: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Endpoint {
    /// The event types it receives (empty: all).
    pub fn types(&self) -> Vec<String> {
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }
}

/// Whether an endpoint with these `event_types` (its JSON column) receives type `t`.
pub fn wants(event_types: &str, t: &str) -> bool {
    let types: Vec<String> = serde_json::from_str(event_types).unwrap_or_default();
    types.is_empty() || types.iter().any(|x| x == t)
}

const ENDPOINT_COLUMNS: &str = "id, agent_id, url, description, event_types, enabled, disabled_reason, secret,
    previous_secret, previous_secret_until, failing_since, created_at, updated_at";

/// A new endpoint's fields.
#[derive(Debug, Clone)]
pub struct NewEndpoint<'a> {
    pub id: &'a str,
    pub agent_id: Option<&'a str>,
    pub url: &'a str,
    pub description: &'a str,
    pub event_types: &'a str,
    pub enabled: bool,
    pub secret: &'a str,
}

pub async fn create(ex: &mut impl InWorkspace, e: &NewEndpoint<'_>, now: i64) -> Result<Endpoint> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO webhook_endpoints (workspace_id, id, agent_id, url, description, event_types, enabled, secret,
                                        created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {ENDPOINT_COLUMNS}"
    )))
    .bind(&ws)
    .bind(e.id)
    .bind(e.agent_id)
    .bind(e.url)
    .bind(e.description)
    .bind(e.event_types)
    .bind(e.enabled)
    .bind(e.secret)
    .bind(now)
    .fetch_one(c)
    .await)?)
}

pub async fn get(ex: &mut impl InWorkspace, id: &str) -> Result<Option<Endpoint>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(&ws)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// The agent's own endpoint.
pub async fn for_agent(ex: &mut impl InWorkspace, agent_id: &str) -> Result<Option<Endpoint>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = $1 AND agent_id = $2"
    )))
    .bind(&ws)
    .bind(agent_id)
    .fetch_optional(c)
    .await)?)
}

/// One page, newest first.
pub async fn list(ex: &mut impl InWorkspace, before_id: Option<&str>, limit: i64) -> Result<Vec<Endpoint>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE workspace_id = $1 AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    )))
    .bind(&ws)
    .bind(before_id)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// An endpoint's changeable fields, as they will be.
#[derive(Debug, Clone)]
pub struct EndpointFields<'a> {
    pub url: &'a str,
    pub description: &'a str,
    pub event_types: &'a str,
    pub enabled: bool,
}

/// Saves the fields; enabling an endpoint clears why it was disabled and its failing
/// streak. An agent's endpoint carries its URL to the agent.
pub async fn update(ex: &mut impl InWorkspace, id: &str, f: &EndpointFields<'_>, now: i64) -> Result<Option<Endpoint>> {
    let ws = ex.workspace_id().to_owned();
    let e: Option<Endpoint> = on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_endpoints SET url = $3, description = $4, event_types = $5, enabled = $6,
                disabled_reason = CASE WHEN $6 THEN NULL ELSE disabled_reason END,
                failing_since = CASE WHEN $6 AND NOT enabled THEN NULL ELSE failing_since END,
                notify_pending = CASE WHEN $6 THEN FALSE ELSE notify_pending END, updated_at = $7
         WHERE workspace_id = $1 AND id = $2 RETURNING {ENDPOINT_COLUMNS}"
    )))
    .bind(&ws)
    .bind(id)
    .bind(f.url)
    .bind(f.description)
    .bind(f.event_types)
    .bind(f.enabled)
    .bind(now)
    .fetch_optional(c)
    .await)?;
    if let Some(agent) = e.as_ref().and_then(|e| e.agent_id.as_deref()) {
        execute!(ex, "UPDATE agents SET webhook_url = $3 WHERE workspace_id = $1 AND id = $2", &ws, agent, f.url)?;
    }
    Ok(e)
}

/// Makes `secret` the signing secret; the current one keeps signing beside it until
/// `previous_until`.
pub async fn rotate(ex: &mut impl InWorkspace, id: &str, secret: &str, previous_until: i64, now: i64) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    Ok(execute!(
        ex,
        "UPDATE webhook_endpoints SET previous_secret = secret, previous_secret_until = $4, secret = $3, updated_at = $5
         WHERE workspace_id = $1 AND id = $2",
        &ws,
        id,
        secret,
        previous_until,
        now
    )? > 0)
}

/// Deletes an endpoint with its deliveries and log; an agent's endpoint clears the
/// agent's webhook URL.
pub async fn delete(ex: &mut impl InWorkspace, id: &str) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "UPDATE agents SET webhook_url = NULL WHERE workspace_id = $1
           AND id = (SELECT agent_id FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2)",
        &ws,
        id
    )?;
    Ok(execute!(ex, "DELETE FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2", &ws, id)? > 0)
}

/// Removes the agent's endpoint (its webhook URL was cleared).
pub async fn delete_for_agent(ex: &mut impl InWorkspace, agent_id: &str) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    Ok(execute!(ex, "DELETE FROM webhook_endpoints WHERE workspace_id = $1 AND agent_id = $2", &ws, agent_id)? > 0)
}

/// Points the agent's endpoint at its new URL.
pub async fn set_agent_url(ex: &mut impl InWorkspace, agent_id: &str, url: &str, now: i64) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    Ok(execute!(
        ex,
        "UPDATE webhook_endpoints SET url = $3, updated_at = $4 WHERE workspace_id = $1 AND agent_id = $2",
        &ws,
        agent_id,
        url,
        now
    )? > 0)
}

/// The enabled endpoints an event about `agent_id` (or about no agent) may go to: the
/// workspace's, and that agent's own. The caller applies each one's type filter.
pub async fn recipients(ex: &mut impl InWorkspace, agent_id: Option<&str>) -> Result<Vec<(String, String)>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT id, event_types FROM webhook_endpoints
         WHERE workspace_id = $1 AND enabled AND (agent_id IS NULL OR agent_id = $2)"
    )
    .bind(&ws)
    .bind(agent_id)
    .fetch_all(c)
    .await)?)
}

/// An event for the outbox: its id (the `webhook-id`), type and the body every delivery
/// sends.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    pub payload: &'a str,
}

/// Writes the event and a pending delivery to each endpoint, due now.
pub async fn enqueue(ex: &mut impl InWorkspace, e: &NewEvent<'_>, endpoint_ids: &[&str], now: i64) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "INSERT INTO webhook_events (workspace_id, id, type, payload, created_at) VALUES ($1, $2, $3, $4, $5)",
        &ws,
        e.id,
        e.event_type,
        e.payload,
        now
    )?;
    for endpoint in endpoint_ids {
        let id = callplane_domain::id::new_id("dlv");
        execute!(
            ex,
            "INSERT INTO webhook_deliveries (workspace_id, id, endpoint_id, event_id, status, attempts, created_at,
                                             updated_at)
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5)",
            &ws,
            &id,
            *endpoint,
            e.id,
            now
        )?;
        execute!(
            ex,
            "INSERT INTO webhook_queue (workspace_id, delivery_id, endpoint_id, due_at) VALUES ($1, $2, $3, $4)",
            &ws,
            &id,
            *endpoint,
            now
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Delivery {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed` (the retry schedule ran out).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A delivery with its event, and its queue row while it is pending.
const DELIVERY_TABLES: &str = "webhook_deliveries d
         JOIN webhook_events e ON e.workspace_id = d.workspace_id AND e.id = d.event_id
         LEFT JOIN webhook_queue q ON q.workspace_id = d.workspace_id AND q.delivery_id = d.id";

const DELIVERY_COLUMNS: &str = "d.id, d.endpoint_id, d.event_id, e.type AS event_type, d.status,
    CAST(d.attempts AS BIGINT) AS attempts, q.due_at AS next_attempt_at, CAST(d.last_status AS BIGINT) AS last_status,
    d.last_error, d.created_at, d.updated_at";

pub async fn delivery(ex: &mut impl InWorkspace, id: &str) -> Result<Option<Delivery>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_TABLES}
         WHERE d.workspace_id = $1 AND d.id = $2"
    )))
    .bind(&ws)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// An endpoint's deliveries, newest first, optionally of one status.
pub async fn deliveries(
    ex: &mut impl InWorkspace,
    endpoint_id: &str,
    status: Option<&str>,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Delivery>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DELIVERY_COLUMNS} FROM {DELIVERY_TABLES}
         WHERE d.workspace_id = $1 AND d.endpoint_id = $2 AND ($3 IS NULL OR d.status = $3)
           AND ($4 IS NULL OR d.id < $4)
         ORDER BY d.id DESC LIMIT $5"
    )))
    .bind(&ws)
    .bind(endpoint_id)
    .bind(status)
    .bind(before_id)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// Schedules one more attempt of a delivery, now (by hand: "redeliver"). Its
/// `webhook-id` stays the event's, so receivers can tell it is the same event. The
/// attempt is beside the retry schedule: if it fails, a retry it displaced is due when
/// it was, and a delivery whose schedule had ended stays failed.
/// Refused (false) while a worker holds the delivery's lease: that attempt is in flight.
pub async fn redeliver(ex: &mut impl InWorkspace, id: &str, now: i64) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    let queued = execute!(
        ex,
        "INSERT INTO webhook_queue (workspace_id, delivery_id, endpoint_id, due_at, by_hand)
         SELECT workspace_id, id, endpoint_id, $3, TRUE FROM webhook_deliveries WHERE workspace_id = $1 AND id = $2
         ON CONFLICT (workspace_id, delivery_id) DO UPDATE SET due_at = excluded.due_at, by_hand = TRUE,
             resume_at = CASE WHEN webhook_queue.by_hand THEN webhook_queue.resume_at ELSE webhook_queue.due_at END
         WHERE webhook_queue.lease_until IS NULL",
        &ws,
        id,
        now
    )?;
    if queued == 0 {
        return Ok(false);
    }
    execute!(
        ex,
        "UPDATE webhook_deliveries SET status = 'pending', updated_at = $3
         WHERE workspace_id = $1 AND id = $2",
        &ws,
        id,
        now
    )?;
    Ok(true)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Attempt {
    pub id: String,
    pub delivery_id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub at: i64,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

/// The delivery log: an endpoint's attempts (or one delivery's), newest first.
pub async fn attempts(
    ex: &mut impl InWorkspace,
    endpoint_id: &str,
    delivery_id: Option<&str>,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Attempt>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT a.id, a.delivery_id, a.endpoint_id, d.event_id, e.type AS event_type, a.at,
                CAST(a.status_code AS BIGINT) AS status_code, a.latency_ms, a.response_excerpt, a.error
         FROM webhook_attempts a
         JOIN webhook_deliveries d ON d.workspace_id = a.workspace_id AND d.id = a.delivery_id
         JOIN webhook_events e ON e.workspace_id = d.workspace_id AND e.id = d.event_id
         WHERE a.workspace_id = $1 AND a.endpoint_id = $2 AND ($3 IS NULL OR a.delivery_id = $3)
           AND ($4 IS NULL OR a.id < $4)
         ORDER BY a.id DESC LIMIT $5"
    )
    .bind(&ws)
    .bind(endpoint_id)
    .bind(delivery_id)
    .bind(before_id)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// Counts of an endpoint's deliveries by status: (pending, delivered, failed).
pub async fn counts(ex: &mut impl InWorkspace, endpoint_id: &str) -> Result<(i64, i64, i64)> {
    let ws = ex.workspace_id().to_owned();
    let rows: Vec<(String, i64)> = on!(ex, |c| {
        sqlx::query_as(
        "SELECT status, COUNT(*) FROM webhook_deliveries WHERE workspace_id = $1 AND endpoint_id = $2 GROUP BY status"
    )
    .bind(&ws)
    .bind(endpoint_id)
    .fetch_all(c)
    .await
    })?;
    let of = |s: &str| rows.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
    Ok((of("pending"), of("delivered"), of("failed")))
}

/// A delivery leased by a worker until `lease_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub workspace_id: String,
    pub id: String,
    pub endpoint_id: String,
    pub lease_until: i64,
}

/// What a claimed delivery sends, and to where.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Outgoing {
    pub workspace_id: String,
    pub id: String,
    pub endpoint_id: String,
    pub account_id: String,
    pub url: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<i64>,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    /// Attempts on the retry schedule so far (those by hand left out).
    pub attempts: i64,
    /// This attempt is a redelivery by hand, beside the schedule.
    pub by_hand: bool,
    /// For an attempt by hand: when the schedule resumes if it fails (`None`: it had
    /// ended).
    pub resume_at: Option<i64>,
}

/// Where a worker's last claim stopped reading the due index, so the next one starts
/// there instead of reading again past every delivery the worker holds: on SQLite they
/// stay due until recorded (a SQLite claim writes nothing), and on PostgreSQL a lease
/// is written in place (an update PostgreSQL keeps out of the indexes) so leased rows
/// stay in the due index too. A delivery that became due behind the cursor (its event
/// committed late, or its endpoint was full when the scan passed) is found by the next
/// scan from the start: when a claim reaches the end of the due rows, and at least
/// every [`CURSOR_RESCAN_MS`].
#[derive(Debug, Clone, Default)]
pub struct ClaimCursor {
    /// The last row read: `due_at` and id (the due index's order).
    after: Option<(i64, String)>,
    /// When the scan from the start it continues began.
    since: i64,
}

/// How long a [`ClaimCursor`] is followed before a claim scans from the start again.
pub const CURSOR_RESCAN_MS: i64 = 500;

/// How much one claim may take.
#[derive(Debug, Clone, Copy)]
pub struct ClaimLimits {
    pub limit: usize,
    /// Requests in flight per endpoint, counting the ones the worker already sends (so
    /// one slow endpoint cannot take every slot).
    pub per_endpoint: usize,
}

/// Claims up to `limit` due deliveries of enabled endpoints in this region database,
/// at most `per_endpoint` for each endpoint counting the `in_flight` ones this worker
/// already sends, and none of the `held` ones (claimed by this worker, not recorded
/// yet); returns them with what to send.
///
/// On PostgreSQL, where replicas share the queue, the claim is a lease written by key:
/// the due rows are locked as they are read (`FOR UPDATE SKIP LOCKED`: replicas skip
/// each other's), leased until `lease_until`, and only an attempt under its lease is
/// recorded; a lease that ran out unrecorded is taken over by the next claim. On
/// SQLite only one process serves a database (a second `serve` is refused), so the
/// worker's `held` set alone keeps a row from being claimed twice: the claim writes
/// nothing (one `UPDATE` per delivery less on the single writer), and `lease_until`
/// is only the worker's deadline for starting the send. Both read from `cursor` on.
pub async fn claim(
    region: &RegionDb,
    now: i64,
    lease_until: i64,
    limits: ClaimLimits,
    in_flight: &HashMap<String, usize>,
    held: &HashSet<String>,
    cursor: &mut ClaimCursor,
) -> Result<Vec<(Claimed, Outgoing)>> {
    let pg = region.backend() == "postgres";
    // Endpoints at their limit are left out by the scan itself, so a slow endpoint's
    // backlog is not read over and over.
    let full: Vec<&str> =
        in_flight.iter().filter(|(_, n)| **n >= limits.per_endpoint).map(|(e, _)| e.as_str()).collect();
    let full = serde_json::to_string(&full).unwrap_or_else(|_| "[]".into());
    if !pg {
        let mut conn = region.conn().await?;
        let due = scan_from(&mut conn, pg, now, &full, (limits.limit, limits.limit + held.len()), cursor).await?;
        let picked = pick(&due, limits, in_flight, held);
        let sends = to_send(&mut conn, pg, &picked).await?;
        return Ok(claimed(&picked, sends, lease_until));
    }
    // A held row is only due again when its lease ran out before it was recorded (a
    // clock that jumps): rare enough to cost a claim a few rows rather than every
    // claim a longer scan, and to lock no more rows than it takes.
    let mut tx = region.begin_index_walks().await?;
    let due = scan_from(&mut tx, pg, now, &full, (limits.limit, limits.limit), cursor).await?;
    let mut picked = pick(&due, limits, in_flight, held);
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    // `UPDATE … FROM` a list of keys looks each one up. The rows are locked since the
    // scan; naming the claim's conditions here would let stale statistics (a queue
    // filled since the last analyse looks empty) plan the lookups as a walk of the due
    // index per key.
    let lease = format!(
        "UPDATE webhook_queue SET lease_until = $1 FROM {keys} v
         WHERE webhook_queue.workspace_id = v.workspace_id AND webhook_queue.delivery_id = v.id
         RETURNING webhook_queue.delivery_id",
        keys = crate::db::json_table(pg, 2, &[("workspace_id", "TEXT"), ("id", "TEXT")])
    );
    let keys: Vec<(&str, &str)> = picked.iter().map(|d| (d.workspace_id.as_str(), d.id.as_str())).collect();
    let leased: Vec<(String,)> = on!(&mut tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(lease))
        .bind(lease_until)
        .bind(json(&keys))
        .fetch_all(&mut *c)
        .await)?;
    let leased: HashSet<String> = leased.into_iter().map(|(id,)| id).collect();
    picked.retain(|d| leased.contains(&d.id));
    let sends = to_send(&mut tx, pg, &picked).await?;
    tx.commit().await?;
    Ok(claimed(&picked, sends, lease_until))
}

/// The due rows a claim reads: `limit` from the cursor on, or, when the cursor is
/// unset, stale, or reaches the end of the due rows, `from_start` from the start (past
/// the rows the worker holds). Moves the cursor to the last row read.
async fn scan_from(
    ex: &mut impl Raw,
    pg: bool,
    now: i64,
    full: &str,
    (limit, from_start): (usize, usize),
    cursor: &mut ClaimCursor,
) -> Result<Vec<Due>> {
    if !(0..CURSOR_RESCAN_MS).contains(&(now - cursor.since)) {
        cursor.after = None;
    }
    if let Some(after) = cursor.after.take() {
        let due = scan_due(ex, pg, now, full, (after.0, &after.1), limit).await?;
        if due.len() == limit {
            cursor.after = due.last().map(|d| (d.due_at, d.id.clone()));
            return Ok(due);
        }
    }
    let due = scan_due(ex, pg, now, full, (i64::MIN, ""), from_start).await?;
    *cursor = match due.len() == from_start {
        true => ClaimCursor { after: due.last().map(|d| (d.due_at, d.id.clone())), since: now },
        false => ClaimCursor::default(),
    };
    Ok(due)
}

/// Up to `n` due deliveries after the row `after` (see [`due_sql`]).
async fn scan_due(ex: &mut impl Raw, pg: bool, now: i64, full: &str, after: (i64, &str), n: usize) -> Result<Vec<Due>> {
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(due_sql(pg)))
        .bind(now)
        .bind(full)
        .bind(n as i64)
        .bind(after.0)
        .bind(after.1)
        .fetch_all(&mut *c)
        .await)?)
}

/// The scanned rows a claim takes: not held, and within each endpoint's limit.
fn pick<'a>(
    due: &'a [Due],
    limits: ClaimLimits,
    in_flight: &HashMap<String, usize>,
    held: &HashSet<String>,
) -> Vec<&'a Due> {
    let mut taken: HashMap<&str, usize> = HashMap::new();
    let mut picked = Vec::new();
    for row in due {
        if picked.len() == limits.limit {
            break;
        }
        if held.contains(&row.id) {
            continue;
        }
        let endpoint = row.endpoint_id.as_str();
        let busy = in_flight.get(endpoint).copied().unwrap_or(0) + taken.get(endpoint).copied().unwrap_or(0);
        if busy < limits.per_endpoint {
            *taken.entry(endpoint).or_default() += 1;
            picked.push(row);
        }
    }
    picked
}

/// The claimed deliveries, with what each sends (row `i` of `sends` is `picked[i]`'s;
/// a delivery whose endpoint was not read is left out, and is due again when
/// its lease ends).
fn claimed(picked: &[&Due], sends: Sends, lease_until: i64) -> Vec<(Claimed, Outgoing)> {
    let Sends { rows, targets } = sends;
    rows.into_iter()
        .filter_map(|s| {
            let d = *picked.get(usize::try_from(s.i).ok()?)?;
            let t = targets.iter().find(|t| t.workspace_id == d.workspace_id && t.endpoint_id == d.endpoint_id)?;
            let claimed = Claimed {
                workspace_id: d.workspace_id.clone(),
                id: d.id.clone(),
                endpoint_id: d.endpoint_id.clone(),
                lease_until,
            };
            let out = Outgoing {
                workspace_id: d.workspace_id.clone(),
                id: d.id.clone(),
                endpoint_id: d.endpoint_id.clone(),
                account_id: t.account_id.clone(),
                url: t.url.clone(),
                secret: t.secret.clone(),
                previous_secret: t.previous_secret.clone(),
                previous_secret_until: t.previous_secret_until,
                event_id: s.event_id,
                event_type: s.event_type,
                payload: s.payload,
                attempts: s.attempts,
                by_hand: d.by_hand,
                resume_at: d.resume_at,
            };
            Some((claimed, out))
        })
        .collect()
}

/// The queued deliveries of enabled endpoints not in a JSON list of full ones, due by
/// `$1`, in the due index's order (due time, id) after `($4, $5)`: `$2` the list, `$3`
/// how many. On PostgreSQL a delivery whose lease ran out is due again.
fn due_sql(pg: bool) -> String {
    let (unleased, not_full, lock) = if pg {
        (
            "(q.lease_until IS NULL OR q.lease_until < $1)",
            "NOT (q.endpoint_id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb))))",
            " FOR UPDATE OF q SKIP LOCKED",
        )
    } else {
        ("q.lease_until IS NULL", "q.endpoint_id NOT IN (SELECT value FROM json_each($2))", "")
    };
    format!(
        "SELECT q.workspace_id, q.delivery_id AS id, q.endpoint_id, q.due_at, q.by_hand, q.resume_at
         FROM webhook_queue q
         JOIN webhook_endpoints p ON p.workspace_id = q.workspace_id AND p.id = q.endpoint_id
         WHERE q.due_at <= $1 AND (q.due_at, q.delivery_id) > ($4, $5)
           AND {unleased} AND p.enabled AND {not_full}
         ORDER BY q.due_at, q.delivery_id LIMIT $3{lock}"
    )
}

/// What the picked deliveries send: each one's delivery and event, and once per
/// endpoint its URL, secrets and account (a claim's rows mostly share a few
/// endpoints), looked up by key whatever the planner believes of the tables'
/// statistics: SQLite loops in `CROSS JOIN` order, and PostgreSQL (which reorders
/// joins) runs a `LATERAL` subquery per key.
async fn to_send(ex: &mut impl Raw, pg: bool, picked: &[&Due]) -> Result<Sends> {
    if picked.is_empty() {
        return Ok(Sends::default());
    }
    let keys = crate::db::json_table(pg, 1, &[("i", "BIGINT"), ("workspace_id", "TEXT"), ("id", "TEXT")]);
    let columns = "d.event_id, CAST(d.attempts AS BIGINT) AS attempts, e.type AS event_type, e.payload";
    let scheduled = "CAST(d.attempts - d.by_hand_attempts AS BIGINT) AS attempts";
    let delivery = "d.workspace_id = v.workspace_id AND d.id = v.id";
    let event = "e.workspace_id = v.workspace_id AND e.id = d.event_id";
    // The delivery first (its event is named by it), each lookup a subquery of its own
    // so PostgreSQL cannot plan the event by workspace alone.
    let read = if pg {
        format!(
            "SELECT v.i, x.* FROM {keys} v
             CROSS JOIN LATERAL (SELECT d.event_id, {scheduled} FROM webhook_deliveries d WHERE {delivery} LIMIT 1) d
             CROSS JOIN LATERAL (SELECT {columns} FROM webhook_events e WHERE {event} LIMIT 1) x"
        )
    } else {
        format!(
            "SELECT v.i, d.event_id, {scheduled}, e.type AS event_type, e.payload
             FROM {keys} v CROSS JOIN webhook_deliveries d CROSS JOIN webhook_events e
             WHERE {delivery} AND {event}"
        )
    };
    let rows: Vec<(usize, &str, &str)> =
        picked.iter().enumerate().map(|(i, d)| (i, d.workspace_id.as_str(), d.id.as_str())).collect();
    let rows: Vec<ToSend> =
        on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(read)).bind(json(&rows)).fetch_all(&mut *c).await)?;

    let mut endpoints: Vec<(&str, &str)> =
        picked.iter().map(|d| (d.workspace_id.as_str(), d.endpoint_id.as_str())).collect();
    endpoints.sort_unstable();
    endpoints.dedup();
    let keys = crate::db::json_table(pg, 1, &[("workspace_id", "TEXT"), ("endpoint_id", "TEXT")]);
    let columns = "a.account_id, p.url, p.secret, p.previous_secret, p.previous_secret_until";
    let tables = "webhook_endpoints p CROSS JOIN workspace_anchors a";
    let keyed = "p.workspace_id = v.workspace_id AND p.id = v.endpoint_id AND a.workspace_id = v.workspace_id";
    let read = if pg {
        format!(
            "SELECT v.workspace_id, v.endpoint_id, x.* FROM {keys} v
             CROSS JOIN LATERAL (SELECT {columns} FROM {tables} WHERE {keyed} LIMIT 1) x"
        )
    } else {
        format!("SELECT v.workspace_id, v.endpoint_id, {columns} FROM {keys} v CROSS JOIN {tables} WHERE {keyed}")
    };
    let targets =
        on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(read)).bind(json(&endpoints)).fetch_all(&mut *c).await)?;
    Ok(Sends { rows, targets })
}

/// Rows for a [`crate::db::json_table`].
fn json(rows: &impl serde::Serialize) -> String {
    serde_json::to_string(rows).unwrap_or_else(|_| "[]".into())
}

/// A due delivery, as the claim scans it from the queue.
#[derive(sqlx::FromRow)]
struct Due {
    workspace_id: String,
    id: String,
    endpoint_id: String,
    due_at: i64,
    by_hand: bool,
    resume_at: Option<i64>,
}

/// What the claim reads for the `i`th picked delivery.
#[derive(sqlx::FromRow)]
struct ToSend {
    i: i64,
    event_id: String,
    attempts: i64,
    event_type: String,
    payload: String,
}

/// Where a claim's deliveries to one endpoint go, and how they are signed.
#[derive(sqlx::FromRow)]
struct Target {
    workspace_id: String,
    endpoint_id: String,
    account_id: String,
    url: String,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_until: Option<i64>,
}

/// What [`to_send`] read: the picked deliveries' rows, and their endpoints (a claim
/// takes at most a few hundred rows, so a scan finds one's endpoint).
#[derive(Default)]
struct Sends {
    rows: Vec<ToSend>,
    targets: Vec<Target>,
}

/// What became of the delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    /// Failed; tried again at this time.
    RetryAt(i64),
    /// Failed, and the schedule ran out (or the endpoint is gone).
    GaveUp,
}

/// What the attempt did to its endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointEffect {
    /// It answered with success: its failing streak ends.
    Healthy,
    /// It failed; disabled (with an audit event and the Owner told) once the streak is
    /// older than `disable_after_ms`.
    Failing { disable_after_ms: i64 },
    /// It answered `410 Gone`: disabled now.
    Gone,
}

/// One attempt's result.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub at: i64,
    /// A redelivery by hand (counted beside the schedule's attempts).
    pub by_hand: bool,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    pub next: Next,
    pub effect: EndpointEffect,
}

/// Records attempts of claimed deliveries (each with its account), their next state
/// and their endpoints' health, in one transaction; an attempt whose lease was lost
/// meanwhile (another worker took the row over; on SQLite: the delivery is no longer
/// queued) is skipped. Returns how many were
/// recorded, and whether an endpoint was disabled.
///
/// Set-based: a statement or two move every delivery still under its lease out of the
/// queue (or back into it, due later), one gives them their outcome, one inserts their
/// attempts (a statement per attempt made the PostgreSQL recorder the bottleneck: each
/// is a round trip); only endpoint health goes row by row, once per endpoint for
/// successes.
pub async fn record_many(region: &RegionDb, results: &[(Claimed, String, AttemptResult)]) -> Result<(usize, bool)> {
    if results.is_empty() {
        return Ok((0, false));
    }
    let pg = region.backend() == "postgres";
    let mut tx = region.begin_index_walks().await?;
    let moved = move_deliveries(&mut tx, pg, results).await?;
    let mut recorded: Vec<&(Claimed, String, AttemptResult)> =
        results.iter().filter(|(c, _, _)| moved.contains(&c.id)).collect();
    insert_attempts(&mut tx, pg, &recorded).await?;
    // Endpoints are updated in key order: replicas recording at once on PostgreSQL
    // then lock the endpoints they share in the same order, and never deadlock.
    recorded.sort_by(|(a, _, _), (b, _, _)| (&a.workspace_id, &a.endpoint_id).cmp(&(&b.workspace_id, &b.endpoint_id)));

    let mut disabled_any = false;
    // A success clears its endpoint's failing streak once per batch.
    let mut healthy: Vec<(&str, &str)> = Vec::new();
    for (c, account_id, r) in recorded {
        if matches!(r.effect, EndpointEffect::Healthy) {
            let key = (c.workspace_id.as_str(), c.endpoint_id.as_str());
            if healthy.contains(&key) {
                continue;
            }
            healthy.push(key);
        }
        disabled_any |= apply_effect(&mut tx, c, account_id, r).await?;
    }
    tx.commit().await?;
    Ok((moved.len(), disabled_any))
}

/// Moves each delivery still under the lease its worker took to its next state; the
/// ids it moved. Its queue row goes (delivered, failed) or is due again (a retry), then
/// the moved deliveries take their outcome: three statements per batch, and on
/// PostgreSQL no new index entry for a delivery that is done (see migration 0018).
async fn move_deliveries(
    tx: &mut crate::db::Tx,
    pg: bool,
    results: &[(Claimed, String, AttemptResult)],
) -> Result<HashSet<String>> {
    // Only rows still under their worker's lease; on SQLite (no leases, see [`claim`])
    // still queued: a delivery deleted or finished meanwhile is not brought back.
    let (mut done, mut retried) = (Vec::new(), Vec::new());
    for (c, _, r) in results {
        let lease = pg.then_some(c.lease_until);
        match r.next {
            Next::RetryAt(at) => retried.push((&c.workspace_id, &c.id, lease, at)),
            Next::Delivered | Next::GaveUp => done.push((&c.workspace_id, &c.id, lease)),
        }
    }
    let mut moved = HashSet::new();
    if !done.is_empty() {
        let (columns, held) = if pg {
            ("workspace_id, delivery_id, lease_until", "workspace_id, id, lease_until")
        } else {
            ("workspace_id, delivery_id", "workspace_id, id")
        };
        let sql = format!(
            "DELETE FROM webhook_queue WHERE ({columns}) IN (SELECT {held} FROM {keys} v) RETURNING delivery_id",
            keys = crate::db::json_table(pg, 1, &[("workspace_id", "TEXT"), ("id", "TEXT"), ("lease_until", "BIGINT")])
        );
        moved.extend(returned_ids(tx, sql, &done).await?);
    }
    if !retried.is_empty() {
        let held = if pg { " AND webhook_queue.lease_until = v.lease_until" } else { "" };
        let sql = format!(
            "UPDATE webhook_queue SET due_at = v.next_at, lease_until = NULL, by_hand = FALSE, resume_at = NULL
             FROM {keys} v
             WHERE webhook_queue.workspace_id = v.workspace_id AND webhook_queue.delivery_id = v.id{held}
             RETURNING webhook_queue.delivery_id",
            keys = crate::db::json_table(
                pg,
                1,
                &[("workspace_id", "TEXT"), ("id", "TEXT"), ("lease_until", "BIGINT"), ("next_at", "BIGINT")]
            )
        );
        moved.extend(returned_ids(tx, sql, &retried).await?);
    }
    let rows: Vec<_> = results
        .iter()
        .filter(|(c, _, _)| moved.contains(&c.id))
        .map(|(c, _, r)| {
            let status = match r.next {
                Next::Delivered => "delivered",
                Next::RetryAt(_) => "pending",
                Next::GaveUp => "failed",
            };
            (&c.workspace_id, &c.id, status, r.status_code, r.error.as_deref(), r.at, i64::from(r.by_hand))
        })
        .collect();
    if rows.is_empty() {
        return Ok(moved);
    }
    let sql = format!(
        "UPDATE webhook_deliveries SET status = v.status, attempts = attempts + 1,
                by_hand_attempts = by_hand_attempts + v.by_hand, last_status = v.last_status,
                last_error = v.last_error, updated_at = v.at
         FROM {} v
         WHERE webhook_deliveries.workspace_id = v.workspace_id AND webhook_deliveries.id = v.id",
        crate::db::json_table(
            pg,
            1,
            &[
                ("workspace_id", "TEXT"),
                ("id", "TEXT"),
                ("status", "TEXT"),
                ("last_status", "BIGINT"),
                ("last_error", "TEXT"),
                ("at", "BIGINT"),
                ("by_hand", "BIGINT"),
            ]
        ),
    );
    on!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(json(&rows))
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(moved)
}

/// Runs a statement over a batch bound as one JSON array; the ids it returns.
async fn returned_ids(tx: &mut crate::db::Tx, sql: String, rows: &impl serde::Serialize) -> Result<Vec<String>> {
    let ids: Vec<(String,)> =
        on!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(json(rows)).fetch_all(&mut *c).await)?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// The attempts' rows, in one statement.
async fn insert_attempts(
    tx: &mut crate::db::Tx,
    pg: bool,
    recorded: &[&(Claimed, String, AttemptResult)],
) -> Result<()> {
    if recorded.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO webhook_attempts (workspace_id, id, delivery_id, endpoint_id, at, status_code, latency_ms,
                                       response_excerpt, error)
         SELECT * FROM {} v",
        crate::db::json_table(
            pg,
            1,
            &[
                ("workspace_id", "TEXT"),
                ("id", "TEXT"),
                ("delivery_id", "TEXT"),
                ("endpoint_id", "TEXT"),
                ("at", "BIGINT"),
                ("status_code", "BIGINT"),
                ("latency_ms", "BIGINT"),
                ("response_excerpt", "TEXT"),
                ("error", "TEXT"),
            ]
        )
    );
    let rows: Vec<_> = recorded
        .iter()
        .map(|(c, _, r)| {
            let id = callplane_domain::id::new_id("watt");
            (
                &c.workspace_id,
                id,
                &c.id,
                &c.endpoint_id,
                r.at,
                r.status_code,
                r.latency_ms,
                &r.response_excerpt,
                &r.error,
            )
        })
        .collect();
    on!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(json(&rows))
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// What a recorded attempt does to its endpoint: a success ends its failing streak, a
/// failure starts one (and disables the endpoint once it is old enough), `410 Gone`
/// disables it now, with an audit event. Whether it disabled the endpoint.
async fn apply_effect(tx: &mut crate::db::Tx, c: &Claimed, account_id: &str, r: &AttemptResult) -> Result<bool> {
    let mut tx = JobTxRef { tx, workspace_id: &c.workspace_id, account_id };
    let disabled = match &r.effect {
        EndpointEffect::Healthy => {
            execute!(
                &mut tx,
                "UPDATE webhook_endpoints SET failing_since = NULL WHERE workspace_id = $1 AND id = $2
                   AND failing_since IS NOT NULL",
                &c.workspace_id,
                &c.endpoint_id
            )?;
            None
        }
        EndpointEffect::Failing { disable_after_ms } => {
            execute!(
                &mut tx,
                "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $3)
                 WHERE workspace_id = $1 AND id = $2",
                &c.workspace_id,
                &c.endpoint_id,
                r.at
            )?;
            let reason = format!("failing for {} days", disable_after_ms / 86_400_000);
            let n = execute!(
                &mut tx,
                "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $3, notify_pending = TRUE, updated_at = $4
                 WHERE workspace_id = $1 AND id = $2 AND enabled AND failing_since <= $5",
                &c.workspace_id,
                &c.endpoint_id,
                &reason,
                r.at,
                r.at - disable_after_ms
            )?;
            (n > 0).then_some(reason)
        }
        EndpointEffect::Gone => {
            let reason = "the endpoint answered 410 Gone".to_owned();
            let n = execute!(
                &mut tx,
                "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $3,
                        failing_since = coalesce(failing_since, $4), updated_at = $4
                 WHERE workspace_id = $1 AND id = $2 AND enabled",
                &c.workspace_id,
                &c.endpoint_id,
                &reason,
                r.at
            )?;
            (n > 0).then_some(reason)
        }
    };
    if let Some(reason) = &disabled {
        execute!(
            &mut tx,
            "INSERT INTO product_audit_events (id, account_id, workspace_id, actor_type, actor_id, actor_label, action,
                                               target_type, target_id, after_json, created_at)
             VALUES ($1, $2, $3, 'system', 'webhooks', 'webhook delivery', 'webhook.disabled', 'webhook', $4, $5, $6)",
            callplane_domain::id::new_id(callplane_domain::id::prefix::AUDIT),
            account_id,
            &c.workspace_id,
            &c.endpoint_id,
            serde_json::json!({ "enabled": false, "reason": reason }).to_string(),
            r.at
        )?;
    }
    Ok(disabled.is_some())
}

/// When the next unleased delivery of an enabled endpoint in this database is due.
/// (A lease that runs out is taken over by a claim: the worker claims at least once a
/// second.)
pub async fn next_due(region: &RegionDb) -> Result<Option<i64>> {
    let mut conn = region.conn().await?;
    Ok(on!(&mut conn, |c| sqlx::query_scalar(
        "SELECT q.due_at FROM webhook_queue q
         JOIN webhook_endpoints p ON p.workspace_id = q.workspace_id AND p.id = q.endpoint_id
         WHERE q.lease_until IS NULL AND p.enabled
         ORDER BY q.due_at LIMIT 1"
    )
    .fetch_optional(c)
    .await)?)
}

/// An endpoint the service disabled whose workspace's Owner is still to be told.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ToNotify {
    pub workspace_id: String,
    pub id: String,
    pub url: String,
    pub disabled_reason: Option<String>,
}

pub async fn to_notify(region: &RegionDb, limit: i64) -> Result<Vec<ToNotify>> {
    let mut conn = region.conn().await?;
    Ok(on!(&mut conn, |c| sqlx::query_as(
        "SELECT workspace_id, id, url, disabled_reason FROM webhook_endpoints WHERE notify_pending LIMIT $1"
    )
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// The Owner was told (their email is queued).
pub async fn notified(region: &RegionDb, workspace_id: &str, id: &str) -> Result<()> {
    let mut tx = region.begin().await?;
    execute!(
        &mut tx,
        "UPDATE webhook_endpoints SET notify_pending = FALSE WHERE workspace_id = $1 AND id = $2",
        workspace_id,
        id
    )?;
    tx.commit().await
}

/// A batch transaction acting in one workspace (for [`apply_effect`]).
struct JobTxRef<'a> {
    tx: &'a mut crate::db::Tx,
    workspace_id: &'a str,
    account_id: &'a str,
}

impl Raw for JobTxRef<'_> {
    fn ex(&mut self) -> Ex<'_> {
        self.tx.ex()
    }
}

impl InWorkspace for JobTxRef<'_> {
    fn workspace_id(&self) -> &str {
        self.workspace_id
    }
    fn account_id(&self) -> &str {
        self.account_id
    }
}
