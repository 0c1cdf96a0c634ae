//! Crash safety of the workspace lifecycle across databases: the process is killed
//! (SIGKILL) between two steps of a deletion or a creation; after a restart the change
//! completes, and nothing of any other workspace is touched.

use std::time::{Duration, Instant};

use callplane_store::fixtures;
use callplane_store::product::anchors;
use callplane_testkit::process::{Installation, Server};
use reqwest::Method;
use serde_json::json;

use crate::{bin, connect, email, FAST_WORKERS};

/// Every row of a workspace: control tables, then product tables in its region database.
async fn rows(install: &Installation, ws: &str, region: &str) -> Vec<(&'static str, i64)> {
    let control = connect(&install.control_url).await;
    let mut out = fixtures::count_control_rows(&mut control.conn().await.unwrap(), ws).await.unwrap();
    let product = connect(install.region_url(region)).await;
    out.extend(fixtures::count_product_rows(&mut product.conn().await.unwrap(), ws).await.unwrap());
    out
}

async fn plant(install: &Installation, ws: &str, account: &str, region: &str) {
    let db = connect(install.region_url(region)).await;
    let mut tx = db.begin().await.unwrap();
    fixtures::insert_agent(&mut tx, ws, "agt_crash", "inactive").await.unwrap();
    fixtures::insert_phone_number(&mut tx, ws, "num_crash", "released").await.unwrap();
    fixtures::insert_product_event(&mut tx, account, ws, "agent.created", 1).await.unwrap();
    tx.commit().await.unwrap();
}

async fn lifecycle(install: &Installation, account: &str, name: &str) -> Option<(String, String)> {
    let control = connect(&install.control_url).await;
    fixtures::workspace_by_name(&mut control.conn().await.unwrap(), account, name).await.unwrap()
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "{what} did not happen within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn deletion_killed_at(failpoint: &str) {
    let install = Installation::new(FAST_WORKERS).await;
    let server = Server::start(bin(), &install, &[("CALLPLANE_FAILPOINTS", failpoint)]);
    let (token, _, account, first) = server.signup(&email("owner"), "Crash Co").await;
    let mk = |name: &'static str, region: &'static str| {
        let server = &server;
        let token = token.clone();
        async move {
            let body =
                server.post("/api/v1/workspaces", &token, json!({ "name": name, "region": region })).await.expect(201);
            body["id"].as_str().unwrap().to_owned()
        }
    };
    let doomed = mk("Doomed", "in").await;
    let kept = mk("Kept", "us").await;
    for (ws, region) in [(&doomed, "in"), (&kept, "us"), (&first, "in")] {
        plant(&install, ws, &account, region).await;
    }
    let kept_before = rows(&install, &kept, "us").await;
    let first_before = rows(&install, &first, "in").await;
    assert!(rows(&install, &doomed, "in").await.contains(&("agents", 1)), "the doomed workspace has product rows");

    server.send_detached(
        Method::DELETE,
        &format!("/api/v1/workspaces/{doomed}"),
        &token,
        json!({ "confirm_name": "Doomed" }),
    );
    server.wait_for_output(&format!("failpoint reached: {failpoint}"), Duration::from_secs(30)).await;
    server.kill();

    // Killed mid-way: the workspace is being deleted, refused everywhere, not yet gone.
    let (_, state) = lifecycle(&install, &account, "Doomed").await.expect("the registry row is still there");
    assert_eq!(state, "deleting");
    let anchored = anchors::exists(&connect_region(&install, "in").await, &doomed).await.unwrap();
    assert_eq!(anchored, failpoint == "workspace.delete.after_mark", "the purge ran only past the mark");

    let server = Server::start(bin(), &install, &[]);
    eventually("the interrupted deletion", || async { lifecycle(&install, &account, "Doomed").await.is_none() }).await;
    let gone = rows(&install, &doomed, "in").await;
    assert!(gone.iter().all(|(_, n)| *n == 0), "everything of the deleted workspace is gone: {gone:?}");
    assert_eq!(rows(&install, &kept, "us").await, kept_before, "the other workspaces are untouched");
    assert_eq!(rows(&install, &first, "in").await, first_before);
    server.get(&format!("/api/v1/workspaces/{doomed}"), &token).await.expect(404);
    server.get(&format!("/api/v1/workspaces/{kept}"), &token).await.expect(200);
    // The name is free again.
    server.post("/api/v1/workspaces", &token, json!({ "name": "Doomed", "region": "in" })).await.expect(201);
}

async fn connect_region(install: &Installation, region: &str) -> callplane_store::RegionDb {
    let control = connect(&install.control_url).await;
    let specs = [callplane_store::RegionSpec {
        id: region.into(),
        label: region.into(),
        database_url: Some(install.region_url(region).to_owned()),
    }];
    let regions =
        callplane_store::Regions::connect(&control, &install.control_url, &specs, &Default::default()).await.unwrap();
    regions.get(region).unwrap().db.clone()
}

