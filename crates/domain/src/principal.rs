//! Who is making a request.

/// The authenticated caller. Session and API-key callers go through the same workspace
/// resolution; only how they were authenticated differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in user (dashboard cookie or `Bearer` session token).
    User { user_id: String, session_id: String, email: String },
    /// An API key: of one workspace, or (organization keys) of a whole account.
    ApiKey(ApiKeyPrincipal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyPrincipal {
    pub key_id: String,
    pub name: String,
    pub display_prefix: String,
    pub account_id: String,
    /// `None` for organization keys, which reach every workspace of the account.
    pub workspace_id: Option<String>,
    /// The role the key acts with (built-in name or custom role id).
    pub role: String,
    /// The user who created it; a workspace key never exceeds its creator's access.
    pub created_by: String,
}

impl Principal {
    /// The user behind the request: the signed-in user, or the key's creator.
    pub fn user_id(&self) -> &str {
        match self {
            Principal::User { user_id, .. } => user_id,
            Principal::ApiKey(k) => &k.created_by,
        }
    }
    /// `user` or `api_key`, as recorded in the audit log.
    pub fn actor_type(&self) -> &'static str {
        match self {
            Principal::User { .. } => "user",
            Principal::ApiKey(_) => "api_key",
        }
    }
    pub fn actor_id(&self) -> &str {
        match self {
            Principal::User { user_id, .. } => user_id,
            Principal::ApiKey(k) => &k.key_id,
        }
    }
    /// A human-readable name for audit entries (never a secret).
    pub fn label(&self) -> String {
        match self {
            Principal::User { email, .. } => email.clone(),
            Principal::ApiKey(k) => format!("{} ({})", k.name, k.display_prefix),
        }
    }
    pub fn session_id(&self) -> Option<&str> {
        match self {
            Principal::User { session_id, .. } => Some(session_id),
            Principal::ApiKey(_) => None,
        }
    }
    pub fn api_key(&self) -> Option<&ApiKeyPrincipal> {
        match self {
            Principal::ApiKey(k) => Some(k),
            Principal::User { .. } => None,
        }
    }
}
