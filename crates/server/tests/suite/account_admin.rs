//! SPEC A3 (account administration) and A6 (audit of team changes, export).

use reqwest::Method;
use serde_json::json;

use crate::common::{email, spawn_app, token_of};

#[tokio::test]
async fn a3_admins_create_users_who_set_their_password_from_a_link() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let new_email = email("created");
    let body = app
        .post(
            &format!("/api/v1/accounts/{}/users", owner.account_id),
            &owner.token,
            json!({ "email": new_email, "name": "Created Person" }),
        )
        .await
        .expect(201);
    let link = body["set_password_url"].as_str().unwrap();
    assert!(app.outbox().await.iter().any(|m| m.to_email == new_email && m.body.contains(link)));
    // No password yet: sign-in fails.
    let r = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({ "email": new_email, "password": "anything-at-all" })),
        )
        .await;
    r.expect_problem(401, "invalid_credentials");
    // The link's form sets it, once.
    let token = token_of(link);
    let csrf = "csrf-token";
    let res = app
        .http
        .post(format!("{}/set-password", app.base))
        .header("cookie", format!("cp_csrf={csrf}"))
        .form(&[("csrf", csrf), ("token", &token), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    app.login(&new_email).await;
    let again = app
        .http
        .post(format!("{}/set-password", app.base))
        .header("cookie", format!("cp_csrf={csrf}"))
        .form(&[("csrf", csrf), ("token", &token), ("password", "another password")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404, "the link works once");
}

#[tokio::test]
async fn a3_admins_grant_and_withdraw_workspace_access_from_the_account() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let second = app.create_workspace(&owner.token, "Second").await;
    let created = app
        .post(
            &format!("/api/v1/accounts/{}/users", owner.account_id),
            &owner.token,
            json!({ "email": email("staff"), "name": "Staff" }),
        )
        .await
        .expect(201);
    let user_id = created["user"]["id"].as_str().unwrap();
    let grant = |ws: &str| format!("/api/v1/accounts/{}/users/{user_id}/workspaces/{ws}", owner.account_id);
    app.put(&grant(&owner.workspace_id), &owner.token, json!({ "role": "viewer" })).await.expect(204);
    app.put(&grant(&second), &owner.token, json!({ "role": "admin" })).await.expect(204);
    app.put(&grant(&second), &owner.token, json!({ "role": "member" })).await.expect(204);
    let review =
        app.get(&format!("/api/v1/accounts/{}/access-review", owner.account_id), &owner.token).await.expect(200);
    let mine: Vec<_> = review["data"].as_array().unwrap().iter().filter(|r| r["user_id"] == user_id).collect();
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().any(|r| r["workspace_name"] == "Second" && r["role"] == "Member"));

    app.delete(&grant(&second), &owner.token, json!({})).await.expect(204);
    let review = app
        .get(&format!("/api/v1/accounts/{}/access-review?workspace=second", owner.account_id), &owner.token)
        .await
        .expect(200);
    assert!(review["data"].as_array().unwrap().iter().all(|r| r["user_id"] != user_id));
    // The Owner is changed only by transfer; other accounts' workspaces do not exist here.
    let owner_grant = format!("/api/v1/accounts/{}/users/{}/workspaces/{}", owner.account_id, owner.user_id, second);
    app.put(&owner_grant, &owner.token, json!({ "role": "viewer" })).await.expect_problem(409, "owner_required");
    let other = app.signup(&email("other"), "Other Co").await;
    app.put(&grant(&other.workspace_id), &owner.token, json!({ "role": "viewer" }))
        .await
        .expect_problem(404, "not_found");
    // Non-admins cannot administer the account.
    let member = app.signup(&email("member"), "Member home").await;
    app.add_account_user(&owner.account_id, &member.user_id, "member").await;
    app.put(&grant(&second), &member.token, json!({ "role": "viewer" })).await.expect_problem(403, "permission_denied");
}

