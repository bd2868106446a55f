//! Building an engine from a workspace: the scenarios are linted first (a scenario with an
//! error never runs), published as the newest versions, and each account is routed to its
//! scenario.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::config::{self, Workspace};
use crate::diagnostic::{Code, Diagnostic, FileReport, did_you_mean};
use crate::lint;
use crate::runtime::engine::EngineOptions;
use crate::source::SourceFile;
use crate::zendesk::sync::{SyncTarget, ZendeskSync};

/// A scenario that passed lint.
#[derive(Clone, Debug)]
pub struct ScenarioSource {
    pub path: PathBuf,
    pub name: String,
    /// Where the name is declared (`scenario <name>`).
    pub name_span: crate::source::Span,
    pub source: String,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the scenarios: {0}")]
    Io(#[from] std::io::Error),
    /// Scenarios with lint errors, with their reports.
    #[error("{} scenario file(s) have errors", .0.len())]
    Invalid(Vec<FileReport>),
}

/// Lints `paths` (files or folders, `*.scn`); every file must be free of errors.
pub fn load_scenarios(
    workspace: &Workspace,
    paths: &[PathBuf],
) -> Result<Vec<ScenarioSource>, LoadError> {
    let mut loaded = Vec::new();
    let mut failed = Vec::new();
    for path in lint::scenario_files(paths)? {
        let report = lint::lint_file(&path, workspace)?;
        if report.errors() > 0 {
            failed.push(report);
            continue;
        }
        // A file without errors parses.
        loaded.extend(scenario_source(path, &report.file));
    }
    if failed.is_empty() {
        Ok(loaded)
    } else {
        Err(LoadError::Invalid(failed))
    }
}

/// The config's scenarios folder, linted, and checked as a whole against the config
/// ([`workspace_problems`]). What `serve` starts on and a reload applies.
pub fn load_workspace_scenarios(workspace: &Workspace) -> Result<Vec<ScenarioSource>, LoadError> {
    let folder = scenarios_folder(workspace);
    let files = lint::scenario_files(std::slice::from_ref(&folder))?;
    if let Some(outside) = files.iter().find(|file| !workspace.contains(file)) {
        // Its content could be anything (`evil.scn -> /etc/shadow`): not read, never quoted.
        return Err(LoadError::Io(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "{}: a symbolic link leads outside the config's folder; it was not read (keep the scenarios in the config's folder)",
                outside.display()
            ),
        )));
    }
    let scenarios = load_scenarios(workspace, &files)?;
    let reports = workspace_problems(workspace, &scenarios);
    if reports.is_empty() {
        Ok(scenarios)
    } else {
        Err(LoadError::Invalid(reports))
    }
}

/// The folder of the config's `scenarios` (without the `.` of `scenarios: .`).
pub fn scenarios_folder(workspace: &Workspace) -> PathBuf {
    workspace
        .base
        .join(&workspace.config.scenarios)
        .components()
        .collect()
}

/// What is wrong with the folder's scenarios as a whole: a scenario name declared by two
/// files (one would silently replace the other), an account whose scenario no file declares
/// (its messages would all fail).
pub fn workspace_problems(workspace: &Workspace, scenarios: &[ScenarioSource]) -> Vec<FileReport> {
    let folder = scenarios_folder(workspace);
    let mut reports = Vec::new();
    let mut declared: HashMap<&str, &ScenarioSource> = HashMap::new();
    for scenario in scenarios {
        if let Some(first) = declared.insert(&scenario.name, scenario) {
            let file = SourceFile::new(
                scenario.path.display().to_string(),
                scenario.source.as_str(),
            );
            let problem = Diagnostic::new(
                Code::DuplicateDeclaration,
                scenario.name_span,
                format!(
                    "scenario `{}` is also declared in {}; a name must be unique in the folder",
                    scenario.name,
                    first.path.display()
                ),
            )
            .with_help("rename one of them (accounts choose a scenario by its name)");
            reports.push(FileReport::new(file, vec![problem]));
        }
    }
    let mut unknown = Vec::new();
    for (id, account) in &workspace.config.accounts {
        if !declared.contains_key(account.scenario.as_str()) {
            let hint = did_you_mean(&account.scenario, declared.keys().copied())
                .unwrap_or_else(|| format!("declare it in a `.scn` file of {}", folder.display()));
            unknown.push(
                Diagnostic::new(
                    Code::ConfigInvalid,
                    config::locate(workspace.file.text(), &["accounts", id, "scenario"]),
                    format!(
                        "account `{id}` runs scenario `{}`, which no file of {} declares",
                        account.scenario,
                        folder.display()
                    ),
                )
                .with_help(hint),
            );
        }
    }
    if !unknown.is_empty() {
        reports.push(FileReport::new(workspace.file.clone(), unknown));
    }
    reports
}

