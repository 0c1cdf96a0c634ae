//! Replicas. Two `callplane serve` processes on one PostgreSQL behave as one service:
//! sessions, revocations, role changes and the sign-in throttle are shared, and
//! background work never runs an item twice. SQLite is one process per file.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use callplane_store::fixtures;
use callplane_testkit::process::{Installation, Server};
use callplane_testkit::smtp::smtp_server;
use callplane_testkit::{postgres_admin_url, Scratch};
use reqwest::Method;
use serde_json::json;

use crate::{bin, connect, email};

async fn login(server: &Server, email: &str, password: &str) -> u16 {
    server
        .call(Method::POST, "/api/v1/auth/login", None, Some(json!({ "email": email, "password": password })))
        .await
        .status
}

/// The token in the newest email's link to `to`, waiting for it to arrive.
async fn invitation_token(
    inbox: &std::sync::Arc<std::sync::Mutex<Vec<callplane_testkit::smtp::Received>>>,
    to: &str,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = inbox.lock().unwrap().iter().rev().find(|m| m.rcpt.iter().any(|r| r == to)).cloned();
        if let Some(m) = found {
            let data = m.data.replace("=\r\n", "").replace("=3D", "=");
            let token = data
                .split("token=")
                .nth(1)
                .expect("a link")
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-')
                .next()
                .unwrap();
            return token.to_owned();
        }
        assert!(Instant::now() < deadline, "no email to {to}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn o1_two_replicas_on_one_postgres_behave_as_one_service() {
    let mut scratch = Scratch::new("callplane-replicas");
    let url = scratch.postgres_database(&postgres_admin_url()).await;
    let (port, inbox) = smtp_server().await;
    let install = Installation::with_urls(
        scratch,
        url,
        vec![],
        &format!("[email]\nsmtp_url = \"smtp://127.0.0.1:{port}\"\n[workers]\nlease_secs = 30\npoll_secs = 1\n"),
    );
    let a = Server::start(bin(), &install, &[]);
    let b = Server::start(bin(), &install, &[]);

    // A session signed in through one works on the other.
    let owner_email = email("owner");
    let (token, _, _, ws) = a.signup(&owner_email, "Replicated").await;
    b.get("/api/v1/me", &token).await.expect(200);
    let ws_path = format!("/api/v1/workspaces/{ws}");

    // A key revoked through one is refused by the other on its next request (its cache warm).
    let key =
        a.post(&format!("{ws_path}/api-keys"), &token, json!({ "name": "k", "role": "viewer" })).await.expect(201);
    let secret = key["secret"].as_str().unwrap();
    b.get(&ws_path, secret).await.expect(200);
    b.get(&ws_path, secret).await.expect(200);
    a.call(Method::DELETE, &format!("{ws_path}/api-keys/{}", key["id"].as_str().unwrap()), Some(&token), None)
        .await
        .expect(204);
    assert_eq!(b.get(&ws_path, secret).await.status, 401, "revoked through A, refused by B at once");

    // A role changed through one applies on the other's next request.
    let person_email = email("person");
    let (person, person_id, _, _) = b.signup(&person_email, "Person home").await;
    a.post(&format!("{ws_path}/invitations"), &token, json!({ "email": person_email, "role": "admin" }))
        .await
        .expect(201);
    let invite = invitation_token(&inbox, &person_email).await;
    b.post("/api/v1/invitations/accept", &person, json!({ "token": invite })).await.expect(200);
    let invitations = format!("{ws_path}/invitations");
    let invite_someone = || b.post(&invitations, &person, json!({ "email": email("x"), "role": "viewer" }));
    invite_someone().await.expect(201);
    a.call(Method::PATCH, &format!("{ws_path}/members/{person_id}"), Some(&token), Some(json!({ "role": "viewer" })))
        .await
        .expect(200);
    let refused = invite_someone().await;
    assert_eq!((refused.status, refused.code()), (403, "permission_denied"), "the role change is seen by B at once");

    // The sign-in throttle counts failures made on both.
    let target = email("target");
    a.signup(&target, "Target").await;
    for i in 0..10 {
        let server = if i % 2 == 0 { &a } else { &b };
        assert_eq!(login(server, &target, "wrong password!").await, 401);
    }
    assert_eq!(login(&a, &target, "correct horse battery").await, 429);
    assert_eq!(login(&b, &target, "correct horse battery").await, 429);

    // Emails queued on both are each sent once, though both workers poll the outbox.
    let mut expected = HashSet::new();
    for i in 0..8 {
        let server = if i % 2 == 0 { &a } else { &b };
        let to = email(&format!("guest{i}"));
        server
            .post(&format!("{ws_path}/invitations"), &token, json!({ "email": to, "role": "viewer" }))
            .await
            .expect(201);
        expected.insert(to);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let count = |inbox: &std::sync::Arc<std::sync::Mutex<Vec<callplane_testkit::smtp::Received>>>| {
        inbox.lock().unwrap().iter().filter(|m| m.rcpt.iter().any(|r| expected.contains(r))).count()
    };
    while count(&inbox) < expected.len() {
        assert!(Instant::now() < deadline, "only {} of {} emails arrived", count(&inbox), expected.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Several polling rounds later, still exactly one email each.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received: Vec<String> =
        inbox.lock().unwrap().iter().flat_map(|m| m.rcpt.clone()).filter(|r| expected.contains(r)).collect();
    assert_eq!(received.len(), expected.len(), "no email sent twice: {received:?}");
}

/// The replica id a server reports on `/readyz`.
async fn replica_of(server: &Server) -> String {
    let body = server.call(Method::GET, "/readyz", None, None).await.expect(200);
    body["replica"].as_str().expect("readyz names the replica").to_owned()
}

#[tokio::test]
async fn o1_a_replica_that_loses_its_listener_stops_trusting_its_cache() {
    let mut scratch = Scratch::new("callplane-replicas");
    let url = scratch.postgres_database(&postgres_admin_url()).await;
    let install = Installation::with_urls(scratch, url.clone(), vec![], "");
    let a = Server::start(bin(), &install, &[]);
    let b = Server::start(bin(), &install, &[]);
    let (token, _, _, ws) = a.signup(&email("owner"), "Listener").await;
    let path = format!("/api/v1/workspaces/{ws}");
    let key = a.post(&format!("{path}/api-keys"), &token, json!({ "name": "k", "role": "viewer" })).await.expect(201);
    let (key_id, secret) = (key["id"].as_str().unwrap().to_owned(), key["secret"].as_str().unwrap().to_owned());
    b.get(&path, &secret).await.expect(200);
    b.get(&path, &secret).await.expect(200);

    // Cut B's listening connection, wait until it has listened again, then change access
    // behind everyone's back (no announcement): B must not answer from what it cached.
    let replica = replica_of(&b).await;
    let db = connect(&url).await;
    let listener_pid = || async {
        let mut conn = db.conn().await.unwrap();
        fixtures::listener_pid(&mut conn, &replica).await.unwrap()
    };
    let old_pid = listener_pid().await.expect("B listens");
    let mut conn = db.conn().await.unwrap();
    fixtures::terminate_backend(&mut conn, old_pid).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while listener_pid().await.is_none_or(|p| p == old_pid) {
        assert!(Instant::now() < deadline, "B did not listen again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut tx = db.begin().await.unwrap();
    fixtures::revoke_key_silently(&mut tx, &key_id).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(b.get(&path, &secret).await.status, 401, "B dropped its cache when it lost the listener");
}

#[tokio::test]
async fn o1_a_second_serve_on_one_sqlite_file_is_refused() {
    let scratch = Scratch::new("callplane-sqlite");
    let url = format!("sqlite://{}", scratch.dir.join("callplane.db").display());
    let install = Installation::with_urls(scratch, url, vec![], "");
    let first = Server::start(bin(), &install, &[]);
    let refused = Server::try_start(bin(), &install, &[]).err().expect("the second serve is refused");
    assert!(refused.contains("another callplane process is already serving the SQLite database"), "{refused}");
    assert!(refused.contains("PostgreSQL"), "the message says what to do instead: {refused}");
    first.call(Method::GET, "/healthz", None, None).await.expect(200);
}
