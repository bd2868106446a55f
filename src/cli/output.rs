//! Writing reports: every format of `lint`, and the broken-pipe rule (a closed pipe, as in
//! `scenarist lint … | head`, is not a failure).

use std::io::{self, Write};

use clap::ValueEnum;

use crate::diagnostic::{FileReport, github, json, render, sarif};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Code frames for people, coloured on a terminal.
    Human,
    /// The stable report described by schemas/lint-report.schema.json.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other tools.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

/// Writes `reports` in `format` to `out`.
pub(super) fn write_reports(
    out: &mut impl Write,
    reports: &[FileReport],
    format: Format,
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Human => {
            for report in reports {
                for diagnostic in &report.diagnostics {
                    write!(out, "{}", render::render(&report.file, diagnostic, color))?;
                    writeln!(out)?;
                }
            }
            writeln!(out, "{}", summary(reports))
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &json::report(reports))?;
            writeln!(out)
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif::log(reports))?;
            writeln!(out)
        }
        Format::Github => {
            for report in reports {
                for diagnostic in &report.diagnostics {
                    writeln!(out, "{}", github::annotation(&report.file, diagnostic))?;
                }
            }
            Ok(())
        }
    }
}

/// "2 errors and 1 warning in 3 files", or a clean bill.
pub(super) fn summary(reports: &[FileReport]) -> String {
    let errors: usize = reports.iter().map(FileReport::errors).sum();
    let warnings: usize = reports.iter().map(FileReport::warnings).sum();
    let files = plural(reports.len(), "file");
    if errors == 0 && warnings == 0 {
        return format!("{files} checked: no problems found.");
    }
    format!(
        "{} and {} in {files}.",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

/// "1 file", "2 files": a count and its noun, singular only for one.
pub(super) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub(super) fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
