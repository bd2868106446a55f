//! `scenarist serve`: the HTTP service on the workspace's scenarios, state and Zendesk
//! organizations. Refuses to start on a scenario with errors or without an API token (unless
//! `--dev` on loopback); SIGTERM or Ctrl-C stops intake, lets requests in flight finish,
//! flushes the store and exits 0.
#![expect(clippy::print_stdout, reason = "serve prints where it listens")]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::{ExitStatus, GlobalArgs, load};
use crate::runtime::{Clock, SystemClock};
use crate::service::{self, AccountGuards, Guards, Service};
use crate::setup::{self, Data};
use crate::zendesk::sandbox;
use crate::zendesk::secret::Secret;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// `host:port` to listen on; default: the config's `service.listen`.
    #[arg(long)]
    pub listen: Option<String>,
    /// The data directory; default: the config's `data_dir`.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Try it out: on a loopback address only, with an API token made up for the run
    /// (printed) unless the token variable is set, answering only its loopback host names.
    #[arg(long)]
    pub dev: bool,
}

pub(super) fn run(args: &ServeArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let workspace = match load::workspace(global.config.as_deref(), global)? {
        Ok(workspace) => workspace,
        Err(status) => return Ok(status),
    };
    let header = "The scenarios or the config have errors; serve starts only on a clean set:";
    // Not `stderr().lock()` held for the function: a worker thread's log line would wait
    // for it forever.
    let scenarios =
        match load::workspace_scenarios(&workspace, global, &mut std::io::stderr(), header)? {
            Ok(scenarios) => scenarios,
            Err(status) => return Ok(status),
        };
    let config = &workspace.config.service;
    let listen = args.listen.clone().unwrap_or_else(|| config.listen.clone());
    let address: SocketAddr = listen
        .parse()
        .with_context(|| format!("`{listen}` is not a host:port address"))?;
    // The token made up for a `--dev` run is printed in the welcome; the operator's never is.
    let mut shown_token = None;
    let token = match (Secret::from_env(&config.token_env), args.dev) {
        (Ok(token), _) => token,
        (Err(_), true) if address.ip().is_loopback() => {
            let token = dev_token()?;
            shown_token = Some(token.expose().to_owned());
            token
        }
        (Err(_), true) => bail!(
            "--dev makes up its own API token and listens only on a loopback address, not {address}; set {} to serve elsewhere",
            config.token_env
        ),
        (Err(problem), false) => bail!(
            "no API token: {problem}. Set {} to the token callers must send, or use --dev to try it out on 127.0.0.1",
            config.token_env
        ),
    };
    // The operator's token for `/v1/admin/*`: never the channels' (a channel's leaked token
    // must not reload the service); `--dev` makes one up too.
    let mut shown_admin = None;
    let admin_token = match (Secret::from_env(&config.admin_token_env), args.dev) {
        (Ok(admin), _) => Some(admin),
        (Err(_), true) => {
            let admin = dev_token()?;
            shown_admin = Some(admin.expose().to_owned());
            Some(admin)
        }
        (Err(_), false) => {
            tracing::warn!(
                "no admin token ({} is not set): /v1/admin/* answers 403; SIGHUP still reloads",
                config.admin_token_env
            );
            None
        }
    };
    if admin_token
        .as_ref()
        .is_some_and(|admin| admin.expose() == token.expose())
    {
        bail!(
            "{} and {} hold the same token; the admin token must differ from the API token the channels hold",
            config.admin_token_env,
            config.token_env
        );
    }
    let mut guards = Guards {
        token,
        admin_token,
        hosts: service::browsers::Hosts::any(),
        accounts: AccountGuards::from_config(&workspace.config).map_err(anyhow::Error::msg)?,
        max_body_bytes: config.max_body_bytes,
        request_timeout: Duration::from_millis(config.request_timeout_ms),
        source: service::reload::Source {
            path: global.config.clone(),
            started: workspace.config.clone(),
        },
        routes: service::RouteLimits::new(
            config.max_requests_per_second,
            config.max_zendesk_requests_per_second,
        ),
        public_metrics: config.public_metrics,
    };
    if config.public_metrics && !address.ip().is_loopback() {
        tracing::warn!(
            "GET /metrics is open on {address}, which is not a loopback address: anyone who reaches the port reads the service's counters. Keep the port private, or set service.public_metrics: false to require the admin token"
        );
    }
    tracing::info!("{}", crate::allocator::describe());
    let data = crate::setup::data_dir(args.data.as_deref(), &workspace);
    let runtime = crate::setup::service_runtime(&workspace.config.store)?;
    runtime.block_on(async {
        let clock = Arc::new(SystemClock) as Arc<dyn Clock>;
        let app = setup::start(&workspace, Data::Dir(&data), clock, |_| {}).await?;
        for problem in &app.problems {
            tracing::warn!("{problem}");
        }
        let engine = app.engine;
        for scenario in &scenarios {
            engine.publish(&scenario.source)?;
        }
        engine.rearm()?;
        // On a database every node shares, a poll is a query each node sends: 10 a second is
        // enough for timers and for taking over a dead node's effects (a node's own commits
        // wake its scheduler at once).
        let tick = if workspace.config.store.is_postgres() {
            Duration::from_millis(100)
        } else {
            Duration::from_millis(20)
        };
        let scheduler = engine.spawn_scheduler(tick);
        for warning in workspace.warnings() {
            tracing::warn!(code = warning.code.id(), "{}", warning.message);
        }
        let sweeper = setup::spawn_sweeper(&workspace, &engine);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen on {address}"))?;
        let local = listener.local_addr()?;
        if args.dev {
            guards.hosts = service::browsers::Hosts::loopback(local);
        }
        let service = Service::new(engine.clone(), app.zendesk, guards);
        let hangups = tokio::spawn(reload_on_hangup(Arc::clone(&service)));
        print_welcome(
            local,
            shown_token.as_deref(),
            &config.token_env,
            &app.sandboxes,
        );
        if let Some(admin) = &shown_admin {
            println!(
                "Admin token for this run, for /v1/admin/* (set {} to choose one): {admin}",
                config.admin_token_env
            );
        }
        let draining = Arc::clone(&service);
        let limits = connection_limits(config);
        service::connections::serve(
            listener,
            service::router(service),
            limits,
            shutdown_signal(),
            move || {
                tracing::info!("shutting down: finishing the requests in flight");
                draining.drain();
            },
        )
        .await;
        scheduler.abort();
        if let Some(sweeper) = sweeper {
            sweeper.abort();
        }
        hangups.abort();
        engine.store().flush()?;
        tracing::info!("stopped; every acknowledged message is on disk");
        anyhow::Ok(())
    })?;
    // Every task, and with them the store, dropped: the directory is free to reopen.
    drop(runtime);
    setup::snapshot_data(&data, &workspace.config.store);
    Ok(ExitStatus::Success)
}

