//! SPEC O2: the control database and the region databases. Product data lives in the
//! workspace's region database; the schema keeps tenancy by construction.

use callplane_store::migrate::{self, Set};
use callplane_store::product::anchors;
use callplane_store::schema::{self, violations};
use callplane_store::{Db, DbOptions};
use serde_json::json;

use crate::common::{email, layout_is_split, spawn_app};

#[tokio::test]
async fn o2_regions_are_listed_with_their_labels() {
    let app = spawn_app().await;
    let body = app.call(reqwest::Method::GET, "/api/v1/regions", None, None).await.expect(200);
    let regions = body["data"].as_array().unwrap();
    assert_eq!(regions[0], json!({ "id": "in", "label": "India", "default": true }), "the default region first");
    let ids: Vec<&str> = regions.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["in", "eu", "us"]);
    assert_eq!(regions[2]["label"], "United States");
}

#[tokio::test]
async fn o2_a_workspace_is_anchored_in_its_regions_database_only() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    app.set_plan(&owner.account_id, "professional").await;
    let us =
        app.post("/api/v1/workspaces", &owner.token, json!({ "name": "US team", "region": "us" })).await.expect(201);
    let us = us["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/api/v1/workspaces/{us}"), &owner.token).await.expect(200)["region"], "us");
    let regions = &app.state.regions;
    assert!(anchors::exists(&regions.get("us").unwrap().db, us).await.unwrap());
    assert!(anchors::exists(&regions.get("in").unwrap().db, &owner.workspace_id).await.unwrap());
    if layout_is_split() {
        assert_eq!(regions.databases().len(), 3, "one database per region");
        assert!(!anchors::exists(&regions.get("in").unwrap().db, us).await.unwrap());
        assert!(!anchors::exists(&regions.get("eu").unwrap().db, us).await.unwrap());
        assert!(!anchors::exists(&regions.get("us").unwrap().db, &owner.workspace_id).await.unwrap());
    }
    // An agent planted in the US workspace is in the US database and blocks its deletion.
    app.plant_agent(us, "agt_us", "active").await;
    let r = app.delete(&format!("/api/v1/workspaces/{us}"), &owner.token, json!({ "confirm_name": "US team" })).await;
    r.expect_problem(409, "workspace_not_empty");
    assert_eq!(r.body["active_agents"], 1);
}

#[tokio::test]
async fn w1_an_unknown_region_is_refused_with_the_choices() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let r = app.post("/api/v1/workspaces", &owner.token, json!({ "name": "Mars", "region": "mars" })).await;
    r.expect_problem(422, "validation_failed");
    let message = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(["in", "eu", "us"].iter().all(|id| message.contains(id)), "{message}");
}

/// A fresh, migrated database holding only `set`.
async fn database_with(set: Set, name: &str) -> (Db, callplane_testkit::Scratch) {
    let mut scratch = callplane_testkit::Scratch::new("callplane-schema");
    let url = scratch.database(name).await;
    let db = Db::connect(&url, &DbOptions::default()).await.unwrap();
    migrate::run(&db, set).await.unwrap();
    (db, scratch)
}

async fn exec(db: &Db, sql: &str) {
    let mut tx = db.begin().await.unwrap();
    callplane_store::fixtures::raw_execute(&mut tx, sql).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn o2_schema_keeps_tenancy_by_construction() {
    let (control, _scratch1) = database_with(Set::Control, "control").await;
    let (product, _scratch2) = database_with(Set::Product, "product").await;
    let found = violations(Set::Control, &schema::inspect(&control).await.unwrap());
    assert!(found.is_empty(), "control set: {found:#?}");
    let tables = schema::inspect(&product).await.unwrap();
    assert!(tables.iter().any(|t| t.name == "agents"), "the product set holds the product tables");
    let found = violations(Set::Product, &tables);
    assert!(found.is_empty(), "product set: {found:#?}");

    // Each rule fails on a table that breaks it.
    exec(&product, "CREATE TABLE bad_notes (id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, body TEXT)").await;
    exec(
        &product,
        "CREATE TABLE bad_links (workspace_id TEXT NOT NULL REFERENCES workspace_anchors (workspace_id) ON DELETE CASCADE,
                                 id TEXT NOT NULL, agent_id TEXT NOT NULL, agent_ws TEXT NOT NULL,
                                 PRIMARY KEY (workspace_id, id),
                                 FOREIGN KEY (agent_ws, agent_id) REFERENCES agents (workspace_id, id))",
    )
    .await;
    exec(&product, "CREATE TABLE sessions (id TEXT PRIMARY KEY)").await;
    exec(
        &control,
        "CREATE TABLE contacts (workspace_id TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (workspace_id, id))",
    )
    .await;
    exec(&control, "CREATE TABLE stray (id TEXT PRIMARY KEY)").await;
    let product_found = violations(Set::Product, &schema::inspect(&product).await.unwrap());
    let has = |list: &[String], needle: &str| list.iter().any(|v| v.contains(needle));
    assert!(has(&product_found, "bad_notes: primary key"), "{product_found:#?}");
    assert!(has(&product_found, "bad_notes: no `workspace_id REFERENCES workspace_anchors"), "{product_found:#?}");
    assert!(has(&product_found, "bad_notes: not declared"), "{product_found:#?}");
    assert!(has(&product_found, "bad_links: foreign key"), "{product_found:#?}");
    assert!(has(&product_found, "sessions: a control table in the Product set"), "{product_found:#?}");
    let control_found = violations(Set::Control, &schema::inspect(&control).await.unwrap());
    assert!(has(&control_found, "contacts: a product table in the Control set"), "{control_found:#?}");
    assert!(has(&control_found, "stray: not declared"), "{control_found:#?}");

    control.close().await;
    product.close().await;
}

