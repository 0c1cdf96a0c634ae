//! Account administration (SPEC A3): account admins create users, grant and withdraw
//! workspace access without visiting each workspace, and review who reaches what.

use callplane_domain::clock::DAY_MS;
use callplane_domain::email::parse_email;
use callplane_domain::id::{new_id, prefix};
use callplane_domain::role::BuiltinRole;
use callplane_domain::Principal;
use callplane_store::accounts::{self, Account};
use callplane_store::members::{self, AccessRow};
use callplane_store::{api_keys, users, workspaces, Tx};
use serde_json::json;

use crate::auth::{password, tokens};
use crate::error::{ApiError, ApiResult, Code};
use crate::services::audit::Auditor;
use crate::services::{email, roles};
use crate::state::AppState;

const PASSWORD_LINK_TTL_MS: i64 = 7 * DAY_MS;

pub struct CreatedUser {
    pub user: users::User,
    /// The set-password link, when email stays in the local outbox.
    pub set_password_link: Option<String>,
}

fn auditor<'a>(account: &'a Account, actor: &'a Principal, workspace_id: Option<&'a str>, now: i64) -> Auditor<'a> {
    Auditor { account_id: &account.id, workspace_id, actor, now }
}

fn parse_account_role(raw: Option<&str>) -> ApiResult<&'static str> {
    match raw.unwrap_or("member") {
        "member" => Ok("member"),
        "admin" => Ok("admin"),
        _ => Err(ApiError::invalid("account_role", "must be `admin` or `member`")),
    }
}

/// Creates a user in the account directly. New people get a set-password link by email
/// (or in the outbox); existing users of the platform are simply added to the account.
pub async fn create_user(
    state: &AppState,
    account: &Account,
    actor: &Principal,
    email_addr: &str,
    name: &str,
    account_role: Option<&str>,
) -> ApiResult<CreatedUser> {
    let email_addr = parse_email(email_addr)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid("name", "must be 1-100 characters"));
    }
    let account_role = parse_account_role(account_role)?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let (user, link) = match users::get_by_email(&mut tx, &email_addr).await? {
        Some(existing) => {
            if accounts::role_of(&mut tx, &account.id, &existing.id).await?.is_some() {
                return Err(ApiError::new(
                    Code::EmailTaken,
                    format!("{email_addr} is already a user of this account."),
                ));
            }
            (existing, None)
        }
        None => {
            let user =
                users::create(&mut tx, &new_id(prefix::USER), &email_addr, name, users::NO_PASSWORD, now).await?;
            let link = password_link(&mut tx, state, &user, account).await?;
            (user, Some(link))
        }
    };
    accounts::add_user(&mut tx, &account.id, &user.id, account_role, now).await?;
    auditor(account, actor, None, now)
        .record(
            &mut tx,
            "account_user.created",
            ("user", &user.id),
            None,
            Some(json!({ "email": user.email, "account_role": account_role })),
        )
        .await?;
    tx.commit().await?;
    state.email_wakeup.notify_one();
    Ok(CreatedUser { user, set_password_link: link.filter(|_| !email::smtp_configured(state)) })
}

async fn password_link(tx: &mut Tx, state: &AppState, user: &users::User, account: &Account) -> ApiResult<String> {
    let token = tokens::random_token();
    let now = state.now();
    users::create_password_token(
        tx,
        &new_id("pwt"),
        &user.id,
        &tokens::hash_token(&token),
        now,
        now + PASSWORD_LINK_TTL_MS,
    )
    .await?;
    let link = format!("{}/set-password?token={token}", state.config.public_url());
    let body = format!(
        "An administrator of {} created a callplane account for you.\n\nChoose your password:\n{link}\n\nThe link works once and expires in 7 days.\n",
        account.name
    );
    email::queue(tx, state, &user.email, "Your callplane account", &body).await?;
    Ok(link)
}

/// Sets a password through a set-password link; the link works once.
pub async fn set_password(state: &AppState, token: &str, new_password: &str) -> ApiResult<users::User> {
    password::validate(new_password).map_err(|m| ApiError::invalid("password", m))?;
    let hash = password::hash(new_password.to_owned()).await?;
    let mut tx = state.db.begin().await?;
    let user_id =
        users::consume_password_token(&mut tx, &tokens::hash_token(token), state.now()).await?.ok_or_else(|| {
            ApiError::new(Code::NotFound, "This link is not valid any more. Ask your administrator for a new one.")
        })?;
    users::set_password(&mut tx, &user_id, &hash).await?;
    let user = users::get(&mut tx, &user_id).await?.ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    Ok(user)
}

