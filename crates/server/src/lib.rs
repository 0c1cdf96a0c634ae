//! callplane's HTTP service: the JSON API, the dashboard and authentication.
//!
//! A request flows in one direction: authenticate → resolve workspace → authorize →
//! domain rule → store → respond. See `ARCHITECTURE.md` at the repository root.

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod failpoint;
pub mod metrics;
pub mod routes;
pub mod sealing;
pub mod services;
pub mod state;
pub mod web;

pub use app::{open, route_table, Application};
/// The byte buffers request bodies and uploads stream in.
pub use axum::body::Bytes;
pub use config::Config;
pub use state::AppState;
