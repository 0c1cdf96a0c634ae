//! Sign-up, sign-in and sign-out (accounts, users, sessions).

use callplane_domain::clock::HOUR_MS;
use callplane_domain::email::parse_email;
use callplane_domain::id::{new_id, prefix};
use callplane_domain::workspace::WorkspaceStatus;
use callplane_domain::Principal;
use callplane_store::accounts::{self, Account};
use callplane_store::users::{self, User};
use callplane_store::workspaces::{self, Workspace};
use callplane_store::{sessions, Tx};

use crate::auth::{limiter, password, tokens};
use crate::error::{ApiError, ApiResult, Code};
use crate::services;
use crate::state::AppState;

pub struct SignupInput<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub name: &'a str,
    pub account_name: &'a str,
    pub workspace_name: Option<&'a str>,
    pub region: Option<&'a str>,
}

pub struct SignedUp {
    pub user: User,
    pub account: Account,
    pub workspace: Workspace,
    pub token: String,
}

/// A person's display name or an account name: trimmed, 1–100 characters.
fn parse_label(field: &str, raw: &str) -> ApiResult<String> {
    let v = raw.trim();
    if v.is_empty() {
        return Err(ApiError::invalid(field, "must not be empty"));
    }
    if v.chars().count() > 100 {
        return Err(ApiError::invalid(field, "must be at most 100 characters"));
    }
    if v.chars().any(char::is_control) {
        return Err(ApiError::invalid(field, "must not contain control characters"));
    }
    Ok(v.to_owned())
}

/// Creates a user, their account (plan `starter`) and its first workspace, with the user
/// as account admin and workspace Owner, and signs them in.
pub async fn signup(state: &AppState, input: SignupInput<'_>) -> ApiResult<SignedUp> {
    if !state.config.auth.allow_signup {
        return Err(ApiError::new(Code::SignupDisabled, "Ask an administrator for an invitation."));
    }
    let email = parse_email(input.email)?;
    password::validate(input.password).map_err(|m| ApiError::invalid("password", m))?;
    let name = parse_label("name", input.name)?;
    let account_name = parse_label("account_name", input.account_name)?;
    let ws_name = services::workspaces::parse_name(input.workspace_name.unwrap_or(&account_name))?;
    let region = services::workspaces::parse_region(state, input.region)?;
    let hash = password::hash(input.password.to_owned()).await?;

    let now = state.now();
    let mut tx = state.db.begin().await?;
    let user_id = new_id(prefix::USER);
    let user = users::create(&mut tx, &user_id, &email, &name, &hash, now).await.map_err(|e| {
        if e.is_unique_on("email") {
            ApiError::new(Code::EmailTaken, "An account with this email already exists. Sign in instead.")
                .with("errors", serde_json::json!([{ "field": "email", "message": "is already registered" }]))
        } else {
            e.into()
        }
    })?;
    let account = accounts::create(&mut tx, &new_id(prefix::ACCOUNT), &account_name, "starter", now).await?;
    accounts::add_user(&mut tx, &account.id, &user.id, "admin", now).await?;
    let session_id = new_id(prefix::SESSION);
    let actor = Principal::User { user_id: user.id.clone(), session_id: session_id.clone(), email: user.email.clone() };
    let workspace =
        services::workspaces::insert(&mut tx, state, &actor, &account, &ws_name, &region, WorkspaceStatus::Active)
            .await?;
    let token = start_session(&mut tx, state, &session_id, &user.id, Some(&workspace.id)).await?;
    tx.commit().await?;
    // The first workspace becomes visible once anchored in its region database (a
    // crash before that is finished by the lifecycle worker).
    services::lifecycle::provision(state, &workspace.id, &account.id, &workspace.region).await?;
    Ok(SignedUp { user, account, workspace, token })
}

async fn start_session(
    tx: &mut Tx,
    state: &AppState,
    session_id: &str,
    user_id: &str,
    active_workspace_id: Option<&str>,
) -> ApiResult<String> {
    let token = tokens::random_token();
    let now = state.now();
    sessions::create(
        tx,
        sessions::NewSession {
            id: session_id,
            token_hash: &tokens::hash_token(&token),
            user_id,
            active_workspace_id,
            now,
            expires_at: now + state.config.auth.session_ttl_hours * HOUR_MS,
        },
    )
    .await?;
    // Signing in counts as activity (the members list's "last active").
    sessions::touch(tx, session_id, user_id, now).await?;
    Ok(token)
}

