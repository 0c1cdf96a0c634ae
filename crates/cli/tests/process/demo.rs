//! `callplane serve --demo` seeds a realistic organization (a living demo).

use std::time::{Duration, Instant};

use callplane_testkit::process::{Installation, Server};
use reqwest::Method;
use serde_json::json;

use crate::bin;

#[tokio::test]
async fn w1_the_demo_seeds_a_living_organization() {
    let install = Installation::new("").await;
    let server = Server::start_with(bin(), &install, &[], &["--demo"]);
    let login = server
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": "demo@callplane.local", "password": "callplane-demo" })),
        )
        .await
        .expect(200);
    let token = login["token"].as_str().unwrap();
    let list = server.get("/api/v1/workspaces", token).await.expect(200);
    let ws: Vec<(String, String)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["id"].as_str().unwrap().to_owned(), w["region"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(ws.len(), 3);
    assert!(ws.iter().any(|(_, r)| r == "eu"), "workspaces in different regions");
    for (id, _) in &ws {
        let base = format!("/api/v1/workspaces/{id}");
        let agents = server.get(&format!("{base}/agents"), token).await.expect(200);
        assert_eq!(agents["data"].as_array().unwrap().len(), 2);
        let numbers = server.get(&format!("{base}/phone-numbers"), token).await.expect(200);
        assert_eq!(numbers["data"].as_array().unwrap().len(), 2);
        assert!(numbers["data"].as_array().unwrap().iter().any(|n| n["agent_id"].is_string()));
        // A month of calls: answered ones with a transcript and a recording, every outcome.
        let calls = server.get(&format!("{base}/calls?limit=200"), token).await.expect(200);
        let calls = calls["data"].as_array().unwrap();
        assert!(calls.len() >= 60, "a month of calls: {}", calls.len());
        assert!(calls.iter().all(|c| c["settled"] == true), "all played out and settled");
        for status in ["completed", "busy", "no-answer"] {
            assert!(calls.iter().any(|c| c["status"] == status), "some {status} calls");
        }
        assert!(calls.iter().any(|c| c["direction"] == "inbound"));
        let answered = calls.iter().find(|c| c["status"] == "completed" && c["direction"] == "outbound").unwrap();
        let detail = server.get(&format!("{base}/calls/{}", answered["id"].as_str().unwrap()), token).await.expect(200);
        assert!(detail["transcript"].as_array().is_some_and(|t| t.len() > 1), "{detail}");
        assert!(detail["recording_url"].is_string() && detail["analysis"]["outcome"].is_string(), "{detail}");
        let oldest = calls.last().unwrap()["created_at"].as_str().unwrap().to_owned();
        let newest = calls[0]["created_at"].as_str().unwrap().to_owned();
        assert!(oldest[..10] < newest[..10], "spread over days: {oldest} .. {newest}");
        let usage = server.get(&format!("{base}/usage"), token).await.expect(200);
        assert!(usage["cost"]["amount"].as_i64().unwrap() > 0, "{usage}");
        let appts = server.get(&format!("{base}/appointments"), token).await.expect(200);
        assert!(appts["data"].as_array().unwrap().len() >= 10, "a week of appointments");
        // The contact import runs in the background; it finishes on its own.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let imports = server.get(&format!("{base}/contacts/imports"), token).await.expect(200);
            assert_ne!(imports["data"][0]["status"], "failed", "{imports}");
            if imports["data"][0]["status"] == "completed" {
                assert_eq!(imports["data"][0]["imported"], 3000, "{imports}");
                break;
            }
            assert!(Instant::now() < deadline, "the demo import did not finish: {imports}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        // A finished campaign, and one that starts dialing a minute after seeding.
        let list = server.get(&format!("{base}/campaigns"), token).await.expect(200);
        let list = list["data"].as_array().unwrap();
        let finished = list.iter().find(|c| c["name"] == "VIP check-in").expect("a finished campaign");
        assert_eq!(finished["status"], "completed", "{finished}");
        assert!(finished["progress"]["dialed"].as_i64().unwrap() > 0, "{finished}");
        let live = list.iter().find(|c| c["name"] == "Renewal offers").expect("a live campaign");
        assert!(["scheduled", "running"].contains(&live["status"].as_str().unwrap()), "{live}");
        let analytics = server.get(&format!("{base}/analytics"), token).await.expect(200);
        assert!(analytics["totals"]["calls"].as_i64().unwrap() >= 60, "a month of charts: {analytics}");
        assert_eq!(analytics["by_campaign"][0]["name"], "VIP check-in");
        let dnc = server.get(&format!("{base}/contacts?flag=do_not_call&limit=500"), token).await.expect(200);
        assert!(!dnc["data"].as_array().unwrap().is_empty(), "some contacts are flagged");
    }
    // Serving it again does not seed twice.
    server.kill();
    let again = Server::start_with(bin(), &install, &[], &["--demo"]);
    let token = again
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": "demo@callplane.local", "password": "callplane-demo" })),
        )
        .await
        .expect(200)["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(again.get("/api/v1/workspaces", &token).await.expect(200)["data"].as_array().unwrap().len(), 3);
}
