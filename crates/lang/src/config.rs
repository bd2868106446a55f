//! The workspace config, `scenarist.yaml` (read with `serde_yaml`, described by
//! `schemas/scenarist.schema.json`). It declares what scenarios may name — contact fields
//! with their types, teams, channels and their limits, channel accounts and the Zendesk
//! organizations they sync to — so the checker can catch a misspelt team or an unsaved
//! email field before a conversation does.
//!
//! Errors come back as diagnostics with the file, line and column: `serde_yaml` knows where
//! a syntax or shape error is; for the cross-reference checks made after deserializing
//! (`validate`) the key is found again in the text (`locate`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::source::{SourceFile, Span};
use base_url::{BaseUrl, hide_userinfo};

pub mod base_url;
mod paths;

/// The example config shipped in `scenarios/`; the defaults when no `--config` is given.
pub const DEFAULT_CONFIG: &str = include_str!("../../../scenarios/scenarist.yaml");
pub const DEFAULT_CONFIG_NAME: &str = "scenarios/scenarist.yaml (built-in default)";

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Format version of this file; only 1 exists.
    pub version: u32,
    /// Where conversation state lives (sled), relative to the config file.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// The folder of `.scn` files, relative to the config file (and inside its folder: `W403`).
    #[serde(default = "default_scenarios")]
    pub scenarios: PathBuf,
    /// Custom contact fields: name → type (`email: email` or `email: { type: email }`).
    #[serde(default)]
    pub contact_fields: BTreeMap<String, FieldSpec>,
    /// The teams a conversation may be routed to.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Channel kinds and their limits, e.g. `facebook: { max_message_length: 2000 }`.
    #[serde(default)]
    pub channels: BTreeMap<String, Channel>,
    /// Channel accounts (`facebook:acme`) and the scenario each one runs.
    #[serde(default)]
    pub accounts: BTreeMap<String, Account>,
    #[serde(default)]
    pub zendesk: Zendesk,
    /// When an acknowledged message is on disk.
    #[serde(default)]
    pub durability: DurabilityConfig,
    /// The HTTP service (`scenarist serve`).
    #[serde(default)]
    pub service: ServiceConfig,
}

/// `scenarist serve`: where it listens, how callers authenticate, and its limits.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// `host:port`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The environment variable holding the bearer token every `/v1` request must carry.
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// The largest request body accepted, in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// How long a request may take before it is answered 503.
    #[serde(default = "default_request_timeout")]
    pub request_timeout_ms: u64,
    /// How long a connection may take to send a whole request head, from its start or from
    /// the first byte after an idle wait (slow senders are closed).
    #[serde(default = "default_header_timeout")]
    pub header_timeout_ms: u64,
    /// How long a keep-alive connection may wait for its next request.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_ms: u64,
    /// Connections open at once; a new one beyond gets 503 and is closed.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Requests per second, all callers together, to the `/v1` routes other than
    /// `/v1/messages` (which has its per-account limits).
    #[serde(default = "default_max_requests")]
    pub max_requests_per_second: u32,
    /// Requests per second to the contact routes, which call Zendesk.
    #[serde(default = "default_max_zendesk_requests")]
    pub max_zendesk_requests_per_second: u32,
    /// Serve `/metrics` without the API token (default: the token is required).
    #[serde(default)]
    pub public_metrics: bool,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            token_env: default_token_env(),
            max_body_bytes: default_max_body(),
            request_timeout_ms: default_request_timeout(),
            header_timeout_ms: default_header_timeout(),
            idle_timeout_ms: default_idle_timeout(),
            max_connections: default_max_connections(),
            max_requests_per_second: default_max_requests(),
            max_zendesk_requests_per_second: default_max_zendesk_requests(),
            public_metrics: false,
        }
    }
}

fn default_header_timeout() -> u64 {
    10_000
}

fn default_idle_timeout() -> u64 {
    60_000
}

fn default_max_connections() -> usize {
    1024
}

fn default_max_requests() -> u32 {
    1000
}

fn default_max_zendesk_requests() -> u32 {
    10
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}

fn default_token_env() -> String {
    "SCENARIST_API_TOKEN".into()
}

fn default_max_body() -> usize {
    64 * 1024
}

fn default_request_timeout() -> u64 {
    10_000
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("scenarist-data")
}

fn default_scenarios() -> PathBuf {
    PathBuf::from(".")
}

/// The flush policy (see `runtime::durability` for the promise each one makes).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct DurabilityConfig {
    #[serde(default)]
    pub flush: FlushMode,
    /// Group commit: the longest a write waits for the flush that makes it durable.
    #[serde(default = "default_interval")]
    pub interval_ms: u64,
}

