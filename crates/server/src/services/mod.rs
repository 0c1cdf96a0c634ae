//! Operations shared by the JSON API and the dashboard: validation, the domain rules,
//! the store calls and the audit entry, in one transaction each.

pub mod identity;
pub mod workspaces;
