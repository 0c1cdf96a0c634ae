//! Settings → Team (T1, T3, A1): members, invitations, ownership.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use callplane_domain::{Permission, Principal};
use callplane_store::access::Scope;
use callplane_store::sessions::Session;
use callplane_store::{invitations, members, roles as role_store};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::views::rfc3339;
use crate::auth::WorkspaceScope;
use crate::error::ApiResult;
use crate::services::roles;
use crate::services::team;
use crate::state::AppState;
use crate::web::common::{outcome, page_context, render, role_options, Dash, WebForm};

/// Settings → Team: members, invitations, ownership.
async fn team_page(
    state: &AppState,
    p: &Principal,
    session: &Session,
    scope: &Scope,
    csrf: &str,
    status: StatusCode,
    extra: Value,
) -> ApiResult<Response> {
    let (mut ctx, _) = page_context(state, p, session, csrf, "team", "Team").await?;
    let mut conn = state.db.conn().await?;
    let custom = role_store::list(&mut conn, scope.account_id()).await?;
    let label = |r: &str| roles::label(r, custom.iter().find(|c| c.id == r).map(|c| c.name.as_str()));
    let rows: Vec<Value> = members::list(&mut conn, scope)
        .await?
        .into_iter()
        .map(|m| {
            json!({ "user_id": m.user_id, "email": m.email, "name": m.name, "role": m.role, "role_label": label(&m.role),
                    "is_owner": m.role == "owner", "is_me": m.user_id == p.user_id(),
                    "last_active": m.last_active_at.map(|t| rfc3339(t)[..16].replace('T', " ")).unwrap_or_else(|| "never".into()),
                    "joined": rfc3339(m.created_at)[..10].to_owned() })
        })
        .collect();
    let now = state.now();
    let invites: Vec<Value> = if scope.can(Permission::MembersInvite) {
        invitations::list(&mut conn, scope)
            .await?
            .into_iter()
            .filter(|i| i.status(now) != "accepted")
            .map(|i| {
                json!({ "id": i.id, "email": i.email, "role_label": label(&i.role), "status": i.status(now),
                        "expires": rfc3339(i.expires_at)[..10].to_owned() })
            })
            .collect()
    } else {
        Vec::new()
    };
    ctx.insert("members".into(), json!(rows));
    ctx.insert("invitations".into(), json!(invites));
    ctx.insert("role_options".into(), json!(role_options(state, scope.account_id()).await?));
    ctx.insert("workspace".into(), json!(scope.workspace_name()));
    ctx.insert("can_invite".into(), json!(scope.can(Permission::MembersInvite)));
    ctx.insert("can_edit".into(), json!(scope.can(Permission::MembersEdit)));
    ctx.insert("can_remove".into(), json!(scope.can(Permission::MembersRemove)));
    ctx.insert("is_owner".into(), json!(scope.role() == Some("owner")));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "team.html", ctx))
}

pub async fn team(Dash { state, csrf, p, session }: Dash, scope: WorkspaceScope) -> ApiResult<Response> {
    team_page(&state, &p, &session, &scope, &csrf.0, StatusCode::OK, json!({})).await
}

/// Shows the Team page again with the outcome of a form: a notice or the refusal.
async fn team_outcome(
    state: &AppState,
    p: &Principal,
    session: &Session,
    scope: &Scope,
    csrf: &str,
    result: ApiResult<Value>,
) -> ApiResult<Response> {
    let (status, extra) = outcome(result);
    team_page(state, p, session, scope, csrf, status, extra).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    email: String,
    role: String,
}

pub async fn invite(
    Dash { state, csrf, p, session }: Dash,
    scope: WorkspaceScope,
    WebForm(f): WebForm<InviteForm>,
) -> ApiResult<Response> {
    let result = team::invite(&state, &scope, &f.email, &f.role).await.map(
        |sent| json!({ "notice": format!("Invitation sent to {}.", sent.invitation.email), "invite_link": sent.link }),
    );
    team_outcome(&state, &p, &session, &scope, &csrf.0, result).await
}

pub async fn resend(
    Dash { state, csrf, p, session }: Dash,
    scope: WorkspaceScope,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let result = team::resend(&state, &scope, &id).await.map(|sent| {
        json!({ "notice": format!("Invitation sent again to {}.", sent.invitation.email), "invite_link": sent.link })
    });
    team_outcome(&state, &p, &session, &scope, &csrf.0, result).await
}

pub async fn revoke_invitation(
    Dash { state, csrf, p, session }: Dash,
    scope: WorkspaceScope,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let result = team::revoke(&state, &scope, &id).await.map(|_| json!({ "notice": "Invitation revoked." }));
    team_outcome(&state, &p, &session, &scope, &csrf.0, result).await
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn change_role(
    Dash { state, csrf, p, session }: Dash,
    scope: WorkspaceScope,
    Path(user): Path<String>,
    WebForm(f): WebForm<RoleForm>,
) -> ApiResult<Response> {
    let result = team::change_role(&state, &scope, &user, &f.role)
        .await
        .map(|m| json!({ "notice": format!("{} is now {}.", m.email, m.role) }));
    team_outcome(&state, &p, &session, &scope, &csrf.0, result).await
}

pub async fn remove_member(
    Dash { state, csrf, p, session }: Dash,
    scope: WorkspaceScope,
    Path(user): Path<String>,
) -> ApiResult<Response> {
    let result = team::remove(&state, &scope, &user)
        .await
        .map(|revoked| json!({ "notice": format!("Member removed; {revoked} of their API keys revoked.") }));
    team_outcome(&state, &p, &session, &scope, &csrf.0, result).await
}

#[derive(Deserialize)]
pub struct TransferForm {
    user_id: String,
}

pub async fn transfer(
    Dash { state, csrf, p, session }: Dash,
    scope: WorkspaceScope,
    WebForm(f): WebForm<TransferForm>,
) -> ApiResult<Response> {
    let result = team::transfer_ownership(&state, &scope, &f.user_id)
        .await
        .map(|_| json!({ "notice": "Ownership transferred. You are now an Admin." }));
    team_outcome(&state, &p, &session, &scope, &csrf.0, result).await
}
