//! The scenarios an application runs: linted first (a scenario with an
//! error never runs), published as the newest versions, and each account is routed to its
//! scenario.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::config::{self, Workspace};
use crate::diagnostic::{Code, Diagnostic, FileReport, did_you_mean};
use crate::library::{self, Library};
use crate::lint;
use crate::source::SourceFile;

/// A scenario that passed lint.
#[derive(Clone, Debug)]
pub struct ScenarioSource {
    pub path: PathBuf,
    pub name: String,
    /// Where the name is declared (`scenario <name>`).
    pub name_span: crate::source::Span,
    /// What runs: the file's text, then the texts of the files of the flows it includes
    /// (`library::Bundle`).
    pub source: String,
    /// The flows it includes.
    pub flows: Vec<String>,
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
    let mut libraries = lint::Libraries::default();
    for path in lint::scenario_files(paths)? {
        let linted = lint::lint_path(&path, workspace, &mut libraries)?;
        if linted.reports.iter().any(|report| report.errors() > 0) {
            failed.extend(linted.reports);
            continue;
        }
        // A scenario without errors parses; a file of flows has no bundle.
        if let Some(bundle) = &linted.bundle {
            loaded.extend(scenario_source(path, &bundle.file));
        }
    }
    if failed.is_empty() {
        Ok(loaded)
    } else {
        Err(LoadError::Invalid(library::merge(failed)))
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
    let library = Library::load(&folder)?;
    let reports: Vec<FileReport> = workspace_problems(workspace, &scenarios, &library)
        .into_iter()
        .filter(|report| report.errors() > 0)
        .collect();
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
/// (its messages would all fail), a flow declared by two files or included by no scenario.
pub fn workspace_problems(
    workspace: &Workspace,
    scenarios: &[ScenarioSource],
    library: &Library,
) -> Vec<FileReport> {
    let folder = scenarios_folder(workspace);
    let mut reports = library.problems().to_vec();
    reports.extend(unused_flows(scenarios, library));
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

/// L216 for each flow of the folder that no scenario includes.
fn unused_flows(scenarios: &[ScenarioSource], library: &Library) -> Vec<FileReport> {
    let mut reports: Vec<FileReport> = Vec::new();
    for (name, file) in library.flows() {
        if scenarios.iter().any(|s| s.flows.iter().any(|f| f == name)) {
            continue;
        }
        let Some(flow) = crate::syntax::parse(file)
            .ok()
            .and_then(|parsed| parsed.flows.into_iter().find(|f| f.name.text == name))
        else {
            continue;
        };
        let problem = Diagnostic::new(
            Code::UnusedFlow,
            flow.name.span,
            format!("flow `{name}` is included by no scenario"),
        )
        .with_help(format!(
            "include it in a scenario (`include {name}(…)`), or remove it"
        ));
        reports.push(FileReport::new(file.clone(), vec![problem]));
    }
    library::merge(reports)
}

/// A linted scenario's bundle (`Linted::bundle`) as a scenario source, if it parses.
pub fn scenario_source(path: PathBuf, bundle: &SourceFile) -> Option<ScenarioSource> {
    let parsed = crate::syntax::parse(bundle).ok()?;
    let scenario = parsed.scenario?;
    Some(ScenarioSource {
        path,
        name: scenario.name.text.clone(),
        name_span: scenario.name.span,
        source: bundle.text().to_owned(),
        flows: scenario
            .includes()
            .map(|(include, _)| include.flow.text.clone())
            .collect(),
    })
}
