//! SPEC T1–T4 and A1 (one Owner): invitations and members.

use callplane_domain::clock::DAY_MS;
use serde_json::json;

use crate::common::{email, spawn_app};

#[tokio::test]
async fn t1_invite_by_email_token_hashed_and_delivered_to_the_outbox() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let invitee = email("new.person");
    let (id, token) = app.invite(&owner.token, &owner.workspace_id, &invitee, "member").await;
    assert!(id.starts_with("inv_"));
    assert!(token.len() >= 64, "high-entropy token");
    // T4: without SMTP the email waits in the outbox, with the same link.
    let outbox = app.outbox().await;
    let mail = outbox.iter().find(|m| m.to_email == invitee).expect("invitation email queued");
    assert!(mail.body.contains(&format!("/invite?token={token}")));
    assert!(mail.subject.contains("Acme"));
    assert!(mail.sent_at.is_none());
    // The token is stored only as a hash.
    if let Some(bytes) = app.database_bytes() {
        let invitation_rows = bytes.replace(&mail.body, "");
        assert!(!invitation_rows.contains(&token), "token stored in clear outside the outbox email");
    }
    let list =
        app.get(&format!("/api/v1/workspaces/{}/invitations", owner.workspace_id), &owner.token).await.expect(200);
    assert_eq!(list["data"][0]["status"], "pending");
    assert_eq!(list["data"][0]["email"], invitee.as_str());
    assert!(list["data"][0].get("invite_url").is_none(), "the link is shown only once");
}

#[tokio::test]
async fn t1_invitee_needs_no_account_and_role_is_not_above_the_inviters() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let admin = app.signup(&email("admin"), "Admin home").await;
    let member = app.signup(&email("member"), "Member home").await;
    app.add_member(&owner.workspace_id, &admin.user_id, "admin").await;
    app.add_member(&owner.workspace_id, &member.user_id, "member").await;
    let path = format!("/api/v1/workspaces/{}/invitations", owner.workspace_id);
    // Nobody invites an Owner; an Admin may invite Admins, not roles above their own.
    let r = app.post(&path, &owner.token, json!({ "email": email("x"), "role": "owner" })).await;
    r.expect_problem(422, "validation_failed");
    app.post(&path, &admin.token, json!({ "email": email("y"), "role": "admin" })).await.expect(201);
    let billing = app
        .post(
            &format!("/api/v1/accounts/{}/roles", owner.account_id),
            &owner.token,
            json!({ "name": "Billing", "permissions": ["billing_view", "workspaces_view"] }),
        )
        .await
        .expect(201);
    let r = app.post(&path, &admin.token, json!({ "email": email("z"), "role": billing["id"] })).await;
    r.expect_problem(403, "role_above_own");
    assert_eq!(r.body["missing_permissions"][0], "billing_view");
    // Members cannot invite at all.
    let r = app.post(&path, &member.token, json!({ "email": email("w"), "role": "viewer" })).await;
    r.expect_problem(403, "permission_denied");
    assert_eq!(r.body["permission"], "members_invite");
    // Existing members are told so.
    let r = app.post(&path, &owner.token, json!({ "email": member.email, "role": "viewer" })).await;
    r.expect_problem(409, "already_member");
    let r = app.post(&path, &owner.token, json!({ "email": "not an email", "role": "viewer" })).await;
    r.expect_problem(422, "validation_failed");
}

