//! Telephony configuration (SPEC N1–N4): the catalog in force, shared by every replica
//! through the control database, and each workspace's provider, SIP/BYOC status and
//! network-group statuses in its region database.

use std::sync::Arc;
use std::time::Duration;

use callplane_domain::telephony::{Catalog, CatalogError, NetworkGroup, ProviderKind, Refusal, Routes, SHIPPED};
use callplane_domain::workspace::Plan;
use callplane_store::access::Scope;
use callplane_store::product::telephony as store;
use callplane_store::telephony_catalogs;
use serde_json::json;

use crate::error::{ApiError, ApiResult, Code};
use crate::services::audit::Auditor;
use crate::state::AppState;

/// The routes of the catalog in force on this replica.
pub fn routes(state: &AppState) -> Arc<Routes> {
    state.routes.read().expect("the routes lock is never poisoned").clone()
}

fn install(state: &AppState, routes: Routes) {
    *state.routes.write().expect("the routes lock is never poisoned") = Arc::new(routes);
}

/// At start: puts the shipped catalog in force when none is, or when the one in force
/// is an older binary's shipped catalog (a catalog loaded by an operator stays), then
/// builds this replica's routes.
pub async fn ensure_catalog(state: &AppState) -> anyhow::Result<()> {
    let shipped = Catalog::parse(SHIPPED).map_err(|e| anyhow::anyhow!("the shipped telephony catalog: {e:?}"))?;
    let mut tx = state.db.begin().await?;
    let current = telephony_catalogs::current(&mut tx).await?;
    if current.as_ref().is_none_or(|c| c.source == "shipped" && c.version != shipped.version()) {
        telephony_catalogs::load(&mut tx, &shipped.version(), "shipped", SHIPPED, state.now()).await?;
    }
    tx.commit().await?;
    refresh(state).await
}

/// Rebuilds this replica's routes when another version was put in force.
pub async fn refresh(state: &AppState) -> anyhow::Result<()> {
    let mut conn = state.db.conn().await?;
    let Some(version) = telephony_catalogs::current_version(&mut conn).await? else { return Ok(()) };
    if version == routes(state).catalog().version() {
        return Ok(());
    }
    let Some(stored) = telephony_catalogs::current(&mut conn).await? else { return Ok(()) };
    let catalog = Catalog::parse(&stored.body)
        .map_err(|e| anyhow::anyhow!("the telephony catalog in force ({}) does not parse: {e:?}", stored.version))?;
    tracing::info!(version = %stored.version, groups = catalog.groups.len(), "telephony catalog in force");
    install(state, Routes::new(catalog));
    Ok(())
}

/// Follows the catalog in force (loaded from the CLI or by another replica).
pub async fn run_refresher(state: AppState) {
    loop {
        tokio::time::sleep(Duration::from_secs(state.config.workers.poll_secs)).await;
        if let Err(e) = refresh(&state).await {
            tracing::warn!(error = %e, "refreshing the telephony catalog");
        }
    }
}

/// What loading a catalog did.
#[derive(Debug)]
pub struct Loaded {
    pub version: String,
    pub countries: usize,
    pub groups: usize,
    pub prefixes: usize,
}

/// Checks a catalog file and puts it in force (`callplane admin telephony load`);
/// a file with mistakes changes nothing and returns them, with their line numbers.
pub async fn load(state: &AppState, text: &str) -> anyhow::Result<Result<Loaded, Vec<CatalogError>>> {
    let catalog = match Catalog::parse(text) {
        Ok(c) => c,
        Err(errors) => return Ok(Err(errors)),
    };
    let version = catalog.version();
    let mut tx = state.db.begin().await?;
    telephony_catalogs::load(&mut tx, &version, "cli", text, state.now()).await?;
    tx.commit().await?;
    let loaded = Loaded {
        version,
        countries: catalog.countries.len(),
        groups: catalog.groups.len(),
        prefixes: catalog.prefix_count(),
    };
    install(state, Routes::new(catalog));
    Ok(Ok(loaded))
}

/// A workspace's configuration, written with the defaults on first use.
#[derive(Debug, Clone)]
pub struct Config {
    pub routes: Arc<Routes>,
    pub provider: String,
    pub sip_enabled: bool,
    pub enabled: Vec<String>,
    /// Whether the account's plan shows rates (N4).
    pub rates_visible: bool,
}

impl Config {
    pub fn is_enabled(&self, group: &str) -> bool {
        self.enabled.binary_search_by(|g| g.as_str().cmp(group)).is_ok()
    }
}

