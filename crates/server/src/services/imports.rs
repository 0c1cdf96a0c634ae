//! CSV imports of contacts (SPEC P1): the upload is stored as it streams in, then a
//! worker processes it in batches. Each batch commits its contacts, its per-row errors,
//! the counters and the resume point together; a crash or restart resumes after the
//! last committed batch (rows before it are parsed again but not written again).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use callplane_domain::id::new_id;
use callplane_store::access::Scope;
use callplane_store::product::contacts::{self, Contact};
use callplane_store::product::imports::{self, Claimed, Import, NewImport, Progress};
use callplane_store::RegionDb;
use futures_util::{Stream, StreamExt};

use crate::error::{ApiError, ApiResult, Code};
use crate::services::contacts::{Input, Valid};
use crate::services::csv_rows::{Row, Rows};
use crate::state::AppState;

/// Bytes per stored chunk of an upload.
const CHUNK_BYTES: usize = 256 * 1024;
/// Largest file accepted.
pub const MAX_FILE_BYTES: i64 = 512 * 1024 * 1024;
/// Rows per committed batch.
const BATCH_ROWS: usize = 5000;
/// Chunks read from the database at a time while processing.
const CHUNKS_PER_READ: i64 = 8;

/// The contact fields a column can map to (besides `custom.<key>`); `custom_fields` is a
/// JSON object of them all, as the export writes it (so an export imports back whole).
pub const FIELDS: &[&str] =
    &["phone", "name", "email", "timezone", "tags", "do_not_call", "opted_out", "custom_fields"];

/// Checks a mapping (CSV column name → field) given by the caller.
pub fn check_mapping(mapping: &BTreeMap<String, String>) -> ApiResult<()> {
    for (column, field) in mapping {
        let known = FIELDS.contains(&field.as_str())
            || field.strip_prefix("custom.").is_some_and(|k| {
                callplane_domain::contact::check_custom_fields(&BTreeMap::from([(k.to_owned(), String::new())])).is_ok()
            })
            || field.is_empty();
        if !known {
            return Err(ApiError::invalid(
                "mapping",
                format!(
                    "column “{column}” maps to “{field}”, which is not a contact field ({}, custom.<key>)",
                    FIELDS.join(", ")
                ),
            ));
        }
    }
    if !mapping.is_empty() && !mapping.values().any(|f| f == "phone") {
        return Err(ApiError::invalid("mapping", "no column maps to phone"));
    }
    Ok(())
}

/// Stores an uploaded CSV as a new import job and queues it (or, with `queue = false`,
/// leaves it waiting for its column mapping: the dashboard's preview step); returns it.
#[allow(clippy::too_many_arguments)]
pub async fn upload<S, E>(
    state: &AppState,
    scope: &Scope,
    file_name: &str,
    on_duplicate: &str,
    mapping: &BTreeMap<String, String>,
    queue: bool,
    mut body: S,
) -> ApiResult<Import>
where
    S: Stream<Item = Result<axum::body::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    if !matches!(on_duplicate, "update" | "skip") {
        return Err(ApiError::invalid("on_duplicate", "must be update or skip"));
    }
    check_mapping(mapping)?;
    let id = new_id("imp");
    let actor = scope.principal();
    let mapping_json = serde_json::to_string(mapping).expect("strings serialise");
    let country = crate::services::agents::default_country(state, scope).await?;
    let new = NewImport {
        id: &id,
        on_duplicate,
        mapping: &mapping_json,
        default_country: &country,
        file_name,
        actor_type: actor.actor_type(),
        actor_id: actor.actor_id(),
        actor_label: &actor.label(),
        now: state.now(),
    };
    let mut tx = scope.begin().await?;
    imports::create(&mut tx, &new).await?;
    tx.commit().await?;
    let (mut seq, mut total, mut lines, mut pending) = (0i64, 0i64, 0i64, Vec::with_capacity(CHUNK_BYTES));
    loop {
        let piece = body
            .next()
            .await
            .transpose()
            .map_err(|e| ApiError::new(Code::BadRequest, format!("The upload was interrupted: {e}")))?;
        let last = piece.is_none();
        if let Some(bytes) = piece {
            total += bytes.len() as i64;
            if total > MAX_FILE_BYTES {
                return Err(ApiError::new(
                    Code::PayloadTooLarge,
                    format!("A contacts file may have at most {} MB.", MAX_FILE_BYTES / 1024 / 1024),
                ));
            }
            lines += bytes.iter().filter(|&&b| b == b'\n').count() as i64;
            pending.extend_from_slice(&bytes);
        }
        while pending.len() >= CHUNK_BYTES || (last && !pending.is_empty()) {
            let take = pending.len().min(CHUNK_BYTES);
            let chunk: Vec<u8> = pending.drain(..take).collect();
            let mut tx = scope.begin().await?;
            imports::append_chunk(&mut tx, &id, seq, &chunk).await?;
            tx.commit().await?;
            seq += 1;
        }
        if last {
            break;
        }
    }
    if total == 0 {
        return Err(ApiError::invalid("file", "is empty: a contacts CSV needs a header row and a phone column"));
    }
    let mut tx = scope.begin().await?;
    imports::received(&mut tx, &id, total, (lines - 1).max(0), queue, state.now()).await?;
    tx.commit().await?;
    if queue {
        state.import_wakeup.notify_one();
    }
    get(scope, &id).await
}

