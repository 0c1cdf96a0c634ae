//! Test support: rows that tests plant directly (for tables whose endpoints arrive in
//! later issues) and throwaway databases. Compiled only with the `test-fixtures` feature.

use crate::db::Executor;
use crate::error::Result;

/// An agent in `workspace_id`, `active` or `inactive`.
pub async fn insert_agent(ex: &mut impl Executor, workspace_id: &str, id: &str, status: &str) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO agents (workspace_id, id, name, status, created_at) VALUES ($1, $2, 'Fixture agent', $3, 0)",
        workspace_id,
        id,
        status
    )?;
    Ok(())
}

/// A phone number in `workspace_id`, `active` or `released`.
pub async fn insert_phone_number(ex: &mut impl Executor, workspace_id: &str, id: &str, status: &str) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO phone_numbers (workspace_id, id, e164, status, created_at) VALUES ($1, $2, '+911234567890', $3, 0)",
        workspace_id,
        id,
        status
    )?;
    Ok(())
}

pub async fn set_agent_status(ex: &mut impl Executor, workspace_id: &str, id: &str, status: &str) -> Result<()> {
    execute!(ex, "UPDATE agents SET status = $3 WHERE workspace_id = $1 AND id = $2", workspace_id, id, status)?;
    Ok(())
}

pub async fn set_phone_number_status(ex: &mut impl Executor, workspace_id: &str, id: &str, status: &str) -> Result<()> {
    execute!(ex, "UPDATE phone_numbers SET status = $3 WHERE workspace_id = $1 AND id = $2", workspace_id, id, status)?;
    Ok(())
}

/// Adds `user_id` to a workspace with a role (membership management arrives with the
/// team issue's invitations).
pub async fn add_member(ex: &mut impl Executor, workspace_id: &str, user_id: &str, role: &str) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES ($1, $2, $3, 0)",
        workspace_id,
        user_id,
        role
    )?;
    Ok(())
}

/// Makes `user_id` a member (or admin) of an account.
pub async fn add_account_user(ex: &mut impl Executor, account_id: &str, user_id: &str, role: &str) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO account_users (account_id, user_id, role, created_at) VALUES ($1, $2, $3, 0)",
        account_id,
        user_id,
        role
    )?;
    Ok(())
}

/// Row counts per table for one workspace, to prove what a deletion removed.
pub async fn count_rows(ex: &mut impl Executor, workspace_id: &str) -> Result<Vec<(&'static str, i64)>> {
    let mut out = Vec::new();
    for (table, sql) in [
        ("workspaces", "SELECT COUNT(*) FROM workspaces WHERE id = $1"),
        ("memberships", "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1"),
        ("agents", "SELECT COUNT(*) FROM agents WHERE workspace_id = $1"),
        ("phone_numbers", "SELECT COUNT(*) FROM phone_numbers WHERE workspace_id = $1"),
        ("sessions", "SELECT COUNT(*) FROM sessions WHERE active_workspace_id = $1"),
    ] {
        let n: i64 = on!(ex, |c| sqlx::query_scalar(sql).bind(workspace_id).fetch_one(c).await)?;
        out.push((table, n));
    }
    Ok(out)
}

/// A digest of every control table, to prove a refused request changed nothing.
pub async fn snapshot(ex: &mut impl Executor) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for sql in [
        "SELECT id || '|' || name || '|' || status || '|' || region || '|' || CAST(updated_at AS TEXT) FROM workspaces ORDER BY id",
        "SELECT workspace_id || '|' || user_id || '|' || role FROM memberships ORDER BY workspace_id, user_id",
        "SELECT account_id || '|' || user_id || '|' || role FROM account_users ORDER BY account_id, user_id",
        "SELECT workspace_id || '|' || id || '|' || status FROM agents ORDER BY workspace_id, id",
        "SELECT workspace_id || '|' || id || '|' || status FROM phone_numbers ORDER BY workspace_id, id",
        "SELECT CAST(COUNT(*) AS TEXT) FROM audit_events",
    ] {
        let rows: Vec<String> = on!(ex, |c| sqlx::query_scalar(sql).fetch_all(c).await)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Creates an empty Postgres database `name` through `admin_url`; returns its URL.
pub async fn create_postgres_database(admin_url: &str, name: &str) -> Result<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    let sql = format!("CREATE DATABASE \"{name}\"");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
    conn.close().await?;
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
    Ok(format!("{base}/{name}"))
}

/// The audit actions recorded for a workspace, oldest first.
pub async fn audit_actions(ex: &mut impl Executor, workspace_id: &str) -> Result<Vec<String>> {
    Ok(on!(ex, |c| sqlx::query_scalar("SELECT action FROM audit_events WHERE workspace_id = $1 ORDER BY id")
        .bind(workspace_id)
        .fetch_all(c)
        .await)?)
}

/// Takes a user out of an account: its admin role and every membership in its workspaces.
pub async fn detach_user(ex: &mut impl Executor, account_id: &str, user_id: &str) -> Result<()> {
    execute!(
        ex,
        "DELETE FROM memberships WHERE user_id = $2 AND workspace_id IN (SELECT id FROM workspaces WHERE account_id = $1)",
        account_id,
        user_id
    )?;
    execute!(ex, "DELETE FROM account_users WHERE account_id = $1 AND user_id = $2", account_id, user_id)?;
    Ok(())
}
