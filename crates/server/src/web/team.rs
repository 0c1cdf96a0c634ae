//! Dashboard pages for the team (T1–T4, K1, A2, A3, A6): the invitation landing page,
//! set-password links, Team, API keys, the audit log and the account's users and roles.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use callplane_domain::{Permission, Principal};
use callplane_store::access::Scope;
use callplane_store::sessions::Session;
use callplane_store::{api_keys, invitations, members, roles as role_store, users, workspaces};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::api::audit::{export_csv, AuditParams};
use crate::api::views::rfc3339;
use crate::auth::csrf::CsrfToken;
use crate::auth::principal::MaybeSignedIn;
use crate::auth::{tokens, AccountCaller, WorkspaceScope};
use crate::error::{ApiError, ApiResult};
use crate::services::account_admin::{self, ReviewFilter};
use crate::services::team::{self, Lookup};
use crate::services::{keys, roles};
use crate::state::AppState;
use crate::web::pages::{page_context, Dash, WebForm};

/// A form's outcome as what the page shows: a notice (or other fields) on success, the
/// refusal's reason and status on failure.
fn outcome(result: ApiResult<Value>) -> (StatusCode, Value) {
    match result {
        Ok(extra) => (StatusCode::OK, extra),
        Err(e) => (e.status(), json!({ "error": e.detail })),
    }
}

fn render(state: &AppState, status: StatusCode, template: &str, ctx: Map<String, Value>) -> Response {
    state.templates.render(status, template, Value::Object(ctx))
}

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

/// Roles the caller may hand out in the scope's workspace: built-in (not Owner) and the
/// account's custom roles, each with its label.
async fn role_options(state: &AppState, scope: &Scope) -> ApiResult<Vec<Value>> {
    let mut conn = state.db.conn().await?;
    let mut out: Vec<Value> =
        ["admin", "member", "viewer"].iter().map(|r| json!({ "id": r, "label": roles::label(r, None) })).collect();
    for r in role_store::list(&mut conn, scope.account_id()).await? {
        out.push(json!({ "id": r.id, "label": r.name }));
    }
    Ok(out)
}

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
    ctx.insert("role_options".into(), json!(role_options(state, scope).await?));
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

/// Settings → API keys.
async fn keys_page(
    state: &AppState,
    p: &Principal,
    session: &Session,
    scope: &Scope,
    csrf: &str,
    status: StatusCode,
    extra: Value,
) -> ApiResult<Response> {
    let (mut ctx, _) = page_context(state, p, session, csrf, "keys", "API keys").await?;
    let mut conn = state.db.conn().await?;
    let custom = role_store::list(&mut conn, scope.account_id()).await?;
    let rows: Vec<Value> = api_keys::list_for_workspace(&mut conn, scope)
        .await?
        .into_iter()
        .map(|k| {
            let role = roles::label(&k.role, custom.iter().find(|c| c.id == k.role).map(|c| c.name.as_str()));
            json!({ "id": k.id, "name": k.name, "prefix": k.display_prefix, "role": role, "created_by": k.created_by_email,
                    "created": rfc3339(k.created_at)[..10].to_owned(),
                    "last_used": k.last_used_at.map(|t| rfc3339(t)[..16].replace('T', " ")).unwrap_or_else(|| "never".into()),
                    "revoked": k.revoked_at.is_some() })
        })
        .collect();
    let mut options = vec![json!({ "id": "owner", "label": "Owner" })];
    options.extend(role_options(state, scope).await?);
    ctx.insert("keys".into(), json!(rows));
    ctx.insert("role_options".into(), json!(options));
    ctx.insert("can_create".into(), json!(scope.can(Permission::ApiKeysCreate)));
    ctx.insert("can_revoke".into(), json!(scope.can(Permission::ApiKeysDelete)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "keys.html", ctx))
}

pub async fn keys(Dash { state, csrf, p, session }: Dash, scope: WorkspaceScope) -> ApiResult<Response> {
    keys_page(&state, &p, &session, &scope, &csrf.0, StatusCode::OK, json!({})).await
}