#[tokio::test]
async fn w5_deletion_killed_after_the_mark_finishes_after_restart() {
    deletion_killed_at("workspace.delete.after_mark").await;
}

#[tokio::test]
async fn w5_deletion_killed_after_the_purge_finishes_after_restart() {
    deletion_killed_at("workspace.delete.after_purge").await;
}

async fn creation_killed_at(failpoint: &str) {
    let install = Installation::new(FAST_WORKERS).await;
    // Sign up on an unarmed process first: sign-up provisions a workspace too.
    let setup = Server::start(bin(), &install, &[]);
    let (token, user, account, first) = setup.signup(&email("owner"), "Crash Co").await;
    setup.kill();
    let server = Server::start(bin(), &install, &[("CALLPLANE_FAILPOINTS", failpoint)]);
    plant(&install, &first, &account, "in").await;
    let first_before = rows(&install, &first, "in").await;
    server.send_detached(Method::POST, "/api/v1/workspaces", &token, json!({ "name": "Half", "region": "us" }));
    server.wait_for_output(&format!("failpoint reached: {failpoint}"), Duration::from_secs(30)).await;
    server.kill();

    // Killed mid-way: registered but invisible to everyone.
    let (half, state) = lifecycle(&install, &account, "Half").await.expect("registered");
    assert_eq!(state, "provisioning");
    let control = connect(&install.control_url).await;
    let visible =
        callplane_store::workspaces::accessible(&mut control.conn().await.unwrap(), &user, None).await.unwrap();
    assert!(visible.iter().all(|w| w.id != half), "a half-created workspace is never visible");

    let server = Server::start(bin(), &install, &[]);
    eventually("the interrupted creation", || async {
        lifecycle(&install, &account, "Half").await.is_some_and(|(_, s)| s == "ready")
    })
    .await;
    assert!(anchors::exists(&connect_region(&install, "us").await, &half).await.unwrap());
    let list = server.get("/api/v1/workspaces", &token).await.expect(200);
    let names: Vec<&str> = list["data"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names.iter().filter(|n| **n == "Half").count(), 1, "{names:?}");
    server.get(&format!("/api/v1/workspaces/{half}"), &token).await.expect(200);
    assert_eq!(rows(&install, &first, "in").await, first_before, "the other workspace is untouched");
}

#[tokio::test]
async fn w1_creation_killed_after_registering_finishes_after_restart() {
    creation_killed_at("workspace.create.after_register").await;
}

#[tokio::test]
async fn w1_creation_killed_after_anchoring_finishes_after_restart() {
    creation_killed_at("workspace.create.after_anchor").await;
}

/// P1: an import killed after its first committed batch resumes after a restart and
/// writes every row exactly once.
#[tokio::test]
async fn p1_import_killed_mid_way_resumes_after_restart() {
    let install = Installation::new(FAST_WORKERS).await;
    let setup = Server::start(bin(), &install, &[]);
    let (token, _, _, ws) = setup.signup(&email("owner"), "Import Co").await;
    setup.kill();
    let server = Server::start(bin(), &install, &[("CALLPLANE_FAILPOINTS", "import.after_batch")]);
    let mut csv = String::from("phone,name\n");
    for i in 0..1200 {
        csv.push_str(&format!("+9198765{i:05},Person {i}\n"));
    }
    let res = server
        .http
        .post(format!("{}/api/v1/workspaces/{ws}/contacts/imports", server.base))
        .bearer_auth(&token)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202, "{}", server.output());
    let id = callplane_testkit::body_json(res).await["id"].as_str().unwrap().to_owned();
    server.wait_for_output("failpoint reached: import.after_batch", Duration::from_secs(30)).await;
    server.kill();

    let server = Server::start(bin(), &install, &[]);
    let path = format!("/api/v1/workspaces/{ws}/contacts/imports/{id}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        let status = server.get(&path, &token).await.expect(200);
        if status["status"] == "completed" {
            break status;
        }
        assert!(Instant::now() < deadline, "the import did not resume: {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!((done["rows_read"].as_i64(), done["imported"].as_i64()), (Some(1200), Some(1200)), "{done}");
    assert_eq!((done["updated"].as_i64(), done["failed"].as_i64()), (Some(0), Some(0)), "no row written twice: {done}");
    let control = connect(&install.control_url).await;
    let region = fixtures::region_of(&mut control.conn().await.unwrap(), &ws).await.unwrap().unwrap();
    let counts = rows(&install, &ws, &region).await;
    assert!(counts.contains(&("contacts", 1200)), "{counts:?}");
}
