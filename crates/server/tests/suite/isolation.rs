//! SPEC I1 with A4: two accounts, three workspaces, four roles. Every workspace route,
//! tried by every user with the id of every workspace they do not reach, answers 404
//! and changes nothing.

use reqwest::Method;
use serde_json::json;

use crate::common::{email, spawn_app, TestApp, User};

const CSRF: &str = "isolation-csrf";

async fn try_route(app: &TestApp, u: &User, method: &str, path: &str, name: &str) -> u16 {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let req = app.http.request(method, format!("{}{path}", app.base));
    let req = if path.starts_with("/api/") {
        req.bearer_auth(&u.token).json(&json!({ "confirm_name": name, "name": "pwned" }))
    } else {
        req.header("cookie", format!("cp_session={}; cp_csrf={CSRF}", u.token)).form(&[
            ("csrf", CSRF),
            ("confirm_name", name),
            ("name", "pwned"),
            ("status", "inactive"),
        ])
    };
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn i1_no_route_reaches_another_workspace_and_nothing_changes() {
    let app = spawn_app().await;
    // Account A: owner with workspaces "A One" and "A Two". Account B: "B One".
    let a = app.signup(&email("a-owner"), "A One").await;
    let a_two = app.create_workspace(&a.token, "A Two").await;
    let b = app.signup(&email("b-owner"), "B One").await;
    // Four roles: Owner (a, b), Admin in A Two, Member in A One, Viewer in B One.
    let admin = app.signup(&email("admin"), "Admin home").await;
    app.add_member(&a_two, &admin.user_id, "admin").await;
    let member = app.signup(&email("member"), "Member home").await;
    app.add_member(&a.workspace_id, &member.user_id, "member").await;
    let viewer = app.signup(&email("viewer"), "Viewer home").await;
    app.add_member(&b.workspace_id, &viewer.user_id, "viewer").await;
    // Both owners keep an active workspace elsewhere, so "active workspace" never masks a 404.
    app.create_workspace(&b.token, "B Two").await;

    let named = [(a.workspace_id.clone(), "A One"), (a_two.clone(), "A Two"), (b.workspace_id.clone(), "B One")];
    let reach: Vec<(&User, Vec<&str>)> = vec![
        (&a, vec!["A One", "A Two"]),
        (&b, vec!["B One"]),
        (&admin, vec!["A Two"]),
        (&member, vec!["A One"]),
        (&viewer, vec!["B One"]),
    ];
    let routes: Vec<_> = callplane_server::route_table().into_iter().filter(|r| r.path.contains("{ws}")).collect();
    assert!(routes.len() >= 7);

    let before = app.snapshot().await;
    let mut tried = 0;
    for (user, reachable) in &reach {
        for (ws_id, name) in &named {
            if reachable.contains(name) {
                // Sanity: the same user does reach their own workspaces.
                app.get(&format!("/api/v1/workspaces/{ws_id}"), &user.token).await.expect(200);
                continue;
            }
            for r in &routes {
                let path = crate::route_table::fill(r.path, ws_id, &a.account_id, &a.user_id);
                let status = try_route(&app, user, r.method.as_str(), &path, name).await;
                assert_eq!(status, 404, "{} {path} by {} into {name}", r.method, user.email);
                tried += 1;
            }
            // Switching into it, or creating a workspace in its account, is just as unknown.
            app.switch(&user.token, ws_id).await.expect_problem(404, "not_found");
            // Nor does the workspace show up in any list they can read.
            let list = app.get("/api/v1/workspaces", &user.token).await.expect(200);
            assert!(list["data"].as_array().unwrap().iter().all(|w| w["id"] != ws_id.as_str()));
            let me = app.get("/api/v1/me", &user.token).await.expect(200);
            assert!(!me.to_string().contains(ws_id.as_str()));
        }
    }
    // Every account route, with the id of an account the user does not belong to.
    let account_routes: Vec<_> =
        callplane_server::route_table().into_iter().filter(|r| r.path.contains("{acct}")).collect();
    assert!(account_routes.len() >= 10);
    for (user, victim) in [(&b, &a), (&a, &b), (&viewer, &b), (&admin, &a), (&member, &a)] {
        let r = app
            .post("/api/v1/workspaces", &user.token, json!({ "name": "Planted", "account_id": victim.account_id }))
            .await;
        r.expect_problem(404, "not_found");
        for route in &account_routes {
            let path = crate::route_table::fill(route.path, &victim.workspace_id, &victim.account_id, &victim.user_id);
            let method = Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
            let body = json!({ "name": "pwned", "role": "viewer", "email": "x@example.com", "permissions": [] });
            let res = app.call(method, &path, Some(&user.token), Some(body)).await;
            res.expect_problem(404, "not_found");
            tried += 1;
        }
    }
    assert_eq!(app.snapshot().await, before, "no cross-workspace request changed anything");
    // API keys are principals too: a workspace key of A One and an organization key of
    // account B reach nothing outside their bounds.
    app.set_plan(&b.account_id, "enterprise").await;
    let (_, ws_key) = app.create_key(&a.token, &a.workspace_id, "admin").await;
    let org = app
        .post(
            &format!("/api/v1/accounts/{}/api-keys", b.account_id),
            &b.token,
            json!({ "name": "org", "role": "owner" }),
        )
        .await
        .expect(201);
    let org_key = org["secret"].as_str().unwrap().to_owned();
    let before_keys = app.snapshot().await;
    for (key, outside) in [(&ws_key, vec![&a_two, &b.workspace_id]), (&org_key, vec![&a.workspace_id, &a_two])] {
        for ws_id in outside {
            for r in routes.iter().filter(|r| r.path.starts_with("/api/")) {
                let path = crate::route_table::fill(r.path, ws_id, &a.account_id, &a.user_id);
                let method = Method::from_bytes(r.method.as_str().as_bytes()).unwrap();
                let body =
                    json!({ "confirm_name": "A Two", "name": "pwned", "role": "viewer", "email": "x@example.com" });
                app.call(method, &path, Some(key), Some(body)).await.expect_problem(404, "not_found");
                tried += 1;
            }
        }
    }
    assert_eq!(app.snapshot().await, before_keys, "no key reached outside its bounds");
    assert!(tried >= 60, "tried {tried} cross-workspace requests");
}
