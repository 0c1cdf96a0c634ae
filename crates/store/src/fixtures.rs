//! Rows that tests plant directly, for tables whose endpoints arrive in later issues.

use crate::access::Scope;
use crate::db::Executor;
use crate::error::Result;

/// An agent in the workspace in scope, `active` or `inactive`.
pub async fn insert_agent(
    ex: &mut impl Executor,
    scope: &Scope,
    id: &str,
    status: &str,
) -> Result<()> {
    execute!(ex, "INSERT INTO agents (workspace_id, id, name, status, created_at) VALUES ($1, $2, 'Fixture agent', $3, 0)", scope.workspace_id(), id, status)?;
    Ok(())
}

/// A phone number in the workspace in scope, `active` or `released`.
pub async fn insert_phone_number(
    ex: &mut impl Executor,
    scope: &Scope,
    id: &str,
    status: &str,
) -> Result<()> {
    execute!(ex, "INSERT INTO phone_numbers (workspace_id, id, e164, status, created_at) VALUES ($1, $2, '+911234567890', $3, 0)", scope.workspace_id(), id, status)?;
    Ok(())
}

/// Rows per table for a workspace, to prove deletion removed them and nothing else.
pub async fn count_rows(ex: &mut impl Executor, workspace_id: &str) -> Result<[i64; 4]> {
    let mut out = [0i64; 4];
    for (i, sql) in [
        "SELECT COUNT(*) FROM workspaces WHERE id = $1",
        "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1",
        "SELECT COUNT(*) FROM agents WHERE workspace_id = $1",
        "SELECT COUNT(*) FROM phone_numbers WHERE workspace_id = $1",
    ]
    .into_iter()
    .enumerate()
    {
        out[i] = on!(ex, |c| sqlx::query_scalar(sql)
            .bind(workspace_id)
            .fetch_one(c)
            .await)?;
    }
    Ok(out)
}