/// The connection limits of `service:`, the cap lowered to what the open-file limit allows.
fn connection_limits(config: &crate::config::ServiceConfig) -> service::connections::Limits {
    let request_timeout = Duration::from_millis(config.request_timeout_ms);
    service::connections::Limits {
        header_timeout: Duration::from_millis(config.header_timeout_ms),
        idle_timeout: Duration::from_millis(config.idle_timeout_ms),
        max_connections: fit_open_files(config.max_connections),
        grace: SHUTDOWN_GRACE,
        finish: request_timeout + SHUTDOWN_GRACE,
    }
}

/// A token for one `--dev` run: 32 bytes from the operating system's CSPRNG, as hex.
fn dev_token() -> anyhow::Result<Secret> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        anyhow::anyhow!("the operating system gave no random bytes for the --dev token: {e}")
    })?;
    Ok(Secret::new(scenarist_base::hex::encode(&bytes)))
}

/// How long after SIGTERM requests are still taken (and answered 503 `shutting_down`): a
/// request already on its way gets an answer, not a reset connection.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// File descriptors kept for the store, the Zendesk clients and the sandboxes.
const OTHER_FILES: u64 = 128;

/// `max_connections`, or fewer when the process may not open that many files: the soft
/// limit is raised towards the hard one first (as Go's runtime does).
fn fit_open_files(max_connections: usize) -> usize {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let wanted = (max_connections as u64).saturating_add(OTHER_FILES);
    let limit = getrlimit(Resource::Nofile);
    let Some(current) = limit.current else {
        return max_connections;
    };
    if current >= wanted {
        return max_connections;
    }
    let raised = limit.maximum.map_or(wanted, |maximum| maximum.min(wanted));
    let soft = if setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(raised),
            maximum: limit.maximum,
        },
    )
    .is_ok()
    {
        raised
    } else {
        current
    };
    if soft >= wanted {
        return max_connections;
    }
    let fitted = usize::try_from(soft.saturating_sub(OTHER_FILES).max(16)).unwrap_or(16);
    tracing::warn!(
        max_connections,
        open_file_limit = soft,
        "service.max_connections lowered to {fitted}: the process may open only {soft} files (raise it with `ulimit -n`)"
    );
    fitted
}

fn print_welcome(
    address: SocketAddr,
    dev_token: Option<&str>,
    token_env: &str,
    sandboxes: &sandbox::Sandboxes,
) {
    println!("Scenarist is listening on http://{address}");
    for (name, url) in sandboxes.urls() {
        println!(
            "Zendesk sandbox `{name}` at {url} (curl -u {} {url}/api/v2/tickets.json)",
            sandbox::login()
        );
    }
    let auth = match dev_token {
        Some(token) => {
            println!(
                "API token for this run (--dev made it up; set {token_env} to choose one): {token}"
            );
            format!(" -H 'Authorization: Bearer {token}'")
        }
        None => format!(" -H \"Authorization: Bearer ${token_env}\""),
    };
    println!(
        "Send a first message:\n  curl -s{auth} -H 'Content-Type: application/json' http://{address}/v1/messages \\\n    -d '{{\"account\": \"facebook:acme\", \"conversation\": \"c-1\", \"message_id\": \"m-1\", \"contact\": {{\"id\": \"u-1\", \"name\": \"Ada Lovelace\"}}, \"text\": \"Hello\"}}'"
    );
    println!("Ctrl-C stops it (requests in flight finish first).");
}

/// SIGHUP reloads the config and the scenarios, like `POST /v1/admin/reload`.
async fn reload_on_hangup(service: Arc<Service>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP; reload with POST /v1/admin/reload");
        return;
    };
    while hangups.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading the config and the scenarios");
        if let Err(error) = service::reload::reload(Arc::clone(&service)).await {
            tracing::error!(code = error.code, "reload refused: {}", error.message);
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
