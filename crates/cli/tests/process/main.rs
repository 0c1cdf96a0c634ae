//! Tests against real `callplane serve` processes: crash safety (SIGKILL between the
//! steps of a workspace change, then a restart) and replicas (two processes on one
//! PostgreSQL behaving as one service; one process per SQLite file).

mod calls_crash;
mod campaigns_crash;
mod cli;
mod crash;
mod demo;
mod replicas;
mod sip_crash;
mod webhooks_crash;

use std::path::Path;

use callplane_store::{Db, DbOptions};
use callplane_testkit::process::Installation;

pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_callplane"))
}

/// Runs `callplane admin ARGS` on the installation; its output.
pub fn admin(install: &Installation, args: &[&str]) -> String {
    let out = std::process::Command::new(bin())
        .arg("--config")
        .arg(&install.config_file)
        .arg("admin")
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(out.status.success(), "admin {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Workers that take over expired leases quickly (the crash tests wait on them).
pub const FAST_WORKERS: &str = "[workers]\nlease_secs = 1\npoll_secs = 1\n";

pub async fn connect(url: &str) -> Db {
    Db::connect(url, &DbOptions { sqlite_sync_full: false, max_connections: 2 }).await.expect("test connects")
}

/// A new email address unique to this run.
pub fn email(tag: &str) -> String {
    format!("{tag}.{}@example.com", &uuid::Uuid::now_v7().simple().to_string()[20..])
}