#[tokio::test]
async fn w5_deletion_purges_the_region_database_and_nothing_else() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let doomed = app.create_workspace(&owner.token, "Doomed").await;
    let kept = app.create_workspace(&owner.token, "Kept").await;
    for ws in [&doomed, &kept] {
        app.plant_agent(ws, "agt_1", "inactive").await;
        app.plant_number(ws, "num_1", "released").await;
    }
    let kept_before = app.row_counts(&kept).await;
    app.delete(&format!("/api/v1/workspaces/{doomed}"), &owner.token, json!({ "confirm_name": "Doomed" }))
        .await
        .expect(204);
    let gone = app.row_counts(&doomed).await;
    assert!(gone.iter().all(|(_, n)| *n == 0), "{gone:?}");
    assert_eq!(app.row_counts(&kept).await, kept_before);
    // The name is free again at once.
    app.create_workspace(&owner.token, "Doomed").await;
}

#[tokio::test]
async fn a6_audit_log_merges_control_and_product_events_across_pages() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    app.set_plan(&owner.account_id, "professional").await;
    let ws = app.post("/api/v1/workspaces", &owner.token, json!({ "name": "Sales", "region": "us" })).await.expect(201);
    let ws = ws["id"].as_str().unwrap().to_owned();
    let other = app.create_workspace(&owner.token, "Other").await;
    let plant = |ws: String, action: &'static str| {
        let app = &app;
        let account = owner.account_id.clone();
        async move {
            let db = app.region_db(&ws).await;
            let mut tx = db.begin().await.unwrap();
            callplane_store::fixtures::insert_product_event(&mut tx, &account, &ws, action, 1).await.unwrap();
            tx.commit().await.unwrap();
        }
    };
    // Product and control events interleaved in time.
    for i in 0..3 {
        plant(ws.clone(), "agent.created").await;
        let name = format!("Sales {i}");
        app.patch(&format!("/api/v1/workspaces/{ws}"), &owner.token, json!({ "name": name })).await.expect(200);
    }
    plant(other.clone(), "contact.deleted").await;

    let mut seen: Vec<(String, String)> = Vec::new();
    let mut cursor = String::new();
    loop {
        let page =
            app.get(&format!("/api/v1/workspaces/{ws}/audit-log?limit=2{cursor}"), &owner.token).await.expect(200);
        for e in page["data"].as_array().unwrap() {
            seen.push((e["id"].as_str().unwrap().to_owned(), e["action"].as_str().unwrap().to_owned()));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let actions: Vec<&str> = seen.iter().map(|(_, a)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "workspace.updated",
            "agent.created",
            "workspace.updated",
            "agent.created",
            "workspace.updated",
            "agent.created",
            "member.added",
            "workspace.created"
        ],
        "newest first, both databases, each event once"
    );
    assert!(seen.windows(2).all(|w| w[0].0 > w[1].0), "ids strictly decrease across pages");

    // The account-wide trail and the CSV export merge too; filters apply to both sources.
    let account = app
        .get(&format!("/api/v1/accounts/{}/audit-log?action=agent.created", owner.account_id), &owner.token)
        .await
        .expect(200);
    assert_eq!(account["data"].as_array().unwrap().len(), 3);
    let all =
        app.get(&format!("/api/v1/accounts/{}/audit-log?limit=500", owner.account_id), &owner.token).await.expect(200);
    assert!(all.to_string().contains("contact.deleted"), "every region database is read");
    let csv = app.get(&format!("/api/v1/workspaces/{ws}/audit-log/export"), &owner.token).await;
    let csv = csv.body.as_str().unwrap().to_owned();
    assert_eq!(csv.matches("agent.created").count(), 3);
    assert!(!csv.contains("contact.deleted"), "another workspace's events stay out");
}
