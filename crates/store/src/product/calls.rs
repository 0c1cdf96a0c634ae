//! Calls (SPEC P7) and their timelines, in the workspace's region database. The
//! lifecycle worker claims calls whose next provider step is due across workspaces
//! ([`due`], then a [`super::JobTx`] per call).

use super::{InWorkspace, JobConn, JobTx};
use crate::error::Result;
use crate::regions::RegionDb;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Call {
    pub id: String,
    pub direction: String,
    pub status: String,
    pub agent_id: Option<String>,
    pub phone_number_id: Option<String>,
    pub contact_id: Option<String>,
    pub from_e164: String,
    pub to_e164: String,
    pub provider: String,
    pub network_group: Option<String>,
    pub rate: i64,
    pub held: i64,
    pub max_seconds: i64,
    pub duration_secs: i64,
    pub billed_minutes: i64,
    pub cost: i64,
    pub settled: bool,
    pub error: Option<String>,
    /// Why it ended (`hangup`, `agent_limit`, `funds_limit`, `busy`, `no_answer`,
    /// `carrier_refused`, `canceled`, `no_agent`, `insufficient_funds`).
    pub end_reason: Option<String>,
    pub idempotency_key: Option<String>,
    /// The campaign whose dialer placed it.
    pub campaign_id: Option<String>,
    pub next_step_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub answered_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// What a SIP call's signaling and media carried (JSON, see [`SipFacts`]).
    pub sip: Option<String>,
}

impl Call {
    pub fn has_ended(&self) -> bool {
        ENDED.contains(&self.status.as_str())
    }
}

/// Statuses a call ends in.
pub const ENDED: &[&str] = &["completed", "busy", "no-answer", "failed", "canceled"];

const COLUMNS: &str = "id, direction, status, agent_id, phone_number_id, contact_id, from_e164, to_e164, provider,
    network_group, rate, held, max_seconds, duration_secs, billed_minutes, cost, settled, error, end_reason,
    idempotency_key, campaign_id, next_step_at, created_at, updated_at, answered_at, ended_at, sip";

/// A new call's fields.
#[derive(Debug, Clone)]
pub struct NewCall<'a> {
    pub id: &'a str,
    pub direction: &'a str,
    pub agent_id: Option<&'a str>,
    pub phone_number_id: Option<&'a str>,
    pub contact_id: Option<&'a str>,
    pub from_e164: &'a str,
    pub to_e164: &'a str,
    pub provider: &'a str,
    pub network_group: Option<&'a str>,
    pub rate: i64,
    pub held: i64,
    pub max_seconds: i64,
    pub idempotency_key: Option<&'a str>,
    pub campaign_id: Option<&'a str>,
    pub next_step_at: i64,
}

/// Inserts a queued call with the first event of its timeline.
pub async fn create(ex: &mut impl InWorkspace, c: &NewCall<'_>, now: i64) -> Result<Call> {
    let ws = ex.workspace_id().to_owned();
    let call: Call = on!(ex, |conn| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO calls (workspace_id, id, direction, status, agent_id, phone_number_id, contact_id, from_e164,
                            to_e164, provider, network_group, rate, held, max_seconds, duration_secs, billed_minutes,
                            cost, settled, idempotency_key, next_step_at, created_at, updated_at, campaign_id)
         VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, 0, 0, false, $14, $15, $16, $16,
                 $17)
         RETURNING {COLUMNS}"
    )))
    .bind(&ws)
    .bind(c.id)
    .bind(c.direction)
    .bind(c.agent_id)
    .bind(c.phone_number_id)
    .bind(c.contact_id)
    .bind(c.from_e164)
    .bind(c.to_e164)
    .bind(c.provider)
    .bind(c.network_group)
    .bind(c.rate)
    .bind(c.held)
    .bind(c.max_seconds)
    .bind(c.idempotency_key)
    .bind(c.next_step_at)
    .bind(now)
    .bind(c.campaign_id)
    .fetch_one(conn)
    .await)?;
    add_event(ex, c.id, "queued", now, None).await?;
    Ok(call)
}

/// Adds an event to a call's timeline (statuses, and what happens on a call such as
/// the digits a caller presses).
pub async fn add_event(
    ex: &mut impl InWorkspace,
    call_id: &str,
    status: &str,
    at: i64,
    detail: Option<&str>,
) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "INSERT INTO call_events (workspace_id, call_id, seq, status, at, detail)
         SELECT $1, $2, coalesce(max(seq), 0) + 1, $3, $4, $5 FROM call_events WHERE workspace_id = $1 AND call_id = $2",
        &ws,
        call_id,
        status,
        at,
        detail
    )?;
    Ok(())
}

