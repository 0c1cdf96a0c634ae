//! Team: invitations and members (SPEC T1–T3, A1).

use callplane_domain::clock::DAY_MS;
use callplane_domain::email::parse_email;
use callplane_domain::id::new_id;
use callplane_domain::role::BuiltinRole;
use callplane_domain::Principal;
use callplane_store::access::{role_of_account, Scope};
use callplane_store::invitations::{self, Invitation, NewInvitation};
use callplane_store::members::{self, Member};
use callplane_store::{accounts, api_keys, sessions, users, workspaces};
use serde_json::json;

use crate::auth::tokens;
use crate::error::{ApiError, ApiResult, Code};
use crate::services::audit::Auditor;
use crate::services::{email, roles};
use crate::state::AppState;

pub const INVITATION_TTL_MS: i64 = 7 * DAY_MS;

/// A created or re-sent invitation, with its link when the email stays in the local
/// outbox (T4: the dashboard shows it to copy). With SMTP the link is only in the email.
pub struct Sent {
    pub invitation: Invitation,
    pub link: Option<String>,
}

fn invite_link(state: &AppState, token: &str) -> String {
    format!("{}/invite?token={token}", state.config.public_url())
}

async fn queue_invitation_email(
    tx: &mut callplane_store::Tx,
    state: &AppState,
    scope: &Scope,
    to: &str,
    role_label: &str,
    link: &str,
) -> ApiResult<()> {
    let inviter = scope.principal().label();
    let body = format!(
        "{inviter} invited you to join the workspace “{ws}” on callplane as {role_label}.\n\n\
         Accept the invitation:\n{link}\n\n\
         The link works once and expires in 7 days. If you did not expect this, ignore this email.\n",
        ws = scope.workspace_name(),
    );
    let subject = format!("You are invited to {} on callplane", scope.workspace_name());
    email::queue(tx, state, to, &subject, &body).await
}

/// The role's name as people read it, looked up in the caller's transaction.
async fn role_label(ex: &mut impl callplane_store::Executor, account_id: &str, role: &str) -> ApiResult<String> {
    let custom = callplane_store::roles::get(ex, account_id, role).await?;
    Ok(roles::label(role, custom.as_ref().map(|r| r.name.as_str())))
}

/// Invites `email` into the workspace with `role`, not above the inviter's own (T1).
/// A pending invitation for the same address is replaced.
pub async fn invite(state: &AppState, scope: &Scope, email_addr: &str, role: &str) -> ApiResult<Sent> {
    let email_addr = parse_email(email_addr)?;
    let key = users::email_key(&email_addr);
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let perms = roles::assignable(&mut tx, scope.account_id(), role, false).await?;
    roles::not_above(scope.permissions(), perms)?;
    if let Some(user) = users::get_by_email(&mut tx, &email_addr).await? {
        if members::get(&mut tx, scope, &user.id).await?.is_some() {
            return Err(ApiError::new(
                Code::AlreadyMember,
                format!("{email_addr} is already a member of this workspace."),
            ));
        }
    }
    invitations::revoke_pending_for_email(&mut tx, scope, &key, now).await?;
    let token = tokens::random_token();
    let invitation = invitations::create(
        &mut tx,
        scope,
        NewInvitation {
            id: &new_id("inv"),
            email: &email_addr,
            email_key: &key,
            role,
            token_hash: &tokens::hash_token(&token),
            invited_by: scope.principal().user_id(),
            now,
            expires_at: now + INVITATION_TTL_MS,
        },
    )
    .await?;
    let link = invite_link(state, &token);
    let label = role_label(&mut tx, scope.account_id(), role).await?;
    queue_invitation_email(&mut tx, state, scope, &email_addr, &label, &link).await?;
    Auditor::for_scope(scope, now)
        .record(
            &mut tx,
            "invitation.created",
            ("invitation", &invitation.id),
            None,
            Some(json!({ "email": invitation.email, "role": invitation.role })),
        )
        .await?;
    tx.commit().await?;
    state.email_wakeup.notify_one();
    Ok(Sent { invitation, link: (!email::smtp_configured(state)).then_some(link) })
}

