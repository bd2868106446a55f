//! Opening a workspace on its data and starting the application over it.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use super::runners::Runners;
use crate::config::apis::is_sandbox;
use crate::config::{StoreConfig, Workspace};
use crate::http::HttpActions;
use crate::runtime::Clock;
use crate::runtime::engine::{Engine, EngineOptions};
use crate::runtime::runner::ActionRunner;
use crate::store::{KvStore, MemoryBackend, PgBackend, SledBackend, Store};
use crate::zendesk::actions::ZendeskActions;
use crate::zendesk::client::Timeouts;
use crate::zendesk::sandbox::{self, Sandboxes};
use crate::zendesk::sync::{SyncTarget, ZendeskSync};
use zendesk_standin::DemoOrders;

/// The data directory — the one rule every command follows: `--data` when given, else the
/// config's `data_dir`, relative to the config's folder (the built-in config's is
/// `scenarist-data` in the current folder).
pub fn data_dir(flag: Option<&Path>, workspace: &Workspace) -> PathBuf {
    match flag {
        Some(data) => data.to_path_buf(),
        None => lexical(&workspace.base.join(&workspace.config.data_dir)),
    }
}

/// `a/../b` as `b`, without touching the disk (`scenarios/..` must not need `scenarios`).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// Opens the data directory's sled store with the default `store:` settings (one-shot
/// commands: `store export`, `contact`), saying plainly when another process holds it.
pub fn open_data(data: &Path) -> anyhow::Result<SledBackend> {
    open_data_with(data, &StoreConfig::default())
}

/// Opens the data directory's sled store as the config's `store:` says — the one place the
/// application does — saying plainly when another process holds it.
fn open_data_with(data: &Path, store: &StoreConfig) -> anyhow::Result<SledBackend> {
    SledBackend::open_with_cache(data, store.cache_bytes()).map_err(|error| {
        let text = error.to_string();
        if text.contains("lock") || text.contains("WouldBlock") {
            anyhow::anyhow!(
                "the data directory {} is in use by another process (is `scenarist serve` or a \
                 `chat` running?): stop it first, or use the HTTP API",
                data.display()
            )
        } else {
            anyhow::anyhow!("cannot open the data directory {}: {text}", data.display())
        }
    })
}

/// Opens the store the config's `store:` names: sled in `data`, or PostgreSQL at the URL in
/// the environment variable `store.url_env` names.
pub fn open_store(data: &Path, store: &StoreConfig) -> anyhow::Result<Arc<dyn Store>> {
    Ok(if store.is_postgres() {
        Arc::new(KvStore::new(open_postgres(store)?))
    } else {
        Arc::new(KvStore::new(open_data_with(data, store)?))
    })
}

