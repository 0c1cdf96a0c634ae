//! Account → Users & access (A3) and Account → Roles (A2).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use callplane_domain::{Permission, Principal};
use callplane_store::sessions::Session;
use callplane_store::{roles as role_store, workspaces};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::accounts::access_review_export;
use crate::api::views::rfc3339;
use crate::auth::AccountCaller;
use crate::error::ApiResult;
use crate::services::account_admin::{self, ReviewFilter};
use crate::services::roles;
use crate::state::AppState;
use crate::web::common::{form_pairs, outcome, page_context, query_string, render, role_options, Dash, WebForm};

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
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({ "user_id": r.user_id, "email": r.email, "name": r.name, "account_role": r.account_role,
                    "workspace_id": r.workspace_id, "workspace": r.workspace_name, "role": r.role,
                    "is_owner": r.role.as_deref() == Some("Owner"),
                    "last_active": r.last_active_at.map(|t| rfc3339(t)[..10].to_owned()).unwrap_or_else(|| "never".into()) })
        })
        .collect();
    let query = query_string(&[("user", &filter.user), ("workspace", &filter.workspace), ("role", &filter.role)]);
    ctx.insert("account".into(), json!({ "id": account.id, "name": account.name, "plan": account.plan }));
    ctx.insert("rows".into(), json!(rows));
    ctx.insert("people".into(), json!(people));
    ctx.insert(
        "spaces".into(),
        json!(spaces.iter().map(|w| json!({ "id": w.id, "name": w.name })).collect::<Vec<_>>()),
    );
    ctx.insert("role_options".into(), json!(role_options(state, &account.id).await?));
    // An empty filter is an empty field (not the text "None").
    let field = |v: &Option<String>| v.clone().unwrap_or_default();
    ctx.insert(
        "filter".into(),
        json!({ "user": field(&filter.user), "workspace": field(&filter.workspace), "role": field(&filter.role) }),
    );
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
    Ok(access_review_export(&rows))
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
    let (status, extra) = outcome(result);
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
    let (status, extra) = outcome(result.map(|r| json!({ "notice": format!("Role “{}” created.", r.name) })));
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
    let (status, extra) = outcome(result.map(|r| json!({ "notice": format!("Role “{}” saved.", r.name) })));
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
    let (status, extra) = outcome(result.map(|()| json!({ "notice": "Role deleted." })));
    render_roles(&state, &p, &session, &caller, &csrf.0, status, extra).await
}
