//! The invitation landing page (T2) and set-password links (A3): public pages reached
//! from an email.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use callplane_store::{members, roles as role_store, users, workspaces};
use serde::Deserialize;
use serde_json::{json, Map};

use crate::auth::csrf::CsrfToken;
use crate::auth::principal::MaybeSignedIn;
use crate::auth::tokens;
use crate::error::{ApiError, ApiResult};
use crate::services::account_admin;
use crate::services::roles;
use crate::services::team::{self, Lookup};
use crate::state::AppState;
use crate::web::common::{render, WebForm};

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// `/invite?token=…` (T2): sign in or sign up with the invited email prefilled; joined
/// and sent to the dashboard; asked to switch accounts; told they are already a
/// member; or asked to request a new invitation.
pub async fn invite_page(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    MaybeSignedIn(signed): MaybeSignedIn,
    Query(q): Query<TokenQuery>,
) -> ApiResult<Response> {
    let token = q.token.unwrap_or_default();
    let found = team::lookup(&state, &token).await?;
    let mut ctx = Map::new();
    ctx.insert("title".into(), json!("Invitation"));
    ctx.insert("csrf".into(), json!(csrf.0));
    ctx.insert("token".into(), json!(token));
    let invitation = match &found {
        Lookup::Expired(i) | Lookup::Revoked(i) | Lookup::Used(i) => Some(i),
        Lookup::Pending { invitation, .. } => Some(invitation),
        Lookup::Unknown => None,
    };
    // Already a member: told so, whatever became of the invitation.
    if let (Some((p, _)), Some(inv)) = (&signed, invitation) {
        let mut conn = state.db.conn().await?;
        if members::is_member(&mut conn, &inv.workspace_id, p.user_id()).await? {
            let name = workspaces::name_of(&mut conn, &inv.workspace_id).await?.unwrap_or_default();
            ctx.insert("state".into(), json!("member"));
            ctx.insert("workspace".into(), json!(name));
            return Ok(render(&state, StatusCode::CONFLICT, "invite.html", ctx));
        }
    }
    if let Some(e) = team::refusal(&found) {
        ctx.insert("state".into(), json!("invalid"));
        ctx.insert("message".into(), json!(e.detail));
        return Ok(render(&state, e.status(), "invite.html", ctx));
    }
    let Lookup::Pending { invitation, workspace_name } = found else {
        return Err(ApiError::not_found());
    };
    ctx.insert("workspace".into(), json!(workspace_name));
    ctx.insert("email".into(), json!(invitation.email));
    let mut conn = state.db.conn().await?;
    let account = workspaces::account_of(&mut conn, &invitation.workspace_id).await?.unwrap_or_default();
    let custom = role_store::get(&mut conn, &account, &invitation.role).await?;
    drop(conn);
    ctx.insert("role".into(), json!(roles::label(&invitation.role, custom.as_ref().map(|r| r.name.as_str()))));
    match signed {
        None => {
            ctx.insert("state".into(), json!("sign_in"));
            Ok(render(&state, StatusCode::OK, "invite.html", ctx))
        }
        Some((p, _)) if users::email_key(&p.label()) != users::email_key(&invitation.email) => {
            ctx.insert("state".into(), json!("other_email"));
            ctx.insert("signed_in_as".into(), json!(p.label()));
            Ok(render(&state, StatusCode::FORBIDDEN, "invite.html", ctx))
        }
        Some((p, _)) => match team::accept(&state, &p, &token).await {
            Ok(_) => Ok(Redirect::to("/dashboard").into_response()),
            Err(e) => {
                ctx.insert("state".into(), json!("invalid"));
                ctx.insert("message".into(), json!(e.detail));
                Ok(render(&state, e.status(), "invite.html", ctx))
            }
        },
    }
}

pub async fn set_password_form(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Query(q): Query<TokenQuery>,
) -> ApiResult<Response> {
    let token = q.token.unwrap_or_default();
    let mut conn = state.db.conn().await?;
    let user = users::password_token_user(&mut conn, &tokens::hash_token(&token), state.now()).await?;
    let status = if user.is_some() { StatusCode::OK } else { StatusCode::NOT_FOUND };
    Ok(state.templates.render(
        status,
        "set_password.html",
        json!({ "title": "Choose your password", "csrf": csrf.0, "token": token, "user": user.map(|u| u.email),
                "message": "This link is not valid any more. Ask your administrator for a new one." }),
    ))
}

#[derive(Deserialize)]
pub struct SetPasswordForm {
    token: String,
    password: String,
}

pub async fn set_password(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    WebForm(f): WebForm<SetPasswordForm>,
) -> Response {
    match account_admin::set_password(&state, &f.token, &f.password).await {
        Ok(user) => Redirect::to(&format!(
            "/login?email={}",
            form_urlencoded::byte_serialize(user.email.as_bytes()).collect::<String>()
        ))
        .into_response(),
        Err(e) => state.templates.render(
            e.status(),
            "set_password.html",
            json!({ "title": "Choose your password", "csrf": csrf.0, "token": f.token, "message": e.detail }),
        ),
    }
}
