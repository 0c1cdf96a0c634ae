//! The account's shared wallet (SPEC B1, B3): balance, what calls in flight reserve,
//! and the ledger of credits and charges, for callers holding `billing_view`.

use axum::extract::State;
use axum::Json;
use callplane_store::wallet::Entry;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::numbers::Money;
use crate::api::views::{rfc3339, Page, Problem};
use crate::api::{keyset_page, ApiQuery, PageParams};
use crate::auth::scope::AccountCaller;
use crate::error::ApiResult;
use crate::services::wallet as svc;
use crate::state::AppState;

fn inr(amount: i64) -> Money {
    Money { amount, currency: "INR".into() }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub id: String,
    /// `credit` or `charge`.
    pub kind: String,
    pub amount: Money,
    pub balance_after: Money,
    /// The workspace a charge is usage of.
    pub workspace_id: Option<String>,
    pub call_id: Option<String>,
    pub note: String,
    pub created_at: String,
}

impl From<&Entry> for EntryView {
    fn from(e: &Entry) -> Self {
        Self {
            id: e.id.clone(),
            kind: e.kind.clone(),
            amount: inr(e.amount),
            balance_after: inr(e.balance_after),
            workspace_id: e.workspace_id.clone(),
            call_id: e.call_id.clone(),
            note: e.note.clone(),
            created_at: rfc3339(e.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WalletView {
    pub account_id: String,
    pub balance: Money,
    /// Set aside by calls in flight.
    pub reserved: Money,
    /// What new calls may still reserve.
    pub available: Money,
    /// The ledger, newest first (`cursor` pages it).
    pub entries: Page<EntryView>,
}

#[utoipa::path(get, path = "/api/v1/accounts/{acct}/wallet", tag = "billing",
    params(("acct" = String, Path), PageParams), security(("bearer" = [])),
    responses((status = 200, body = WalletView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    caller: AccountCaller,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<WalletView>> {
    let account = caller.authorize(&state, None).await?;
    let limit = page.limit()?;
    let (w, entries) = svc::statement(&state, &account, page.cursor.as_deref(), limit + 1).await?;
    Ok(Json(WalletView {
        account_id: account.id.clone(),
        balance: inr(w.balance),
        reserved: inr(w.reserved),
        available: inr(w.available()),
        entries: keyset_page(&entries, limit, |e| e.id.clone(), |e| EntryView::from(e)),
    }))
}
