//! Test support: rows that tests plant directly (for tables whose endpoints arrive in
//! later issues) and throwaway databases. Compiled only with the `test-fixtures` feature.

use crate::db::{Executor, Raw};
use crate::error::Result;

/// An agent in `workspace_id` (on its region database), `active` or `inactive`.
pub async fn insert_agent(ex: &mut impl Raw, workspace_id: &str, id: &str, status: &str) -> Result<()> {
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
pub async fn insert_phone_number(ex: &mut impl Raw, workspace_id: &str, id: &str, status: &str) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO phone_numbers (workspace_id, id, e164, status, created_at) VALUES ($1, $2, '+911234567890', $3, 0)",
        workspace_id,
        id,
        status
    )?;
    Ok(())
}

pub async fn set_agent_status(ex: &mut impl Raw, workspace_id: &str, id: &str, status: &str) -> Result<()> {
    execute!(ex, "UPDATE agents SET status = $3 WHERE workspace_id = $1 AND id = $2", workspace_id, id, status)?;
    Ok(())
}

pub async fn set_phone_number_status(ex: &mut impl Raw, workspace_id: &str, id: &str, status: &str) -> Result<()> {
    execute!(ex, "UPDATE phone_numbers SET status = $3 WHERE workspace_id = $1 AND id = $2", workspace_id, id, status)?;
    Ok(())
}

/// The region of a workspace (whatever its lifecycle).
pub async fn region_of(ex: &mut impl Executor, workspace_id: &str) -> Result<Option<String>> {
    Ok(on!(ex, |c| sqlx::query_scalar("SELECT region FROM workspaces WHERE id = $1")
        .bind(workspace_id)
        .fetch_optional(c)
        .await)?)
}

/// A workspace of the account by name, whatever its lifecycle: `(id, lifecycle)`.
pub async fn workspace_by_name(
    ex: &mut impl Executor,
    account_id: &str,
    name: &str,
) -> Result<Option<(String, String)>> {
    Ok(on!(ex, |c| sqlx::query_as("SELECT id, lifecycle FROM workspaces WHERE account_id = $1 AND name = $2")
        .bind(account_id)
        .bind(name)
        .fetch_optional(c)
        .await)?)
}

/// Revokes a key behind the service's back (no access-change announcement), to prove
/// that a replica which lost its listener stopped trusting its cache.
pub async fn revoke_key_silently(ex: &mut impl Executor, key_id: &str) -> Result<()> {
    execute!(ex, "UPDATE api_keys SET revoked_at = 1 WHERE id = $1", key_id)?;
    Ok(())
}

/// The backend pid of a replica's access-change listener (PostgreSQL), if connected.
pub async fn listener_pid(ex: &mut impl Executor, replica: &str) -> Result<Option<i32>> {
    Ok(on!(ex, |c| sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1"
    )
    .bind(format!("callplane-listener {replica}"))
    .fetch_optional(c)
    .await)?)
}

