//! Signing in, signing up (or joining through an invitation) and signing out.

use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use serde::Deserialize;
use serde_json::json;

use crate::auth::csrf::CsrfToken;
use crate::auth::principal::authenticate;
use crate::auth::{cookies, SignedIn};
use crate::error::ApiResult;
use crate::services::identity::{self, SignupInput};
use crate::state::AppState;
use crate::web::common::{region_options, WebForm};

fn with_session_cookie(state: &AppState, token: &str, to: &str) -> Response {
    let max_age = state.config.auth.session_ttl_hours * 3600;
    let cookie = cookies::set(cookies::SESSION, token, max_age, state.config.auth.secure_cookies);
    let mut res = Redirect::to(to).into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie);
    res
}

pub async fn home(State(state): State<AppState>, req: Request) -> ApiResult<Redirect> {
    let (mut parts, _) = req.into_parts();
    let signed_in = authenticate(&mut parts, &state).await.ok().flatten().is_some();
    Ok(Redirect::to(if signed_in { "/dashboard" } else { "/login" }))
}

/// `?invite=TOKEN&email=…` on sign-in and sign-up pages: come back to the invitation after.
#[derive(Deserialize, Default)]
pub struct InviteQuery {
    invite: Option<String>,
    email: Option<String>,
}

/// Where to go after signing in: back to the invitation, or the dashboard.
fn after_sign_in(invite: Option<&str>) -> String {
    match invite.filter(|t| !t.is_empty()) {
        Some(t) => format!("/invite?token={}", form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>()),
        None => "/dashboard".to_owned(),
    }
}

pub async fn login_form(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Query(q): Query<InviteQuery>,
) -> Response {
    state.templates.render(
        StatusCode::OK,
        "login.html",
        json!({ "title": "Sign in", "csrf": csrf.0, "email": q.email, "invite": q.invite }),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    invite: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    WebForm(f): WebForm<LoginForm>,
) -> Response {
    match identity::login(&state, &f.email, &f.password).await {
        Ok((_, token)) => with_session_cookie(&state, &token, &after_sign_in(f.invite.as_deref())),
        Err(e) => state.templates.render(
            e.status(),
            "login.html",
            json!({ "title": "Sign in", "csrf": csrf.0, "email": f.email, "invite": f.invite, "error": e.detail }),
        ),
    }
}

#[derive(Deserialize, Default, serde::Serialize)]
#[serde(default)]
pub struct SignupForm {
    name: String,
    email: String,
    password: String,
    account_name: String,
    region: String,
    /// An invitation token: the person joins that workspace instead of starting an account.
    invite: String,
}

fn signup_page(state: &AppState, status: StatusCode, csrf: &str, form: &SignupForm, error: Option<String>) -> Response {
    state.templates.render(
        status,
        "signup.html",
        json!({ "title": if form.invite.is_empty() { "Create your account" } else { "Join your team" },
                "csrf": csrf, "form": form, "regions": region_options(state), "error": error }),
    )
}

pub async fn signup_form(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Query(q): Query<InviteQuery>,
) -> Response {
    let form = SignupForm {
        region: state.config.default_region.clone(),
        email: q.email.unwrap_or_default(),
        invite: q.invite.unwrap_or_default(),
        ..Default::default()
    };
    signup_page(&state, StatusCode::OK, &csrf.0, &form, None)
}

pub async fn signup(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    WebForm(f): WebForm<SignupForm>,
) -> Response {
    let result = if f.invite.is_empty() {
        let input = SignupInput {
            email: &f.email,
            password: &f.password,
            name: &f.name,
            account_name: &f.account_name,
            workspace_name: None,
            region: Some(&f.region).filter(|r| !r.is_empty()).map(String::as_str),
        };
        identity::signup(&state, input).await.map(|s| s.token)
    } else {
        identity::signup_invited(&state, &f.invite, &f.email, &f.password, &f.name).await
    };
    match result {
        Ok(token) => with_session_cookie(&state, &token, "/dashboard"),
        Err(e) => {
            signup_page(&state, e.status(), &csrf.0, &SignupForm { password: String::new(), ..f }, Some(e.detail))
        }
    }
}

#[derive(Deserialize, Default)]
pub struct LogoutForm {
    /// A local path to go to after signing out (the invitation page's "switch accounts").
    next: Option<String>,
}

pub async fn logout(
    State(state): State<AppState>,
    SignedIn(p, _): SignedIn,
    WebForm(f): WebForm<LogoutForm>,
) -> ApiResult<Response> {
    identity::logout(&state, &p).await?;
    let to = f.next.filter(|n| n.starts_with('/') && !n.starts_with("//")).unwrap_or_else(|| "/login".to_owned());
    let mut res = Redirect::to(&to).into_response();
    res.headers_mut().append(header::SET_COOKIE, cookies::clear(cookies::SESSION));
    Ok(res)
}
