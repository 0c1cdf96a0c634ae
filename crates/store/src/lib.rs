//! callplane's storage: the only crate that speaks SQL.
//!
//! Every query is written once, with `$N` placeholders that both SQLite and PostgreSQL
//! accept, and run on either backend through [`on!`].
//!
//! Two kinds of database: the **control** database (the top-level modules: accounts,
//! users, sessions, the workspace registry, access, email) and one **region** database
//! per data region ([`regions`]) holding the product data of its workspaces
//! ([`product`]). Product data is reached only through an [`access::Scope`], which the
//! store itself builds after checking the caller's access and which leads to the
//! workspace's region database, so a query can neither forget its workspace nor run on
//! the wrong database. No statement joins control and product tables; no transaction
//! spans two databases.

#[macro_use]
pub mod db;
pub mod access;
pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod carrier;
pub mod changes;
pub mod emails;
pub mod error;
pub mod invitations;
pub mod login_failures;
pub mod members;
pub mod migrate;
pub mod product;
pub mod regions;
pub mod roles;
pub mod schema;
pub mod sessions;
pub mod telephony_catalogs;
pub mod users;
pub mod wallet;
pub mod workspaces;

#[cfg(feature = "test-fixtures")]
pub mod fixtures;

pub use db::{Conn, Db, DbOptions, Executor, Tx};
pub use error::{Error, Result};
pub use regions::{RegionDb, RegionSpec, Regions};
