//! The audit log (SPEC A6): written in the same transaction as the change it records.
//! Events about control data live here, in the control database's `audit_events`;
//! events about product data live in the region database's `product_audit_events`
//! ([`crate::product::audit`]), with the same columns. Readers merge both by id (ids
//! are time-ordered), newest first.

use callplane_domain::id::{new_id, prefix};
use callplane_domain::Principal;

use crate::access::Scope;
use crate::db::{Executor, Raw};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: String,
    pub account_id: String,
    pub workspace_id: Option<String>,
    pub actor_type: String,
    pub actor_id: String,
    pub actor_label: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub created_at: i64,
}

/// One change to record. `before`/`after` are JSON documents (secrets never go here).
pub struct Entry<'a> {
    pub account_id: &'a str,
    pub workspace_id: Option<&'a str>,
    pub actor: &'a Principal,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: &'a str,
    pub before: Option<String>,
    pub after: Option<String>,
    pub now: i64,
}

/// `INSERT INTO <table> (<every audit column>) VALUES (…)`, as one static string.
macro_rules! insert_sql {
    ($table:literal) => {
        concat!(
            "INSERT INTO ",
            $table,
            " (id, account_id, workspace_id, actor_type, actor_id, actor_label,
               action, target_type, target_id, before_json, after_json, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        )
    };
}
pub(crate) use insert_sql;

/// `SELECT <every audit column> FROM <table> WHERE <filters> ORDER BY id DESC LIMIT $7`.
macro_rules! select_sql {
    ($table:literal) => {
        concat!(
            "SELECT id, account_id, workspace_id, actor_type, actor_id, actor_label, action, target_type,
                    target_id, before_json, after_json, created_at
             FROM ",
            $table,
            " WHERE account_id = $8
               AND ($1 IS NULL OR workspace_id = $1)
               AND ($2 IS NULL OR action = $2)
               AND ($3 IS NULL OR actor_id = $3)
               AND ($4 IS NULL OR created_at >= $4)
               AND ($5 IS NULL OR created_at < $5)
               AND ($6 IS NULL OR id < $6)
             ORDER BY id DESC
             LIMIT $7"
        )
    };
}
pub(crate) use select_sql;

pub async fn record(ex: &mut impl Executor, e: Entry<'_>) -> Result<()> {
    insert(ex, insert_sql!("audit_events"), e).await
}

pub(crate) async fn insert(ex: &mut impl Raw, sql: &'static str, e: Entry<'_>) -> Result<()> {
    execute!(
        ex,
        sql,
        new_id(prefix::AUDIT),
        e.account_id,
        e.workspace_id,
        e.actor.actor_type(),
        e.actor.actor_id(),
        e.actor.label(),
        e.action,
        e.target_type,
        e.target_id,
        e.before.as_deref(),
        e.after.as_deref(),
        e.now
    )?;
    Ok(())
}

/// Filters for reading the log; all optional.
#[derive(Debug, Default, Clone)]
pub struct Filter<'a> {
    pub action: Option<&'a str>,
    pub actor_id: Option<&'a str>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Only events older than this id (the list cursor).
    pub before_id: Option<&'a str>,
}

/// The workspace's events, newest first.
pub async fn list(ex: &mut impl Executor, scope: &Scope, f: &Filter<'_>, limit: i64) -> Result<Vec<AuditEvent>> {
    select(ex, select_sql!("audit_events"), scope.account_id(), Some(scope.workspace_id()), f, limit).await
}

/// Every event of the account (its workspaces' and its own), newest first; for account
/// administrators' access reviews.
pub async fn list_for_account(
    ex: &mut impl Executor,
    account_id: &str,
    f: &Filter<'_>,
    limit: i64,
) -> Result<Vec<AuditEvent>> {
    select(ex, select_sql!("audit_events"), account_id, None, f, limit).await
}

pub(crate) async fn select(
    ex: &mut impl Raw,
    sql: &'static str,
    account_id: &str,
    workspace_id: Option<&str>,
    f: &Filter<'_>,
    limit: i64,
) -> Result<Vec<AuditEvent>> {
    Ok(on!(ex, |c| sqlx::query_as(sql)
        .bind(workspace_id)
        .bind(f.action)
        .bind(f.actor_id)
        .bind(f.since_ms)
        .bind(f.until_ms)
        .bind(f.before_id)
        .bind(limit)
        .bind(account_id)
        .fetch_all(c)
        .await)?)
}
