//! Authentication (who is calling) and authorization (what they may do where).
//!
//! Request flow: authenticate → resolve workspace → authorize. [`WorkspaceScope`] is the
//! one place a workspace id is read from a request.

pub mod cache;
pub mod cookies;
pub mod csrf;
pub mod limiter;
pub mod password;
pub mod principal;
pub mod scope;
pub mod tokens;

pub use principal::{Caller, SignedIn};
pub use scope::{AccountCaller, WorkspaceScope};
