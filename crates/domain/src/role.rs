//! Built-in workspace roles (SPEC A1) as permission sets, and account-level roles (A3).

use crate::permission::{Permission as P, PermissionSet};

/// The four roles every workspace has. Custom roles are account-defined sets stored by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuiltinRole {
    Owner,
    Admin,
    Member,
    Viewer,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 4] = [Self::Owner, Self::Admin, Self::Member, Self::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Member => "member",
            Self::Viewer => "viewer",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Admin => "Admin",
            Self::Member => "Member",
            Self::Viewer => "Viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The one table that maps built-in roles to permissions.
    pub fn permissions(self) -> PermissionSet {
        match self {
            // Everything, including billing and deletion.
            Self::Owner => PermissionSet::all(),
            // Agents, numbers, members, call history; not billing, not deletion.
            Self::Admin => PermissionSet::all()
                .iter()
                .filter(|p| !matches!(p, P::BillingView | P::WorkspacesDelete | P::WorkspacesCreate | P::RolesManage))
                .collect(),
            // Create and edit agents (and day-to-day content), view calls; cannot delete
            // agents, manage numbers, invite, or see keys, audit and billing.
            Self::Member => {
                let mut set = viewer();
                for p in [
                    P::AgentsCreate,
                    P::AgentsEdit,
                    P::ContactsCreate,
                    P::ContactsEdit,
                    P::ContactsImport,
                    P::ContactsExport,
                    P::TemplatesCreate,
                    P::TemplatesEdit,
                    P::CampaignsCreate,
                    P::CampaignsEdit,
                    P::CallsCreate,
                    P::CallsExport,
                    P::AppointmentsCreate,
                    P::AppointmentsEdit,
                ] {
                    set.insert(p);
                }
                set
            }
            // Read-only.
            Self::Viewer => viewer(),
        }
    }
}

/// Reading the workspace's product data, and moving between workspaces.
fn viewer() -> PermissionSet {
    PermissionSet::all()
        .iter()
        .filter(|p| p.is_read())
        .filter(|p| !matches!(p, P::BillingView | P::AuditView | P::ApiKeysView | P::SettingsView))
        .collect()
}

/// A user's standing in an account. Admins reach every workspace of the account (A3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRole {
    Admin,
    Member,
}

impl AccountRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Member => "member",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "member" => Some(Self::Member),
            _ => None,
        }
    }
    /// Account-level permissions: only admins create workspaces (W1).
    pub fn permissions(self) -> PermissionSet {
        match self {
            Self::Admin => PermissionSet::all(),
            Self::Member => PermissionSet::EMPTY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1_roles_are_ordered_owner_admin_member_viewer() {
        let [o, a, m, v] = BuiltinRole::ALL.map(BuiltinRole::permissions);
        assert!(a.is_subset_of(o) && m.is_subset_of(a) && v.is_subset_of(m));
        assert!(o.contains(P::WorkspacesDelete) && o.contains(P::BillingView));
        assert!(!a.contains(P::WorkspacesDelete) && !a.contains(P::BillingView));
        assert!(a.contains(P::MembersInvite) && a.contains(P::PhoneNumbersCreate));
        assert!(m.contains(P::AgentsCreate) && m.contains(P::AgentsEdit) && m.contains(P::CallsView));
        assert!(!m.contains(P::AgentsDelete) && !m.contains(P::MembersInvite));
        assert!(!m.contains(P::PhoneNumbersCreate) && !m.contains(P::PhoneNumbersDelete));
        assert!(v.iter().all(P::is_read), "viewer is read-only");
        assert!(v.contains(P::WorkspacesSwitch));
    }
}
