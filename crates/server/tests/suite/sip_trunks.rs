//! SPEC N2: a workspace's SIP/BYOC trunks — their settings checked, the carrier
//! password sealed and never shown, and no other workspace able to see or touch them.

use serde_json::{json, Value};

use crate::common::{email, spawn_app};

fn trunk() -> Value {
    json!({
        "name": "Carrier A", "kind": "digest", "username": "acme-trunk", "password": "carrier-s3cret",
        "gateways": [
            { "host": "sip.carrier.example", "port": 5080, "inbound_cidrs": ["203.0.113.0/24"], "priority": 1 },
            { "host": "198.51.100.7", "outbound": false, "inbound_cidrs": ["198.51.100.7"] }
        ],
        "from_domain": "acme.example", "tech_prefix": "9", "leading_plus": false, "codecs": ["PCMA", "PCMU"]
    })
}

#[tokio::test]
async fn n2_a_trunk_keeps_its_settings_and_its_password_is_sealed_never_shown() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    let t = app.post(&format!("{ws}/sip-trunks"), &u.token, trunk()).await.expect(201);
    assert_eq!(t["kind"], "digest");
    assert_eq!(t["gateways"][0]["transport"], "udp", "the default transport");
    assert_eq!(t["gateways"][1]["port"], 5060, "the default port");
    assert_eq!(t["gateways"][1]["outbound"], false);
    assert_eq!(t["codecs"], json!(["PCMA", "PCMU"]));
    assert_eq!(t["dtmf_mode"], "rfc4733");
    assert_eq!(t["password_set"], true);
    assert!(!t.to_string().contains("carrier-s3cret"), "the password is not returned");
    let id = t["id"].as_str().unwrap();
    let got = app.get(&format!("{ws}/sip-trunks/{id}"), &u.token).await.expect(200);
    assert!(!got.to_string().contains("carrier-s3cret"));
    assert!(got.get("password").is_none() && got.get("password_sealed").is_none());

    // Stored sealed, bound to its row: it opens with the server's key for this trunk only.
    let db = app.region_db(&u.workspace_id).await;
    let mut conn = callplane_store::fixtures::in_workspace(db.conn().await.unwrap(), &u.workspace_id);
    let row = callplane_store::product::sip_trunks::get(&mut conn, id).await.unwrap().unwrap();
    let sealed = row.password_sealed.unwrap();
    assert!(!sealed.contains("carrier-s3cret"));
    let sealer = app.state.sealer().unwrap();
    let bound = callplane_server::services::sip_trunks::sealed_for(&u.workspace_id, id);
    assert_eq!(sealer.open(&sealed, &bound).as_deref(), Some("carrier-s3cret"));
    assert_eq!(sealer.open(&sealed, &format!("{bound}x")), None);

    // A change without a password keeps it; the audit log says it changed, never what to.
    let changed = app
        .patch(&format!("{ws}/sip-trunks/{id}"), &u.token, json!({ "name": "Carrier B", "tech_prefix": "" }))
        .await
        .expect(200);
    assert_eq!((changed["name"].as_str(), changed["password_set"].as_bool()), (Some("Carrier B"), Some(true)));
    app.patch(&format!("{ws}/sip-trunks/{id}"), &u.token, json!({ "password": "rotated-pass" })).await.expect(200);
    let log = app.get(&format!("{ws}/audit-log?limit=100"), &u.token).await.expect(200);
    let text = log.to_string();
    assert!(text.contains("sip_trunk.created") && text.contains("sip_trunk.updated"));
    assert!(!text.contains("carrier-s3cret") && !text.contains("rotated-pass"), "no password in the audit log");

    let list = app.get(&format!("{ws}/sip-trunks"), &u.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    app.delete(&format!("{ws}/sip-trunks/{id}"), &u.token, json!({})).await.expect(204);
    app.get(&format!("{ws}/sip-trunks/{id}"), &u.token).await.expect_problem(404, "not_found");
}

