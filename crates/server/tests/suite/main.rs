//! Integration tests: the real service over HTTP, on SQLite or PostgreSQL
//! (`CALLPLANE_TEST_DATABASE`). Test names start with the SPEC ID they prove.

mod access;
mod audit;
mod auth;
mod bad_input;
mod browser;
mod common;
mod isolation;
mod route_table;
mod webdriver;
mod workspaces;
