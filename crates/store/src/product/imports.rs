//! Contact imports (SPEC P1): durable jobs. The upload is stored in chunks; a worker
//! claims a queued job with a lease and processes it in batches, each committing its
//! rows, the counters and the resume point (`rows_done`) together, so a crash or a
//! restart resumes after the last committed batch and never leaves half a batch.

use super::{InWorkspace, JobTx};
use crate::error::Result;
use crate::regions::RegionDb;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Import {
    pub id: String,
    pub status: String,
    pub on_duplicate: String,
    pub mapping: String,
    pub default_country: String,
    pub file_name: String,
    pub bytes: i64,
    pub rows_estimate: i64,
    pub rows_done: i64,
    pub imported: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
    pub error: Option<String>,
    pub actor_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, status, on_duplicate, mapping, default_country, file_name, bytes, rows_estimate, rows_done, imported, updated, skipped, \
                       failed, error, actor_id, created_at, updated_at";

pub struct NewImport<'a> {
    pub id: &'a str,
    pub on_duplicate: &'a str,
    pub mapping: &'a str,
    pub default_country: &'a str,
    pub file_name: &'a str,
    pub actor_type: &'a str,
    pub actor_id: &'a str,
    pub actor_label: &'a str,
    pub now: i64,
}

/// Registers an import whose file is still arriving (`receiving`).
pub async fn create(ex: &mut impl InWorkspace, n: &NewImport<'_>) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "INSERT INTO contact_imports (workspace_id, id, status, on_duplicate, mapping, default_country, file_name, bytes,
                                      rows_done, imported, updated, skipped, failed, actor_type, actor_id, actor_label,
                                      created_at, updated_at)
         VALUES ($1, $2, 'receiving', $3, $4, $10, $5, 0, 0, 0, 0, 0, 0, $6, $7, $8, $9, $9)",
        &ws,
        n.id,
        n.on_duplicate,
        n.mapping,
        n.file_name,
        n.actor_type,
        n.actor_id,
        n.actor_label,
        n.now,
        n.default_country
    )?;
    Ok(())
}

pub async fn append_chunk(ex: &mut impl InWorkspace, import_id: &str, seq: i64, data: &[u8]) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "INSERT INTO contact_import_chunks (workspace_id, import_id, seq, data) VALUES ($1, $2, $3, $4)",
        &ws,
        import_id,
        seq,
        data
    )?;
    Ok(())
}

/// The whole file has arrived: queued for a worker, or (`queue = false`) waiting for
/// its column mapping ([`start`]).
pub async fn received(
    ex: &mut impl InWorkspace,
    import_id: &str,
    bytes: i64,
    rows_estimate: i64,
    queue: bool,
    now: i64,
) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "UPDATE contact_imports SET status = $3, bytes = $4, rows_estimate = $5, updated_at = $6
         WHERE workspace_id = $1 AND id = $2 AND status = 'receiving'",
        &ws,
        import_id,
        if queue { "queued" } else { "uploaded" },
        bytes,
        rows_estimate,
        now
    )?;
    Ok(())
}

/// Starts an uploaded import with its mapping; false when it was not waiting for one.
pub async fn start(
    ex: &mut impl InWorkspace,
    import_id: &str,
    mapping: &str,
    on_duplicate: &str,
    now: i64,
) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    Ok(execute!(
        ex,
        "UPDATE contact_imports SET status = 'queued', mapping = $3, on_duplicate = $4, updated_at = $5
         WHERE workspace_id = $1 AND id = $2 AND status = 'uploaded'",
        &ws,
        import_id,
        mapping,
        on_duplicate,
        now
    )? > 0)
}

pub async fn get(ex: &mut impl InWorkspace, import_id: &str) -> Result<Option<Import>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM contact_imports WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(&ws)
    .bind(import_id)
    .fetch_optional(c)
    .await)?)
}

/// The workspace's imports, newest first.
pub async fn list(ex: &mut impl InWorkspace, limit: i64) -> Result<Vec<Import>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM contact_imports WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2"
    )))
    .bind(&ws)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// The stored file, chunk after chunk, from `seq` on.
