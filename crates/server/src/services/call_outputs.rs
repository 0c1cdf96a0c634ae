//! What an answered call leaves (SPEC P7, P5): its transcript (the agent's first message
//! rendered for the contact, then what was said), the post-call analysis shaped by the
//! agent's analysis template, and the length of its recording. Written in the same
//! transaction as the status that ends the call.

use callplane_store::product::calls::{self, Artifacts, Call};
use callplane_store::product::templates::AnalysisTemplate;
use callplane_store::product::{agents, contacts, templates, InWorkspace};
use callplane_telephony::calls::conversation;
use callplane_telephony::{Outcome, Turn};
use serde_json::{json, Map, Value};

use crate::error::ApiResult;
use crate::services::templates::{render_for, AnalysisField};

/// The transcript, analysis and recording length of `call`, which talked `talk_secs`,
/// and why it ended when it talked less than the caller would have (`script_secs`);
/// read and built without writing (the call worker builds them on a read connection
/// before its write transaction), kept by `calls::save_artifacts`.
pub async fn build(
    ex: &mut impl InWorkspace,
    call: &Call,
    talk_secs: i64,
    script_secs: i64,
    workspace_name: &str,
    now: i64,
) -> ApiResult<(Artifacts, &'static str)> {
    let agent = match &call.agent_id {
        Some(id) => agents::get(ex, id).await?,
        None => None,
    };
    let contact = match &call.contact_id {
        Some(id) => contacts::get(ex, id).await?,
        None => None,
    };
    let first = agent.as_ref().map_or(String::new(), |a| {
        render_for(&a.first_message, contact.as_ref(), Some(a), workspace_name).trim().to_owned()
    });
    let (outcome, turns) = conversation(&call.id, &first, talk_secs);
    let fields: Option<Vec<AnalysisField>> = match agent.as_ref().and_then(|a| a.analysis_template_id.as_deref()) {
        Some(id) => {
            templates::get::<AnalysisTemplate>(ex, id).await?.and_then(|t| serde_json::from_str(&t.fields).ok())
        }
        None => None,
    };
    let analysis = analyse(fields.as_deref(), outcome, &turns, talk_secs);
    let turns_json: Vec<Value> = turns
        .iter()
        .map(|t| json!({ "speaker": t.speaker.as_str(), "start_ms": t.start_ms, "end_ms": t.end_ms, "text": t.text }))
        .collect();
    let artifacts = Artifacts {
        turns: Value::Array(turns_json).to_string(),
        outcome: Some(outcome.as_str().to_owned()),
        analysis: Some(analysis.to_string()),
        recording_secs: agent.as_ref().filter(|a| a.recording).map(|_| talk_secs),
        created_at: now,
    };
    let agent_max = agent.map_or(i64::MAX, |a| a.max_call_seconds);
    let reason = if talk_secs >= script_secs {
        "hangup"
    } else if talk_secs >= agent_max {
        "agent_limit"
    } else {
        "funds_limit"
    };
    Ok((artifacts, reason))
}

/// What a number without an agent says before it hangs up.
pub const NO_AGENT_ANNOUNCEMENT: &str =
    "Thank you for calling. No one is available on this number yet; please try again later. Goodbye.";

/// The transcript of an inbound call to a number without an agent: the announcement.
pub async fn record_announcement(ex: &mut impl InWorkspace, call: &Call, now: i64) -> ApiResult<()> {
    calls::save_artifacts(ex, &call.id, &announcement(call, now)).await?;
    Ok(())
}

/// What [`record_announcement`] writes.
pub fn announcement(call: &Call, now: i64) -> Artifacts {
    let end_ms = (call.duration_secs * 1000).max(300);
    let turn =
        json!({ "speaker": "agent", "start_ms": 300.min(end_ms), "end_ms": end_ms, "text": NO_AGENT_ANNOUNCEMENT });
    Artifacts { turns: json!([turn]).to_string(), outcome: None, analysis: None, recording_secs: None, created_at: now }
}

