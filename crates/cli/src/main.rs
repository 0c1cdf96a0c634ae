//! The `callplane` binary: `serve`, `migrate`, `admin …`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use callplane_domain::SystemClock;
use callplane_server::{AppState, Application, Config};
use clap::{Args, Parser, Subcommand};

mod contacts;
mod demo;

// glibc's allocator spent about a tenth of a webhook delivery's CPU in its arenas'
// locks and chunk consolidation; mimalloc's per-thread heaps do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (`mi_option_purge_delay` in its C enum, after
/// `mi_option_deprecated_eager_commit_delay` = 14; the Rust bindings name no constant).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the system at once: by default mimalloc keeps it for a second,
/// which held a 1,000,000-row import's peak RSS at 196 MiB instead of 176 MiB (same
/// speed, on the import and on webhook delivery).
fn return_freed_memory_at_once() {
    // SAFETY: a plain store into mimalloc's option table, made before any other thread
    // exists (see `main`), so nothing reads it concurrently.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

#[derive(Parser)]
#[command(name = "callplane", version, about = "The multi-tenant core of an AI voice-calling platform")]
struct Cli {
    /// A TOML configuration file (settings also come from CALLPLANE__SECTION__KEY variables).
    #[arg(long, global = true, env = "CALLPLANE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Default)]
struct Overrides {
    /// Folder for the embedded database and local files (default ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// `sqlite://file.db` or `postgres://user@host/db` (default: SQLite in the data folder).
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve the API and dashboard.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long)]
        addr: Option<SocketAddr>,
        #[command(flatten)]
        overrides: Overrides,
        /// Create a demo account (demo@callplane.local) if it does not exist yet.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        overrides: Overrides,
    },
    /// Contacts of a workspace, through the API of a running service.
    Contacts {
        #[command(flatten)]
        remote: RemoteArgs,
        #[command(subcommand)]
        command: ContactsCommand,
    },
    /// Administration from the shell.
    Admin {
        #[command(flatten)]
        overrides: Overrides,
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Args)]
struct RemoteArgs {
    /// The service's address.
    #[arg(long, env = "CALLPLANE_SERVER", default_value = "http://127.0.0.1:8080", global = true)]
    server: String,
    /// An API key of the workspace (or a session token).
    #[arg(long, env = "CALLPLANE_TOKEN", global = true, hide_env_values = true)]
    token: Option<String>,
    /// The workspace id (`ws_…`).
    #[arg(long, global = true)]
    workspace: Option<String>,
}

