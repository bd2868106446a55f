//! The transcript format of `scenarist test` (`*.test.yaml`, read with `serde_yaml`):
//!
//! ```yaml
//! scenario: zendesk_handoff.scn        # relative to this file
//! config: scenarist.yaml               # optional; default: the built-in example config
//! tests:
//!   - name: a valid email on the second try
//!     language: en                     # optional: the conversation's language (`language from`)
//!     contact: { name: Ada Lovelace, fields: { email: null } }
//!     actions:                         # results of `call`s, by action name
//!       zendesk.create_ticket: { result: { id: 42 } }   # or { error: "…" }
//!     transcript:
//!       - contact: Hi                  # one of: contact, wait, advisor, route, return_to_bot, close
//!         bot: [Hello Ada!, What is your email address?]
//!       - wait: 15m
//!         bot: [Are you still there?]
//!         status: with_advisor         # expectations: bot, status, team, fields, variables, tags, calls
//!         team: Zendesk
//! ```
//!
//! A bot message with choices is written `Text [First | Second]`; a rich message on one line,
//! each URL after `->`: `link: Track it -> https://…`, `image: Map -> https://…`,
//! `card: Title | Text | image: Alt -> https://… | link: Label -> https://…`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The scenario under test, relative to the test file.
    pub scenario: PathBuf,
    /// The workspace config, relative to the test file.
    #[serde(default)]
    pub config: Option<PathBuf>,
    /// The account the conversation runs on (matters for channel limits and sync duties).
    #[serde(default)]
    pub account: Option<String>,
    pub tests: Vec<TestCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    /// The conversation's language: sets the contact field the scenario's `language from`
    /// names before the first message.
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub contact: ContactSpec,
    #[serde(default)]
    pub actions: BTreeMap<String, MockSpec>,
    /// When the conversation starts (`2026-12-05T19:30:00+01:00`); `wait` moves the clock on.
    #[serde(default)]
    pub at: Option<String>,
    pub transcript: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactSpec {
    #[serde(default = "default_name")]
    pub name: String,
    /// Contact fields known before the conversation (`null`: not set).
    #[serde(default)]
    pub fields: BTreeMap<String, serde_json::Value>,
}

impl Default for ContactSpec {
    fn default() -> Self {
        Self {
            name: default_name(),
            fields: BTreeMap::new(),
        }
    }
}

fn default_name() -> String {
    "Ada Lovelace".to_owned()
}

/// What a mocked action gives: a result (`as NAME` binds it) or an error (`on error`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockSpec {
    #[serde(default)]
    pub result: Option<serde_json::Value>,
    #[serde(default)]
    pub error: Option<String>,
}

/// One line of the transcript: something happens, then what should be true.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The contact writes this.
    #[serde(default)]
    pub contact: Option<String>,
    /// Time passes (`15m`, `1h30m`): due timeouts fire.
    #[serde(default)]
    pub wait: Option<String>,
    /// An advisor writes this (the bot goes silent).
    #[serde(default)]
    pub advisor: Option<String>,
    /// An advisor routes the conversation to this team.
    #[serde(default)]
    pub route: Option<String>,
    /// An advisor hands back to the bot: `true` for the start, or a step name.
    #[serde(default)]
    pub return_to_bot: Option<serde_json::Value>,
    /// The conversation is closed.
    #[serde(default)]
    pub close: Option<bool>,

    /// Every bot message sent after this action, in order.
    #[serde(default)]
    pub bot: Option<Vec<String>>,
    /// `waiting`, `with_advisor` or `ended`.
    #[serde(default)]
    pub status: Option<String>,
    /// The conversation's team (`null`: none).
    #[serde(default, deserialize_with = "present")]
    pub team: Option<serde_json::Value>,
    /// Contact fields (only those listed; `null`: not set).
    #[serde(default)]
    pub fields: Option<BTreeMap<String, serde_json::Value>>,
    /// Conversation variables (only those listed; `null`: not set).
    #[serde(default)]
    pub variables: Option<BTreeMap<String, serde_json::Value>>,
    /// Tags the contact must have.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Every action called after this action, in order (arguments: only those listed).
    #[serde(default)]
    pub calls: Option<Vec<CallSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSpec {
    pub action: String,
    #[serde(default)]
    pub args: BTreeMap<String, serde_json::Value>,
}

/// `Some(value)` whenever the key is there, `null` included (plain `Option` maps null to None).
fn present<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(deserializer).map(Some)
}

impl Entry {
    /// A short description for failure messages: `contact: "Hi"`.
    pub fn describe(&self) -> String {
        if let Some(text) = &self.contact {
            format!("contact: {text:?}")
        } else if let Some(duration) = &self.wait {
            format!("wait: {duration}")
        } else if let Some(text) = &self.advisor {
            format!("advisor: {text:?}")
        } else if let Some(team) = &self.route {
            format!("route: {team}")
        } else if let Some(step) = &self.return_to_bot {
            format!("return_to_bot: {step}")
        } else if self.close.is_some() {
            "close".to_owned()
        } else {
            "(no action)".to_owned()
        }
    }

    /// How many actions the entry names (exactly one is valid).
    pub fn actions(&self) -> usize {
        [
            self.contact.is_some(),
            self.wait.is_some(),
            self.advisor.is_some(),
            self.route.is_some(),
            self.return_to_bot.is_some(),
            self.close.is_some(),
        ]
        .into_iter()
        .filter(|x| *x)
        .count()
    }
}
