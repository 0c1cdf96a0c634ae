//! The two backends behind one handle.
//!
//! sqlx's `Any` driver cannot decode native Postgres types, so we keep native pools and
//! let [`on!`] expand one query text into one arm per backend. The query is type-checked
//! against both; the arm taken depends on the connection.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::changes::AccessChanges;
use crate::error::Result;

/// Whether a database URL names PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Runs `$body` with `$c` bound to the backend's connection (`&mut SqliteConnection` or
/// `&mut PgConnection`). `$ex` is anything implementing [`Raw`]: a control [`Executor`] or
/// a workspace's [`crate::product::InWorkspace`] handle.
#[macro_export]
macro_rules! on {
    ($ex:expr, |$c:ident| $body:expr) => {
        match $crate::db::Raw::ex($ex) {
            $crate::db::Ex::Sqlite($c) => $body,
            $crate::db::Ex::Pg($c) => $body,
        }
    };
}

/// Runs a statement on either backend and returns the number of rows it affected.
#[macro_export]
macro_rules! execute {
    ($ex:expr, $sql:expr $(, $arg:expr)* $(,)?) => {
        match $crate::db::Raw::ex($ex) {
            $crate::db::Ex::Sqlite(c) => sqlx::query($sql)$(.bind($arg))*.execute(c).await.map(|r| r.rows_affected()),
            $crate::db::Ex::Pg(c) => sqlx::query($sql)$(.bind($arg))*.execute(c).await.map(|r| r.rows_affected()),
        }
    };
}

/// The placeholders of `rows` rows of `width` values each, `(…), (…)`, bound in
/// textual order from the `first`th value: `$n` on PostgreSQL, anonymous `?` on SQLite
/// (where each named parameter's lookup scans the statement's list of names: a
/// statement with thousands of `$n` spends its time there).
pub(crate) fn value_rows(pg: bool, rows: usize, width: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * width * 6);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..width {
            if c > 0 {
                out.push_str(", ");
            }
            if pg {
                out.push_str(&format!("${}", first + r * width + c));
            } else {
                out.push('?');
            }
        }
        out.push(')');
    }
    out
}

/// A table of rows bound as one parameter, `$n`: a JSON array of arrays whose fields
/// are `columns` in order (a name and `TEXT` or `BIGINT`). One statement of fixed text
/// for any number of rows, so it is prepared once and cached, and each batch binds one
/// value instead of thousands. PostgreSQL reads it through `batch_rows` (migrations
/// 0016, 0017: as `jsonb`, parsed once), estimated at one row, so each row's keys are looked up by index. SQLite
/// reads it with `jsonb_each`, whose rows stay binary JSON: `json_each` would turn each
/// row back into text for `->>` to parse again (a quarter of a batch's time).
pub(crate) fn json_table(pg: bool, n: usize, columns: &[(&str, &str)]) -> String {
    let fields: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| match *ty {
            "TEXT" => format!("j.value ->> {i} AS {name}"),
            _ => format!("CAST(j.value ->> {i} AS {ty}) AS {name}"),
        })
        .collect();
    let rows = if pg { format!("batch_rows(${n}::jsonb) AS j(value)") } else { format!("jsonb_each(${n}) AS j") };
    format!("(SELECT {} FROM {rows})", fields.join(", "))
}

/// A borrowed connection of either backend.
pub enum Ex<'a> {
    Sqlite(&'a mut SqliteConnection),
    Pg(&'a mut PgConnection),
}

/// Anything a query can run on. Repositories never take `Raw` itself: control
/// repositories take an [`Executor`], product repositories a workspace handle
/// ([`crate::product::InWorkspace`]), so a query cannot run on the wrong database.
#[doc(hidden)]
pub trait Raw {
    fn ex(&mut self) -> Ex<'_>;
    /// Records that this transaction changes who may do what (keys, members, roles,
    /// workspaces, sessions): caches of access data are invalidated when it commits.
    fn access_changed(&mut self) {}
    fn is_postgres(&mut self) -> bool {
        matches!(self.ex(), Ex::Pg(_))
    }
}

/// A connection or transaction on the **control** database.
pub trait Executor: Raw {}

/// A pooled connection for reads.
pub enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Pg(PoolConnection<Postgres>),
}

impl Raw for Conn {
    fn ex(&mut self) -> Ex<'_> {
        match self {
            Conn::Sqlite(c) => Ex::Sqlite(c),
            Conn::Pg(c) => Ex::Pg(c),
        }
    }
}
impl Executor for Conn {}

enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

/// A write transaction. Dropping it without [`Tx::commit`] rolls back.
pub struct Tx {
    inner: TxInner,
    changes: Arc<AccessChanges>,
    access_changed: bool,
}

impl Raw for Tx {
    fn ex(&mut self) -> Ex<'_> {
        match &mut self.inner {
            TxInner::Sqlite(t) => Ex::Sqlite(t),
            TxInner::Pg(t) => Ex::Pg(t),
        }
    }
    fn access_changed(&mut self) {
        self.access_changed = true;
    }
}
impl Executor for Tx {}

impl Tx {
    /// Commits. When the transaction changed access data, every cache of it is
    /// invalidated: this process's at once, other replicas' through PostgreSQL
    /// `NOTIFY` (sent in the transaction, so only a committed change is announced), and
    /// the commit returns once every listening replica has acknowledged it.
    pub async fn commit(mut self) -> Result<()> {
        let token = self.access_changed.then(|| self.changes.next_token());
        if let (Some(token), TxInner::Pg(t)) = (&token, &mut self.inner) {
            crate::changes::announce(t, token).await?;
        }
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Pg(t) => t.commit().await?,
        }
        if let Some(token) = token {
            self.changes.committed(&token).await;
        }
        Ok(())
    }
}

