//! The providers' ledger of numbers (control database): which workspace holds each
//! number, across every region (SPEC P2, I4).

use crate::db::Executor;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Allocation {
    pub e164: String,
    pub workspace_id: String,
    pub phone_number_id: String,
}

/// Records that `workspace_id` holds the number; a unique violation when someone does.
pub async fn allocate(
    ex: &mut impl Executor,
    provider: &str,
    e164: &str,
    workspace_id: &str,
    phone_number_id: &str,
    idempotency_key: Option<&str>,
    now: i64,
) -> Result<()> {
    execute!(
        ex,
        "INSERT INTO carrier_allocations (provider, e164, workspace_id, phone_number_id, idempotency_key, allocated_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
        provider,
        e164,
        workspace_id,
        phone_number_id,
        idempotency_key,
        now
    )?;
    Ok(())
}

/// The purchase a workspace made with this Idempotency-Key, if any.
pub async fn by_key(ex: &mut impl Executor, workspace_id: &str, key: &str) -> Result<Option<Allocation>> {
    Ok(on!(ex, |c| {
        sqlx::query_as(
        "SELECT e164, workspace_id, phone_number_id FROM carrier_allocations WHERE workspace_id = $1 AND idempotency_key = $2"
    )
    .bind(workspace_id)
    .bind(key)
    .fetch_optional(c)
    .await
    })?)
}

/// Which of these numbers someone holds.
pub async fn held(ex: &mut impl Executor, provider: &str, e164s: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for chunk in e164s.chunks(100) {
        let marks: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql =
            format!("SELECT e164 FROM carrier_allocations WHERE provider = $1 AND e164 IN ({})", marks.join(", "));
        let rows: Vec<String> = on!(ex, |c| {
            let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).bind(provider);
            for e in chunk {
                q = q.bind(e);
            }
            q.fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Gives the number back to the provider's inventory.
pub async fn release(ex: &mut impl Executor, provider: &str, e164: &str, workspace_id: &str) -> Result<()> {
    execute!(
        ex,
        "DELETE FROM carrier_allocations WHERE provider = $1 AND e164 = $2 AND workspace_id = $3",
        provider,
        e164,
        workspace_id
    )?;
    Ok(())
}

/// Moves the number to another workspace (a transfer).
pub async fn reassign(
    ex: &mut impl Executor,
    provider: &str,
    e164: &str,
    from_workspace: &str,
    to_workspace: &str,
    phone_number_id: &str,
) -> Result<bool> {
    Ok(execute!(
        ex,
        "UPDATE carrier_allocations SET workspace_id = $4, phone_number_id = $5, idempotency_key = NULL
         WHERE provider = $1 AND e164 = $2 AND workspace_id = $3",
        provider,
        e164,
        from_workspace,
        to_workspace,
        phone_number_id
    )? > 0)
}

/// Who holds a number: where the carrier delivers an inbound call.
pub async fn holder(ex: &mut impl Executor, provider: &str, e164: &str) -> Result<Option<Allocation>> {
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT e164, workspace_id, phone_number_id FROM carrier_allocations WHERE provider = $1 AND e164 = $2"
    )
    .bind(provider)
    .bind(e164)
    .fetch_optional(c)
    .await)?)
}