pub async fn chunks(
    ex: &mut impl InWorkspace,
    import_id: &str,
    from_seq: i64,
    limit: i64,
) -> Result<Vec<(i64, Vec<u8>)>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT seq, data FROM contact_import_chunks WHERE workspace_id = $1 AND import_id = $2 AND seq >= $3
         ORDER BY seq LIMIT $4"
    )
    .bind(&ws)
    .bind(import_id)
    .bind(from_seq)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// What a batch did, added to the job's counters with its new resume point.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub rows: i64,
    pub imported: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
}

pub async fn advance(ex: &mut impl InWorkspace, import_id: &str, p: Progress, now: i64) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "UPDATE contact_imports SET rows_done = rows_done + $3, imported = imported + $4, updated = updated + $5,
                skipped = skipped + $6, failed = failed + $7, updated_at = $8, failures = 0
         WHERE workspace_id = $1 AND id = $2",
        &ws,
        import_id,
        p.rows,
        p.imported,
        p.updated,
        p.skipped,
        p.failed,
        now
    )?;
    Ok(())
}

/// Audits each contact whose do-not-call or opted-out flag the import changed
/// (`(contact id, flags before, flags after)`, JSON), under the job's actor, as the API
/// audits such a change: who changed it and when (SPEC P1).
pub async fn audit_flag_changes(
    ex: &mut impl InWorkspace,
    import_id: &str,
    changes: &[(&str, String, String)],
    now: i64,
) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    for (contact_id, before, after) in changes {
        execute!(
            ex,
            "INSERT INTO product_audit_events (id, account_id, workspace_id, actor_type, actor_id, actor_label, action,
                                               target_type, target_id, before_json, after_json, created_at)
             SELECT $3, a.account_id, i.workspace_id, i.actor_type, i.actor_id, i.actor_label,
                    'contact.flags_changed', 'contact', $4, $5, $6, $7
             FROM contact_imports i JOIN workspace_anchors a ON a.workspace_id = i.workspace_id
             WHERE i.workspace_id = $1 AND i.id = $2",
            &ws,
            import_id,
            callplane_domain::id::new_id(callplane_domain::id::prefix::AUDIT),
            *contact_id,
            before,
            after,
            now
        )?;
    }
    Ok(())
}

/// Counts a failed attempt at the job's next batch; how many failed in a row.
pub async fn failed_attempt(ex: &mut impl InWorkspace, import_id: &str) -> Result<i64> {
    let ws = ex.workspace_id().to_owned();
    let n: Option<i64> = on!(ex, |c| sqlx::query_scalar(
        "UPDATE contact_imports SET failures = failures + 1 WHERE workspace_id = $1 AND id = $2
         RETURNING CAST(failures AS BIGINT)"
    )
    .bind(&ws)
    .bind(import_id)
    .fetch_optional(c)
    .await)?;
    Ok(n.unwrap_or(0))
}

