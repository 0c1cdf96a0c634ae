//! Integration tests: the real service over HTTP, on SQLite or PostgreSQL
//! (`CALLPLANE_TEST_DATABASE`). Test names start with the SPEC ID they prove.

mod access;
mod account_admin;
mod agents;
mod appointments;
mod audit;
mod auth;
mod bad_input;
mod browser;
mod cache;
mod calls;
mod campaigns;
mod common;
mod contacts;
mod data_plane;
mod imports;
mod isolation;
mod keys;
mod numbers;
mod roles;
mod route_table;
mod sip_calls;
mod sip_trunks;
mod smtp;
mod team;
mod telephony;
mod templates;
mod wallet;
mod webdriver;
mod webhooks;
mod workspaces;