/// Starts an import that waits for its mapping (after the dashboard's preview).
pub async fn start(
    state: &AppState,
    scope: &Scope,
    id: &str,
    on_duplicate: &str,
    mapping: &BTreeMap<String, String>,
) -> ApiResult<()> {
    if !matches!(on_duplicate, "update" | "skip") {
        return Err(ApiError::invalid("on_duplicate", "must be update or skip"));
    }
    check_mapping(mapping)?;
    if !mapping.values().any(|f| f == "phone") {
        return Err(ApiError::invalid("mapping", "no column maps to phone"));
    }
    let mapping = serde_json::to_string(mapping).expect("strings serialise");
    let mut tx = scope.begin().await?;
    if !imports::start(&mut tx, id, &mapping, on_duplicate, state.now()).await? {
        return Err(ApiError::new(Code::BadRequest, "This import has already started."));
    }
    tx.commit().await?;
    state.import_wakeup.notify_one();
    Ok(())
}

/// The header and the first rows of an uploaded file, for the mapping preview.
pub async fn preview(scope: &Scope, id: &str, rows: usize) -> ApiResult<(Vec<String>, Vec<Vec<String>>)> {
    let chunks = imports::chunks(&mut scope.read().await?, id, 0, 1).await?;
    let mut parser = Rows::default();
    let mut parsed = Vec::new();
    if let Some((_, data)) = chunks.first() {
        parser.feed(data, chunks.len() < 2 && data.len() < CHUNK_BYTES, &mut parsed);
    }
    let mut fields = parsed.into_iter().filter_map(|r| match r {
        Row::Fields(f) => Some(f),
        Row::Refused(_) => None,
    });
    let header = fields.next().unwrap_or_default();
    Ok((header, fields.take(rows).collect()))
}

/// The field a column maps to when nobody says otherwise (`Phone` → `phone`).
pub fn default_field(column: &str) -> Option<String> {
    let lower = column.trim().trim_start_matches('\u{feff}').to_lowercase().replace([' ', '-'], "_");
    match lower.as_str() {
        "phone" | "phone_number" | "mobile" | "number" => Some("phone".to_owned()),
        f if FIELDS.contains(&f) || f.starts_with("custom.") => Some(f.to_owned()),
        _ => None,
    }
}

pub async fn get(scope: &Scope, id: &str) -> ApiResult<Import> {
    imports::get(&mut scope.read().await?, id).await?.ok_or_else(ApiError::not_found)
}

/// How the file's columns become contact fields.
struct Columns {
    /// (column index, column name, field)
    mapped: Vec<(usize, String, String)>,
}

