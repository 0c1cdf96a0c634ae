//! API keys (SPEC K1–K3): workspace keys and enterprise organization keys.

use callplane_domain::api_key;
use callplane_domain::id::new_id;
use callplane_domain::Principal;
use callplane_store::access::Scope;
use callplane_store::accounts::Account;
use callplane_store::api_keys::{self, NewKey};
use callplane_store::Tx;
use rand::RngCore;
use serde_json::json;

use crate::auth::principal::session_required;
use crate::auth::tokens;
use crate::error::{ApiError, ApiResult, Code};
use crate::services::audit::Auditor;
use crate::services::roles;
use crate::state::AppState;

/// A new key: its id and the secret, shown this once.
pub struct Created {
    pub id: String,
    pub secret: String,
    pub display_prefix: String,
}

fn new_secret() -> String {
    loop {
        let mut random = [0u8; 64];
        rand::rngs::OsRng.fill_bytes(&mut random);
        if let Some(key) = api_key::from_random(&random) {
            return key;
        }
    }
}

fn parse_key_name(raw: &str) -> ApiResult<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid("name", "must be 1-100 characters without control characters"));
    }
    Ok(name.to_owned())
}

/// Only people create keys, so every key has a creator whose access bounds it.
fn creator(p: &Principal) -> ApiResult<&str> {
    match p {
        Principal::User { user_id, .. } => Ok(user_id),
        Principal::ApiKey(_) => Err(session_required()),
    }
}

/// Mints a key in the caller's transaction and records it (the secret never goes to the log).
async fn insert(
    tx: &mut Tx,
    auditor: &Auditor<'_>,
    workspace_id: Option<&str>,
    name: &str,
    role: &str,
    user_id: &str,
) -> ApiResult<Created> {
    let secret = new_secret();
    let id = new_id("key");
    let display_prefix = api_key::display_prefix(&secret);
    api_keys::create(
        tx,
        NewKey {
            id: &id,
            account_id: auditor.account_id,
            workspace_id,
            name,
            display_prefix: &display_prefix,
            secret_hash: &tokens::hash_token(&secret),
            role,
            created_by: user_id,
            now: auditor.now,
        },
    )
    .await?;
    let after = json!({ "name": name, "role": role, "prefix": display_prefix, "organization": workspace_id.is_none() });
    auditor.record(tx, "api_key.created", ("api_key", &id), None, Some(after)).await?;
    Ok(Created { id, secret, display_prefix })
}

/// A workspace key with `role`, not above the creator's own (K1).
pub async fn create_for_workspace(state: &AppState, scope: &Scope, name: &str, role: &str) -> ApiResult<Created> {
    let name = parse_key_name(name)?;
    let user_id = creator(scope.principal())?;
    let mut tx = state.db.begin().await?;
    let perms = roles::assignable(&mut tx, scope.account_id(), role, true).await?;
    roles::not_above(scope.permissions(), perms)?;
    let created =
        insert(&mut tx, &Auditor::for_scope(scope, state.now()), Some(scope.workspace_id()), &name, role, user_id)
            .await?;
    tx.commit().await?;
    Ok(created)
}

pub async fn revoke_in_workspace(state: &AppState, scope: &Scope, id: &str) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !api_keys::revoke_in_workspace(&mut tx, scope, id, now).await? {
        return Err(ApiError::not_found());
    }
    Auditor::for_scope(scope, now).record(&mut tx, "api_key.revoked", ("api_key", id), None, None).await?;
    tx.commit().await?;
    Ok(())
}

/// An organization key (K2): enterprise accounts only; reaches every workspace of the
/// account with `role`, naming the workspace on each request.
pub async fn create_for_account(
    state: &AppState,
    account: &Account,
    actor: &Principal,
    name: &str,
    role: &str,
) -> ApiResult<Created> {
    if account.plan != "enterprise" {
        return Err(ApiError::new(
            Code::PlanRequired,
            "Organization keys are part of the enterprise plan. Use workspace keys, or upgrade.",
        ));
    }
    let name = parse_key_name(name)?;
    let user_id = creator(actor)?;
    let mut tx = state.db.begin().await?;
    roles::assignable(&mut tx, &account.id, role, true).await?;
    let auditor = Auditor { account_id: &account.id, workspace_id: None, actor, now: state.now() };
    let created = insert(&mut tx, &auditor, None, &name, role, user_id).await?;
    tx.commit().await?;
    Ok(created)
}

pub async fn revoke_for_account(state: &AppState, account_id: &str, actor: &Principal, id: &str) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if !api_keys::revoke_org_key(&mut tx, account_id, id, now).await? {
        return Err(ApiError::not_found());
    }
    let auditor = Auditor { account_id, workspace_id: None, actor, now };
    auditor.record(&mut tx, "api_key.revoked", ("api_key", id), None, None).await?;
    tx.commit().await?;
    Ok(())
}
