//! Settings → Telephony Config → SIP/BYOC (SPEC N2): the workspace's trunks with their
//! gateways, adding one (its password sealed, never shown again), deleting one, and a
//! test call through a trunk that opens the call's page.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use callplane_domain::Permission;
use callplane_store::product::{agents, sip_trunks};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::WorkspaceScope;
use crate::error::ApiResult;
use crate::services::sip_trunks::{self as svc, Gateway, TrunkInput, TrunkView};
use crate::web::common::{outcome, page_context, render, Dash, WebForm};

async fn page(dash: &Dash, scope: &WorkspaceScope, status: StatusCode, extra: Value) -> ApiResult<Response> {
    let Dash { state, csrf, p, session } = dash;
    let (mut ctx, _) = page_context(state, p, session, &csrf.0, "telephony", "SIP/BYOC trunks").await?;
    let mut read = scope.read().await?;
    let trunks: Vec<TrunkView> = sip_trunks::list(&mut read).await?.iter().map(TrunkView::from).collect();
    let callers: Vec<Value> = agents::list(&mut read, None, 200)
        .await?
        .into_iter()
        .filter(|a| a.status == "active")
        .map(|a| json!({ "id": a.id, "name": a.name }))
        .collect();
    drop(read);
    ctx.insert("trunks".into(), json!(trunks));
    ctx.insert("agents".into(), json!(callers));
    ctx.insert("serving_sip".into(), json!(state.sip.get().map(|s| s.agent.local_addr().to_string())));
    ctx.insert("can_edit".into(), json!(scope.can(Permission::TelephonyEdit)));
    ctx.insert("can_call".into(), json!(scope.can(Permission::CallsCreate)));
    if let Value::Object(extra) = extra {
        ctx.extend(extra);
    }
    Ok(render(state, status, "sip_trunks.html", ctx))
}

pub async fn show(dash: Dash, scope: WorkspaceScope) -> ApiResult<Response> {
    page(&dash, &scope, StatusCode::OK, json!({})).await
}

/// The add-a-trunk form: one gateway (more through the API).
#[derive(Debug, Default, Deserialize)]
pub struct TrunkForm {
    pub name: String,
    pub kind: String,
    pub host: String,
    #[serde(default)]
    pub port: String,
    /// Comma- or space-separated addresses or networks.
    #[serde(default)]
    pub inbound_cidrs: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub from_domain: String,
    #[serde(default)]
    pub outbound_proxy: String,
    #[serde(default)]
    pub tech_prefix: String,
    #[serde(default)]
    pub leading_plus: Option<String>,
    #[serde(default)]
    pub pcmu: Option<String>,
    #[serde(default)]
    pub pcma: Option<String>,
    #[serde(default)]
    pub dtmf_mode: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
}

impl TrunkForm {
    fn input(&self) -> TrunkInput {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let gateway = Gateway {
            host: self.host.trim().to_owned(),
            port: self.port.trim().parse().unwrap_or(5060),
            transport: "udp".into(),
            inbound_cidrs: self
                .inbound_cidrs
                .split([',', ' ', '\n'])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
            outbound: true,
            priority: self.priority.trim().parse().unwrap_or(0),
        };
        let codecs = [(self.pcmu.is_some(), "PCMU"), (self.pcma.is_some(), "PCMA")]
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, c)| c.to_owned())
            .collect();
        TrunkInput {
            name: Some(self.name.clone()),
            kind: Some(self.kind.clone()),
            gateways: Some(vec![gateway]),
            from_domain: text(&self.from_domain),
            outbound_proxy: text(&self.outbound_proxy),
            tech_prefix: Some(self.tech_prefix.trim().to_owned()),
            leading_plus: Some(self.leading_plus.is_some()),
            codecs: Some(codecs),
            dtmf_mode: text(&self.dtmf_mode),
            username: text(&self.username),
            password: text(&self.password),
        }
    }
}

pub async fn create(dash: Dash, scope: WorkspaceScope, WebForm(f): WebForm<TrunkForm>) -> ApiResult<Response> {
    let result = svc::create(&dash.state, &scope, &f.input())
        .await
        .map(|t| json!({ "notice": format!("Trunk {} added.", t.name) }));
    let refill = result.is_err();
    let (status, mut extra) = outcome(result);
    if refill {
        // Refill the form (never the password).
        extra["form"] = json!({ "name": f.name, "kind": f.kind, "host": f.host, "port": f.port,
            "inbound_cidrs": f.inbound_cidrs, "priority": f.priority, "from_domain": f.from_domain,
            "tech_prefix": f.tech_prefix, "username": f.username });
    }
    page(&dash, &scope, status, extra).await
}

pub async fn delete(dash: Dash, scope: WorkspaceScope, Path(id): Path<String>) -> ApiResult<Response> {
    let result = svc::delete(&dash.state, &scope, &id).await.map(|_| json!({ "notice": "Trunk deleted." }));
    let (status, extra) = outcome(result);
    page(&dash, &scope, status, extra).await
}
