//! Reloading (`POST /v1/admin/reload`, SIGHUP): the config is read again and every scenario
//! of its folder linted against it; only a clean set is applied, otherwise everything
//! running stays and the problems are returned.
//!
//! Applied: the scenarios (new conversations get the new versions, running ones finish on
//! theirs), the accounts (routes, Zendesk sync settings, signing secrets, rate limits) and
//! the checks the lint makes (fields, teams, channels). Not applied until a restart, and
//! listed in the answer: the listen address and limits (`service`), `data_dir`,
//! `durability`, `retention` (the sweeper's policy is read at start), `store`, a Zendesk
//! organization's connection (new organizations included) and the declared HTTP APIs
//! (`apis`: their runner is built at start).

use std::path::PathBuf;
use std::sync::Arc;

use axum::http::StatusCode;
use serde::Serialize;

use super::{AccountGuards, ApiError, Service};
use crate::config::{Config, Workspace};
use crate::diagnostic::render::render_plain;
use crate::diagnostic::{FileReport, Severity};
use crate::setup::{self, LoadError, load_workspace_scenarios};
use crate::zendesk::actions::account_organizations;

/// Where the config comes from, and the config the service started with.
#[derive(Clone, Debug)]
pub struct Source {
    /// `None`: the built-in default config.
    pub path: Option<PathBuf>,
    /// As read at start (before a sandbox organization got its port).
    pub started: Config,
}

#[derive(Debug, Serialize)]
pub struct Reloaded {
    pub published: Vec<Published>,
    /// Settings changed in the file that take effect only after a restart.
    pub restart_required: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Published {
    pub scenario: String,
    pub version: String,
}

/// Reloads on a blocking thread (it reads files and lints): the service keeps serving.
/// Reloads run one at a time, in the order they were asked for.
pub async fn reload(service: Arc<Service>) -> Result<Reloaded, ApiError> {
    let _one_at_a_time = service.reloading.lock().await;
    let reloading = Arc::clone(&service);
    tokio::task::spawn_blocking(move || reload_now(&reloading))
        .await
        .map_err(|e| refuse(format!("the reload stopped: {e}")))?
}

/// The findings as `lint --format json` reports them.
fn lint_report(reports: &[FileReport]) -> Option<serde_json::Value> {
    serde_json::to_value(crate::diagnostic::json::report(reports)).ok()
}

fn refuse(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "reload_refused", message)
}

fn reload_now(service: &Service) -> Result<Reloaded, ApiError> {
    let source = &service.source;
    let workspace = read_config(source)?;
    let scenarios = match load_workspace_scenarios(&workspace) {
        Ok(scenarios) => scenarios,
        Err(LoadError::Invalid(reports)) => {
            let text: Vec<String> = reports
                .iter()
                .flat_map(|r| {
                    r.diagnostics
                        .iter()
                        .filter(|d| d.code.severity() == Severity::Error)
                        .map(|d| render_plain(&r.file, d))
                })
                .collect();
            let mut error = refuse(format!(
                "the scenarios or the config have errors; everything running stays:\n{}",
                text.join("\n")
            ));
            error.report = lint_report(&reports);
            return Err(error);
        }
        Err(LoadError::Io(e)) => {
            return Err(refuse(format!("cannot read the scenarios: {e}")));
        }
    };
    let accounts = AccountGuards::from_config(&workspace.config)
        .map_err(|problem| refuse(format!("{problem}; everything running stays")))?;

    let engine = &service.engine;
    let mut published = Vec::new();
    for scenario in &scenarios {
        let program = engine.publish(&scenario.source)?;
        published.push(Published {
            scenario: program.name.clone(),
            version: program.version.clone(),
        });
    }
    let running = with_running_organizations(&workspace, &source.started);
    let options = setup::options(&running);
    engine.reconfigure(|o| {
        o.routes = options.routes;
        o.after_input = options.after_input;
        o.contact_fields = options.contact_fields;
    });
    service
        .zendesk
        .set_accounts(account_organizations(&running));
    service.set_accounts(accounts);
    let restart_required = restart_required(&source.started, &workspace.config);
    tracing::info!(
        scenarios = published.len(),
        restart_required = ?restart_required,
        "config and scenarios reloaded"
    );
    Ok(Reloaded {
        published,
        restart_required,
    })
}

