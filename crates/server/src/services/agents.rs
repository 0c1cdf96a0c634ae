//! Voice agents (SPEC P3) and default agent settings (W8). New agents start from the
//! workspace's defaults (or the configuration's); every field is overridable per agent.

use callplane_domain::id::new_id;
use callplane_store::access::Scope;
use callplane_store::product::agents::{self, Agent, AgentFields, Defaults};
use serde_json::json;

use crate::error::{ApiError, ApiResult};
use crate::services::audit::Auditor;
use crate::state::AppState;

/// Fields a request gives; absent ones keep their value (or take the defaults).
#[derive(Debug, Default, Clone)]
pub struct Input {
    pub name: Option<String>,
    pub status: Option<String>,
    pub system_prompt: Option<String>,
    pub first_message: Option<String>,
    pub llm_model: Option<String>,
    pub transcriber: Option<String>,
    pub tts_voice: Option<String>,
    pub max_call_seconds: Option<i64>,
    pub recording: Option<bool>,
    /// `""` clears it.
    pub webhook_url: Option<String>,
    /// The post-call analysis template (P5); `""` clears it.
    pub analysis_template_id: Option<String>,
    /// Workspace settings only: the country national numbers are read in; `""`: the
    /// region's.
    pub default_country: Option<String>,
}

fn one_of(field: &str, value: &str, allowed: &[String]) -> ApiResult<String> {
    if allowed.iter().any(|a| a == value) {
        Ok(value.to_owned())
    } else {
        Err(ApiError::invalid(field, format!("must be one of: {}", allowed.join(", "))))
    }
}

fn text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    if value.chars().count() > max || value.contains('\0') {
        return Err(ApiError::invalid(field, format!("must be at most {max} characters")));
    }
    Ok(value.to_owned())
}

fn max_call(state: &AppState, seconds: i64) -> ApiResult<i64> {
    let limit = state.config.agents.max_call_seconds_limit;
    if (30..=limit).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(ApiError::invalid("max_call_seconds", format!("must be between 30 and {limit}")))
    }
}

/// The agent's webhook URL (`""`: none), checked as every webhook URL is (E3).
fn webhook(state: &AppState, url: &str) -> ApiResult<Option<String>> {
    match url.trim() {
        "" => Ok(None),
        url => crate::services::webhooks::check_url(state, "webhook_url", url).map(Some),
    }
}

/// An agent as saved, with the signing secret of its webhook endpoint when this save
/// created it (shown once).
#[derive(Debug, Clone)]
pub struct Saved {
    pub agent: Agent,
    pub webhook_secret: Option<String>,
}

/// The defaults new agents of the workspace start from (W8).
pub async fn defaults(state: &AppState, scope: &Scope) -> ApiResult<Defaults> {
    let saved = agents::defaults(&mut scope.read().await?).await?;
    let c = &state.config.agents;
    Ok(saved.unwrap_or_else(|| Defaults {
        llm_model: c.llm_models.first().cloned().unwrap_or_default(),
        transcriber: c.transcribers.first().cloned().unwrap_or_default(),
        tts_voice: c.tts_voices.first().cloned().unwrap_or_default(),
        max_call_seconds: c.max_call_seconds,
        recording: true,
        default_country: None,
    }))
}

/// The country national phone numbers are read in for this workspace (P1): its own
/// setting, else its region's.
pub async fn default_country(state: &AppState, scope: &Scope) -> ApiResult<String> {
    let saved = agents::defaults(&mut scope.read().await?).await?.and_then(|d| d.default_country);
    Ok(saved.unwrap_or_else(|| state.config.default_country(scope.region())))
}

