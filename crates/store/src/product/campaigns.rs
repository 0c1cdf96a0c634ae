//! Campaigns (SPEC P6): the campaign, its caller numbers, and one target row per
//! contact of its audience, which is the dialer's durable state. The dialer works on a
//! campaign in a [`JobTx`] from [`begin_dialing`] (on PostgreSQL the campaign's row is
//! locked, so replicas take turns claiming its targets).

use super::contacts::{filtered, like_pattern, tag_key, Filter};
use super::{InWorkspace, JobTx};
use crate::db::Raw;
use crate::error::Result;
use crate::regions::RegionDb;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Campaign {
    pub id: String,
    pub name: String,
    pub agent_id: String,
    pub status: String,
    pub pause_reason: Option<String>,
    pub audience_tag: Option<String>,
    pub audience_q: Option<String>,
    pub audience_list: bool,
    pub timezone: String,
    pub window_days: i64,
    pub window_start: i64,
    pub window_end: i64,
    pub max_concurrency: i64,
    pub calls_per_second: i64,
    pub max_attempts: i64,
    pub retry_delay_secs: i64,
    pub retry_on: String,
    pub start_at: Option<i64>,
    pub paced_until_us: i64,
    pub started_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub sip_trunk_id: Option<String>,
}

const COLUMNS: &str = "id, name, agent_id, status, pause_reason, audience_tag, audience_q, audience_list, timezone,
    CAST(window_days AS BIGINT) AS window_days, CAST(window_start AS BIGINT) AS window_start,
    CAST(window_end AS BIGINT) AS window_end, CAST(max_concurrency AS BIGINT) AS max_concurrency,
    CAST(calls_per_second AS BIGINT) AS calls_per_second, CAST(max_attempts AS BIGINT) AS max_attempts,
    retry_delay_secs, retry_on, start_at, paced_until_us, started_by, created_at, updated_at, started_at, finished_at,
    sip_trunk_id";

/// What a campaign is made of (everything the user sets).
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    pub name: &'a str,
    pub agent_id: &'a str,
    pub audience_tag: Option<&'a str>,
    pub audience_q: Option<&'a str>,
    pub audience_list: bool,
    pub timezone: &'a str,
    pub window_days: i64,
    pub window_start: i64,
    pub window_end: i64,
    pub max_concurrency: i64,
    pub calls_per_second: i64,
    pub max_attempts: i64,
    pub retry_delay_secs: i64,
    pub retry_on: &'a str,
    pub start_at: Option<i64>,
    /// A SIP trunk of the workspace the campaign dials through (else the workspace's
    /// provider decides).
    pub sip_trunk_id: Option<&'a str>,
}

pub async fn create(ex: &mut impl InWorkspace, id: &str, f: &Fields<'_>, now: i64) -> Result<Campaign> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "INSERT INTO campaigns (workspace_id, id, name, agent_id, status, audience_tag, audience_q, audience_list,
                                timezone, window_days, window_start, window_end, max_concurrency, calls_per_second,
                                max_attempts, retry_delay_secs, retry_on, start_at, paced_until_us, created_at,
                                updated_at, sip_trunk_id)
         VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 0, $18, $18, $19)",
        &ws,
        id,
        f.name,
        f.agent_id,
        f.audience_tag,
        f.audience_q,
        f.audience_list,
        f.timezone,
        f.window_days,
        f.window_start,
        f.window_end,
        f.max_concurrency,
        f.calls_per_second,
        f.max_attempts,
        f.retry_delay_secs,
        f.retry_on,
        f.start_at,
        now,
        f.sip_trunk_id
    )?;
    Ok(get(ex, id).await?.expect("the campaign was just inserted"))
}

/// Replaces a campaign's settings (the service allows it in draft and paused).
pub async fn update(ex: &mut impl InWorkspace, id: &str, f: &Fields<'_>, now: i64) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    Ok(execute!(
        ex,
        "UPDATE campaigns SET name = $3, agent_id = $4, audience_tag = $5, audience_q = $6, audience_list = $7,
                timezone = $8, window_days = $9, window_start = $10, window_end = $11, max_concurrency = $12,
                calls_per_second = $13, max_attempts = $14, retry_delay_secs = $15, retry_on = $16, start_at = $17,
                updated_at = $18, sip_trunk_id = $19
         WHERE workspace_id = $1 AND id = $2",
        &ws,
        id,
        f.name,
        f.agent_id,
        f.audience_tag,
        f.audience_q,
        f.audience_list,
        f.timezone,
        f.window_days,
        f.window_start,
        f.window_end,
        f.max_concurrency,
        f.calls_per_second,
        f.max_attempts,
        f.retry_delay_secs,
        f.retry_on,
        f.start_at,
        now,
        f.sip_trunk_id
    )? > 0)
}

