//! SIP/BYOC trunks (SPEC N2): a workspace's own carrier connection — how it
//! authenticates (static IP, digest credentials or registration), its gateways (where
//! outbound calls go, which sources may call in), and how numbers and media are
//! written. The carrier password is sealed (`crate::sealing`), never returned, never
//! logged, never audited.

use std::net::IpAddr;

use callplane_domain::id::new_id;
use callplane_store::access::Scope;
use callplane_store::product::sip_trunks::{self, Trunk};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, Code};
use crate::services::audit::Auditor;
use crate::state::AppState;

/// A gateway of a trunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// Host name or IP address.
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// `udp` (the transport callplane speaks today).
    #[serde(default = "default_transport")]
    pub transport: String,
    /// Sources allowed to send calls in, as addresses or networks (`203.0.113.0/24`).
    #[serde(default)]
    pub inbound_cidrs: Vec<String>,
    /// Outbound calls go through this gateway.
    #[serde(default = "yes")]
    pub outbound: bool,
    /// Lower first among outbound gateways.
    #[serde(default)]
    pub priority: i32,
}

fn default_port() -> u16 {
    5060
}
fn default_transport() -> String {
    "udp".into()
}
fn yes() -> bool {
    true
}

/// What creating or changing a trunk says (absent fields keep their value on change).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrunkInput {
    pub name: Option<String>,
    /// `static_ip`, `digest` or `registration`.
    pub kind: Option<String>,
    pub gateways: Option<Vec<Gateway>>,
    /// The From header's domain (default: the gateway's host).
    pub from_domain: Option<String>,
    /// `host:port` outbound requests are sent through.
    pub outbound_proxy: Option<String>,
    /// Digits dialed before every number (`9`, `0011#`).
    pub tech_prefix: Option<String>,
    /// Numbers are sent as `+<E.164>` (else without the plus).
    pub leading_plus: Option<bool>,
    /// `PCMU`, `PCMA`, in preference order.
    pub codecs: Option<Vec<String>>,
    /// `rfc4733` (telephone-event).
    pub dtmf_mode: Option<String>,
    pub username: Option<String>,
    /// Write-only: never returned.
    pub password: Option<String>,
}

/// A trunk as the API shows it (no password: whether one is set).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrunkView {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub gateways: Vec<Gateway>,
    pub from_domain: Option<String>,
    pub outbound_proxy: Option<String>,
    pub tech_prefix: String,
    pub leading_plus: bool,
    pub codecs: Vec<String>,
    pub dtmf_mode: String,
    pub username: Option<String>,
    pub password_set: bool,
    /// Where a registration trunk's registration stands (none for other kinds).
    pub registration: Option<RegistrationView>,
    pub created_at: String,
    pub updated_at: String,
}

/// Where a registration stands, as the process keeping it last wrote.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegistrationView {
    /// `pending`, `registered`, `refused` (the registrar answered `code`),
    /// `unreachable` or `failed` (`detail` says why).
    pub status: String,
    pub code: Option<u16>,
    pub detail: Option<String>,
    /// The binding's lifetime the registrar granted.
    pub expires_secs: Option<u32>,
    /// When it was last written.
    pub at: Option<String>,
}

impl From<&Trunk> for TrunkView {
    fn from(t: &Trunk) -> Self {
        TrunkView {
            id: t.id.clone(),
            name: t.name.clone(),
            kind: t.kind.clone(),
            gateways: serde_json::from_str(&t.gateways).unwrap_or_default(),
            from_domain: t.from_domain.clone(),
            outbound_proxy: t.outbound_proxy.clone(),
            tech_prefix: t.tech_prefix.clone(),
            leading_plus: t.leading_plus,
            codecs: t.codecs.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect(),
            dtmf_mode: t.dtmf_mode.clone(),
            username: t.username.clone(),
            password_set: t.password_sealed.is_some(),
            registration: (t.kind == "registration").then(|| {
                t.registration.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or(RegistrationView {
                    status: "pending".into(),
                    code: None,
                    detail: None,
                    expires_secs: None,
                    at: None,
                })
            }),
            created_at: crate::api::views::rfc3339(t.created_at),
            updated_at: crate::api::views::rfc3339(t.updated_at),
        }
    }
}

/// What a trunk's row binds its sealed password to.
pub fn sealed_for(workspace_id: &str, trunk_id: &str) -> String {
    format!("sip_trunk/{workspace_id}/{trunk_id}")
}

