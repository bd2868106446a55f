//! The shape of `scenarist.yaml`: every section as a type serde reads (unknown keys refused),
//! with its defaults. What the values must satisfy together is `validate`'s.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

pub use crate::types::FieldType;

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
    /// The brand's own HTTP APIs and the actions scenarios may call on them (`apis`).
    #[serde(default)]
    pub apis: BTreeMap<String, super::apis::Api>,
    /// Opening hours by name (`open support`, `next_open(support)`).
    #[serde(default)]
    pub schedules: BTreeMap<String, crate::schedule::ScheduleSpec>,
    /// How long data that ends is kept (`retention`).
    #[serde(default)]
    pub retention: super::retention::RetentionConfig,
    /// Where state is kept and the store's page cache (`store`).
    #[serde(default)]
    pub store: super::store::StoreConfig,
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
    /// The environment variable holding the admin token `/v1/admin/*` takes (not the API
    /// token); admin endpoints are off when it is unset.
    #[serde(default = "default_admin_token_env")]
    pub admin_token_env: String,
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
    /// Serve `/metrics` without a token (the default, for a private scrape port); `false`
    /// puts it behind the admin or API token.
    #[serde(default = "default_public_metrics")]
    pub public_metrics: bool,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            token_env: default_token_env(),
            admin_token_env: default_admin_token_env(),
            max_body_bytes: default_max_body(),
            request_timeout_ms: default_request_timeout(),
            header_timeout_ms: default_header_timeout(),
            idle_timeout_ms: default_idle_timeout(),
            max_connections: default_max_connections(),
            max_requests_per_second: default_max_requests(),
            max_zendesk_requests_per_second: default_max_zendesk_requests(),
            public_metrics: default_public_metrics(),
        }
    }
}

fn default_public_metrics() -> bool {
    true
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

fn default_admin_token_env() -> String {
    "SCENARIST_ADMIN_TOKEN".into()
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
    /// The rich messages the channel can show; left out, links only (a link degrades to
    /// text, an image or a card does not).
    #[serde(default = "links_only")]
    pub supports: Vec<Capability>,
}

/// A kind of rich message a channel can show (`supports: [links, images, cards]`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Links,
    Images,
    Cards,
}

impl Capability {
    /// The word of `supports:`.
    pub fn word(self) -> &'static str {
        match self {
            Capability::Links => "links",
            Capability::Images => "images",
            Capability::Cards => "cards",
        }
    }
}

fn links_only() -> Vec<Capability> {
    vec![Capability::Links]
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
    /// Mode B: the custom ticket fields a scenario may fill (`set ticket.fields.NAME = …`),
    /// name → Zendesk ticket field id.
    #[serde(default)]
    pub ticket_fields: BTreeMap<String, u64>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Mode A: synced when an advisor processes a message of a linked contact.
    Interface,
    /// Mode B: synced when the conversation reaches the sync team.
    Zendesk,
}
