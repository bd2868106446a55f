//! Building an engine from a workspace: the scenarios are linted first (a scenario with an
//! error never runs), published as the newest versions, and each account is routed to its
//! scenario.

use std::collections::HashMap;
use std::path::PathBuf;

use super::engine::EngineOptions;
use crate::config::Workspace;
use crate::diagnostic::FileReport;
use crate::lint;

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
        ..EngineOptions::default()
    }
}
