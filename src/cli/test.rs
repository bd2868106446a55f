//! `scenarist test`: runs transcript tests (`*.test.yaml`) and reports each failure as the
//! transcript entry where it happened and a diff of expected and actual; `--coverage` lists
//! the steps and branches no transcript reached.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use super::{ExitStatus, GlobalArgs, output};
use crate::harness::{self, FileResult, Mismatch};

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Test files or folders (searched recursively for `*.test.yaml`).
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// Also report the steps and branches of each scenario that no test reached.
    #[arg(long)]
    pub coverage: bool,
}

pub(super) fn run(args: &TestArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let files = harness::test_files(&args.paths).context("cannot find the test files")?;
    if files.is_empty() {
        anyhow::bail!(
            "no *.test.yaml files in {}",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let runtime = crate::setup::tokio_runtime()?;
    let mut out = std::io::stdout().lock();
    let (mut passed, mut failed) = (0, 0);
    for path in &files {
        let result = runtime.block_on(harness::run_file(path));
        print_file(&mut out, &result, args.coverage, global)?;
        for test in &result.tests {
            if test.failure.is_some() {
                failed += 1;
            } else {
                passed += 1;
            }
        }
        if result.error.is_some() || !result.lint.is_empty() {
            failed += 1;
        }
    }
    writeln!(
        out,
        "\n{passed} passed, {failed} failed, in {}.",
        output::plural(files.len(), "file")
    )?;
    Ok(if failed == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn print_file(
    out: &mut impl std::io::Write,
    result: &FileResult,
    coverage: bool,
    global: &GlobalArgs,
) -> anyhow::Result<()> {
    writeln!(out, "{}", result.path.display())?;
    if let Some(error) = &result.error {
        writeln!(out, "  ✗ {error}")?;
    }
    if !result.lint.is_empty() {
        writeln!(out, "  ✗ the scenario has errors:")?;
        output::write_reports(
            out,
            &result.lint,
            output::Format::Human,
            global.color_stdout(),
        )?;
    }
    for test in &result.tests {
        match &test.failure {
            None => writeln!(out, "  ✓ {}", test.name)?,
            Some(failure) => {
                writeln!(out, "  ✗ {}", test.name)?;
                writeln!(
                    out,
                    "      at entry {} ({}):",
                    failure.entry, failure.action
                )?;
                for mismatch in &failure.mismatches {
                    print_mismatch(out, mismatch)?;
                }
            }
        }
    }
    if let (true, Some(coverage)) = (coverage, &result.coverage) {
        let percent = (coverage.reached() * 100)
            .checked_div(coverage.total)
            .unwrap_or(100);
        writeln!(
            out,
            "  coverage: {} of {} reached ({percent}%)",
            coverage.reached(),
            output::plural(coverage.total, "point")
        )?;
        for missed in &coverage.missed {
            writeln!(out, "    - {missed}")?;
        }
    }
    Ok(())
}

/// A line diff: `-` expected, `+` actual.
fn print_mismatch(out: &mut impl std::io::Write, mismatch: &Mismatch) -> std::io::Result<()> {
    writeln!(out, "      {} (- expected, + actual):", mismatch.what)?;
    let expected = mismatch.expected.join("\n");
    let actual = mismatch.actual.join("\n");
    let diff = similar::TextDiff::from_lines(&expected, &actual);
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Delete => '-',
            similar::ChangeTag::Insert => '+',
            similar::ChangeTag::Equal => ' ',
        };
        writeln!(
            out,
            "        {sign} {}",
            change.value().trim_end_matches('\n')
        )?;
    }
    if expected.is_empty() && actual.is_empty() {
        writeln!(out, "        (both empty)")?;
    }
    Ok(())
}