/// Opens the PostgreSQL store of `store:` (migrating its schema), its URL read from the
/// environment. The URL is never printed: the driver's words have its password taken out.
pub fn open_postgres(store: &StoreConfig) -> anyhow::Result<PgBackend> {
    let variable = &store.url_env;
    let url = std::env::var(variable).map_err(|_| {
        anyhow::anyhow!(
            "the store is PostgreSQL (`store.backend: postgres`), but the environment variable \
             {variable} that holds its URL is not set: set it to \
             postgres://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    })?;
    let connections = usize::try_from(store.pool).unwrap_or(1);
    PgBackend::open(&url, connections).map_err(|error| {
        anyhow::anyhow!("cannot open the PostgreSQL store (its URL from {variable}): {error}")
    })
}

/// The workspace's sandbox organizations started (their URLs put in the workspace it
/// answers), keeping their data in `data` when given, else in memory.
pub async fn sandboxes(
    workspace: &Workspace,
    data: Option<&Path>,
) -> anyhow::Result<(Workspace, Sandboxes)> {
    Ok(sandbox::start(workspace, data).await?)
}

/// The tokio runtime of a command: the one place the application builds one.
pub fn tokio_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// The runtime of a service on `store`. A PostgreSQL store's calls block the task's worker
/// thread for a round trip to the database (the store's interface is synchronous), so with
/// only a worker per core, two cores meant two steps at the database at once, whatever
/// `store.pool`: each step in progress (at most `pool`, the lock connections) gets a worker
/// of its own besides the cores' for HTTP.
pub fn service_runtime(store: &StoreConfig) -> anyhow::Result<tokio::runtime::Runtime> {
    if !store.is_postgres() {
        return tokio_runtime();
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let pool = usize::try_from(store.pool).unwrap_or(1);
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores + pool)
        .enable_all()
        .build()?)
}

/// Where an application keeps its state.
#[derive(Clone, Copy, Debug)]
pub enum Data<'a> {
    /// A sled data directory (created when missing); the sandboxes keep their data there.
    Dir(&'a Path),
    /// Nothing kept: a memory store and fresh sandboxes (`zendesk verify`).
    Memory,
}

/// A running application: the engine on its store with the workspace's action runners.
pub struct App {
    pub engine: Engine,
    pub store: Arc<dyn Store>,
    /// The Zendesk runner the engine uses (the service also answers advisors' events with it).
    pub zendesk: Arc<ZendeskActions>,
    /// The workspace with the sandboxes' URLs in place of `sandbox:` organizations.
    pub workspace: Workspace,
    /// Kept alive as long as the application runs.
    pub sandboxes: Sandboxes,
    /// The demo order system of APIs declared with `base_url: sandbox`, if any; kept alive
    /// as long as the application runs.
    pub demo_orders: Option<DemoOrders>,
    /// Organizations whose credentials cannot be read (their calls will fail).
    pub problems: Vec<String>,
}

/// Starts `workspace` on `data`: the store opened first (its lock keeps a second process off
/// the sandboxes' files too), then the sandboxes, the action runners and the engine, with
/// the options of [`options`] adjusted by `adjust`. Nothing is published yet.
pub async fn start(
    workspace: &Workspace,
    data: Data<'_>,
    clock: Arc<dyn Clock>,
    adjust: impl FnOnce(&mut EngineOptions),
) -> anyhow::Result<App> {
    start_wrapped(workspace, data, clock, adjust, |runner| runner).await
}

/// [`start`], with the engine's action runner wrapped by `wrap` (the studio records what
/// each action gave, to write it into a transcript's mocks).
pub async fn start_wrapped(
    workspace: &Workspace,
    data: Data<'_>,
    clock: Arc<dyn Clock>,
    adjust: impl FnOnce(&mut EngineOptions),
    wrap: impl FnOnce(Arc<dyn ActionRunner>) -> Arc<dyn ActionRunner>,
) -> anyhow::Result<App> {
    let (store, sandbox_data): (Arc<dyn Store>, _) = match data {
        Data::Dir(path) => {
            std::fs::create_dir_all(path)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
            (open_store(path, &workspace.config.store)?, Some(path))
        }
        Data::Memory => (Arc::new(KvStore::new(MemoryBackend::default())), None),
    };
    let (workspace, sandboxes) = sandboxes(workspace, sandbox_data).await?;
    let (workspace, demo_orders) = demo_apis(workspace).await?;
    let (zendesk, runner, problems) = runners(&workspace, Arc::clone(&store));
    let mut options = options(&workspace);
    adjust(&mut options);
    let engine = Engine::new(Arc::clone(&store), clock, wrap(Arc::new(runner)), options);
    Ok(App {
        engine,
        store,
        zendesk,
        workspace,
        sandboxes,
        demo_orders,
        problems,
    })
}

/// After a clean stop, with every handle on the store in `data` dropped: has sled write its
/// snapshot now, so the next start does not replay the log written since this one began
/// (`SledBackend::write_snapshot`). Its failure loses nothing — every write is flushed — and
/// only makes the next start slower, so it is logged, not returned. A PostgreSQL store has
/// no such log: nothing to do.
pub fn snapshot_data(data: &Path, store: &StoreConfig) {
    if store.is_postgres() {
        return;
    }
    let started = std::time::Instant::now();
    match SledBackend::write_snapshot(data, store.cache_bytes()) {
        Ok(()) => tracing::info!(
            "store snapshot written in {:.1} s: the next start reads it instead of the log",
            started.elapsed().as_secs_f64()
        ),
        Err(error) => tracing::warn!(
            "could not write the store's snapshot ({error}); the next start replays its log and takes longer"
        ),
    }
}

/// Starts the demo order system when an API of `workspace` is declared with
/// `base_url: sandbox`, and answers the workspace with its URL in their place.
pub async fn demo_apis(
    mut workspace: Workspace,
) -> anyhow::Result<(Workspace, Option<DemoOrders>)> {
    let wanted = workspace
        .config
        .apis
        .values()
        .any(|api| is_sandbox(&api.base_url));
    if !wanted {
        return Ok((workspace, None));
    }
    let demo = DemoOrders::start()
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the demo order system: {e}"))?;
    tracing::info!(
        "demo order system (`base_url: sandbox`) at {} (curl {}/orders/AB100001)",
        demo.url(),
        demo.url()
    );
    for api in workspace.config.apis.values_mut() {
        if is_sandbox(&api.base_url) {
            demo.url().clone_into(&mut api.base_url);
        }
    }
    Ok((workspace, Some(demo)))
}

/// Routes, flush policy, declared contact fields and the Zendesk sync from the workspace
/// config.
pub fn options(workspace: &Workspace) -> EngineOptions {
    let config = &workspace.config;
    let routes: HashMap<String, String> = config
        .accounts
        .iter()
        .map(|(id, account)| (id.clone(), account.scenario.clone()))
        .collect();
    EngineOptions {
        flush: config.durability.into(),
        routes,
        after_input: Some(Arc::new(ZendeskSync {
            targets: sync_targets(workspace),
            organizations: config
                .accounts
                .iter()
                .filter_map(|(id, account)| account.zendesk.clone().map(|org| (id.clone(), org)))
                .collect(),
        })),
        contact_fields: Some(Arc::new(config.contact_fields.keys().cloned().collect())),
        schedules: schedules(workspace),
        ..EngineOptions::default()
    }
}

/// The workspace's schedules, compiled. A workspace is validated before it runs, so every
/// schedule compiles.
pub fn schedules(workspace: &Workspace) -> Arc<crate::runtime::eval::Schedules> {
    Arc::new(
        workspace
            .config
            .schedules
            .iter()
            .filter_map(|(name, spec)| {
                scenarist_lang::schedule::Schedule::compile(spec)
                    .ok()
                    .map(|hours| (name.clone(), hours))
            })
            .collect(),
    )
}

/// How each account syncs: only accounts linked to an organization with their toggle on.
pub fn sync_targets(workspace: &Workspace) -> HashMap<String, SyncTarget> {
    let config = &workspace.config;
    let mut targets = HashMap::new();
    for (id, account) in &config.accounts {
        let Some(name) = account.zendesk.as_ref().filter(|_| account.sync) else {
            continue;
        };
        let Some(organization) = config.zendesk.organizations.get(name) else {
            continue;
        };
        let sync = &organization.sync;
        targets.insert(
            id.clone(),
            SyncTarget {
                organization: name.clone(),
                mode: sync.mode,
                team: sync.team.clone(),
                email_field: sync.email_field.clone(),
                continue_after_ticket: sync.continue_after_ticket,
                ticket_fields: sync.ticket_fields.clone(),
            },
        );
    }
    targets
}

/// The action runner for a workspace: its declared HTTP actions (`apis:`), and the Zendesk
/// actions for its organizations (falling back to the built-in runner for the rest), with the
/// problems of organizations and APIs whose credentials cannot be read.
pub fn runner(
    workspace: &Workspace,
    store: Arc<dyn Store>,
) -> (Arc<dyn ActionRunner>, Vec<String>) {
    let (_, runner, problems) = runners(workspace, store);
    (Arc::new(runner), problems)
}

/// The Zendesk runner (the service answers advisors' events with it too) and the runner the
/// engine uses — Zendesk's and the declared APIs' together — with their problems.
fn runners(
    workspace: &Workspace,
    store: Arc<dyn Store>,
) -> (Arc<ZendeskActions>, Runners, Vec<String>) {
    let (zendesk, mut problems) =
        ZendeskActions::from_workspace(workspace, store, Timeouts::default());
    let zendesk = Arc::new(zendesk);
    let http = HttpActions::from_workspace(workspace);
    problems.extend(http.problems().iter().cloned());
    let runner = Runners::new(
        Arc::clone(&zendesk) as Arc<dyn ActionRunner>,
        vec![Arc::new(http)],
    );
    (zendesk, runner, problems)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    use crate::runtime::interpreter::LOCAL_ACTIONS;
    use crate::store::{KvStore, MemoryBackend, Store};

    /// A service on PostgreSQL gets a worker thread for each step that may be at the database
    /// (`store.pool`) besides the cores': with a worker per core only, a 2-core machine ran two
    /// steps' round trips at once and PostgreSQL saw one commit at a time.
    #[test]
    fn a_service_on_postgres_has_a_worker_per_step_in_progress() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let workers = |store: &crate::config::StoreConfig| {
            super::service_runtime(store)
                .unwrap()
                .metrics()
                .num_workers()
        };
        let sled = crate::config::StoreConfig::default();
        assert_eq!(workers(&sled), cores);
        let postgres = crate::config::StoreConfig {
            backend: "postgres".into(),
            pool: 12,
            ..crate::config::StoreConfig::default()
        };
        assert!(postgres.is_postgres());
        assert_eq!(workers(&postgres), cores + 12);
    }

    /// The contract written once: every action a workspace's scenarios may call — the
    /// built-in ones and those its config declares under `apis:` — has exactly the executors
    /// the application assembles (the interpreter's local actions and the action runner), and
    /// no executor runs an action without a spec. Checked on the default workspace and on one
    /// that declares an API of its own.
    #[test]
    fn every_action_spec_has_an_executor_and_every_executor_a_spec() {
        let default = crate::config::Workspace::default_workspace().unwrap();
        let mut declaring = default.clone();
        let api = "base_url: https://shop.example.com\nactions:\n  find_parcel: { method: GET, path: '/parcels/{id}', params: { id: text } }\n";
        declaring
            .config
            .apis
            .insert("shop".into(), serde_yaml::from_str(api).unwrap());
        assert!(declaring.action("shop.find_parcel").is_some());
        for workspace in [default, declaring] {
            executors_match_specs(&workspace);
        }
    }

    fn executors_match_specs(workspace: &crate::config::Workspace) {
        let store: Arc<dyn Store> = Arc::new(KvStore::new(MemoryBackend::default()));
        let (runner, _problems) = super::runner(workspace, store);
        let local: BTreeSet<&str> = LOCAL_ACTIONS.iter().copied().collect();
        let run_by_runner = runner.executes();
        let outbox: BTreeSet<&str> = run_by_runner.iter().map(String::as_str).collect();
        assert!(
            local.is_disjoint(&outbox),
            "run twice: {:?}",
            local.intersection(&outbox)
        );
        let executed: BTreeSet<&str> = local.union(&outbox).copied().collect();
        let names = workspace.action_names();
        let specified: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        assert_eq!(
            executed, specified,
            "an action without an executor, or an executor without a spec"
        );
    }

    /// One rule for the data directory: `--data`, else the config's `data_dir` from the
    /// config's folder; the built-in config's is `scenarist-data` in the current folder.
    #[test]
    fn the_data_directory_is_the_flag_else_the_configs_data_dir() {
        let mut workspace = crate::config::Workspace::default_workspace().unwrap();
        assert_eq!(
            super::data_dir(None, &workspace),
            PathBuf::from("scenarist-data")
        );
        assert_eq!(
            super::data_dir(Some(Path::new("/srv/x")), &workspace),
            PathBuf::from("/srv/x")
        );
        workspace.base = PathBuf::from("/etc/scenarist");
        workspace.config.data_dir = PathBuf::from("state/../data");
        assert_eq!(
            super::data_dir(None, &workspace),
            PathBuf::from("/etc/scenarist/data")
        );
        workspace.config.data_dir = PathBuf::from("../../var");
        assert_eq!(super::data_dir(None, &workspace), PathBuf::from("/var"));
    }
}