pub async fn get(ex: &mut impl InWorkspace, id: &str) -> Result<Option<Call>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM calls WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(&ws)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

pub async fn by_key(ex: &mut impl InWorkspace, key: &str) -> Result<Option<Call>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM calls WHERE workspace_id = $1 AND idempotency_key = $2"
    )))
    .bind(&ws)
    .bind(key)
    .fetch_optional(c)
    .await)?)
}

/// Which calls a list selects.
#[derive(Debug, Default, Clone)]
pub struct Filter<'a> {
    pub status: Option<&'a str>,
    pub direction: Option<&'a str>,
    pub agent_id: Option<&'a str>,
    pub phone_number_id: Option<&'a str>,
    pub campaign_id: Option<&'a str>,
    /// Created at or after (ms).
    pub from: Option<i64>,
    /// Created before (ms).
    pub to: Option<i64>,
}

/// One page, newest first, older than the `before_id` cursor.
pub async fn list(ex: &mut impl InWorkspace, f: &Filter<'_>, before_id: Option<&str>, limit: i64) -> Result<Vec<Call>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM calls WHERE workspace_id = $1
           AND ($2 IS NULL OR status = $2) AND ($3 IS NULL OR direction = $3) AND ($4 IS NULL OR agent_id = $4)
           AND ($5 IS NULL OR phone_number_id = $5) AND ($6 IS NULL OR created_at >= $6)
           AND ($7 IS NULL OR created_at < $7) AND ($8 IS NULL OR id < $8) AND ($10 IS NULL OR campaign_id = $10)
         ORDER BY id DESC LIMIT $9"
    )))
    .bind(&ws)
    .bind(f.status)
    .bind(f.direction)
    .bind(f.agent_id)
    .bind(f.phone_number_id)
    .bind(f.from)
    .bind(f.to)
    .bind(before_id)
    .bind(limit)
    .bind(f.campaign_id)
    .fetch_all(c)
    .await)?)
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Event {
    pub seq: i64,
    pub status: String,
    pub at: i64,
    pub detail: Option<String>,
}

pub async fn timeline(ex: &mut impl InWorkspace, call_id: &str) -> Result<Vec<Event>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT CAST(seq AS BIGINT) AS seq, status, at, detail FROM call_events
         WHERE workspace_id = $1 AND call_id = $2 ORDER BY seq"
    )
    .bind(&ws)
    .bind(call_id)
    .fetch_all(c)
    .await)?)
}

/// A step of the lifecycle: the new status, when the next step is due (`None`: the call
/// has ended), and what it sets.
#[derive(Debug, Clone, Default)]
pub struct Step<'a> {
    pub status: &'a str,
    pub next_step_at: Option<i64>,
    pub answered_at: Option<i64>,
    pub max_seconds: Option<i64>,
    pub held: Option<i64>,
    pub duration_secs: Option<i64>,
    pub billed_minutes: Option<i64>,
    pub cost: Option<i64>,
    pub error: Option<&'a str>,
    pub end_reason: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// Moves a call from `from` (its status as read) to `step`; the call as it now is, or
/// `None` when it had moved meanwhile (cancelled, or stepped by another worker).
pub async fn advance(
    ex: &mut impl InWorkspace,
    id: &str,
    from: &str,
    step: &Step<'_>,
    now: i64,
) -> Result<Option<Call>> {
    let ws = ex.workspace_id().to_owned();
    let ended = ENDED.contains(&step.status);
    let sql = format!(
        "UPDATE calls SET status = $3, next_step_at = $4, answered_at = coalesce($5, answered_at),
                max_seconds = coalesce($6, max_seconds), held = coalesce($7, held),
                duration_secs = coalesce($8, duration_secs), billed_minutes = coalesce($9, billed_minutes),
                cost = coalesce($10, cost), error = coalesce($11, error),
                ended_at = CASE WHEN $12 THEN $13 ELSE ended_at END, updated_at = $13,
                end_reason = coalesce($15, end_reason)
         WHERE workspace_id = $1 AND id = $2 AND status = $14
         RETURNING {COLUMNS}"
    );
    let moved: Option<Call> = on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(&ws)
        .bind(id)
        .bind(step.status)
        .bind(step.next_step_at)
        .bind(step.answered_at)
        .bind(step.max_seconds)
        .bind(step.held)
        .bind(step.duration_secs)
        .bind(step.billed_minutes)
        .bind(step.cost)
        .bind(step.error)
        .bind(ended)
        .bind(now)
        .bind(from)
        .bind(step.end_reason)
        .fetch_optional(c)
        .await)?;
    if moved.is_some() {
        add_event(ex, id, step.status, now, step.detail).await?;
        if ended {
            super::analytics::count_ended(ex, id).await?;
        }
    }
    Ok(moved)
}

