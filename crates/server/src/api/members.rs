//! Listing a workspace's members (changes are in `api::team`).

use axum::extract::State;
use axum::Json;
use callplane_store::members;

use crate::api::views::{MemberView, Page, Problem};
use crate::api::{ApiQuery, PageParams};
use crate::auth::WorkspaceScope;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(get, path = "/api/v1/workspaces/{ws}/members", tag = "members", params(("ws" = String, Path), PageParams),
    security(("bearer" = [])),
    responses((status = 200, body = Page<MemberView>), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    scope: WorkspaceScope,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<MemberView>>> {
    page.limit()?;
    let mut conn = state.db.conn().await?;
    let rows = members::list(&mut conn, &scope).await?;
    Ok(Json(page.page(&rows, MemberView::from)?))
}
