//! Phone numbers (SPEC P2, I4): bought from the provider's inventory for a workspace,
//! assigned to an agent, released, transferred between workspaces of an account.
//!
//! A number is held by one workspace at a time twice over: the provider's ledger
//! (`carrier_allocations`, control database, every region) and a partial unique index in
//! the region database. A purchase writes the ledger first, then the number; a failure
//! of the second step gives the number back, and a purchase repeated with the same
//! Idempotency-Key finishes it.

use callplane_domain::id::{has_prefix, new_id};
use callplane_store::access::Scope;
use callplane_store::carrier;
use callplane_store::product::agents;
use callplane_store::product::phone_numbers::{self, NewNumber, PhoneNumber};
use callplane_telephony::Search;
use serde_json::json;

use crate::error::{ApiError, ApiResult, Code};
use crate::services::audit::Auditor;
use crate::state::AppState;

fn snapshot(n: &PhoneNumber) -> serde_json::Value {
    json!({ "e164": n.e164, "status": n.status, "agent_id": n.agent_id, "monthly_price": n.monthly_price })
}

/// Inventory numbers nobody holds, matching the search.
pub async fn available(state: &AppState, q: &Search) -> ApiResult<Vec<callplane_telephony::Offer>> {
    let want = q.limit;
    let offers = state.provider.search(&Search { limit: want * 4 + 50, ..q.clone() });
    let e164s: Vec<String> = offers.iter().map(|o| o.e164.clone()).collect();
    let mut conn = state.db.conn().await?;
    let held = carrier::held(&mut conn, state.provider.id(), &e164s).await?;
    Ok(offers.into_iter().filter(|o| !held.contains(&o.e164)).take(want).collect())
}

pub async fn buy(state: &AppState, scope: &Scope, e164: &str, key: Option<&str>) -> ApiResult<PhoneNumber> {
    let provider = state.provider.id();
    if let Some(key) = key {
        let mut conn = state.db.conn().await?;
        if let Some(done) = carrier::by_key(&mut conn, scope.workspace_id(), key).await? {
            drop(conn);
            // The same purchase again: finish it if a crash interrupted it, and answer it.
            let offer = state.provider.offer(&done.e164).ok_or_else(ApiError::not_found)?;
            return write_number(state, scope, &done.phone_number_id, &offer).await;
        }
    }
    let offer = state.provider.offer(e164.trim()).ok_or_else(|| {
        ApiError::invalid("e164", "is not a number of the provider's inventory (search /phone-numbers/available)")
    })?;
    let id = new_id("num");
    let mut tx = state.db.begin().await?;
    carrier::allocate(&mut tx, provider, &offer.e164, scope.workspace_id(), &id, key, state.now()).await.map_err(
        |e| {
            if matches!(e, callplane_store::Error::Unique(_)) {
                ApiError::new(Code::NumberUnavailable, format!("{} is no longer available.", offer.e164))
            } else {
                e.into()
            }
        },
    )?;
    tx.commit().await?;
    match write_number(state, scope, &id, &offer).await {
        Ok(n) => Ok(n),
        Err(e) => {
            // Give the number back: it was never usable.
            let mut tx = state.db.begin().await?;
            carrier::release(&mut tx, provider, &offer.e164, scope.workspace_id()).await?;
            tx.commit().await?;
            Err(e)
        }
    }
}

async fn write_number(
    state: &AppState,
    scope: &Scope,
    id: &str,
    offer: &callplane_telephony::Offer,
) -> ApiResult<PhoneNumber> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    if phone_numbers::get(&mut tx, id).await?.is_none() {
        let n = NewNumber {
            id,
            e164: &offer.e164,
            provider: state.provider.id(),
            country: offer.country,
            national: &offer.national,
            locality: offer.locality,
            monthly_price: offer.monthly_price,
            currency: offer.currency,
        };
        phone_numbers::insert(&mut tx, &n, now).await.map_err(|e| {
            if matches!(e, callplane_store::Error::Unique(_)) {
                ApiError::new(Code::NumberUnavailable, format!("{} is no longer available.", offer.e164))
            } else {
                e.into()
            }
        })?;
        let after = json!({ "e164": offer.e164, "monthly_price": offer.monthly_price, "currency": offer.currency });
        Auditor::for_scope(scope, now)
            .record_product(&mut tx, "phone_number.bought", ("phone_number", id), None, Some(after))
            .await?;
    }
    let number = phone_numbers::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    Ok(number)
}