impl Columns {
    /// From the header and the caller's mapping; without a mapping, columns whose
    /// names are field names (`phone`, `Name`, `custom.plan`) map to them.
    fn new(header: &[String], mapping: &BTreeMap<String, String>) -> Result<Self, String> {
        let mut mapped = Vec::new();
        for (i, name) in header.iter().enumerate() {
            let name = name.trim().trim_start_matches('\u{feff}');
            let field = if mapping.is_empty() {
                default_field(name)
            } else {
                mapping.get(name).filter(|f| !f.is_empty()).cloned()
            };
            if let Some(field) = field {
                if let Some((_, other, _)) = mapped.iter().find(|(_, _, f)| *f == field) {
                    return Err(format!("columns “{other}” and “{name}” both map to {field}; map one of them"));
                }
                mapped.push((i, name.to_owned(), field));
            }
        }
        let named: Vec<&str> = header.iter().map(|h| h.trim().trim_start_matches('\u{feff}')).collect();
        if let Some(missing) = mapping.keys().find(|c| !named.contains(&c.as_str())) {
            return Err(format!("the mapping names column “{missing}”, which the file does not have"));
        }
        if !mapped.iter().any(|(_, _, f)| f == "phone") {
            return Err("no column maps to phone (name a column `phone`, or map one to it)".to_owned());
        }
        Ok(Self { mapped })
    }

    /// The contact a row describes, or the column and reason it is refused for.
    fn input(&self, fields: &[String], width: usize) -> Result<Input, (String, String)> {
        if fields.len() != width {
            return Err(("".into(), format!("the row has {} columns, the header {width}", fields.len())));
        }
        let mut input = Input::default();
        let mut custom = BTreeMap::new();
        for (i, column, field) in &self.mapped {
            // An exported cell defused with a leading ' comes back as it was.
            let v =
                fields[*i].strip_prefix('\'').filter(|r| r.starts_with(['=', '+', '-', '@'])).unwrap_or(&fields[*i]);
            // An empty cell gives no value: a new contact goes without, an existing one keeps its own.
            if v.trim().is_empty() {
                continue;
            }
            let flag = |v: &str| match v.trim().to_lowercase().as_str() {
                "false" | "no" | "0" | "n" => Ok(false),
                "true" | "yes" | "1" | "y" => Ok(true),
                _ => Err((column.clone(), "must be true or false".to_owned())),
            };
            match field.as_str() {
                "phone" => input.phone = Some(v.to_owned()),
                "name" => input.name = Some(v.to_owned()),
                "email" => input.email = Some(v.to_owned()),
                "timezone" => input.timezone = Some(v.to_owned()),
                "tags" => input.tags = Some(v.split([';', '|']).map(str::to_owned).collect()),
                "do_not_call" => input.do_not_call = Some(flag(v)?),
                "opted_out" => input.opted_out = Some(flag(v)?),
                // `custom.<key>` columns, wherever they are, win over the object's keys.
                "custom_fields" => {
                    let all: BTreeMap<String, String> = serde_json::from_str(v).map_err(|_| {
                        (column.clone(), "must be a JSON object of text values, as the export writes it".to_owned())
                    })?;
                    for (k, v) in all {
                        custom.entry(k).or_insert(v);
                    }
                }
                f => {
                    if let Some(key) = f.strip_prefix("custom.") {
                        custom.insert(key.to_owned(), v.to_owned());
                    }
                }
            }
        }
        if !custom.is_empty() {
            input.custom_fields = Some(custom);
        }
        Ok(input)
    }

    /// A field's refusal as the error report's (column, reason).
    fn refusal(&self, e: callplane_domain::contact::FieldError) -> (String, String) {
        let column = self
            .mapped
            .iter()
            .find(|(_, _, f)| f == e.field)
            .map(|(_, c, _)| c.clone())
            .unwrap_or_else(|| e.field.to_owned());
        (column, e.message)
    }
}

