//! What the config's values must satisfy together (`W402`): accounts name channels,
//! scenarios and organizations that exist, sync teams and email fields are declared, URLs
//! are ones credentials may go to, the service's limits make sense.

use super::base_url::BaseUrl;
use super::locate::locate;
use super::schema::{Auth, Config, FieldSpec, FieldType, ServiceConfig, Sync, SyncMode};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::source::SourceFile;

/// Service limits out of their range: (key, problem, help).
pub(super) fn service_problems(service: &ServiceConfig) -> Vec<(&'static str, String, String)> {
    let mut problems = Vec::new();
    let timeouts = [
        ("request_timeout_ms", service.request_timeout_ms),
        ("header_timeout_ms", service.header_timeout_ms),
        ("idle_timeout_ms", service.idle_timeout_ms),
    ];
    for (key, ms) in timeouts {
        if ms < 100 {
            problems.push((
                key,
                format!("`service.{key}` is {ms} ms; no request could be served in that time"),
                "use at least 100 (the defaults: request 10000, header 10000, idle 60000)".into(),
            ));
        }
    }
    let counts = [
        ("max_connections", service.max_connections as u64),
        (
            "max_requests_per_second",
            u64::from(service.max_requests_per_second),
        ),
        (
            "max_zendesk_requests_per_second",
            u64::from(service.max_zendesk_requests_per_second),
        ),
    ];
    for (key, count) in counts {
        if count == 0 {
            problems.push((
                key,
                format!("`service.{key}` is 0: every request would be refused"),
                "use at least 1, or leave it out for the default".into(),
            ));
        }
    }
    if service.max_body_bytes < 1024 {
        problems.push((
            "max_body_bytes",
            format!(
                "`service.max_body_bytes` is {}: a message body does not fit",
                service.max_body_bytes
            ),
            "use at least 1024 (the default is 65536)".into(),
        ));
    }
    problems
}

/// Cross-reference checks that YAML types cannot express.
pub(super) fn validate(config: &Config, file: &SourceFile) -> Vec<Diagnostic> {
    let mut schedule_problems = Vec::new();
    let mut problems = Vec::new();
    let mut problem = |path: &[&str], message: String, help: String| {
        problems.push(
            Diagnostic::new(Code::ConfigInvalid, locate(file.text(), path), message)
                .with_help(help),
        );
    };
    if config.version != 1 {
        problem(
            &["version"],
            format!("unknown config version {}", config.version),
            "write `version: 1`".into(),
        );
    }
    for (key, problem_text, help) in service_problems(&config.service) {
        problem(&["service", key], problem_text, help);
    }
    for (name, spec) in &config.schedules {
        if let Err(found) = crate::schedule::Schedule::compile(spec) {
            for found in found {
                let mut at = vec!["schedules", name.as_str()];
                at.extend(found.at.iter().map(String::as_str));
                schedule_problems.push(
                    Diagnostic::new(
                        Code::ScheduleInvalid,
                        locate(file.text(), &at),
                        found.message,
                    )
                    .with_help(found.help),
                );
            }
        }
    }
    for (name, channel) in &config.channels {
        if channel.max_message_length == 0 {
            problem(
                &["channels", name, "max_message_length"],
                format!("channel `{name}` accepts no text at all"),
                "set max_message_length to the channel's real limit, e.g. 2000".into(),
            );
        }
    }
    for (id, account) in &config.accounts {
        if !config.channels.contains_key(&account.channel) {
            problem(
                &["accounts", id, "channel"],
                format!(
                    "account `{id}` uses the channel `{}`, which `channels` does not declare",
                    account.channel
                ),
                hint(
                    &account.channel,
                    config.channels.keys(),
                    "declare it under `channels`",
                ),
            );
        }
        if let Some(org) = &account.zendesk {
            if !config.zendesk.organizations.contains_key(org) {
                problem(
                    &["accounts", id, "zendesk"],
                    format!(
                        "account `{id}` is linked to the Zendesk organization `{org}`, which is not configured"
                    ),
                    hint(
                        org,
                        config.zendesk.organizations.keys(),
                        "declare it under `zendesk.organizations`",
                    ),
                );
            }
        }
    }
    for (name, org) in &config.zendesk.organizations {
        match BaseUrl::parse(&org.url) {
            Err(reason) => problem(
                &["zendesk", "organizations", name, "url"],
                format!("the URL of `{name}` {reason}"),
                "use the instance URL only, such as `https://acme.zendesk.com` (`http://` only for 127.0.0.1, [::1] or localhost); credentials go under `auth`".into(),
            ),
            Ok(url) if matches!(org.auth, Auth::Sandbox {}) && !url.as_str().starts_with("http://") => problem(
                &["zendesk", "organizations", name, "url"],
                format!("`{name}` is a sandbox, which runs on this machine, but its URL is `{url}`"),
                "use `http://127.0.0.1:PORT` (port 0 picks a free one); for a real instance, set `auth` to `api_token` or `oauth`".into(),
            ),
            Ok(_) => {}
        }
        for (list, fields) in [
            ("search", &org.fields.search),
            ("display", &org.fields.display),
            ("create", &org.fields.create),
        ] {
            for (property, contact_field) in fields {
                if !is_contact_field(config, contact_field) {
                    problem(
                        &["zendesk", "organizations", name, "fields", list, property],
                        format!(
                            "`{property}` is mapped from the contact field `{contact_field}`, which is not declared"
                        ),
                        hint(
                            contact_field,
                            config.contact_fields.keys(),
                            "declare it under `contact_fields` or map a built-in field (`name`)",
                        ),
                    );
                }
            }
        }
        validate_sync(config, name, &org.sync, &mut problem);
    }
    problems.append(&mut schedule_problems);
    problems
}

