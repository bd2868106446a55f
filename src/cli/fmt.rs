//! `scenarist fmt`: rewrites scenario files in the canonical layout (comments kept), or with
//! `--check` only reports — with a diff — which files would change. `-` formats stdin to
//! stdout, for editors.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;

use anyhow::Context as _;

use super::{ExitStatus, GlobalArgs, output};
use crate::diagnostic::FileReport;
use crate::source::SourceFile;
use crate::{fmt, lint, syntax};

#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// Scenario files or folders (searched recursively for `*.scn`); `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Change nothing; list the files that are not formatted, with a diff, and exit 1.
    #[arg(long)]
    pub check: bool,
}

enum Outcome {
    Unchanged,
    Changed,
    Broken,
}

pub(super) fn run(args: &FmtArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    if args.paths.len() == 1 && args.paths[0].as_os_str() == "-" {
        return stdin(global);
    }
    let files = lint::scenario_files(&args.paths).context("cannot find the scenarios to format")?;
    let (mut changed, mut broken) = (0, 0);
    let mut stdout = std::io::stdout().lock();
    for path in &files {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.display().to_string();
        let (formatted, outcome) = format_bytes(&name, bytes, global)?;
        match outcome {
            Outcome::Unchanged => {}
            Outcome::Broken => broken += 1,
            Outcome::Changed if args.check => {
                changed += 1;
                let before = std::fs::read_to_string(path).unwrap_or_default();
                writeln!(stdout, "would reformat {name}")?;
                write!(
                    stdout,
                    "{}",
                    similar::TextDiff::from_lines(&before, &formatted)
                        .unified_diff()
                        .header(&name, &name)
                )?;
            }
            Outcome::Changed => {
                changed += 1;
                std::fs::write(path, &formatted)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                writeln!(stdout, "formatted {name}")?;
            }
        }
    }
    let verb = if args.check {
        "would be reformatted"
    } else {
        "reformatted"
    };
    writeln!(
        stdout,
        "{} checked: {changed} {verb}, {broken} could not be parsed.",
        super::output::plural(files.len(), "file")
    )?;
    Ok(if broken > 0 || (args.check && changed > 0) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn stdin(global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("cannot read stdin")?;
    let (formatted, outcome) = format_bytes("<stdin>", bytes, global)?;
    if matches!(outcome, Outcome::Broken) {
        return Ok(ExitStatus::Failure);
    }
    std::io::stdout().lock().write_all(formatted.as_bytes())?;
    Ok(ExitStatus::Success)
}

/// Formats one file's bytes; a file that does not parse is reported on stderr.
fn format_bytes(
    name: &str,
    bytes: Vec<u8>,
    global: &GlobalArgs,
) -> anyhow::Result<(String, Outcome)> {
    let (file, problem) = syntax::read_source(name, bytes);
    let parsed = match problem.map_or_else(|| syntax::parse(&file), Err) {
        Ok(parsed) => parsed,
        Err(diagnostic) => {
            report(file, diagnostic, global)?;
            return Ok((String::new(), Outcome::Broken));
        }
    };
    let formatted = fmt::format(&parsed, &file);
    let outcome = if formatted == file.text() {
        Outcome::Unchanged
    } else {
        Outcome::Changed
    };
    Ok((formatted, outcome))
}

fn report(
    file: SourceFile,
    diagnostic: crate::diagnostic::Diagnostic,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    let mut stderr = std::io::stderr().lock();
    output::write_reports(
        &mut stderr,
        &[FileReport::new(file, vec![diagnostic])],
        output::Format::Human,
        global.color_stdout(),
    )?;
    Ok(())
}
