//! Crash safety of SIP calls (SPEC N2, B2): the `callplane serve` process carrying a
//! SIP call to a real SIP peer (sipp) is killed with SIGKILL in the middle of the
//! call. After a restart, the call's lease runs out with no process renewing it: the
//! call ends as failed / `interrupted`, charged once for the time it may have talked,
//! and nothing stays held in the wallet.

use std::time::{Duration, Instant};

use callplane_testkit::process::{Installation, Server};
use callplane_testkit::sipp;
use reqwest::Method;
use serde_json::{json, Value};

use crate::{admin, bin, email};

async fn call(server: &Server, ws: &str, token: &str, id: &str) -> Value {
    server.get(&format!("/api/v1/workspaces/{ws}/calls/{id}"), token).await.expect(200)
}

async fn wait_for(server: &Server, ws: &str, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let c = call(server, ws, token, id).await;
        if done(&c) {
            return c;
        }
        assert!(Instant::now() < deadline, "the call did not get there: {c}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn n2_b2_a_sip_call_whose_process_is_killed_mid_call_ends_interrupted_and_is_charged_once() {
    let sip_port = sipp::free_port();
    let config = format!(
        "[workers]\nlease_secs = 1\npoll_secs = 1\n[sip]\nlisten = \"127.0.0.1:{sip_port}\"\n\
         rtp_port_min = 20000\nrtp_port_max = 29998\n"
    );
    let install = Installation::new(&config).await;
    // sipp answers and talks until it hears BYE, which never comes.
    let peer = sipp::spawn("process-killed", &["-sf", "uas_echo.xml", "-rtp_echo"]);
    sipp::ready().await;
    let server = Server::start(bin(), &install, &[]);
    let (token, _, account, ws) = server.signup(&email("sip-kill"), "SIP crash").await;
    admin(&install, &["wallet", "credit", "--account", &account, "--amount", "100000"]);
    let base = format!("/api/v1/workspaces/{ws}");
    server
        .call(
            Method::PATCH,
            &format!("{base}/telephony"),
            Some(&token),
            Some(json!({ "provider": "sip", "sip_enabled": true })),
        )
        .await
        .expect(200);
    let (agent, _) = server.agent_and_number(&ws, &token, "A").await;
    let gateway = json!([{ "host": "127.0.0.1", "port": peer.sip.port() }]);
    server
        .post(&format!("{base}/sip-trunks"), &token, json!({ "name": "sipp", "gateways": gateway }))
        .await
        .expect(201);
    let placed =
        server.post(&format!("{base}/calls"), &token, json!({ "agent_id": agent, "to": "+919812345678" })).await;
    let id = placed.expect(201)["id"].as_str().unwrap().to_owned();
    wait_for(&server, &ws, &token, &id, |c| c["status"] == "in-progress").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    server.kill();

    let restarted = Server::start(bin(), &install, &[]);
    let ended = wait_for(&restarted, &ws, &token, &id, |c| c["settled"] == true).await;
    assert_eq!(ended["status"], "failed", "{ended}");
    assert_eq!(ended["end_reason"], "interrupted");
    let talked = ended["duration_secs"].as_i64().unwrap();
    assert!((1..=10).contains(&talked), "charged for the time it may have talked: {talked} s");
    assert_eq!(ended["cost"]["amount"], 90, "one minute at the SIP/BYOC flat rate");
    let wallet = restarted.get(&format!("/api/v1/accounts/{account}/wallet?limit=200"), &token).await.expect(200);
    assert_eq!(wallet["balance"]["amount"], 100_000 - 90, "charged once: {wallet}");
    assert_eq!(wallet["reserved"]["amount"], 0, "nothing left held");
    drop(peer);
}
