//! Voice agents (P3) and Settings → Workspace (W8: default agent settings, the country
//! national numbers are read in).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use callplane_domain::Permission;
use callplane_store::product::templates::{self, AnalysisTemplate};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::api::agents::AgentView;
use crate::auth::WorkspaceScope;
use crate::error::ApiResult;
use crate::services::agents::{self as svc, Input};
use crate::web::common::{outcome, page_context, render, Dash, WebForm};

/// What the agent and settings forms offer: the configured models, transcribers and
/// voices, and the workspace's analysis templates.
async fn choices(dash: &Dash, scope: &WorkspaceScope) -> ApiResult<Map<String, Value>> {
    let c = &dash.state.config.agents;
    let analysis: Vec<AnalysisTemplate> = templates::list(&mut scope.read().await?, None, 200).await?;
    let mut ctx = Map::new();
    ctx.insert(
        "allowed".into(),
        json!({ "llm_models": c.llm_models, "transcribers": c.transcribers, "tts_voices": c.tts_voices,
                "max_call_seconds_limit": c.max_call_seconds_limit }),
    );
    ctx.insert(
        "analysis_templates".into(),
        json!(analysis.iter().map(|t| json!({ "id": t.id, "name": t.name })).collect::<Vec<_>>()),
    );
    Ok(ctx)
}

async fn list_page(dash: &Dash, scope: &WorkspaceScope, status: StatusCode, extra: Value) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "agents", "Agents").await?;
    let agents = callplane_store::product::agents::list(&mut scope.read().await?, None, 200).await?;
    let defaults = svc::defaults(state, scope).await?;
    ctx.extend(choices(dash, scope).await?);
    ctx.insert("agents".into(), json!(agents.iter().map(AgentView::from).collect::<Vec<_>>()));
    ctx.insert(
        "defaults".into(),
        // The new-agent form starts from the workspace's defaults (W8), recording included.
        json!({ "llm_model": defaults.llm_model, "transcriber": defaults.transcriber, "tts_voice": defaults.tts_voice,
                "recording": defaults.recording }),
    );
    ctx.insert("can_create".into(), json!(scope.can(Permission::AgentsCreate)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "agents.html", ctx))
}

pub async fn list(dash: Dash, scope: WorkspaceScope) -> ApiResult<Response> {
    list_page(&dash, &scope, StatusCode::OK, json!({})).await
}

/// The agent form: every field as text; the checkbox is absent when unticked.
#[derive(Debug, Deserialize)]
pub struct AgentForm {
    name: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    system_prompt: String,
    #[serde(default)]
    first_message: String,
    llm_model: String,
    transcriber: String,
    tts_voice: String,
    #[serde(default)]
    max_call_seconds: Option<String>,
    #[serde(default)]
    recording: Option<String>,
    #[serde(default)]
    webhook_url: String,
    #[serde(default)]
    analysis_template_id: String,
}

impl AgentForm {
    fn input(self) -> ApiResult<Input> {
        let max_call_seconds = match self.max_call_seconds.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(
                s.parse::<i64>()
                    .map_err(|_| crate::error::ApiError::invalid("max_call_seconds", "must be a whole number"))?,
            ),
            None => None,
        };
        Ok(Input {
            name: Some(self.name),
            status: self.status,
            system_prompt: Some(self.system_prompt),
            first_message: Some(self.first_message),
            llm_model: Some(self.llm_model),
            transcriber: Some(self.transcriber),
            tts_voice: Some(self.tts_voice),
            max_call_seconds,
            recording: Some(self.recording.is_some()),
            webhook_url: Some(self.webhook_url),
            analysis_template_id: Some(self.analysis_template_id),
            default_country: None,
        })
    }
}

pub async fn create(dash: Dash, scope: WorkspaceScope, WebForm(f): WebForm<AgentForm>) -> ApiResult<Response> {
    let result = match f.input() {
        Ok(input) => svc::create(&dash.state, &scope, &input).await,
        Err(e) => Err(e),
    };
    let (status, extra) = outcome(result.map(|s| {
        json!({ "notice": format!("Agent “{}” created.", s.agent.name),
                                                           "webhook_secret": s.webhook_secret })
    }));
    list_page(&dash, &scope, status, extra).await
}