#[tokio::test]
async fn t1_invitation_accepted_on_day_6_and_refused_on_day_8() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let early = app.signup(&email("early"), "Early home").await;
    let late = app.signup(&email("late"), "Late home").await;
    let (_, early_token) = app.invite(&owner.token, &owner.workspace_id, &early.email, "viewer").await;
    let (_, late_token) = app.invite(&owner.token, &owner.workspace_id, &late.email, "viewer").await;

    app.clock.advance(6 * DAY_MS);
    let body = app.accept(&early.token, &early_token).await.expect(200);
    assert_eq!(body["workspace_id"], owner.workspace_id.as_str());
    assert_eq!(body["role"], "viewer");

    app.clock.advance(2 * DAY_MS);
    let r = app.accept(&late.token, &late_token).await;
    r.expect_problem(410, "invitation_expired");
    assert!(r.body["detail"].as_str().unwrap().contains("new invitation"));
    // Resending gives a new token and another seven days; the old link stays dead.
    let list =
        app.get(&format!("/api/v1/workspaces/{}/invitations", owner.workspace_id), &owner.token).await.expect(200);
    let expired = list["data"].as_array().unwrap().iter().find(|i| i["status"] == "expired").unwrap();
    let resent = app
        .post(
            &format!(
                "/api/v1/workspaces/{}/invitations/{}/resend",
                owner.workspace_id,
                expired["id"].as_str().unwrap()
            ),
            &owner.token,
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(resent["status"], "pending");
    app.accept(&late.token, &late_token).await.expect_problem(404, "not_found");
    let fresh = crate::common::token_of(resent["invite_url"].as_str().unwrap());
    app.accept(&late.token, &fresh).await.expect(200);
}

#[tokio::test]
async fn t2_a_token_works_once() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let invitee = app.signup(&email("invitee"), "Invitee home").await;
    let (_, token) = app.invite(&owner.token, &owner.workspace_id, &invitee.email, "member").await;
    app.accept(&invitee.token, &token).await.expect(200);
    let second_session = app.login(&invitee.email).await;
    app.accept(&second_session, &token).await.expect_problem(410, "invitation_used");
}

#[tokio::test]
async fn t2_accepting_while_signed_in_with_another_email_is_refused() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let invited = email("invited");
    let other = app.signup(&email("other"), "Other home").await;
    let (_, token) = app.invite(&owner.token, &owner.workspace_id, &invited, "member").await;
    let r = app.accept(&other.token, &token).await;
    r.expect_problem(403, "invitation_email_mismatch");
    assert_eq!(r.body["invited_email"], invited.as_str());
    // Nothing was used up: the invited person can still accept.
    let right = app.signup(&invited, "Invited home").await;
    app.accept(&right.token, &token).await.expect(200);
}

#[tokio::test]
async fn t2_already_member_revoked_and_unknown_tokens_are_explained() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let person = app.signup(&email("person"), "Person home").await;
    let (_, token) = app.invite(&owner.token, &owner.workspace_id, &person.email, "member").await;
    // They were given access another way meanwhile.
    app.put(
        &format!("/api/v1/accounts/{}/users/{}/workspaces/{}", owner.account_id, person.user_id, owner.workspace_id),
        &owner.token,
        json!({ "role": "viewer" }),
    )
    .await
    .expect_problem(404, "not_found"); // not a user of the account yet
    app.add_member(&owner.workspace_id, &person.user_id, "viewer").await;
    app.accept(&person.token, &token).await.expect_problem(409, "already_member");

    let revokee = app.signup(&email("revokee"), "Revokee home").await;
    let (id, token) = app.invite(&owner.token, &owner.workspace_id, &revokee.email, "member").await;
    app.delete(&format!("/api/v1/workspaces/{}/invitations/{id}", owner.workspace_id), &owner.token, json!({}))
        .await
        .expect(204);
    app.accept(&revokee.token, &token).await.expect_problem(410, "invitation_revoked");
    app.accept(&revokee.token, "0123456789abcdef").await.expect_problem(404, "not_found");
}