pub async fn get(ex: &mut impl InWorkspace, id: &str) -> Result<Option<Campaign>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM campaigns WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(&ws)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// One page, newest first, older than the `before_id` cursor.
pub async fn list(
    ex: &mut impl InWorkspace,
    status: Option<&str>,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Campaign>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM campaigns WHERE workspace_id = $1 AND ($2 IS NULL OR status = $2)
           AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
    )))
    .bind(&ws)
    .bind(status)
    .bind(before_id)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// Deletes a campaign with its numbers and targets (the service allows it for drafts).
pub async fn delete(ex: &mut impl InWorkspace, id: &str) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    Ok(execute!(ex, "DELETE FROM campaigns WHERE workspace_id = $1 AND id = $2", &ws, id)? > 0)
}

/// Campaigns of the agent (an agent with campaigns is kept for their history).
pub async fn count_for_agent(ex: &mut impl InWorkspace, agent_id: &str) -> Result<i64> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_scalar("SELECT count(*) FROM campaigns WHERE workspace_id = $1 AND agent_id = $2")
        .bind(&ws)
        .bind(agent_id)
        .fetch_one(c)
        .await)?)
}

/// Replaces the campaign's caller numbers, in the order given.
pub async fn set_numbers(ex: &mut impl InWorkspace, id: &str, number_ids: &[String]) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(ex, "DELETE FROM campaign_numbers WHERE workspace_id = $1 AND campaign_id = $2", &ws, id)?;
    for (i, n) in number_ids.iter().enumerate() {
        execute!(
            ex,
            "INSERT INTO campaign_numbers (workspace_id, campaign_id, phone_number_id, position) VALUES ($1, $2, $3, $4)",
            &ws,
            id,
            n,
            i as i64
        )?;
    }
    Ok(())
}

pub async fn numbers(ex: &mut impl InWorkspace, id: &str) -> Result<Vec<String>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_scalar(
        "SELECT phone_number_id FROM campaign_numbers WHERE workspace_id = $1 AND campaign_id = $2 ORDER BY position"
    )
    .bind(&ws)
    .bind(id)
    .fetch_all(c)
    .await)?)
}

/// Moves a campaign from `from` to `to` (`false`: it was no longer in `from`). `reason`
/// is kept while paused; starting records who started it and when.
pub async fn transition(
    ex: &mut impl InWorkspace,
    id: &str,
    from: &str,
    to: &str,
    reason: Option<&str>,
    started_by: Option<&str>,
    now: i64,
) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    let finished = matches!(to, "completed" | "cancelled");
    Ok(execute!(
        ex,
        "UPDATE campaigns SET status = $4, pause_reason = $5, started_by = coalesce($6, started_by),
                started_at = CASE WHEN $4 = 'running' THEN coalesce(started_at, $7) ELSE started_at END,
                finished_at = CASE WHEN $8 THEN $7 ELSE finished_at END, updated_at = $7
         WHERE workspace_id = $1 AND id = $2 AND status = $3",
        &ws,
        id,
        from,
        to,
        reason,
        started_by,
        now,
        finished
    )? > 0)
}

/// Adds the contacts matching the campaign's audience filter as targets, due at
/// `due_at`; contacts already targeted stay as they are. Returns how many were added.
pub async fn add_matching(ex: &mut impl InWorkspace, id: &str, f: &Filter<'_>, due_at: i64) -> Result<u64> {
    let ws = ex.workspace_id().to_owned();
    let sql = filtered!(
        "INSERT INTO campaign_targets (workspace_id, campaign_id, contact_id, state, attempts, next_at, updated_at)
         SELECT c.workspace_id, $6, c.id, 'pending', 0, $7, $7 FROM contacts c",
        " ON CONFLICT (workspace_id, campaign_id, contact_id) DO NOTHING"
    );
    Ok(execute!(ex, sql, &ws, f.tag.map(tag_key), f.do_not_call, f.opted_out, f.q.map(like_pattern), id, due_at)?)
}

