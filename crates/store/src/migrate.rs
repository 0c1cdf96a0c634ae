//! Embedded migrations: a control set (accounts, users, the workspace registry, access,
//! email) and a product set (a region's workspace data), one folder per backend, each
//! applied in order and recorded in its own table. A database that serves both the
//! control plane and a region gets both sets.

use crate::db::{Db, Tx};
use crate::error::{Error, Result};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

/// Which schema a database carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Set {
    Control,
    Product,
}

impl Set {
    fn table(self) -> &'static str {
        match self {
            Set::Control => "callplane_migrations",
            Set::Product => "callplane_product_migrations",
        }
    }
}

macro_rules! migrations {
    ($backend:literal / $set:literal: $($version:literal => $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $backend, "/", $set, "/", $name, ".sql")),
        }),*]
    };
}

const SQLITE_CONTROL: &[Migration] = migrations!("sqlite" / "control": 1 => "0001_foundation", 2 => "0002_team", 3 => "0003_data_plane", 4 => "0004_carrier", 5 => "0005_telephony_catalog", 6 => "0006_wallet");
const POSTGRES_CONTROL: &[Migration] = migrations!("postgres" / "control": 1 => "0001_foundation", 2 => "0002_team", 3 => "0003_data_plane", 4 => "0004_carrier", 5 => "0005_telephony_catalog", 6 => "0006_wallet");
const SQLITE_PRODUCT: &[Migration] = migrations!("sqlite" / "product": 1 => "0001_workspaces", 2 => "0002_contacts", 3 => "0003_contact_imports", 4 => "0004_agents", 5 => "0005_appointments", 6 => "0006_phone_numbers", 7 => "0007_workspace_country", 8 => "0008_contact_search", 9 => "0009_telephony_config", 10 => "0010_calls", 11 => "0011_call_artifacts", 12 => "0012_webhooks", 13 => "0013_campaigns", 14 => "0014_sip_trunks", 15 => "0015_sip_routing", 16 => "0016_delivery_queue", 17 => "0017_lighter_queue", 18 => "0018_queue_table", 19 => "0019_redeliver_by_hand", 20 => "0020_import_failures");
const POSTGRES_PRODUCT: &[Migration] = migrations!("postgres" / "product": 1 => "0001_workspaces", 2 => "0002_contacts", 3 => "0003_contact_imports", 4 => "0004_agents", 5 => "0005_appointments", 6 => "0006_phone_numbers", 7 => "0007_workspace_country", 8 => "0008_contact_search", 9 => "0009_telephony_config", 10 => "0010_calls", 11 => "0011_call_artifacts", 12 => "0012_webhooks", 13 => "0013_campaigns", 14 => "0014_sip_trunks", 15 => "0015_sip_routing", 16 => "0016_delivery_queue", 17 => "0017_lighter_queue", 18 => "0018_queue_table", 19 => "0019_redeliver_by_hand", 20 => "0020_import_failures");

fn list(db: &Db, set: Set) -> &'static [Migration] {
    match (db.is_postgres(), set) {
        (false, Set::Control) => SQLITE_CONTROL,
        (true, Set::Control) => POSTGRES_CONTROL,
        (false, Set::Product) => SQLITE_PRODUCT,
        (true, Set::Product) => POSTGRES_PRODUCT,
    }
}

/// Applies every migration of `set` not yet recorded; returns how many ran. Replicas
/// starting together on PostgreSQL take turns (an advisory lock), so each migration runs
/// once.
pub async fn run(db: &Db, set: Set) -> Result<usize> {
    let table = set.table();
    let mut tx = db.begin().await?;
    serialise(&mut tx).await?;
    let create = format!(
        "CREATE TABLE IF NOT EXISTS {table} (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
    );
    on!(&mut tx, |c| sqlx::raw_sql(sqlx::AssertSqlSafe(create.clone())).execute(c).await.map(|_| ()))?;
    tx.commit().await?;

    let mut applied = 0;
    for m in list(db, set) {
        let mut tx = db.begin().await?;
        serialise(&mut tx).await?;
        if is_applied(&mut tx, table, m.version).await? {
            continue;
        }
        on!(&mut tx, |c| sqlx::raw_sql(m.sql).execute(c).await.map(|_| ()))
            .map_err(|source| Error::Migration { version: m.version, source })?;
        let record = format!("INSERT INTO {table} (version, name, applied_at) VALUES ($1, $2, $3)");
        on!(&mut tx, |c| sqlx::query(sqlx::AssertSqlSafe(record.clone()))
            .bind(m.version)
            .bind(m.name)
            .bind(now_ms())
            .execute(c)
            .await
            .map(|_| ()))?;
        tx.commit().await?;
        tracing::info!(set = ?set, version = m.version, name = m.name, "applied migration");
        applied += 1;
    }
    Ok(applied)
}

/// On PostgreSQL, one migrating process at a time (released at commit or rollback).
async fn serialise(tx: &mut Tx) -> Result<()> {
    if let crate::db::Ex::Pg(c) = crate::db::Raw::ex(tx) {
        sqlx::query("SELECT pg_advisory_xact_lock(7263540110)").execute(c).await?;
    }
    Ok(())
}

async fn is_applied(tx: &mut Tx, table: &str, version: i64) -> Result<bool> {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE version = $1");
    let n: i64 = on!(tx, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).bind(version).fetch_one(c).await)?;
    Ok(n > 0)
}

fn now_ms() -> i64 {
    use callplane_domain::Clock;
    callplane_domain::SystemClock.now_ms()
}