fn read_config(source: &Source) -> Result<Workspace, ApiError> {
    match &source.path {
        Some(path) => match Workspace::load(path) {
            Ok(Ok(workspace)) => Ok(workspace),
            Ok(Err((file, problems))) => {
                let text: Vec<String> = problems.iter().map(|d| render_plain(&file, d)).collect();
                let mut error = refuse(format!(
                    "the config has problems; everything running stays:\n{}",
                    text.join("\n")
                ));
                error.report = lint_report(&[FileReport::new(file, problems)]);
                Err(error)
            }
            Err(e) => Err(refuse(format!("cannot read {}: {e}", path.display()))),
        },
        None => Workspace::default_workspace()
            .map_err(|_| refuse("the built-in config is invalid".into())),
    }
}

/// The new config with only the Zendesk organizations the service has clients for (their
/// new sync settings included): an account moved to a new organization syncs after a restart.
fn with_running_organizations(workspace: &Workspace, started: &Config) -> Workspace {
    let mut running = workspace.clone();
    let organizations = &mut running.config.zendesk.organizations;
    organizations.retain(|name, _| started.zendesk.organizations.contains_key(name));
    for account in running.config.accounts.values_mut() {
        if account
            .zendesk
            .as_ref()
            .is_some_and(|name| !organizations.contains_key(name))
        {
            account.zendesk = None;
        }
    }
    running
}

/// The settings of `new` that differ from the ones the service started with and that a
/// reload does not apply.
fn restart_required(started: &Config, new: &Config) -> Vec<String> {
    let mut changed = Vec::new();
    if started.service != new.service {
        changed.push("service".to_owned());
    }
    if started.data_dir != new.data_dir {
        changed.push("data_dir".to_owned());
    }
    if started.durability != new.durability {
        changed.push("durability".to_owned());
    }
    if started.apis != new.apis {
        changed.push("apis".to_owned());
    }
    if started.retention != new.retention {
        changed.push("retention".to_owned());
    }
    if started.store != new.store {
        changed.push("store".to_owned());
    }
    for (name, organization) in &new.zendesk.organizations {
        match started.zendesk.organizations.get(name) {
            None => changed.push(format!("zendesk.organizations.{name} (new)")),
            Some(old)
                if old.url != organization.url
                    || old.auth != organization.auth
                    || old.fields != organization.fields =>
            {
                changed.push(format!("zendesk.organizations.{name}"));
            }
            Some(_) => {}
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> Config {
        serde_yaml::from_str(yaml).unwrap()
    }

    const BASE: &str = "version: 1\nscenarios: s\naccounts: {}\n";

    #[test]
    fn only_what_a_reload_cannot_apply_needs_a_restart() {
        let started = config(&format!(
            "{BASE}zendesk:\n  organizations:\n    acme:\n      url: https://acme.zendesk.com\n      auth: {{ type: sandbox }}\n      sync: {{ mode: interface }}\n"
        ));
        assert_eq!(restart_required(&started, &started), Vec::<String>::new());
        let mut new = started.clone();
        new.teams.push("Billing".into());
        new.zendesk
            .organizations
            .get_mut("acme")
            .unwrap()
            .sync
            .continue_after_ticket = true;
        assert_eq!(
            restart_required(&started, &new),
            Vec::<String>::new(),
            "teams and sync settings are applied"
        );
        new.service.listen = "0.0.0.0:9000".into();
        new.retention.seen = "60d".into();
        new.store.cache_mb = 64;
        new.zendesk.organizations.get_mut("acme").unwrap().url = "https://other.zendesk.com".into();
        let mut second = new.zendesk.organizations["acme"].clone();
        second.url = "https://beta.zendesk.com".into();
        new.zendesk.organizations.insert("beta".into(), second);
        assert_eq!(
            restart_required(&started, &new),
            [
                "service",
                "retention",
                "store",
                "zendesk.organizations.acme",
                "zendesk.organizations.beta (new)"
            ]
        );
    }
}