/// Adds these contacts as targets (a list audience). The ids must be the workspace's
/// contacts: the composite foreign key refuses any other.
pub async fn add_contacts(ex: &mut impl InWorkspace, id: &str, contact_ids: &[String], due_at: i64) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    for contact in contact_ids {
        execute!(
            ex,
            "INSERT INTO campaign_targets (workspace_id, campaign_id, contact_id, state, attempts, next_at, updated_at)
             VALUES ($1, $2, $3, 'pending', 0, $4, $4)
             ON CONFLICT (workspace_id, campaign_id, contact_id) DO NOTHING",
            &ws,
            id,
            contact,
            due_at
        )?;
    }
    Ok(())
}

/// Drops every target (a draft's list is being replaced).
pub async fn clear_targets(ex: &mut impl InWorkspace, id: &str) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(ex, "DELETE FROM campaign_targets WHERE workspace_id = $1 AND campaign_id = $2", &ws, id)?;
    Ok(())
}

/// Makes every pending target due at `at` (a scheduled campaign's start).
pub async fn targets_due_at(ex: &mut impl InWorkspace, id: &str, at: i64) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "UPDATE campaign_targets SET next_at = $3 WHERE workspace_id = $1 AND campaign_id = $2 AND state = 'pending'",
        &ws,
        id,
        at
    )?;
    Ok(())
}

/// How the targets stand, by state and outcome.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Tally {
    pub state: String,
    pub outcome: Option<String>,
    pub targets: i64,
    /// Targets of this group dialed at least once.
    pub dialed: i64,
    pub attempts: i64,
}

pub async fn tally(ex: &mut impl InWorkspace, id: &str) -> Result<Vec<Tally>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT state, outcome, count(*) AS targets,
                CAST(sum(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) AS BIGINT) AS dialed,
                CAST(sum(attempts) AS BIGINT) AS attempts
         FROM campaign_targets WHERE workspace_id = $1 AND campaign_id = $2 GROUP BY state, outcome"
    )
    .bind(&ws)
    .bind(id)
    .fetch_all(c)
    .await)?)
}

/// A target with its contact, for results and exports.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Target {
    pub contact_id: String,
    pub name: Option<String>,
    pub phone: String,
    pub state: String,
    pub attempts: i64,
    pub next_at: Option<i64>,
    pub call_id: Option<String>,
    pub outcome: Option<String>,
    pub detail: Option<String>,
    pub updated_at: i64,
}

/// One page of targets in contact id order, after the `after` cursor.
pub async fn targets(ex: &mut impl InWorkspace, id: &str, after: Option<&str>, limit: i64) -> Result<Vec<Target>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT t.contact_id, c.name, c.phone, t.state, CAST(t.attempts AS BIGINT) AS attempts, t.next_at, t.call_id,
                t.outcome, t.detail, t.updated_at
         FROM campaign_targets t JOIN contacts c ON c.workspace_id = t.workspace_id AND c.id = t.contact_id
         WHERE t.workspace_id = $1 AND t.campaign_id = $2 AND ($3 IS NULL OR t.contact_id > $3)
         ORDER BY t.contact_id LIMIT $4"
    )
    .bind(&ws)
    .bind(id)
    .bind(after)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

// ---- the dialer's side ----

/// A campaign the dialer looks at: scheduled or running.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Active {
    pub workspace_id: String,
    pub account_id: String,
    pub id: String,
    pub status: String,
    pub start_at: Option<i64>,
    /// Who the campaign dials for.
    pub started_by: Option<String>,
}

/// Scheduled and running campaigns of this region database.
pub async fn active(region: &RegionDb) -> Result<Vec<Active>> {
    let mut conn = region.conn().await?;
    Ok(on!(&mut conn, |c| sqlx::query_as(
        "SELECT m.workspace_id, a.account_id, m.id, m.status, m.start_at, m.started_by FROM campaigns m
         JOIN workspace_anchors a ON a.workspace_id = m.workspace_id
         WHERE m.status IN ('scheduled', 'running') ORDER BY m.id"
    )
    .fetch_all(c)
    .await)?)
}

/// A transaction in the campaign's workspace; on PostgreSQL the campaign's row is
/// locked, so two replicas never claim the same campaign's targets at once.
pub async fn begin_dialing(region: &RegionDb, a: &Active) -> Result<JobTx> {
    let mut tx = JobTx::new(region.begin().await?, &a.workspace_id, &a.account_id);
    if tx.is_postgres() {
        execute!(
            &mut tx,
            "SELECT 1 FROM campaigns WHERE workspace_id = $1 AND id = $2 FOR UPDATE",
            &a.workspace_id,
            &a.id
        )?;
    }
    Ok(tx)
}

