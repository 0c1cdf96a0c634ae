//! Authentication: from a bearer token, an API key or the session cookie to a [`Principal`].

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use callplane_domain::clock::MINUTE_MS;
use callplane_domain::principal::ApiKeyPrincipal;
use callplane_domain::{api_key, Principal};
use callplane_store::api_keys;
use callplane_store::sessions::{self, Session};

use crate::auth::cache::Credential;
use crate::auth::{cookies, tokens};
use crate::error::{ApiError, ApiResult, Code};
use crate::state::AppState;

/// An authenticated request: who, and the dashboard/API session when it is one.
#[derive(Debug, Clone)]
pub struct Auth {
    pub principal: Principal,
    pub session: Option<Session>,
}

/// The authenticated caller (user or API key); answers 401 when there is none.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let auth = authenticate(parts, state).await?.ok_or_else(ApiError::unauthenticated)?;
        Ok(Caller(auth.principal))
    }
}

/// A signed-in user with their session (for the active workspace). API keys have no
/// session and are refused with `session_required`.
pub struct SignedIn(pub Principal, pub Session);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let auth = authenticate(parts, state).await?.ok_or_else(ApiError::unauthenticated)?;
        match auth.session {
            Some(s) => Ok(SignedIn(auth.principal, s)),
            None => Err(session_required()),
        }
    }
}

/// The signed-in user, if any (pages that work for both, like the invitation page).
pub struct MaybeSignedIn(pub Option<(Principal, Session)>);

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let auth = authenticate(parts, state).await.ok().flatten();
        Ok(MaybeSignedIn(auth.and_then(|a| a.session.map(|s| (a.principal, s)))))
    }
}

pub fn session_required() -> ApiError {
    ApiError::new(Code::SessionRequired, "This needs a signed-in user; API keys cannot use it.")
}

/// The caller, or `None` when the request carries no credentials (or only a stale
/// cookie). A bearer token or key that does not authenticate is a 401: an API client
/// should hear that its credential is wrong, not be treated as anonymous.
pub async fn authenticate(parts: &mut Parts, state: &AppState) -> ApiResult<Option<Auth>> {
    if let Some(found) = parts.extensions.get::<Auth>() {
        return Ok(Some(found.clone()));
    }
    let bearer = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let auth = match bearer {
        Some(token) if token.starts_with("cp_") => Some(authenticate_key(state, token).await?),
        Some(token) => Some(
            authenticate_session(state, state.now(), token)
                .await?
                .ok_or_else(|| ApiError::new(Code::Unauthenticated, "The bearer token is invalid or expired."))?,
        ),
        None => match cookies::get(&parts.headers, cookies::SESSION) {
            Some(token) => authenticate_session(state, state.now(), token).await?,
            None => None,
        },
    };
    if let Some(a) = &auth {
        parts.extensions.insert(a.clone());
    }
    Ok(auth)
}

async fn authenticate_session(state: &AppState, now: i64, token: &str) -> ApiResult<Option<Auth>> {
    let hash = tokens::hash_token(token);
    let cached = state.access_cache.credential(&hash);
    let (auth, touched_at) = match cached {
        Some(c) => (c.auth, c.touched_at.unwrap_or(0)),
        None => {
            let epoch = state.access_cache.epoch();
            let mut conn = state.db.conn().await?;
            let session = sessions::find_live(&mut conn, &hash, now).await?;
            drop(conn);
            let Some(session) = session else { return Ok(None) };
            let principal = Principal::User {
                user_id: session.user_id.clone(),
                session_id: session.id.clone(),
                email: session.email.clone(),
            };
            let touched_at = session.last_seen_at;
            let auth = Auth { principal, session: Some(session) };
            let credential = Credential { auth: auth.clone(), touched_at: Some(touched_at), inactive_workspace: None };
            state.access_cache.put_credential(epoch, hash.clone(), credential);
            (auth, touched_at)
        }
    };
    let session = auth.session.as_ref().expect("session credentials carry their session");
    if session.expires_at <= now {
        return Ok(None);
    }
    // Record activity at most once a minute, so reads do not all become writes.
    if now - touched_at > MINUTE_MS {
        let epoch = state.access_cache.epoch();
        let mut tx = state.db.begin().await?;
        sessions::touch(&mut tx, &session.id, &session.user_id, now).await?;
        tx.commit().await?;
        let credential = Credential { auth: auth.clone(), touched_at: Some(now), inactive_workspace: None };
        state.access_cache.put_credential(epoch, hash, credential);
    }
    Ok(Some(auth))
}

/// API keys (K1–K3): well-formed (checksum), live (not revoked; its workspace not
/// deleted), and of an active workspace.
async fn authenticate_key(state: &AppState, key: &str) -> ApiResult<Auth> {
    let invalid = || ApiError::new(Code::Unauthenticated, "The API key is invalid or has been revoked.");
    if !api_key::is_well_formed(key) {
        return Err(invalid());
    }
    let hash = tokens::hash_token(key);
    let credential = match state.access_cache.credential(&hash) {
        Some(c) => c,
        None => {
            let epoch = state.access_cache.epoch();
            let mut conn = state.db.conn().await?;
            let found = api_keys::find_live(&mut conn, &hash).await?;
            drop(conn);
            let k = found.ok_or_else(invalid)?;
            let inactive_workspace = (k.workspace_status.as_deref() == Some("inactive"))
                .then(|| k.workspace_name.clone().unwrap_or_default());
            let principal = Principal::ApiKey(ApiKeyPrincipal {
                key_id: k.id,
                name: k.name,
                display_prefix: k.display_prefix,
                account_id: k.account_id,
                workspace_id: k.workspace_id,
                role: k.role,
                created_by: k.created_by,
            });
            let credential =
                Credential { auth: Auth { principal, session: None }, touched_at: k.last_used_at, inactive_workspace };
            state.access_cache.put_credential(epoch, hash.clone(), credential.clone());
            credential
        }
    };
    if let Some(name) = &credential.inactive_workspace {
        return Err(ApiError::new(
            Code::WorkspaceInactive,
            format!("The workspace “{name}” is inactive; its API keys are refused until it is reactivated."),
        ));
    }
    let now = state.now();
    if credential.touched_at.is_none_or(|t| now - t > MINUTE_MS) {
        let epoch = state.access_cache.epoch();
        let mut tx = state.db.begin().await?;
        api_keys::touch(&mut tx, credential.auth.principal.actor_id(), now).await?;
        tx.commit().await?;
        state.access_cache.put_credential(epoch, hash, Credential { touched_at: Some(now), ..credential.clone() });
    }
    Ok(credential.auth)
}