pub async fn create(state: &AppState, scope: &Scope, input: &TrunkInput) -> ApiResult<Trunk> {
    let now = state.now();
    let blank = Trunk {
        id: new_id("trk"),
        name: String::new(),
        kind: "static_ip".into(),
        gateways: "[]".into(),
        from_domain: None,
        outbound_proxy: None,
        tech_prefix: String::new(),
        leading_plus: true,
        codecs: "PCMU,PCMA".into(),
        dtmf_mode: "rfc4733".into(),
        username: None,
        password_sealed: None,
        created_at: now,
        updated_at: now,
        registration: None,
    };
    if input.name.is_none() {
        return Err(ApiError::invalid("name", "is required"));
    }
    if input.gateways.is_none() {
        return Err(ApiError::invalid("gateways", "give at least one gateway"));
    }
    let t = apply(state, scope, blank, input)?;
    let mut tx = scope.begin().await?;
    let saved = sip_trunks::save(&mut tx, &t).await?;
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "sip_trunk.created", ("sip_trunk", &t.id), None, Some(summary(&saved)))
        .await?;
    tx.commit().await?;
    state.sip_trunks_changed.notify_one();
    Ok(saved)
}

pub async fn update(state: &AppState, scope: &Scope, id: &str, input: &TrunkInput) -> ApiResult<Trunk> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let current = sip_trunks::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let before = summary(&current);
    let t = apply(state, scope, Trunk { updated_at: now, ..current }, input)?;
    let saved = sip_trunks::save(&mut tx, &t).await?;
    let mut after = summary(&saved);
    if input.password.is_some() {
        after["password"] = json!("changed");
    }
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "sip_trunk.updated", ("sip_trunk", id), Some(before), Some(after))
        .await?;
    tx.commit().await?;
    state.sip_trunks_changed.notify_one();
    Ok(saved)
}

pub async fn delete(state: &AppState, scope: &Scope, id: &str) -> ApiResult<()> {
    let now = state.now();
    let mut tx = scope.begin().await?;
    let current = sip_trunks::get(&mut tx, id).await?.ok_or_else(ApiError::not_found)?;
    let campaigns = sip_trunks::open_campaigns(&mut tx, id).await?;
    if campaigns > 0 {
        return Err(ApiError::new(
            Code::TrunkInUse,
            format!("{campaigns} campaign(s) that may still dial go through this trunk; choose another trunk for them first."),
        ));
    }
    sip_trunks::delete(&mut tx, id).await?;
    Auditor::for_scope(scope, now)
        .record_product(&mut tx, "sip_trunk.deleted", ("sip_trunk", id), Some(summary(&current)), None)
        .await?;
    tx.commit().await?;
    state.sip_trunks_changed.notify_one();
    Ok(())
}

/// What the audit log keeps of a trunk (never the password).
fn summary(t: &Trunk) -> serde_json::Value {
    json!({ "name": t.name, "kind": t.kind, "gateways": serde_json::from_str::<serde_json::Value>(&t.gateways).unwrap_or_default(),
            "username": t.username })
}

/// `t` with `input` applied and checked as a whole.
fn apply(state: &AppState, scope: &Scope, mut t: Trunk, input: &TrunkInput) -> ApiResult<Trunk> {
    if let Some(n) = &input.name {
        let n = n.trim();
        if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
            return Err(ApiError::invalid("name", "must be 1–100 characters"));
        }
        t.name = n.to_owned();
    }
    if let Some(k) = &input.kind {
        if !matches!(k.as_str(), "static_ip" | "digest" | "registration") {
            return Err(ApiError::invalid("kind", "must be static_ip, digest or registration"));
        }
        t.kind = k.clone();
    }
    if let Some(gws) = &input.gateways {
        if gws.is_empty() || gws.len() > 16 {
            return Err(ApiError::invalid("gateways", "give 1 to 16 gateways"));
        }
        for (i, g) in gws.iter().enumerate() {
            check_gateway(i, g)?;
        }
        t.gateways = serde_json::to_string(gws).map_err(ApiError::internal)?;
    }
    if let Some(d) = &input.from_domain {
        t.from_domain = optional_host("from_domain", d)?;
    }
    if let Some(p) = &input.outbound_proxy {
        t.outbound_proxy = match p.trim() {
            "" => None,
            hp => {
                let (host, port) = hp.rsplit_once(':').unwrap_or((hp, "5060"));
                optional_host("outbound_proxy", host)?;
                port.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| ApiError::invalid("outbound_proxy", "must be host:port"))?;
                Some(format!("{host}:{port}"))
            }
        };
    }
    if let Some(p) = &input.tech_prefix {
        if p.len() > 10 || !p.chars().all(|c| c.is_ascii_digit() || c == '#' || c == '*') {
            return Err(ApiError::invalid("tech_prefix", "must be at most 10 digits, # or *"));
        }
        t.tech_prefix = p.clone();
    }
    if let Some(p) = input.leading_plus {
        t.leading_plus = p;
    }
    if let Some(cs) = &input.codecs {
        let mut seen: Vec<&'static str> = Vec::new();
        for c in cs {
            let codec = callplane_telephony::sdp::Codec::parse(c)
                .ok_or_else(|| ApiError::invalid("codecs", format!("{c} is not PCMU or PCMA")))?;
            if seen.contains(&codec.name()) {
                return Err(ApiError::invalid("codecs", format!("{c} is listed twice")));
            }
            seen.push(codec.name());
        }
        if seen.is_empty() {
            return Err(ApiError::invalid("codecs", "name at least one codec"));
        }
        t.codecs = seen.join(",");
    }
    if let Some(m) = &input.dtmf_mode {
        if m != "rfc4733" {
            return Err(ApiError::invalid("dtmf_mode", "must be rfc4733 (telephone-event), the mode callplane speaks"));
        }
        t.dtmf_mode = m.clone();
    }
    if let Some(u) = &input.username {
        let u = u.trim();
        if u.len() > 100 || u.chars().any(|c| c.is_control() || c.is_whitespace() || c == '@' || c == ':') {
            return Err(ApiError::invalid("username", "must be at most 100 characters, without spaces, @ or :"));
        }
        t.username = (!u.is_empty()).then(|| u.to_owned());
    }
    if let Some(p) = &input.password {
        if p.len() > 200 || p.chars().any(char::is_control) {
            return Err(ApiError::invalid("password", "must be at most 200 characters"));
        }
        t.password_sealed = match p.is_empty() {
            true => None,
            false => Some(state.sealer()?.seal(p, &sealed_for(scope.workspace_id(), &t.id))),
        };
    }
    if t.kind != "static_ip" && (t.username.is_none() || t.password_sealed.is_none()) {
        return Err(ApiError::invalid("password", format!("a {} trunk needs a username and a password", t.kind)));
    }
    Ok(t)
}

