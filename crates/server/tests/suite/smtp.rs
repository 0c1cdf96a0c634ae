//! SPEC T4 over real SMTP: a small SMTP server started by the test receives what the
//! service sends through lettre.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::common::{email, spawn_with, token_of};

/// One received message: envelope recipients and the DATA section.
#[derive(Debug, Clone, Default)]
struct Received {
    rcpt: Vec<String>,
    data: String,
}

/// Accepts SMTP sessions on a loopback port and records every message.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = Arc::new(Mutex::new(Vec::new()));
    let store = inbox.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 test-smtp ready\r\n").await.unwrap();
                let mut current = Received::default();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-test-smtp\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        current.rcpt.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                        b"250 OK\r\n"
                    } else if upper.starts_with("DATA") {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            current.data.push_str(&l);
                            current.data.push_str("\r\n");
                        }
                        store.lock().unwrap().push(std::mem::take(&mut current));
                        b"250 queued\r\n"
                    } else if upper.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, inbox)
}

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