#[tokio::test]
async fn n2_bad_trunk_settings_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let path = format!("/api/v1/workspaces/{}/sip-trunks", u.workspace_id);
    let with = |patch: Value| {
        let mut t = trunk();
        for (k, v) in patch.as_object().unwrap() {
            t[k] = v.clone();
        }
        t
    };
    for (body, field) in [
        (with(json!({ "name": "  " })), "name"),
        (with(json!({ "kind": "magic" })), "kind"),
        (with(json!({ "gateways": [] })), "gateways"),
        (with(json!({ "gateways": [{ "host": "bad host!" }] })), "gateways[0].host"),
        (with(json!({ "gateways": [{ "host": "gw.example", "transport": "tcp" }] })), "gateways[0].transport"),
        (
            with(json!({ "gateways": [{ "host": "gw.example", "inbound_cidrs": ["10.0.0.0/40"] }] })),
            "gateways[0].inbound_cidrs",
        ),
        (with(json!({ "gateways": [{ "host": "gw.example", "port": 0 }] })), "gateways[0].port"),
        (with(json!({ "codecs": ["G729"] })), "codecs"),
        (with(json!({ "codecs": ["PCMU", "pcmu"] })), "codecs"),
        (with(json!({ "dtmf_mode": "inband" })), "dtmf_mode"),
        (with(json!({ "tech_prefix": "12ab" })), "tech_prefix"),
        (with(json!({ "outbound_proxy": "proxy.example:notaport" })), "outbound_proxy"),
        (with(json!({ "password": "" })), "password"),
        (with(json!({ "username": "has space" })), "username"),
    ] {
        let r = app.post(&path, &u.token, body.clone()).await;
        r.expect_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], field, "{body}");
    }
    app.post(&path, &u.token, json!({ "name": "x", "gateways": "nope" }))
        .await
        .expect_problem(422, "validation_failed");
    app.post(&path, &u.token, json!({ "name": "x", "gateways": [], "surprise": 1 }))
        .await
        .expect_problem(422, "validation_failed");
    // A static-IP trunk needs no credentials.
    app.post(&path, &u.token, json!({ "name": "By IP", "kind": "static_ip", "gateways": [{ "host": "192.0.2.10" }] }))
        .await
        .expect(201);
    let list = app.get(&path, &u.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "nothing half-saved by the refused ones");
}

#[tokio::test]
async fn i1_n2_another_workspaces_trunk_cannot_be_read_changed_or_deleted() {
    let app = spawn_app().await;
    let a = app.signup(&email("a"), "Acme").await;
    let b = app.signup(&email("b"), "Globex").await;
    let t = app.post(&format!("/api/v1/workspaces/{}/sip-trunks", a.workspace_id), &a.token, trunk()).await.expect(201);
    let id = t["id"].as_str().unwrap();
    // B, in its own workspace, naming A's trunk: not found.
    let theirs = format!("/api/v1/workspaces/{}/sip-trunks/{id}", b.workspace_id);
    app.get(&theirs, &b.token).await.expect_problem(404, "not_found");
    app.patch(&theirs, &b.token, json!({ "name": "Mine now" })).await.expect_problem(404, "not_found");
    app.delete(&theirs, &b.token, json!({})).await.expect_problem(404, "not_found");
    let list = app.get(&format!("/api/v1/workspaces/{}/sip-trunks", b.workspace_id), &b.token).await.expect(200);
    assert!(list["data"].as_array().unwrap().is_empty());
    // B naming A's workspace: refused before anything is read.
    let in_a = format!("/api/v1/workspaces/{}/sip-trunks/{id}", a.workspace_id);
    let r = app.get(&in_a, &b.token).await;
    assert!(matches!(r.status.as_u16(), 403 | 404), "{}", r.status);
    let still = app.get(&in_a, &a.token).await.expect(200);
    assert_eq!(still["name"], "Carrier A", "untouched");
}