pub async fn save_defaults(state: &AppState, scope: &Scope, input: &Input) -> ApiResult<Defaults> {
    let current = defaults(state, scope).await?;
    let c = &state.config.agents;
    let d = Defaults {
        llm_model: one_of("llm_model", input.llm_model.as_deref().unwrap_or(&current.llm_model), &c.llm_models)?,
        transcriber: one_of(
            "transcriber",
            input.transcriber.as_deref().unwrap_or(&current.transcriber),
            &c.transcribers,
        )?,
        tts_voice: one_of("tts_voice", input.tts_voice.as_deref().unwrap_or(&current.tts_voice), &c.tts_voices)?,
        max_call_seconds: max_call(state, input.max_call_seconds.unwrap_or(current.max_call_seconds))?,
        recording: input.recording.unwrap_or(current.recording),
        default_country: match input.default_country.as_deref().map(str::trim) {
            None => current.default_country.clone(),
            Some("") => None,
            Some(code) => Some(
                callplane_domain::contact::parse_country(code).map_err(|e| ApiError::invalid(e.field, e.message))?,
            ),
        },
    };
    let now = state.now();
    let mut tx = scope.begin().await?;
    agents::save_defaults(&mut tx, &d, now).await?;
    let snapshot = |d: &Defaults| {
        json!({ "llm_model": d.llm_model, "transcriber": d.transcriber, "tts_voice": d.tts_voice,
                                          "max_call_seconds": d.max_call_seconds, "recording": d.recording,
                                          "default_country": d.default_country })
    };
    Auditor::for_scope(scope, now)
        .record_product(
            &mut tx,
            "settings.agent_defaults_updated",
            ("workspace", scope.workspace_id()),
            Some(snapshot(&current)),
            Some(snapshot(&d)),
        )
        .await?;
    tx.commit().await?;
    Ok(d)
}

fn apply(state: &AppState, base: &AgentFields, input: &Input) -> ApiResult<AgentFields> {
    let c = &state.config.agents;
    let name = match &input.name {
        Some(n) => {
            let n = n.trim();
            if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
                return Err(ApiError::invalid("name", "must be 1–100 characters"));
            }
            n.to_owned()
        }
        None => base.name.clone(),
    };
    let status = match input.status.as_deref() {
        Some(s @ ("active" | "inactive")) => s.to_owned(),
        Some(_) => return Err(ApiError::invalid("status", "must be active or inactive")),
        None => base.status.clone(),
    };
    Ok(AgentFields {
        name,
        status,
        system_prompt: text("system_prompt", input.system_prompt.as_deref().unwrap_or(&base.system_prompt), 20_000)?,
        first_message: text("first_message", input.first_message.as_deref().unwrap_or(&base.first_message), 2_000)?,
        llm_model: one_of("llm_model", input.llm_model.as_deref().unwrap_or(&base.llm_model), &c.llm_models)?,
        transcriber: one_of("transcriber", input.transcriber.as_deref().unwrap_or(&base.transcriber), &c.transcribers)?,
        tts_voice: one_of("tts_voice", input.tts_voice.as_deref().unwrap_or(&base.tts_voice), &c.tts_voices)?,
        max_call_seconds: max_call(state, input.max_call_seconds.unwrap_or(base.max_call_seconds))?,
        recording: input.recording.unwrap_or(base.recording),
        webhook_url: match &input.webhook_url {
            Some(u) => webhook(state, u)?,
            None => base.webhook_url.clone(),
        },
        analysis_template_id: match input.analysis_template_id.as_deref().map(str::trim) {
            Some("") => None,
            Some(id) => Some(id.to_owned()),
            None => base.analysis_template_id.clone(),
        },
    })
}

/// The analysis template must be one of the workspace's (I2).
async fn check_analysis_template(
    tx: &mut impl callplane_store::product::InWorkspace,
    f: &AgentFields,
) -> ApiResult<()> {
    use callplane_store::product::templates::{self, AnalysisTemplate};
    if let Some(id) = &f.analysis_template_id {
        let found: Option<AnalysisTemplate> = match callplane_domain::id::has_prefix(id, "atp") {
            true => templates::get(tx, id).await?,
            false => None,
        };
        if found.is_none() {
            return Err(ApiError::invalid("analysis_template_id", "is not an analysis template of this workspace"));
        }
    }
    Ok(())
}