#[derive(Deserialize)]
pub struct KeyForm {
    name: String,
    role: String,
}

pub async fn create_key(
    Dash { state, csrf, p, session }: Dash,
    scope: WorkspaceScope,
    WebForm(f): WebForm<KeyForm>,
) -> ApiResult<Response> {
    let result = keys::create_for_workspace(&state, &scope, &f.name, &f.role).await;
    let (status, extra) = outcome(result.map(|c| json!({ "secret": c.secret })));
    keys_page(&state, &p, &session, &scope, &csrf.0, status, extra).await
}

pub async fn revoke_key(
    Dash { state, csrf, p, session }: Dash,
    scope: WorkspaceScope,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let result = keys::revoke_in_workspace(&state, &scope, &id).await;
    let (status, extra) = outcome(result.map(|()| json!({ "notice": "Key revoked." })));
    keys_page(&state, &p, &session, &scope, &csrf.0, status, extra).await
}

/// Date inputs (`YYYY-MM-DD`) to the RFC 3339 the audit filters take.
fn audit_params(q: &AuditQuery) -> AuditParams {
    let day = |d: &Option<String>| d.as_deref().filter(|s| !s.is_empty()).map(|s| format!("{s}T00:00:00Z"));
    AuditParams {
        action: q.action.clone(),
        actor_id: q.actor_id.clone(),
        since: day(&q.from),
        until: day(&q.to),
        limit: Some(100),
        cursor: q.cursor.clone(),
    }
}

#[derive(Deserialize, Default, serde::Serialize)]
pub struct AuditQuery {
    action: Option<String>,
    actor_id: Option<String>,
    /// First day included (`YYYY-MM-DD`).
    from: Option<String>,
    /// First day excluded (`YYYY-MM-DD`).
    to: Option<String>,
    cursor: Option<String>,
}

/// The audit log page (A6): filters by actor, action and date; CSV export.
pub async fn audit(
    Dash { state, csrf, p, session }: Dash,
    scope: WorkspaceScope,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Response> {
    let (mut ctx, _) = page_context(&state, &p, &session, &csrf.0, "audit", "Audit log").await?;
    let params = audit_params(&q);
    let (filter, limit) = params.filter()?;
    let mut conn = state.db.conn().await?;
    let rows = callplane_store::audit::list(&mut conn, &scope, &filter, limit + 1).await?;
    let page = crate::api::audit::page_of(rows, limit);
    let people = members::list(&mut conn, &scope).await?;
    let events: Vec<Value> = page
        .data
        .iter()
        .map(|e| {
            json!({ "time": e.created_at.replace('T', " ").trim_end_matches('Z').get(..19).unwrap_or_default(),
                    "actor": e.actor_label, "actor_type": e.actor_type, "action": e.action,
                    "target": format!("{} {}", e.target_type, e.target_id),
                    "before": e.before.as_ref().map(Value::to_string), "after": e.after.as_ref().map(Value::to_string) })
        })
        .collect();
    let query = serde_urlencoded_query(&q);
    ctx.insert("events".into(), json!(events));
    ctx.insert("next_cursor".into(), json!(page.next_cursor));
    ctx.insert("filter".into(), json!(q));
    ctx.insert("query".into(), json!(query));
    ctx.insert(
        "actors".into(),
        json!(people.iter().map(|m| json!({ "id": m.user_id, "email": m.email })).collect::<Vec<_>>()),
    );
    ctx.insert("actions".into(), json!(AUDIT_ACTIONS));
    Ok(render(&state, StatusCode::OK, "audit.html", ctx))
}

/// The actions the filter offers.
const AUDIT_ACTIONS: &[&str] = &[
    "workspace.created",
    "workspace.updated",
    "workspace.deleted",
    "member.added",
    "member.joined",
    "member.role_changed",
    "member.removed",
    "ownership.transferred",
    "invitation.created",
    "invitation.resent",
    "invitation.revoked",
    "api_key.created",
    "api_key.revoked",
];

fn serde_urlencoded_query(q: &AuditQuery) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [("action", &q.action), ("actor_id", &q.actor_id), ("from", &q.from), ("to", &q.to)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            out.append_pair(k, v);
        }
    }
    out.finish()
}

