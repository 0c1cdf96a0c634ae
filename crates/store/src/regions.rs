//! Data regions (SPEC O2): each region maps to a database that holds the product data of
//! the workspaces placed in it. A region without a URL of its own uses the control
//! database, so one SQLite file can serve everything.
//!
//! Product code never picks a database: it reaches its workspace's region through the
//! [`crate::access::Scope`] (`scope.begin()`, `scope.read()`). Only the workspace
//! lifecycle (anchors, purges) and account-wide readers take a [`RegionDb`] directly.

use std::collections::HashMap;
use std::sync::Arc;

use crate::db::{Conn, Db, DbOptions, Tx};
use crate::error::Result;
use crate::migrate::{self, Set};

/// How a region is configured.
#[derive(Debug, Clone)]
pub struct RegionSpec {
    pub id: String,
    pub label: String,
    /// `None`: the control database.
    pub database_url: Option<String>,
}

/// One region's database handle (shared by every region configured with the same URL).
#[derive(Debug, Clone)]
pub struct RegionDb {
    db: Db,
    /// The database's URL, which identifies it among the regions.
    url: Arc<str>,
}

impl RegionDb {
    pub(crate) async fn begin(&self) -> Result<Tx> {
        self.db.begin().await
    }

    pub(crate) async fn begin_index_walks(&self) -> Result<Tx> {
        self.db.begin_index_walks().await
    }

    pub(crate) async fn conn(&self) -> Result<Conn> {
        self.db.conn().await
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> &'static str {
        self.db.backend()
    }

    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await
    }

    /// Raw access for tests that plant rows of tables whose endpoints arrive later.
    #[cfg(feature = "test-fixtures")]
    pub fn db(&self) -> &Db {
        &self.db
    }
}

#[derive(Debug)]
pub struct Region {
    pub id: String,
    pub label: String,
    pub db: RegionDb,
}

/// Every configured region, and the distinct databases behind them.
#[derive(Debug, Clone)]
pub struct Regions(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    list: Vec<Region>,
    databases: Vec<RegionDb>,
}

impl Regions {
    /// Connects each region's database; regions naming no URL, or the control URL,
    /// share the control database's pools.
    pub async fn connect(control: &Db, control_url: &str, specs: &[RegionSpec], options: &DbOptions) -> Result<Self> {
        let mut by_url: HashMap<String, RegionDb> = HashMap::new();
        by_url.insert(control_url.to_owned(), RegionDb { db: control.clone(), url: control_url.into() });
        let mut databases = Vec::new();
        let mut list = Vec::new();
        for spec in specs {
            let url = spec.database_url.clone().unwrap_or_else(|| control_url.to_owned());
            let db = match by_url.get(&url) {
                Some(db) => db.clone(),
                None => {
                    let db = RegionDb { db: Db::connect(&url, options).await?, url: url.as_str().into() };
                    by_url.insert(url.clone(), db.clone());
                    db
                }
            };
            if !databases.iter().any(|d: &RegionDb| d.url == db.url) {
                databases.push(db.clone());
            }
            list.push(Region { id: spec.id.clone(), label: spec.label.clone(), db });
        }
        Ok(Self(Arc::new(Inner { list, databases })))
    }

    /// Applies the product migrations to every region database.
    pub async fn migrate(&self) -> Result<usize> {
        let mut n = 0;
        for db in &self.0.databases {
            n += migrate::run(&db.db, Set::Product).await?;
        }
        Ok(n)
    }

    pub fn get(&self, id: &str) -> Option<&Region> {
        self.0.list.iter().find(|r| r.id == id)
    }

    /// The regions in configuration order.
    pub fn list(&self) -> &[Region] {
        &self.0.list
    }

    /// The distinct databases behind the regions (for workers and account-wide reads).
    pub fn databases(&self) -> &[RegionDb] {
        &self.0.databases
    }

    pub async fn close(&self) {
        for db in &self.0.databases {
            db.db.close().await;
        }
    }
}
