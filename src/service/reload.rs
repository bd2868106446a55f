//! Reloading the scenarios (`POST /v1/admin/reload`): the config is read again and
//! every scenario of its folder linted; only a clean set is published (new conversations get
//! the new versions, running ones finish on theirs), otherwise the running set stays and the
//! problems are returned. Config changes other than the scenarios take a restart.

use std::path::PathBuf;

use axum::http::StatusCode;
use serde::Serialize;

use super::ApiError;
use crate::config::Workspace;
use crate::diagnostic::render::render_plain;
use crate::runtime::Engine;
use crate::runtime::setup::{LoadError, load_scenarios};

/// Where the scenarios come from: the config file, or the built-in default.
#[derive(Clone, Debug)]
pub struct Source {
    pub config: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
pub struct Reloaded {
    /// `(scenario, version)` of every scenario published.
    pub published: Vec<(String, String)>,
}

impl Source {
    pub fn reload(&self, engine: &Engine) -> Result<Reloaded, ApiError> {
        let refuse = |message: String| {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "reload_refused", message)
        };
        let workspace = match &self.config {
            Some(path) => match Workspace::load(path) {
                Ok(Ok(workspace)) => workspace,
                Ok(Err((file, problems))) => {
                    let text: Vec<String> =
                        problems.iter().map(|d| render_plain(&file, d)).collect();
                    return Err(refuse(format!(
                        "the config has problems; the running scenarios stay:\n{}",
                        text.join("\n")
                    )));
                }
                Err(e) => return Err(refuse(format!("cannot read {}: {e}", path.display()))),
            },
            None => Workspace::default_workspace()
                .map_err(|_| refuse("the built-in config is invalid".into()))?,
        };
        let folder = workspace.base.join(&workspace.config.scenarios);
        let scenarios = match load_scenarios(&workspace, std::slice::from_ref(&folder)) {
            Ok(scenarios) => scenarios,
            Err(LoadError::Invalid(reports)) => {
                let text: Vec<String> = reports
                    .iter()
                    .flat_map(|r| {
                        r.diagnostics
                            .iter()
                            .filter(|d| d.code.severity() == crate::diagnostic::Severity::Error)
                            .map(|d| render_plain(&r.file, d))
                    })
                    .collect();
                return Err(refuse(format!(
                    "scenarios have errors; the running ones stay:\n{}",
                    text.join("\n")
                )));
            }
            Err(LoadError::Io(e)) => {
                return Err(refuse(format!("cannot read {}: {e}", folder.display())));
            }
        };
        let mut published = Vec::new();
        for scenario in &scenarios {
            let program = engine.publish(&scenario.source)?;
            published.push((program.name.clone(), program.version.clone()));
        }
        tracing::info!(count = published.len(), "scenarios reloaded");
        Ok(Reloaded { published })
    }
}
