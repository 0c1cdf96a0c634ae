//! Events (SPEC E1): what the workspace's webhooks are told, and when. Each event is
//! written to the outbox of the workspace's region database in the transaction of the
//! change that caused it (see `callplane_store::product::webhooks`), with one delivery
//! per endpoint that wants it: the workspace's endpoints (every agent's events) and the
//! agent's own. An event no endpoint wants is not stored.
//!
//! Every message has the same envelope: `{"id", "type", "timestamp", "workspace_id",
//! "data"}`; `id` is also the `webhook-id` header, the same on every retry.

use callplane_domain::id::new_id;
use callplane_store::product::calls::{self, Call};
use callplane_store::product::imports::Import;
use callplane_store::product::webhooks::{self, NewEvent};
use callplane_store::product::InWorkspace;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::api::views::rfc3339;
use crate::error::ApiResult;

/// One entry of the event catalog.
pub struct EventType {
    pub name: &'static str,
    pub summary: &'static str,
    /// The `data` of an example message.
    pub example: fn() -> Value,
}

/// Every event a webhook can receive.
pub const CATALOG: &[EventType] = &[
    EventType {
        name: "call.queued",
        summary: "A call was placed (outbound) or arrived (inbound) and waits for the carrier.",
        example: || call_example("queued"),
    },
    EventType {
        name: "call.ringing",
        summary: "The carrier is ringing the other side.",
        example: || call_example("ringing"),
    },
    EventType {
        name: "call.started",
        summary: "The call was answered; the agent talks.",
        example: || call_example("in-progress"),
    },
    EventType {
        name: "call.ended",
        summary: "The call ended: completed, busy, no-answer, failed or canceled (see end_reason).",
        example: || call_example("completed"),
    },
    EventType {
        name: "call.analyzed",
        summary: "The post-call analysis of an answered call is ready, shaped by the agent's analysis template.",
        example: || {
            serde_json::to_value(CallAnalyzedData {
                call_id: EXAMPLE_CALL.into(),
                agent_id: Some(EXAMPLE_AGENT.into()),
                outcome: Some("booked".into()),
                analysis: json!({ "summary": "The contact booked a visit for Tuesday at 11:00.", "interested": true }),
            })
            .unwrap_or_default()
        },
    },
    EventType {
        name: "contact.import.completed",
        summary: "A CSV import of contacts finished (or failed as a whole).",
        example: || {
            serde_json::to_value(ImportCompletedData {
                import_id: "imp_0193a1b2c3d4e5f60718293a4b5c6d7e".into(),
                file_name: "leads.csv".into(),
                status: "completed".into(),
                rows: 1200,
                imported: 1180,
                updated: 0,
                skipped: 12,
                failed: 8,
                error: None,
            })
            .unwrap_or_default()
        },
    },
    EventType {
        name: "campaign.scheduled",
        summary: "A campaign was started with a start time in the future; it runs from then.",
        example: || campaign_example("scheduled", None),
    },
    EventType {
        name: "campaign.started",
        summary: "A campaign began dialing (started, or its scheduled start came).",
        example: || campaign_example("running", None),
    },
    EventType {
        name: "campaign.paused",
        summary: "A campaign stopped dialing: paused by a person, or by itself with a reason (insufficient_funds, agent_inactive, number_unavailable, access_lost).",
        example: || campaign_example("paused", Some("insufficient_funds")),
    },
    EventType {
        name: "campaign.resumed",
        summary: "A paused campaign dials again.",
        example: || campaign_example("running", None),
    },
    EventType {
        name: "campaign.completed",
        summary: "Every contact of a campaign was dialed (retries included) or skipped.",
        example: || campaign_example("completed", None),
    },
    EventType {
        name: "campaign.cancelled",
        summary: "A campaign was cancelled; contacts not yet dialed are not called.",
        example: || campaign_example("cancelled", None),
    },
    EventType {
        name: "webhook.test",
        summary: "Sent by \"Send a test event\" to one endpoint, to check that it receives and verifies messages.",
        example: || {
            serde_json::to_value(TestEventData {
                endpoint_id: "wh_0193a1b2c3d4e5f60718293a4b5c6d7e".into(),
                message: "This is a test event from callplane.".into(),
            })
            .unwrap_or_default()
        },
    },
];

/// Whether `t` names an event of the catalog.
pub fn is_known(t: &str) -> bool {
    CATALOG.iter().any(|e| e.name == t)
}

/// An example message of the event type (for the docs).
pub fn example_message(e: &EventType) -> Value {
    json!({
        "id": "evt_0193a1b2c3d4e5f60718293a4b5c6d7e",
        "type": e.name,
        "timestamp": "2026-11-24T10:15:30.123Z",
        "workspace_id": "ws_0193a1b2c3d4e5f60718293a4b5c6d7e",
        "data": (e.example)(),
    })
}