async fn edit_page(
    dash: &Dash,
    scope: &WorkspaceScope,
    id: &str,
    status: StatusCode,
    extra: Value,
) -> ApiResult<Response> {
    let agent = svc::get(scope, id).await?;
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "agents", &agent.name).await?;
    ctx.extend(choices(dash, scope).await?);
    ctx.insert("agent".into(), json!(AgentView::from(&agent)));
    ctx.insert("can_edit".into(), json!(scope.can(Permission::AgentsEdit)));
    ctx.insert("can_delete".into(), json!(scope.can(Permission::AgentsDelete)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "agent.html", ctx))
}

pub async fn edit(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    edit_page(&dash, &scope, &id, StatusCode::OK, json!({})).await
}

pub async fn update(
    dash: Dash,
    scope: WorkspaceScope,
    Path(id): Path<String>,
    WebForm(f): WebForm<AgentForm>,
) -> ApiResult<Response> {
    let result = match f.input() {
        Ok(input) => svc::update(&dash.state, &scope, &id, &input).await,
        Err(e) => Err(e),
    };
    let (status, extra) =
        outcome(result.map(|s| json!({ "notice": "Agent saved.", "webhook_secret": s.webhook_secret })));
    edit_page(&dash, &scope, &id, status, extra).await
}

pub async fn delete(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    match svc::delete(&dash.state, &scope, &id).await {
        Ok(()) => list_page(&dash, &scope, StatusCode::OK, json!({ "notice": "Agent deleted." })).await,
        Err(e) => edit_page(&dash, &scope, &id, e.status(), json!({ "error": e.detail })).await,
    }
}

async fn settings_page(dash: &Dash, scope: &WorkspaceScope, status: StatusCode, extra: Value) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "settings", "Workspace settings").await?;
    let d = svc::defaults(state, scope).await?;
    ctx.extend(choices(dash, scope).await?);
    ctx.insert(
        "defaults".into(),
        json!({ "llm_model": d.llm_model, "transcriber": d.transcriber, "tts_voice": d.tts_voice,
                "max_call_seconds": d.max_call_seconds, "recording": d.recording }),
    );
    ctx.insert("default_country".into(), json!(d.default_country.unwrap_or_default()));
    ctx.insert("region_country".into(), json!(state.config.default_country(scope.region())));
    ctx.insert("can_edit".into(), json!(scope.can(Permission::SettingsEdit)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "settings.html", ctx))
}

pub async fn settings(dash: Dash, scope: WorkspaceScope) -> ApiResult<Response> {
    settings_page(&dash, &scope, StatusCode::OK, json!({})).await
}

#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    default_country: String,
    llm_model: String,
    transcriber: String,
    tts_voice: String,
    max_call_seconds: String,
    #[serde(default)]
    recording: Option<String>,
}

pub async fn save_settings(
    dash: Dash,
    scope: WorkspaceScope,
    WebForm(f): WebForm<SettingsForm>,
) -> ApiResult<Response> {
    let result = match f.max_call_seconds.trim().parse::<i64>() {
        Ok(seconds) => {
            let input = Input {
                llm_model: Some(f.llm_model),
                transcriber: Some(f.transcriber),
                tts_voice: Some(f.tts_voice),
                max_call_seconds: Some(seconds),
                recording: Some(f.recording.is_some()),
                default_country: Some(f.default_country),
                ..Input::default()
            };
            svc::save_defaults(&dash.state, &scope, &input).await.map(|_| json!({ "notice": "Settings saved." }))
        }
        Err(_) => Err(crate::error::ApiError::invalid("max_call_seconds", "must be a whole number")),
    };
    let (status, extra) = outcome(result);
    settings_page(&dash, &scope, status, extra).await
}
