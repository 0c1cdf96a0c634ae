//! Contacts (SPEC P1, I3): one row per phone number per workspace, tags in
//! `contact_tags` for filtering. Lists page with a keyset on the id (ids are
//! time-ordered: newest first), never an offset.

use super::InWorkspace;
use crate::db::value_rows;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Contact {
    pub id: String,
    pub phone: String,
    pub name: String,
    pub email: Option<String>,
    pub timezone: Option<String>,
    /// JSON array.
    pub tags: String,
    /// JSON object.
    pub custom_fields: String,
    pub do_not_call: bool,
    pub opted_out: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A contact's writable fields, already validated and normalised.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    pub phone: &'a str,
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub timezone: Option<&'a str>,
    /// The tags, for `contact_tags` (the JSON form goes in `tags_json`).
    pub tags: &'a [String],
    pub tags_json: &'a str,
    pub custom_fields: &'a str,
    pub do_not_call: bool,
    pub opted_out: bool,
    pub search: &'a str,
}

/// Which contacts a list, a bulk delete or an export selects.
#[derive(Debug, Default, Clone)]
pub struct Filter<'a> {
    /// A tag (matched case-insensitively).
    pub tag: Option<&'a str>,
    pub do_not_call: Option<bool>,
    pub opted_out: Option<bool>,
    /// Text searched in name, phone and email (case-insensitive, substring).
    pub q: Option<&'a str>,
}

const COLUMNS: &str =
    "id, phone, name, email, timezone, tags, custom_fields, do_not_call, opted_out, created_at, updated_at";

/// `<filters>` shared by list, count and bulk delete; `$1` is the workspace, `$2`–`$5`
/// the filter values.
macro_rules! filtered {
    ($head:expr, $tail:expr) => {
        concat!(
            $head,
            " WHERE c.workspace_id = $1
               AND ($2 IS NULL OR EXISTS (SELECT 1 FROM contact_tags t
                                          WHERE t.workspace_id = c.workspace_id AND t.contact_id = c.id
                                            AND t.tag_key = $2))
               AND ($3 IS NULL OR c.do_not_call = $3)
               AND ($4 IS NULL OR c.opted_out = $4)
               AND ($5 IS NULL OR c.search LIKE $5 ESCAPE '!')",
            $tail
        )
    };
}

pub(crate) use filtered;

/// `%q%` with LIKE's wildcards escaped, lowercased.
pub(crate) fn like_pattern(q: &str) -> String {
    let escaped = q.to_lowercase().replace('!', "!!").replace('%', "!%").replace('_', "!_");
    format!("%{escaped}%")
}

pub(crate) fn tag_key(tag: &str) -> String {
    tag.to_lowercase()
}

pub async fn create(ex: &mut impl InWorkspace, id: &str, f: &Fields<'_>, now: i64) -> Result<Contact> {
    let ws = ex.workspace_id().to_owned();
    let mark = SearchMark::take(ex).await?;
    let contact: Contact = on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO contacts (workspace_id, id, phone, name, email, timezone, tags, custom_fields,
                               do_not_call, opted_out, search, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING {COLUMNS}"
    )))
    .bind(&ws)
    .bind(id)
    .bind(f.phone)
    .bind(f.name)
    .bind(f.email)
    .bind(f.timezone)
    .bind(f.tags_json)
    .bind(f.custom_fields)
    .bind(f.do_not_call)
    .bind(f.opted_out)
    .bind(f.search)
    .bind(now)
    .fetch_one(c)
    .await)?;
    set_tags(ex, id, f.tags).await?;
    mark.index_new(ex).await?;
    Ok(contact)
}

/// Where the contacts table ended before an insert, so that the contacts inserted
/// after it can be added to the SQLite trigram index in one statement. (The writer is
/// alone in its transaction and a new row's rowid is above every existing one, so the
/// rows past the mark are exactly this transaction's new contacts.) On PostgreSQL the
/// index is an ordinary one, maintained by the database.
struct SearchMark(Option<i64>);

impl SearchMark {
    async fn take(ex: &mut impl InWorkspace) -> Result<SearchMark> {
        if ex.is_postgres() {
            return Ok(SearchMark(None));
        }
        let last: i64 =
            on!(ex, |c| sqlx::query_scalar("SELECT coalesce(max(rowid), 0) FROM contacts").fetch_one(c).await)?;
        Ok(SearchMark(Some(last)))
    }

    async fn index_new(self, ex: &mut impl InWorkspace) -> Result<()> {
        if let Some(last) = self.0 {
            execute!(
                ex,
                "INSERT INTO contact_search (rowid, search) SELECT rowid, search FROM contacts WHERE rowid > $1",
                last
            )?;
        }
        Ok(())
    }
}