/// Storage tuning that is not part of the URL.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// SQLite `synchronous=FULL` instead of `NORMAL` (durability over speed).
    pub sqlite_sync_full: bool,
    pub max_connections: u32,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { sqlite_sync_full: false, max_connections: 8 }
    }
}

/// The database handle: SQLite (one writer connection plus a read pool) or PostgreSQL.
/// Cheap to clone (pools are shared).
#[derive(Clone, Debug)]
pub struct Db {
    pools: Pools,
    changes: Arc<AccessChanges>,
}

#[derive(Clone, Debug)]
enum Pools {
    Sqlite { write: SqlitePool, read: SqlitePool, _checkpointer: Arc<Checkpointer> },
    Postgres(PgPool),
}

/// The SQLite writer's page cache, in KiB.
const WRITER_CACHE_KIB: u32 = 64 * 1024;
/// The WAL size (pages) at which the writer checkpoints by itself: a backstop, as the
/// [`Checkpointer`] normally keeps the WAL well below it.
const WRITER_AUTOCHECKPOINT_PAGES: u32 = 50_000;
/// How often the [`Checkpointer`] copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Checkpoints a SQLite database's WAL from its own connection and task, so that a
/// commit (a bulk import's batch above all) does not pay for copying the WAL into the
/// database file and syncing both: that work runs beside the writer, on another core.
/// `PASSIVE` never waits for, nor blocks, readers or the writer. Stops when dropped.
#[derive(Debug)]
struct Checkpointer(tokio::task::JoinHandle<()>);

impl Checkpointer {
    async fn start(connect: SqliteConnectOptions) -> Result<Checkpointer> {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect_with(&connect).await?;
        Ok(Checkpointer(tokio::spawn(async move {
            loop {
                tokio::time::sleep(CHECKPOINT_EVERY).await;
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&mut conn).await {
                    tracing::warn!(error = %e, "checkpointing the SQLite WAL");
                }
            }
        })))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Db {
    /// Connects by URL: `sqlite://path/to/file.db` or `postgres://…`.
    pub async fn connect(url: &str, options: &DbOptions) -> Result<Db> {
        if is_postgres_url(url) {
            let connect = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(connect)
                .await?;
            return Ok(Db { changes: Arc::new(AccessChanges::new(Some(pool.clone()))), pools: Pools::Postgres(pool) });
        }
        // Rows cross from SQLite's thread to the task in a bounded channel: a batch
        // read (a claim, a page) fits it whole, so the thread never waits on a task
        // that a busy runtime polls late.
        const SQLITE_ROW_BUFFER: usize = 1024;
        let sync = if options.sqlite_sync_full { SqliteSynchronous::Full } else { SqliteSynchronous::Normal };
        let connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(sync)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .row_buffer_size(SQLITE_ROW_BUFFER);
        // One writer: SQLite serialises writes anyway, and a single connection means
        // transactions queue in the pool instead of failing with SQLITE_BUSY.
        // Its page cache is larger than SQLite's 2 MiB default: a bulk import inserts
        // into indexes at random places, and a cache miss is a read system call.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(
                connect
                    .clone()
                    .pragma("cache_size", format!("-{WRITER_CACHE_KIB}"))
                    .pragma("wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES.to_string()),
            )
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(connect.clone().read_only(true))
            .await?;
        let checkpointer = Arc::new(Checkpointer::start(connect).await?);
        Ok(Db {
            changes: Arc::new(AccessChanges::new(None)),
            pools: Pools::Sqlite { write, read, _checkpointer: checkpointer },
        })
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.pools, Pools::Postgres(_))
    }

    /// The access-change feed of this database (see [`crate::changes`]).
    pub fn changes(&self) -> &Arc<AccessChanges> {
        &self.changes
    }

    pub fn backend(&self) -> &'static str {
        match self.pools {
            Pools::Sqlite { .. } => "sqlite",
            Pools::Postgres(_) => "postgres",
        }
    }

    /// A connection for reads.
    pub async fn conn(&self) -> Result<Conn> {
        Ok(match &self.pools {
            Pools::Sqlite { read, .. } => Conn::Sqlite(read.acquire().await?),
            Pools::Postgres(pool) => Conn::Pg(pool.acquire().await?),
        })
    }

    /// A write transaction.
    pub async fn begin(&self) -> Result<Tx> {
        let inner = match &self.pools {
            Pools::Sqlite { write, .. } => TxInner::Sqlite(write.begin().await?),
            Pools::Postgres(pool) => TxInner::Pg(pool.begin().await?),
        };
        Ok(Tx { inner, changes: self.changes.clone(), access_changed: false })
    }

    /// A write transaction whose statements PostgreSQL plans as index walks (no
    /// sequential or bitmap scans, sorts, hash or merge joins), for work queues read in
    /// index order and batches of rows named by their keys: a table filled in a burst
    /// has stale statistics until autovacuum analyzes it, and the planner then reads and
    /// sorts whole tables for a few rows. The same as [`Db::begin`] on SQLite.
    pub async fn begin_index_walks(&self) -> Result<Tx> {
        let inner = match &self.pools {
            Pools::Sqlite { write, .. } => TxInner::Sqlite(write.begin().await?),
            Pools::Postgres(pool) => TxInner::Pg(
                pool.begin_with(
                    "BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; \
                     SET LOCAL enable_sort = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off",
                )
                .await?,
            ),
        };
        Ok(Tx { inner, changes: self.changes.clone(), access_changed: false })
    }

    /// Readiness: the database answers a trivial query.
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.conn().await?;
        execute!(&mut conn, "SELECT 1")?;
        Ok(())
    }

    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { write, read, .. } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}
