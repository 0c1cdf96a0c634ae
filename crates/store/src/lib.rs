//! callplane's storage: the only crate that speaks SQL.
//!
//! Every query is written once, with `$N` placeholders that both SQLite and PostgreSQL
//! accept, and run on either backend through [`on!`]. Product data is reached only
//! through a [`access::Scope`], which the store itself builds after checking the caller's
//! access, so a query cannot forget its workspace.

#[macro_use]
pub mod db;
pub mod access;
pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod emails;
pub mod error;
pub mod invitations;
pub mod members;
pub mod migrate;
pub mod roles;
pub mod sessions;
pub mod users;
pub mod workspaces;

#[cfg(feature = "test-fixtures")]
pub mod fixtures;

pub use db::{Conn, Db, DbOptions, Executor, Tx};
pub use error::{Error, Result};
