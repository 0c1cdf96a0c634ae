//! Accounts (organizations) and who administers them.

use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub created_at: i64,
}

/// An account as one user sees it: with that user's account role.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserAccount {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub role: String,
}

pub async fn create(ex: &mut impl Executor, id: &str, name: &str, plan: &str, now: i64) -> Result<Account> {
    Ok(on!(ex, |c| sqlx::query_as(
        "INSERT INTO accounts (id, name, plan, created_at) VALUES ($1, $2, $3, $4)
         RETURNING id, name, plan, created_at"
    )
    .bind(id)
    .bind(name)
    .bind(plan)
    .bind(now)
    .fetch_one(c)
    .await)?)
}

pub async fn add_user(ex: &mut impl Executor, account_id: &str, user_id: &str, role: &str, now: i64) -> Result<()> {
    ex.access_changed();
    execute!(
        ex,
        "INSERT INTO account_users (account_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        account_id,
        user_id,
        role,
        now
    )?;
    Ok(())
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Option<Account>> {
    Ok(on!(ex, |c| sqlx::query_as("SELECT id, name, plan, created_at FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

/// Accounts the user belongs to, oldest first.
pub async fn for_user(ex: &mut impl Executor, user_id: &str) -> Result<Vec<UserAccount>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT a.id, a.name, a.plan, au.role FROM accounts a
         JOIN account_users au ON au.account_id = a.id
         WHERE au.user_id = $1 ORDER BY a.created_at, a.id"
    )
    .bind(user_id)
    .fetch_all(c)
    .await)?)
}

/// The user's role in the account, if they belong to it.
pub async fn role_of(ex: &mut impl Executor, account_id: &str, user_id: &str) -> Result<Option<String>> {
    Ok(on!(ex, |c| sqlx::query_scalar("SELECT role FROM account_users WHERE account_id = $1 AND user_id = $2")
        .bind(account_id)
        .bind(user_id)
        .fetch_optional(c)
        .await)?)
}

/// Takes the account's row lock for the rest of the transaction (a no-op write that
/// Postgres locks and SQLite's single writer serialises anyway).
pub async fn lock(ex: &mut impl Executor, account_id: &str) -> Result<()> {
    execute!(ex, "UPDATE accounts SET plan = plan WHERE id = $1", account_id)?;
    Ok(())
}

pub async fn set_plan(ex: &mut impl Executor, account_id: &str, plan: &str) -> Result<()> {
    ex.access_changed();
    execute!(ex, "UPDATE accounts SET plan = $2 WHERE id = $1", account_id, plan)?;
    Ok(())
}

pub async fn remove_user(ex: &mut impl Executor, account_id: &str, user_id: &str) -> Result<bool> {
    ex.access_changed();
    Ok(execute!(ex, "DELETE FROM account_users WHERE account_id = $1 AND user_id = $2", account_id, user_id)? > 0)
}

pub async fn set_user_role(ex: &mut impl Executor, account_id: &str, user_id: &str, role: &str) -> Result<bool> {
    ex.access_changed();
    Ok(execute!(
        ex,
        "UPDATE account_users SET role = $3 WHERE account_id = $1 AND user_id = $2",
        account_id,
        user_id,
        role
    )? > 0)
}
