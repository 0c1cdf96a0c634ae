//! Embedded migrations, one folder per backend, applied in order and recorded.

use crate::db::{Db, Tx};
use crate::error::{Error, Result};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

macro_rules! migrations {
    ($backend:literal: $($version:literal => $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../migrations/", $backend, "/", $name, ".sql")),
        }),*]
    };
}

const SQLITE: &[Migration] = migrations!("sqlite": 1 => "0001_foundation", 2 => "0002_team");
const POSTGRES: &[Migration] = migrations!("postgres": 1 => "0001_foundation", 2 => "0002_team");

/// Applies every migration not yet recorded; returns how many ran.
pub async fn run(db: &Db) -> Result<usize> {
    let list = match db {
        Db::Sqlite { .. } => SQLITE,
        Db::Postgres(_) => POSTGRES,
    };
    let mut tx = db.begin().await?;
    execute!(
        &mut tx,
        "CREATE TABLE IF NOT EXISTS callplane_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
    )?;
    tx.commit().await?;

    let mut applied = 0;
    for m in list {
        let mut tx = db.begin().await?;
        if is_applied(&mut tx, m.version).await? {
            continue;
        }
        on!(&mut tx, |c| sqlx::raw_sql(m.sql).execute(c).await.map(|_| ()))
            .map_err(|source| Error::Migration { version: m.version, source })?;
        execute!(
            &mut tx,
            "INSERT INTO callplane_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            m.version,
            m.name,
            now_ms()
        )?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        applied += 1;
    }
    Ok(applied)
}

async fn is_applied(tx: &mut Tx, version: i64) -> Result<bool> {
    let n: i64 = on!(tx, |c| sqlx::query_scalar("SELECT COUNT(*) FROM callplane_migrations WHERE version = $1")
        .bind(version)
        .fetch_one(c)
        .await)?;
    Ok(n > 0)
}

fn now_ms() -> i64 {
    use callplane_domain::Clock;
    callplane_domain::SystemClock.now_ms()
}
