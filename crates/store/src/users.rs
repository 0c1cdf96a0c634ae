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
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT id, email, name, created_at, last_active_at FROM users WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

pub async fn credentials_by_email(
    ex: &mut impl Executor,
    email: &str,
) -> Result<Option<Credentials>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT id, email, password_hash FROM users WHERE email_key = $1"
    )
    .bind(email_key(email))
    .fetch_optional(c)
    .await)?)
}
