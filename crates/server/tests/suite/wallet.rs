//! SPEC B1–B3: one wallet per account, shared by its workspaces; holds, extensions and
//! charges keyed by the call; never below zero; money only for `billing_view`.

use callplane_server::services::wallet as svc;

use crate::common::{email, spawn_app};

#[tokio::test]
async fn b1_fifty_parallel_calls_from_three_workspaces_end_at_exactly_the_expected_balance() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let ws =
        [u.workspace_id.clone(), app.create_workspace(&u.token, "B").await, app.create_workspace(&u.token, "C").await];
    assert_eq!(svc::credit(&app.state, &u.account_id, 10_000, "top-up").await.unwrap(), 10_000);

    // 50 calls each set 300 paise aside at once: exactly 33 fit in 10,000.
    let holds: Vec<_> = (0..50)
        .map(|i| {
            let (state, acct, ws) = (app.state.clone(), u.account_id.clone(), ws[i % 3].clone());
            tokio::spawn(async move { svc::hold(&state, &acct, &ws, &format!("call_{i}"), 300).await.is_ok() })
        })
        .collect();
    let mut placed = Vec::new();
    for (i, h) in holds.into_iter().enumerate() {
        if h.await.unwrap() {
            placed.push(i);
        }
    }
    assert_eq!(placed.len(), 33, "never more set aside than the balance");
    let refused = svc::hold(&app.state, &u.account_id, &ws[0], "call_late", 300).await.unwrap_err();
    assert_eq!(refused.code.as_str(), "insufficient_funds");

    // Each placed call ends after 61 s at 125 paise a minute: 250 each, charged once
    // even when settling is repeated.
    let settles: Vec<_> = placed
        .iter()
        .flat_map(|&i| [i, i])
        .map(|i| {
            let state = app.state.clone();
            tokio::spawn(async move { svc::settle(&state, &format!("call_{i}"), 250, "call").await.unwrap() })
        })
        .collect();
    let mut charged = 0;
    for s in settles {
        charged += s.await.unwrap().unwrap_or(0);
    }
    assert_eq!(charged, 33 * 250, "each call charged exactly once");
    let w = app.get(&format!("/api/v1/accounts/{}/wallet?limit=100", u.account_id), &u.token).await.expect(200);
    assert_eq!(w["balance"]["amount"], 10_000 - 33 * 250);
    assert_eq!(w["reserved"]["amount"], 0);
    assert_eq!(w["available"]["amount"], 10_000 - 33 * 250);
    let entries = w["entries"]["data"].as_array().unwrap();
    assert_eq!(entries.iter().filter(|e| e["kind"] == "charge").count(), 33);
    for (i, w) in ws.iter().enumerate() {
        let n = entries.iter().filter(|e| e["kind"] == "charge" && e["workspace_id"] == w.as_str()).count();
        assert_eq!(n, placed.iter().filter(|&&p| p % 3 == i).count(), "usage recorded per workspace");
    }
    assert!(entries.iter().all(|e| e["balance_after"]["amount"].as_i64().unwrap() >= 0));
}

#[tokio::test]
async fn b2_a_hold_grows_only_as_far_as_the_wallet_allows_and_a_call_costs_at_most_its_hold() {
    let app = spawn_app().await;
    let u = app.signup(&email("owner"), "Acme").await;
    let ws = u.workspace_id.clone();
    svc::hold(&app.state, &u.account_id, &ws, "call_a", 100).await.expect_err("an empty wallet covers nothing");
    svc::credit(&app.state, &u.account_id, 1_000, "").await.unwrap();
    svc::hold(&app.state, &u.account_id, &ws, "call_a", 100).await.unwrap();
    svc::hold(&app.state, &u.account_id, &ws, "call_a", 100).await.expect("holding again changes nothing");
    svc::hold(&app.state, &u.account_id, &ws, "call_b", 300).await.unwrap();
    // call_a would run long: its hold grows to what is left (1,000 - 300).
    assert_eq!(svc::extend(&app.state, "call_a", 5_000).await.unwrap(), 700);
    assert_eq!(svc::extend(&app.state, "call_a", 5_000).await.unwrap(), 700, "nothing left to add");
    svc::hold(&app.state, &u.account_id, &ws, "call_c", 1).await.expect_err("everything is set aside");
    // Charged at most its hold; the other call ends unanswered (nothing charged).
    assert_eq!(svc::settle(&app.state, "call_a", 9_999, "").await.unwrap(), Some(700));
    assert_eq!(svc::settle(&app.state, "call_b", 0, "").await.unwrap(), Some(0));
    assert_eq!(svc::settle(&app.state, "call_b", 50, "").await.unwrap(), None, "already released");
    let w = app.get(&format!("/api/v1/accounts/{}/wallet", u.account_id), &u.token).await.expect(200);
    assert_eq!((w["balance"]["amount"].as_i64(), w["reserved"]["amount"].as_i64()), (Some(300), Some(0)));
    let kinds: Vec<_> = w["entries"]["data"].as_array().unwrap().iter().map(|e| e["kind"].clone()).collect();
    assert_eq!(kinds, ["charge", "credit"], "a released hold leaves no charge");
    svc::credit(&app.state, &u.account_id, 0, "").await.expect_err("a credit is positive");
}

#[tokio::test]
async fn b3_only_billing_view_sees_the_wallet() {
    let app = spawn_app().await;
    let owner = app.signup(&email("owner"), "Acme").await;
    let member = app.signup(&email("member"), "Elsewhere").await;
    app.add_member(&owner.workspace_id, &member.user_id, "admin").await;
    svc::credit(&app.state, &owner.account_id, 5_000, "opening balance").await.unwrap();
    let path = format!("/api/v1/accounts/{}/wallet", owner.account_id);
    assert_eq!(app.get(&path, &owner.token).await.expect(200)["balance"]["amount"], 5_000);
    let r = app.get(&path, &member.token).await;
    assert_eq!(r.status.as_u16(), 404, "a workspace admin outside the account's admins does not see it: {:?}", r.body);
    let (key, _) = app.create_key(&owner.token, &owner.workspace_id, "owner").await;
    assert_ne!(app.get(&path, &key).await.status.as_u16(), 200, "account money needs a signed-in user");
    let page = app
        .http
        .get(format!("{}/account/wallet", app.base))
        .header("cookie", format!("cp_session={}", owner.token))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("₹50.00") && html.contains("opening balance"), "the wallet page shows balance and ledger");
}
