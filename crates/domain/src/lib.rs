//! callplane's domain: pure types and rules with no I/O.
//!
//! Everything here is deterministic and fast to test: prefixed ids, the permission
//! vocabulary and built-in roles, email and workspace validation rules, and the clock
//! abstraction that lets expiry and scheduling be tested without sleeping.

pub mod api_key;
pub mod campaign;
pub mod clock;
pub mod contact;
pub mod email;
pub mod id;
pub mod permission;
pub mod phone_rules;
pub mod principal;
pub mod role;
pub mod telephony;
pub mod template;
pub mod workspace;

pub use clock::{Clock, ManualClock, SystemClock};
pub use permission::{Permission, PermissionSet};
pub use principal::Principal;
pub use role::{AccountRole, BuiltinRole};