#[derive(Subcommand)]
enum ContactsCommand {
    /// Import a CSV file (a header row with a `phone` column, or --mapping), showing
    /// the upload and then the rows as they are processed.
    Import {
        file: PathBuf,
        /// What a row whose phone is already a contact does: update or skip.
        #[arg(long, default_value = "update")]
        on_duplicate: String,
        /// JSON object: CSV column name -> field (phone, name, email, timezone, tags,
        /// do_not_call, opted_out, custom.<key>).
        #[arg(long)]
        mapping: Option<String>,
    },
    /// Export the workspace's contacts as CSV (to a file, or standard output).
    Export {
        /// Where to write; standard output when absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[arg(long)]
        tag: Option<String>,
        /// do_not_call, opted_out or callable.
        #[arg(long)]
        flag: Option<String>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Show the newest emails of the local outbox (invitations, set-password links):
    /// where they go when no SMTP server is configured.
    Outbox {
        /// How many emails to show.
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// Create a user with their own account and first workspace.
    CreateUser {
        #[arg(long)]
        email: String,
        /// At least 8 characters.
        #[arg(long, env = "CALLPLANE_NEW_USER_PASSWORD")]
        password: String,
        #[arg(long)]
        name: String,
        /// The organization's name (also the first workspace's).
        #[arg(long)]
        account: String,
        /// starter, professional or enterprise.
        #[arg(long, default_value = "starter")]
        plan: String,
    },
    /// The account's shared wallet (paise: 100 paise = ₹1).
    Wallet {
        #[command(subcommand)]
        command: WalletCommand,
    },
    /// The telephony catalog: providers, countries, network groups, rates and prefixes.
    Telephony {
        #[command(subcommand)]
        command: TelephonyCommand,
    },
    /// Ring a workspace's number through the simulated carrier: an inbound call that the
    /// number's agent answers (a number without one answers with an announcement). The
    /// running service plays it out.
    Inbound {
        /// The caller (E.164).
        #[arg(long)]
        from: String,
        /// The workspace's number (E.164).
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand)]
enum WalletCommand {
    /// Add money to an account's wallet.
    Credit {
        #[arg(long)]
        account: String,
        /// Paise (100 paise = ₹1).
        #[arg(long)]
        amount: i64,
        /// What the credit is (shown in the ledger).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Balance, reserved amount and the latest ledger entries.
    Show {
        #[arg(long)]
        account: String,
    },
}

#[derive(Subcommand)]
enum TelephonyCommand {
    /// Check a catalog file and put it in force on every server (they pick it up within
    /// a poll interval); a file with mistakes is refused, each with its line number.
    Load { file: std::path::PathBuf },
    /// Summarise the catalog in force.
    Show,
}

const DEMO_EMAIL: &str = "demo@callplane.local";
const DEMO_PASSWORD: &str = "callplane-demo";

fn main() -> anyhow::Result<()> {
    return_freed_memory_at_once();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref()).map_err(|e| anyhow!("configuration: {e}"))?;
    let apply = |config: &mut Config, o: &Overrides| {
        if let Some(d) = &o.data_dir {
            config.server.data_dir = d.clone();
        }
        if let Some(u) = &o.database_url {
            config.database.url = Some(u.clone());
        }
    };
    match cli.command {
        Command::Serve { addr, overrides, demo } => {
            apply(&mut config, &overrides);
            if let Some(a) = addr {
                config.server.addr = a;
            }
            init_logs(&config);
            serve(config, demo).await
        }
        Command::Migrate { overrides } => {
            apply(&mut config, &overrides);
            init_logs(&config);
            let state = callplane_server::open(config, Arc::new(SystemClock)).await?;
            println!(
                "migrations applied ({}, {} region database(s))",
                state.db.backend(),
                state.regions.databases().len()
            );
            Ok(())
        }
        Command::Contacts { remote, command } => {
            let remote = contacts::Remote {
                server: remote.server,
                token: remote
                    .token
                    .ok_or_else(|| anyhow!("give --token (or CALLPLANE_TOKEN): an API key of the workspace"))?,
                workspace: remote.workspace.ok_or_else(|| anyhow!("give --workspace ws_…"))?,
            };
            match command {
                ContactsCommand::Import { file, on_duplicate, mapping } => {
                    let s = contacts::import(&remote, &file, &on_duplicate, mapping.as_deref()).await?;
                    println!(
                        "import {}: {} rows, {} imported, {} updated, {} skipped, {} failed",
                        s["id"].as_str().unwrap_or(""),
                        s["rows_read"],
                        s["imported"],
                        s["updated"],
                        s["skipped"],
                        s["failed"]
                    );
                    Ok(())
                }
                ContactsCommand::Export { output, tag, flag } => {
                    let mut filters = Vec::new();
                    if let Some(t) = tag {
                        filters.push(("tag", t));
                    }
                    if let Some(f) = flag {
                        filters.push(("flag", f));
                    }
                    let n = match &output {
                        Some(path) => {
                            let mut f =
                                std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
                            contacts::export(&remote, &filters, &mut f).await?
                        }
                        None => contacts::export(&remote, &filters, &mut std::io::stdout()).await?,
                    };
                    eprintln!("{n} contacts exported");
                    Ok(())
                }
            }
        }
        Command::Admin { overrides, command } => {
            apply(&mut config, &overrides);
            init_logs(&config);
            let state = callplane_server::open(config, Arc::new(SystemClock)).await?;
            admin(&state, command).await
        }
    }
}

fn init_logs(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let app = Application::build(config, Arc::new(SystemClock)).await?;
    let state = app.state().clone();
    if demo {
        seed_demo(&state).await?;
    }
    let url = format!("http://{}", app.local_addr());
    println!();
    println!("  callplane is running at {url}");
    println!("  database: {}", state.db.backend());
    if demo {
        println!("  demo sign-in: {DEMO_EMAIL} / {DEMO_PASSWORD}");
    } else {
        println!("  create an account at {url}/signup");
    }
    println!();
    app.run(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await
    .context("serving")
}

/// A demo organization with two workspaces, created once.
async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    use callplane_server::services::{identity, workspaces};
    let created =
        identity::create_user_from_cli(state, DEMO_EMAIL, DEMO_PASSWORD, "Demo Owner", "Acme Agency", "professional")
            .await;
    let signed = match created {
        Ok(s) => s,
        Err(e) if e.code == callplane_server::error::Code::EmailTaken => return Ok(()),
        Err(e) => return Err(anyhow!("seeding the demo account: {}", e.detail)),
    };
    let actor = callplane_domain::Principal::User {
        user_id: signed.user.id.clone(),
        session_id: String::new(),
        email: signed.user.email.clone(),
    };
    let mut all = vec![(signed.workspace.id.clone(), "IN")];
    for (name, region, country) in [("Client B – Support", "in", "IN"), ("North Region", "eu", "GB")] {
        let input = workspaces::CreateInput { name, region: Some(region), status: None };
        let ws = workspaces::create(state, &actor, &signed.account, input)
            .await
            .map_err(|e| anyhow!("seeding workspace {name}: {}", e.detail))?;
        all.push((ws.id, country));
    }
    let mut scopes = Vec::new();
    for (i, (ws, country)) in all.iter().enumerate() {
        let scope = callplane_server::auth::scope::resolve(state, &actor, ws)
            .await
            .map_err(|e| anyhow!("{}", e.detail))?
            .ok_or_else(|| anyhow!("the demo workspace {ws} is not reachable"))?;
        demo::seed_workspace(state, &scope, i, country).await.map_err(|e| anyhow!("seeding {ws}: {}", e.detail))?;
        scopes.push((scope, country.to_string()));
    }
    let calls = demo::seed_history(state, &signed.account.id, &scopes)
        .await
        .map_err(|e| anyhow!("seeding the call history: {}", e.detail))?;
    tracing::info!(calls, "seeded a month of demo calls");
    demo::seed_campaigns(state, &scopes).await.map_err(|e| anyhow!("seeding the campaigns: {}", e.detail))?;
    Ok(())
}

async fn admin(state: &AppState, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Outbox { limit } => {
            let mut conn = state.db.conn().await?;
            let emails = callplane_store::emails::recent(&mut conn, limit.clamp(1, 1000)).await?;
            if emails.is_empty() {
                println!("the outbox is empty");
            }
            for e in emails {
                let status = match (e.sent_at, &e.last_error) {
                    (Some(_), _) => "sent".to_owned(),
                    (None, Some(err)) => format!("not sent ({} attempts: {err})", e.attempts),
                    (None, None) => "waiting in the outbox".to_owned(),
                };
                println!("── {} · to {} · {}", e.id, e.to_email, status);
                println!("Subject: {}\n\n{}", e.subject, e.body.trim_end());
            }
            Ok(())
        }
        AdminCommand::CreateUser { email, password, name, account, plan } => {
            let s = callplane_server::services::identity::create_user_from_cli(
                state, &email, &password, &name, &account, &plan,
            )
            .await
            .map_err(|e| anyhow!("{}", e.detail))?;
            println!("created user {} ({})", s.user.email, s.user.id);
            println!("account {} ({}, plan {})", s.account.name, s.account.id, s.account.plan);
            println!("workspace {} ({})", s.workspace.name, s.workspace.id);
            Ok(())
        }
        AdminCommand::Wallet { command: WalletCommand::Credit { account, amount, note } } => {
            let balance = callplane_server::services::wallet::credit(state, &account, amount, &note)
                .await
                .map_err(|e| anyhow!("{}", e.detail))?;
            println!("credited {} to {account}; balance {}", rupees(amount), rupees(balance));
            Ok(())
        }
        AdminCommand::Wallet { command: WalletCommand::Show { account } } => {
            let mut conn = state.db.conn().await?;
            let a = callplane_store::accounts::get(&mut conn, &account)
                .await?
                .ok_or_else(|| anyhow!("no account {account}"))?;
            let (w, entries) = callplane_server::services::wallet::statement(state, &a, None, 20)
                .await
                .map_err(|e| anyhow!("{}", e.detail))?;
            println!(
                "{}: balance {}, reserved {}, available {}",
                a.name,
                rupees(w.balance),
                rupees(w.reserved),
                rupees(w.available())
            );
            for e in entries {
                println!(
                    "  {} {:<6} {:>12} → {:>12}  {}",
                    e.id,
                    e.kind,
                    rupees(e.amount),
                    rupees(e.balance_after),
                    e.note
                );
            }
            Ok(())
        }
        AdminCommand::Inbound { from, to } => {
            let call = callplane_server::services::calls::receive(state, &from, &to)
                .await
                .map_err(|e| anyhow!("{}", e.detail))?;
            let answered_by = match (&call.agent_id, call.status.as_str()) {
                (_, "failed") => format!("refused: {}", call.end_reason.as_deref().unwrap_or("failed")),
                (Some(agent), _) => format!("answered by agent {agent}"),
                (None, _) => "no agent: the caller hears an announcement".to_owned(),
            };
            println!("inbound call {} from {} to {} ({answered_by})", call.id, call.from_e164, call.to_e164);
            Ok(())
        }
        AdminCommand::Telephony { command: TelephonyCommand::Load { file } } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            match callplane_server::services::telephony::load(state, &text).await? {
                Ok(l) => {
                    println!(
                        "catalog {} in force: {} countries, {} network groups, {} prefixes",
                        l.version, l.countries, l.groups, l.prefixes
                    );
                    Ok(())
                }
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}:{}: {}", file.display(), e.line, e.message);
                    }
                    bail!("{} mistake(s) in {}; the catalog in force is unchanged", errors.len(), file.display())
                }
            }
        }
        AdminCommand::Telephony { command: TelephonyCommand::Show } => {
            let routes = callplane_server::services::telephony::routes(state);
            let c = routes.catalog();
            println!("catalog {}: {} prefixes", c.version(), c.prefix_count());
            for p in &c.providers {
                let groups: Vec<_> = c.groups.iter().filter(|g| g.provider == p.id).collect();
                let flat = p.flat_rate.map(|r| format!(", flat rate {r} paise/min")).unwrap_or_default();
                let default = if p.default { ", default" } else { "" };
                println!("provider {} ({}, {}{default}{flat}): {} groups", p.id, p.name, p.kind.as_str(), groups.len());
                for g in groups {
                    println!(
                        "  {:<20} {:<2} {:<40} in {:>5} out {:>5} paise/min  {:>5} prefixes{}",
                        g.id,
                        g.country,
                        g.name,
                        g.inbound_rate,
                        g.outbound_rate,
                        g.prefixes.len(),
                        if g.default_enabled { "  (on in new workspaces)" } else { "" }
                    );
                }
            }
            Ok(())
        }
    }
}

/// Paise as rupees (`₹1,234.50` without the grouping: `₹1234.50`).
fn rupees(paise: i64) -> String {
    let sign = if paise < 0 { "-" } else { "" };
    format!("{sign}₹{}.{:02}", paise.abs() / 100, paise.abs() % 100)
}