/// What an answered call left (see the `call_artifacts` migration).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Artifacts {
    /// JSON array of turns.
    pub turns: String,
    pub outcome: Option<String>,
    /// JSON object.
    pub analysis: Option<String>,
    pub recording_secs: Option<i64>,
    pub created_at: i64,
}

/// Keeps a call's transcript, analysis and recording length (once: a repeated step
/// keeps the first).
pub async fn save_artifacts(ex: &mut impl InWorkspace, call_id: &str, a: &Artifacts) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "INSERT INTO call_artifacts (workspace_id, call_id, turns, outcome, analysis, recording_secs, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (workspace_id, call_id) DO NOTHING",
        &ws,
        call_id,
        &a.turns,
        &a.outcome,
        &a.analysis,
        a.recording_secs,
        a.created_at
    )?;
    Ok(())
}

pub async fn artifacts(ex: &mut impl InWorkspace, call_id: &str) -> Result<Option<Artifacts>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT turns, outcome, analysis, recording_secs, created_at FROM call_artifacts
         WHERE workspace_id = $1 AND call_id = $2"
    )
    .bind(&ws)
    .bind(call_id)
    .fetch_optional(c)
    .await)?)
}

pub async fn mark_settled(ex: &mut impl InWorkspace, ids: &[&str]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let pg = ex.is_postgres();
    let ws = ex.workspace_id().to_owned();
    let p = |n: usize| if pg { format!("${n}") } else { "?".to_owned() };
    let list: Vec<String> = (0..ids.len()).map(|i| p(i + 2)).collect();
    let sql = format!("UPDATE calls SET settled = true WHERE workspace_id = {} AND id IN ({})", p(1), list.join(", "));
    on!(ex, |c| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&ws);
        for id in ids {
            q = q.bind(*id);
        }
        q.execute(&mut *c).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// A call the worker has to act on, with the workspace it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Work {
    pub workspace_id: String,
    pub account_id: String,
    pub id: String,
}

/// Calls of this region database whose next provider step is due, or that ended without
/// their money settled: the lifecycle worker's work.
pub async fn due(region: &RegionDb, now: i64, limit: i64) -> Result<Vec<Work>> {
    let mut conn = region.conn().await?;
    Ok(on!(&mut conn, |c| sqlx::query_as(
        "SELECT c.workspace_id, a.account_id, c.id FROM calls c
         JOIN workspace_anchors a ON a.workspace_id = c.workspace_id
         WHERE (c.next_step_at IS NOT NULL AND c.next_step_at <= $1) OR (c.ended_at IS NOT NULL AND NOT c.settled)
         ORDER BY c.next_step_at LIMIT $2"
    )
    .bind(now)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// When the earliest pending step of this region database's calls is due.
pub async fn next_due(region: &RegionDb) -> Result<Option<i64>> {
    let mut conn = region.conn().await?;
    Ok(on!(&mut conn, |c| sqlx::query_scalar("SELECT min(next_step_at) FROM calls WHERE next_step_at IS NOT NULL")
        .fetch_one(c)
        .await)?)
}

/// A transaction on a call's workspace, for the lifecycle worker; on PostgreSQL the
/// call's row is locked, so replicas working on the same call take turns.
pub async fn begin_work(region: &RegionDb, w: &Work) -> Result<JobTx> {
    begin_work_on(region, w, &[w.id.as_str()]).await
}

/// [`begin_work`] for several calls of `w`'s workspace, locked in id order.
pub async fn begin_work_on(region: &RegionDb, w: &Work, ids: &[&str]) -> Result<JobTx> {
    let mut tx = JobTx::new(region.begin().await?, &w.workspace_id, &w.account_id);
    if crate::db::Raw::is_postgres(&mut tx) && !ids.is_empty() {
        let list: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT 1 FROM calls WHERE workspace_id = $1 AND id IN ({}) ORDER BY id FOR UPDATE",
            list.join(", ")
        );
        on!(&mut tx, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&w.workspace_id);
            for id in ids {
                q = q.bind(*id);
            }
            q.execute(&mut *c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(tx)
}

/// A read connection on a call's workspace, for the lifecycle worker to read the call
/// before it steps it (the step itself re-checks the status it read).
pub async fn read_work(region: &RegionDb, w: &Work) -> Result<JobConn> {
    Ok(JobConn::new(region.conn().await?, &w.workspace_id, &w.account_id))
}

/// Whether a call exists in this region database (the wallet sweeper's question).
pub async fn exists(region: &RegionDb, workspace_id: &str, id: &str) -> Result<bool> {
    let mut conn = region.conn().await?;
    let n: i64 =
        on!(&mut conn, |c| sqlx::query_scalar("SELECT count(*) FROM calls WHERE workspace_id = $1 AND id = $2")
            .bind(workspace_id)
            .bind(id)
            .fetch_one(c)
            .await)?;
    Ok(n > 0)
}

/// Calls of the agent (an agent with calls is kept for their history).
pub async fn count_for_agent(ex: &mut impl InWorkspace, agent_id: &str) -> Result<i64> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_scalar("SELECT count(*) FROM calls WHERE workspace_id = $1 AND agent_id = $2")
        .bind(&ws)
        .bind(agent_id)
        .fetch_one(c)
        .await)?)
}

/// Outbound calls in flight (not yet ended) in this region database, per workspace with
/// its account: what the dialer's workspace and account limits count.
pub async fn in_flight(region: &RegionDb) -> Result<Vec<(String, String, i64)>> {
    let mut conn = region.conn().await?;
    Ok(on!(&mut conn, |c| sqlx::query_as(
        "SELECT c.workspace_id, a.account_id, count(*) FROM calls c
         JOIN workspace_anchors a ON a.workspace_id = c.workspace_id
         WHERE c.next_step_at IS NOT NULL AND c.direction = 'outbound'
         GROUP BY c.workspace_id, a.account_id"
    )
    .fetch_all(c)
    .await)?)
}

/// Keeps what a SIP call's signaling and media carried (the call page's SIP facts).
pub async fn set_sip(ex: &mut impl InWorkspace, call_id: &str, facts: &str) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(ex, "UPDATE calls SET sip = $3 WHERE workspace_id = $1 AND id = $2", &ws, call_id, facts)?;
    Ok(())
}

