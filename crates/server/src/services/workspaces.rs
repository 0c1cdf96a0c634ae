//! Workspace lifecycle (SPEC W1–W7).

use callplane_domain::id::{new_id, prefix};
use callplane_domain::workspace::{confirmation_matches, NameError, WorkspaceName, WorkspaceStatus};
use callplane_domain::{Permission, Principal};
use callplane_store::access::Scope;
use callplane_store::accounts::Account;
use callplane_store::product::dependents;
use callplane_store::workspaces::{self, NewWorkspace, Workspace};
use callplane_store::{sessions, Tx};
use serde_json::json;
use std::sync::Arc;

use crate::auth::scope::{authorize, resolve};
use crate::error::{ApiError, ApiResult, Code};
use crate::failpoint;
use crate::services::audit::Auditor;
use crate::services::lifecycle;
use crate::state::AppState;

pub struct CreateInput<'a> {
    pub name: &'a str,
    pub region: Option<&'a str>,
    pub status: Option<&'a str>,
}

pub fn parse_name(raw: &str) -> ApiResult<WorkspaceName> {
    WorkspaceName::parse(raw).map_err(|e| {
        let msg = match e {
            NameError::Empty => "must not be empty".to_owned(),
            other => other.to_string().replacen("name ", "", 1),
        };
        ApiError::invalid("name", msg)
    })
}

pub fn parse_status(raw: Option<&str>) -> ApiResult<Option<WorkspaceStatus>> {
    raw.map(|s| WorkspaceStatus::parse(s).ok_or_else(|| ApiError::invalid("status", "must be `active` or `inactive`")))
        .transpose()
}

/// A configured region id (W1), the default one when none is given.
pub fn parse_region(state: &AppState, raw: Option<&str>) -> ApiResult<String> {
    let region = raw.map(str::trim).unwrap_or(&state.config.default_region);
    if state.config.has_region(region) {
        Ok(region.to_owned())
    } else {
        let ids: Vec<&str> = state.config.regions.keys().map(String::as_str).collect();
        Err(ApiError::invalid("region", format!("must be one of: {}", ids.join(", "))))
    }
}

/// Creates a workspace in `account` (W1), within the plan's limit (W2). The creator
/// becomes its Owner. The workspace is registered (invisible) in the control database,
/// anchored in its region database, then made visible: see [`lifecycle`].
pub async fn create(
    state: &AppState,
    actor: &Principal,
    account: &Account,
    input: CreateInput<'_>,
) -> ApiResult<Workspace> {
    let name = parse_name(input.name)?;
    let region = parse_region(state, input.region)?;
    let status = parse_status(input.status)?.unwrap_or(WorkspaceStatus::Active);
    let mut tx = state.db.begin().await?;
    // Serialise creations per account so two at once cannot both pass the limit.
    callplane_store::accounts::lock(&mut tx, &account.id).await?;
    if let Some(max) = state.config.plans.max_workspaces(&account.plan) {
        let count = workspaces::count_for_account(&mut tx, &account.id).await?;
        if count >= i64::from(max) {
            return Err(ApiError::new(
                Code::PlanLimitReached,
                format!(
                    "The {} plan allows {max} workspaces and this account has {count}. Upgrade the plan or delete a workspace first.",
                    account.plan
                ),
            )
            .with("limit", max));
        }
    }
    let ws = insert(&mut tx, state, actor, account, &name, &region, status).await?;
    tx.commit().await?;
    failpoint::hit("workspace.create.after_register");
    lifecycle::provision(state, &ws.id, &ws.account_id, &ws.region).await?;
    Ok(ws)
}

/// Registers the workspace (`provisioning`, leased to this request) with its Owner and
/// records both in the audit log. Used by workspace creation and by sign-up (the
/// account's first workspace); the caller commits, then calls [`lifecycle::provision`].
pub async fn insert(
    tx: &mut Tx,
    state: &AppState,
    actor: &Principal,
    account: &Account,
    name: &WorkspaceName,
    region: &str,
    status: WorkspaceStatus,
) -> ApiResult<Workspace> {
    let now = state.now();
    let id = new_id(prefix::WORKSPACE);
    let ws = workspaces::create(
        tx,
        NewWorkspace {
            id: &id,
            account_id: &account.id,
            name: name.as_str(),
            name_key: name.key(),
            status: status.as_str(),
            region,
            created_by: actor.user_id(),
            now,
        },
        lifecycle::lease_until(state),
    )
    .await
    .map_err(name_taken)?;
    let after = json!({ "name": ws.name, "status": ws.status, "region": ws.region });
    record(tx, &ws, actor, "workspace.created", "workspace", &ws.id, None, Some(after), now).await?;
    let member = json!({ "user_id": actor.user_id(), "role": "owner" });
    record(tx, &ws, actor, "member.added", "user", actor.user_id(), None, Some(member), now).await?;
    Ok(ws)
}

fn name_taken(e: callplane_store::Error) -> ApiError {
    if e.is_unique_on("name") {
        ApiError::new(Code::WorkspaceNameTaken, "Another workspace of this account already has this name.")
            .with("errors", json!([{ "field": "name", "message": "is already taken" }]))
    } else {
        e.into()
    }
}

