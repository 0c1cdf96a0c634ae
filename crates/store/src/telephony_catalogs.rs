//! The telephony catalog in force (control database, SPEC N1): every version loaded,
//! the one loaded last in force.

use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredCatalog {
    pub version: String,
    /// "shipped" or "cli".
    pub source: String,
    pub body: String,
    pub loaded_at: i64,
}

/// The catalog in force, if one was ever loaded.
pub async fn current(ex: &mut impl Executor) -> Result<Option<StoredCatalog>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT version, source, body, loaded_at FROM telephony_catalogs ORDER BY loaded_at DESC, version LIMIT 1"
    )
    .fetch_optional(c)
    .await)?)
}

/// The version in force (cheap: what replicas poll).
pub async fn current_version(ex: &mut impl Executor) -> Result<Option<String>> {
    Ok(on!(ex, |c| sqlx::query_scalar(
        "SELECT version FROM telephony_catalogs ORDER BY loaded_at DESC, version LIMIT 1"
    )
    .fetch_optional(c)
    .await)?)
}

/// Puts a version in force (loading one loaded before makes it current again).
pub async fn load(ex: &mut impl Executor, version: &str, source: &str, body: &str, now: i64) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO telephony_catalogs (version, source, body, loaded_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (version) DO UPDATE SET source = $2, loaded_at = $4",
        version,
        source,
        body,
        now
    )?;
    Ok(())
}