/// Ends a PostgreSQL backend (a lost connection, as the replica sees it).
pub async fn terminate_backend(ex: &mut impl Executor, pid: i32) -> Result<()> {
    on!(ex, |c| sqlx::query("SELECT pg_terminate_backend($1)").bind(pid).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Adds `user_id` to a workspace with a role (membership management arrives with the
/// team issue's invitations).
pub async fn add_member(ex: &mut impl Executor, workspace_id: &str, user_id: &str, role: &str) -> Result<()> {
    ex.access_changed();
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
    ex.access_changed();
    execute!(
        ex,
        "INSERT INTO account_users (account_id, user_id, role, created_at) VALUES ($1, $2, $3, 0)",
        account_id,
        user_id,
        role
    )?;
    Ok(())
}

/// Row counts per control table for one workspace, to prove what a deletion removed.
pub async fn count_control_rows(ex: &mut impl Executor, workspace_id: &str) -> Result<Vec<(&'static str, i64)>> {
    count(
        ex,
        workspace_id,
        &[
            ("workspaces", "SELECT COUNT(*) FROM workspaces WHERE id = $1"),
            ("memberships", "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1"),
            ("invitations", "SELECT COUNT(*) FROM invitations WHERE workspace_id = $1"),
            ("api_keys", "SELECT COUNT(*) FROM api_keys WHERE workspace_id = $1"),
            ("sessions", "SELECT COUNT(*) FROM sessions WHERE active_workspace_id = $1"),
        ],
    )
    .await
}

/// Row counts per product table for one workspace (on its region database): every
/// table of [`crate::schema::PRODUCT_TABLES`], so a new table is counted without being
/// listed here.
pub async fn count_product_rows(ex: &mut impl Raw, workspace_id: &str) -> Result<Vec<(&'static str, i64)>> {
    let mut out = Vec::new();
    for &table in crate::schema::PRODUCT_TABLES.iter().filter(|t| !t.ends_with("_migrations")) {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE workspace_id = $1");
        let n: i64 =
            on!(ex, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).bind(workspace_id).fetch_one(c).await)?;
        out.push((table, n));
    }
    Ok(out)
}

async fn count(
    ex: &mut impl Raw,
    workspace_id: &str,
    queries: &[(&'static str, &'static str)],
) -> Result<Vec<(&'static str, i64)>> {
    let mut out = Vec::new();
    for &(table, sql) in queries {
        let n: i64 = on!(ex, |c| sqlx::query_scalar(sql).bind(workspace_id).fetch_one(c).await)?;
        out.push((table, n));
    }
    Ok(out)
}

/// A digest of the control tables, to prove a refused request changed nothing.
pub async fn snapshot_control(ex: &mut impl Executor) -> Result<Vec<String>> {
    digest(
        ex,
        &[
            "SELECT id || '|' || name || '|' || status || '|' || region || '|' || lifecycle || '|' || CAST(updated_at AS TEXT) FROM workspaces ORDER BY id",
            "SELECT workspace_id || '|' || user_id || '|' || role FROM memberships ORDER BY workspace_id, user_id",
            "SELECT account_id || '|' || user_id || '|' || role FROM account_users ORDER BY account_id, user_id",
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_events",
        ],
    )
    .await
}

/// A digest of a region database's product tables.
pub async fn snapshot_product(ex: &mut impl Raw) -> Result<Vec<String>> {
    digest(
        ex,
        &[
            "SELECT workspace_id || '|' || account_id FROM workspace_anchors ORDER BY workspace_id",
            "SELECT workspace_id || '|' || id || '|' || status FROM agents ORDER BY workspace_id, id",
            "SELECT workspace_id || '|' || id || '|' || status FROM phone_numbers ORDER BY workspace_id, id",
            "SELECT CAST(COUNT(*) AS TEXT) FROM product_audit_events",
            "SELECT workspace_id || '|' || id || '|' || phone || '|' || name || '|' || tags || '|' || CAST(updated_at AS TEXT) FROM contacts ORDER BY workspace_id, id",
            "SELECT workspace_id || '|' || tag_key || '|' || contact_id FROM contact_tags ORDER BY workspace_id, tag_key, contact_id",
        ],
    )
    .await
}

async fn digest(ex: &mut impl Raw, queries: &[&'static str]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for &sql in queries {
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

/// Drops the Postgres database `name` through `admin_url`, ending its connections.
pub async fn drop_postgres_database(admin_url: &str, name: &str) -> Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url).await?;
    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// Records a product audit event directly (for the merged audit-log tests, until
/// product endpoints write their own).
pub async fn insert_product_event(
    ex: &mut impl Raw,
    account_id: &str,
    workspace_id: &str,
    action: &str,
    now: i64,
) -> Result<String> {
    let id = callplane_domain::id::new_id(callplane_domain::id::prefix::AUDIT);
    execute!(
        ex,
        "INSERT INTO product_audit_events (id, account_id, workspace_id, actor_type, actor_id, actor_label,
                                           action, target_type, target_id, created_at)
         VALUES ($1, $2, $3, 'system', 'fixture', 'fixture', $4, 'agent', 'agt_fixture', $5)",
        &id,
        account_id,
        workspace_id,
        action,
        now
    )?;
    Ok(id)
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
    ex.access_changed();
    execute!(
        ex,
        "DELETE FROM memberships WHERE user_id = $2 AND workspace_id IN (SELECT id FROM workspaces WHERE account_id = $1)",
        account_id,
        user_id
    )?;
    execute!(ex, "DELETE FROM account_users WHERE account_id = $1 AND user_id = $2", account_id, user_id)?;
    Ok(())
}

/// Runs one statement as written (schema tests create deliberately wrong tables).
pub async fn raw_execute(ex: &mut impl Raw, sql: &str) -> Result<()> {
    let sql = sql.to_owned();
    on!(ex, |c| sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone())).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The one number a query answers (`SELECT count(*) ...`), for benchmarks and tests.
pub async fn raw_scalar(ex: &mut impl Raw, sql: &str) -> Result<i64> {
    let sql = sql.to_owned();
    Ok(on!(ex, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).fetch_one(c).await)?)
}

/// A connection acting in one workspace, for tests that call product repositories
/// directly (the server only gets such handles from a `Scope` or a claimed job).
pub struct InWorkspaceConn {
    conn: crate::db::Conn,
    workspace_id: String,
}

pub fn in_workspace(conn: crate::db::Conn, workspace_id: &str) -> InWorkspaceConn {
    InWorkspaceConn { conn, workspace_id: workspace_id.to_owned() }
}

impl Raw for InWorkspaceConn {
    fn ex(&mut self) -> crate::db::Ex<'_> {
        self.conn.ex()
    }
}

impl crate::product::InWorkspace for InWorkspaceConn {
    fn workspace_id(&self) -> &str {
        &self.workspace_id
    }
    fn account_id(&self) -> &str {
        ""
    }
}
