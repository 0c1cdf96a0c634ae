//! Contacts import benchmark (P1), on SQLite, against a baseline measured in the same run:
//!
//! 1. generates a CSV of `CALLPLANE_BENCH_ROWS` rows (default 1,000,000): phone numbers
//!    written nationally and internationally, names, emails, tags, a custom field, and
//!    1% repeated phones (the dedup path);
//! 2. baseline: the `sqlite3` command-line tool's `.import` of the same file into a plain
//!    table (no validation, no dedup);
//! 3. the real `callplane serve` (release build) imports it through the API with full
//!    validation (libphonenumber, zones, emails) and dedup; rows/s as a ratio against the
//!    baseline, and the server's peak RSS (VmHWM) with what it was before the import;
//! 4. on that workspace: p50/p99 latency of the first page of contacts, a tag-filtered
//!    page, a common-text search and a rare-text search (200 requests each).
//!
//! Run with `cargo bench -p callplane --bench import` (or `scripts/bench`).

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use callplane_testkit::process::{Installation, Server};
use reqwest::Method;

fn rows() -> usize {
    std::env::var("CALLPLANE_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}

const FIRST: [&str; 8] = ["Asha", "Ravi", "Priya", "Arjun", "Meera", "Kiran", "Neha", "Vikram"];
const LAST: [&str; 6] = ["Rao", "Sharma", "Iyer", "Patel", "Khan", "Das"];
const TAGS: [&str; 5] = ["lead", "vip", "callback", "newsletter", "churn-risk"];
const PLANS: [&str; 3] = ["basic", "pro", "enterprise"];

/// A valid Indian mobile number for `i` (distinct for distinct `i` below 10^9).
fn phone(i: usize) -> String {
    let n = 900_000_000 + (i as u64 * 7_919) % 100_000_000;
    let digits = format!("9{n:09}");
    match i % 3 {
        0 => format!("+91 {} {}", &digits[..5], &digits[5..]),
        1 => format!("0{} {}", &digits[..5], &digits[5..]),
        _ => digits,
    }
}

fn person(i: usize) -> (&'static str, &'static str) {
    (FIRST[i % FIRST.len()], LAST[(i / 8) % LAST.len()])
}

fn email(i: usize) -> String {
    let (first, last) = person(i);
    format!("{}.{}{i}@example.com", first.to_lowercase(), last.to_lowercase())
}

fn generate(path: &Path, n: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "phone,name,email,tags,plan,do_not_call").unwrap();
    for i in 0..n {
        // Every hundredth row repeats an earlier phone: dedup against the workspace.
        let p = if i % 100 == 99 { phone(i / 2) } else { phone(i) };
        let (first, last) = person(i);
        writeln!(
            out,
            "{p},{first} {last},{},{};{},{},{}",
            email(i),
            TAGS[i % TAGS.len()],
            TAGS[(i / 5) % TAGS.len()],
            PLANS[i % PLANS.len()],
            if i % 50 == 7 { "yes" } else { "" }
        )
        .unwrap();
    }
    out.flush().unwrap();
}

/// Seconds the `sqlite3` tool takes to `.import` the file into a plain table.
fn sqlite3_import(dir: &Path, csv: &Path) -> f64 {
    let db = dir.join("baseline.db");
    let script = format!(".mode csv\n.import {} people\nSELECT count(*) FROM people;\n", csv.display());
    let start = Instant::now();
    let out = Command::new("sqlite3")
        .arg(&db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(script.as_bytes())?;
            child.wait_with_output()
        })
        .expect("the sqlite3 command-line tool (apt install sqlite3)");
    let secs = start.elapsed().as_secs_f64();
    assert!(out.status.success(), "sqlite3 failed");
    println!("  sqlite3 .import: {} rows in {secs:.2} s", String::from_utf8_lossy(&out.stdout).trim());
    secs
}

/// Peak and current resident memory of a process, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kib("VmHWM:") / 1024.0, kib("VmRSS:") / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn latency(server: &Server, token: &str, label: &str, path: &str) {
    let mut times = Vec::with_capacity(200);
    let mut shown = 0;
    for _ in 0..200 {
        let start = Instant::now();
        let reply = server.call(Method::GET, path, Some(token), None).await;
        times.push(start.elapsed());
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        shown = reply.body["data"].as_array().map_or(0, Vec::len);
    }
    times.sort();
    println!(
        "  {label:<28} p50 {:>7.2} ms   p99 {:>7.2} ms   ({shown} rows on the page)",
        percentile(&times, 0.5),
        percentile(&times, 0.99)
    );
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes benches; nothing to list.
    }
    let n = rows();
    let install = Installation::new("[workers]\npoll_secs = 1\n").await;
    let csv = install.dir.join("contacts.csv");
    println!("contacts import: {n} rows on SQLite");
    generate(&csv, n);
    let bytes = std::fs::metadata(&csv).unwrap().len();
    println!("  generated {:.1} MB of CSV", bytes as f64 / 1e6);
    let baseline = sqlite3_import(&install.dir, &csv);

    let server = Server::start(Path::new(env!("CARGO_BIN_EXE_callplane")), &install, &[]);
    let (token, _, _, ws) = server.signup("bench@example.com", "Bench").await;
    let (_, before) = memory(server.pid());
    let body = std::fs::read(&csv).unwrap();
    let start = Instant::now();
    let res = server
        .http
        .post(format!("{}/api/v1/workspaces/{ws}/contacts/imports?on_duplicate=update", server.base))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap_or_default());
    let job: serde_json::Value = res.json().await.unwrap();
    let path = format!("/api/v1/workspaces/{ws}/contacts/imports/{}", job["id"].as_str().unwrap());
    let uploaded = start.elapsed().as_secs_f64();
    let done = loop {
        let j = server.get(&path, &token).await.expect(200);
        if j["status"] == "completed" || j["status"] == "failed" {
            break j;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let secs = start.elapsed().as_secs_f64();
    let (peak, _) = memory(server.pid());
    assert_eq!(done["status"], "completed", "{done}");
    println!(
        "  callplane import: {} rows read, {} imported, {} updated, {} failed in {secs:.2} s (upload {uploaded:.2} s)",
        done["rows_read"], done["imported"], done["updated"], done["failed"]
    );
    println!("  rows/s: callplane {:.0}, sqlite3 .import {:.0}", n as f64 / secs, n as f64 / baseline);
    println!("  ratio (callplane / sqlite3 .import): {:.2}x   (goal: at least 0.5x)", baseline / secs);
    println!("  server peak RSS: {peak:.0} MiB (before the import: {before:.0} MiB; goal: under 200 MiB)");

    println!("contacts list and search on that workspace ({n} rows), 200 requests each:");
    let base = format!("/api/v1/workspaces/{ws}/contacts");
    latency(&server, &token, "first page (50)", &format!("{base}?limit=50")).await;
    latency(&server, &token, "tag filter (vip)", &format!("{base}?limit=50&tag=vip")).await;
    latency(&server, &token, "search, common (\"priya\")", &format!("{base}?limit=50&q=priya")).await;
    latency(&server, &token, "search, rare (one email)", &format!("{base}?limit=50&q={}", email(n / 2))).await;
    latency(&server, &token, "flag filter (do_not_call)", &format!("{base}?limit=50&flag=do_not_call")).await;
}
