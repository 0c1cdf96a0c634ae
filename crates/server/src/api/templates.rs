//! Templates (SPEC P4) and post-call analysis templates (P5).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use callplane_store::product::templates::{self, AnalysisTemplate, Template};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::views::{rfc3339, Page, Problem};
use crate::api::{keyset_page, ApiJson, ApiQuery, PageParams};
use crate::auth::WorkspaceScope;
use crate::error::{ApiError, ApiResult};
use crate::services::templates::{self as svc, AnalysisField};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    pub id: String,
    pub name: String,
    /// `prompt` or `message`.
    pub kind: String,
    pub body: String,
    /// The variables the body uses.
    pub variables: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Template> for TemplateView {
    fn from(t: &Template) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            kind: t.kind.clone(),
            body: t.body.clone(),
            variables: callplane_domain::template::check(&t.body).unwrap_or_default(),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnalysisTemplateView {
    pub id: String,
    pub name: String,
    pub fields: Vec<AnalysisField>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&AnalysisTemplate> for AnalysisTemplateView {
    fn from(t: &AnalysisTemplate) -> Self {
        Self {
            id: t.id.clone(),
            name: t.name.clone(),
            fields: serde_json::from_str(&t.fields).unwrap_or_default(),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRequest {
    pub name: Option<String>,
    /// `prompt` or `message` (on creation).
    pub kind: Option<String>,
    /// Text with variables: `{{contact.name}}`, `{{contact.custom.plan}}`, `{{agent.name}}`, ...
    pub body: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalysisTemplateRequest {
    pub name: Option<String>,
    pub fields: Option<Vec<AnalysisField>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub contact_id: String,
    pub agent_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Preview {
    pub text: String,
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/templates", tag = "templates", params(("ws" = String, Path), PageParams),
    security(("bearer" = [])), responses((status = 200, body = Page<TemplateView>)))]
pub async fn list(scope: WorkspaceScope, ApiQuery(q): ApiQuery<PageParams>) -> ApiResult<Json<Page<TemplateView>>> {
    let (limit, cursor) = (q.limit()?, q.keyset_cursor("tpl")?);
    let rows: Vec<Template> = templates::list(&mut scope.read().await?, cursor, limit + 1).await?;
    Ok(Json(keyset_page(&rows, limit, |t| t.id.clone(), |t| TemplateView::from(t))))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/templates", tag = "templates", params(("ws" = String, Path)),
    request_body = TemplateRequest, security(("bearer" = [])),
    responses((status = 201, body = TemplateView), (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(r): ApiJson<TemplateRequest>,
) -> ApiResult<(StatusCode, Json<TemplateView>)> {
    let t = svc::create(
        &state,
        &scope,
        r.name.as_deref().ok_or_else(|| ApiError::invalid("name", "is required"))?,
        r.kind.as_deref().unwrap_or("message"),
        r.body.as_deref().ok_or_else(|| ApiError::invalid("body", "is required"))?,
    )
    .await?;
    Ok((StatusCode::CREATED, Json((&t).into())))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/templates/{id}", tag = "templates",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = TemplateView), (status = 404, body = Problem)))]
pub async fn get(scope: WorkspaceScope, Path((_, id)): Path<(String, String)>) -> ApiResult<Json<TemplateView>> {
    let t: Template = templates::get(&mut scope.read().await?, &id).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json((&t).into()))
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/templates/{id}", tag = "templates",
    params(("ws" = String, Path), ("id" = String, Path)), request_body = TemplateRequest, security(("bearer" = [])),
    responses((status = 200, body = TemplateView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiJson(r): ApiJson<TemplateRequest>,
) -> ApiResult<Json<TemplateView>> {
    if r.kind.is_some() {
        return Err(ApiError::invalid("kind", "cannot change; create a new template"));
    }
    Ok(Json((&svc::update(&state, &scope, &id, r.name.as_deref(), r.body.as_deref()).await?).into()))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/templates/{id}", tag = "templates",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    svc::delete_template(&state, &scope, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/templates/{id}/preview", tag = "templates",
    params(("ws" = String, Path), ("id" = String, Path), PreviewRequest), security(("bearer" = [])),
    responses((status = 200, body = Preview), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn preview(
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiQuery(r): ApiQuery<PreviewRequest>,
) -> ApiResult<Json<Preview>> {
    Ok(Json(Preview { text: svc::preview(&scope, &id, &r.contact_id, r.agent_id.as_deref()).await? }))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/analysis-templates", tag = "templates",
    params(("ws" = String, Path), PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<AnalysisTemplateView>)))]
pub async fn list_analysis(
    scope: WorkspaceScope,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<AnalysisTemplateView>>> {
    let (limit, cursor) = (q.limit()?, q.keyset_cursor("atp")?);
    let rows: Vec<AnalysisTemplate> = templates::list(&mut scope.read().await?, cursor, limit + 1).await?;
    Ok(Json(keyset_page(&rows, limit, |t| t.id.clone(), |t| AnalysisTemplateView::from(t))))
}

#[utoipa::path(post, path = "/api/v1/workspaces/{ws}/analysis-templates", tag = "templates", params(("ws" = String, Path)),
    request_body = AnalysisTemplateRequest, security(("bearer" = [])),
    responses((status = 201, body = AnalysisTemplateView), (status = 422, body = Problem)))]
pub async fn create_analysis(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiJson(r): ApiJson<AnalysisTemplateRequest>,
) -> ApiResult<(StatusCode, Json<AnalysisTemplateView>)> {
    let name = r.name.as_deref().ok_or_else(|| ApiError::invalid("name", "is required"))?;
    let fields = r.fields.as_deref().ok_or_else(|| ApiError::invalid("fields", "is required"))?;
    let t = svc::create_analysis(&state, &scope, name, fields).await?;
    Ok((StatusCode::CREATED, Json((&t).into())))
}

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/analysis-templates/{id}", tag = "templates",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = AnalysisTemplateView), (status = 404, body = Problem)))]
pub async fn get_analysis(
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<AnalysisTemplateView>> {
    let t: AnalysisTemplate = templates::get(&mut scope.read().await?, &id).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json((&t).into()))
}

#[utoipa::path(patch, path = "/api/v1/workspaces/{ws}/analysis-templates/{id}", tag = "templates",
    params(("ws" = String, Path), ("id" = String, Path)), request_body = AnalysisTemplateRequest, security(("bearer" = [])),
    responses((status = 200, body = AnalysisTemplateView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_analysis(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
    ApiJson(r): ApiJson<AnalysisTemplateRequest>,
) -> ApiResult<Json<AnalysisTemplateView>> {
    let t = svc::update_analysis(&state, &scope, &id, r.name.as_deref(), r.fields.as_deref()).await?;
    Ok(Json((&t).into()))
}

#[utoipa::path(delete, path = "/api/v1/workspaces/{ws}/analysis-templates/{id}", tag = "templates",
    params(("ws" = String, Path), ("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_analysis(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    svc::delete_analysis(&state, &scope, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
