//! Building an engine from a workspace: the scenarios are linted first (a scenario with an
//! error never runs), published as the newest versions, and each account is routed to its
//! scenario.

use std::collections::HashMap;
use std::path::PathBuf;

use super::engine::EngineOptions;
use crate::config::Workspace;
use crate::diagnostic::FileReport;
use crate::lint;
use crate::zendesk::sync::SyncTarget;

/// A scenario that passed lint.
#[derive(Clone, Debug)]
pub struct ScenarioSource {
    pub path: PathBuf,
    pub name: String,
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
        let name = crate::syntax::parse(&report.file)
            .map(|p| p.scenario.name.text)
            .unwrap_or_default();
        loaded.push(ScenarioSource {
            path,
            name,
            source: report.file.text().to_owned(),
        });
    }
    if failed.is_empty() {
        Ok(loaded)
    } else {
        Err(LoadError::Invalid(failed))
    }
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
        sync: sync_targets(workspace),
        organizations: workspace
            .config
            .accounts
            .iter()
            .filter_map(|(id, account)| account.zendesk.clone().map(|org| (id.clone(), org)))
            .collect(),
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

/// The action runner for a workspace: Zendesk actions for its organizations (falling back to
/// the built-in runner for the rest), with the problems of organizations whose credentials
/// cannot be read.
pub fn runner(
    workspace: &Workspace,
    store: std::sync::Arc<dyn crate::store::Store>,
) -> (
    std::sync::Arc<dyn crate::actions::exec::ActionRunner>,
    Vec<String>,
) {
    let (actions, problems) = crate::zendesk::actions::ZendeskActions::from_workspace(
        workspace,
        store,
        crate::zendesk::client::Timeouts::default(),
    );
    (std::sync::Arc::new(actions), problems)
}