/// Processes a claimed import to its end (or until an error leaves it for a retry).
pub async fn process(state: &AppState, region: &RegionDb, job: &Claimed) -> ApiResult<()> {
    let mut tx = job.begin(region).await?;
    let import = imports::get(&mut tx, &job.id).await?.ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    let mapping: BTreeMap<String, String> = serde_json::from_str(&import.mapping).unwrap_or_default();
    let country = import.default_country.clone();
    let mut parser = Rows::default();
    let mut rows = Vec::new();
    let mut columns: Option<(Arc<Columns>, usize)> = None;
    let mut row_number: i64 = 1; // the header is row 1
    let mut batch: Vec<(i64, Row)> = Vec::new();
    // A pipeline of two: the next batch is validated on a blocking thread while the
    // one before it is written, so libphonenumber and SQLite use both cores.
    let mut validating: Option<tokio::task::JoinHandle<Checked>> = None;
    let mut seq = 0;
    loop {
        let mut tx = job.begin(region).await?;
        let chunks = imports::chunks(&mut tx, &job.id, seq, CHUNKS_PER_READ).await?;
        tx.commit().await?;
        let end = (chunks.len() as i64) < CHUNKS_PER_READ;
        for (s, data) in &chunks {
            parser.feed(data, false, &mut rows);
            seq = s + 1;
        }
        if end {
            parser.feed(&[], true, &mut rows);
        }
        for row in rows.drain(..) {
            if columns.is_none() {
                let header = match row {
                    Row::Fields(h) => h,
                    Row::Refused(reason) => {
                        return fail(state, region, job, &format!("the header row is refused: {reason}")).await
                    }
                };
                match Columns::new(&header, &mapping) {
                    Ok(c) => columns = Some((Arc::new(c), header.len())),
                    Err(e) => return fail(state, region, job, &e).await,
                }
                continue;
            }
            row_number += 1;
            if row_number - 1 <= import.rows_done {
                continue; // committed before an interruption
            }
            batch.push((row_number, row));
            if batch.len() >= BATCH_ROWS {
                let (cols, width) = columns.as_ref().expect("the header came first");
                let next = validate_in_background(cols, *width, &country, std::mem::take(&mut batch));
                if let Some(previous) = validating.replace(next) {
                    write_batch(state, region, job, &import, cols, &country, joined(previous).await?).await?;
                }
            }
        }
        if end {
            break;
        }
    }
    let Some((cols, width)) = columns.as_ref() else {
        return fail(state, region, job, "the file has no header row").await;
    };
    if let Some(previous) = validating.take() {
        write_batch(state, region, job, &import, cols, &country, joined(previous).await?).await?;
    }
    if !batch.is_empty() {
        write_batch(state, region, job, &import, cols, &country, validate(cols, *width, &country, &batch)).await?;
    }
    finish(state, region, job, None).await
}

async fn fail(state: &AppState, region: &RegionDb, job: &Claimed, error: &str) -> ApiResult<()> {
    finish(state, region, job, Some(error)).await
}

/// Ends the job, and tells the workspace's webhooks (`contact.import.completed`) in the
/// same transaction.
async fn finish(state: &AppState, region: &RegionDb, job: &Claimed, error: Option<&str>) -> ApiResult<()> {
    let now = state.now();
    let mut tx = job.begin(region).await?;
    imports::finish(&mut tx, &job.id, error, now).await?;
    let told = match imports::get(&mut tx, &job.id).await? {
        Some(import) => crate::services::events::import_finished(&mut tx, &import, error, now).await?,
        None => false,
    };
    tx.commit().await?;
    if told {
        state.webhook_wakeup.notify_one();
    }
    Ok(())
}

/// A batch's rows checked without the database: the contacts they describe, and the
/// refused rows' errors.
struct Checked {
    rows: i64,
    valid: Vec<(i64, Input, Valid)>,
    errors: Vec<(i64, String, String)>,
}

fn validate(cols: &Columns, width: usize, country: &str, batch: &[(i64, Row)]) -> Checked {
    let mut checked = Checked { rows: batch.len() as i64, valid: Vec::with_capacity(batch.len()), errors: Vec::new() };
    for (row_number, row) in batch {
        let result = match row {
            Row::Refused(reason) => Err((String::new(), reason.clone())),
            Row::Fields(fields) => cols
                .input(fields, width)
                .and_then(|input| Valid::apply(None, &input, country).map(|v| (input, v)).map_err(|e| cols.refusal(e))),
        };
        match result {
            Ok((input, v)) => checked.valid.push((*row_number, input, v)),
            Err((column, reason)) => checked.errors.push((*row_number, column, reason)),
        }
    }
    checked
}

