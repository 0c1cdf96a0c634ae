//! Workspace memberships: who is in a workspace, with which role.

use crate::access::Scope;
use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Member {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
    pub last_active_at: Option<i64>,
}

pub async fn list(ex: &mut impl Executor, scope: &Scope) -> Result<Vec<Member>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT m.user_id, u.email, u.name, m.role, m.created_at, u.last_active_at
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.workspace_id = $1 ORDER BY m.created_at, u.email_key"
    )
    .bind(scope.workspace_id())
    .fetch_all(c)
    .await)?)
}

/// Adds a member to the workspace in scope.
pub async fn add(
    ex: &mut impl Executor,
    scope: &Scope,
    user_id: &str,
    role: &str,
    now: i64,
) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        scope.workspace_id(),
        user_id,
        role,
        now
    )?;
    Ok(())
}
