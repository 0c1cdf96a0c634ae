//! Workspace rules (SPEC W1–W5) that need no storage.

use thiserror::Error;

pub const NAME_MAX_CHARS: usize = 100;

/// Workspace lifecycle status (W1, W4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceStatus {
    Active,
    Inactive,
}

impl WorkspaceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum NameError {
    #[error("name must not be empty")]
    Empty,
    #[error("name must be at most {NAME_MAX_CHARS} characters")]
    TooLong,
    #[error("name must not contain control characters")]
    ControlChars,
}

/// A validated workspace name: trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceName {
    display: String,
    key: String,
}

impl WorkspaceName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let display = raw.trim();
        if display.is_empty() {
            return Err(NameError::Empty);
        }
        if display.chars().count() > NAME_MAX_CHARS {
            return Err(NameError::TooLong);
        }
        if display.chars().any(char::is_control) {
            return Err(NameError::ControlChars);
        }
        Ok(Self { display: display.to_owned(), key: name_key(display) })
    }
    pub fn as_str(&self) -> &str {
        &self.display
    }
    /// The uniqueness key: names differing only in case are the same name (W1).
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// Case-folded, whitespace-collapsed form used for uniqueness and typed confirmations.
pub fn name_key(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// W5: the typed confirmation must be the workspace's exact name (surrounding spaces forgiven).
pub fn confirmation_matches(name: &str, typed: &str) -> bool {
    typed.trim() == name
}

/// Account plans and their workspace caps (W2). `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Starter,
    Professional,
    Enterprise,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starter => "starter",
            Self::Professional => "professional",
            Self::Enterprise => "enterprise",
        }
    }
    /// Whether the Telephony Config shows per-minute rates (SPEC N4): the paid plans,
    /// whose invoices itemise telephony, do; a starter account sees statuses only.
    pub fn shows_telephony_rates(self) -> bool {
        matches!(self, Self::Professional | Self::Enterprise)
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "starter" => Some(Self::Starter),
            "professional" => Some(Self::Professional),
            "enterprise" => Some(Self::Enterprise),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w1_names_are_trimmed_bounded_and_case_insensitive() {
        let n = WorkspaceName::parse("  Sales North  ").unwrap();
        assert_eq!(n.as_str(), "Sales North");
        assert_eq!(n.key(), WorkspaceName::parse("sales   NORTH").unwrap().key());
        assert_eq!(WorkspaceName::parse("   "), Err(NameError::Empty));
        assert_eq!(WorkspaceName::parse(&"x".repeat(101)), Err(NameError::TooLong));
        assert!(WorkspaceName::parse(&"é".repeat(100)).is_ok(), "limit counts characters");
        assert_eq!(WorkspaceName::parse("a\u{0}b"), Err(NameError::ControlChars));
    }

    #[test]
    fn w5_confirmation_is_the_exact_name() {
        assert!(confirmation_matches("Sales", "Sales"));
        assert!(confirmation_matches("Sales", " Sales "));
        assert!(!confirmation_matches("Sales", "sales"));
        assert!(!confirmation_matches("Sales", ""));
    }
}