#[tokio::test]
async fn t2_invite_page_handles_all_five_states() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let invited = email("invited");
    let (_, token) = app.invite(&owner.token, &owner.workspace_id, &invited, "member").await;
    let page = |cookie: Option<String>, token: String| {
        let app = &app;
        async move {
            let mut req = app.http.get(format!("{}/invite?token={token}", app.base));
            if let Some(c) = cookie {
                req = req.header("cookie", format!("cp_session={c}"));
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
            (status, location, res.text().await.unwrap())
        }
    };
    // 1. Not signed in: sign in or sign up with the invited email prefilled.
    let (status, _, html) = page(None, token.clone()).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"invite-signin\"") && html.contains("id=\"invite-signup\""));
    assert!(html.contains(&invited.replace('@', "%40")) || html.contains(&invited));
    // 3. Signed in with another email: asked to switch accounts.
    let stranger = app.signup(&email("stranger"), "Stranger home").await;
    let (status, _, html) = page(Some(stranger.token.clone()), token.clone()).await;
    assert_eq!(status, 403);
    assert!(html.contains("id=\"invite-switch-account\""), "{html}");
    // 2. Signed in with the invited email: joined and sent to the dashboard.
    let person = app.signup(&invited, "Invited home").await;
    let (status, location, _) = page(Some(person.token.clone()), token.clone()).await;
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/dashboard"));
    let me = app.get("/api/v1/me", &person.token).await.expect(200);
    assert_eq!(me["active_workspace"]["id"], owner.workspace_id.as_str());
    // 4. Already a member: told so (opening the link again, say).
    let (status, _, html) = page(Some(person.token.clone()), token.clone()).await;
    assert_eq!(status, 409);
    assert!(html.contains("already a member"), "{html}");
    // 5. Expired, revoked or unknown: asked to request a new one.
    let (status, _, html) = page(None, "nonsense".into()).await;
    assert_eq!(status, 404);
    assert!(html.contains("new invitation"));
}

#[tokio::test]
async fn t3_members_list_change_role_and_remove() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let person = app.signup(&email("person"), "Person home").await;
    let (_, token) = app.invite(&owner.token, &owner.workspace_id, &person.email, "member").await;
    app.accept(&person.token, &token).await.expect(200);
    let base = format!("/api/v1/workspaces/{}/members", owner.workspace_id);
    let list = app.get(&base, &owner.token).await.expect(200);
    let row =
        list["data"].as_array().unwrap().iter().find(|m| m["user_id"] == person.user_id.as_str()).unwrap().clone();
    assert_eq!(row["role"], "member");
    assert!(row["last_active_at"].is_string() || row["last_active_at"].is_null());
    assert!(row["joined_at"].is_string());

    let m =
        app.patch(&format!("{base}/{}", person.user_id), &owner.token, json!({ "role": "admin" })).await.expect(200);
    assert_eq!(m["role"], "admin");
    app.patch(&format!("/api/v1/workspaces/{}", owner.workspace_id), &person.token, json!({ "name": "Renamed" }))
        .await
        .expect(200);

    app.delete(&format!("{base}/{}", person.user_id), &owner.token, json!({})).await.expect(204);
    // Access ends on the very next request.
    app.get(&format!("/api/v1/workspaces/{}", owner.workspace_id), &person.token)
        .await
        .expect_problem(404, "not_found");
    app.patch(&format!("{base}/nobody"), &owner.token, json!({ "role": "viewer" }))
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn t3_a_removed_members_api_keys_fail_on_the_next_request() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let person = app.signup(&email("person"), "Person home").await;
    app.add_member(&owner.workspace_id, &person.user_id, "admin").await;
    let (_, secret) = app.create_key(&person.token, &owner.workspace_id, "viewer").await;
    app.get(&format!("/api/v1/workspaces/{}", owner.workspace_id), &secret).await.expect(200);
    app.delete(
        &format!("/api/v1/workspaces/{}/members/{}", owner.workspace_id, person.user_id),
        &owner.token,
        json!({}),
    )
    .await
    .expect(204);
    let r = app.get(&format!("/api/v1/workspaces/{}", owner.workspace_id), &secret).await;
    r.expect_problem(401, "unauthenticated");
    let keys = app.get(&format!("/api/v1/workspaces/{}/api-keys", owner.workspace_id), &owner.token).await.expect(200);
    assert!(keys["data"][0]["revoked_at"].is_string());
}