/// The envelope every webhook message has.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookMessage {
    /// The event's id, also sent as the `webhook-id` header: the same on every retry and
    /// redelivery, so receivers can drop duplicates.
    pub id: String,
    /// One of the catalog's types (`call.queued`, `call.ringing`, `call.started`,
    /// `call.ended`, `call.analyzed`, `campaign.scheduled`, `campaign.started`,
    /// `campaign.paused`, `campaign.resumed`, `campaign.completed`,
    /// `campaign.cancelled`, `contact.import.completed`, `webhook.test`).
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the event happened (RFC 3339).
    pub timestamp: String,
    pub workspace_id: String,
    /// `CallEventData`, `CallAnalyzedData`, `ImportCompletedData` or `TestEventData`,
    /// by type.
    #[schema(value_type = Object)]
    pub data: Value,
}

/// `data` of `call.queued`, `call.ringing`, `call.started` and `call.ended`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallEventData {
    pub call: CallSummary,
}

/// A call as events describe it (money is not in events: read it through the API with
/// `billing_view`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CallSummary {
    pub id: String,
    /// `outbound` or `inbound`.
    pub direction: String,
    /// `queued`, `ringing`, `in-progress`, `completed`, `busy`, `no-answer`, `failed`,
    /// `canceled`.
    pub status: String,
    pub agent_id: Option<String>,
    pub phone_number_id: Option<String>,
    pub contact_id: Option<String>,
    pub from: String,
    pub to: String,
    pub duration_secs: i64,
    pub billed_minutes: i64,
    /// Why it ended (on `call.ended`).
    pub end_reason: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
}

impl From<&Call> for CallSummary {
    fn from(c: &Call) -> Self {
        Self {
            id: c.id.clone(),
            direction: c.direction.clone(),
            status: c.status.clone(),
            agent_id: c.agent_id.clone(),
            phone_number_id: c.phone_number_id.clone(),
            contact_id: c.contact_id.clone(),
            from: c.from_e164.clone(),
            to: c.to_e164.clone(),
            duration_secs: c.duration_secs,
            billed_minutes: c.billed_minutes,
            end_reason: c.end_reason.clone(),
            error: c.error.clone(),
            created_at: rfc3339(c.created_at),
            answered_at: c.answered_at.map(rfc3339),
            ended_at: c.ended_at.map(rfc3339),
        }
    }
}

/// `data` of `call.analyzed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallAnalyzedData {
    pub call_id: String,
    pub agent_id: Option<String>,
    /// `booked`, `callback` or `not_interested`.
    pub outcome: Option<String>,
    /// The fields of the agent's analysis template, filled.
    #[schema(value_type = Object)]
    pub analysis: Value,
}

/// `data` of `contact.import.completed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportCompletedData {
    pub import_id: String,
    pub file_name: String,
    /// `completed` or `failed`.
    pub status: String,
    pub rows: i64,
    pub imported: i64,
    pub updated: i64,
    pub skipped: i64,
    pub failed: i64,
    /// Why the whole file failed.
    pub error: Option<String>,
}

/// `data` of `webhook.test`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestEventData {
    pub endpoint_id: String,
    pub message: String,
}

const EXAMPLE_CALL: &str = "call_0193a1b2c3d4e5f60718293a4b5c6d7e";
const EXAMPLE_AGENT: &str = "agt_0193a1b2c3d4e5f60718293a4b5c6d7e";

fn call_example(status: &str) -> Value {
    let ended = !matches!(status, "queued" | "ringing" | "in-progress");
    let answered = !matches!(status, "queued" | "ringing");
    let call = CallSummary {
        id: EXAMPLE_CALL.into(),
        direction: "outbound".into(),
        status: status.into(),
        agent_id: Some(EXAMPLE_AGENT.into()),
        phone_number_id: Some("num_0193a1b2c3d4e5f60718293a4b5c6d7e".into()),
        contact_id: Some("ct_0193a1b2c3d4e5f60718293a4b5c6d7e".into()),
        from: "+918045671234".into(),
        to: "+919812345678".into(),
        duration_secs: if ended { 94 } else { 0 },
        billed_minutes: if ended { 2 } else { 0 },
        end_reason: ended.then(|| "hangup".into()),
        error: None,
        created_at: "2026-11-24T10:15:30.123Z".into(),
        answered_at: answered.then(|| "2026-11-24T10:15:36.402Z".into()),
        ended_at: ended.then(|| "2026-11-24T10:17:10.402Z".into()),
    };
    serde_json::to_value(CallEventData { call }).unwrap_or_default()
}

