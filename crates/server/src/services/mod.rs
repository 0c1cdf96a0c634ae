//! Operations shared by the JSON API and the dashboard: validation, the domain rules,
//! the store calls and the audit entry, in one transaction each.

pub mod account_admin;
pub mod agents;
pub mod analytics;
pub mod appointments;
pub mod audit;
pub mod call_outputs;
pub mod calls;
pub mod campaigns;
pub mod contacts;
pub mod csv_rows;
pub mod dialer;
pub mod email;
pub mod events;
pub mod identity;
pub mod imports;
pub mod keys;
pub mod lifecycle;
pub mod numbers;
pub mod roles;
pub mod sip_calls;
pub mod sip_registrations;
pub mod sip_trunks;
pub mod team;
pub mod telephony;
pub mod templates;
pub mod wallet;
pub mod webhooks;
pub mod workspaces;