/// A new token and a new 7-day expiry for a pending (or expired) invitation.
pub async fn resend(state: &AppState, scope: &Scope, id: &str) -> ApiResult<Sent> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let inv = invitations::get(&mut tx, scope, id).await?.ok_or_else(ApiError::not_found)?;
    match inv.status(now) {
        "accepted" => return Err(ApiError::new(Code::InvitationUsed, "This invitation was already accepted.")),
        "revoked" => {
            return Err(ApiError::new(Code::InvitationRevoked, "This invitation was revoked; send a new one."))
        }
        _ => {}
    }
    let perms = role_of_account(&mut tx, scope.account_id(), &inv.role).await?;
    roles::not_above(scope.permissions(), perms)?;
    let token = tokens::random_token();
    invitations::renew(&mut tx, scope, id, &tokens::hash_token(&token), now, now + INVITATION_TTL_MS).await?;
    let link = invite_link(state, &token);
    let label = role_label(&mut tx, scope.account_id(), &inv.role).await?;
    queue_invitation_email(&mut tx, state, scope, &inv.email, &label, &link).await?;
    Auditor::for_scope(scope, now)
        .record(&mut tx, "invitation.resent", ("invitation", id), None, Some(json!({ "email": inv.email })))
        .await?;
    let invitation = invitations::get(&mut tx, scope, id).await?.ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    state.email_wakeup.notify_one();
    Ok(Sent { invitation, link: (!email::smtp_configured(state)).then_some(link) })
}

