//! SPEC O4: bad input gets a clear 4xx problem, never a 500, never half-written data.

use reqwest::Method;
use serde_json::json;

use crate::common::{email, spawn_app, Res, TestApp};

async fn raw(app: &TestApp, method: Method, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> Res {
    let res = app
        .http
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    TestApp::read(res).await
}

#[tokio::test]
async fn o4_malformed_oversize_and_mistyped_bodies_are_4xx_problems() {
    let app = spawn_app().await;
    let u = app.signup(&email("bad"), "Acme").await;
    let before = app.snapshot().await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    let json_ct = "application/json";

    // (method, path, content type, body, expected status, expected code)
    type Case<'a> = (Method, &'a str, &'a str, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (Method::POST, "/api/v1/workspaces", json_ct, b"{\"name\": ".to_vec(), 400, "malformed_json"),
        (Method::POST, "/api/v1/workspaces", json_ct, b"not json at all".to_vec(), 400, "malformed_json"),
        (Method::POST, "/api/v1/workspaces", json_ct, b"[1,2,3]".to_vec(), 422, "validation_failed"),
        (Method::POST, "/api/v1/workspaces", json_ct, b"{\"name\": 42}".to_vec(), 422, "validation_failed"),
        (
            Method::POST,
            "/api/v1/workspaces",
            json_ct,
            b"{\"name\": \"x\", \"owner\": \"me\"}".to_vec(),
            422,
            "validation_failed",
        ),
        (Method::POST, "/api/v1/workspaces", json_ct, b"{}".to_vec(), 422, "validation_failed"),
        (
            Method::POST,
            "/api/v1/workspaces",
            "text/plain",
            b"{\"name\": \"x\"}".to_vec(),
            415,
            "unsupported_media_type",
        ),
        (Method::PATCH, &ws, json_ct, b"{\"name\": null, \"colour\": 1}".to_vec(), 422, "validation_failed"),
        (Method::PATCH, &ws, json_ct, vec![0xff, 0xfe, 0x00], 400, "malformed_json"),
        (Method::DELETE, &ws, json_ct, b"{\"confirm_name\": ".to_vec(), 400, "malformed_json"),
        (
            Method::PUT,
            "/api/v1/me/active-workspace",
            json_ct,
            b"{\"workspace\": \"x\"}".to_vec(),
            422,
            "validation_failed",
        ),
    ];
    for (method, path, ct, body, status, code) in cases {
        let shown = String::from_utf8_lossy(&body).to_string();
        let r = raw(&app, method.clone(), path, &u.token, ct, body).await;
        assert_eq!(r.status.as_u16(), status, "{method} {path} {shown}: {}", r.body);
        assert_eq!(r.code(), code, "{method} {path} {shown}: {}", r.body);
        assert!(r.content_type.starts_with("application/problem+json"));
    }
    let unknown =
        raw(&app, Method::POST, "/api/v1/workspaces", &u.token, json_ct, b"{\"name\":\"x\",\"owner\":1}".to_vec())
            .await;
    assert_eq!(unknown.body["errors"][0]["field"], "owner", "the unknown field is named");

    // Two megabytes of JSON: refused before it is read into a handler.
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let r = raw(&app, Method::POST, "/api/v1/workspaces", &u.token, json_ct, huge.into_bytes()).await;
    r.expect_problem(413, "payload_too_large");

    assert_eq!(app.snapshot().await, before, "nothing was written");
}

#[tokio::test]
async fn o4_names_of_every_shape_are_handled() {
    let app = spawn_app().await;
    let u = app.signup(&email("names"), "Acme").await;
    app.set_plan(&u.account_id, "enterprise").await;
    for bad in ["", &"n".repeat(10_000), "tab\there", "nul\u{0}byte"] {
        let r = app.post("/api/v1/workspaces", &u.token, json!({ "name": bad })).await;
        r.expect_problem(422, "validation_failed");
    }
    for good in [
        "東京 – Ventas ñ 🚀",
        "Robert'); DROP TABLE workspaces;--",
        "100% \"quoted\" <script>alert(1)</script>",
        "' OR '1'='1",
        "العربية",
    ] {
        let ws = app.post("/api/v1/workspaces", &u.token, json!({ "name": good })).await.expect(201);
        assert_eq!(ws["name"], good);
        let got = app.get(&format!("/api/v1/workspaces/{}", ws["id"].as_str().unwrap()), &u.token).await.expect(200);
        assert_eq!(got["name"], good);
    }
    let list = app.get("/api/v1/workspaces", &u.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 6);
    // The dashboard escapes what it shows.
    let html = crate::workspaces::page(&app, "/workspaces", &u.token).await;
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;"));
}

#[tokio::test]
async fn o4_odd_ids_queries_and_methods_are_4xx() {
    let app = spawn_app().await;
    let u = app.signup(&email("odd"), "Acme").await;
    for path in [
        "/api/v1/workspaces/ws_'%20OR%201=1--",
        "/api/v1/workspaces/%00",
        "/api/v1/workspaces/..%2F..%2Fetc",
        "/api/v1/workspaces/ws_does_not_exist/members",
        "/api/v1/nope",
    ] {
        let r = app.get(path, &u.token).await;
        r.expect_problem(404, "not_found");
    }
    for query in ["limit=0", "limit=501", "limit=abc", "status=deleted", "cursor=zzz", "unknown=1"] {
        let r = app.get(&format!("/api/v1/workspaces?{query}"), &u.token).await;
        r.expect_problem(422, "validation_failed");
    }
    let audit = format!("/api/v1/workspaces/{}/audit-log", u.workspace_id);
    for query in ["action=a%00b", "actor_id=%01", "limit=-1"] {
        let r = app.get(&format!("{audit}?{query}"), &u.token).await;
        r.expect_problem(422, "validation_failed");
    }
    // NUL characters in JSON strings are refused, never stored or crashed on.
    let login = json!({ "email": "a\u{0}@b.co", "password": "x\u{0}y" });
    let r = app.call(Method::POST, "/api/v1/auth/login", None, Some(login)).await;
    r.expect_problem(401, "invalid_credentials");
    let r = app.call(Method::PUT, "/api/v1/workspaces", Some(&u.token), Some(json!({}))).await;
    r.expect_problem(405, "method_not_allowed");
    let r = app.call(Method::GET, "/api/v1/me", Some("cp_not_a_real_token"), None).await;
    r.expect_problem(401, "unauthenticated");
}
