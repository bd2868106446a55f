//! `scenarist lint`: reads the workspace config, finds the scenario files, parses and
//! checks each, and reports every finding in the chosen format.

use std::path::PathBuf;

use anyhow::{Context as _, bail};

use super::load::load_workspace;
use super::output::{self, Format};
use super::{ExitStatus, GlobalArgs};
use crate::diagnostic::{Code, FileReport, Severity};
use crate::library::{self, Library};
use crate::lint;
use crate::setup;

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Scenario files or folders (searched recursively for `*.scn`).
    #[arg(required_unless_present = "explain")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Explain a diagnostic code (e.g. `C101` or `unknown-step`) and exit.
    #[arg(long, value_name = "CODE", conflicts_with_all = ["paths", "format", "deny_warnings"])]
    pub explain: Option<String>,
}

pub(super) fn run(args: &LintArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    if let Some(code) = &args.explain {
        return explain(code);
    }
    let mut reports = Vec::new();
    let workspace = match load_workspace(global.config.as_deref())? {
        Ok(workspace) => {
            let warnings = workspace.warnings();
            if !warnings.is_empty() {
                reports.push(FileReport::new(workspace.file.clone(), warnings));
            }
            Some(workspace)
        }
        Err(report) => {
            reports.push(report);
            None
        }
    };
    if let Some(workspace) = &workspace {
        let files =
            lint::scenario_files(&args.paths).context("cannot find the scenarios to lint")?;
        // Linting the config's own scenarios folder also checks it as a whole, as `serve` does.
        let folder = std::fs::canonicalize(setup::scenarios_folder(workspace)).ok();
        let whole = args
            .paths
            .iter()
            .any(|p| folder.is_some() && std::fs::canonicalize(p).ok() == folder);
        let mut sources = Vec::new();
        let mut libraries = lint::Libraries::default();
        for path in files {
            let linted = lint::lint_path(&path, workspace, &mut libraries)
                .with_context(|| format!("cannot read {}", path.display()))?;
            // Only the check as a whole needs the sources (each costs a parse of the bundle).
            if whole && let Some(bundle) = &linted.bundle {
                sources.extend(setup::scenario_source(path, &bundle.file));
            }
            reports.extend(linted.reports);
        }
        if whole {
            let folder = setup::scenarios_folder(workspace);
            let library = Library::load(&folder)
                .with_context(|| format!("cannot read {}", folder.display()))?;
            reports.extend(setup::workspace_problems(workspace, &sources, &library));
        }
    }
    let reports = library::merge(reports);
    let mut stdout = std::io::stdout().lock();
    output::write_reports(&mut stdout, &reports, args.format, global.color_stdout())?;
    let errors = reports.iter().any(|r| r.errors() > 0);
    let warnings = reports.iter().any(|r| r.warnings() > 0);
    Ok(if errors || (warnings && args.deny_warnings) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

#[expect(clippy::print_stdout, reason = "--explain prints the documentation")]
fn explain(code: &str) -> anyhow::Result<ExitStatus> {
    let Some(code) = Code::lookup(code) else {
        let ids: Vec<&str> = Code::ALL.iter().map(|c| c.id()).collect();
        bail!("unknown code `{code}`; the codes are {}", ids.join(", "));
    };
    let severity = match code.severity() {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    println!("{} {} ({severity})\n", code.id(), code.name());
    println!("{}", code.explanation().trim_end());
    Ok(ExitStatus::Success)
}