impl Default for DurabilityConfig {
    fn default() -> Self {
        Self {
            flush: FlushMode::GroupCommit,
            interval_ms: default_interval(),
        }
    }
}

fn default_interval() -> u64 {
    0
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FlushMode {
    /// fsync before acknowledging each message.
    EveryMessage,
    /// One fsync covers every message written while the previous one ran (after `interval_ms`).
    #[default]
    GroupCommit,
}

/// The type of a contact field.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Email,
    Phone,
    Number,
    Date,
    Bool,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Number => "number",
            FieldType::Date => "date",
            FieldType::Bool => "bool",
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(
    untagged,
    expecting = "not a known field type (use text, email, phone, number, date or bool, or `{ type: …, description: … }`)"
)]
pub enum FieldSpec {
    Short(FieldType),
    Full(FieldDetail),
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldDetail {
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub description: Option<String>,
}

impl FieldSpec {
    pub fn kind(&self) -> FieldType {
        match self {
            FieldSpec::Short(kind) => *kind,
            FieldSpec::Full(detail) => detail.kind,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// The longest text message the channel delivers, in characters.
    pub max_message_length: usize,
    /// The longest quick-reply label, in characters (Messenger and `WhatsApp`: 20).
    #[serde(default)]
    pub max_choice_length: Option<usize>,
    /// The most quick-reply choices one question may show (`WhatsApp` buttons: 3).
    #[serde(default)]
    pub max_choices: Option<usize>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// A key of `channels`.
    pub channel: String,
    /// The scenario (its `scenario NAME`) that answers this account's contacts.
    pub scenario: String,
    /// The Zendesk organization (a key of `zendesk.organizations`) this account is linked to.
    #[serde(default)]
    pub zendesk: Option<String>,
    /// The account's synchronization toggle; off, nothing of it reaches Zendesk.
    #[serde(default = "yes")]
    pub sync: bool,
    /// The environment variable holding the secret the channel gateway signs this account's
    /// messages with (HMAC-SHA256; `scenarist serve` then refuses unsigned ones).
    #[serde(default)]
    pub signing_secret_env: Option<String>,
    /// The most messages per second `scenarist serve` accepts for this account (a burst of
    /// twice as many is allowed); beyond it, 429.
    #[serde(default)]
    pub max_messages_per_second: Option<u32>,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Zendesk {
    #[serde(default)]
    pub organizations: BTreeMap<String, Organization>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// `https://acme.zendesk.com` (`http://` only for loopback; no userinfo, path, query or
    /// fragment: `BaseUrl::parse` decides).
    pub url: String,
    /// How to authenticate; the secret itself is never in this file.
    pub auth: Auth,
    #[serde(default)]
    pub fields: FieldLists,
    pub sync: Sync,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// An API token: `email/token:TOKEN` basic auth.
    ApiToken {
        email: String,
        #[serde(flatten)]
        secret: Secret,
    },
    /// An OAuth access token from `scenarist zendesk connect`.
    Oauth {
        #[serde(flatten)]
        secret: Secret,
        /// The OAuth client that `connect` and `reauthorize` use.
        #[serde(default)]
        client_id: Option<String>,
        /// The environment variable holding that client's secret.
        #[serde(default)]
        client_secret_env: Option<String>,
    },
    /// Scenarist's built-in Zendesk stand-in, started on `url` (loopback; port 0 picks a free
    /// one) by the process that syncs, with its data kept beside the conversations: tickets
    /// appear without a Zendesk account. For demos and trials, never for production.
    Sandbox {},
}

/// Where a secret is read from: an environment variable or a file.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Secret {
    TokenEnv(String),
    TokenFile(PathBuf),
}

/// The three field lists: Zendesk user property (`email`, `user_fields.<key>`) → contact
/// field.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldLists {
    #[serde(default)]
    pub search: BTreeMap<String, String>,
    #[serde(default)]
    pub display: BTreeMap<String, String>,
    #[serde(default)]
    pub create: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sync {
    pub mode: SyncMode,
    /// Mode B: routing a conversation to this team creates the ticket.
    #[serde(default)]
    pub team: Option<String>,
    /// Mode B: the contact field holding the email used to find or create the user.
    #[serde(default)]
    pub email_field: Option<String>,
    #[serde(default = "yes")]
    pub continue_after_ticket: bool,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Mode A: synced when an advisor processes a message of a linked contact.
    Interface,
    /// Mode B: synced when the conversation reaches the sync team.
    Zendesk,
}

/// A config with the file it came from (for diagnostics and relative paths).
#[derive(Clone, Debug)]
pub struct Workspace {
    pub config: Config,
    pub file: SourceFile,
    /// The folder relative paths start from.
    pub base: PathBuf,
}

/// What each mode-B account asks of its scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncDuty {
    pub account: String,
    pub team: String,
    pub email_field: String,
}

impl Workspace {
    /// The built-in default (the example config), read as if it were
    /// `scenarios/scenarist.yaml`: its relative paths start from `scenarios/`.
    pub fn default_workspace() -> Result<Self, Vec<Diagnostic>> {
        Self::parse(
            SourceFile::new(DEFAULT_CONFIG_NAME, DEFAULT_CONFIG),
            PathBuf::from("scenarios"),
        )
    }

