//! SPEC P1, I3, W9: contacts.

use serde_json::json;

use crate::common::{email, spawn_app, TestApp, User};

fn base(ws: &str) -> String {
    format!("/api/v1/workspaces/{ws}/contacts")
}

async fn add(app: &TestApp, u: &User, body: serde_json::Value) -> serde_json::Value {
    app.post(&base(&u.workspace_id), &u.token, body).await.expect(201)
}

#[tokio::test]
async fn p1_phones_are_e164_and_national_numbers_read_in_the_workspace_country() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let c =
        add(&app, &u, json!({ "phone": "098765 43210", "name": " Asha Rao ", "tags": ["VIP", "lead", "vip"] })).await;
    assert_eq!(c["phone"], "+919876543210", "an India-region workspace reads national numbers as Indian");
    assert_eq!(c["name"], "Asha Rao");
    assert_eq!(c["timezone"], "Asia/Kolkata", "derived from the number");
    assert_eq!(c["tags"], json!(["lead", "VIP"]));
    assert_eq!(c["do_not_call"], false);
    let us = add(&app, &u, json!({ "phone": "+1 201 555 0123", "timezone": "America/New_York" })).await;
    assert_eq!(us["phone"], "+12015550123");
    assert_eq!(us["timezone"], "America/New_York");
    let no_zone = add(&app, &u, json!({ "phone": "+1 201 555 0124" })).await;
    assert!(no_zone["timezone"].is_null(), "the US spans several zones");

    // The same number, written differently, is the same contact.
    let r = app.post(&base(&u.workspace_id), &u.token, json!({ "phone": "+91 98765-43210" })).await;
    r.expect_problem(409, "contact_exists");
    assert_eq!(r.body["errors"][0]["field"], "phone");
    for (body, field) in [
        (json!({ "phone": "not a number" }), "phone"),
        (json!({ "name": "No phone" }), "phone"),
        (json!({ "phone": "+919876543211", "email": "nope" }), "email"),
        (json!({ "phone": "+919876543211", "timezone": "Mars/Olympus" }), "timezone"),
        (json!({ "phone": "+919876543211", "tags": ["a,b"] }), "tags"),
        (json!({ "phone": "+919876543211", "custom_fields": { "Bad Key": "x" } }), "custom_fields"),
    ] {
        let r = app.post(&base(&u.workspace_id), &u.token, body).await;
        r.expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field, "{}", r.body);
    }
}

