//! SPEC N1–N4: the telephony catalog, each workspace's configuration, outbound
//! validation by longest prefix, and rates shown only on plans that show them.

use serde_json::{json, Value};

use crate::common::{email, spawn_app, TestApp, User};

fn base(ws: &str) -> String {
    format!("/api/v1/workspaces/{ws}/telephony")
}

async fn groups(app: &TestApp, u: &User, ws: &str, query: &str) -> Vec<Value> {
    let r = app.get(&format!("{}/groups?{query}", base(ws)), &u.token).await.expect(200);
    r["data"].as_array().unwrap().clone()
}

fn status_of(list: &[Value], id: &str) -> bool {
    list.iter().find(|g| g["id"] == id).unwrap_or_else(|| panic!("{id} listed"))["enabled"].as_bool().unwrap()
}

#[tokio::test]
async fn n2_new_workspaces_start_with_the_default_groups_and_each_keeps_its_own() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let other = app.create_workspace(&u.token, "Other").await;
    let t = app.get(&base(&u.workspace_id), &u.token).await.expect(200);
    assert_eq!(t["provider"], "plivo");
    assert_eq!(t["sip_enabled"], false);
    let india = t["countries"].as_array().unwrap().iter().find(|c| c["code"] == "IN").expect("India");
    assert_eq!(india["enabled_groups"], india["groups"], "India's default groups are on: {india}");
    let us = t["countries"].as_array().unwrap().iter().find(|c| c["code"] == "US").expect("the US");
    assert_eq!(us["enabled_groups"], 0);

    let path = format!("{}/groups/in-mobile", base(&u.workspace_id));
    let g = app.patch(&path, &u.token, json!({ "enabled": false })).await.expect(200);
    assert_eq!(g["enabled"], false);
    assert!(!status_of(&groups(&app, &u, &u.workspace_id, "country=IN").await, "in-mobile"));
    assert!(status_of(&groups(&app, &u, &other, "country=IN").await, "in-mobile"), "the other workspace keeps its own");
    let log = app
        .get(&format!("/api/v1/workspaces/{}/audit-log?action=telephony.group_updated", u.workspace_id), &u.token)
        .await
        .expect(200);
    assert_eq!(log["data"].as_array().unwrap().len(), 1, "{log}");

    app.patch(&format!("{}/groups/nope", base(&u.workspace_id)), &u.token, json!({ "enabled": true }))
        .await
        .expect_problem(404, "not_found");
    app.patch(&path, &u.token, json!({ "enabled": "yes" })).await.expect_problem(422, "validation_failed");
    app.patch(&base(&u.workspace_id), &u.token, json!({ "provider": "nope" }))
        .await
        .expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn n3_outbound_destinations_route_by_the_longest_prefix_of_an_enabled_group() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let route = |to: &str| format!("{}/route?to={}", base(&u.workspace_id), to.replace('+', "%2B"));
    let r = app.get(&route("+919876543210"), &u.token).await.expect(200);
    assert_eq!(r["network_group"], "in-mobile");
    assert_eq!(r["country"], "India");
    let r = app.get(&route("09876543210"), &u.token).await.expect(200);
    assert_eq!(r["to"], "+919876543210", "national numbers read in the workspace's country");
    let bengaluru = app.get(&route("+918023456789"), &u.token).await.expect(200);
    assert_eq!(bengaluru["network_group"], "in-landline-metro");

    // A US number: its group exists but is off in a new workspace.
    let refused = app.get(&route("+14155550100"), &u.token).await;
    refused.expect_problem(422, "destination_not_enabled");
    assert_eq!(refused.body["network_group"], "us-all");
    assert_eq!(refused.body["country"], "United States");
    app.patch(&format!("{}/groups/us-all", base(&u.workspace_id)), &u.token, json!({ "enabled": true }))
        .await
        .expect(200);
    assert_eq!(app.get(&route("+14155550100"), &u.token).await.expect(200)["network_group"], "us-all");

    // Off: refused though a shorter prefix would be in another group.
    app.patch(&format!("{}/groups/in-mobile", base(&u.workspace_id)), &u.token, json!({ "enabled": false }))
        .await
        .expect(200);
    let off = app.get(&route("+919876543210"), &u.token).await;
    off.expect_problem(422, "destination_not_enabled");
    assert!(off.body["detail"].as_str().unwrap().contains("India mobile"), "{}", off.body);
    // Covered by no group of the provider (Japan is not in the catalog).
    let none = app.get(&route("+81312345678"), &u.token).await;
    none.expect_problem(422, "destination_not_enabled");
    assert_eq!(none.body["network_group"], Value::Null);
    app.get(&route("12"), &u.token).await.expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn n2_sip_byoc_has_one_status_and_a_flat_rate() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let t = app.patch(&base(&u.workspace_id), &u.token, json!({ "provider": "sip" })).await.expect(200);
    assert_eq!(t["provider"], "sip");
    let route = format!("{}/route?to=%2B14155550100", base(&u.workspace_id));
    let off = app.get(&route, &u.token).await;
    off.expect_problem(422, "destination_not_enabled");
    assert!(off.body["detail"].as_str().unwrap().contains("SIP/BYOC"));
    app.patch(&base(&u.workspace_id), &u.token, json!({ "sip_enabled": true })).await.expect(200);
    let r = app.get(&route, &u.token).await.expect(200);
    assert_eq!(r["provider"], "sip");
    assert_eq!(r["network_group"], Value::Null, "SIP/BYOC routes every destination at its flat rate");
}

