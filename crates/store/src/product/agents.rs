//! Voice agents (SPEC P3) and the workspace's default agent settings (W8).

use super::InWorkspace;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub status: String,
    pub system_prompt: String,
    pub first_message: String,
    pub llm_model: String,
    pub transcriber: String,
    pub tts_voice: String,
    pub max_call_seconds: i64,
    pub recording: bool,
    pub webhook_url: Option<String>,
    pub analysis_template_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An agent's writable fields, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentFields {
    pub name: String,
    pub status: String,
    pub system_prompt: String,
    pub first_message: String,
    pub llm_model: String,
    pub transcriber: String,
    pub tts_voice: String,
    pub max_call_seconds: i64,
    pub recording: bool,
    pub webhook_url: Option<String>,
    pub analysis_template_id: Option<String>,
}

impl From<&Agent> for AgentFields {
    fn from(a: &Agent) -> Self {
        Self {
            name: a.name.clone(),
            status: a.status.clone(),
            system_prompt: a.system_prompt.clone(),
            first_message: a.first_message.clone(),
            llm_model: a.llm_model.clone(),
            transcriber: a.transcriber.clone(),
            tts_voice: a.tts_voice.clone(),
            max_call_seconds: a.max_call_seconds,
            recording: a.recording,
            webhook_url: a.webhook_url.clone(),
            analysis_template_id: a.analysis_template_id.clone(),
        }
    }
}

const COLUMNS: &str = "id, name, status, system_prompt, first_message, llm_model, transcriber, tts_voice, \
                       max_call_seconds, recording, webhook_url, analysis_template_id, created_at, updated_at";

pub async fn create(ex: &mut impl InWorkspace, id: &str, f: &AgentFields, now: i64) -> Result<Agent> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO agents (workspace_id, id, name, status, system_prompt, first_message, llm_model, transcriber,
                             tts_voice, max_call_seconds, recording, webhook_url, analysis_template_id, created_at,
                             updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $14, $13, $13) RETURNING {COLUMNS}"
    )))
    .bind(&ws)
    .bind(id)
    .bind(&f.name)
    .bind(&f.status)
    .bind(&f.system_prompt)
    .bind(&f.first_message)
    .bind(&f.llm_model)
    .bind(&f.transcriber)
    .bind(&f.tts_voice)
    .bind(f.max_call_seconds)
    .bind(f.recording)
    .bind(&f.webhook_url)
    .bind(now)
    .bind(&f.analysis_template_id)
    .fetch_one(c)
    .await)?)
}

pub async fn update(ex: &mut impl InWorkspace, id: &str, f: &AgentFields, now: i64) -> Result<Option<Agent>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE agents SET name = $3, status = $4, system_prompt = $5, first_message = $6, llm_model = $7,
                transcriber = $8, tts_voice = $9, max_call_seconds = $10, recording = $11, webhook_url = $12,
                updated_at = $13, analysis_template_id = $14
         WHERE workspace_id = $1 AND id = $2 RETURNING {COLUMNS}"
    )))
    .bind(&ws)
    .bind(id)
    .bind(&f.name)
    .bind(&f.status)
    .bind(&f.system_prompt)
    .bind(&f.first_message)
    .bind(&f.llm_model)
    .bind(&f.transcriber)
    .bind(&f.tts_voice)
    .bind(f.max_call_seconds)
    .bind(f.recording)
    .bind(&f.webhook_url)
    .bind(now)
    .bind(&f.analysis_template_id)
    .fetch_optional(c)
    .await)?)
}

pub async fn get(ex: &mut impl InWorkspace, id: &str) -> Result<Option<Agent>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM agents WHERE workspace_id = $1 AND id = $2"
    )))
    .bind(&ws)
    .bind(id)
    .fetch_optional(c)
    .await)?)
}

/// A page of agents older than `before_id`, newest first.
pub async fn list(ex: &mut impl InWorkspace, before_id: Option<&str>, limit: i64) -> Result<Vec<Agent>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM agents WHERE workspace_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
    )))
    .bind(&ws)
    .bind(before_id)
    .bind(limit)
    .fetch_all(c)
    .await)?)
}

pub async fn delete(ex: &mut impl InWorkspace, id: &str) -> Result<bool> {
    let ws = ex.workspace_id().to_owned();
    Ok(execute!(ex, "DELETE FROM agents WHERE workspace_id = $1 AND id = $2", &ws, id)? > 0)
}

/// Default agent settings of a workspace (W8).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Defaults {
    pub llm_model: String,
    pub transcriber: String,
    pub tts_voice: String,
    pub max_call_seconds: i64,
    pub recording: bool,
    /// The country national phone numbers are read in (P1); `None`: the region's.
    pub default_country: Option<String>,
}

/// The workspace's saved defaults, if it saved any.
pub async fn defaults(ex: &mut impl InWorkspace) -> Result<Option<Defaults>> {
    let ws = ex.workspace_id().to_owned();
    Ok(on!(ex, |c| sqlx::query_as(
        "SELECT llm_model, transcriber, tts_voice, max_call_seconds, recording, default_country FROM workspace_settings
         WHERE workspace_id = $1"
    )
    .bind(&ws)
    .fetch_optional(c)
    .await)?)
}

pub async fn save_defaults(ex: &mut impl InWorkspace, d: &Defaults, now: i64) -> Result<()> {
    let ws = ex.workspace_id().to_owned();
    execute!(
        ex,
        "INSERT INTO workspace_settings (workspace_id, llm_model, transcriber, tts_voice, max_call_seconds, recording,
                                         default_country, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (workspace_id) DO UPDATE SET llm_model = $2, transcriber = $3, tts_voice = $4,
             max_call_seconds = $5, recording = $6, default_country = $7, updated_at = $8",
        &ws,
        &d.llm_model,
        &d.transcriber,
        &d.tts_voice,
        d.max_call_seconds,
        d.recording,
        &d.default_country,
        now
    )?;
    Ok(())
}
