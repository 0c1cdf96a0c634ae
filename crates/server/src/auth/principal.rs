//! Authentication: from a bearer token or the session cookie to a [`Principal`].

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use callplane_domain::clock::MINUTE_MS;
use callplane_domain::Principal;
use callplane_store::sessions::{self, Session};

use crate::auth::{cookies, tokens};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The authenticated caller; answers 401 when there is none.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        authenticate(parts, state)
            .await?
            .map(|(p, _)| Caller(p))
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// The signed-in caller with their session (for the active workspace).
pub struct SignedIn(pub Principal, pub Session);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let (p, s) = authenticate(parts, state)
            .await?
            .ok_or_else(ApiError::unauthenticated)?;
        Ok(SignedIn(p, s))
    }
}

/// The caller and their session, or `None` when the request carries no credentials
/// (or only a stale cookie). A bearer token that does not authenticate is a 401: an API
/// client should hear that its token is wrong, not be treated as anonymous.
pub async fn authenticate(
    parts: &mut Parts,
    state: &AppState,
) -> ApiResult<Option<(Principal, Session)>> {
    if let Some(found) = parts.extensions.get::<(Principal, Session)>() {
        return Ok(Some(found.clone()));
    }
    let bearer = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let token = match bearer {
        Some(t) => t,
        None => match cookies::get(&parts.headers, cookies::SESSION) {
            Some(t) => t,
            None => return Ok(None),
        },
    };
    let now = state.now();
    let mut conn = state.db.conn().await?;
    let session = sessions::find_live(&mut conn, &tokens::hash_token(token), now).await?;
    drop(conn);
    let Some(session) = session else {
        return if bearer.is_some() {
            Err(ApiError::new(
                crate::error::Code::Unauthenticated,
                "The bearer token is invalid or expired.",
            ))
        } else {
            Ok(None)
        };
    };
    // Record activity at most once a minute, so reads do not all become writes.
    if now - session.last_seen_at > MINUTE_MS {
        let mut tx = state.db.begin().await?;
        sessions::touch(&mut tx, &session.id, &session.user_id, now).await?;
        tx.commit().await?;
    }
    let principal = Principal::User {
        user_id: session.user_id.clone(),
        session_id: session.id.clone(),
        email: session.email.clone(),
    };
    parts
        .extensions
        .insert((principal.clone(), session.clone()));
    Ok(Some((principal, session)))
}
