//! The workspace config, `scenarist.yaml` (read with `serde_yaml`, described by
//! `schemas/scenarist.schema.json`). It declares what scenarios may name — contact fields
//! with their types, teams, channels and their limits, channel accounts and the Zendesk
//! organizations they sync to — so the checker can catch a misspelt team or an unsaved
//! email field before a conversation does.
//!
//! Errors come back as diagnostics with the file, line and column: `serde_yaml` knows where
//! a syntax or shape error is; for the cross-reference checks made after deserializing
//! (`validate`) the key is found again in the text (`locate`). `schema` holds the types,
//! `paths` keeps the files it names inside its folder, `base_url` checks Zendesk URLs.

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;
use base_url::hide_userinfo;

pub mod apis;
pub mod base_url;
mod locate;
mod paths;
mod retention;
mod schema;
mod store;
mod validate;

pub use locate::locate;
use locate::yaml_error;
pub use retention::{Keep, RetentionConfig};
pub use schema::*;
pub use store::{DEFAULT_CACHE_MB, STORE_BACKENDS, StoreConfig};
pub use validate::BUILTIN_CONTACT_FIELDS;

/// Whether `path` (already joined to `base`) stays in the folder `base`, symbolic links
/// followed: the rule of config paths (`W403`), also for the files a transcript test names.
pub fn stays_inside(base: &std::path::Path, path: &std::path::Path) -> bool {
    paths::inside(base, path)
}
use validate::validate;

/// The example config shipped in `scenarios/`; the defaults when no `--config` is given.
pub const DEFAULT_CONFIG: &str = include_str!("../../../scenarios/scenarist.yaml");
pub const DEFAULT_CONFIG_NAME: &str = "scenarios/scenarist.yaml (built-in default)";

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
        problems.extend(retention::errors(&config.retention, &file));
        problems.extend(store::errors(&config.store, &file));
        problems.extend(apis::problems(&config.apis, &file));
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

    /// What is valid but likely a mistake (`W406`), for `lint` to show and `serve` to log.
    pub fn warnings(&self) -> Vec<Diagnostic> {
        retention::warnings(&self.config.retention, &self.file)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Code;

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
