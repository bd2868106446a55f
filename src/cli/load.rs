//! Loading what commands run on — the workspace config and the scenarios — and, when they
//! have problems, reporting them as lint does and answering with the exit status.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::{ExitStatus, GlobalArgs, output};
use crate::config::Workspace;
use crate::diagnostic::FileReport;
use crate::setup::{LoadError, ScenarioSource, load_scenarios, load_workspace_scenarios};

/// The config given, or the built-in default. A config with problems becomes a report.
pub(crate) fn load_workspace(path: Option<&Path>) -> anyhow::Result<Result<Workspace, FileReport>> {
    match path {
        Some(path) => {
            let loaded = Workspace::load(path)
                .with_context(|| format!("cannot read the config {}", path.display()))?;
            Ok(loaded.map_err(|(file, problems)| FileReport::new(file, problems)))
        }
        None => Workspace::default_workspace().map(Ok).map_err(|problems| {
            anyhow::anyhow!(
                "the built-in default config is invalid ({}); this is a bug",
                super::output::plural(problems.len(), "problem")
            )
        }),
    }
}

/// The workspace, or `Err(status)` after writing its problems to stderr.
pub(super) fn workspace(
    config: Option<&Path>,
    global: &GlobalArgs,
) -> anyhow::Result<Result<Workspace, ExitStatus>> {
    match load_workspace(config)? {
        Ok(workspace) => Ok(Ok(workspace)),
        Err(report) => {
            output::write_reports(
                &mut std::io::stderr().lock(),
                &[report],
                output::Format::Human,
                global.color_stdout(),
            )?;
            Ok(Err(ExitStatus::Failure))
        }
    }
}

/// The scenarios of `paths` (all free of errors), or `Err(status)` after writing `header`
/// and the reports of the files with errors to `out`.
pub(super) fn scenarios(
    workspace: &Workspace,
    paths: &[PathBuf],
    global: &GlobalArgs,
    out: &mut dyn Write,
    header: &str,
) -> anyhow::Result<Result<Vec<ScenarioSource>, ExitStatus>> {
    reported(load_scenarios(workspace, paths), global, out, header)
}

/// The config's scenarios folder, checked as a whole against the config
/// ([`load_workspace_scenarios`]); problems are written to `out` as for [`scenarios`].
pub(super) fn workspace_scenarios(
    workspace: &Workspace,
    global: &GlobalArgs,
    out: &mut dyn Write,
    header: &str,
) -> anyhow::Result<Result<Vec<ScenarioSource>, ExitStatus>> {
    reported(load_workspace_scenarios(workspace), global, out, header)
}

fn reported(
    loaded: Result<Vec<ScenarioSource>, LoadError>,
    global: &GlobalArgs,
    out: &mut dyn Write,
    header: &str,
) -> anyhow::Result<Result<Vec<ScenarioSource>, ExitStatus>> {
    match loaded {
        Ok(scenarios) => Ok(Ok(scenarios)),
        Err(LoadError::Invalid(reports)) => {
            if !header.is_empty() {
                writeln!(out, "{header}\n")?;
            }
            let mut out = out;
            output::write_reports(
                &mut out,
                &reports,
                output::Format::Human,
                global.color_stdout(),
            )?;
            Ok(Err(ExitStatus::Failure))
        }
        Err(LoadError::Io(error)) => Err(error).context("cannot read the scenarios"),
    }
}