#[allow(clippy::too_many_arguments)]
async fn record(
    tx: &mut Tx,
    ws: &Workspace,
    actor: &Principal,
    action: &str,
    target_type: &str,
    target_id: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    now: i64,
) -> ApiResult<()> {
    let auditor = Auditor { account_id: &ws.account_id, workspace_id: Some(&ws.id), actor, now };
    auditor.record(tx, action, (target_type, target_id), before, after).await
}

pub struct UpdateInput<'a> {
    pub name: Option<&'a str>,
    pub status: Option<&'a str>,
    pub region: Option<&'a str>,
}

/// Renames and/or (de)activates (W3, W4). A different region is refused: it never changes.
pub async fn update(state: &AppState, scope: &Scope, input: UpdateInput<'_>) -> ApiResult<Workspace> {
    let name = input.name.map(parse_name).transpose()?;
    let status = parse_status(input.status)?;
    if let Some(region) = input.region {
        if region.trim() != scope.region() {
            return Err(ApiError::new(
                Code::RegionImmutable,
                format!("The workspace's data stays in region `{}`; its region cannot change.", scope.region()),
            ));
        }
    }
    let mut tx = state.db.begin().await?;
    let before = workspaces::get(&mut tx, scope).await?;
    let after = workspaces::update(
        &mut tx,
        scope,
        name.as_ref().map(|n| (n.as_str(), n.key())),
        status.map(WorkspaceStatus::as_str),
        state.now(),
    )
    .await
    .map_err(name_taken)?;
    if before != after {
        record(
            &mut tx,
            &after,
            scope.principal(),
            "workspace.updated",
            "workspace",
            &after.id,
            Some(json!({ "name": before.name, "status": before.status })),
            Some(json!({ "name": after.name, "status": after.status })),
            state.now(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(after)
}

/// Deletes a workspace and everything in it (W5), after its refusals: the typed name
/// must match; not the account's only workspace; not the caller's active workspace; no
/// active agents or phone numbers left (read in the region database). The workspace is
/// marked `deleting` (refused everywhere from then on), its product data is purged from
/// its region database, then its registry row goes: see [`lifecycle`].
pub async fn delete(state: &AppState, scope: &Scope, confirm_name: &str) -> ApiResult<()> {
    if !confirmation_matches(scope.workspace_name(), confirm_name) {
        return Err(ApiError::new(
            Code::ConfirmationMismatch,
            format!("Type the workspace name “{}” exactly to confirm.", scope.workspace_name()),
        )
        .with("errors", json!([{ "field": "confirm_name", "message": "does not match the workspace name" }])));
    }
    let deps = dependents::active(&mut scope.read().await?).await?;
    let mut tx = state.db.begin().await?;
    callplane_store::accounts::lock(&mut tx, scope.account_id()).await?;
    if workspaces::count_for_account(&mut tx, scope.account_id()).await? <= 1 {
        return Err(ApiError::new(
            Code::OnlyWorkspace,
            "This is the account's only workspace. Create another workspace before deleting this one.",
        ));
    }
    if let Some(session_id) = scope.principal().session_id() {
        if sessions::active_workspace(&mut tx, session_id).await?.as_deref() == Some(scope.workspace_id()) {
            return Err(ApiError::new(
                Code::ActiveWorkspace,
                "This is your active workspace. Switch to another workspace, then delete this one.",
            ));
        }
    }
    if deps.calls_in_flight > 0 {
        return Err(ApiError::new(
            Code::CallsInFlight,
            format!(
                "{} call(s) of the workspace are still in flight. Wait for them to end (or cancel them), then delete the workspace.",
                deps.calls_in_flight
            ),
        )
        .with("calls_in_flight", deps.calls_in_flight));
    }
    if deps.any() {
        return Err(ApiError::new(
            Code::WorkspaceNotEmpty,
            format!(
                "The workspace still has {} active agent(s) and {} active phone number(s). Deactivate the agents and release the numbers first.",
                deps.agents, deps.phone_numbers
            ),
        )
        .with("active_agents", deps.agents)
        .with("active_phone_numbers", deps.phone_numbers));
    }
    let before = workspaces::get(&mut tx, scope).await?;
    let now = state.now();
    workspaces::mark_deleting(&mut tx, scope, now, lifecycle::lease_until(state)).await?;
    let snapshot = json!({ "name": before.name, "status": before.status, "region": before.region });
    record(
        &mut tx,
        &before,
        scope.principal(),
        "workspace.deleted",
        "workspace",
        &before.id,
        Some(snapshot),
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    failpoint::hit("workspace.delete.after_mark");
    lifecycle::purge(state, &before.id, &before.region).await
}

/// Makes `workspace_id` the session's active workspace (W7). Only active workspaces the
/// caller reaches, and only with `workspaces_switch`.
pub async fn switch(state: &AppState, actor: &Principal, workspace_id: &str) -> ApiResult<Arc<Scope>> {
    let session_id = actor
        .session_id()
        .ok_or_else(|| ApiError::new(Code::BadRequest, "Only signed-in sessions have an active workspace."))?;
    let scope = resolve(state, actor, workspace_id).await?.ok_or_else(ApiError::not_found)?;
    authorize(&scope, Permission::WorkspacesSwitch, false)?;
    let mut tx = state.db.begin().await?;
    sessions::set_active_workspace(&mut tx, session_id, Some(scope.workspace_id())).await?;
    tx.commit().await?;
    Ok(scope)
}
