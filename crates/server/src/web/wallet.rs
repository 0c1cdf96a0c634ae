//! Account → Wallet (SPEC B1): the shared balance, what calls in flight reserve, and the
//! ledger of credits and charges.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::api::views::rfc3339;
use crate::auth::scope::AccountCaller;
use crate::error::ApiResult;
use crate::services::wallet as svc;
use crate::web::common::{page_context, render, rupees, Dash};

const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct WalletQuery {
    pub cursor: Option<String>,
}

pub async fn show(dash: Dash, caller: AccountCaller, Query(q): Query<WalletQuery>) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let account = caller.authorize(&state, None).await?;
    let (mut ctx, _) = page_context(&state, &p, &session, &csrf.0, "wallet", "Wallet").await?;
    let (w, entries) = svc::statement(&state, &account, q.cursor.as_deref(), PAGE + 1).await?;
    let shown = &entries[..entries.len().min(PAGE as usize)];
    let next = (entries.len() as i64 > PAGE).then(|| shown.last().map(|e| e.id.clone())).flatten();
    ctx.insert("account_name".into(), json!(account.name));
    ctx.insert(
        "wallet".into(),
        json!({ "balance": rupees(w.balance), "reserved": rupees(w.reserved), "available": rupees(w.available()) }),
    );
    ctx.insert(
        "entries".into(),
        json!(shown
            .iter()
            .map(|e| json!({ "kind": e.kind, "amount": rupees(e.amount), "balance_after": rupees(e.balance_after),
                             "note": e.note, "workspace_id": e.workspace_id, "call_id": e.call_id,
                             "at": rfc3339(e.created_at) }))
            .collect::<Vec<_>>()),
    );
    ctx.insert("next_cursor".into(), json!(next));
    Ok(render(&state, StatusCode::OK, "wallet.html", ctx))
}