/// Checks the password and opens a session whose active workspace is the user's first
/// active workspace. Unknown emails cost the same as wrong passwords.
pub async fn login(state: &AppState, email: &str, pass: &str) -> ApiResult<(User, String)> {
    let invalid = || ApiError::new(Code::InvalidCredentials, "Email or password is incorrect.");
    if pass.len() > password::MAX_LEN * 4 || parse_email(email).is_err() {
        return Err(invalid());
    }
    let key = users::email_key(email);
    if let Some(wait) = limiter::blocked(state, &key, state.now()).await? {
        return Err(ApiError::new(
            Code::RateLimited,
            format!("Too many failed sign-in attempts for this email. Try again in {} minutes.", (wait + 59) / 60),
        )
        .with("retry_after", wait));
    }
    let mut conn = state.db.conn().await?;
    let creds = users::credentials_by_email(&mut conn, email).await?;
    let stored = creds.as_ref().map_or(password::DUMMY_HASH.to_owned(), |c| c.password_hash.clone());
    let ok = password::verify(pass.to_owned(), stored).await?;
    let Some(creds) = creds.filter(|_| ok) else {
        limiter::failed(state, &key, state.now()).await?;
        return Err(invalid());
    };
    limiter::succeeded(state, &key).await?;
    let user = users::get(&mut conn, &creds.id).await?.ok_or_else(invalid)?;
    let first_active =
        workspaces::accessible(&mut conn, &user.id, Some("active")).await?.into_iter().next().map(|w| w.id);
    drop(conn);
    let mut tx = state.db.begin().await?;
    let token = start_session(&mut tx, state, &new_id(prefix::SESSION), &user.id, first_active.as_deref()).await?;
    tx.commit().await?;
    Ok((user, token))
}

pub async fn logout(state: &AppState, principal: &Principal) -> ApiResult<()> {
    if let Some(session_id) = principal.session_id() {
        let mut tx = state.db.begin().await?;
        sessions::delete(&mut tx, session_id).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Creates a user and account from the shell (`callplane admin create-user`).
pub async fn create_user_from_cli(
    state: &AppState,
    email: &str,
    pass: &str,
    name: &str,
    account_name: &str,
    plan: &str,
) -> ApiResult<SignedUp> {
    if callplane_domain::workspace::Plan::parse(plan).is_none() {
        return Err(ApiError::invalid("plan", "must be starter, professional or enterprise"));
    }
    let mut signed =
        signup(state, SignupInput { email, password: pass, name, account_name, workspace_name: None, region: None })
            .await?;
    if plan != "starter" {
        let mut tx = state.db.begin().await?;
        accounts::set_plan(&mut tx, &signed.account.id, plan).await?;
        tx.commit().await?;
        signed.account.plan = plan.to_owned();
    }
    Ok(signed)
}

/// Signs up a person who was invited (T1: the invitee needs no account yet): creates
/// only their user, signs them in and accepts the invitation, which puts them in the
/// workspace with the invited role. Returns the session token.
pub async fn signup_invited(state: &AppState, token: &str, email: &str, pass: &str, name: &str) -> ApiResult<String> {
    use crate::services::team;
    let found = team::lookup(state, token).await?;
    if let Some(e) = team::refusal(&found) {
        return Err(e);
    }
    let team::Lookup::Pending { invitation, .. } = &found else {
        return Err(ApiError::not_found());
    };
    let email = parse_email(email)?;
    if users::email_key(&email) != users::email_key(&invitation.email) {
        return Err(ApiError::invalid("email", format!("must be the invited address, {}", invitation.email)));
    }
    password::validate(pass).map_err(|m| ApiError::invalid("password", m))?;
    let name = parse_label("name", name)?;
    let hash = password::hash(pass.to_owned()).await?;
    let now = state.now();
    let mut tx = state.db.begin().await?;
    let user = users::create(&mut tx, &new_id(prefix::USER), &email, &name, &hash, now).await.map_err(|e| {
        if e.is_unique_on("email") {
            ApiError::new(Code::EmailTaken, "You already have an account: sign in to accept the invitation.")
        } else {
            e.into()
        }
    })?;
    let session_id = new_id(prefix::SESSION);
    let session_token = start_session(&mut tx, state, &session_id, &user.id, None).await?;
    tx.commit().await?;
    let principal = Principal::User { user_id: user.id, session_id, email: user.email };
    team::accept(state, &principal, token).await?;
    Ok(session_token)
}
