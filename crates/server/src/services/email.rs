//! Outgoing email (SPEC T4). Emails are queued in the `emails` table inside the
//! transaction that causes them; [`deliver_pending`] sends them over SMTP when
//! `email.smtp_url` is configured. Without SMTP they stay in the local outbox, which
//! the operator reads with `callplane admin outbox`.

use callplane_domain::id::new_id;
use callplane_store::{emails, Tx};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::ApiResult;
use crate::state::AppState;

const MAX_ATTEMPTS: i64 = 8;

/// Queues an email in the caller's transaction.
pub async fn queue(tx: &mut Tx, state: &AppState, to: &str, subject: &str, body: &str) -> ApiResult<()> {
    emails::enqueue(tx, &new_id("eml"), to, subject, body, state.now()).await?;
    Ok(())
}

/// Whether emails leave the machine (SMTP configured) or stay in the outbox.
pub fn smtp_configured(state: &AppState) -> bool {
    state.config.email.smtp_url.is_some()
}

/// Sends every unsent email over SMTP; returns how many were sent. Failures are
/// recorded per email and retried on the next run, up to a limit.
pub async fn deliver_pending(state: &AppState) -> anyhow::Result<usize> {
    let Some(url) = &state.config.email.smtp_url else { return Ok(0) };
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?.build();
    let from: Mailbox = state.config.email.from.parse()?;
    // Claimed with a lease: replicas sharing the database never send one email twice.
    let mut tx = state.db.begin().await?;
    let now = state.now();
    let pending = emails::claim(&mut tx, now, now + state.config.workers.lease_secs * 1000, MAX_ATTEMPTS, 10).await?;
    tx.commit().await?;
    let mut sent = 0;
    for email in pending {
        let result = async {
            let message = Message::builder()
                .from(from.clone())
                .to(email.to_email.parse()?)
                .subject(email.subject.clone())
                .body(email.body.clone())?;
            transport.send(message).await?;
            anyhow::Ok(())
        }
        .await;
        let mut tx = state.db.begin().await?;
        match result {
            Ok(()) => {
                emails::mark_sent(&mut tx, &email.id, state.now()).await?;
                sent += 1;
            }
            Err(e) => {
                tracing::warn!(email = %email.id, error = %e, "email delivery failed");
                emails::mark_failed(&mut tx, &email.id, &format!("{e:#}")).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(sent)
}

/// The delivery worker: wakes when an email is queued, or every few seconds to retry.
pub async fn run_worker(state: AppState) {
    if !smtp_configured(&state) {
        return;
    }
    loop {
        if let Err(e) = deliver_pending(&state).await {
            tracing::warn!(error = %e, "email worker");
        }
        tokio::select! {
            _ = state.email_wakeup.notified() => {}
            _ = tokio::time::sleep(std::time::Duration::from_secs(state.config.workers.poll_secs)) => {}
        }
    }
}
