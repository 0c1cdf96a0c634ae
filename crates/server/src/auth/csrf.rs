//! CSRF protection for dashboard forms: a double-submit token.
//!
//! Every dashboard response carries a random `cp_csrf` cookie; every form repeats it in
//! a hidden `csrf` field. A cross-site page can make the browser send the cookie but
//! cannot read it, so it cannot fill in the field. Together with `SameSite=Lax` session
//! cookies this covers signed-in and anonymous forms (sign-in, sign-up) alike.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{cookies, tokens};
use crate::error::{ApiError, Code};
use crate::state::AppState;

/// The request's CSRF token, for rendering into forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

const FORM_LIMIT: usize = 64 * 1024;

/// Middleware for dashboard routes: checks unsafe methods, issues the cookie when missing.
pub async fn protect(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let existing = cookies::get(req.headers(), cookies::CSRF).map(str::to_owned);
    let (mut parts, body) = req.into_parts();
    let multipart = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let req = if parts.method == Method::GET || parts.method == Method::HEAD {
        Request::from_parts(parts, body)
    } else if multipart {
        // File uploads stream on to their handler unread: their form repeats the token
        // in its action URL (`?csrf=`) instead of a field.
        let sent = parts.uri.query().and_then(|q| form_field(q.as_bytes(), "csrf"));
        let ok = matches!((&existing, &sent), (Some(c), Some(s)) if tokens::secure_eq(c, s));
        if !ok {
            return ApiError::new(Code::CsrfFailed, "The form has expired. Reload the page and try again.")
                .into_response();
        }
        Request::from_parts(parts, body)
    } else {
        let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
            return ApiError::new(Code::PayloadTooLarge, "The form is too large.").into_response();
        };
        let sent = form_field(&bytes, "csrf");
        let ok = matches!((&existing, &sent), (Some(c), Some(s)) if tokens::secure_eq(c, s));
        if !ok {
            return ApiError::new(Code::CsrfFailed, "The form has expired. Reload the page and try again.")
                .into_response();
        }
        parts.headers.remove(header::CONTENT_LENGTH);
        Request::from_parts(parts, Body::from(bytes))
    };
    let token = existing.clone().unwrap_or_else(tokens::random_token);
    let mut req = req;
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut res = next.run(req).await;
    if existing.is_none() {
        let cookie = cookies::set(cookies::CSRF, &token, 60 * 60 * 24 * 365, state.config.auth.secure_cookies);
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}

/// The first value of `name` in an `application/x-www-form-urlencoded` body.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_urlencoded::parse(body).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}
