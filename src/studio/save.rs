//! "Save as test": a chat written as `NAME.studio.test.yaml` beside its scenario
//! (`transcript`), its actions mocked with what they gave (`record`), then run by the
//! transcript harness, whose verdict the page shows.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::Studio;
use super::files::{self, Kind};
use super::guard::JsonBody;
use super::session::CONTACT;
use super::transcript::{self, Mock};
use crate::config::Workspace;
use crate::harness;
use crate::service::ApiError;

#[derive(Debug, Deserialize)]
pub(super) struct SaveTest {
    /// The test file's name, beside the scenario (default: `<scenario>.studio.test.yaml`).
    #[serde(default)]
    file: Option<String>,
    /// The test's name.
    #[serde(default)]
    name: Option<String>,
    /// Replace a file of that name.
    #[serde(default)]
    overwrite: bool,
}

#[derive(Debug, Serialize)]
pub(super) struct SavedTest {
    path: String,
    /// What `scenarist test` says of the file just written.
    passed: bool,
    report: Vec<String>,
}

/// `POST /api/sessions/{id}/test`: the conversation as a `*.test.yaml` beside the scenario,
/// then run by the transcript harness.
pub(super) async fn save_test(
    State(studio): State<Arc<Studio>>,
    Path(id): Path<String>,
    JsonBody(save): JsonBody<SaveTest>,
) -> Result<Json<SavedTest>, ApiError> {
    let session = studio.sessions.get(&id)?;
    let session = session.lock().await;
    if session.entries.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "empty",
            "nothing happened in this chat yet",
        ));
    }
    let (scenario_path, _) = files::confine(&studio.folder, &session.path)?;
    let on_disk = files::read_bytes(scenario_path).await.unwrap_or_default();
    if on_disk != session.text.as_bytes() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "unsaved",
            "the chat ran a text that differs from the saved file: save the scenario, start a new chat, and save that one",
        ));
    }
    let (folder, stem) = match session.path.rsplit_once('/') {
        Some((folder, name)) => (format!("{folder}/"), name),
        None => (String::new(), session.path.as_str()),
    };
    let scenario_name = stem.to_owned();
    let stem = stem.strip_suffix(".scn").unwrap_or(stem);
    let file = save
        .file
        .unwrap_or_else(|| format!("{stem}.studio.test.yaml"));
    if file.contains('/') {
        return Err(ApiError::bad_request(
            "a saved test goes beside its scenario: give a file name, not a path",
        ));
    }
    let relative = format!("{folder}{file}");
    let (path, kind) = files::confine(&studio.folder, &relative)?;
    if kind != Kind::Test {
        return Err(ApiError::bad_request(
            "a transcript test's name ends with `.test.yaml`",
        ));
    }
    if path.exists() && !save.overwrite {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "exists",
            format!("`{relative}` exists; choose another name or replace it"),
        ));
    }
    let config = studio.config.as_ref().and_then(|config| {
        let config = config.canonicalize().ok()?;
        let relative = config.strip_prefix(path.parent()?).ok()?;
        Some(relative.to_string_lossy().replace('\\', "/"))
    });
    let (actions, mut notes) = mocks(&studio.workspace, session.recorder.calls());
    if config.is_none() && studio.config.is_some() {
        notes.push(
            "the config is not in the scenario's folder or below it, so the test runs on the built-in config".into(),
        );
    }
    let name = save
        .name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("recorded in the studio at {}", session.started));
    let text = transcript::render(&transcript::Recording {
        scenario: &scenario_name,
        config: config.as_deref(),
        account: &session.account,
        name: &name,
        at: &session.started,
        language: session.language.as_deref(),
        contact: CONTACT,
        actions: &actions,
        entries: &session.entries,
    })
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "yaml", e.to_string()))?;
    drop(session);
    let written = path.clone();
    tokio::task::spawn_blocking(move || files::write(&written, text.as_bytes()))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "unwritable",
                format!("cannot write `{relative}`: {e}"),
            )
        })?;
    let result = harness::run_file(&path).await;
    let mut lines = report(&result);
    lines.extend(notes);
    Ok(Json(SavedTest {
        path: relative,
        passed: result.passed(),
        report: lines,
    }))
}

/// A transcript's mocks from what the chat's actions gave: one per action (the first call's
/// result; a note when later calls gave another). Only the actions a scenario may call:
/// the Zendesk sync's own work is not the scenario's.
fn mocks(
    workspace: &Workspace,
    calls: Vec<(String, Mock)>,
) -> (BTreeMap<String, Mock>, Vec<String>) {
    let mut mocks: BTreeMap<String, Mock> = BTreeMap::new();
    let mut notes = Vec::new();
    for (action, mock) in calls {
        if workspace.action(&action).is_none() {
            continue;
        }
        match mocks.get(&action) {
            None => {
                mocks.insert(action, mock);
            }
            Some(first) if *first != mock => {
                let note = format!(
                    "`{action}` gave different results in this chat; a transcript mocks an action once, so the test gives every call the first one"
                );
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
            Some(_) => {}
        }
    }
    (mocks, notes)
}

/// What the harness said, a line per finding.
fn report(result: &harness::FileResult) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(error) = &result.error {
        lines.push(error.clone());
    }
    for report in &result.lint {
        for diagnostic in &report.diagnostics {
            lines.push(format!(
                "{}: {} {}",
                report.file.name(),
                diagnostic.code.id(),
                diagnostic.message
            ));
        }
    }
    for test in &result.tests {
        match &test.failure {
            None => lines.push(format!("✓ {}", test.name)),
            Some(failure) => {
                lines.push(format!(
                    "✗ {} — entry {} ({})",
                    test.name, failure.entry, failure.action
                ));
                for mismatch in &failure.mismatches {
                    lines.push(format!(
                        "  {}: expected {} but got {}",
                        mismatch.what,
                        mismatch.expected.join(" / "),
                        mismatch.actual.join(" / ")
                    ));
                }
            }
        }
    }
    lines
}