/// The workspace's configuration. A workspace that never had one receives the default
/// provider with its default groups on (N2).
pub async fn config(state: &AppState, scope: &Scope) -> ApiResult<Config> {
    let routes = routes(state);
    // Read on a connection released before the first-use write below (a connection
    // held across `begin` starves the pool under concurrent first calls).
    let existing = store::settings(&mut scope.read().await?).await?;
    let settings = match existing {
        Some(s) => s,
        None => {
            let catalog = routes.catalog();
            let provider = catalog.default_provider();
            let defaults: Vec<&str> = catalog
                .groups
                .iter()
                .filter(|g| g.provider == provider.id && g.default_enabled)
                .map(|g| g.id.as_str())
                .collect();
            let mut tx = scope.begin().await?;
            store::initialise(&mut tx, &provider.id, &defaults, state.now()).await?;
            let settings = store::settings(&mut tx).await?.ok_or_else(ApiError::not_found)?;
            tx.commit().await?;
            settings
        }
    };
    let enabled = store::enabled_groups(&mut scope.read().await?).await?;
    let mut conn = state.db.conn().await?;
    let plan = callplane_store::accounts::get(&mut conn, scope.account_id())
        .await?
        .and_then(|a| Plan::parse(&a.plan))
        .unwrap_or(Plan::Starter);
    Ok(Config {
        routes,
        provider: settings.provider,
        sip_enabled: settings.sip_enabled,
        enabled,
        rates_visible: plan.shows_telephony_rates(),
    })
}

/// Changes the provider outbound calls use, or SIP/BYOC's status (N2).
pub async fn update(
    state: &AppState,
    scope: &Scope,
    provider: Option<&str>,
    sip_enabled: Option<bool>,
) -> ApiResult<Config> {
    let before = config(state, scope).await?;
    let provider = provider.unwrap_or(&before.provider);
    if before.routes.catalog().provider(provider).is_none() {
        let known: Vec<&str> = before.routes.catalog().providers.iter().map(|p| p.id.as_str()).collect();
        return Err(ApiError::invalid("provider", format!("must be one of {}", known.join(", "))));
    }
    let sip_enabled = sip_enabled.unwrap_or(before.sip_enabled);
    let now = state.now();
    let mut tx = scope.begin().await?;
    store::save_settings(&mut tx, provider, sip_enabled, now).await?;
    Auditor::for_scope(scope, now)
        .record_product(
            &mut tx,
            "telephony.settings_updated",
            ("workspace", scope.workspace_id()),
            Some(json!({ "provider": before.provider, "sip_enabled": before.sip_enabled })),
            Some(json!({ "provider": provider, "sip_enabled": sip_enabled })),
        )
        .await?;
    tx.commit().await?;
    config(state, scope).await
}

/// Enables or disables a network group in the workspace (N2), audited.
pub async fn set_group(state: &AppState, scope: &Scope, group_id: &str, enabled: bool) -> ApiResult<NetworkGroup> {
    config(state, scope).await?; // first use writes the defaults
    let routes = routes(state);
    let group = routes.catalog().group(group_id).cloned().ok_or_else(ApiError::not_found)?;
    let now = state.now();
    let mut tx = scope.begin().await?;
    let before = store::set_group(&mut tx, group_id, enabled, now).await?;
    if before != enabled {
        Auditor::for_scope(scope, now)
            .record_product(
                &mut tx,
                "telephony.group_updated",
                ("network_group", group_id),
                Some(json!({ "enabled": before })),
                Some(json!({ "enabled": enabled })),
            )
            .await?;
    }
    tx.commit().await?;
    Ok(group)
}

/// How an outbound call to `e164` would go (N3): the group that prices it, or why it is
/// refused.
#[derive(Debug, Clone)]
pub enum Route {
    Group { group: NetworkGroup, country: String },
    Sip { flat_rate: i64 },
}

/// Validates an outbound destination against the workspace's configuration: its
/// provider's longest matching prefix must be an enabled group; on SIP/BYOC the trunk
/// must be enabled.
pub fn route(config: &Config, e164: &str) -> ApiResult<Route> {
    let catalog = config.routes.catalog();
    let provider = catalog.provider(&config.provider).ok_or_else(|| {
        ApiError::new(Code::DestinationNotEnabled, format!("The provider {} is no longer offered.", config.provider))
    })?;
    if provider.kind == ProviderKind::Sip {
        if !config.sip_enabled {
            return Err(ApiError::new(Code::DestinationNotEnabled, "SIP/BYOC routing is disabled in this workspace.")
                .with("provider", json!(provider.id)));
        }
        return Ok(Route::Sip { flat_rate: provider.flat_rate.unwrap_or(0) });
    }
    match config.routes.route(&provider.id, e164, |g| config.is_enabled(g)) {
        Ok(group) => {
            let country = catalog.country(&group.country).map_or(group.country.clone(), |c| c.name.clone());
            Ok(Route::Group { group: group.clone(), country })
        }
        Err(Refusal::Disabled { group, group_name, country }) => Err(ApiError::new(
            Code::DestinationNotEnabled,
            format!("{e164} is in the network group {group_name} ({country}), which is disabled in this workspace."),
        )
        .with("network_group", json!(group))
        .with("country", json!(country))),
        Err(Refusal::NoGroup { .. }) => Err(ApiError::new(
            Code::DestinationNotEnabled,
            format!("No network group of {} covers {e164}.", provider.name),
        )
        .with("network_group", json!(null))),
        Err(Refusal::UnknownProvider(p)) => {
            Err(ApiError::new(Code::DestinationNotEnabled, format!("The provider {p} is no longer offered.")))
        }
    }
}