pub async fn audit_export(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Response> {
    export_csv(&state, &scope, &audit_params(&q)).await
}

/// A form body with repeated keys (checkbox grids), as pairs.
pub fn form_pairs(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// Account → Users & access (A3) and Account → Roles (A2).
pub mod account {
    use super::*;

    #[allow(clippy::too_many_arguments)]
    async fn users_page(
        state: &AppState,
        p: &Principal,
        session: &Session,
        caller: &AccountCaller,
        csrf: &str,
        filter: &ReviewQuery,
        status: StatusCode,
        extra: Value,
    ) -> ApiResult<Response> {
        let account = caller.authorize(state, None).await?;
        let (mut ctx, _) = page_context(state, p, session, csrf, "account", "Users & access").await?;
        let f = ReviewFilter {
            user: filter.user.as_deref(),
            workspace: filter.workspace.as_deref(),
            role: filter.role.as_deref(),
        };
        let all = account_admin::access_review(state, &account).await?;
        let rows: Vec<_> = all.iter().filter(|r| f.matches(r)).collect();
        let mut conn = state.db.conn().await?;
        let mut people: Vec<Value> = Vec::new();
        for r in &all {
            if !people.iter().any(|u| u["id"] == r.user_id.as_str()) {
                people.push(json!({ "id": r.user_id, "email": r.email }));
            }
        }
        let spaces = workspaces::for_account(&mut conn, &account.id).await?;
        let mut options: Vec<Value> =
            ["admin", "member", "viewer"].iter().map(|r| json!({ "id": r, "label": roles::label(r, None) })).collect();
        for r in role_store::list(&mut conn, &account.id).await? {
            options.push(json!({ "id": r.id, "label": r.name }));
        }
        let rows: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({ "user_id": r.user_id, "email": r.email, "name": r.name, "account_role": r.account_role,
                        "workspace_id": r.workspace_id, "workspace": r.workspace_name, "role": r.role,
                        "is_owner": r.role.as_deref() == Some("Owner"),
                        "last_active": r.last_active_at.map(|t| rfc3339(t)[..10].to_owned()).unwrap_or_else(|| "never".into()) })
            })
            .collect();
        let query = {
            let mut s = form_urlencoded::Serializer::new(String::new());
            for (k, v) in [("user", &filter.user), ("workspace", &filter.workspace), ("role", &filter.role)] {
                if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                    s.append_pair(k, v);
                }
            }
            s.finish()
        };
        ctx.insert("account".into(), json!({ "id": account.id, "name": account.name, "plan": account.plan }));
        ctx.insert("rows".into(), json!(rows));
        ctx.insert("people".into(), json!(people));
        ctx.insert(
            "spaces".into(),
            json!(spaces.iter().map(|w| json!({ "id": w.id, "name": w.name })).collect::<Vec<_>>()),
        );
        ctx.insert("role_options".into(), json!(options));
        ctx.insert("filter".into(), json!({ "user": filter.user, "workspace": filter.workspace, "role": filter.role }));
        ctx.insert("query".into(), json!(query));
        if let Value::Object(extra) = extra {
            ctx.extend(extra);
        }
        Ok(render(state, status, "account_users.html", ctx))
    }

    #[derive(Deserialize, Default)]
    pub struct ReviewQuery {
        user: Option<String>,
        workspace: Option<String>,
        role: Option<String>,
    }

    pub async fn users(
        Dash { state, csrf, p, session }: Dash,
        caller: AccountCaller,
        Query(q): Query<ReviewQuery>,
    ) -> ApiResult<Response> {
        users_page(&state, &p, &session, &caller, &csrf.0, &q, StatusCode::OK, json!({})).await
    }

    pub async fn export(
        State(state): State<AppState>,
        caller: AccountCaller,
        Query(q): Query<ReviewQuery>,
    ) -> ApiResult<Response> {
        let account = caller.authorize(&state, None).await?;
        let f = ReviewFilter { user: q.user.as_deref(), workspace: q.workspace.as_deref(), role: q.role.as_deref() };
        let rows: Vec<_> =
            account_admin::access_review(&state, &account).await?.into_iter().filter(|r| f.matches(r)).collect();
        Ok(crate::api::accounts::access_review_export(&rows))
    }

    async fn users_outcome(
        state: &AppState,
        p: &Principal,
        session: &Session,
        caller: &AccountCaller,
        csrf: &str,
        result: ApiResult<Value>,
    ) -> ApiResult<Response> {
        let q = ReviewQuery::default();
        let (status, extra) = super::outcome(result);
        users_page(state, p, session, caller, csrf, &q, status, extra).await
    }

    #[derive(Deserialize)]
    pub struct NewUserForm {
        email: String,
        name: String,
        account_role: Option<String>,
    }

    pub async fn create_user(
        Dash { state, csrf, p, session }: Dash,
        caller: AccountCaller,
        WebForm(f): WebForm<NewUserForm>,
    ) -> ApiResult<Response> {
        let result = async {
            let account = caller.authorize(&state, None).await?;
            let c = account_admin::create_user(&state, &account, &p, &f.email, &f.name, f.account_role.as_deref()).await?;
            Ok(json!({ "notice": format!("{} was added to the account.", c.user.email), "password_link": c.set_password_link }))
        }
        .await;
        users_outcome(&state, &p, &session, &caller, &csrf.0, result).await
    }

    #[derive(Deserialize)]
    pub struct GrantForm {
        user_id: String,
        workspace_id: String,
        role: Option<String>,
    }

    pub async fn grant(
        Dash { state, csrf, p, session }: Dash,
        caller: AccountCaller,
        WebForm(f): WebForm<GrantForm>,
    ) -> ApiResult<Response> {
        let result = async {
            let account = caller.authorize(&state, None).await?;
            let role = f.role.as_deref().unwrap_or("member");
            account_admin::grant(&state, &account, &p, &f.user_id, &f.workspace_id, role).await?;
            Ok(json!({ "notice": "Access granted." }))
        }
        .await;
        users_outcome(&state, &p, &session, &caller, &csrf.0, result).await
    }

    pub async fn withdraw(
        Dash { state, csrf, p, session }: Dash,
        caller: AccountCaller,
        WebForm(f): WebForm<GrantForm>,
    ) -> ApiResult<Response> {
        let result = async {
            let account = caller.authorize(&state, None).await?;
            account_admin::withdraw(&state, &account, &p, &f.user_id, &f.workspace_id).await?;
            Ok(json!({ "notice": "Access withdrawn." }))
        }
        .await;
        users_outcome(&state, &p, &session, &caller, &csrf.0, result).await
    }

    /// The permission matrix: one row per resource, a column per action.
    fn matrix(granted: &callplane_domain::PermissionSet) -> Vec<Value> {
        let mut rows: Vec<(String, Vec<Value>)> = Vec::new();
        for perm in Permission::ALL {
            let name = perm.as_str();
            let (resource, action) = name.rsplit_once('_').unwrap_or((name, ""));
            let cell = json!({ "name": name, "action": action, "on": granted.contains(*perm) });
            match rows.iter_mut().find(|(r, _)| r == resource) {
                Some((_, cells)) => cells.push(cell),
                None => rows.push((resource.to_owned(), vec![cell])),
            }
        }
        rows.into_iter()
            .map(|(resource, cells)| {
                let std = |a: &str| cells.iter().find(|c| c["action"] == a).cloned();
                let other: Vec<Value> = cells
                    .iter()
                    .filter(|c| !matches!(c["action"].as_str(), Some("view" | "create" | "edit" | "delete")))
                    .cloned()
                    .collect();
                json!({ "resource": resource.replace('_', " "), "view": std("view"), "create": std("create"),
                        "edit": std("edit"), "delete": std("delete"), "other": other })
            })
            .collect()
    }

    pub async fn roles_page(Dash { state, csrf, p, session }: Dash, caller: AccountCaller) -> ApiResult<Response> {
        render_roles(&state, &p, &session, &caller, &csrf.0, StatusCode::OK, json!({})).await
    }

    async fn render_roles(
        state: &AppState,
        p: &Principal,
        session: &Session,
        caller: &AccountCaller,
        csrf: &str,
        status: StatusCode,
        extra: Value,
    ) -> ApiResult<Response> {
        let account = caller.authorize(state, None).await?;
        let (mut ctx, _) = page_context(state, p, session, csrf, "roles", "Roles").await?;
        let mut conn = state.db.conn().await?;
        let custom = role_store::list(&mut conn, &account.id).await?;
        let builtin: Vec<Value> = callplane_domain::BuiltinRole::ALL
            .iter()
            .map(|r| json!({ "name": r.label(), "count": r.permissions().len() }))
            .collect();
        let list: Vec<Value> = custom
            .iter()
            .map(|r| {
                let set = callplane_domain::PermissionSet::from_names(r.permissions.split_whitespace());
                json!({ "id": r.id, "name": r.name, "count": set.len(), "matrix": matrix(&set) })
            })
            .collect();
        ctx.insert("builtin".into(), json!(builtin));
        ctx.insert("roles".into(), json!(list));
        ctx.insert("blank".into(), json!(matrix(&callplane_domain::PermissionSet::EMPTY)));
        if let Value::Object(extra) = extra {
            ctx.extend(extra);
        }
        Ok(render(state, status, "roles.html", ctx))
    }

    /// Name and the checked permissions of a role form.
    fn role_form(body: &Bytes) -> (String, Vec<String>) {
        let pairs = form_pairs(body);
        let name = pairs.iter().find(|(k, _)| k == "name").map(|(_, v)| v.clone()).unwrap_or_default();
        let perms = pairs.into_iter().filter(|(k, _)| k == "permissions").map(|(_, v)| v).collect();
        (name, perms)
    }

    pub async fn create_role(
        Dash { state, csrf, p, session }: Dash,
        caller: AccountCaller,
        body: Bytes,
    ) -> ApiResult<Response> {
        let (name, perms) = role_form(&body);
        let result = async {
            let account = caller.authorize(&state, None).await?;
            roles::create(&state, &account.id, &p, &name, &perms).await
        }
        .await;
        let (status, extra) =
            super::outcome(result.map(|r| json!({ "notice": format!("Role “{}” created.", r.name) })));
        render_roles(&state, &p, &session, &caller, &csrf.0, status, extra).await
    }

    pub async fn update_role(
        Dash { state, csrf, p, session }: Dash,
        caller: AccountCaller,
        Path(id): Path<String>,
        body: Bytes,
    ) -> ApiResult<Response> {
        let (name, perms) = role_form(&body);
        let result = async {
            let account = caller.authorize(&state, None).await?;
            roles::update(&state, &account.id, &p, &id, Some(&name), Some(&perms)).await
        }
        .await;
        let (status, extra) = super::outcome(result.map(|r| json!({ "notice": format!("Role “{}” saved.", r.name) })));
        render_roles(&state, &p, &session, &caller, &csrf.0, status, extra).await
    }

    pub async fn delete_role(
        Dash { state, csrf, p, session }: Dash,
        caller: AccountCaller,
        Path(id): Path<String>,
    ) -> ApiResult<Response> {
        let result = async {
            let account = caller.authorize(&state, None).await?;
            roles::delete(&state, &account.id, &p, &id).await
        }
        .await;
        let (status, extra) = super::outcome(result.map(|()| json!({ "notice": "Role deleted." })));
        render_roles(&state, &p, &session, &caller, &csrf.0, status, extra).await
    }
}