fn validate_sync(
    config: &Config,
    name: &str,
    sync: &Sync,
    problem: &mut impl FnMut(&[&str], String, String),
) {
    if sync.mode != SyncMode::Zendesk {
        return;
    }
    let at = ["zendesk", "organizations", name, "sync"];
    match &sync.team {
        None => problem(
            &at,
            format!("`{name}` syncs from Zendesk's side (mode B) but names no sync team"),
            "add `team:` with the team whose routing creates the ticket".into(),
        ),
        Some(team) if !config.teams.contains(team) => problem(
            &["zendesk", "organizations", name, "sync", "team"],
            format!("the sync team `{team}` is not one of `teams`"),
            hint(team, config.teams.iter(), "add it to `teams`"),
        ),
        Some(_) => {}
    }
    match &sync.email_field {
        None => problem(
            &at,
            format!("`{name}` syncs from Zendesk's side (mode B) but names no email field"),
            "add `email_field:` with the contact field that holds the email".into(),
        ),
        Some(field) => match config.contact_fields.get(field).map(FieldSpec::kind) {
            None => problem(
                &["zendesk", "organizations", name, "sync", "email_field"],
                format!("the email field `{field}` is not one of `contact_fields`"),
                hint(
                    field,
                    config.contact_fields.keys(),
                    "declare it under `contact_fields` with `type: email`",
                ),
            ),
            Some(FieldType::Email) => {}
            Some(other) => problem(
                &["zendesk", "organizations", name, "sync", "email_field"],
                format!(
                    "the email field `{field}` has type `{}`, not `email`",
                    other.as_str()
                ),
                "declare the field with `type: email` so that only valid emails are saved in it"
                    .into(),
            ),
        },
    }
}

/// Built-in contact fields every channel provides.
pub const BUILTIN_CONTACT_FIELDS: &[&str] = crate::builtins::contact::FIELDS;

fn is_contact_field(config: &Config, name: &str) -> bool {
    config.contact_fields.contains_key(name) || BUILTIN_CONTACT_FIELDS.contains(&name)
}

fn hint<'a>(name: &str, candidates: impl Iterator<Item = &'a String>, otherwise: &str) -> String {
    did_you_mean(name, candidates.map(String::as_str)).unwrap_or_else(|| otherwise.to_owned())
}