/// Gives a user of the account access to one of its workspaces with a role, or changes
/// the role they have there. The Owner's role changes only by transfer.
pub async fn grant(
    state: &AppState,
    account: &Account,
    actor: &Principal,
    user_id: &str,
    workspace_id: &str,
    role: &str,
) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    ensure_in_account(&mut tx, account, user_id, workspace_id).await?;
    roles::assignable(&mut tx, &account.id, role, false).await?;
    let current = members::role_in(&mut tx, workspace_id, user_id).await?;
    let audit = auditor(account, actor, Some(workspace_id), now);
    match current {
        Some(r) if r == BuiltinRole::Owner.as_str() => {
            return Err(ApiError::new(Code::OwnerRequired, "The Owner's role changes only by transferring ownership."))
        }
        Some(r) if r == role => {}
        Some(r) => {
            members::set_role_in(&mut tx, workspace_id, user_id, role).await?;
            audit
                .record(
                    &mut tx,
                    "member.role_changed",
                    ("user", user_id),
                    Some(json!({ "role": r })),
                    Some(json!({ "role": role })),
                )
                .await?;
        }
        None => {
            members::add_to_workspace(&mut tx, workspace_id, user_id, role, now).await?;
            audit.record(&mut tx, "member.added", ("user", user_id), None, Some(json!({ "role": role }))).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Withdraws a user's access to a workspace (and revokes their keys there).
pub async fn withdraw(
    state: &AppState,
    account: &Account,
    actor: &Principal,
    user_id: &str,
    workspace_id: &str,
) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    ensure_in_account(&mut tx, account, user_id, workspace_id).await?;
    let role = members::role_in(&mut tx, workspace_id, user_id).await?.ok_or_else(ApiError::not_found)?;
    if role == BuiltinRole::Owner.as_str() {
        return Err(ApiError::new(Code::OwnerRequired, "The Owner cannot be removed. Transfer ownership first."));
    }
    members::remove_from_workspace(&mut tx, workspace_id, user_id).await?;
    let revoked = api_keys::revoke_for_user_in(&mut tx, workspace_id, user_id, now).await?;
    auditor(account, actor, Some(workspace_id), now)
        .record(
            &mut tx,
            "member.removed",
            ("user", user_id),
            Some(json!({ "role": role })),
            Some(json!({ "api_keys_revoked": revoked })),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The user belongs to the account and the workspace to the account; otherwise 404.
async fn ensure_in_account(tx: &mut Tx, account: &Account, user_id: &str, workspace_id: &str) -> ApiResult<()> {
    let ws_account = workspaces::account_of(tx, workspace_id).await?;
    if ws_account.as_deref() != Some(account.id.as_str()) {
        return Err(ApiError::not_found());
    }
    let in_account = accounts::role_of(tx, &account.id, user_id).await?.is_some()
        || members::belongs_to_account(tx, &account.id, user_id).await?;
    if !in_account {
        return Err(ApiError::not_found());
    }
    Ok(())
}

/// Filters for the access review; all optional, case-insensitive substring matches.
#[derive(Debug, Default)]
pub struct ReviewFilter<'a> {
    pub user: Option<&'a str>,
    pub workspace: Option<&'a str>,
    pub role: Option<&'a str>,
}

impl ReviewFilter<'_> {
    pub fn matches(&self, r: &AccessRow) -> bool {
        let contains = |hay: Option<&str>, needle: Option<&str>| match needle.filter(|n| !n.is_empty()) {
            None => true,
            Some(n) => hay.is_some_and(|h| h.to_lowercase().contains(&n.to_lowercase())),
        };
        (contains(Some(&r.email), self.user) || contains(Some(&r.name), self.user))
            && contains(r.workspace_name.as_deref(), self.workspace)
            && contains(r.role.as_deref(), self.role)
    }
}

/// Who reaches what in the account: one row per user and workspace membership (users
/// with no membership appear once, with no workspace), roles shown by their labels.
pub async fn access_review(state: &AppState, account: &Account) -> ApiResult<Vec<AccessRow>> {
    let mut conn = state.db.conn().await?;
    let mut rows = members::access_review(&mut conn, &account.id).await?;
    let custom = callplane_store::roles::list(&mut conn, &account.id).await?;
    for r in &mut rows {
        if let Some(role) = &r.role {
            r.role = Some(roles::label(role, custom.iter().find(|c| &c.id == role).map(|c| c.name.as_str())));
        }
    }
    Ok(rows)
}
