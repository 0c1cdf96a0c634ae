//! Registration trunks (SPEC N2): the process serving SIP registers every
//! `registration` trunk of every workspace with its registrar (the trunk's first
//! outbound gateway, through its outbound proxy when it has one) and keeps the binding
//! fresh. Where each registration stands is written on the trunk, for the API and the
//! dashboard. Each process serving SIP keeps its own binding: a registrar sends an
//! inbound call to any of a user's contacts.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use callplane_store::product::sip_trunks::{self, ToRegister};
use callplane_store::regions::RegionDb;
use callplane_telephony::sip::{Register, Registered, Registration};

use crate::services::sip_trunks::{sealed_for, Gateway, RegistrationView};
use crate::state::AppState;

/// How often the trunks are read again when nothing wakes the keeper (another replica
/// changed one).
const RESCAN: Duration = Duration::from_secs(5);

/// The lifetime asked of a registrar (it may grant less).
const EXPIRES_SECS: u32 = 600;

/// A registration this process keeps, for the trunk as it was at `updated_at`.
struct Kept {
    region: RegionDb,
    updated_at: i64,
    /// None when it could not start (`written` says why).
    registration: Option<Registration>,
    written: Option<Registered>,
}

/// Keeps every registration trunk registered while the process runs.
pub async fn keep_registrations(state: AppState) {
    let mut kept: HashMap<(String, String), Kept> = HashMap::new();
    let mut scanned = tokio::time::Instant::now() - RESCAN;
    loop {
        if scanned.elapsed() >= RESCAN {
            scanned = tokio::time::Instant::now();
            if let Err(e) = sync(&state, &mut kept).await {
                tracing::warn!(error = %e, "reading the trunks to register");
            }
        }
        for ((workspace_id, trunk_id), k) in kept.iter_mut() {
            let Some(now) = k.registration.as_ref().map(|r| r.status.borrow().clone()) else { continue };
            if k.written.as_ref() != Some(&now) {
                let view = view_of(&state, &now);
                match write(&k.region, workspace_id, trunk_id, k.updated_at, &view).await {
                    Ok(()) => k.written = Some(now),
                    Err(e) => tracing::warn!(trunk = %trunk_id, error = %e, "writing a registration's status"),
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = state.sip_trunks_changed.notified() => scanned = tokio::time::Instant::now() - RESCAN,
        }
    }
}

/// Starts registrations for new or changed trunks and drops those of changed or
/// deleted ones (dropping unregisters).
async fn sync(state: &AppState, kept: &mut HashMap<(String, String), Kept>) -> anyhow::Result<()> {
    let mut seen = Vec::new();
    for region in state.regions.databases() {
        let found = sip_trunks::to_register(region).await?;
        for t in found {
            let key = (t.workspace_id.clone(), t.id.clone());
            seen.push(key.clone());
            if kept.get(&key).is_some_and(|k| k.updated_at == t.updated_at) {
                continue;
            }
            kept.remove(&key);
            let started = start(state, &t).await;
            let (registration, written) = match started {
                Ok(r) => (Some(r), None),
                Err(why) => {
                    let view = RegistrationView { detail: Some(why), ..view_of(state, &Registered::Pending) };
                    let view = RegistrationView { status: "failed".into(), ..view };
                    write(region, &t.workspace_id, &t.id, t.updated_at, &view).await?;
                    (None, Some(Registered::Pending))
                }
            };
            kept.insert(key, Kept { region: region.clone(), updated_at: t.updated_at, registration, written });
        }
    }
    kept.retain(|key, _| seen.contains(key));
    Ok(())
}

async fn start(state: &AppState, t: &ToRegister) -> Result<Registration, String> {
    let sip = state.sip.get().ok_or("this process does not serve SIP")?;
    let gateways: Vec<Gateway> = serde_json::from_str(&t.gateways).unwrap_or_default();
    let registrar = gateways
        .iter()
        .filter(|g| g.outbound)
        .min_by_key(|g| g.priority)
        .or(gateways.first())
        .map(|g| format!("{}:{}", g.host, g.port))
        .ok_or("the trunk has no gateway to register with")?;
    let (Some(username), Some(sealed)) = (&t.username, &t.password_sealed) else {
        return Err("the trunk has no username and password".into());
    };
    let password = state
        .sealer()
        .ok()
        .and_then(|s| s.open(sealed, &sealed_for(&t.workspace_id, &t.id)))
        .ok_or("the password cannot be opened with this server's key")?;
    let proxy = match &t.outbound_proxy {
        Some(p) => Some(resolve(p).await?),
        None => None,
    };
    sip.agent.register(Register { registrar, proxy, username: username.clone(), password, expires: EXPIRES_SECS })
}

/// The outbound proxy's address (`host:port`, a name looked up once per start).
async fn resolve(host_port: &str) -> Result<SocketAddr, String> {
    let mut found = tokio::net::lookup_host(host_port)
        .await
        .map_err(|e| format!("the outbound proxy {host_port} cannot be resolved: {e}"))?;
    found.next().ok_or_else(|| format!("the outbound proxy {host_port} has no address"))
}

fn view_of(state: &AppState, r: &Registered) -> RegistrationView {
    let at = Some(crate::api::views::rfc3339(state.now()));
    let blank = RegistrationView { status: String::new(), code: None, detail: None, expires_secs: None, at };
    match r {
        Registered::Pending => RegistrationView { status: "pending".into(), ..blank },
        Registered::Bound { expires } => {
            RegistrationView { status: "registered".into(), code: Some(200), expires_secs: Some(*expires), ..blank }
        }
        Registered::Refused { code } => RegistrationView {
            status: "refused".into(),
            code: Some(*code),
            detail: Some(format!("the registrar answered {code}; retried with backoff")),
            ..blank
        },
        Registered::Unreachable { error } => {
            RegistrationView { status: "unreachable".into(), detail: Some(error.clone()), ..blank }
        }
    }
}

async fn write(
    region: &RegionDb,
    workspace_id: &str,
    trunk_id: &str,
    updated_at: i64,
    view: &RegistrationView,
) -> anyhow::Result<()> {
    let json = serde_json::to_string(view)?;
    sip_trunks::set_registration(region, workspace_id, trunk_id, updated_at, &json).await?;
    Ok(())
}
