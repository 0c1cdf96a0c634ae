//! Webhook delivery across crashes and replicas (SPEC E2): 10,000 events pending while
//! the server is killed (SIGKILL) again and again all reach the receiver at least once;
//! two processes on one PostgreSQL drain one outbox without sending any attempt twice.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use callplane_testkit::process::{Installation, Server};
use callplane_testkit::receiver::{Receiver, Reply};
use callplane_testkit::{postgres_admin_url, Scratch};
use futures_util::StreamExt;
use serde_json::json;

use crate::{bin, email};

/// Local receivers allowed; short timeouts, so a dead process's leases end soon.
const WEBHOOKS: &str =
    "[webhooks]\nallow_private_targets = true\ntimeout_secs = 2\nconnect_timeout_secs = 1\nmax_in_flight = 16\n";

/// Queues `n` test events to `endpoint` through `servers` in turn; their ids.
async fn queue_events(servers: &[&Server], ws: &str, token: &str, endpoint: &str, n: usize) -> HashSet<String> {
    let path = format!("/api/v1/workspaces/{ws}/webhooks/{endpoint}/test");
    futures_util::stream::iter(0..n)
        .map(|i| {
            let (server, path) = (servers[i % servers.len()], &path);
            async move { server.post(path, token, json!({})).await.expect(202)["event_id"].as_str().unwrap().to_owned() }
        })
        .buffer_unordered(16)
        .collect()
        .await
}

/// How many times each webhook-id reached the receiver.
fn arrivals(r: &Receiver) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for m in r.received() {
        *seen.entry(m.header("webhook-id").to_owned()).or_default() += 1;
    }
    seen
}

async fn wait_for_all(r: &Receiver, events: &HashSet<String>, timeout: Duration) -> HashMap<String, usize> {
    let deadline = Instant::now() + timeout;
    loop {
        let seen = arrivals(r);
        let missing = events.iter().filter(|e| !seen.contains_key(*e)).count();
        if missing == 0 {
            return seen;
        }
        assert!(Instant::now() < deadline, "{missing} of {} events never arrived", events.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn e2_ten_thousand_pending_events_survive_repeated_sigkill_and_all_arrive() {
    let r = Receiver::start().await;
    // Slow while the events are queued (so most are still pending after), then quicker.
    r.script(|_, _| Reply::status(200).delayed(Duration::from_millis(200)));
    let install = Installation::new(WEBHOOKS).await;
    let mut server = Server::start(bin(), &install, &[]);
    let (token, _, _, ws) = server.signup(&email("owner"), "Crash Hooks").await;
    let e = server
        .post(&format!("/api/v1/workspaces/{ws}/webhooks"), &token, json!({ "url": r.url("/crash") }))
        .await
        .expect(201);
    let endpoint = e["id"].as_str().unwrap().to_owned();
    let events = queue_events(&[&server], &ws, &token, &endpoint, 10_000).await;
    assert_eq!(events.len(), 10_000);
    r.script(|_, _| Reply::status(200).delayed(Duration::from_millis(20)));

    // Killed three times while events are pending and being sent.
    for round in 0..3 {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let arrived = arrivals(&r).len();
        assert!(arrived < events.len(), "round {round}: events must still be pending when the server is killed");
        server.kill();
        server = Server::start(bin(), &install, &[]);
    }
    let seen = wait_for_all(&r, &events, Duration::from_secs(180)).await;
    assert!(seen.keys().all(|id| events.contains(id)), "only queued events were sent");
    let again = seen.values().filter(|n| **n > 1).count();
    eprintln!(
        "{} events, every one delivered; {again} sent again after a kill (at least once, same webhook-id)",
        events.len()
    );
    // The log agrees: nothing is left pending.
    let page = server
        .get(&format!("/api/v1/workspaces/{ws}/webhooks/{endpoint}/deliveries?status=pending&limit=1"), &token)
        .await
        .expect(200);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut page = page;
    while !page["data"].as_array().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "deliveries are still pending: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        page = server
            .get(&format!("/api/v1/workspaces/{ws}/webhooks/{endpoint}/deliveries?status=pending&limit=1"), &token)
            .await
            .expect(200);
    }
    server.kill();
}

#[tokio::test]
async fn e2_two_replicas_on_one_postgres_drain_one_outbox_without_sending_an_attempt_twice() {
    let r = Receiver::start().await;
    r.script(|_, _| Reply::status(200).delayed(Duration::from_millis(5)));
    let mut scratch = Scratch::new("callplane-hook-replicas");
    let url = scratch.postgres_database(&postgres_admin_url()).await;
    let install = Installation::with_urls(scratch, url, vec![], WEBHOOKS);
    let a = Server::start(bin(), &install, &[]);
    let b = Server::start(bin(), &install, &[]);
    let (token, _, _, ws) = a.signup(&email("owner"), "Replicated Hooks").await;
    let e = a
        .post(&format!("/api/v1/workspaces/{ws}/webhooks"), &token, json!({ "url": r.url("/both") }))
        .await
        .expect(201);
    let endpoint = e["id"].as_str().unwrap().to_owned();
    let events = queue_events(&[&a, &b], &ws, &token, &endpoint, 3_000).await;
    let seen = wait_for_all(&r, &events, Duration::from_secs(120)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let twice: Vec<_> = arrivals(&r).into_iter().filter(|(_, n)| *n > 1).collect();
    assert!(twice.is_empty(), "attempts sent twice: {twice:?}");
    assert_eq!(seen.len(), 3_000);
    a.kill();
    b.kill();
}