pub async fn update(ex: &mut impl InWorkspace, id: &str, f: &Fields<'_>, now: i64) -> Result<Option<Contact>> {
    let ws = ex.workspace_id().to_owned();
    let contact: Option<Contact> = on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE contacts SET phone = $3, name = $4, email = $5, timezone = $6, tags = $7, custom_fields = $8,
                do_not_call = $9, opted_out = $10, search = $11, updated_at = $12
         WHERE workspace_id = $1 AND id = $2 RETURNING {COLUMNS}"
    )))
    .bind(&ws)
    .bind(id)
    .bind(f.phone)
    .bind(f.name)
    .bind(f.email)
    .bind(f.timezone)
    .bind(f.tags_json)
    .bind(f.custom_fields)
    .bind(f.do_not_call)
    .bind(f.opted_out)
    .bind(f.search)
    .bind(now)
    .fetch_optional(c)
    .await)?;
    if contact.is_some() {
        set_tags(ex, id, f.tags).await?;
    }
    Ok(contact)
}

/// Rows per multi-row statement: well under both backends' limits on bound values.
const ROWS_PER_STATEMENT: usize = 500;

/// Inserts new contacts, many per statement (the import's path: a batch of rows costs a
/// few statements, not one per row). The phones must be new to the workspace.
pub async fn create_many(ex: &mut impl InWorkspace, rows: &[(String, Fields<'_>)], now: i64) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    let mark = SearchMark::take(ex).await?;
    for part in rows.chunks(ROWS_PER_STATEMENT) {
        // The workspace, created and updated; then 10 values per contact.
        let sql = format!(
            "INSERT INTO contacts (workspace_id, created_at, updated_at, id, phone, name, email, timezone, tags,
                                   custom_fields, do_not_call, opted_out, search)
             SELECT {}, v.* FROM (VALUES {}) AS v",
            value_rows(ex.is_postgres(), 1, 3, 1).trim_matches(['(', ')']),
            value_rows(ex.is_postgres(), part.len(), 10, 4)
        );
        on!(ex, |c| {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&ws).bind(now).bind(now);
            for (id, f) in part {
                q = q
                    .bind(id)
                    .bind(f.phone)
                    .bind(f.name)
                    .bind(f.email)
                    .bind(f.timezone)
                    .bind(f.tags_json)
                    .bind(f.custom_fields)
                    .bind(f.do_not_call)
                    .bind(f.opted_out)
                    .bind(f.search);
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
        let tags: Vec<(String, &str)> =
            part.iter().flat_map(|(id, f)| f.tags.iter().map(move |t| (tag_key(t), id.as_str()))).collect();
        for tag_part in tags.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO contact_tags (workspace_id, tag_key, contact_id)
                 SELECT {}, v.* FROM (VALUES {}) AS v WHERE true ON CONFLICT DO NOTHING",
                value_rows(ex.is_postgres(), 1, 1, 1).trim_matches(['(', ')']),
                value_rows(ex.is_postgres(), tag_part.len(), 2, 2)
            );
            on!(ex, |c| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&ws);
                for (key, id) in tag_part {
                    q = q.bind(key).bind(*id);
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
    }
    mark.index_new(ex).await
}

/// The workspace's contacts with any of these phones (E.164), in one query per few
/// hundred phones.
pub async fn get_by_phones(ex: &mut impl InWorkspace, phones: &[&str]) -> Result<Vec<Contact>> {
    let ws = ex.workspace_id().to_owned();
    let mut out = Vec::new();
    for part in phones.chunks(ROWS_PER_STATEMENT) {
        let pg = ex.is_postgres();
        let sql = format!(
            "SELECT {COLUMNS} FROM contacts WHERE workspace_id = {} AND phone IN {}",
            value_rows(pg, 1, 1, 1).trim_matches(['(', ')']),
            value_rows(pg, 1, part.len(), 2)
        );
        let found: Vec<Contact> = on!(ex, |c| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&ws);
            for phone in part {
                q = q.bind(*phone);
            }
            q.fetch_all(c).await
        })?;
        out.extend(found);
    }
    Ok(out)
}

async fn set_tags(ex: &mut impl InWorkspace, id: &str, tags: &[String]) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(ex, "DELETE FROM contact_tags WHERE workspace_id = $1 AND contact_id = $2", &ws, id)?;
    for tag in tags {
        execute!(
            ex,
            "INSERT INTO contact_tags (workspace_id, tag_key, contact_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &ws,
            tag_key(tag),
            id
        )?;
    }
    Ok(())
}

pub async fn get(ex: &mut impl InWorkspace, id: &str) -> Result<Option<Contact>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM contacts WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(&ws)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