    /// Reads and validates a config file whose relative paths start from `base` (the paths
    /// it names must stay there: `paths`). `Err` holds every problem found.
    pub fn parse(file: SourceFile, base: PathBuf) -> Result<Self, Vec<Diagnostic>> {
        let config: Config =
            serde_yaml::from_str(file.text()).map_err(|e| vec![yaml_error(&file, &e)])?;
        let mut problems = validate(&config, &file);
        problems.extend(paths::problems(&config, &file, &base));
        if problems.is_empty() {
            Ok(Self { config, file, base })
        } else {
            Err(problems)
        }
    }

    /// Reads `path` (its folder is the base for relative paths). The file that comes back
    /// with the problems, to show them in, has the userinfo of its URLs masked
    /// (`https://****@…`): a refused `user:password@` is not printed.
    pub fn load(path: &Path) -> std::io::Result<Result<Self, (SourceFile, Vec<Diagnostic>)>> {
        let text = std::fs::read_to_string(path)?;
        let file = SourceFile::new(path.display().to_string(), text);
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Self::parse(file.clone(), base).map_err(|problems| {
            let shown = SourceFile::new(file.name(), hide_userinfo(file.text()).into_owned());
            (shown, problems)
        }))
    }

    /// Whether `path` (relative to the config's folder, or absolute) stays in the config's
    /// folder, symbolic links followed (`paths`, the rule of `W403`).
    pub fn contains(&self, path: &Path) -> bool {
        paths::inside(&self.base, path)
    }

    pub fn field_type(&self, name: &str) -> Option<FieldType> {
        self.config.contact_fields.get(name).map(FieldSpec::kind)
    }

    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.config.contact_fields.keys().map(String::as_str)
    }

    pub fn has_team(&self, team: &str) -> bool {
        self.config.teams.iter().any(|t| t == team)
    }

    /// The channels a scenario's messages may travel on: those of the accounts running it,
    /// or every channel when no account runs it (a scenario not yet attached).
    pub fn channels_for(&self, scenario: &str) -> Vec<(&str, &Channel)> {
        let attached: Vec<&str> = self
            .config
            .accounts
            .values()
            .filter(|a| a.scenario == scenario)
            .map(|a| a.channel.as_str())
            .collect();
        self.config
            .channels
            .iter()
            .filter(|(name, _)| attached.is_empty() || attached.contains(&name.as_str()))
            .map(|(name, channel)| (name.as_str(), channel))
            .collect()
    }

    /// For each enabled account running `scenario` and syncing in mode B, the team it must
    /// reach and the email field it must fill.
    pub fn sync_duties(&self, scenario: &str) -> Vec<SyncDuty> {
        let mut duties = Vec::new();
        for (id, account) in &self.config.accounts {
            let organization = account
                .zendesk
                .as_ref()
                .and_then(|o| self.config.zendesk.organizations.get(o));
            let Some(organization) = organization else {
                continue;
            };
            let sync = &organization.sync;
            if account.scenario != scenario || !account.sync || sync.mode != SyncMode::Zendesk {
                continue;
            }
            if let (Some(team), Some(email_field)) = (&sync.team, &sync.email_field) {
                duties.push(SyncDuty {
                    account: id.clone(),
                    team: team.clone(),
                    email_field: email_field.clone(),
                });
            }
        }
        duties
    }
}

