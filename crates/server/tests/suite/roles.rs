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

/// A custom "Editor" role behaves as its grid says on every workspace resource: it
/// creates and edits contacts, agents, templates and appointments, views numbers and
/// settings, and is refused (naming the permission) every delete, number purchase,
/// settings change and import its grid leaves out.
#[tokio::test]
async fn a2_a_custom_editor_role_behaves_as_its_grid_says_on_every_resource() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let grid = [
        "workspaces_view",
        "workspaces_switch",
        "contacts_view",
        "contacts_create",
        "contacts_edit",
        "agents_view",
        "agents_create",
        "agents_edit",
        "templates_view",
        "templates_create",
        "templates_edit",
        "appointments_view",
        "appointments_create",
        "appointments_edit",
        "phone_numbers_view",
        "settings_view",
    ];
    let role = app
        .post(
            &format!("/api/v1/accounts/{}/roles", owner.account_id),
            &owner.token,
            json!({ "name": "Editor", "permissions": grid }),
        )
        .await
        .expect(201);
    let editor = app.signup(&email("editor"), "Editor home").await;
    app.add_member(&owner.workspace_id, &editor.user_id, role["id"].as_str().unwrap()).await;
    let ws = format!("/api/v1/workspaces/{}", owner.workspace_id);
    let t = &editor.token;
    let refused = |r: crate::common::Res, permission: &str| {
        r.expect_problem(403, "permission_denied");
        assert_eq!(r.body["permission"], permission, "{}", r.body);
    };

    // Contacts: create and edit; not delete, bulk delete, import or export.
    let c =
        app.post(&format!("{ws}/contacts"), t, json!({ "phone": "+919876543210", "name": "Asha" })).await.expect(201);
    let contact = format!("{ws}/contacts/{}", c["id"].as_str().unwrap());
    app.patch(&contact, t, json!({ "name": "Asha R" })).await.expect(200);
    refused(app.delete(&contact, t, json!({})).await, "contacts_delete");
    refused(app.post(&format!("{ws}/contacts/bulk-delete"), t, json!({ "all": true })).await, "contacts_delete");
    refused(app.get(&format!("{ws}/contacts/imports"), t).await, "contacts_import");
    refused(app.get(&format!("{ws}/contacts/export"), t).await, "contacts_export");

    // Agents: create and edit; not delete.
    let a = app.post(&format!("{ws}/agents"), t, json!({ "name": "Editor's agent" })).await.expect(201);
    let agent = format!("{ws}/agents/{}", a["id"].as_str().unwrap());
    app.patch(&agent, t, json!({ "first_message": "Hello" })).await.expect(200);
    refused(app.delete(&agent, t, json!({})).await, "agents_delete");

    // Templates and analysis templates: create, edit, preview; not delete.
    let tpl = app
        .post(
            &format!("{ws}/templates"),
            t,
            json!({ "name": "Greeting", "kind": "message", "body": "Hi {{contact.name}}" }),
        )
        .await
        .expect(201);
    let template = format!("{ws}/templates/{}", tpl["id"].as_str().unwrap());
    app.patch(&template, t, json!({ "body": "Hello {{contact.name}}" })).await.expect(200);
    let preview = app.get(&format!("{template}/preview?contact_id={}", c["id"].as_str().unwrap()), t).await.expect(200);
    assert_eq!(preview["text"], "Hello Asha R");
    refused(app.delete(&template, t, json!({})).await, "templates_delete");
    let at = app
        .post(
            &format!("{ws}/analysis-templates"),
            t,
            json!({ "name": "Outcome", "fields": [{ "name": "interested", "type": "boolean" }] }),
        )
        .await
        .expect(201);
    refused(
        app.delete(&format!("{ws}/analysis-templates/{}", at["id"].as_str().unwrap()), t, json!({})).await,
        "templates_delete",
    );

    // Appointments: book and edit; not delete.
    let ap = app
        .post(
            &format!("{ws}/appointments"),
            t,
            json!({ "contact_id": c["id"], "starts_at": "2030-01-07T10:00:00Z", "ends_at": "2030-01-07T10:30:00Z",
                    "timezone": "Asia/Kolkata" }),
        )
        .await
        .expect(201);
    let appointment = format!("{ws}/appointments/{}", ap["id"].as_str().unwrap());
    app.patch(&appointment, t, json!({ "notes": "bring the brochure" })).await.expect(200);
    refused(app.delete(&appointment, t, json!({})).await, "appointments_delete");

    // Numbers: view only; settings: view only.
    app.get(&format!("{ws}/phone-numbers"), t).await.expect(200);
    let offers = app.get(&format!("{ws}/phone-numbers/available?country=IN"), t).await.expect(200);
    let e164 = offers["data"][0]["e164"].as_str().unwrap();
    refused(app.post(&format!("{ws}/phone-numbers"), t, json!({ "e164": e164 })).await, "phone_numbers_create");
    app.get(&format!("{ws}/settings"), t).await.expect(200);
    refused(app.put(&format!("{ws}/settings"), t, json!({ "default_country": "GB" })).await, "settings_edit");

    // Outside the grid entirely: the team and API keys.
    refused(app.get(&format!("{ws}/members"), t).await, "members_view");
    refused(app.get(&format!("{ws}/api-keys"), t).await, "api_keys_view");
}