pub async fn revoke(state: &AppState, scope: &Scope, id: &str) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let inv = invitations::get(&mut tx, scope, id).await?.ok_or_else(ApiError::not_found)?;
    if inv.accepted_at.is_some() {
        return Err(ApiError::new(
            Code::InvitationUsed,
            "This invitation was already accepted; remove the member instead.",
        ));
    }
    if invitations::revoke(&mut tx, scope, id, now).await? {
        Auditor::for_scope(scope, now)
            .record(&mut tx, "invitation.revoked", ("invitation", id), Some(json!({ "email": inv.email })), None)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What a token opens, for the `/invite` page and the accept endpoint (T2).
pub enum Lookup {
    /// Unknown token (never issued, or replaced by a resend).
    Unknown,
    Expired(Invitation),
    Revoked(Invitation),
    Used(Invitation),
    Pending {
        invitation: Invitation,
        workspace_name: String,
    },
}

pub async fn lookup(state: &AppState, token: &str) -> ApiResult<Lookup> {
    let mut conn = state.db.conn().await?;
    let Some(inv) = invitations::by_token_hash(&mut conn, &tokens::hash_token(token)).await? else {
        return Ok(Lookup::Unknown);
    };
    Ok(match inv.status(state.now()) {
        "accepted" => Lookup::Used(inv),
        "revoked" => Lookup::Revoked(inv),
        "expired" => Lookup::Expired(inv),
        _ => {
            let workspace_name = workspaces::name_of(&mut conn, &inv.workspace_id).await?.unwrap_or_default();
            Lookup::Pending { invitation: inv, workspace_name }
        }
    })
}

/// The refusal for a token that cannot be used.
pub fn refusal(lookup: &Lookup) -> Option<ApiError> {
    let ask = "Ask the person who invited you to send a new invitation.";
    match lookup {
        Lookup::Unknown => Some(ApiError::new(Code::NotFound, format!("This invitation link is not valid. {ask}"))),
        Lookup::Expired(_) => {
            Some(ApiError::new(Code::InvitationExpired, format!("This invitation has expired. {ask}")))
        }
        Lookup::Revoked(_) => {
            Some(ApiError::new(Code::InvitationRevoked, format!("This invitation was withdrawn. {ask}")))
        }
        Lookup::Used(_) => {
            Some(ApiError::new(Code::InvitationUsed, format!("This invitation has already been used. {ask}")))
        }
        Lookup::Pending { .. } => None,
    }
}

pub struct Joined {
    pub workspace_id: String,
    pub workspace_name: String,
    pub role: String,
}

/// Accepts an invitation as the signed-in `user` (T2): their email must be the invited
/// one; they become a member with the invited role and, in a session, are switched to
/// the workspace. The token is consumed in the same transaction (single use).
pub async fn accept(state: &AppState, user: &Principal, token: &str) -> ApiResult<Joined> {
    let found = lookup(state, token).await?;
    if let Some(e) = refusal(&found) {
        return Err(e);
    }
    let Lookup::Pending { invitation: inv, workspace_name } = found else {
        return Err(ApiError::not_found());
    };
    let Principal::User { user_id, email, .. } = user else {
        return Err(crate::auth::principal::session_required());
    };
    if users::email_key(email) != users::email_key(&inv.email) {
        return Err(ApiError::new(
            Code::InvitationEmailMismatch,
            format!(
                "This invitation is for {}, but you are signed in as {email}. Sign in with the invited address.",
                inv.email
            ),
        )
        .with("invited_email", inv.email.clone()));
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    if members::is_member(&mut tx, &inv.workspace_id, user_id).await? {
        return Err(ApiError::new(Code::AlreadyMember, format!("You are already a member of “{workspace_name}”.")));
    }
    if !invitations::consume(&mut tx, &inv.workspace_id, &inv.id, user_id, now).await? {
        return Err(ApiError::new(Code::InvitationUsed, "This invitation has already been used."));
    }
    members::add_to_workspace(&mut tx, &inv.workspace_id, user_id, &inv.role, now).await?;
    let account_id = workspaces::account_of(&mut tx, &inv.workspace_id).await?.ok_or_else(ApiError::not_found)?;
    if accounts::role_of(&mut tx, &account_id, user_id).await?.is_none() {
        accounts::add_user(&mut tx, &account_id, user_id, "member", now).await?;
    }
    if let Some(session_id) = user.session_id() {
        sessions::set_active_workspace(&mut tx, session_id, Some(&inv.workspace_id)).await?;
    }
    let auditor = Auditor { account_id: &account_id, workspace_id: Some(&inv.workspace_id), actor: user, now };
    auditor
        .record(
            &mut tx,
            "member.joined",
            ("user", user_id),
            None,
            Some(json!({ "role": inv.role, "invitation_id": inv.id })),
        )
        .await?;
    tx.commit().await?;
    Ok(Joined { workspace_id: inv.workspace_id, workspace_name, role: inv.role })
}

async fn target(tx: &mut callplane_store::Tx, scope: &Scope, user_id: &str) -> ApiResult<Member> {
    members::get(tx, scope, user_id).await?.ok_or_else(ApiError::not_found)
}

fn owner_required(action: &str) -> ApiError {
    ApiError::new(
        Code::OwnerRequired,
        format!("The Owner cannot be {action}. Transfer ownership to another member first."),
    )
}

/// Changes a member's role (T3). The Owner's role changes only by transfer; nobody
/// grants, or acts on someone with, permissions they do not have themselves.
pub async fn change_role(state: &AppState, scope: &Scope, user_id: &str, role: &str) -> ApiResult<Member> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let member = target(&mut tx, scope, user_id).await?;
    if member.role == BuiltinRole::Owner.as_str() {
        return Err(owner_required("demoted"));
    }
    let new_perms = roles::assignable(&mut tx, scope.account_id(), role, false).await?;
    roles::not_above(scope.permissions(), new_perms)?;
    let current = role_of_account(&mut tx, scope.account_id(), &member.role).await?;
    roles::not_above(scope.permissions(), current)?;
    members::set_role(&mut tx, scope, user_id, role).await?;
    if member.role != role {
        Auditor::for_scope(scope, now)
            .record(
                &mut tx,
                "member.role_changed",
                ("user", user_id),
                Some(json!({ "role": member.role })),
                Some(json!({ "role": role })),
            )
            .await?;
    }
    let updated = target(&mut tx, scope, user_id).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Removes a member (T3): access ends with this transaction, and so do the API keys
/// they created in the workspace.
pub async fn remove(state: &AppState, scope: &Scope, user_id: &str) -> ApiResult<u64> {
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let member = target(&mut tx, scope, user_id).await?;
    if member.role == BuiltinRole::Owner.as_str() {
        return Err(owner_required("removed"));
    }
    let leaving_self = scope.principal().user_id() == user_id;
    if !leaving_self {
        let current = role_of_account(&mut tx, scope.account_id(), &member.role).await?;
        roles::not_above(scope.permissions(), current)?;
    }
    members::remove(&mut tx, scope, user_id).await?;
    let revoked = api_keys::revoke_for_member(&mut tx, scope, user_id, now).await?;
    Auditor::for_scope(scope, now)
        .record(
            &mut tx,
            "member.removed",
            ("user", user_id),
            Some(json!({ "role": member.role, "email": member.email })),
            Some(json!({ "api_keys_revoked": revoked })),
        )
        .await?;
    tx.commit().await?;
    Ok(revoked)
}

/// Hands the Owner role to another member; the previous Owner becomes an Admin (A1).
pub async fn transfer_ownership(state: &AppState, scope: &Scope, to_user: &str) -> ApiResult<()> {
    if scope.role() != Some(BuiltinRole::Owner.as_str()) || scope.principal().api_key().is_some() {
        return Err(ApiError::new(Code::PermissionDenied, "Only the workspace's Owner can transfer ownership."));
    }
    let from_user = scope.principal().user_id().to_owned();
    if from_user == to_user {
        return Err(ApiError::invalid("user_id", "is already the Owner"));
    }
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let member = target(&mut tx, scope, to_user).await?;
    members::set_role(&mut tx, scope, to_user, BuiltinRole::Owner.as_str()).await?;
    members::set_role(&mut tx, scope, &from_user, BuiltinRole::Admin.as_str()).await?;
    Auditor::for_scope(scope, now)
        .record(
            &mut tx,
            "ownership.transferred",
            ("user", to_user),
            Some(json!({ "owner": from_user, "new_owner_role": member.role })),
            Some(json!({ "owner": to_user, "previous_owner_role": "admin" })),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
