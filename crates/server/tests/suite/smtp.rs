//! SPEC T4 over real SMTP: a small SMTP server started by the test receives what the
//! service sends through lettre.

use std::time::Duration;

use callplane_testkit::smtp::smtp_server;
use serde_json::json;

use crate::common::{email, spawn_with, token_of};

/// Undoes quoted-printable soft line breaks and escaped `=`.
fn unfold(data: &str) -> String {
    data.replace("=\r\n", "").replace("=3D", "=")
}

#[tokio::test]
async fn t4_invitations_go_out_over_smtp_when_configured() {
    let (port, inbox) = smtp_server().await;
    let app = spawn_with(|c| c.email.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let owner = app.signup(&email("owner"), "Mail Co").await;
    let invitee = app.signup(&email("invitee"), "Invitee home").await;
    let created = app
        .post(
            &format!("/api/v1/workspaces/{}/invitations", owner.workspace_id),
            &owner.token,
            json!({ "email": invitee.email, "role": "member" }),
        )
        .await
        .expect(201);
    assert!(created.get("invite_url").is_none(), "with SMTP the link is only in the email");

    let mut message = None;
    for _ in 0..100 {
        if let Some(m) = inbox.lock().unwrap().first().cloned() {
            message = Some(m);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let message = message.expect("the SMTP server received the invitation");
    assert_eq!(message.rcpt, vec![invitee.email.clone()]);
    let body = unfold(&message.data);
    assert!(body.contains("Subject: You are invited to Mail Co on callplane"), "{body}");
    let link = body.lines().find(|l| l.contains("/invite?token=")).expect("link in the email");
    app.accept(&invitee.token, &token_of(link.trim())).await.expect(200);

    // Delivered emails are marked sent and no longer hold the link.
    let outbox = app.outbox().await;
    let row = outbox.iter().find(|m| m.to_email == invitee.email).unwrap();
    assert!(row.sent_at.is_some());
    assert!(!row.body.contains("token="));
}
