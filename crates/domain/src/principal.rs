//! Who is making a request.

/// The authenticated caller. Session and API-key callers go through the same workspace
/// resolution; only how they were authenticated differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in user (dashboard cookie or `Bearer` session token).
    User {
        user_id: String,
        session_id: String,
        email: String,
    },
}

impl Principal {
    pub fn user_id(&self) -> &str {
        match self {
            Principal::User { user_id, .. } => user_id,
        }
    }
    /// `user` or `api_key`, as recorded in the audit log.
    pub fn actor_type(&self) -> &'static str {
        match self {
            Principal::User { .. } => "user",
        }
    }
    pub fn actor_id(&self) -> &str {
        self.user_id()
    }
    /// A human-readable name for audit entries.
    pub fn label(&self) -> &str {
        match self {
            Principal::User { email, .. } => email,
        }
    }
    pub fn session_id(&self) -> Option<&str> {
        match self {
            Principal::User { session_id, .. } => Some(session_id),
        }
    }
}
