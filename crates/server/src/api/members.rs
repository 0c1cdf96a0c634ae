//! Workspace members (listing; management arrives with the team issue).

use axum::extract::State;
use axum::Json;
use callplane_store::members;

use crate::api::views::{MemberView, Page, Problem};
use crate::auth::WorkspaceScope;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/members", tag = "members", params(("ws" = String, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Page<MemberView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(State(state): State<AppState>, scope: WorkspaceScope) -> ApiResult<Json<Page<MemberView>>> {
    let mut conn = state.db.conn().await?;
    let rows = members::list(&mut conn, &scope).await?;
    Ok(Json(Page { data: rows.iter().map(MemberView::from).collect(), next_cursor: None }))
}
