//! SIP/BYOC trunks (SPEC N2).

use super::InWorkspace;
use crate::error::Result;
use crate::regions::RegionDb;

/// A trunk as stored (`gateways` JSON, the password sealed).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Trunk {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub gateways: String,
    pub from_domain: Option<String>,
    pub outbound_proxy: Option<String>,
    pub tech_prefix: String,
    pub leading_plus: bool,
    pub codecs: String,
    pub dtmf_mode: String,
    pub username: Option<String>,
    pub password_sealed: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Where a registration trunk's registration stands (JSON), written by the process
    /// that keeps it; never written by [`save`].
    pub registration: Option<String>,
}

const SAVED: &str = "id, name, kind, gateways, from_domain, outbound_proxy, tech_prefix, leading_plus, codecs, \
                     dtmf_mode, username, password_sealed, created_at, updated_at";
const COLUMNS: &str = "id, name, kind, gateways, from_domain, outbound_proxy, tech_prefix, leading_plus, codecs, \
                       dtmf_mode, username, password_sealed, created_at, updated_at, registration";

/// Inserts `t`, or replaces the trunk with its id (its creation time kept).
pub async fn save(ex: &mut impl InWorkspace, t: &Trunk) -> Result<Trunk> {
    let ws = ex.workspace_id().to_owned();
    let sql = format!(
        "INSERT INTO sip_trunks (workspace_id, {SAVED}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
         ON CONFLICT (workspace_id, id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
           gateways = excluded.gateways, from_domain = excluded.from_domain, outbound_proxy = excluded.outbound_proxy,
           tech_prefix = excluded.tech_prefix, leading_plus = excluded.leading_plus, codecs = excluded.codecs,
           dtmf_mode = excluded.dtmf_mode, username = excluded.username, password_sealed = excluded.password_sealed,
           updated_at = excluded.updated_at, registration = NULL
         RETURNING {COLUMNS}"
    );
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
        .bind(&ws)
        .bind(&t.id)
        .bind(&t.name)
        .bind(&t.kind)
        .bind(&t.gateways)
        .bind(&t.from_domain)
        .bind(&t.outbound_proxy)
        .bind(&t.tech_prefix)
        .bind(t.leading_plus)
        .bind(&t.codecs)
        .bind(&t.dtmf_mode)
        .bind(&t.username)
        .bind(&t.password_sealed)
        .bind(t.created_at)
        .bind(t.updated_at)
        .fetch_one(c)
        .await)?)
}

pub async fn get(ex: &mut impl InWorkspace, id: &str) -> Result<Option<Trunk>> {
    let ws = ex.workspace_id().to_owned();
    let sql = format!("SELECT {COLUMNS} FROM sip_trunks WHERE workspace_id = $1 AND id = $2");
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(&ws).bind(id).fetch_optional(c).await)?)
}

/// Every trunk of the workspace, oldest first (a workspace has a handful).
pub async fn list(ex: &mut impl InWorkspace) -> Result<Vec<Trunk>> {
    let ws = ex.workspace_id().to_owned();
    let sql = format!("SELECT {COLUMNS} FROM sip_trunks WHERE workspace_id = $1 ORDER BY created_at, id LIMIT 100");
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(&ws).fetch_all(c).await)?)
}

pub async fn delete(ex: &mut impl InWorkspace, id: &str) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query("DELETE FROM sip_trunks WHERE workspace_id = $1 AND id = $2")
        .bind(&ws)
        .bind(id)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?
        > 0)
}

/// How many campaigns that may still dial go through the trunk.
pub async fn open_campaigns(ex: &mut impl InWorkspace, id: &str) -> Result<i64> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM campaigns WHERE workspace_id = $1 AND sip_trunk_id = $2
           AND status NOT IN ('completed', 'cancelled')"
    )
    .bind(&ws)
    .bind(id)
    .fetch_one(c)
    .await)?)
}

/// A registration trunk of some workspace of a region database, for the process that
/// keeps registrations.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ToRegister {
    pub workspace_id: String,
    pub id: String,
    pub gateways: String,
    pub outbound_proxy: Option<String>,
    pub username: Option<String>,
    pub password_sealed: Option<String>,
    pub updated_at: i64,
    pub registration: Option<String>,
}

/// Every registration trunk of the region database (a handful per workspace).
pub async fn to_register(region: &RegionDb) -> Result<Vec<ToRegister>> {
    let mut conn = region.conn().await?;
    Ok(on!(&mut conn, |c| sqlx::query_as(
        "SELECT workspace_id, id, gateways, outbound_proxy, username, password_sealed, updated_at, registration
         FROM sip_trunks WHERE kind = 'registration' ORDER BY workspace_id, id"
    )
    .fetch_all(c)
    .await)?)
}

/// Writes where a trunk's registration stands (only while the trunk is as it was
/// when the registration started: `updated_at`).
pub async fn set_registration(
    region: &RegionDb,
    workspace_id: &str,
    id: &str,
    updated_at: i64,
    registration: &str,
) -> Result<()> {
    let mut tx = region.begin().await?;
    execute!(
        &mut tx,
        "UPDATE sip_trunks SET registration = $4 WHERE workspace_id = $1 AND id = $2 AND updated_at = $3",
        workspace_id,
        id,
        updated_at,
        registration
    )?;
    tx.commit().await
}