/// Records how far the campaign's pacing has claimed dials.
pub async fn set_paced_until(ex: &mut impl InWorkspace, id: &str, us: i64) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(ex, "UPDATE campaigns SET paced_until_us = $3 WHERE workspace_id = $1 AND id = $2", &ws, id, us)?;
    Ok(())
}

/// A target the dialer may act on, with what it needs of the contact.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Due {
    pub contact_id: String,
    /// `pending`, or `dialing` for a claim whose lease expired before its call was placed.
    pub state: String,
    pub attempts: i64,
    pub timezone: Option<String>,
    pub do_not_call: bool,
    pub opted_out: bool,
}

/// Up to `limit` targets due at `now`: claims whose lease expired with no call recorded
/// (placed again with the same attempt number), then pending targets due.
pub async fn due(ex: &mut impl InWorkspace, id: &str, now: i64, limit: i64) -> Result<Vec<Due>> {
    let ws = ex.workspace_id().to_owned();
    let pick = |state: &str| {
        let when = if state == "pending" { "t.next_at <= $3" } else { "t.call_id IS NULL AND t.lease_until <= $3" };
        format!(
            "SELECT t.contact_id, t.state, CAST(t.attempts AS BIGINT) AS attempts, c.timezone, c.do_not_call,
                    c.opted_out
             FROM campaign_targets t JOIN contacts c ON c.workspace_id = t.workspace_id AND c.id = t.contact_id
             WHERE t.workspace_id = $1 AND t.campaign_id = $2 AND t.state = '{state}' AND {when}
             ORDER BY t.next_at LIMIT $4"
        )
    };
    let mut out = Vec::new();
    for state in ["dialing", "pending"] {
        let left = limit - out.len() as i64;
        if left <= 0 {
            break;
        }
        let rows: Vec<Due> = on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(pick(state)))
            .bind(&ws)
            .bind(id)
            .bind(now)
            .bind(left)
            .fetch_all(c)
            .await)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Claims these targets for their next attempt: pending ones count a new attempt;
/// all are leased until `lease_until`, by which their call must be recorded. Only
/// targets still claimable at `now` move (a call may have ended meanwhile, or another
/// dialer claimed it); returns each claimed target with its attempt number.
pub async fn claim(
    ex: &mut impl InWorkspace,
    id: &str,
    contact_ids: &[&str],
    lease_until: i64,
    now: i64,
) -> Result<Vec<(String, i64)>> {
    if contact_ids.is_empty() {
        return Ok(Vec::new());
    }
    let pg = ex.is_postgres();
    let ws = ex.workspace_id().to_owned();
    let p = |n: usize| if pg { format!("${n}") } else { "?".to_owned() };
    let list: Vec<String> = (0..contact_ids.len()).map(|i| p(i + 6)).collect();
    // Placeholders are numbered in the order they appear (SQLite's `?` are positional).
    let sql = format!(
        "UPDATE campaign_targets SET attempts = attempts + CASE WHEN state = 'pending' THEN 1 ELSE 0 END,
                state = 'dialing', lease_until = {lease}, updated_at = {now}
         WHERE (state = 'pending' OR (state = 'dialing' AND call_id IS NULL AND lease_until <= {now2}))
           AND workspace_id = {ws} AND campaign_id = {id} AND contact_id IN ({list})
         RETURNING contact_id, CAST(attempts AS BIGINT)",
        lease = p(1),
        now = p(2),
        now2 = p(3),
        ws = p(4),
        id = p(5),
        list = list.join(", ")
    );
    Ok(on!(ex, |c| {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(lease_until).bind(now).bind(now).bind(&ws).bind(id);
        for contact in contact_ids {
            q = q.bind(*contact);
        }
        q.fetch_all(&mut *c).await
    })?)
}

/// Records the call placed for a claimed attempt (its lease no longer matters).
pub async fn record_call(
    ex: &mut impl InWorkspace,
    id: &str,
    contact_id: &str,
    attempt: i64,
    call_id: &str,
    now: i64,
) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "UPDATE campaign_targets SET call_id = $5, lease_until = NULL, updated_at = $6
         WHERE workspace_id = $1 AND campaign_id = $2 AND contact_id = $3 AND attempts = $4 AND state = 'dialing'",
        &ws,
        id,
        contact_id,
        attempt,
        call_id,
        now
    )?;
    Ok(())
}