fn check_gateway(i: usize, g: &Gateway) -> ApiResult<()> {
    let field = |f: &str| format!("gateways[{i}].{f}");
    if !is_host(&g.host) {
        return Err(ApiError::invalid(&field("host"), "must be a host name or an IP address"));
    }
    if g.port == 0 {
        return Err(ApiError::invalid(&field("port"), "must be 1–65535"));
    }
    if g.transport != "udp" {
        return Err(ApiError::invalid(&field("transport"), "must be udp, the transport callplane speaks"));
    }
    if !(0..=1000).contains(&g.priority) {
        return Err(ApiError::invalid(&field("priority"), "must be 0–1000"));
    }
    if g.inbound_cidrs.len() > 32 {
        return Err(ApiError::invalid(&field("inbound_cidrs"), "at most 32 networks"));
    }
    for c in &g.inbound_cidrs {
        if parse_cidr(c).is_none() {
            return Err(ApiError::invalid(&field("inbound_cidrs"), format!("{c} is not an address or network")));
        }
    }
    Ok(())
}

fn optional_host(field: &str, raw: &str) -> ApiResult<Option<String>> {
    match raw.trim() {
        "" => Ok(None),
        h if is_host(h) => Ok(Some(h.to_owned())),
        _ => Err(ApiError::invalid(field, "must be a host name or an IP address")),
    }
}

fn is_host(h: &str) -> bool {
    h.parse::<IpAddr>().is_ok()
        || (!h.is_empty()
            && h.len() <= 253
            && h.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }))
}

/// An address or network: `203.0.113.7`, `203.0.113.0/24`, `2001:db8::/32`.
pub fn parse_cidr(raw: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = match raw.trim().split_once('/') {
        Some((ip, bits)) => (ip.parse::<IpAddr>().ok()?, bits.parse::<u8>().ok()?),
        None => {
            let ip = raw.trim().parse::<IpAddr>().ok()?;
            (ip, if ip.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

/// Whether `source` falls in `cidr`.
pub fn in_cidr(source: IpAddr, cidr: &str) -> bool {
    let Some((net, bits)) = parse_cidr(cidr) else { return false };
    match (source, net) {
        (IpAddr::V4(s), IpAddr::V4(n)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(s) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(s), IpAddr::V6(n)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(s) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n2_inbound_allow_lists_match_by_netmask() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_cidr(ip("203.0.113.77"), "203.0.113.0/24"));
        assert!(!in_cidr(ip("203.0.114.1"), "203.0.113.0/24"));
        assert!(in_cidr(ip("198.51.100.9"), "198.51.100.9"));
        assert!(!in_cidr(ip("198.51.100.10"), "198.51.100.9"));
        assert!(in_cidr(ip("2001:db8::1"), "2001:db8::/32"));
        assert!(!in_cidr(ip("10.0.0.1"), "2001:db8::/32"), "families never match");
        assert!(in_cidr(ip("8.8.8.8"), "0.0.0.0/0"));
        assert_eq!(parse_cidr("10.0.0.0/33"), None);
        assert_eq!(parse_cidr("nonsense"), None);
    }
}