#[tokio::test]
async fn a3_access_review_filters_and_exports_csv() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme, Inc.").await;
    let person = app.signup(&email("person"), "Person home").await;
    let (_, token) = app.invite(&owner.token, &owner.workspace_id, &person.email, "viewer").await;
    app.accept(&person.token, &token).await.expect(200);
    let base = format!("/api/v1/accounts/{}/access-review", owner.account_id);
    let filtered = app.get(&format!("{base}?role=viewer"), &owner.token).await.expect(200);
    let rows = filtered["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["email"], person.email.as_str());
    let res = app.http.get(format!("{}{base}?format=csv", app.base)).bearer_auth(&owner.token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "email,name,account_role,workspace_id,workspace,role,last_active_at");
    assert_eq!(lines.len(), 3);
    assert!(csv.contains("\"Acme, Inc.\""), "quoted: {csv}");
    assert!(csv.contains(&person.email));
}

#[tokio::test]
async fn a3_access_review_page_shows_empty_filters_as_empty_fields() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let html = crate::workspaces::page(&app, "/account/users", &owner.token).await;
    for field in ["user", "workspace", "role"] {
        assert!(html.contains(&format!(r#"name="{field}" value="""#)), "{field} filter is empty: {html}");
    }
    assert!(!html.to_lowercase().contains(r#"value="none""#), "no filter shows None: {html}");
    // A filter that was given is shown as given; the others stay empty.
    let html = crate::workspaces::page(&app, "/account/users?role=Owner", &owner.token).await;
    assert!(html.contains(r#"name="role" value="Owner""#));
    assert!(html.contains(r#"name="user" value="""#));
    assert!(html.contains(r#"name="workspace" value="""#));
}

#[tokio::test]
async fn a6_team_changes_are_audited_without_secrets_and_export_as_csv() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let person = app.signup(&email("person"), "Person home").await;
    let (_, token) = app.invite(&owner.token, &owner.workspace_id, &person.email, "member").await;
    app.accept(&person.token, &token).await.expect(200);
    let ws = format!("/api/v1/workspaces/{}", owner.workspace_id);
    app.patch(&format!("{ws}/members/{}", person.user_id), &owner.token, json!({ "role": "viewer" })).await.expect(200);
    let (key_id, secret) = app.create_key(&owner.token, &owner.workspace_id, "viewer").await;
    app.delete(&format!("{ws}/api-keys/{key_id}"), &owner.token, json!({})).await.expect(204);
    app.delete(&format!("{ws}/members/{}", person.user_id), &owner.token, json!({})).await.expect(204);

    let log = app.get(&format!("{ws}/audit-log"), &owner.token).await.expect(200);
    let actions: Vec<&str> = log["data"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in [
        "invitation.created",
        "member.joined",
        "member.role_changed",
        "api_key.created",
        "api_key.revoked",
        "member.removed",
    ] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    let changed = log["data"].as_array().unwrap().iter().find(|e| e["action"] == "member.role_changed").unwrap();
    assert_eq!(changed["before"]["role"], "member");
    assert_eq!(changed["after"]["role"], "viewer");
    let joined = log["data"].as_array().unwrap().iter().find(|e| e["action"] == "member.joined").unwrap();
    assert_eq!(joined["actor_id"], person.user_id.as_str());
    let text = log.to_string();
    assert!(!text.contains(&secret) && !text.contains(&token), "secrets never appear in the audit log");

    let res = app
        .http
        .get(format!("{}{ws}/audit-log/export?action=member.removed", app.base))
        .bearer_auth(&owner.token)
        .send()
        .await
        .unwrap();
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("audit-log.csv"));
    let csv = res.text().await.unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().nth(1).unwrap().contains("member.removed"));
    // Account admins read the whole account's trail, account-level changes included.
    app.post(
        &format!("/api/v1/accounts/{}/roles", owner.account_id),
        &owner.token,
        json!({ "name": "R", "permissions": [] }),
    )
    .await
    .expect(201);
    let acct = app
        .get(&format!("/api/v1/accounts/{}/audit-log?action=role.created", owner.account_id), &owner.token)
        .await
        .expect(200);
    assert_eq!(acct["data"][0]["workspace_id"], serde_json::Value::Null);
}
