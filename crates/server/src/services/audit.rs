//! Writing audit events (SPEC A6) from services, in the caller's transaction.

use callplane_domain::Principal;
use callplane_store::access::Scope;
use callplane_store::{audit, Tx};
use serde_json::Value;

use crate::error::ApiResult;

/// Who acts, where and when; one per operation, recording one or more events.
pub struct Auditor<'a> {
    pub account_id: &'a str,
    /// `None` for account-level changes (custom roles, organization keys, account users).
    pub workspace_id: Option<&'a str>,
    pub actor: &'a Principal,
    pub now: i64,
}

impl<'a> Auditor<'a> {
    pub fn for_scope(scope: &'a Scope, now: i64) -> Self {
        Self { account_id: scope.account_id(), workspace_id: Some(scope.workspace_id()), actor: scope.principal(), now }
    }

    /// Records `action` on `target` (`(type, id)`), with JSON snapshots before and after.
    /// Callers never put secrets in the snapshots.
    pub async fn record(
        &self,
        tx: &mut Tx,
        action: &str,
        target: (&str, &str),
        before: Option<Value>,
        after: Option<Value>,
    ) -> ApiResult<()> {
        audit::record(
            tx,
            audit::Entry {
                account_id: self.account_id,
                workspace_id: self.workspace_id,
                actor: self.actor,
                action,
                target_type: target.0,
                target_id: target.1,
                before: before.map(|v| v.to_string()),
                after: after.map(|v| v.to_string()),
                now: self.now,
            },
        )
        .await?;
        Ok(())
    }
}