#[tokio::test]
async fn a1_exactly_one_owner_and_ownership_transfer() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let admin = app.signup(&email("admin"), "Admin home").await;
    app.add_member(&owner.workspace_id, &admin.user_id, "admin").await;
    let base = format!("/api/v1/workspaces/{}", owner.workspace_id);
    app.patch(&format!("{base}/members/{}", owner.user_id), &admin.token, json!({ "role": "viewer" }))
        .await
        .expect_problem(409, "owner_required");
    app.delete(&format!("{base}/members/{}", owner.user_id), &admin.token, json!({}))
        .await
        .expect_problem(409, "owner_required");
    app.patch(&format!("{base}/members/{}", admin.user_id), &owner.token, json!({ "role": "owner" }))
        .await
        .expect_problem(422, "validation_failed");
    // Only the Owner transfers.
    app.post(&format!("{base}/ownership"), &admin.token, json!({ "user_id": admin.user_id }))
        .await
        .expect_problem(403, "permission_denied");
    app.post(&format!("{base}/ownership"), &owner.token, json!({ "user_id": admin.user_id })).await.expect(204);
    let list = app.get(&format!("{base}/members"), &owner.token).await.expect(200);
    let role_of = |id: &str| {
        list["data"].as_array().unwrap().iter().find(|m| m["user_id"] == id).unwrap()["role"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(role_of(&admin.user_id), "owner");
    assert_eq!(role_of(&owner.user_id), "admin");
    assert_eq!(list["data"].as_array().unwrap().iter().filter(|m| m["role"] == "owner").count(), 1);
    // The new Owner can hand it back; the old one (now an Admin member) no longer can transfer.
    app.post(&format!("{base}/ownership"), &owner.token, json!({ "user_id": owner.user_id }))
        .await
        .expect_problem(403, "permission_denied");
    app.post(&format!("{base}/ownership"), &admin.token, json!({ "user_id": owner.user_id })).await.expect(204);
}

#[tokio::test]
async fn a1_team_page_asks_for_a_member_before_ownership_can_be_transferred() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    // Alone in the workspace: no one to transfer to, so no empty drop-down and no button.
    let html = crate::workspaces::page(&app, "/settings/team", &owner.token).await;
    assert!(html.contains("Transfer ownership"));
    assert!(
        html.contains("Invite a member first: ownership can only be transferred to another member of this workspace."),
        "{html}"
    );
    assert!(!html.contains(r#"action="/settings/team/ownership""#), "no transfer form without a member: {html}");
    // With another member, the form offers them.
    let admin = app.signup(&email("admin"), "Admin home").await;
    app.add_member(&owner.workspace_id, &admin.user_id, "admin").await;
    let html = crate::workspaces::page(&app, "/settings/team", &owner.token).await;
    assert!(html.contains(r#"action="/settings/team/ownership""#));
    assert!(html.contains(&format!(r#"<option value="{}">{}</option>"#, admin.user_id, admin.email)), "{html}");
    assert!(!html.contains("Invite a member first"));
}

#[tokio::test]
async fn t3_member_lists_page_with_limit_and_cursor() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    for i in 0..3 {
        let u = app.signup(&email(&format!("m{i}")), "Home").await;
        app.add_member(&owner.workspace_id, &u.user_id, "viewer").await;
    }
    let base = format!("/api/v1/workspaces/{}/members", owner.workspace_id);
    let mut seen = Vec::new();
    let mut path = format!("{base}?limit=3");
    loop {
        let page = app.get(&path, &owner.token).await.expect(200);
        seen.extend(page["data"].as_array().unwrap().iter().map(|m| m["user_id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("{base}?limit=3&cursor={c}"),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4, "every member exactly once across pages");
    app.get(&format!("{base}?limit=0"), &owner.token).await.expect_problem(422, "validation_failed");
    app.get(&format!("{base}?cursor=x"), &owner.token).await.expect_problem(422, "validation_failed");
}