/// Records many rows' errors, `(row, column, reason)`, a few statements for a batch.
pub async fn add_errors(ex: &mut impl InWorkspace, import_id: &str, errors: &[(i64, String, String)]) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    for part in errors.chunks(500) {
        let pg = ex.is_postgres();
        let sql = format!(
            "INSERT INTO contact_import_errors (workspace_id, import_id, row_number, column_name, reason)
             SELECT {}, v.* FROM (VALUES {}) AS v WHERE true ON CONFLICT DO NOTHING",
            crate::db::value_rows(pg, 1, 2, 1).trim_matches(['(', ')']),
            crate::db::value_rows(pg, part.len(), 3, 3)
        );
        on!(ex, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&ws).bind(import_id);
            for (row, column, reason) in part {
                q = q.bind(row).bind(column).bind(reason);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RowError {
    pub row_number: i64,
    pub column_name: String,
    pub reason: String,
}

/// The error report, by row, after `after_row`.
pub async fn errors(ex: &mut impl InWorkspace, import_id: &str, after_row: i64, limit: i64) -> Result<Vec<RowError>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT row_number, column_name, reason FROM contact_import_errors
         WHERE workspace_id = $1 AND import_id = $2 AND row_number > $3 ORDER BY row_number, column_name LIMIT $4"
    )
    .bind(&ws)
    .bind(import_id)
    .bind(after_row)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

/// Ends the job (`completed` or `failed` with a whole-file error), drops its stored file
/// and records the outcome in the workspace's audit log under the job's actor.
pub async fn finish(ex: &mut impl InWorkspace, import_id: &str, error: Option<&str>, now: i64) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    let status = if error.is_some() { "failed" } else { "completed" };
    execute!(
        ex,
        "UPDATE contact_imports SET status = $3, error = $4, updated_at = $5, lease_until = NULL
         WHERE workspace_id = $1 AND id = $2",
        &ws,
        import_id,
        status,
        error,
        now
    )?;
    execute!(ex, "DELETE FROM contact_import_chunks WHERE workspace_id = $1 AND import_id = $2", &ws, import_id)?;
    execute!(
        ex,
        "INSERT INTO product_audit_events (id, account_id, workspace_id, actor_type, actor_id, actor_label, action,
                                               target_type, target_id, after_json, created_at)
             SELECT $3, a.account_id, i.workspace_id, i.actor_type, i.actor_id, i.actor_label,
                    'contacts.import_' || $4, 'contact_import', i.id,
                    '{\"imported\":' || i.imported || ',\"updated\":' || i.updated || ',\"skipped\":' || i.skipped
                    || ',\"failed\":' || i.failed || ',\"rows\":' || i.rows_done || '}', $5
             FROM contact_imports i JOIN workspace_anchors a ON a.workspace_id = i.workspace_id
             WHERE i.workspace_id = $1 AND i.id = $2",
        &ws,
        import_id,
        callplane_domain::id::new_id(callplane_domain::id::prefix::AUDIT),
        status,
        now
    )?;
    Ok(())
}

/// A job claimed by a worker, with the workspace it belongs to.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub workspace_id: String,
    pub account_id: String,
    pub id: String,
}

impl Claimed {
    /// A transaction in the job's workspace.
    pub async fn begin(&self, region: &RegionDb) -> Result<JobTx> {
        Ok(JobTx::new(region.begin().await?, &self.workspace_id, &self.account_id))
    }
}

/// Claims one queued or interrupted (`running`, lease expired) import in this region
/// database, leasing it until `lease_until` and marking it `running`.
pub async fn claim(region: &RegionDb, now: i64, lease_until: i64) -> Result<Option<Claimed>> {
    let mut tx = region.begin().await?;
    macro_rules! claim_sql {
        ($lock:literal) => {
            concat!(
                "UPDATE contact_imports SET status = 'running', lease_until = $2
                 WHERE (workspace_id, id) IN (
                     SELECT workspace_id, id FROM contact_imports
                     WHERE status IN ('queued', 'running') AND (lease_until IS NULL OR lease_until < $1)
                     ORDER BY created_at LIMIT 1",
                $lock,
                ") RETURNING workspace_id, id"
            )
        };
    }
    let sql = if region.backend() == "postgres" { claim_sql!(" FOR UPDATE SKIP LOCKED") } else { claim_sql!("") };
    let claimed: Option<(String, String)> =
        on!(&mut tx, |c| sqlx::query_as(sql).bind(now).bind(lease_until).fetch_optional(c).await)?;
    let Some((workspace_id, id)) = claimed else { return Ok(None) };
    let account_id: String =
        on!(&mut tx, |c| sqlx::query_scalar("SELECT account_id FROM workspace_anchors WHERE workspace_id = $1")
            .bind(&workspace_id)
            .fetch_one(c)
            .await)?;
    tx.commit().await?;
    Ok(Some(Claimed { workspace_id, account_id, id }))
}

/// Extends a running job's lease (between batches).
pub async fn renew(tx: &mut JobTx, import_id: &str, lease_until: i64) -> Result<()> {
    let ws = tx.workspace_id().to_owned();
    execute!(
        tx,
        "UPDATE contact_imports SET lease_until = $3 WHERE workspace_id = $1 AND id = $2",
        &ws,
        import_id,
        lease_until
    )?;
    Ok(())
}

/// Forgets every lease (SQLite only, at start-up: one process per database).
pub async fn release_leases(region: &RegionDb) -> Result<()> {
    let mut tx = region.begin().await?;
    execute!(&mut tx, "UPDATE contact_imports SET lease_until = NULL WHERE status = 'running'")?;
    tx.commit().await
}