pub async fn get(scope: &Scope, id: &str) -> ApiResult<PhoneNumber> {
    phone_numbers::get(&mut scope.read().await?, id).await?.ok_or_else(ApiError::not_found)
}

/// Assigns the number to one of the workspace's agents for inbound calls (`None`: none).
pub async fn assign(state: &AppState, scope: &Scope, id: &str, agent_id: Option<&str>) -> ApiResult<PhoneNumber> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let before = phone_numbers::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    if before.status != "active" {
        return Err(ApiError::new(Code::BadRequest, "Only an active number can be assigned."));
    }
    if let Some(a) = agent_id {
        if !has_prefix(a, "agt") || agents::get(&mut tx, a).await?.is_none() {
            return Err(ApiError::invalid("agent_id", "is not an agent of this workspace"));
        }
    }
    phone_numbers::set_agent(&mut tx, id, agent_id).await?;
    let after = phone_numbers::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    Auditor::for_scope(scope, now)
        .record_product(
            &mut tx,
            "phone_number.assigned",
            ("phone_number", id),
            Some(snapshot(&before)),
            Some(snapshot(&after)),
        )
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// Releases the number back to the provider's inventory (its history stays).
pub async fn release(state: &AppState, scope: &Scope, id: &str) -> ApiResult<()> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let n = phone_numbers::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    if !phone_numbers::end(&mut tx, id, "released", None, now).await? {
        return Err(ApiError::new(Code::BadRequest, "The number is not active."));
    }
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "phone_number.released", ("phone_number", id), Some(snapshot(&n)), None)
        .await?;
    tx.commit().await?;
    let mut tx = state.db.begin().await?;
    carrier::release(&mut tx, &n.provider, &n.e164, scope.workspace_id()).await?;
    tx.commit().await?;
    Ok(())
}

/// Transfers an active number to another workspace of the same account and region (I4):
/// the number's history stays with this workspace; both audit logs record the move.
pub async fn transfer(state: &AppState, from: &Scope, id: &str, to: &Scope) -> ApiResult<PhoneNumber> {
    if to.workspace_id() == from.workspace_id() {
        return Err(ApiError::invalid("to_workspace_id", "is this workspace"));
    }
    if to.account_id() != from.account_id() {
        return Err(ApiError::not_found());
    }
    if !to.can(callplane_domain::Permission::PhoneNumbersTransfer) {
        return Err(ApiError::permission_denied(callplane_domain::Permission::PhoneNumbersTransfer)
            .with("workspace_id", to.workspace_id()));
    }
    let Some(mut pair) = from.begin_pair(to).await? else {
        return Err(ApiError::new(
            Code::RegionMismatch,
            format!(
                "The number's history lives in region `{}`; it can only move to a workspace of the same region (not `{}`).",
                from.region(),
                to.region()
            ),
        ));
    };
    let now = state.now();
    let n = phone_numbers::get(&mut pair.from(), id).await?.ok_or_else(ApiError::not_found)?;
    if !phone_numbers::end(&mut pair.from(), id, "transferred", Some(to.workspace_id()), now).await? {
        return Err(ApiError::new(Code::BadRequest, "The number is not active."));
    }
    let new_id = new_id("num");
    let copy = NewNumber {
        id: &new_id,
        e164: &n.e164,
        provider: &n.provider,
        country: &n.country,
        national: &n.national,
        locality: &n.locality,
        monthly_price: n.monthly_price,
        currency: &n.currency,
    };
    phone_numbers::insert(&mut pair.to(), &copy, now).await?;
    let moved = json!({ "e164": n.e164, "from_workspace_id": from.workspace_id(), "to_workspace_id": to.workspace_id(),
                        "from_number_id": id, "to_number_id": new_id });
    Auditor::for_scope(from, now)
        .record_product(
            &mut pair.from(),
            "phone_number.transferred_out",
            ("phone_number", id),
            None,
            Some(moved.clone()),
        )
        .await?;
    Auditor::for_scope(to, now)
        .record_product(&mut pair.to(), "phone_number.transferred_in", ("phone_number", &new_id), None, Some(moved))
        .await?;
    pair.commit().await?;
    let mut tx = state.db.begin().await?;
    carrier::reassign(&mut tx, &n.provider, &n.e164, from.workspace_id(), to.workspace_id(), &new_id).await?;
    tx.commit().await?;
    get(to, &new_id).await
}
