//! The permission vocabulary (SPEC A2): `resource_action` names, and sets of them.
//!
//! A role is a [`PermissionSet`]; a request is allowed when the caller's set in the
//! workspace it names contains the permission its route declares.

use std::fmt;

macro_rules! permissions {
    ($($variant:ident => $name:literal),+ $(,)?) => {
        /// One thing a principal may do in a workspace (or, for `Workspaces*Create`, an account).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Permission { $($variant),+ }

        impl Permission {
            /// Every permission, in declaration order.
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),+];

            /// The stable `resource_action` name used in APIs, errors and storage.
            pub const fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name),+ }
            }

            pub fn parse(name: &str) -> Option<Permission> {
                match name { $($name => Some(Permission::$variant),)+ _ => None }
            }
        }
    };
}

permissions! {
    WorkspacesView => "workspaces_view",
    WorkspacesCreate => "workspaces_create",
    WorkspacesEdit => "workspaces_edit",
    WorkspacesDelete => "workspaces_delete",
    WorkspacesSwitch => "workspaces_switch",
    SettingsView => "settings_view",
    SettingsEdit => "settings_edit",
    MembersView => "members_view",
    MembersInvite => "members_invite",
    MembersEdit => "members_edit",
    MembersRemove => "members_remove",
    ApiKeysView => "api_keys_view",
    ApiKeysCreate => "api_keys_create",
    ApiKeysDelete => "api_keys_delete",
    AuditView => "audit_view",
    RolesManage => "roles_manage",
    ContactsView => "contacts_view",
    ContactsCreate => "contacts_create",
    ContactsEdit => "contacts_edit",
    ContactsDelete => "contacts_delete",
    ContactsImport => "contacts_import",
    ContactsExport => "contacts_export",
    AgentsView => "agents_view",
    AgentsCreate => "agents_create",
    AgentsEdit => "agents_edit",
    AgentsDelete => "agents_delete",
    PhoneNumbersView => "phone_numbers_view",
    PhoneNumbersCreate => "phone_numbers_create",
    PhoneNumbersEdit => "phone_numbers_edit",
    PhoneNumbersDelete => "phone_numbers_delete",
    PhoneNumbersTransfer => "phone_numbers_transfer",
    TemplatesView => "templates_view",
    TemplatesCreate => "templates_create",
    TemplatesEdit => "templates_edit",
    TemplatesDelete => "templates_delete",
    CampaignsView => "campaigns_view",
    CampaignsCreate => "campaigns_create",
    CampaignsEdit => "campaigns_edit",
    CampaignsDelete => "campaigns_delete",
    CallsView => "calls_view",
    CallsCreate => "calls_create",
    CallsExport => "calls_export",
    AppointmentsView => "appointments_view",
    AppointmentsCreate => "appointments_create",
    AppointmentsEdit => "appointments_edit",
    AppointmentsDelete => "appointments_delete",
    AnalyticsView => "analytics_view",
    WebhooksView => "webhooks_view",
    WebhooksCreate => "webhooks_create",
    WebhooksEdit => "webhooks_edit",
    WebhooksDelete => "webhooks_delete",
    TelephonyView => "telephony_view",
    TelephonyEdit => "telephony_edit",
    BillingView => "billing_view",
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Permission {
    /// The `action` half of the name: `view`, `create`, `edit`, `delete`, or a special.
    pub fn action(self) -> &'static str {
        let name = self.as_str();
        name.rsplit('_').next().unwrap_or(name)
    }

    /// Whether this permission only reads.
    pub fn is_read(self) -> bool {
        self.action() == "view" || self == Permission::WorkspacesSwitch
    }
}

/// A set of permissions, stored as a bit mask.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PermissionSet(u128);

impl PermissionSet {
    pub const EMPTY: PermissionSet = PermissionSet(0);

    pub fn all() -> Self {
        Permission::ALL.iter().copied().collect()
    }
    pub fn contains(self, p: Permission) -> bool {
        self.0 & (1u128 << p as u8) != 0
    }
    pub fn insert(&mut self, p: Permission) {
        self.0 |= 1u128 << p as u8;
    }
    pub fn remove(&mut self, p: Permission) {
        self.0 &= !(1u128 << p as u8);
    }
    pub fn union(self, other: PermissionSet) -> Self {
        PermissionSet(self.0 | other.0)
    }
    pub fn intersect(self, other: PermissionSet) -> Self {
        PermissionSet(self.0 & other.0)
    }
    /// Whether every permission of `self` is also in `other` (a role "not above" another).
    pub fn is_subset_of(self, other: PermissionSet) -> bool {
        self.0 & !other.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.iter().copied().filter(move |p| self.contains(*p))
    }
    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// Parses stored names; unknown names (from a newer or older version) are skipped.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        names.into_iter().filter_map(Permission::parse).collect()
    }
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = PermissionSet::EMPTY;
        for p in iter {
            set.insert(p);
        }
        set
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Permission::as_str)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a2_names_are_resource_action_and_round_trip() {
        assert!(Permission::ALL.len() <= 128);
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(*p));
            assert!(p.as_str().contains('_'), "{p} is resource_action");
        }
        assert_eq!(Permission::parse("workspaces_switch"), Some(Permission::WorkspacesSwitch));
        assert_eq!(Permission::parse("nope"), None);
    }

    #[test]
    fn sets_behave_like_sets() {
        let mut s = PermissionSet::EMPTY;
        s.insert(Permission::ContactsView);
        s.insert(Permission::BillingView);
        assert!(s.contains(Permission::ContactsView));
        assert!(!s.contains(Permission::ContactsEdit));
        assert!(s.is_subset_of(PermissionSet::all()));
        assert!(!PermissionSet::all().is_subset_of(s));
        assert_eq!(PermissionSet::from_names(s.names()), s);
        assert_eq!(s.len(), 2);
    }
}