/// `serde_yaml`'s error in plain words: its " at line L column C" goes (the frame shows where),
/// a "while parsing a flow sequence at line L column C" becomes a second label there, and
/// Rust type names become words.
fn yaml_error(file: &SourceFile, error: &serde_yaml::Error) -> Diagnostic {
    let offset = error.location().map_or(0, |l| l.index());
    let full = error.to_string();
    let (main, context) = match full.split_once(", while parsing ") {
        Some((main, context)) => (main, Some(context)),
        None => (full.as_str(), None),
    };
    let main = main.split(" at line ").next().unwrap_or(main);
    let mut message = main.to_owned();
    for (rust, words) in [
        ("expected u32", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected a boolean", "expected true or false"),
    ] {
        message = message.replace(rust, words);
    }
    let mut diagnostic = Diagnostic::new(Code::ConfigSyntax, Span::new(offset, offset + 1), message)
        .with_help("see schemas/scenarist.schema.json or the example scenarios/scenarist.yaml for the expected shape");
    if let Some((what, line, column)) = context.and_then(parse_context) {
        let at = file.offset_of(line, column);
        let what = what
            .replace("flow sequence", "list `[…]`")
            .replace("flow mapping", "map `{…}`");
        diagnostic = diagnostic.with_secondary(
            Span::new(at, at + 1),
            format!("the {what} that starts here"),
        );
    }
    diagnostic
}

/// "a flow sequence at line 3 column 8" → ("a flow sequence", 3, 8).
fn parse_context(context: &str) -> Option<(String, usize, usize)> {
    let (what, position) = context.split_once(" at line ")?;
    let (line, column) = position.split_once(" column ")?;
    let what = what.trim_start_matches("a ").trim_start_matches("an ");
    Some((
        what.to_owned(),
        line.trim().parse().ok()?,
        column.trim().parse().ok()?,
    ))
}

/// Service limits out of their range: (key, problem, help).
fn service_problems(service: &ServiceConfig) -> Vec<(&'static str, String, String)> {
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
fn validate(config: &Config, file: &SourceFile) -> Vec<Diagnostic> {
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
pub const BUILTIN_CONTACT_FIELDS: &[&str] = &["id", "name", "first_name"];

fn is_contact_field(config: &Config, name: &str) -> bool {
    config.contact_fields.contains_key(name) || BUILTIN_CONTACT_FIELDS.contains(&name)
}

fn hint<'a>(name: &str, candidates: impl Iterator<Item = &'a String>, otherwise: &str) -> String {
    did_you_mean(name, candidates.map(String::as_str)).unwrap_or_else(|| otherwise.to_owned())
}

/// Finds the span of the key at `path` (e.g. `["accounts", "facebook:acme", "channel"]`) by
/// looking for each key in turn after the previous one. Falls back to the deepest key found,
/// then to the start of the file. Enough for the block and flow styles configs use.
pub fn locate(text: &str, path: &[&str]) -> Span {
    let mut from = 0;
    let mut found = Span::at(0);
    for key in path {
        let Some(offset) = find_key(text, key, from) else {
            break;
        };
        found = Span::new(offset, offset + key.len());
        from = offset + key.len();
    }
    found
}

fn find_key(text: &str, key: &str, from: usize) -> Option<usize> {
    let rest = text.get(from..)?;
    let mut search = 0;
    while let Some(i) = rest.get(search..)?.find(key) {
        let start = from + search + i;
        let after = text.get(start + key.len()..).unwrap_or("");
        let before = text.get(..start).and_then(|b| b.chars().next_back());
        let quoted = after.starts_with('"') || after.starts_with('\'');
        let after = if quoted { &after[1..] } else { after };
        let boundary = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if boundary && after.trim_start_matches([' ', '\t']).starts_with(':') {
            return Some(start);
        }
        search += i + key.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_config_is_valid() {
        let workspace = Workspace::default_workspace().unwrap();
        assert!(!workspace.config.teams.is_empty());
    }

    #[test]
    fn locate_finds_nested_keys() {
        let text = "accounts:\n  facebook:acme:\n    channel: fb\n  other:\n    channel: x\n";
        let span = locate(text, &["accounts", "other", "channel"]);
        assert_eq!(&text[span.range()], "channel");
        assert_eq!(span.start as usize, text.rfind("channel").unwrap());
    }

    #[test]
    fn yaml_errors_carry_their_position() {
        let file = SourceFile::new("c.yaml", "version: 1\nteams: [a\n");
        let problems = Workspace::parse(file.clone(), PathBuf::new()).unwrap_err();
        assert_eq!(problems[0].code, Code::ConfigSyntax);
        assert!(
            file.line_column(problems[0].primary.span.start as usize)
                .line
                >= 2
        );
    }

    #[test]
    fn cross_references_are_checked() {
        let text = "version: 1\nteams: [Sales]\nchannels:\n  facebook: { max_message_length: 2000 }\n\
                    accounts:\n  fb:acme: { channel: facebok, scenario: s }\n";
        let problems =
            Workspace::parse(SourceFile::new("c.yaml", text), PathBuf::new()).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("facebok"),
            "{}",
            problems[0].message
        );
        assert_eq!(
            problems[0].help.as_deref(),
            Some("did you mean `facebook`?")
        );
    }

    /// An organization `acme` at `url` (api token auth), as the YAML text of a config.
    fn organization_at(url: &str) -> String {
        format!(
            "version: 1\nzendesk:\n  organizations:\n    acme:\n      url: {url}\n      auth: {{ type: api_token, email: a@acme.example, token_env: T }}\n      sync: {{ mode: interface }}\n"
        )
    }

    #[test]
    fn organization_urls_are_checked_where_they_are_written() {
        for accepted in [
            "https://acme.zendesk.com",
            "https://acme.zendesk.com/",
            "http://127.0.0.1:18801",
            "http://[::1]:18801",
            "http://localhost:18801/",
        ] {
            let text = organization_at(accepted);
            if let Err(problems) = Workspace::parse(SourceFile::new("c.yaml", text), PathBuf::new())
            {
                panic!("{accepted}: {}", problems[0].message);
            }
        }
        for (refused, reason) in [
            (
                "http://localhost:x@127.0.0.2:18801",
                "user name or password",
            ),
            (
                "https://user:s3cret@acme.zendesk.com",
                "user name or password",
            ),
            ("https://acme.zendesk.com/?x=1", "has a query"),
            ("https://acme.zendesk.com/#x", "has a fragment"),
            ("https://acme.zendesk.com/api/v2", "has a path (`/api/v2`)"),
            ("http://acme.zendesk.com", "uses http://"),
            ("http://127.0.0.2", "uses http://"),
            ("http://localhost.evil.example", "uses http://"),
            ("ftp://acme.zendesk.com", "is not an https:// URL"),
        ] {
            let text = organization_at(refused);
            let file = SourceFile::new("c.yaml", text.clone());
            let problems = Workspace::parse(file.clone(), PathBuf::new()).unwrap_err();
            assert_eq!(problems.len(), 1, "{refused}");
            assert_eq!(problems[0].code, Code::ConfigInvalid);
            let message = &problems[0].message;
            assert!(
                message.starts_with("the URL of `acme` ") && message.contains(reason),
                "{refused}: {message}"
            );
            assert!(
                !message.contains("s3cret") && !message.contains(":x@"),
                "{message}"
            );
            let span = problems[0].primary.span;
            assert_eq!(
                &text[span.range()],
                "url",
                "{refused}: the error points at the url"
            );
            assert_eq!(file.line_column(span.start as usize).line, 5);
        }
    }

    #[test]
    fn a_config_shown_with_its_problems_hides_userinfo() {
        let dir = std::env::temp_dir().join(format!("scenarist-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("scenarist.yaml");
        std::fs::write(
            &path,
            organization_at("https://user:s3cret@acme.zendesk.com"),
        )
        .unwrap();
        let (file, problems) = Workspace::load(&path).unwrap().unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!file.text().contains("s3cret"), "{}", file.text());
        assert!(
            file.text()
                .contains("url: https://***********@acme.zendesk.com")
        );
        let span = problems[0].primary.span;
        assert_eq!(&file.text()[span.range()], "url");
    }

    #[test]
    fn a_sandbox_runs_on_this_machine() {
        let config = |url: &str| {
            format!(
                "version: 1\ncontact_fields: {{ email: email }}\nteams: [Zendesk]\nzendesk:\n  organizations:\n    demo:\n      url: {url}\n      auth: {{ type: sandbox }}\n      sync: {{ mode: zendesk, team: Zendesk, email_field: email }}\n"
            )
        };
        let parse =
            |text: String| Workspace::parse(SourceFile::new("c.yaml", text), PathBuf::new());
        let workspace = parse(config("http://127.0.0.1:0")).unwrap();
        assert!(matches!(
            workspace.config.zendesk.organizations["demo"].auth,
            Auth::Sandbox {}
        ));
        let problems = parse(config("https://acme.zendesk.com")).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("`demo` is a sandbox"),
            "{}",
            problems[0].message
        );
        let text = config("https://acme.zendesk.com");
        let span = problems[0].primary.span;
        assert_eq!(&text[span.range()], "url", "the error points at the url");
        let with_token = config("http://127.0.0.1:0")
            .replace("{ type: sandbox }", "{ type: sandbox, token_env: X }");
        assert!(parse(with_token).is_err(), "a sandbox takes no secret");
        let problems = parse(config("http://localhost:x@127.0.0.2:18801")).unwrap_err();
        assert!(
            problems[0].message.contains("user name or password"),
            "{}",
            problems[0].message
        );
    }
}