/// Decodes the stored turns (for the recording and the pages).
pub fn turns(a: &Artifacts) -> Vec<Turn> {
    let raw: Vec<Value> = serde_json::from_str(&a.turns).unwrap_or_default();
    raw.iter()
        .map(|t| Turn {
            speaker: if t["speaker"] == "agent" {
                callplane_telephony::Speaker::Agent
            } else {
                callplane_telephony::Speaker::Caller
            },
            start_ms: t["start_ms"].as_i64().unwrap_or(0),
            end_ms: t["end_ms"].as_i64().unwrap_or(0),
            text: t["text"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// The post-call analysis: each field of the agent's template filled from how the
/// conversation went (a summary and the outcome when the agent has no template). The
/// simulated analyst reads the scripted outcome; a language model will read the
/// transcript.
pub fn analyse(fields: Option<&[AnalysisField]>, outcome: Outcome, turns: &[Turn], talk_secs: i64) -> Value {
    let finished = turns.last().is_some_and(|t| t.text.contains("goodbye") || t.text.contains("Goodbye"));
    let summary = match (outcome, finished) {
        (_, false) => "The call ended before the conversation finished.",
        (Outcome::Booked, true) => {
            "The caller booked a consultation for Thursday at 4 pm; a confirmation message follows."
        }
        (Outcome::CallBack, true) => "The caller was driving and asked to be called back tomorrow at 10 am.",
        (Outcome::NotInterested, true) => {
            "The caller is not interested for now, accepted details by message and asked not to be called again."
        }
    };
    let Some(fields) = fields else {
        return json!({ "summary": summary, "outcome": outcome.as_str() });
    };
    let score = match outcome {
        Outcome::Booked => 9,
        Outcome::CallBack => 6,
        Outcome::NotInterested => 2,
    };
    let mut out = Map::new();
    for f in fields {
        let name = f.name.as_str();
        let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
        let value = match f.kind.as_str() {
            "boolean" => json!(if has(&["not", "dnc", "opt_out", "refus"]) {
                outcome == Outcome::NotInterested
            } else if has(&["callback", "call_back", "follow"]) {
                outcome == Outcome::CallBack
            } else {
                outcome == Outcome::Booked
            }),
            "number" => json!(if has(&["duration", "second", "secs"]) {
                talk_secs
            } else if has(&["turn"]) {
                turns.len() as i64
            } else {
                score
            }),
            "enum" => json!(pick(&f.enum_values, outcome)),
            _ if has(&["sentiment", "mood"]) => json!(match outcome {
                Outcome::Booked => "positive",
                Outcome::CallBack => "neutral",
                Outcome::NotInterested => "negative",
            }),
            _ if has(&["next", "action", "follow"]) => json!(match outcome {
                Outcome::Booked => "Send the confirmation and a reminder on Thursday morning.",
                Outcome::CallBack => "Call back tomorrow at 10 am.",
                Outcome::NotInterested => "Send the details by message; mark do not call.",
            }),
            _ => json!(summary),
        };
        out.insert(f.name.clone(), value);
    }
    Value::Object(out)
}

/// The enum value that best names `outcome` (by its words), else one by position.
fn pick(values: &[String], outcome: Outcome) -> String {
    let (yes, no): (&[&str], &[&str]) = match outcome {
        Outcome::Booked => {
            (&["book", "appoint", "interest", "qualified", "positive", "yes", "success", "hot"], &["not", "no_", "un"])
        }
        Outcome::CallBack => (&["call", "later", "follow", "maybe", "neutral", "warm", "pending"], &["not"]),
        Outcome::NotInterested => (&["not", "declin", "refus", "negative", "cold", "lost", "no"], &[]),
    };
    let lower: Vec<String> = values.iter().map(|v| v.to_lowercase()).collect();
    let by_words = lower.iter().position(|v| yes.iter().any(|w| v.contains(w)) && !no.iter().any(|w| v.contains(w)));
    let index = by_words.unwrap_or(
        match outcome {
            Outcome::Booked => 0,
            Outcome::CallBack => 1,
            Outcome::NotInterested => 2,
        } % values.len().max(1),
    );
    values.get(index).cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, kind: &str, values: &[&str]) -> AnalysisField {
        AnalysisField {
            name: name.into(),
            kind: kind.into(),
            description: String::new(),
            enum_values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    #[test]
    fn p5_analysis_has_exactly_the_template_fields_with_their_types() {
        let fields = [
            field("summary", "text", &[]),
            field("interested", "boolean", &[]),
            field("lead_score", "number", &[]),
            field("disposition", "enum", &["appointment_booked", "call_back", "not_interested"]),
        ];
        for (seed, outcome, disposition, interested) in [
            ("a", Outcome::Booked, "appointment_booked", true),
            ("b", Outcome::CallBack, "call_back", false),
            ("c", Outcome::NotInterested, "not_interested", false),
        ] {
            let (_, turns) = conversation(seed, "Hello", 180);
            let v = analyse(Some(&fields), outcome, &turns, 180);
            let o = v.as_object().unwrap();
            assert_eq!(o.len(), 4, "{v}");
            assert!(o["summary"].is_string());
            assert_eq!(o["interested"], interested, "{v}");
            assert!(o["lead_score"].is_i64());
            assert_eq!(o["disposition"], disposition, "{v}");
        }
        let (_, turns) = conversation("a", "Hello", 180);
        assert_eq!(analyse(None, Outcome::Booked, &turns, 180)["outcome"], "booked");
    }
}
