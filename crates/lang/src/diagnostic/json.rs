//! The stable machine-readable report of `lint --format json` (STYLE C9). Described by
//! `schemas/lint-report.schema.json`; change both together and bump `schema_version` on any
//! incompatible change. Positions: byte offsets `start`/`end` (half-open) and 1-based
//! `line`/`column`, where a column counts Unicode scalar values.

use serde::Serialize;

use super::{Diagnostic, FileReport, Label};
use crate::source::SourceFile;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct LintReport {
    pub schema_version: u32,
    pub tool: Tool,
    pub summary: Summary,
    pub diagnostics: Vec<JsonDiagnostic>,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
}

#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: &'static str,
    pub message: String,
    pub file: String,
    #[serde(flatten)]
    pub position: Position,
    pub labels: Vec<JsonLabel>,
    pub help: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct JsonLabel {
    pub message: Option<String>,
    #[serde(flatten)]
    pub position: Position,
}

#[derive(Debug, Serialize)]
pub struct Position {
    pub start: u32,
    pub end: u32,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Position {
    pub fn of(file: &SourceFile, label: &Label) -> Self {
        let start = file.line_column(label.span.start as usize);
        let end = file.line_column(label.span.end as usize);
        Self {
            start: label.span.start,
            end: label.span.end,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
        }
    }
}

impl JsonDiagnostic {
    pub fn of(file: &SourceFile, diagnostic: &Diagnostic) -> Self {
        Self {
            code: diagnostic.code.id(),
            name: diagnostic.code.name(),
            severity: diagnostic.severity.as_str(),
            message: diagnostic.message.clone(),
            file: file.name().to_owned(),
            position: Position::of(file, &diagnostic.primary),
            labels: std::iter::once(&diagnostic.primary)
                .chain(&diagnostic.secondary)
                .map(|label| JsonLabel {
                    message: label.message.clone(),
                    position: Position::of(file, label),
                })
                .collect(),
            help: diagnostic.help.clone(),
        }
    }
}

/// Builds the report of a whole lint run.
pub fn report(reports: &[FileReport]) -> LintReport {
    LintReport {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "scenarist",
            version: env!("CARGO_PKG_VERSION"),
        },
        summary: Summary {
            files: reports.len(),
            errors: reports.iter().map(FileReport::errors).sum(),
            warnings: reports.iter().map(FileReport::warnings).sum(),
        },
        diagnostics: reports
            .iter()
            .flat_map(|r| r.diagnostics.iter().map(|d| JsonDiagnostic::of(&r.file, d)))
            .collect(),
    }
}
