//! What the editor asks while the admin types: the diagnostics of the text (the checker of
//! `lint`, with the flows of the scenarios folder, in the JSON shape of `lint --format json`)
//! and its step graph as Mermaid source, with the node of each step so the page can light
//! up the step a chat is in.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::Studio;
use super::files::Kind;
use super::guard::JsonBody;
use crate::diagnostic::json::JsonDiagnostic;
use crate::graph::{self, GraphFormat};
use crate::library::{Bundle, Library};
use crate::lint::lint_bytes;
use crate::service::ApiError;
use crate::syntax;

#[derive(Debug, Deserialize)]
pub(super) struct Text {
    /// The file's path in the folder (its name in the diagnostics; `.test.yaml` is read as a
    /// transcript test).
    path: String,
    text: String,
}

#[derive(Debug, Serialize)]
pub(super) struct Linted {
    errors: usize,
    warnings: usize,
    diagnostics: Vec<JsonDiagnostic>,
}

/// `POST /api/lint` with `{path, text}`.
pub(super) async fn lint(
    State(studio): State<Arc<Studio>>,
    JsonBody(text): JsonBody<Text>,
) -> Result<Json<Linted>, ApiError> {
    let linted = tokio::task::spawn_blocking(move || lint_text(&studio, &text))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    Ok(Json(linted))
}

fn lint_text(studio: &Studio, text: &Text) -> Linted {
    if Kind::of(&text.path) == Some(Kind::Test) {
        return lint_test(&text.path, &text.text);
    }
    let library = Library::load(&studio.folder).unwrap_or_default();
    let linted = lint_bytes(
        &text.path,
        text.text.clone().into_bytes(),
        &studio.workspace,
        &library,
    );
    let report = linted.report();
    Linted {
        errors: report.errors(),
        warnings: report.warnings(),
        diagnostics: report
            .diagnostics
            .iter()
            .map(|d| JsonDiagnostic::of(&report.file, d))
            .collect(),
    }
}

/// A transcript test is checked for its form only (the test runs when saved from a chat,
/// or with `scenarist test`).
fn lint_test(path: &str, text: &str) -> Linted {
    let Err(error) = serde_yaml::from_str::<crate::harness::transcript::TestFile>(text) else {
        return Linted {
            errors: 0,
            warnings: 0,
            diagnostics: Vec::new(),
        };
    };
    let file = crate::source::SourceFile::new(path, text.to_owned());
    let offset = error.location().map_or(0, |l| l.index().min(text.len()));
    let start = u32::try_from(offset).unwrap_or(u32::MAX);
    let span = crate::source::Span {
        start,
        end: start
            .saturating_add(1)
            .min(u32::try_from(text.len()).unwrap_or(u32::MAX)),
    };
    let diagnostic = crate::diagnostic::Diagnostic::new(
        crate::diagnostic::Code::SyntaxError,
        span,
        format!("not a valid transcript test: {error}"),
    )
    .with_help("the keys are described in docs/command-line.md#transcript-tests");
    Linted {
        errors: 1,
        warnings: 0,
        diagnostics: vec![JsonDiagnostic::of(&file, &diagnostic)],
    }
}

#[derive(Debug, Serialize)]
pub(super) struct Drawing {
    /// The Mermaid source, when the text parses and holds a scenario.
    mermaid: Option<String>,
    /// Step name → its node's id in the Mermaid source (`s3`).
    nodes: BTreeMap<String, String>,
    /// Why there is nothing to draw.
    problem: Option<String>,
}

/// `POST /api/graph` with `{path, text}`.
pub(super) async fn graph(
    State(studio): State<Arc<Studio>>,
    JsonBody(text): JsonBody<Text>,
) -> Result<Json<Drawing>, ApiError> {
    let drawing = tokio::task::spawn_blocking(move || draw(&studio, &text))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?;
    Ok(Json(drawing))
}

fn draw(studio: &Studio, text: &Text) -> Drawing {
    let nothing = |problem: String| Drawing {
        mermaid: None,
        nodes: BTreeMap::new(),
        problem: Some(problem),
    };
    let (file, problem) = syntax::read_source(&text.path, text.text.clone().into_bytes());
    let parsed = match problem.map_or_else(|| syntax::parse(&file), Err) {
        Ok(parsed) => parsed,
        Err(diagnostic) => return nothing(diagnostic.message),
    };
    let library = Library::load(&studio.folder).unwrap_or_default();
    let bundle = Bundle::of(&file, &parsed, &library);
    let parsed = match syntax::parse(&bundle.file) {
        Ok(parsed) => parsed,
        Err(diagnostic) => return nothing(diagnostic.message),
    };
    match graph::render_parsed(&parsed, GraphFormat::Mermaid) {
        Some(mermaid) => Drawing {
            nodes: step_nodes(&mermaid),
            mermaid: Some(mermaid),
            problem: None,
        },
        None => nothing("this file holds flows but no scenario".into()),
    }
}

/// The step nodes of a Mermaid drawing: lines `s3["name"]`.
fn step_nodes(mermaid: &str) -> BTreeMap<String, String> {
    mermaid
        .lines()
        .filter_map(|line| {
            let (id, label) = line.trim().split_once("[\"")?;
            let name = label.strip_suffix("\"]")?;
            let numbered = id.strip_prefix('s')?;
            (!numbered.is_empty() && numbered.bytes().all(|b| b.is_ascii_digit()))
                .then(|| (name.to_owned(), id.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_nodes_are_read_from_the_drawing() {
        let nodes = step_nodes(
            "flowchart TD\n  start([start])\n  s0[\"welcome\"]\n  subgraph flow0[\"x: flow y\"]\n    s1[\"x.ask\"]\n  end\n  handoff([\"handoff advisor\"])\n",
        );
        assert_eq!(nodes.len(), 2);
        assert_eq!(nodes["welcome"], "s0");
        assert_eq!(nodes["x.ask"], "s1");
    }
}
