//! SPEC P4, P5: templates with variables (checked on save, previewed against a contact)
//! and post-call analysis templates (linked to agents).

use serde_json::json;

use crate::common::{email, spawn_app};

#[tokio::test]
async fn p4_variables_are_checked_on_save_and_previewed_against_a_contact() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    let c = app
        .post(
            &format!("{ws}/contacts"),
            &u.token,
            json!({ "phone": "+919876543210", "name": "Asha", "custom_fields": { "plan": "gold" } }),
        )
        .await
        .expect(201);
    let agent = app.post(&format!("{ws}/agents"), &u.token, json!({ "name": "Riya" })).await.expect(201);
    let t = app
        .post(&format!("{ws}/templates"), &u.token, json!({ "name": "Greeting", "kind": "message",
              "body": "Hi {{contact.name}}, this is {{ agent.name }} about your {{contact.custom.plan}} plan{{contact.custom.missing}}." }))
        .await
        .expect(201);
    assert_eq!(t["variables"], json!(["contact.name", "agent.name", "contact.custom.plan", "contact.custom.missing"]));
    let r =
        app.post(&format!("{ws}/templates"), &u.token, json!({ "name": "Bad", "body": "Hi {{contact.nmae}}" })).await;
    r.expect_problem(422, "validation_failed");
    assert!(r.body["errors"][0]["message"].as_str().unwrap().contains("contact.nmae"));
    app.post(&format!("{ws}/templates"), &u.token, json!({ "name": "Bad", "body": "Hi {{contact.name" }))
        .await
        .expect_problem(422, "validation_failed");
    let path = format!("{ws}/templates/{}", t["id"].as_str().unwrap());
    let preview = app
        .get(
            &format!(
                "{path}/preview?contact_id={}&agent_id={}",
                c["id"].as_str().unwrap(),
                agent["id"].as_str().unwrap()
            ),
            &u.token,
        )
        .await
        .expect(200);
    assert_eq!(preview["text"], "Hi Asha, this is Riya about your gold plan.");
    app.patch(&path, &u.token, json!({ "body": "{{workspace.name}} says hi" })).await.expect(200);
    let preview =
        app.get(&format!("{path}/preview?contact_id={}", c["id"].as_str().unwrap()), &u.token).await.expect(200);
    assert_eq!(preview["text"], "Acme says hi");
    // Another workspace's contact is not a preview subject here (I2).
    let other = app.create_workspace(&u.token, "Other").await;
    let theirs = app
        .post(&format!("/api/v1/workspaces/{other}/contacts"), &u.token, json!({ "phone": "+919876543211" }))
        .await
        .expect(201);
    app.get(&format!("{path}/preview?contact_id={}", theirs["id"].as_str().unwrap()), &u.token)
        .await
        .expect_problem(422, "validation_failed");
    app.get(&format!("/api/v1/workspaces/{other}/templates/{}", t["id"].as_str().unwrap()), &u.token)
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn p5_analysis_templates_define_fields_and_agents_use_them() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let ws = format!("/api/v1/workspaces/{}", u.workspace_id);
    let fields = json!([
        { "name": "interested", "type": "boolean", "description": "Wants a demo" },
        { "name": "budget", "type": "number" },
        { "name": "outcome", "type": "enum", "enum_values": ["booked", "callback", "not_interested"] }
    ]);
    let t = app
        .post(&format!("{ws}/analysis-templates"), &u.token, json!({ "name": "Sales call", "fields": fields }))
        .await
        .expect(201);
    assert_eq!(t["fields"][2]["enum_values"][1], "callback");
    for bad in [
        json!([]),
        json!([{ "name": "Bad Name", "type": "text" }]),
        json!([{ "name": "a", "type": "text" }, { "name": "a", "type": "number" }]),
        json!([{ "name": "a", "type": "enum" }]),
        json!([{ "name": "a", "type": "date" }]),
    ] {
        app.post(&format!("{ws}/analysis-templates"), &u.token, json!({ "name": "x", "fields": bad }))
            .await
            .expect_problem(422, "validation_failed");
    }
    let id = t["id"].as_str().unwrap();
    let agent = app
        .post(&format!("{ws}/agents"), &u.token, json!({ "name": "Closer", "analysis_template_id": id }))
        .await
        .expect(201);
    assert_eq!(agent["analysis_template_id"], id);
    app.delete(&format!("{ws}/analysis-templates/{id}"), &u.token, json!({}))
        .await
        .expect_problem(409, "template_in_use");
    // Another workspace's template cannot be used.
    let other = app.create_workspace(&u.token, "Other").await;
    let r = app
        .post(
            &format!("/api/v1/workspaces/{other}/agents"),
            &u.token,
            json!({ "name": "x", "analysis_template_id": id }),
        )
        .await;
    r.expect_problem(422, "validation_failed");
    app.patch(
        &format!("{ws}/agents/{}", agent["id"].as_str().unwrap()),
        &u.token,
        json!({ "analysis_template_id": "" }),
    )
    .await
    .expect(200);
    app.delete(&format!("{ws}/analysis-templates/{id}"), &u.token, json!({})).await.expect(204);
}
