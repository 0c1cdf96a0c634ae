//! Users: one login each, email unique case-insensitively.

use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub created_at: i64,
    pub last_active_at: Option<i64>,
}

/// A user with the password hash, for sign-in only.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    pub id: String,
    pub email: String,
    pub password_hash: String,
}

/// The uniqueness key for an email address.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

pub async fn create(
    ex: &mut impl Executor,
    id: &str,
    email: &str,
    name: &str,
    password_hash: &str,
    now: i64,
) -> Result<User> {
    Ok(on!(ex, |c| sqlx::query_as(
        "INSERT INTO users (id, email, email_key, name, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         RETURNING id, email, name, created_at, last_active_at"
    )
    .bind(id)
    .bind(email.trim())
    .bind(email_key(email))
    .bind(name)
    .bind(password_hash)
    .bind(now)
    .fetch_one(c)
    .await)?)
}

pub async fn get(ex: &mut impl Executor, id: &str) -> Result<Option<User>> {
    Ok(on!(ex, |c| sqlx::query_as("SELECT id, email, name, created_at, last_active_at FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await)?)
}

pub async fn credentials_by_email(ex: &mut impl Executor, email: &str) -> Result<Option<Credentials>> {
    Ok(on!(ex, |c| sqlx::query_as("SELECT id, email, password_hash FROM users WHERE email_key = $1")
        .bind(email_key(email))
        .fetch_optional(c)
        .await)?)
}

/// A password hash that no password verifies against (users created by an admin who
/// have not yet chosen a password).
pub const NO_PASSWORD: &str = "!";

pub async fn get_by_email(ex: &mut impl Executor, email: &str) -> Result<Option<User>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT id, email, name, created_at, last_active_at FROM users WHERE email_key = $1"
    )
    .bind(email_key(email))
    .fetch_optional(c)
    .await)?)
}

pub async fn set_password(ex: &mut impl Executor, user_id: &str, password_hash: &str) -> Result<()> {
    execute!(ex, "UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)?;
    Ok(())
}

pub async fn create_password_token(
    ex: &mut impl Executor,
    id: &str,
    user_id: &str,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO password_tokens (id, user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        id,
        user_id,
        token_hash,
        now,
        expires_at
    )?;
    Ok(())
}

/// Uses a set-password token once; returns its user if it was live.
pub async fn consume_password_token(ex: &mut impl Executor, token_hash: &str, now: i64) -> Result<Option<String>> {
    Ok(on!(ex, |c| sqlx::query_scalar(
        "UPDATE password_tokens SET used_at = $2
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING user_id"
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(c)
    .await)?)
}

/// Whether a set-password token is live (for showing the form).
pub async fn password_token_user(ex: &mut impl Executor, token_hash: &str, now: i64) -> Result<Option<User>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT u.id, u.email, u.name, u.created_at, u.last_active_at
         FROM password_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2"
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(c)
    .await)?)
}
