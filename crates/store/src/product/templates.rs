//! Prompt and message templates (SPEC P4) and post-call analysis templates (P5).

use super::InWorkspace;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Template {
    pub id: String,
    pub name: String,
    /// `prompt` or `message`.
    pub kind: String,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AnalysisTemplate {
    pub id: String,
    pub name: String,
    /// JSON array of fields.
    pub fields: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which of the two tables, with its columns: one set of queries serves both.
pub trait Kind:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin
{
    const TABLE: &'static str;
    const COLUMNS: &'static str;
}

impl Kind for Template {
    const TABLE: &'static str = "templates";
    const COLUMNS: &'static str = "id, name, kind, body, created_at, updated_at";
}

impl Kind for AnalysisTemplate {
    const TABLE: &'static str = "analysis_templates";
    const COLUMNS: &'static str = "id, name, fields, created_at, updated_at";
}

pub async fn create_template(
    ex: &mut impl InWorkspace,
    id: &str,
    name: &str,
    kind: &str,
    body: &str,
    now: i64,
) -> Result<Template> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "INSERT INTO templates (workspace_id, id, name, kind, body, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id, name, kind, body, created_at, updated_at"
    )
    .bind(&ws)
    .bind(id)
    .bind(name)
    .bind(kind)
    .bind(body)
    .bind(now)
    .fetch_one(c)
    .await)?)
}

pub async fn update_template(
    ex: &mut impl InWorkspace,
    id: &str,
    name: &str,
    body: &str,
    now: i64,
) -> Result<Option<Template>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "UPDATE templates SET name = $3, body = $4, updated_at = $5 WHERE workspace_id = $1 AND id = $2
         RETURNING id, name, kind, body, created_at, updated_at"
    )
    .bind(&ws)
    .bind(id)
    .bind(name)
    .bind(body)
    .bind(now)
    .fetch_optional(c)
    .await)?)
}

pub async fn create_analysis(
    ex: &mut impl InWorkspace,
    id: &str,
    name: &str,
    fields: &str,
    now: i64,
) -> Result<AnalysisTemplate> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "INSERT INTO analysis_templates (workspace_id, id, name, fields, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id, name, fields, created_at, updated_at"
    )
    .bind(&ws)
    .bind(id)
    .bind(name)
    .bind(fields)
    .bind(now)
    .fetch_one(c)
    .await)?)
}

pub async fn update_analysis(
    ex: &mut impl InWorkspace,
    id: &str,
    name: &str,
    fields: &str,
    now: i64,
) -> Result<Option<AnalysisTemplate>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "UPDATE analysis_templates SET name = $3, fields = $4, updated_at = $5 WHERE workspace_id = $1 AND id = $2
         RETURNING id, name, fields, created_at, updated_at"
    )
    .bind(&ws)
    .bind(id)
    .bind(name)
    .bind(fields)
    .bind(now)
    .fetch_optional(c)
    .await)?)
}

pub async fn get<K: Kind>(ex: &mut impl InWorkspace, id: &str) -> Result<Option<K>> {
    let ws = ex.workspace_id().to_owned();
    let sql = format!("SELECT {} FROM {} WHERE workspace_id = $1 AND id = $2", K::COLUMNS, K::TABLE);
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(&ws).bind(id).fetch_optional(c).await)?)
}

/// A page older than `before_id`, newest first.
pub async fn list<K: Kind>(ex: &mut impl InWorkspace, before_id: Option<&str>, limit: i64) -> Result<Vec<K>> {
    let ws = ex.workspace_id().to_owned();
    let sql = format!(
        "SELECT {} FROM {} WHERE workspace_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        K::COLUMNS,
        K::TABLE
    );
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(&ws)
        .bind(before_id)
        .bind(limit)
        .fetch_all(c)
        .await)?)
}

pub async fn delete<K: Kind>(ex: &mut impl InWorkspace, id: &str) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    let sql = format!("DELETE FROM {} WHERE workspace_id = $1 AND id = $2", K::TABLE);
    Ok(on!(ex, |c| sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .bind(&ws)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?
        > 0)
}

/// Agents that use an analysis template (it is not deleted while any does).
pub async fn agents_using(ex: &mut impl InWorkspace, analysis_template_id: &str) -> Result<i64> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM agents WHERE workspace_id = $1 AND analysis_template_id = $2"
    )
    .bind(&ws)
    .bind(analysis_template_id)
    .fetch_one(c)
    .await)?)
}