#[tokio::test]
async fn i3_the_same_number_is_an_independent_contact_in_each_workspace() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let other = app.create_workspace(&u.token, "Other").await;
    let a = add(&app, &u, json!({ "phone": "+919876543210", "name": "In A" })).await;
    let b = app.post(&base(&other), &u.token, json!({ "phone": "+919876543210", "name": "In B" })).await.expect(201);
    assert_ne!(a["id"], b["id"]);
    app.patch(&format!("{}/{}", base(&other), b["id"].as_str().unwrap()), &u.token, json!({ "do_not_call": true }))
        .await
        .expect(200);
    let a_again =
        app.get(&format!("{}/{}", base(&u.workspace_id), a["id"].as_str().unwrap()), &u.token).await.expect(200);
    assert_eq!(a_again["do_not_call"], false, "flags are per workspace");
    assert_eq!(a_again["name"], "In A");
    // One workspace's contact id is not found through the other.
    app.get(&format!("{}/{}", base(&other), a["id"].as_str().unwrap()), &u.token)
        .await
        .expect_problem(404, "not_found");
    app.delete(&format!("{}/{}", base(&other), a["id"].as_str().unwrap()), &u.token, json!({}))
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn p1_lists_filter_and_page_with_a_keyset_cursor() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    for i in 0..7 {
        let tags = if i % 2 == 0 { json!(["even"]) } else { json!(["odd"]) };
        add(
            &app,
            &u,
            json!({ "phone": format!("+9198765432{i:02}"), "name": format!("Person {i}"), "tags": tags,
                              "email": format!("p{i}@example.com"), "do_not_call": i == 3 }),
        )
        .await;
    }
    let mut names = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.get(&format!("{}?limit=3{cursor}", base(&u.workspace_id)), &u.token).await.expect(200);
        names.extend(page["data"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(names, (0..7).rev().map(|i| format!("Person {i}")).collect::<Vec<_>>(), "newest first, each once");
    let list = |query: &str| {
        let path = format!("{}?{query}", base(&u.workspace_id));
        let app = &app;
        let token = u.token.clone();
        async move {
            let page = app.get(&path, &token).await.expect(200);
            page["data"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    assert_eq!(list("tag=EVEN").await.len(), 4);
    assert_eq!(list("flag=do_not_call").await, ["Person 3"]);
    assert_eq!(list("flag=callable&tag=odd").await, ["Person 5", "Person 1"]);
    assert_eq!(list("q=person%205").await, ["Person 5"]);
    assert_eq!(list("q=p2%40example").await, ["Person 2"], "search covers email");
    assert_eq!(list("q=%2B91987654320").await.len(), 7, "search covers the phone");
    assert_eq!(list("q=%25").await.len(), 0, "wildcards are literal");
    app.get(&format!("{}?flag=vip", base(&u.workspace_id)), &u.token).await.expect_problem(422, "validation_failed");
    app.get(&format!("{}?cursor=abc", base(&u.workspace_id)), &u.token).await.expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn p1_flag_changes_are_audited_with_who_and_when() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let c = add(&app, &u, json!({ "phone": "+919876543210" })).await;
    let path = format!("{}/{}", base(&u.workspace_id), c["id"].as_str().unwrap());
    let updated = app.patch(&path, &u.token, json!({ "opted_out": true, "name": "Asha" })).await.expect(200);
    assert_eq!(updated["opted_out"], true);
    let log = app
        .get(&format!("/api/v1/workspaces/{}/audit-log?action=contact.flags_changed", u.workspace_id), &u.token)
        .await
        .expect(200);
    let e = &log["data"][0];
    assert_eq!(e["actor_id"], u.user_id.as_str());
    assert_eq!(e["before"]["opted_out"], false);
    assert_eq!(e["after"]["opted_out"], true);
    assert!(e["created_at"].is_string());
    let all = app.get(&format!("/api/v1/workspaces/{}/audit-log", u.workspace_id), &u.token).await.expect(200);
    let actions: Vec<&str> = all["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"contact.created") && actions.contains(&"contact.updated"), "{actions:?}");
}

#[tokio::test]
async fn p1_bulk_delete_by_filter_touches_only_the_matching_contacts_of_the_workspace() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let other = app.create_workspace(&u.token, "Other").await;
    for i in 0..4 {
        add(&app, &u, json!({ "phone": format!("+9198765432{i:02}"), "tags": [if i < 2 { "old" } else { "new" }] }))
            .await;
        app.post(&base(&other), &u.token, json!({ "phone": format!("+9198765432{i:02}"), "tags": ["old"] }))
            .await
            .expect(201);
    }
    let bulk = format!("{}/bulk-delete", base(&u.workspace_id));
    app.post(&bulk, &u.token, json!({})).await.expect_problem(422, "validation_failed");
    let r = app.post(&bulk, &u.token, json!({ "tag": "old" })).await.expect(200);
    assert_eq!(r["deleted"], 2);
    let left = app.get(&base(&u.workspace_id), &u.token).await.expect(200);
    assert_eq!(left["data"].as_array().unwrap().len(), 2);
    let theirs = app.get(&base(&other), &u.token).await.expect(200);
    assert_eq!(theirs["data"].as_array().unwrap().len(), 4, "the other workspace keeps its contacts");
    app.post(&bulk, &u.token, json!({ "all": true })).await.expect(200);
    assert!(app.get(&base(&u.workspace_id), &u.token).await.expect(200)["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn w9_export_streams_filtered_csv_with_formulas_defused() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    add(&app, &u, json!({ "phone": "+919876543210", "name": "=HYPERLINK(\"http://evil\")", "tags": ["x"] })).await;
    add(&app, &u, json!({ "phone": "+919876543211", "name": "@SUM(A1)", "custom_fields": { "plan": "-1" } })).await;
    add(&app, &u, json!({ "phone": "+919876543212", "name": "Plain, Name", "do_not_call": true })).await;
    let r = app.get(&format!("{}/export", base(&u.workspace_id)), &u.token).await;
    assert_eq!(r.status.as_u16(), 200);
    assert!(r.content_type.starts_with("text/csv"));
    let csv = r.body.as_str().unwrap().to_owned();
    let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert!(lines[0].starts_with("id,phone,name,email,timezone,tags,custom_fields,do_not_call,opted_out"));
    assert_eq!(lines.len(), 4);
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "{csv}");
    assert!(csv.contains("'@SUM(A1)"));
    assert!(csv.contains("\"Plain, Name\""));
    assert!(!csv.lines().any(|l| l.split(',').any(|cell| cell.starts_with(['=', '@']))));
    let filtered = app.get(&format!("{}/export?flag=do_not_call", base(&u.workspace_id)), &u.token).await;
    assert_eq!(filtered.body.as_str().unwrap().trim_end().split("\r\n").count(), 2);
}

#[tokio::test]
async fn a1_contact_permissions_follow_the_role() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let viewer = app.signup(&email("viewer"), "Viewer home").await;
    app.add_member(&owner.workspace_id, &viewer.user_id, "viewer").await;
    let member = app.signup(&email("member"), "Member home").await;
    app.add_member(&owner.workspace_id, &member.user_id, "member").await;
    let c = add(&app, &owner, json!({ "phone": "+919876543210" })).await;
    let path = format!("{}/{}", base(&owner.workspace_id), c["id"].as_str().unwrap());
    app.get(&path, &viewer.token).await.expect(200);
    let r = app.post(&base(&owner.workspace_id), &viewer.token, json!({ "phone": "+919876543299" })).await;
    r.expect_problem(403, "permission_denied");
    assert_eq!(r.body["permission"], "contacts_create");
    app.patch(&path, &viewer.token, json!({ "name": "x" })).await.expect_problem(403, "permission_denied");
    app.patch(&path, &member.token, json!({ "name": "Edited by a member" })).await.expect(200);
}

#[tokio::test]
async fn i2_the_database_refuses_a_reference_to_another_workspaces_contact() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let other = app.create_workspace(&u.token, "Other").await;
    let theirs = add(&app, &u, json!({ "phone": "+919876543210" })).await;
    let theirs = theirs["id"].as_str().unwrap();
    // Bypassing every handler: a row of workspace `other` pointing at a contact of the
    // first workspace (the shape every campaign-to-contact reference takes).
    let db = app.region_db(&other).await;
    let mut tx = db.begin().await.unwrap();
    let sql =
        format!("INSERT INTO contact_tags (workspace_id, tag_key, contact_id) VALUES ('{other}', 'vip', '{theirs}')");
    let refused = callplane_store::fixtures::raw_execute(&mut tx, &sql).await;
    assert!(refused.is_err(), "a composite foreign key refuses the cross-workspace reference");
    drop(tx);
    // The same reference inside the contact's own workspace is fine.
    let db = app.region_db(&u.workspace_id).await;
    let mut tx = db.begin().await.unwrap();
    let ws = &u.workspace_id;
    let sql =
        format!("INSERT INTO contact_tags (workspace_id, tag_key, contact_id) VALUES ('{ws}', 'vip', '{theirs}')");
    callplane_store::fixtures::raw_execute(&mut tx, &sql).await.unwrap();
    tx.commit().await.unwrap();
}

/// The workspace's own default country (a setting, defaulting from its region) decides
/// how national numbers are read, in the API and in imports; another workspace keeps
/// its own.
#[tokio::test]
async fn p1_the_default_country_is_a_workspace_setting_defaulting_from_its_region() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let other = app.create_workspace(&u.token, "Still India").await;
    let settings = format!("/api/v1/workspaces/{}/settings", u.workspace_id);
    let s = app.get(&settings, &u.token).await.expect(200);
    assert_eq!((s["default_country"].as_str(), s["default_country_set"].as_bool()), (Some("IN"), Some(false)));

    let s = app.put(&settings, &u.token, json!({ "default_country": "gb" })).await.expect(200);
    assert_eq!((s["default_country"].as_str(), s["default_country_set"].as_bool()), (Some("GB"), Some(true)));
    let c = add(&app, &u, json!({ "phone": "020 7946 0958", "name": "London" })).await;
    assert_eq!(c["phone"], "+442079460958", "national numbers are read as British now");
    assert_eq!(c["timezone"], "Europe/London");
    // The other workspace of the same region still reads them as Indian.
    let r = app.post(&base(&other), &u.token, json!({ "phone": "098765 43210" })).await.expect(201);
    assert_eq!(r["phone"], "+919876543210");

    // Imports created now read in the workspace's country too.
    let res = app
        .http
        .post(format!("{}{}/imports?on_duplicate=skip", app.base, base(&u.workspace_id)))
        .bearer_auth(&u.token)
        .header("content-type", "text/csv")
        .body("phone,name\n0161 496 0123,Manchester\n")
        .send()
        .await
        .unwrap();
    let job = TestApp::read(res).await.expect(202);
    let path = format!("{}/imports/{}", base(&u.workspace_id), job["id"].as_str().unwrap());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let j = app.get(&path, &u.token).await.expect(200);
        if j["status"] == "completed" {
            assert_eq!(j["imported"], 1, "{j}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "import did not finish: {j}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let found = app.get(&format!("{}?q=Manchester", base(&u.workspace_id)), &u.token).await.expect(200);
    assert_eq!(found["data"][0]["phone"], "+441614960123");

    // A bad code is refused; "" returns to the region's default. The agent defaults
    // saved alongside are untouched by either.
    let r = app.put(&settings, &u.token, json!({ "default_country": "XX" })).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "default_country");
    let before = app.get(&settings, &u.token).await.expect(200)["agent_defaults"].clone();
    let s = app.put(&settings, &u.token, json!({ "default_country": "" })).await.expect(200);
    assert_eq!((s["default_country"].as_str(), s["default_country_set"].as_bool()), (Some("IN"), Some(false)));
    assert_eq!(s["agent_defaults"], before);
}

/// P1: search is right whichever plan answers it (on SQLite: a rare term from the
/// trigram index, a common one or one shorter than a trigram in id order), never shows
/// another workspace's contacts, and the index follows edits, deletes and bulk deletes.
#[tokio::test]
async fn p1_search_is_right_through_the_trigram_index_and_in_id_order() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let other = app.create_workspace(&u.token, "Other").await;
    let theirs = User { workspace_id: other.clone(), ..u.clone() };
    // More matches than the index plan takes (2,000), in both workspaces.
    let mut csv = String::from("phone,name,email\n");
    for i in 0..2100 {
        csv += &format!("+9198{i:08},Common Person {i},p{i}@example.com\n");
    }
    for who in [&u, &theirs] {
        let done = crate::imports::import(&app, who, "", csv.clone()).await;
        assert_eq!(done["imported"], 2100, "{done}");
    }
    let search = |ws: &str, q: &str| {
        let path = format!("{}?limit=100&q={}", base(ws), urlencoding(q));
        let (app, token) = (&app, u.token.clone());
        async move {
            let mut out: Vec<(String, String)> = Vec::new();
            let mut cursor = String::new();
            loop {
                let page = app.get(&format!("{path}{cursor}"), &token).await.expect(200);
                out.extend(
                    page["data"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| (c["id"].as_str().unwrap().to_owned(), c["name"].as_str().unwrap().to_owned())),
                );
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = format!("&cursor={c}"),
                    None => return out,
                }
            }
        }
    };
    let common = search(&u.workspace_id, "common person").await;
    assert_eq!(common.len(), 2100, "every match once, none of the other workspace's");
    let ids: std::collections::BTreeSet<_> = common.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids.len(), 2100);
    assert!(common.windows(2).all(|w| w[0].0 > w[1].0), "newest first");
    let mine: std::collections::BTreeSet<_> =
        search(&u.workspace_id, "@").await.into_iter().map(|(id, _)| id).collect();
    let other_ids: std::collections::BTreeSet<_> = search(&other, "@").await.into_iter().map(|(id, _)| id).collect();
    assert!(mine.is_disjoint(&other_ids) && mine.len() == 2100 && other_ids.len() == 2100);

    let rare = search(&u.workspace_id, "P1234@Example").await;
    assert_eq!(rare.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(), ["Common Person 1234"]);
    let by_phone = search(&u.workspace_id, "+919800001234").await;
    assert_eq!(by_phone.len(), 1, "the phone, through the index");
    let short = search(&u.workspace_id, "99").await;
    let expected = (0..2100).filter(|i| i.to_string().contains("99")).count();
    assert_eq!(short.len(), expected, "a term shorter than a trigram, in id order");
    assert!(search(&u.workspace_id, "no such person").await.is_empty());

    // The index follows an edit, a delete and a bulk delete.
    let (id7, _) = search(&u.workspace_id, "p7@example").await.pop().expect("p7 is there");
    app.patch(
        &format!("{}/{id7}", base(&u.workspace_id)),
        &u.token,
        json!({ "name": "Zebra Quux", "email": "zq@example.org" }),
    )
    .await
    .expect(200);
    assert_eq!(search(&u.workspace_id, "zebra quux").await.len(), 1);
    assert!(search(&u.workspace_id, "p7@example").await.is_empty(), "the old text is out of the index");
    let (id8, _) = search(&u.workspace_id, "p8@example").await.pop().expect("p8 is there");
    app.delete(&format!("{}/{id8}", base(&u.workspace_id)), &u.token, json!({})).await.expect(204);
    assert!(search(&u.workspace_id, "p8@example").await.is_empty());
    assert_eq!(search(&other, "p8@example").await.len(), 1, "the other workspace keeps its own");
    app.post(&format!("{}/bulk-delete", base(&other)), &u.token, json!({ "all": true })).await.expect(200);
    assert!(search(&other, "common person").await.is_empty());
    assert_eq!(search(&u.workspace_id, "common person").await.len(), 2098, "less the renamed and the deleted");
    let region = app.region_db(&u.workspace_id).await;
    if !region.is_postgres() {
        let mut tx = region.begin().await.unwrap();
        callplane_store::fixtures::raw_execute(
            &mut tx,
            "INSERT INTO contact_search (contact_search, rank) VALUES ('integrity-check', 1)",
        )
        .await
        .expect("the trigram index agrees with the contacts");
        tx.commit().await.unwrap();
    }
}

fn urlencoding(q: &str) -> String {
    q.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
