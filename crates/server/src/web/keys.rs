//! Settings → API keys (K1).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use callplane_domain::{Permission, Principal};
use callplane_store::access::Scope;
use callplane_store::sessions::Session;
use callplane_store::{api_keys, roles as role_store};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::views::rfc3339;
use crate::auth::WorkspaceScope;
use crate::error::ApiResult;
use crate::services::{keys, roles};
use crate::state::AppState;
use crate::web::common::{outcome, page_context, render, role_options, Dash, WebForm};

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
    options.extend(role_options(state, scope.account_id()).await?);
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