fn campaign_example(status: &str, reason: Option<&str>) -> Value {
    let done = status == "completed";
    let data = crate::services::campaigns::CampaignEventData {
        campaign_id: "cmp_0193a1b2c3d4e5f60718293a4b5c6d7e".into(),
        name: "November renewals".into(),
        agent_id: EXAMPLE_AGENT.into(),
        status: status.into(),
        reason: reason.map(str::to_owned),
        progress: crate::services::campaigns::Progress {
            total: 500,
            dialed: if done { 488 } else { 210 },
            answered: if done { 301 } else { 122 },
            in_progress: if done { 0 } else { 5 },
            remaining: if done { 0 } else { 278 },
            skipped: 12,
            failed: if done { 187 } else { 83 },
            attempts: if done { 702 } else { 260 },
        },
    };
    serde_json::to_value(data).unwrap_or_default()
}

/// Writes an event about `agent_id` (or about no agent) to the outbox, in the caller's
/// transaction, for every endpoint that wants it. Returns whether any does.
pub async fn emit(
    tx: &mut impl InWorkspace,
    event_type: &str,
    agent_id: Option<&str>,
    data: impl Serialize,
    now: i64,
) -> ApiResult<bool> {
    let recipients = webhooks::recipients(tx, agent_id).await?;
    emit_to(tx, &recipients, event_type, data, now).await
}

/// [`emit`] to endpoints already read (`(id, event types)`).
async fn emit_to(
    tx: &mut impl InWorkspace,
    recipients: &[(String, String)],
    event_type: &str,
    data: impl Serialize,
    now: i64,
) -> ApiResult<bool> {
    let wanted: Vec<&str> =
        recipients.iter().filter(|(_, types)| webhooks::wants(types, event_type)).map(|(id, _)| id.as_str()).collect();
    if wanted.is_empty() {
        return Ok(false);
    }
    enqueue(tx, event_type, data, &wanted, now).await?;
    Ok(true)
}

/// Writes an event for exactly these endpoints.
pub async fn enqueue(
    tx: &mut impl InWorkspace,
    event_type: &str,
    data: impl Serialize,
    endpoint_ids: &[&str],
    now: i64,
) -> ApiResult<String> {
    let id = new_id("evt");
    let message = WebhookMessage {
        id: id.clone(),
        event_type: event_type.to_owned(),
        timestamp: rfc3339(now),
        workspace_id: tx.workspace_id().to_owned(),
        data: serde_json::to_value(data).unwrap_or_default(),
    };
    let payload = serde_json::to_string(&message).unwrap_or_default();
    webhooks::enqueue(tx, &NewEvent { id: &id, event_type, payload: &payload }, endpoint_ids, now).await?;
    Ok(id)
}

/// The event a call's new status makes (`call.queued`, `call.ringing`, `call.started`,
/// `call.ended`), and `call.analyzed` when an ended call left an analysis. Called in the
/// transaction that moved the call, with the call as it now is.
pub async fn call_changed(tx: &mut impl InWorkspace, call: &Call, now: i64) -> ApiResult<bool> {
    let event_type = match call.status.as_str() {
        "queued" => "call.queued",
        "ringing" => "call.ringing",
        "in-progress" => "call.started",
        _ => "call.ended",
    };
    // The endpoints are read once for both events; the artifacts only when one wants
    // the analysis.
    let recipients = webhooks::recipients(tx, call.agent_id.as_deref()).await?;
    let mut any = emit_to(tx, &recipients, event_type, CallEventData { call: call.into() }, now).await?;
    let analyzed = recipients.iter().any(|(_, types)| webhooks::wants(types, "call.analyzed"));
    if analyzed && call.has_ended() && call.answered_at.is_some() {
        if let Some(a) = calls::artifacts(tx, &call.id).await? {
            if let Some(analysis) = a.analysis.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok()) {
                let data = CallAnalyzedData {
                    call_id: call.id.clone(),
                    agent_id: call.agent_id.clone(),
                    outcome: a.outcome,
                    analysis,
                };
                any |= emit_to(tx, &recipients, "call.analyzed", data, now).await?;
            }
        }
    }
    Ok(any)
}

/// `contact.import.completed`, in the transaction that finishes the import.
pub async fn import_finished(
    tx: &mut impl InWorkspace,
    import: &Import,
    error: Option<&str>,
    now: i64,
) -> ApiResult<bool> {
    let data = ImportCompletedData {
        import_id: import.id.clone(),
        file_name: import.file_name.clone(),
        status: if error.is_some() { "failed" } else { "completed" }.into(),
        rows: import.rows_done,
        imported: import.imported,
        updated: import.updated,
        skipped: import.skipped,
        failed: import.failed,
        error: error.map(str::to_owned),
    };
    emit(tx, "contact.import.completed", None, data, now).await
}