fn snapshot(f: &AgentFields) -> serde_json::Value {
    json!({ "name": f.name, "status": f.status, "llm_model": f.llm_model, "transcriber": f.transcriber,
            "tts_voice": f.tts_voice, "max_call_seconds": f.max_call_seconds, "recording": f.recording,
            "webhook_url": f.webhook_url, "analysis_template_id": f.analysis_template_id,
            "system_prompt_chars": f.system_prompt.chars().count() })
}

pub async fn create(state: &AppState, scope: &Scope, input: &Input) -> ApiResult<Saved> {
    if input.name.is_none() {
        return Err(ApiError::invalid("name", "is required"));
    }
    let d = defaults(state, scope).await?;
    let base = AgentFields {
        name: String::new(),
        status: "active".into(),
        system_prompt: String::new(),
        first_message: String::new(),
        llm_model: d.llm_model,
        transcriber: d.transcriber,
        tts_voice: d.tts_voice,
        max_call_seconds: d.max_call_seconds,
        recording: d.recording,
        webhook_url: None,
        analysis_template_id: None,
    };
    let f = apply(state, &base, input)?;
    let (now, id) = (state.now(), new_id("agt"));
    let mut tx = scope.begin().await?;
    check_analysis_template(&mut tx, &f).await?;
    let agent = agents::create(&mut tx, &id, &f, now).await?;
    let endpoint = crate::services::webhooks::sync_agent(&mut tx, &id, f.webhook_url.as_deref(), now).await?;
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "agent.created", ("agent", &id), None, Some(snapshot(&f)))
        .await?;
    tx.commit().await?;
    Ok(Saved { agent, webhook_secret: endpoint.map(|e| e.secret) })
}

pub async fn get(scope: &Scope, id: &str) -> ApiResult<Agent> {
    agents::get(&mut scope.read().await?, id).await?.ok_or_else(ApiError::not_found)
}

pub async fn update(state: &AppState, scope: &Scope, id: &str, input: &Input) -> ApiResult<Saved> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let current = agents::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let before = AgentFields::from(&current);
    let after = apply(state, &before, input)?;
    if after == before {
        return Ok(Saved { agent: current, webhook_secret: None });
    }
    check_analysis_template(&mut tx, &after).await?;
    let agent = agents::update(&mut tx, id, &after, now).await?.ok_or_else(ApiError::not_found)?;
    let endpoint = crate::services::webhooks::sync_agent(&mut tx, id, after.webhook_url.as_deref(), now).await?;
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "agent.updated", ("agent", id), Some(snapshot(&before)), Some(snapshot(&after)))
        .await?;
    tx.commit().await?;
    Ok(Saved { agent, webhook_secret: endpoint.map(|e| e.secret) })
}

pub async fn delete(state: &AppState, scope: &Scope, id: &str) -> ApiResult<()> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let current = agents::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let booked = callplane_store::product::appointments::count_for_agent(&mut tx, id).await?;
    let numbers = callplane_store::product::phone_numbers::count_for_agent(&mut tx, id).await?;
    if booked > 0 || numbers > 0 {
        return Err(ApiError::new(
            crate::error::Code::AgentInUse,
            format!(
                "The agent has {booked} appointment(s) and answers {numbers} number(s); reassign them first, or deactivate the agent."
            ),
        ));
    }
    let calls = callplane_store::product::calls::count_for_agent(&mut tx, id).await?;
    if calls > 0 {
        return Err(ApiError::new(
            crate::error::Code::AgentInUse,
            format!("The agent has {calls} call(s) in the call history, which keeps it; deactivate the agent instead."),
        ));
    }
    let campaigns = callplane_store::product::campaigns::count_for_agent(&mut tx, id).await?;
    if campaigns > 0 {
        return Err(ApiError::new(
            crate::error::Code::AgentInUse,
            format!("The agent runs {campaigns} campaign(s); delete the drafts or deactivate the agent instead."),
        ));
    }
    agents::delete(&mut tx, id).await?;
    let before = snapshot(&AgentFields::from(&current));
    Auditor::for_scope(scope, now).record_product(&mut tx, "agent.deleted", ("agent", id), Some(before), None).await?;
    tx.commit().await?;
    Ok(())
}