/// A linted file as a scenario source, if it parses.
pub fn scenario_source(path: PathBuf, file: &SourceFile) -> Option<ScenarioSource> {
    let parsed = crate::syntax::parse(file).ok()?;
    Some(ScenarioSource {
        path,
        name: parsed.scenario.name.text,
        name_span: parsed.scenario.name.span,
        source: file.text().to_owned(),
    })
}

/// Routes and flush policy from the workspace config.
pub fn options(workspace: &Workspace) -> EngineOptions {
    let routes: HashMap<String, String> = workspace
        .config
        .accounts
        .iter()
        .map(|(id, account)| (id.clone(), account.scenario.clone()))
        .collect();
    EngineOptions {
        flush: workspace.config.durability.into(),
        routes,
        after_input: Some(std::sync::Arc::new(ZendeskSync {
            targets: sync_targets(workspace),
            organizations: workspace
                .config
                .accounts
                .iter()
                .filter_map(|(id, account)| account.zendesk.clone().map(|org| (id.clone(), org)))
                .collect(),
        })),
        contact_fields: Some(std::sync::Arc::new(
            workspace.config.contact_fields.keys().cloned().collect(),
        )),
        ..EngineOptions::default()
    }
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
            },
        );
    }
    targets
}

/// Opens the data directory's sled store — the one place the application does — saying
/// plainly when another process holds it.
pub fn open_data(data: &std::path::Path) -> anyhow::Result<crate::store::SledBackend> {
    crate::store::SledBackend::open(data).map_err(|error| {
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

/// A workspace running on its data: the store opened, the sandbox organizations started
/// (their URLs put in the workspace).
pub struct Opened {
    pub store: std::sync::Arc<dyn crate::store::Store>,
    pub workspace: Workspace,
    pub sandboxes: crate::zendesk::sandbox::Sandboxes,
}

/// Opens `data`'s store, then starts the workspace's sandboxes beside it — in that order: the
/// store's lock keeps a second process off the sandboxes' files too.
pub async fn open(workspace: &Workspace, data: &std::path::Path) -> anyhow::Result<Opened> {
    let store: std::sync::Arc<dyn crate::store::Store> =
        std::sync::Arc::new(crate::store::KvStore::new(open_data(data)?));
    let (workspace, sandboxes) = crate::zendesk::sandbox::start(workspace, Some(data)).await?;
    Ok(Opened {
        store,
        workspace,
        sandboxes,
    })
}

/// The tokio runtime of a command: the one place the application builds one.
pub fn tokio_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// The action runner for a workspace: Zendesk actions for its organizations (falling back to
/// the built-in runner for the rest), with the problems of organizations whose credentials
/// cannot be read.
pub fn runner(
    workspace: &Workspace,
    store: std::sync::Arc<dyn crate::store::Store>,
) -> (
    std::sync::Arc<dyn crate::runtime::runner::ActionRunner>,
    Vec<String>,
) {
    let (actions, problems) = crate::zendesk::actions::ZendeskActions::from_workspace(
        workspace,
        store,
        crate::zendesk::client::Timeouts::default(),
    );
    (std::sync::Arc::new(actions), problems)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use scenarist_lang::actions::ACTIONS;

    use crate::runtime::interpreter::LOCAL_ACTIONS;
    use crate::store::{KvStore, MemoryBackend, Store};

    /// The contract written once: every built-in action the language declares has exactly the
    /// executors the application assembles (the interpreter's local actions and the action
    /// runner), and no executor runs an action without a spec.
    #[test]
    fn every_action_spec_has_an_executor_and_every_executor_a_spec() {
        let workspace = crate::config::Workspace::default_workspace().unwrap();
        let store: Arc<dyn Store> = Arc::new(KvStore::new(MemoryBackend::default()));
        let (runner, _problems) = super::runner(&workspace, store);
        let local: BTreeSet<&str> = LOCAL_ACTIONS.iter().copied().collect();
        let outbox: BTreeSet<&str> = runner.executes().iter().copied().collect();
        assert!(
            local.is_disjoint(&outbox),
            "run twice: {:?}",
            local.intersection(&outbox)
        );
        let executed: BTreeSet<&str> = local.union(&outbox).copied().collect();
        let specified: BTreeSet<&str> = ACTIONS.iter().map(|a| a.name).collect();
        assert_eq!(
            executed, specified,
            "an action without an executor, or an executor without a spec"
        );
    }
}
