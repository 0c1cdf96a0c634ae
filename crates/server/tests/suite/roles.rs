//! SPEC A2 (custom roles) and W7 (switching needs `workspaces_switch`).

use serde_json::json;

use crate::common::{email, spawn_app};

#[tokio::test]
async fn a2_accounts_define_custom_roles_as_permission_sets() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let base = format!("/api/v1/accounts/{}/roles", owner.account_id);
    let view_only = app
        .post(
            &base,
            &owner.token,
            json!({ "name": "View Only", "permissions": ["workspaces_view", "members_view", "workspaces_switch"] }),
        )
        .await
        .expect(201);
    let role_id = view_only["id"].as_str().unwrap().to_owned();
    assert!(role_id.starts_with("role_"));
    app.post(&base, &owner.token, json!({ "name": "view only", "permissions": [] }))
        .await
        .expect_problem(409, "role_name_taken");
    app.post(&base, &owner.token, json!({ "name": "Admin", "permissions": [] }))
        .await
        .expect_problem(422, "validation_failed");
    let r = app.post(&base, &owner.token, json!({ "name": "Odd", "permissions": ["contacts_fly"] })).await;
    r.expect_problem(422, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().contains("contacts_fly"));

    // Assigned through an invitation, in any workspace of the account.
    let second = app.create_workspace(&owner.token, "Second").await;
    let person = app.signup(&email("person"), "Person home").await;
    let (_, token) = app.invite(&owner.token, &second, &person.email, &role_id).await;
    app.accept(&person.token, &token).await.expect(200);
    app.get(&format!("/api/v1/workspaces/{second}/members"), &person.token).await.expect(200);
    let r = app.get(&format!("/api/v1/workspaces/{second}/invitations"), &person.token).await;
    r.expect_problem(403, "permission_denied");

    // Editing the role changes what its holders may do on their next request.
    app.patch(
        &format!("{base}/{role_id}"),
        &owner.token,
        json!({ "permissions": ["workspaces_view", "members_view", "workspaces_switch", "members_invite"] }),
    )
    .await
    .expect(200);
    app.get(&format!("/api/v1/workspaces/{second}/invitations"), &person.token).await.expect(200);

    // In use: cannot be deleted; listed with the built-ins.
    app.delete(&format!("{base}/{role_id}"), &owner.token, json!({})).await.expect_problem(409, "role_in_use");
    let list = app.get(&format!("/api/v1/workspaces/{second}/roles"), &person.token).await.expect(200);
    let names: Vec<&str> = list["data"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Owner", "Admin", "Member", "Viewer", "View Only"]);
    // Another account's role is not assignable here.
    let other = app.signup(&email("other"), "Other Co").await;
    let r = app
        .post(
            &format!("/api/v1/workspaces/{}/invitations", other.workspace_id),
            &other.token,
            json!({ "email": email("x"), "role": role_id }),
        )
        .await;
    r.expect_problem(422, "validation_failed");
    // Only account admins manage roles.
    app.get(&base, &person.token).await.expect_problem(403, "permission_denied");
}

#[tokio::test]
async fn w7_switching_needs_workspaces_switch() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let locked = app
        .post(
            &format!("/api/v1/accounts/{}/roles", owner.account_id),
            &owner.token,
            json!({ "name": "No switching", "permissions": ["workspaces_view"] }),
        )
        .await
        .expect(201);
    let person = app.signup(&email("person"), "Person home").await;
    let (_, token) = app.invite(&owner.token, &owner.workspace_id, &person.email, locked["id"].as_str().unwrap()).await;
    // Accepting does not need the permission; switching later does.
    app.accept(&person.token, &token).await.expect(200);
    app.switch(&person.token, &person.workspace_id).await.expect(200);
    let r = app.switch(&person.token, &owner.workspace_id).await;
    r.expect_problem(403, "permission_denied");
    assert_eq!(r.body["permission"], "workspaces_switch");
}

#[tokio::test]
async fn a2_the_dashboard_edits_roles_as_a_grid_of_checkboxes() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let html = crate::workspaces::page(&app, "/account/roles", &owner.token).await;
    for p in callplane_domain::Permission::ALL {
        assert!(
            html.contains(&format!("type=\"checkbox\" name=\"permissions\" value=\"{}\"", p.as_str())),
            "{p} has a checkbox"
        );
    }
    // Submitting the grid creates the role with exactly the ticked permissions.
    let csrf = "grid-csrf";
    let res = app
        .http
        .post(format!("{}/account/roles", app.base))
        .header("cookie", format!("cp_session={}; cp_csrf={csrf}", owner.token))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={csrf}&name=Editor&permissions=contacts_view&permissions=contacts_edit&permissions=agents_edit"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Role “Editor” created."));
    let roles = app.get(&format!("/api/v1/accounts/{}/roles", owner.account_id), &owner.token).await.expect(200);
    let editor = roles["data"].as_array().unwrap().iter().find(|r| r["name"] == "Editor").unwrap();
    assert_eq!(editor["permissions"], serde_json::json!(["contacts_view", "contacts_edit", "agents_edit"]));
}