/// Gives a claimed attempt back unplaced (the wallet ran dry): it is due again at `at`.
pub async fn release(ex: &mut impl InWorkspace, id: &str, contact_id: &str, at: i64) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "UPDATE campaign_targets SET state = 'pending', attempts = attempts - 1, lease_until = NULL, next_at = $4,
                updated_at = $4
         WHERE workspace_id = $1 AND campaign_id = $2 AND contact_id = $3 AND state = 'dialing' AND call_id IS NULL",
        &ws,
        id,
        contact_id,
        at
    )?;
    Ok(())
}

/// Makes a pending target due later (outside its calling window until `at`).
pub async fn postpone(ex: &mut impl InWorkspace, id: &str, contact_id: &str, at: i64) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "UPDATE campaign_targets SET next_at = $4
         WHERE workspace_id = $1 AND campaign_id = $2 AND contact_id = $3 AND state = 'pending'",
        &ws,
        id,
        contact_id,
        at
    )?;
    Ok(())
}

/// Ends a target: `done` (no more attempts) or `skipped` (never dialed), with the
/// outcome (a call status, or why it was skipped) and a detail.
pub async fn finish(
    ex: &mut impl InWorkspace,
    id: &str,
    contact_id: &str,
    state: &str,
    outcome: &str,
    detail: Option<&str>,
    now: i64,
) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "UPDATE campaign_targets SET state = $4, outcome = $5, detail = $6, lease_until = NULL, next_at = NULL,
                updated_at = $7
         WHERE workspace_id = $1 AND campaign_id = $2 AND contact_id = $3 AND state IN ('pending', 'dialing')",
        &ws,
        id,
        contact_id,
        state,
        outcome,
        detail,
        now
    )?;
    Ok(())
}

/// The target of a campaign's call that just ended: its attempt is over. `retry_at`
/// makes it pending again (a retry), else it is done. Only a target still dialing
/// moves, so an ended call counts once.
pub async fn attempt_ended(
    ex: &mut impl InWorkspace,
    id: &str,
    contact_id: &str,
    call_id: &str,
    status: &str,
    retry_at: Option<i64>,
    now: i64,
) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    Ok(execute!(
        ex,
        "UPDATE campaign_targets SET state = CASE WHEN $6 IS NULL THEN 'done' ELSE 'pending' END, next_at = $6,
                call_id = $4, outcome = $5, lease_until = NULL, updated_at = $7
         WHERE workspace_id = $1 AND campaign_id = $2 AND contact_id = $3 AND state = 'dialing'",
        &ws,
        id,
        contact_id,
        call_id,
        status,
        retry_at,
        now
    )? > 0)
}

/// The attempts a target has had (`None`: not a target).
pub async fn attempts(ex: &mut impl InWorkspace, id: &str, contact_id: &str) -> Result<Option<i64>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_scalar(
        "SELECT CAST(attempts AS BIGINT) FROM campaign_targets
         WHERE workspace_id = $1 AND campaign_id = $2 AND contact_id = $3"
    )
    .bind(&ws)
    .bind(id)
    .bind(contact_id)
    .fetch_optional(c)
    .await)?)
}

/// Targets still to finish: pending or dialing.
pub async fn open_targets(ex: &mut impl InWorkspace, id: &str) -> Result<(i64, i64)> {
    let ws = ex.workspace_id().to_owned();
    let (pending, dialing): (Option<i64>, Option<i64>) = on!(ex, |c| sqlx::query_as(
        "SELECT CAST(sum(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS BIGINT),
                CAST(sum(CASE WHEN state = 'dialing' THEN 1 ELSE 0 END) AS BIGINT)
         FROM campaign_targets WHERE workspace_id = $1 AND campaign_id = $2 AND state IN ('pending', 'dialing')"
    )
    .bind(&ws)
    .bind(id)
    .fetch_one(c)
    .await)?;
    Ok((pending.unwrap_or(0), dialing.unwrap_or(0)))
}

/// Ends the leases of every claim whose call is not recorded (on SQLite, one process
/// per database, a lease left at start is a dead process's): their calls are placed
/// again at once, with the same attempt number.
pub async fn release_leases(region: &RegionDb) -> Result<()> {
    let mut tx = region.begin().await?;
    execute!(&mut tx, "UPDATE campaign_targets SET lease_until = 0 WHERE state = 'dialing' AND call_id IS NULL")?;
    tx.commit().await
}
