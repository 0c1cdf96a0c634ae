//! The account's shared wallet (SPEC B1, B3): balance, what calls in flight reserve,
//! and the ledger of credits and charges, for callers holding `billing_view`.

use axum::extract::State;
use axum::Json;
use callplane_store::wallet::Entry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::numbers::Money;
use crate::api::views::parse_time;
use crate::api::views::{rfc3339, Page, Problem};
use crate::api::{keyset_page, ApiQuery, PageParams};
use crate::auth::scope::AccountCaller;
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::wallet::{self as svc, Period};
use crate::state::AppState;

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
            amount: Money::inr(e.amount),
            balance_after: Money::inr(e.balance_after),
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
        balance: Money::inr(w.balance),
        reserved: Money::inr(w.reserved),
        available: Money::inr(w.available()),
        entries: keyset_page(&entries, limit, |e| e.id.clone(), |e| EntryView::from(e)),
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UsageParams {
    /// `day` (default) or `month`, in UTC.
    pub period: Option<String>,
    /// From the period holding this time (RFC 3339; default: 30 days or 12 months ago).
    pub from: Option<String>,
    /// Up to this time (RFC 3339; default: now).
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageBucket {
    /// The period's first instant (UTC).
    pub start: String,
    /// Calls charged in it.
    pub calls: i64,
    pub cost: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageView {
    pub workspace_id: String,
    /// `day` or `month`.
    pub period: String,
    pub calls: i64,
    pub cost: Money,
    /// Every period of the range, oldest first (empty ones too).
    pub buckets: Vec<UsageBucket>,
}

/// The workspace's usage of the account's wallet per day or month (SPEC B3), for
/// callers holding `billing_view` in it.
#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/usage", tag = "billing",
    params(("ws" = String, Path), UsageParams), security(("bearer" = [])),
    responses((status = 200, body = UsageView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn usage(
    State(state): State<AppState>,
    WorkspaceScope(scope): WorkspaceScope,
    ApiQuery(q): ApiQuery<UsageParams>,
) -> ApiResult<Json<UsageView>> {
    let (period, max, default_span) = match q.period.as_deref().unwrap_or("day") {
        "day" => (Period::Day, 400, 29 * 86_400_000),
        "month" => (Period::Month, 120, 334 * 86_400_000),
        _ => return Err(ApiError::invalid("period", "must be day or month")),
    };
    let to = parse_time("to", &q.to)?.unwrap_or_else(|| state.now() + 1);
    let from = parse_time("from", &q.from)?.unwrap_or(to - 1 - default_span);
    if from >= to {
        return Err(ApiError::invalid("from", "must be before `to`"));
    }
    if (to - from) / 86_400_000 > max * if period == Period::Month { 31 } else { 1 } {
        return Err(ApiError::invalid("from", format!("the range may hold at most {max} periods")));
    }
    let buckets = svc::usage(&state, scope.workspace_id(), period, from, to).await?;
    Ok(Json(UsageView {
        workspace_id: scope.workspace_id().to_owned(),
        period: if period == Period::Day { "day" } else { "month" }.to_owned(),
        calls: buckets.iter().map(|b| b.calls).sum(),
        cost: Money::inr(buckets.iter().map(|b| b.cost).sum()),
        buckets: buckets
            .iter()
            .map(|b| UsageBucket { start: rfc3339(b.start), calls: b.calls, cost: Money::inr(b.cost) })
            .collect(),
    }))
}
