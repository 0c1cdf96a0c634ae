//! Accounts, users and sessions: sign-up, sign-in, sign-out, `/me`.

use reqwest::Method;
use serde_json::json;

use crate::common::{email, spawn_app};

#[tokio::test]
async fn signup_creates_user_account_on_starter_and_first_workspace() {
    let app = spawn_app().await;
    let addr = email("new");
    let res = app
        .call(
            Method::POST,
            "/api/v1/auth/signup",
            None,
            Some(json!({ "email": addr, "password": "long enough pw", "name": "Nina",
                         "account_name": "Nina's Agency", "region": "eu" })),
        )
        .await
        .expect(201);
    assert_eq!(res["account"]["plan"], "starter");
    assert_eq!(res["workspace"]["name"], "Nina's Agency");
    assert_eq!(res["workspace"]["region"], "eu");
    let token = res["token"].as_str().unwrap();
    let me = app.get("/api/v1/me", token).await.expect(200);
    assert_eq!(me["user"]["email"], addr.as_str());
    assert_eq!(me["accounts"][0]["role"], "admin");
    assert_eq!(me["workspaces"][0]["role"], "owner");
    assert_eq!(me["active_workspace"]["id"], res["workspace"]["id"]);
}

#[tokio::test]
async fn signup_validates_and_refuses_duplicate_emails_case_insensitively() {
    let app = spawn_app().await;
    let addr = email("dup");
    app.signup(&addr, "First").await;
    let body =
        |email: &str, password: &str| json!({ "email": email, "password": password, "name": "N", "account_name": "A" });
    let r =
        app.call(Method::POST, "/api/v1/auth/signup", None, Some(body(&addr.to_uppercase(), "long enough pw"))).await;
    r.expect_problem(409, "email_taken");
    let r = app.call(Method::POST, "/api/v1/auth/signup", None, Some(body("not-an-email", "long enough pw"))).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "email");
    let r = app.call(Method::POST, "/api/v1/auth/signup", None, Some(body(&email("short"), "short"))).await;
    r.expect_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "password");
}

#[tokio::test]
async fn login_logout_and_tokens_hashed_at_rest() {
    let app = spawn_app().await;
    let u = app.signup(&email("login"), "Acme").await;
    let wrong = app
        .call(Method::POST, "/api/v1/auth/login", None, Some(json!({ "email": u.email, "password": "wrong password" })))
        .await;
    wrong.expect_problem(401, "invalid_credentials");
    let unknown = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": "nobody@example.com", "password": "whatever1" })),
        )
        .await;
    unknown.expect_problem(401, "invalid_credentials");
    assert_eq!(wrong.body["detail"], unknown.body["detail"], "no hint whether the email exists");

    let token = app.login(&u.email.to_uppercase()).await;
    app.get("/api/v1/me", &token).await.expect(200);

    // Neither the session token nor the password is stored as given.
    let db_file = app.data_dir.join("test.db");
    if db_file.exists() {
        let raw = std::fs::read(&db_file).unwrap();
        let wal = std::fs::read(app.data_dir.join("test.db-wal")).unwrap_or_default();
        for bytes in [&raw, &wal] {
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains(&token), "session token stored in clear");
            assert!(!text.contains("correct horse battery"), "password stored in clear");
            assert!(!text.contains(&u.token));
        }
        assert!(
            String::from_utf8_lossy(&wal).contains("$argon2id$")
                || String::from_utf8_lossy(&raw).contains("$argon2id$")
        );
    }

    app.call(Method::POST, "/api/v1/auth/logout", Some(&token), None).await.expect(204);
    app.get("/api/v1/me", &token).await.expect_problem(401, "unauthenticated");
    // The other session is untouched.
    app.get("/api/v1/me", &u.token).await.expect(200);
}

#[tokio::test]
async fn sessions_expire() {
    let app = spawn_app().await;
    let u = app.signup(&email("expiry"), "Acme").await;
    app.clock.advance(31 * callplane_domain::clock::DAY_MS);
    app.get("/api/v1/me", &u.token).await.expect_problem(401, "unauthenticated");
}

#[tokio::test]
async fn health_readiness_metrics_and_openapi_answer() {
    let app = spawn_app().await;
    let h = app.call(Method::GET, "/healthz", None, None).await.expect(200);
    assert_eq!(h["status"], "ok");
    let r = app.call(Method::GET, "/readyz", None, None).await.expect(200);
    assert_eq!(r["status"], "ready");
    assert_eq!(r["regions"], json!({ "in": "ok", "us": "ok", "eu": "ok" }), "every region database answers");
    assert_eq!(r["access_cache"], "trusted");
    assert!(r["replica"].as_str().unwrap().starts_with("rpl_"));
    let m = app.call(Method::GET, "/metrics", None, None).await.expect(200);
    let m = m.as_str().unwrap();
    assert!(m.contains("callplane_http_requests_total{class=\"2xx\"}"));
    assert!(m.contains("callplane_access_cache_trusted 1"), "{m}");
    assert!(m.contains("callplane_access_cache_lookups_total{result=\"hit\"}"));
    let doc = app.call(Method::GET, "/api/openapi.json", None, None).await.expect(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled_per_email() {
    let app = spawn_app().await;
    let u = app.signup(&email("throttled"), "Acme").await;
    let attempt = |password: &'static str| {
        let app = &app;
        let email = u.email.clone();
        async move {
            app.call(Method::POST, "/api/v1/auth/login", None, Some(json!({ "email": email, "password": password })))
                .await
        }
    };
    for _ in 0..10 {
        attempt("wrong password").await.expect_problem(401, "invalid_credentials");
    }
    let r = attempt("correct horse battery").await;
    r.expect_problem(429, "rate_limited");
    assert!(r.body["retry_after"].as_i64().unwrap() > 0);
    // Other addresses are unaffected; the lock lifts after the window.
    let other = app.signup(&email("other"), "Other").await;
    app.login(&other.email).await;
    app.clock.advance(16 * callplane_domain::clock::MINUTE_MS);
    attempt("correct horse battery").await.expect(200);
}