fn validate_in_background(
    cols: &Arc<Columns>,
    width: usize,
    country: &str,
    batch: Vec<(i64, Row)>,
) -> tokio::task::JoinHandle<Checked> {
    let (cols, country) = (cols.clone(), country.to_owned());
    tokio::task::spawn_blocking(move || validate(&cols, width, &country, &batch))
}

async fn joined(handle: tokio::task::JoinHandle<Checked>) -> ApiResult<Checked> {
    handle.await.map_err(ApiError::internal)
}

/// One batch: its contacts, errors, counters and resume point in one transaction. The
/// workspace's contacts with the batch's phones are read in one query, and the new
/// contacts written many per statement.
async fn write_batch(
    state: &AppState,
    region: &RegionDb,
    job: &Claimed,
    import: &Import,
    cols: &Columns,
    country: &str,
    checked: Checked,
) -> ApiResult<()> {
    let now = state.now();
    let Checked { rows, valid, mut errors } = checked;
    let mut p = Progress { rows, ..Progress::default() };
    let mut tx = job.begin(region).await?;
    // 1. The workspace's contacts with these phones (earlier batches included).
    let phones: Vec<&str> = valid.iter().map(|(_, _, v)| v.phone.as_str()).collect();
    let existing: HashMap<String, Contact> =
        contacts::get_by_phones(&mut tx, &phones).await?.into_iter().map(|c| (c.phone.clone(), c)).collect();
    // 2. What each phone becomes, in file order: a later row with the same phone updates
    //    (or skips) like a row matching a contact already there.
    let mut plan: Vec<Planned> = Vec::new();
    let mut planned: HashMap<String, usize> = HashMap::new();
    for (row_number, input, fresh) in valid {
        if let Some(&i) = planned.get(&fresh.phone) {
            if import.on_duplicate == "skip" {
                p.skipped += 1;
                continue;
            }
            match merge(plan[i].current(), &input, country) {
                Ok(merged) => {
                    *plan[i].current_mut() = merged;
                    p.updated += 1;
                }
                Err(e) => {
                    let (column, reason) = cols.refusal(e);
                    errors.push((row_number, column, reason));
                }
            }
            continue;
        }
        // Read, not taken: a row that skips an existing contact, or whose update is
        // refused, leaves it there for a later row with the same phone to find.
        match existing.get(&fresh.phone).cloned() {
            None => {
                planned.insert(fresh.phone.clone(), plan.len());
                plan.push(Planned::Insert(new_id("ct"), fresh));
                p.imported += 1;
            }
            Some(_) if import.on_duplicate == "skip" => p.skipped += 1,
            Some(contact) => {
                let base = Valid::from_contact(&contact);
                match merge(&base, &input, country) {
                    Ok(after) => {
                        planned.insert(fresh.phone.clone(), plan.len());
                        plan.push(Planned::Update { id: contact.id, base, after });
                        p.updated += 1;
                    }
                    Err(e) => {
                        let (column, reason) = cols.refusal(e);
                        errors.push((row_number, column, reason));
                    }
                }
            }
        }
    }
    // 3. The writes.
    let inserts: Vec<(String, crate::services::contacts::Encoded, &Valid)> = plan
        .iter()
        .filter_map(|step| match step {
            Planned::Insert(id, v) => Some((id.clone(), crate::services::contacts::Encoded::of(v), v)),
            Planned::Update { .. } => None,
        })
        .collect();
    let rows: Vec<(String, contacts::Fields<'_>)> =
        inserts.iter().map(|(id, enc, v)| (id.clone(), enc.fields(v))).collect();
    contacts::create_many(&mut tx, &rows, now).await?;
    let mut flag_changes = Vec::new();
    for step in &plan {
        if let Planned::Update { id, base, after } = step {
            if after != base {
                crate::services::contacts::replace(&mut tx, id, after, now).await?;
            }
            // Compared as fields: the JSON is built only for the rare row that changes one.
            if (after.do_not_call, after.opted_out) != (base.do_not_call, base.opted_out) {
                flag_changes.push((id.as_str(), base.flags().to_string(), after.flags().to_string()));
            }
        }
    }
    imports::audit_flag_changes(&mut tx, &job.id, &flag_changes, now).await?;
    errors.sort_by_key(|(row, _, _)| *row);
    p.failed = errors.len() as i64;
    imports::add_errors(&mut tx, &job.id, &errors).await?;
    imports::advance(&mut tx, &job.id, p, now).await?;
    imports::renew(&mut tx, &job.id, now + state.config.workers.lease_secs * 1000).await?;
    tx.commit().await?;
    crate::failpoint::hit("import.after_batch");
    Ok(())
}

/// What a batch does to one phone.
enum Planned {
    Insert(String, Valid),
    Update { id: String, base: Valid, after: Valid },
}

impl Planned {
    fn current(&self) -> &Valid {
        match self {
            Planned::Insert(_, v) | Planned::Update { after: v, .. } => v,
        }
    }
    fn current_mut(&mut self) -> &mut Valid {
        match self {
            Planned::Insert(_, v) | Planned::Update { after: v, .. } => v,
        }
    }
}

/// A row applied to a contact: its fields replace the contact's, except custom fields,
/// which add to the contact's own.
fn merge(base: &Valid, input: &Input, country: &str) -> Result<Valid, callplane_domain::contact::FieldError> {
    let mut input = input.clone();
    if let Some(custom) = &mut input.custom_fields {
        for (k, v) in &base.custom_fields {
            custom.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Valid::apply(Some(base), &input, country)
}

/// Failed attempts at one batch after which the import ends as failed.
const MAX_FAILURES: i64 = 5;

/// After an attempt at the job failed: it resumes when its lease expires, unless its
/// next batch failed [`MAX_FAILURES`] times in a row (a batch that can never commit
/// would otherwise be retried forever); the rows before it stay imported.
async fn give_up_or_resume(state: &AppState, region: &RegionDb, job: &Claimed, error: &str) {
    let counted = async {
        let mut tx = job.begin(region).await?;
        let n = imports::failed_attempt(&mut tx, &job.id).await?;
        tx.commit().await?;
        Ok::<_, callplane_store::Error>(n)
    };
    match counted.await {
        Ok(n) if n >= MAX_FAILURES => {
            tracing::warn!(import = %job.id, error, "import failed {n} times at the same batch; it ends as failed");
            let reason = format!("stopped after {n} failed attempts at the same rows: {error}");
            if let Err(e) = fail(state, region, job, &reason).await {
                tracing::warn!(import = %job.id, error = %e.detail, "ending a failing import");
            }
        }
        _ => tracing::warn!(import = %job.id, error, "import interrupted; it resumes when its lease expires"),
    }
}

/// Processes queued and interrupted imports of every region database; woken when an
/// upload is queued, otherwise polling.
pub async fn run_worker(state: AppState) {
    for region in state.regions.databases() {
        if region.backend() == "sqlite" {
            // One process per SQLite database: a lease left running is a dead process's.
            if let Err(e) = imports::release_leases(region).await {
                tracing::warn!(error = %e, "releasing import leases");
            }
        }
    }
    loop {
        let mut worked = false;
        for region in state.regions.databases() {
            let lease = state.now() + state.config.workers.lease_secs * 1000;
            match imports::claim(region, state.now(), lease).await {
                Ok(Some(job)) => {
                    worked = true;
                    if let Err(e) = process(&state, region, &job).await {
                        give_up_or_resume(&state, region, &job, &e.detail).await;
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "claiming an import"),
            }
        }
        if !worked {
            tokio::select! {
                _ = state.import_wakeup.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(state.config.workers.poll_secs)) => {}
            }
        }
    }
}
