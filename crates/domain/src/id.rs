//! Prefixed, time-sortable ids (`ws_0193…`). The prefix says what an id names, so a
//! contact id pasted where a workspace id belongs is caught by [`has_prefix`].

/// Known id prefixes, one per kind of record.
pub mod prefix {
    pub const ACCOUNT: &str = "acct";
    pub const USER: &str = "usr";
    pub const WORKSPACE: &str = "ws";
    pub const SESSION: &str = "ses";
    pub const AUDIT: &str = "aud";
    pub const AGENT: &str = "agt";
    pub const PHONE_NUMBER: &str = "num";
}

/// A new id: `prefix_` followed by a UUIDv7 in lowercase hex (sortable by creation time).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// Whether `id` looks like an id of the given kind (prefix and 32 hex digits).
pub fn has_prefix(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|body| body.len() == 32 && body.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_sort_by_time() {
        let a = new_id(prefix::WORKSPACE);
        let b = new_id(prefix::WORKSPACE);
        assert!(has_prefix(&a, "ws"));
        assert!(!has_prefix(&a, "usr"));
        assert!(a < b, "v7 ids sort by creation");
        assert!(!has_prefix("ws_' OR 1=1 --", "ws"));
    }
}