#[tokio::test]
async fn n4_rates_are_shown_only_when_the_plan_shows_them() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let list = groups(&app, &u, &u.workspace_id, "q=%2B9198").await;
    assert!(!list.is_empty() && list.iter().all(|g| g["outbound_rate"].is_null()), "starter: no rates");
    assert!(list.iter().any(|g| g["id"] == "in-mobile"), "search by prefix");
    let t = app.get(&base(&u.workspace_id), &u.token).await.expect(200);
    assert_eq!(t["rates_visible"], false);
    assert!(t["providers"].as_array().unwrap().iter().all(|p| p["flat_rate"].is_null()));

    app.set_plan(&u.account_id, "professional").await;
    let list = groups(&app, &u, &u.workspace_id, "q=india").await;
    let mobile = list.iter().find(|g| g["id"] == "in-mobile").expect("search by country name");
    assert_eq!(mobile["outbound_rate"], json!({ "amount": 60, "currency": "INR" }));
    let t = app.get(&base(&u.workspace_id), &u.token).await.expect(200);
    let sip = t["providers"].as_array().unwrap().iter().find(|p| p["id"] == "sip").unwrap();
    assert_eq!(sip["flat_rate"]["currency"], "INR");
    assert_eq!(groups(&app, &u, &u.workspace_id, "q=metro").await.len(), 1, "search by group name");
    assert!(groups(&app, &u, &u.workspace_id, "country=GB").await.iter().all(|g| g["country"] == "GB"));
}

#[tokio::test]
async fn n1_a_catalog_with_mistakes_changes_nothing_and_a_good_one_is_in_force_at_once() {
    use callplane_server::services::telephony;
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let before = app.get(&base(&u.workspace_id), &u.token).await.expect(200)["catalog_version"].clone();
    let bad = "provider | p | P | carrier | default\ncountry | IN | India | 91\ngroup | p | IN | g | G | -1 | 5 | -\n";
    let errors = telephony::load(&app.state, bad).await.unwrap().expect_err("refused");
    assert_eq!(errors[0].line, 3);
    assert_eq!(app.get(&base(&u.workspace_id), &u.token).await.expect(200)["catalog_version"], before);

    let shipped = callplane_domain::telephony::SHIPPED;
    let cheaper = shipped.replace("| India mobile | 0 | 60 | default", "| India mobile | 0 | 55 | default");
    assert_ne!(cheaper, shipped);
    let loaded = telephony::load(&app.state, &cheaper).await.unwrap().expect("loads");
    let after = app.get(&base(&u.workspace_id), &u.token).await.expect(200);
    assert_eq!(after["catalog_version"], loaded.version);
    assert_ne!(after["catalog_version"], before);
    app.set_plan(&u.account_id, "enterprise").await;
    let r = app.get(&format!("{}/route?to=%2B919876543210", base(&u.workspace_id)), &u.token).await.expect(200);
    assert_eq!(r["outbound_rate"]["amount"], 55, "priced by the catalog in force");
}
