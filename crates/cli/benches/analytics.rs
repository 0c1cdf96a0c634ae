//! Analytics benchmark (P9), against a baseline measured in the same run, on a real
//! `callplane serve` (release build, SQLite) whose workspace holds `N` ended calls
//! (default 5,000,000) spread over a year, two agents, inbound and outbound, five
//! outcomes:
//!
//! 1. baseline: the full-scan `GROUP BY` over the workspace's calls that the rollups
//!    replace (`store::product::analytics::recount`, the same rows), median of 3;
//! 2. `GET /api/v1/workspaces/{ws}/analytics` for the whole year over HTTP, median of 20.
//!
//! The calls are written straight into the region database (the server stopped), and
//! their rollups built by the same grouping, so the endpoint's totals must equal `N`.
//! Goal: at least 100× faster than the scan, and under 50 ms.
//!
//! Run with `cargo bench -p callplane --bench analytics` (or `scripts/bench`).

use std::path::Path;
use std::time::Instant;

use callplane_store::fixtures::{in_workspace, raw_execute};
use callplane_store::product::analytics::{recount, DAY_MS};
use callplane_store::{Db, DbOptions};
use callplane_testkit::process::{Installation, Server};
use serde_json::json;

fn calls() -> i64 {
    std::env::var("CALLPLANE_BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(5_000_000)
}

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_callplane"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn date(ms: i64) -> String {
    callplane_domain::contact::utc_ms_to_local(ms, "UTC").unwrap().0
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = calls();
    println!("analytics: a workspace with {n} ended calls over 365 days, SQLite");
    let install = Installation::new("").await;
    let server = Server::start(bin(), &install, &[]);
    let (token, _, _, ws) = server.signup("analytics@example.com", "Analytics").await;
    let mut agents = Vec::new();
    for name in ["Sales", "Support"] {
        let a = server
            .post(&format!("/api/v1/workspaces/{ws}/agents"), &token, json!({ "name": name, "status": "active" }))
            .await;
        agents.push(a.expect(201)["id"].as_str().unwrap().to_owned());
    }
    server.kill();

    let db =
        Db::connect(&install.control_url, &DbOptions { sqlite_sync_full: false, max_connections: 2 }).await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let today = now - now % DAY_MS;
    let started = Instant::now();
    const BATCH: i64 = 500_000;
    for from in (0..n).step_by(BATCH as usize) {
        let to = (from + BATCH).min(n) - 1;
        let sql = format!(
            "INSERT INTO calls (workspace_id, id, direction, status, agent_id, from_e164, to_e164, provider, rate, held,
                                max_seconds, duration_secs, billed_minutes, cost, settled, created_at, updated_at,
                                answered_at, ended_at, campaign_id)
             WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i < {to}),
             c(i, created, talk) AS (SELECT i, {today} - (i % 365) * 86400000 + (i % 86400) * 1000,
                                            CASE WHEN i % 5 >= 2 THEN 20 + i % 160 ELSE 0 END FROM n)
             SELECT '{ws}', 'call_bench_' || i, CASE WHEN i % 10 = 0 THEN 'inbound' ELSE 'outbound' END,
                    CASE i % 5 WHEN 0 THEN 'busy' WHEN 1 THEN 'no-answer' ELSE 'completed' END,
                    CASE WHEN i % 3 = 0 THEN '{a1}' ELSE '{a0}' END, '+918041230000', '+919876543210', 'plivo',
                    60, 0, 600, talk, (talk + 59) / 60, 60 * ((talk + 59) / 60), true, created, created + 200000,
                    CASE WHEN talk > 0 THEN created + 4000 END, created + 200000,
                    CASE WHEN i % 4 = 0 THEN 'cmp_bench' END
             FROM c",
            a0 = agents[0],
            a1 = agents[1]
        );
        let mut tx = db.begin().await.unwrap();
        raw_execute(&mut tx, &sql).await.unwrap();
        tx.commit().await.unwrap();
        println!("  wrote {} calls ({:.0} s)", to + 1, started.elapsed().as_secs_f64());
    }
    // The rollups the server keeps as calls end, built here in one pass.
    let rollups = format!(
        "INSERT INTO call_rollups (workspace_id, day, agent_id, campaign_id, direction, status, calls, answered,
                                   duration_secs, billed_minutes, cost)
         SELECT workspace_id, created_at - created_at % 86400000, coalesce(agent_id, ''), coalesce(campaign_id, ''),
                direction, status, count(*), sum(CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END), sum(duration_secs),
                sum(billed_minutes), sum(cost)
         FROM calls WHERE workspace_id = '{ws}' GROUP BY 1, 2, 3, 4, 5, 6"
    );
    let mut tx = db.begin().await.unwrap();
    raw_execute(&mut tx, &rollups).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    raw_execute(&mut tx, "ANALYZE").await.unwrap();
    tx.commit().await.unwrap();
    println!("  data ready in {:.0} s", started.elapsed().as_secs_f64());

    // 1. Baseline: the full scan.
    let (from, to) = (today - 364 * DAY_MS, today + DAY_MS);
    let mut scans = Vec::new();
    let mut groups = 0;
    for _ in 0..3 {
        let mut conn = in_workspace(db.conn().await.unwrap(), &ws);
        let t = Instant::now();
        let rows = recount(&mut conn, from, to).await.unwrap();
        scans.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(rows.iter().map(|r| r.calls).sum::<i64>(), n);
        groups = rows.len();
    }
    let scan = median(scans);
    println!("  baseline: full-scan GROUP BY of {n} calls into {groups} groups: {scan:.1} ms (median of 3)");

    // 2. The endpoint, over HTTP.
    let server = Server::start(bin(), &install, &[]);
    let path = format!("/api/v1/workspaces/{ws}/analytics?from={}&to={}", date(from), date(to - DAY_MS));
    let first = server.get(&path, &token).await.expect(200);
    assert_eq!(first["totals"]["calls"].as_i64(), Some(n), "the rollups count every call");
    let mut times = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        server.get(&path, &token).await.expect(200);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let endpoint = median(times);
    println!("  analytics endpoint, 365 days: {endpoint:.1} ms (median of 20, over HTTP)");
    println!("  ratio {:.0}x faster than the scan   (goal: at least 100x, and under 50 ms)", scan / endpoint);
    server.kill();
}
