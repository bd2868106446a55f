//! `scenarist graph`: the step graph of one scenario, to paste into Markdown (Mermaid) or
//! render with Graphviz (`scenarist graph --format dot FILE | dot -Tsvg > flow.svg`).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::ValueEnum;

use super::{ExitStatus, GlobalArgs, output};
use crate::diagnostic::FileReport;
use crate::graph::{self, GraphFormat};
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
        Err(diagnostic) => {
            // Nothing to draw: show why, the way `lint` would.
            let report = FileReport::new(file, vec![diagnostic]);
            let mut stderr = std::io::stderr().lock();
            output::write_reports(
                &mut stderr,
                &[report],
                output::Format::Human,
                global.color_stdout(),
            )?;
            return Ok(ExitStatus::Failure);
        }
    };
    let format = match args.format {
        Format::Mermaid => GraphFormat::Mermaid,
        Format::Dot => GraphFormat::Dot,
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(graph::render(&parsed.scenario, format).as_bytes())?;
    Ok(ExitStatus::Success)
}
