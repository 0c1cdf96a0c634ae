//! Typed configuration: defaults, then an optional TOML file, then `CALLPLANE__…`
//! environment variables (`CALLPLANE__SERVER__ADDR=0.0.0.0:8080`), then command-line flags.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    /// Data regions a workspace may be placed in (SPEC W1, O2), by id: a label and the
    /// database holding their workspaces' product data. Empty: India, the United States
    /// and Europe, all on the main database.
    pub regions: BTreeMap<String, RegionConfig>,
    pub default_region: String,
    pub plans: PlanLimits,
    pub auth: AuthConfig,
    pub email: EmailConfig,
    pub workers: WorkersConfig,
    pub calls: CallsConfig,
    pub webhooks: WebhooksConfig,
    pub campaigns: CampaignsConfig,
    pub agents: AgentsConfig,
    pub sip: SipConfig,
    pub log: LogConfig,
}

/// SIP/BYOC trunks (SPEC N2): where SIP is served, the media ports, and the key that
/// seals carrier passwords.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipConfig {
    /// The UDP address SIP is served on (`0.0.0.0:5060`); unset: no SIP in this
    /// process (trunks can be configured; their calls wait for a process that serves SIP).
    pub listen: Option<SocketAddr>,
    /// The address peers reach this process at, for Contact and SDP (behind NAT).
    pub advertise: Option<std::net::IpAddr>,
    /// The even UDP ports RTP may use.
    pub rtp_port_min: u16,
    pub rtp_port_max: u16,
    /// 64 hex digits: the key carrier passwords are sealed with (AEAD). Unset: the key
    /// in `{data_dir}/secret.key`, created on first use. Replicas must share it.
    pub secret_key: Option<String>,
    /// How long an outbound SIP call rings before it is given up (no-answer).
    pub ring_timeout_secs: u64,
    /// How long a gateway may stay silent (not even 100 Trying) before a call fails
    /// over to the trunk's next gateway, in milliseconds.
    pub failover_after_ms: u64,
    /// The agent's first message as audio: a mono 16-bit 8 kHz WAV file. Unset: a
    /// 3-second 440 Hz tone (until agents speak with their TTS voice).
    pub prompt_wav: Option<std::path::PathBuf>,
}

/// What voice agents may use (SPEC P3, W8): the first of each list is the default of a
/// workspace that saved none.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsConfig {
    pub llm_models: Vec<String>,
    pub transcribers: Vec<String>,
    pub tts_voices: Vec<String>,
    /// The default longest call, in seconds.
    pub max_call_seconds: i64,
    /// The longest call any agent may be given, in seconds.
    pub max_call_seconds_limit: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    /// How people read it ("India").
    pub label: String,
    /// `sqlite://…` or `postgres://…`; unset: the main database.
    pub database_url: Option<String>,
    /// ISO country (`IN`) against which national phone numbers of its workspaces'
    /// contacts are read; unset: the built-in region's, else `US`.
    #[serde(default)]
    pub default_country: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallsConfig {
    /// Simulated seconds per real second on the simulated carrier (demos and benchmarks
    /// compress a call's ringing and talking; durations and prices stay as simulated).
    pub time_scale: f64,
    /// A wallet hold whose call never reached its region database (a crash between the
    /// hold and the insert) is released once it is this old.
    pub orphan_hold_grace_secs: i64,
}

/// Campaigns and the dialer (SPEC P6): the limits a campaign's own are bounded by.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignsConfig {
    /// Run the dialer in this process (off: an API-only replica; tests drive it by hand).
    pub dialer: bool,
    /// Outbound calls in flight at once in one workspace, and in one account (all its
    /// workspaces): the dialer waits below both.
    pub max_concurrency_per_workspace: i64,
    pub max_concurrency_per_account: i64,
    /// The fastest a campaign may dial (calls per second).
    pub max_calls_per_second: i64,
}

/// Webhook delivery (SPEC E2, E3).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Let webhooks reach private, loopback, link-local, CGNAT and metadata addresses
    /// (off: such URLs are refused when saved, and such resolved addresses at delivery).
    pub allow_private_targets: bool,
    /// Seconds to connect, and for the whole request.
    pub connect_timeout_secs: u64,
    pub timeout_secs: u64,
    /// Requests in flight at a time, and to one endpoint.
    pub max_in_flight: usize,
    pub per_endpoint_in_flight: usize,
    /// An endpoint failing for this many days is disabled and the Owner emailed.
    pub disable_after_days: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkersConfig {
    /// How long a worker's claim on a queued item lasts before another may take it over.
    pub lease_secs: i64,
    /// How often workers look for unfinished work (workspace creations and deletions
    /// interrupted by a crash, emails to retry).
    pub poll_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// `smtp://host:port` (plain or STARTTLS with `?tls=required`) or `smtps://host:port`,
    /// with `user:password@` when the server needs it. Unset: emails stay in the local
    /// outbox (`callplane admin outbox`) and the dashboard shows their links.
    pub smtp_url: Option<String>,
    /// The sender address.
    pub from: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    /// Where the embedded database and other local files live.
    pub data_dir: PathBuf,
    /// The address people open, for links in emails; defaults to `http://{addr}`.
    pub public_url: Option<String>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://…` or `postgres://…`; defaults to `sqlite://{data_dir}/callplane.db`.
    pub url: Option<String>,
    /// SQLite `synchronous=FULL` instead of `NORMAL`.
    pub sqlite_sync_full: bool,
    pub max_connections: u32,
}

