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
