//! Voice agents (SPEC P3) and Settings → default agent settings (W8).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use callplane_store::product::agents::{self, Agent, Defaults};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::views::{rfc3339, Page, Problem};
use crate::api::{keyset_page, ApiJson, ApiQuery, PageParams};
use crate::auth::WorkspaceScope;
use crate::error::ApiResult;
use crate::services::agents::{self as svc, Input};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    /// `active` or `inactive`.
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
    /// The signing secret of the agent's webhook endpoint, in the answer to the change
    /// that created it, and only there (see `/webhooks`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Agent> for AgentView {
    fn from(a: &Agent) -> Self {
        Self {
            id: a.id.clone(),
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
            webhook_secret: None,
            created_at: rfc3339(a.created_at),
            updated_at: rfc3339(a.updated_at),
        }
    }
}

impl From<svc::Saved> for AgentView {
    fn from(s: svc::Saved) -> Self {
        Self { webhook_secret: s.webhook_secret, ..Self::from(&s.agent) }
    }
}

/// An agent to create (`name` required; the rest defaults from the workspace's
/// settings) or the fields to change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentRequest {
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
    /// The post-call analysis template; `""` clears it.
    pub analysis_template_id: Option<String>,
}

impl From<AgentRequest> for Input {
    fn from(r: AgentRequest) -> Self {
        Input {
            name: r.name,
            status: r.status,
            system_prompt: r.system_prompt,
            first_message: r.first_message,
            llm_model: r.llm_model,
            transcriber: r.transcriber,
            tts_voice: r.tts_voice,
            max_call_seconds: r.max_call_seconds,
            recording: r.recording,
            webhook_url: r.webhook_url,
            analysis_template_id: r.analysis_template_id,
            default_country: None,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/agents", tag = "agents", params(("ws" = String, Path), PageParams),
    security(("bearer" = [])), responses((status = 200, body = Page<AgentView>), (status = 404, body = Problem)))]
pub async fn list(scope: WorkspaceScope, ApiQuery(q): ApiQuery<PageParams>) -> ApiResult<Json<Page<AgentView>>> {
    let (limit, cursor) = (q.limit()?, q.keyset_cursor("agt")?);
    let rows = agents::list(&mut scope.read().await?, cursor, limit + 1).await?;
    Ok(Json(keyset_page(&rows, limit, |a| a.id.clone(), |a| AgentView::from(a))))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/agents", tag = "agents", params(("ws" = String, Path)),
    request_body = AgentRequest, security(("bearer" = [])),
    responses((status = 201, body = AgentView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(req): ApiJson<AgentRequest>,
) -> ApiResult<(StatusCode, Json<AgentView>)> {
    let saved = svc::create(&state, &scope, &req.into()).await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/agents/{id}", tag = "agents",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = AgentView), (status = 404, body = Problem)))]
pub async fn get(scope: WorkspaceScope, Path((_, id)): Path<(String, String)>) -> ApiResult<Json<AgentView>> {
    Ok(Json((&svc::get(&scope, &id).await?).into()))
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/agents/{id}", tag = "agents",
    params(("ws" = String, Path), ("id" = String, Path)), request_body = AgentRequest, security(("bearer" = [])),
    responses((status = 200, body = AgentView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiJson(req): ApiJson<AgentRequest>,
) -> ApiResult<Json<AgentView>> {
    Ok(Json(svc::update(&state, &scope, &id, &req.into()).await?.into()))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/agents/{id}", tag = "agents",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    svc::delete(&state, &scope, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Default agent settings (W8) and what the installation allows.
#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsView {
    pub agent_defaults: AgentDefaultsView,
    /// The country national phone numbers are read in (P1): the workspace's setting, or
    /// its region's when it has none.
    pub default_country: String,
    /// Whether `default_country` is the workspace's own setting (else the region's).
    pub default_country_set: bool,
    pub allowed: AllowedView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgentDefaultsView {
    pub llm_model: String,
    pub transcriber: String,
    pub tts_voice: String,
    pub max_call_seconds: i64,
    pub recording: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllowedView {
    pub llm_models: Vec<String>,
    pub transcribers: Vec<String>,
    pub tts_voices: Vec<String>,
    pub max_call_seconds_limit: i64,
}

fn settings_view(state: &AppState, scope: &WorkspaceScope, d: Defaults) -> SettingsView {
    let c = &state.config.agents;
    SettingsView {
        default_country_set: d.default_country.is_some(),
        default_country: d.default_country.unwrap_or_else(|| state.config.default_country(scope.region())),
        agent_defaults: AgentDefaultsView {
            llm_model: d.llm_model,
            transcriber: d.transcriber,
            tts_voice: d.tts_voice,
            max_call_seconds: d.max_call_seconds,
            recording: d.recording,
        },
        allowed: AllowedView {
            llm_models: c.llm_models.clone(),
            transcribers: c.transcribers.clone(),
            tts_voices: c.tts_voices.clone(),
            max_call_seconds_limit: c.max_call_seconds_limit,
        },
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsRequest {
    #[serde(default)]
    pub agent_defaults: AgentDefaultsRequest,
    /// An ISO 3166-1 alpha-2 code; `""` returns to the region's default.
    pub default_country: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentDefaultsRequest {
    pub llm_model: Option<String>,
    pub transcriber: Option<String>,
    pub tts_voice: Option<String>,
    pub max_call_seconds: Option<i64>,
    pub recording: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/settings", tag = "agents", params(("ws" = String, Path)),
    security(("bearer" = [])), responses((status = 200, body = SettingsView), (status = 404, body = Problem)))]
pub async fn get_settings(State(state): State<AppState>, scope: WorkspaceScope) -> ApiResult<Json<SettingsView>> {
    let d = svc::defaults(&state, &scope).await?;
    Ok(Json(settings_view(&state, &scope, d)))
}

#[utoipa::path(put, path = "/api/v1/workspaces/{ws}/settings", tag = "agents", params(("ws" = String, Path)),
    request_body = SettingsRequest, security(("bearer" = [])),
    responses((status = 200, body = SettingsView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_settings(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(req): ApiJson<SettingsRequest>,
) -> ApiResult<Json<SettingsView>> {
    let r = req.agent_defaults;
    let input = Input {
        llm_model: r.llm_model,
        transcriber: r.transcriber,
        tts_voice: r.tts_voice,
        max_call_seconds: r.max_call_seconds,
        recording: r.recording,
        default_country: req.default_country,
        ..Input::default()
    };
    let d = svc::save_defaults(&state, &scope, &input).await?;
    Ok(Json(settings_view(&state, &scope, d)))
}