/// Workspace caps per plan (W2); 0 means unlimited.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanLimits {
    pub starter: u32,
    pub professional: u32,
    pub enterprise: u32,
}

impl PlanLimits {
    /// The workspace cap of a plan, `None` when unlimited.
    pub fn max_workspaces(&self, plan: &str) -> Option<u32> {
        let n = match plan {
            "starter" => self.starter,
            "professional" => self.professional,
            _ => self.enterprise,
        };
        (n > 0).then_some(n)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    pub session_ttl_hours: i64,
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Whether anyone may sign up (off for invitation-only installations).
    pub allow_signup: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter, e.g. `info,callplane_server=debug`.
    pub filter: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: ServerConfig {
                addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
                data_dir: PathBuf::from("./data"),
                public_url: None,
                max_body_bytes: 1024 * 1024,
            },
            database: DatabaseConfig { url: None, sqlite_sync_full: false, max_connections: 8 },
            regions: BTreeMap::new(),
            default_region: "in".into(),
            plans: PlanLimits { starter: 3, professional: 20, enterprise: 0 },
            auth: AuthConfig { session_ttl_hours: 24 * 30, secure_cookies: false, allow_signup: true },
            email: EmailConfig { smtp_url: None, from: "callplane <no-reply@callplane.local>".into() },
            workers: WorkersConfig { lease_secs: 60, poll_secs: 5 },
            calls: CallsConfig { time_scale: 1.0, orphan_hold_grace_secs: 300 },
            webhooks: WebhooksConfig {
                allow_private_targets: false,
                connect_timeout_secs: 5,
                timeout_secs: 15,
                max_in_flight: 64,
                per_endpoint_in_flight: 16,
                disable_after_days: 5,
            },
            campaigns: CampaignsConfig {
                dialer: true,
                max_concurrency_per_workspace: 50,
                max_concurrency_per_account: 200,
                max_calls_per_second: 30,
            },
            agents: AgentsConfig {
                llm_models: vec![
                    "gpt-4o-mini".into(),
                    "gpt-4o".into(),
                    "claude-3-5-sonnet".into(),
                    "llama-3.1-70b".into(),
                ],
                transcribers: vec!["deepgram-nova-2".into(), "whisper-large-v3".into(), "azure-stt".into()],
                tts_voices: vec![
                    "elevenlabs-rachel".into(),
                    "azure-neerja-en-IN".into(),
                    "azure-swara-hi-IN".into(),
                    "cartesia-sonic-en-US".into(),
                ],
                max_call_seconds: 600,
                max_call_seconds_limit: 7200,
            },
            sip: SipConfig {
                listen: None,
                advertise: None,
                rtp_port_min: 16_384,
                rtp_port_max: 32_766,
                secret_key: None,
                ring_timeout_secs: 30,
                failover_after_ms: 2_000,
                prompt_wav: None,
            },
            log: LogConfig { format: "text".into(), filter: "info".into() },
        }
    }
}

impl Config {
    /// Defaults, then `file` if given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            fig = fig.merge(Toml::file_exact(path));
        }
        let config: Config = fig.merge(Env::prefixed("CALLPLANE__").split("__")).extract().map_err(Box::new)?;
        if !(config.calls.time_scale.is_finite() && config.calls.time_scale > 0.0) {
            return Err(Box::new(figment::Error::from("calls.time_scale must be a positive number".to_owned())));
        }
        Ok(config.with_default_regions())
    }

    /// The built-in regions when none are configured (a configuration that names
    /// regions gets exactly those).
    pub fn with_default_regions(mut self) -> Self {
        if self.regions.is_empty() {
            for (id, label) in [("in", "India"), ("us", "United States"), ("eu", "Europe")] {
                let region = RegionConfig { label: label.into(), database_url: None, default_country: None };
                self.regions.insert(id.into(), region);
            }
        }
        self
    }

    /// The regions in the store's terms, default region first, then by id.
    pub fn region_specs(&self) -> Vec<callplane_store::RegionSpec> {
        let mut specs: Vec<_> = self
            .regions
            .iter()
            .map(|(id, r)| callplane_store::RegionSpec {
                id: id.clone(),
                label: r.label.clone(),
                database_url: r.database_url.clone(),
            })
            .collect();
        specs.sort_by_key(|s| s.id != self.default_region);
        specs
    }

    /// How people read a region: "India (in)"; the bare id when it is not configured.
    pub fn region_name(&self, id: &str) -> String {
        match self.regions.get(id) {
            Some(r) => format!("{} ({id})", r.label),
            None => id.to_owned(),
        }
    }

    /// The country national phone numbers are read against in a region (P1).
    pub fn default_country(&self, region: &str) -> String {
        let configured = self.regions.get(region).and_then(|r| r.default_country.clone());
        configured.unwrap_or_else(|| {
            match region {
                "in" => "IN",
                "eu" => "DE",
                "uk" => "GB",
                _ => "US",
            }
            .to_owned()
        })
    }

    /// Whether `id` names a configured region.
    pub fn has_region(&self, id: &str) -> bool {
        self.regions.contains_key(id)
    }

    pub fn database_url(&self) -> String {
        self.database
            .url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.server.data_dir.join("callplane.db").display()))
    }

    pub fn public_url(&self) -> String {
        self.server
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.server.addr))
            .trim_end_matches('/')
            .to_owned()
    }

    pub fn db_options(&self) -> callplane_store::DbOptions {
        callplane_store::DbOptions {
            sqlite_sync_full: self.database.sqlite_sync_full,
            max_connections: self.database.max_connections,
        }
    }
}
