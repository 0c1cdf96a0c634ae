//! Data regions (SPEC W1, O2): where a workspace's product data is stored.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionView {
    /// The id a workspace is created with (`in`).
    pub id: String,
    /// How people read it (`India`).
    pub label: String,
    /// Whether new workspaces go here when no region is named.
    pub default: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionList {
    pub data: Vec<RegionView>,
}

#[utoipa::path(get, path = "/api/v1/regions", tag = "workspaces",
    responses((status = 200, body = RegionList, description = "The configured data regions, the default first")))]
pub async fn list(State(state): State<AppState>) -> Json<RegionList> {
    let data = state
        .regions
        .list()
        .iter()
        .map(|r| RegionView { id: r.id.clone(), label: r.label.clone(), default: r.id == state.config.default_region })
        .collect();
    Json(RegionList { data })
}
