//! What every dashboard page shares: the `Dash` extractor, forms, the page context with
//! its navigation, rendering, and a form's outcome shown on the page.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;
use callplane_domain::{Permission, Principal};
use callplane_store::access::{permissions_for, Scope};
use callplane_store::roles as role_store;
use callplane_store::sessions::Session;
use callplane_store::workspaces;
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

use crate::auth::csrf::CsrfToken;
use crate::auth::scope::active_scope;
use crate::auth::SignedIn;
use crate::error::{ApiError, ApiResult};
use crate::services::roles;
use crate::state::AppState;

/// What every signed-in dashboard handler starts from: state, the form token, the
/// user and their session.
pub struct Dash {
    pub state: AppState,
    pub csrf: CsrfToken,
    pub p: Principal,
    pub session: Session,
}

impl axum::extract::FromRequestParts<AppState> for Dash {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> ApiResult<Self> {
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .cloned()
            .ok_or_else(|| ApiError::internal("dashboard route without CSRF layer"))?;
        let SignedIn(p, session) = SignedIn::from_request_parts(parts, state).await?;
        Ok(Dash { state: state.clone(), csrf, p, session })
    }
}

/// `Form<T>` whose rejections are problem documents (shown as an error page).
pub struct WebForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for WebForm<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &AppState) -> ApiResult<Self> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(v)| WebForm(v))
            .map_err(|e| ApiError::new(crate::error::Code::ValidationFailed, e.body_text()))
    }
}

/// A form read as its (name, value) pairs in order, for repeated fields (a checkbox
/// per choice), which `WebForm` cannot hold.
pub struct FormPairs(pub Vec<(String, String)>);

impl FromRequest<AppState> for FormPairs {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &AppState) -> ApiResult<Self> {
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::new(crate::error::Code::ValidationFailed, e.body_text()))?;
        Ok(FormPairs(form_urlencoded::parse(&body).into_owned().collect()))
    }
}

impl FormPairs {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

/// The top navigation: the active workspace and the ones the selector offers (W6, W7).
pub async fn nav(state: &AppState, p: &Principal, session: &Session) -> ApiResult<(Value, Option<Arc<Scope>>)> {
    let active = active_scope(state, p, session).await?;
    let mut conn = state.db.conn().await?;
    let switchable: Vec<Value> = workspaces::accessible(&mut conn, p.user_id(), Some("active"))
        .await?
        .into_iter()
        .filter(|w| {
            permissions_for(w.role.as_deref(), w.role_permissions.as_deref(), w.account_role.as_deref())
                .is_some_and(|perms| perms.contains(Permission::WorkspacesSwitch))
        })
        .map(|w| json!({ "id": w.id, "name": w.name }))
        .collect();
    let nav = json!({
        "email": p.label(),
        "account_admin": active.as_ref().is_some_and(|s| s.is_account_admin()),
        "active": active.as_ref().map(|s| json!({ "id": s.workspace_id(), "name": s.workspace_name() })),
        "switchable": switchable,
    });
    Ok((nav, active))
}

/// The context every signed-in page starts from: title, navigation, CSRF token.
pub async fn page_context(
    state: &AppState,
    p: &Principal,
    session: &Session,
    csrf: &str,
    page: &str,
    title: &str,
) -> ApiResult<(serde_json::Map<String, Value>, Option<Arc<Scope>>)> {
    let (nav, active) = nav(state, p, session).await?;
    let mut ctx = serde_json::Map::new();
    ctx.insert("title".into(), json!(title));
    ctx.insert("page".into(), json!(page));
    ctx.insert("nav".into(), nav);
    ctx.insert("csrf".into(), json!(csrf));
    Ok((ctx, active))
}

/// A form's outcome as what the page shows: a notice (or other fields) on success, the
/// refusal's reason and status on failure.
pub fn outcome(result: ApiResult<Value>) -> (StatusCode, Value) {
    match result {
        Ok(extra) => (StatusCode::OK, extra),
        Err(e) => (e.status(), json!({ "error": e.detail })),
    }
}

pub fn render(state: &AppState, status: StatusCode, template: &str, ctx: Map<String, Value>) -> Response {
    state.templates.render(status, template, Value::Object(ctx))
}

/// A page's filters as a query string (for links that keep them: CSV export, next
/// page), leaving out the empty ones.
pub fn query_string(filters: &[(&str, &Option<String>)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in filters {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            out.append_pair(k, v);
        }
    }
    out.finish()
}

/// A form body with repeated keys (checkbox grids), as pairs.
pub fn form_pairs(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The roles a form offers in an account's workspaces: built-in (not Owner) and the
/// account's custom roles, each with its label.
pub async fn role_options(state: &AppState, account_id: &str) -> ApiResult<Vec<Value>> {
    let mut conn = state.db.conn().await?;
    let mut out: Vec<Value> =
        ["admin", "member", "viewer"].iter().map(|r| json!({ "id": r, "label": roles::label(r, None) })).collect();
    for r in role_store::list(&mut conn, account_id).await? {
        out.push(json!({ "id": r.id, "label": r.name }));
    }
    Ok(out)
}

/// The regions for a form's drop-down, default first: `[{id, name: "India (in)"}]`.
pub fn region_options(state: &AppState) -> Value {
    let options: Vec<Value> = state
        .config
        .region_specs()
        .iter()
        .map(|r| json!({ "id": r.id, "name": state.config.region_name(&r.id) }))
        .collect();
    Value::Array(options)
}

/// Paise as the dashboard shows them: `₹12.34`.
pub fn rupees(paise: i64) -> String {
    let sign = if paise < 0 { "−" } else { "" };
    format!("{sign}₹{}.{:02}", paise.abs() / 100, paise.abs() % 100)
}
