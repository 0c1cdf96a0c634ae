//! JSON shapes of the API's resources.

use callplane_store::accounts::{Account, UserAccount};
use callplane_store::audit::AuditEvent;
use callplane_store::members::Member;
use callplane_store::users::User;
use callplane_store::workspaces::{AccessibleWorkspace, Workspace};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// RFC 3339 UTC from milliseconds since the epoch.
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// A list page: `{"data": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self { id: u.id.clone(), email: u.email.clone(), name: u.name.clone(), created_at: rfc3339(u.created_at) }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub plan: String,
    /// The caller's role in the account (`admin` or `member`), where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        Self { id: a.id.clone(), name: a.name.clone(), plan: a.plan.clone(), role: None }
    }
}

impl From<&UserAccount> for AccountView {
    fn from(a: &UserAccount) -> Self {
        Self { id: a.id.clone(), name: a.name.clone(), plan: a.plan.clone(), role: Some(a.role.clone()) }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceView {
    pub id: String,
    pub account_id: String,
    pub name: String,
    /// `active` or `inactive`.
    pub status: String,
    /// Data region; fixed at creation.
    pub region: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The caller's membership role, when listed for a user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl From<&Workspace> for WorkspaceView {
    fn from(w: &Workspace) -> Self {
        Self {
            id: w.id.clone(),
            account_id: w.account_id.clone(),
            name: w.name.clone(),
            status: w.status.clone(),
            region: w.region.clone(),
            created_at: rfc3339(w.created_at),
            updated_at: Some(rfc3339(w.updated_at)),
            role: None,
        }
    }
}

impl From<&AccessibleWorkspace> for WorkspaceView {
    fn from(w: &AccessibleWorkspace) -> Self {
        Self {
            id: w.id.clone(),
            account_id: w.account_id.clone(),
            name: w.name.clone(),
            status: w.status.clone(),
            region: w.region.clone(),
            created_at: rfc3339(w.created_at),
            updated_at: None,
            role: w.role.clone().or_else(|| w.account_role.as_ref().map(|_| "account_admin".to_owned())),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub joined_at: String,
    pub last_active_at: Option<String>,
}

impl From<&Member> for MemberView {
    fn from(m: &Member) -> Self {
        Self {
            user_id: m.user_id.clone(),
            email: m.email.clone(),
            name: m.name.clone(),
            role: m.role.clone(),
            joined_at: rfc3339(m.created_at),
            last_active_at: m.last_active_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: String,
    pub workspace_id: Option<String>,
    /// `user` or `api_key`.
    pub actor_type: String,
    pub actor_id: String,
    pub actor_label: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    #[schema(value_type = Object)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub after: Option<serde_json::Value>,
    pub created_at: String,
}

impl From<&AuditEvent> for AuditEventView {
    fn from(e: &AuditEvent) -> Self {
        let parse = |s: &Option<String>| s.as_deref().and_then(|s| serde_json::from_str(s).ok());
        Self {
            id: e.id.clone(),
            workspace_id: e.workspace_id.clone(),
            actor_type: e.actor_type.clone(),
            actor_id: e.actor_id.clone(),
            actor_label: e.actor_label.clone(),
            action: e.action.clone(),
            target_type: e.target_type.clone(),
            target_id: e.target_id.clone(),
            before: parse(&e.before_json),
            after: parse(&e.after_json),
            created_at: rfc3339(e.created_at),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `permission_denied`.
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: String,
    pub workspace_id: String,
    pub email: String,
    pub role: String,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub status: String,
    pub invited_by: String,
    pub created_at: String,
    pub expires_at: String,
    /// The link to share, present only right after creating or re-sending and only
    /// when email stays in the local outbox (no SMTP configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_url: Option<String>,
}

impl InvitationView {
    pub fn new(i: &callplane_store::invitations::Invitation, now: i64, invite_url: Option<String>) -> Self {
        Self {
            id: i.id.clone(),
            workspace_id: i.workspace_id.clone(),
            email: i.email.clone(),
            role: i.role.clone(),
            status: i.status(now).to_owned(),
            invited_by: i.invited_by.clone(),
            created_at: rfc3339(i.created_at),
            expires_at: rfc3339(i.expires_at),
            invite_url,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    /// The first characters of the key, for recognising it; the secret is never shown again.
    pub prefix: String,
    pub role: String,
    /// The workspace it reaches; `null` for organization keys.
    pub workspace_id: Option<String>,
    pub created_by: String,
    pub created_by_email: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<&callplane_store::api_keys::ApiKey> for ApiKeyView {
    fn from(k: &callplane_store::api_keys::ApiKey) -> Self {
        Self {
            id: k.id.clone(),
            name: k.name.clone(),
            prefix: k.display_prefix.clone(),
            role: k.role.clone(),
            workspace_id: k.workspace_id.clone(),
            created_by: k.created_by.clone(),
            created_by_email: k.created_by_email.clone(),
            created_at: rfc3339(k.created_at),
            last_used_at: k.last_used_at.map(rfc3339),
            revoked_at: k.revoked_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKeyView {
    pub id: String,
    /// The secret, shown this once. Store it now.
    pub secret: String,
    pub prefix: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleView {
    /// `owner`, `admin`, `member`, `viewer`, or a custom role id (`role_…`).
    pub id: String,
    pub name: String,
    pub builtin: bool,
    pub permissions: Vec<String>,
}

impl From<&callplane_store::roles::Role> for RoleView {
    fn from(r: &callplane_store::roles::Role) -> Self {
        Self {
            id: r.id.clone(),
            name: r.name.clone(),
            builtin: false,
            permissions: r.permissions.split_whitespace().map(str::to_owned).collect(),
        }
    }
}

impl RoleView {
    pub fn builtin() -> Vec<RoleView> {
        callplane_domain::BuiltinRole::ALL
            .iter()
            .map(|r| RoleView {
                id: r.as_str().to_owned(),
                name: r.label().to_owned(),
                builtin: true,
                permissions: r.permissions().names().into_iter().map(str::to_owned).collect(),
            })
            .collect()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccessRowView {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub account_role: Option<String>,
    pub workspace_id: Option<String>,
    pub workspace_name: Option<String>,
    pub role: Option<String>,
    pub last_active_at: Option<String>,
}

impl From<&callplane_store::members::AccessRow> for AccessRowView {
    fn from(r: &callplane_store::members::AccessRow) -> Self {
        Self {
            user_id: r.user_id.clone(),
            email: r.email.clone(),
            name: r.name.clone(),
            account_role: r.account_role.clone(),
            workspace_id: r.workspace_id.clone(),
            workspace_name: r.workspace_name.clone(),
            role: r.role.clone(),
            last_active_at: r.last_active_at.map(rfc3339),
        }
    }
}

/// An optional RFC 3339 query parameter as epoch milliseconds (empty is absent).
pub fn parse_time(field: &str, v: &Option<String>) -> crate::error::ApiResult<Option<i64>> {
    use time::format_description::well_known::Rfc3339;
    v.as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            time::OffsetDateTime::parse(s, &Rfc3339).map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64).map_err(
                |_| crate::error::ApiError::invalid(field, "must be an RFC 3339 time, e.g. 2026-11-24T09:00:00Z"),
            )
        })
        .transpose()
}