/// Keeps a SIP call's recording (a stereo WAV: the agent's leg left, the far end's
/// right); once, like the other artifacts.
pub async fn save_recording(ex: &mut impl InWorkspace, call_id: &str, wav: &[u8]) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "INSERT INTO call_recordings (workspace_id, call_id, wav) VALUES ($1, $2, $3)
         ON CONFLICT (workspace_id, call_id) DO NOTHING",
        &ws,
        call_id,
        wav
    )?;
    Ok(())
}

/// A SIP call's recorded media, when it has one.
pub async fn recording(ex: &mut impl InWorkspace, call_id: &str) -> Result<Option<Vec<u8>>> {
    let ws = ex.workspace_id().to_owned();
    let row: Option<(Vec<u8>,)> =
        on!(ex, |c| sqlx::query_as("SELECT wav FROM call_recordings WHERE workspace_id = $1 AND call_id = $2")
            .bind(&ws)
            .bind(call_id)
            .fetch_optional(c)
            .await)?;
    Ok(row.map(|r| r.0))
}

/// Moves a call's next step (a SIP call's deadline) while it stays in `status`.
/// Extends the leases of live SIP calls of one workspace to `until`; answers the ids
/// that are still ringing or in progress (not one that ended elsewhere, e.g. canceled
/// through another replica).
pub async fn renew_leases(ex: &mut impl InWorkspace, ids: &[&str], until: i64) -> Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let pg = ex.is_postgres();
    let ws = ex.workspace_id().to_owned();
    let p = |n: usize| if pg { format!("${n}") } else { "?".to_owned() };
    let list: Vec<String> = (0..ids.len()).map(|i| p(i + 3)).collect();
    let sql = format!(
        "UPDATE calls SET next_step_at = {until} WHERE workspace_id = {ws} AND id IN ({list})
           AND status IN ('ringing', 'in-progress') RETURNING id",
        until = p(1),
        ws = p(2),
        list = list.join(", ")
    );
    Ok(on!(ex, |c| {
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(until).bind(&ws);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(&mut *c).await
    })?)
}

pub async fn postpone(ex: &mut impl InWorkspace, id: &str, status: &str, at: i64) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "UPDATE calls SET next_step_at = $4 WHERE workspace_id = $1 AND id = $2 AND status = $3",
        &ws,
        id,
        status,
        at
    )?;
    Ok(())
}
