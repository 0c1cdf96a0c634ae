//! Telephony configuration (SPEC N1–N4): the catalog of providers, countries and
//! network groups, and the longest-prefix routes outbound calls are validated against.

pub mod catalog;
pub mod routes;

pub use catalog::{Catalog, CatalogError, Country, NetworkGroup, Provider, ProviderKind};
pub use routes::{billed_minutes, cost, Refusal, Routes};

/// The catalog shipped with the binary (generated from libphonenumber's metadata by
/// `cargo run -p callplane-domain --example telephony_catalog`).
pub const SHIPPED: &str = include_str!("../../data/telephony.catalog");

#[cfg(test)]
mod tests;