pub async fn get_by_phone(ex: &mut impl InWorkspace, e164: &str) -> Result<Option<Contact>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM contacts WHERE workspace_id = $1 AND phone = $2"
    )))
    .bind(&ws)
    .bind(e164)
    .fetch_optional(c)
    .await)?)
}

/// Deletes a contact; its calls stay, no longer pointing at it.
pub async fn delete(ex: &mut impl InWorkspace, id: &str) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    execute!(ex, "UPDATE calls SET contact_id = NULL WHERE workspace_id = $1 AND contact_id = $2", &ws, id)?;
    Ok(execute!(ex, "DELETE FROM contacts WHERE workspace_id = $1 AND id = $2", &ws, id)? > 0)
}

/// One page: contacts matching `f` older than `before_id` (the cursor), newest first.
///
/// A search (`q`) on SQLite takes one of two plans, chosen by how many contacts the
/// trigram index matches: a rare term starts from the index's matches (a scan in id
/// order would read the whole workspace to fill a page); a common one pages in id order
/// (its matches are dense, so a page fills after a few rows, while the index's matches
/// would all be read and sorted). PostgreSQL's planner makes that choice itself.
pub async fn list(
    ex: &mut impl InWorkspace,
    f: &Filter<'_>,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Vec<Contact>> {
    let ws = ex.workspace_id().to_owned();
    let indexed = match f.q {
        Some(q) if !ex.is_postgres() => rare_in_index(ex, q).await?,
        _ => None,
    };
    macro_rules! page {
        ($from:literal, $also:literal) => {
            filtered!(
                concat!(
                    "SELECT c.id, c.phone, c.name, c.email, c.timezone, c.tags, c.custom_fields, c.do_not_call,
                            c.opted_out, c.created_at, c.updated_at FROM ",
                    $from
                ),
                $also
            )
        };
    }
    let sql = match indexed {
        None => page!("contacts c", " AND ($6 IS NULL OR c.id < $6) AND $8 IS NULL ORDER BY c.id DESC LIMIT $7"),
        // CROSS JOIN keeps the matches as the outer loop: the planner would otherwise
        // walk the workspace in id order and probe them.
        Some(_) => page!(
            "json_each($8) m CROSS JOIN contacts c ON c.rowid = m.value",
            " AND ($6 IS NULL OR c.id < $6) ORDER BY c.id DESC LIMIT $7"
        ),
    };
    Ok(on!(ex, |c| sqlx::query_as(sql)
        .bind(&ws)
        .bind(f.tag.map(tag_key))
        .bind(f.do_not_call)
        .bind(f.opted_out)
        .bind(f.q.map(like_pattern))
        .bind(before_id)
        .bind(limit)
        .bind(indexed)
        .fetch_all(c)
        .await)?)
}

/// Matches in the trigram index above which a search pages in id order.
const RARE_MATCHES: i64 = 2000;

/// On SQLite: the rowids (a JSON array) of the contacts whose text holds `q`, from the
/// trigram index, when it can answer and they are few (counted over every workspace
/// in this database: the count only picks a plan; the rows are still filtered to this
/// workspace). `None` for a term shorter than a trigram, one holding LIKE's wildcards,
/// or a common one.
async fn rare_in_index(ex: &mut impl InWorkspace, q: &str) -> Result<Option<String>> {
    let q = q.to_lowercase();
    if q.chars().count() < 3 || q.contains(['%', '_']) {
        return Ok(None);
    }
    let rowids: Vec<i64> =
        on!(ex, |c| sqlx::query_scalar("SELECT rowid FROM contact_search WHERE search LIKE $1 LIMIT $2")
            .bind(format!("%{q}%"))
            .bind(RARE_MATCHES + 1)
            .fetch_all(c)
            .await)?;
    let json = || format!("[{}]", rowids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    Ok((rowids.len() as i64 <= RARE_MATCHES).then(json))
}

/// Deletes every contact matching `f`; returns how many.
pub async fn delete_matching(ex: &mut impl InWorkspace, f: &Filter<'_>) -> Result<u64> {
    let ws = ex.workspace_id().to_owned();
    // Their calls stay, no longer pointing at them.
    let unlink = filtered!(
        "UPDATE calls SET contact_id = NULL WHERE workspace_id = $1 AND contact_id IN (SELECT c.id FROM contacts c",
        ")"
    );
    execute!(ex, unlink, &ws, f.tag.map(tag_key), f.do_not_call, f.opted_out, f.q.map(like_pattern))?;
    let sql = filtered!("DELETE FROM contacts AS c", "");
    Ok(execute!(ex, sql, &ws, f.tag.map(tag_key), f.do_not_call, f.opted_out, f.q.map(like_pattern))?)
}
