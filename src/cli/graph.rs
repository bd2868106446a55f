//! `scenarist graph`: the step graph of one scenario, to paste into Markdown (Mermaid) or
//! render with Graphviz (`scenarist graph --format dot FILE | dot -Tsvg > flow.svg`).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::ValueEnum;

use super::load::load_workspace;
use super::{ExitStatus, GlobalArgs, output};
use crate::diagnostic::FileReport;
use crate::graph::{self, GraphFormat};
use crate::library::{self, Bundle, Library};
use crate::syntax;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Mermaid,
    Dot,
}

#[derive(Debug, clap::Args)]
pub struct GraphArgs {
    /// The scenario file.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Mermaid)]
    pub format: Format,
}

pub(super) fn run(args: &GraphArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let (file, problem) = syntax::read_source(&args.file.display().to_string(), bytes);
    let parsed = match problem.map_or_else(|| syntax::parse(&file), Err) {
        Ok(parsed) => parsed,
        Err(diagnostic) => return write_problem(FileReport::new(file, vec![diagnostic]), global),
    };
    let format = match args.format {
        Format::Mermaid => GraphFormat::Mermaid,
        Format::Dot => GraphFormat::Dot,
    };
    // The flows it includes from other files of its folder, drawn in boxes of their own.
    let workspace = match load_workspace(global.config.as_deref())? {
        Ok(workspace) => workspace,
        Err(report) => return write_problem(report, global),
    };
    let folder = library::folder_for(&args.file, &workspace);
    let library = Library::load(&folder)
        .with_context(|| format!("cannot read the flows of {}", folder.display()))?;
    let bundle = Bundle::of(&file, &parsed, &library);
    let parsed = match syntax::parse(&bundle.file) {
        Ok(parsed) => parsed,
        Err(diagnostic) => {
            return write_problem(FileReport::new(bundle.file, vec![diagnostic]), global);
        }
    };
    let Some(drawing) = graph::render_parsed(&parsed, format) else {
        anyhow::bail!(
            "{} holds flows but no scenario; draw a scenario that includes them",
            args.file.display()
        );
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(drawing.as_bytes())?;
    Ok(ExitStatus::Success)
}

/// Nothing to draw: shows why, the way `lint` would.
fn write_problem(report: FileReport, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let mut stderr = std::io::stderr().lock();
    output::write_reports(
        &mut stderr,
        &[report],
        output::Format::Human,
        global.color_stdout(),
    )?;
    Ok(ExitStatus::Failure)
}
