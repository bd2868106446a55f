//! The JSON shapes exchanged with channels: an inbound contact message and the answer to it.
//! `scenarist pipe` speaks them over stdin/stdout, one per line; the HTTP service speaks the
//! same bodies. Keep both in step with `schemas/openapi.yaml` when it exists.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::runtime::engine::{Inbound, Outcome, Reply};
use crate::runtime::value::from_json;

/// `{"account": "facebook:acme", "conversation": "c-123", "message_id": "m-1",
///   "contact": {"id": "u-9", "name": "Ada Lovelace", "fields": {"email": null}},
///   "text": "Hello", "sent_at": "2026-11-28T10:00:00Z"}`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboundMessage {
    pub account: String,
    pub conversation: String,
    pub message_id: String,
    pub contact: ContactInfo,
    pub text: String,
    /// When the contact sent it (informative; the runtime's clock orders the history).
    #[serde(default)]
    pub sent_at: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInfo {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Contact fields the channel knows; `null` means unknown and changes nothing.
    #[serde(default)]
    pub fields: BTreeMap<String, serde_json::Value>,
}

/// The longest id the API takes (conversation, message, contact, account, advisor ids and
/// idempotency keys): ids end up in keys, logs and Zendesk fields.
pub const MAX_ID_BYTES: usize = 256;

/// The most contact fields one message carries, and the longest value of one (as JSON).
pub const MAX_FIELDS: usize = 64;
pub const MAX_FIELD_BYTES: usize = 1024;

/// Why an id is refused, naming `field`: empty, over [`MAX_ID_BYTES`], or holding a control
/// character (which would forge log lines or reach a terminal).
pub fn check_id(field: &str, id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(format!("`{field}` is empty"));
    }
    if id.len() > MAX_ID_BYTES {
        return Err(format!(
            "`{field}` is {} bytes long; ids are at most {MAX_ID_BYTES} bytes",
            id.len()
        ));
    }
    if id.chars().any(char::is_control) {
        return Err(format!(
            "`{field}` contains a control character (a line break, a tab, an escape…); ids are printable text"
        ));
    }
    Ok(())
}

impl InboundMessage {
    /// Checks every id of the message ([`check_id`]).
    pub fn check(&self) -> Result<(), String> {
        check_id("account", &self.account)?;
        check_id("conversation", &self.conversation)?;
        check_id("message_id", &self.message_id)?;
        check_id("contact.id", &self.contact.id)?;
        if self.contact.fields.len() > MAX_FIELDS {
            return Err(format!(
                "`contact.fields` has {} fields; a message carries at most {MAX_FIELDS}",
                self.contact.fields.len()
            ));
        }
        for (name, value) in &self.contact.fields {
            check_id("contact.fields", name)?;
            let size = value.to_string().len();
            if size > MAX_FIELD_BYTES {
                return Err(format!(
                    "`contact.fields.{name}` is {size} bytes long; a field's value is at most {MAX_FIELD_BYTES} bytes"
                ));
            }
        }
        Ok(())
    }
}

impl From<InboundMessage> for Inbound {
    fn from(message: InboundMessage) -> Self {
        Inbound {
            account: message.account,
            conversation: message.conversation,
            message_id: message.message_id,
            contact_id: message.contact.id,
            contact_name: message.contact.name,
            fields: message
                .contact
                .fields
                .iter()
                .filter_map(|(k, v)| from_json(v).map(|v| (k.clone(), v)))
                .collect(),
            text: message.text,
        }
    }
}

/// `{"conversation": "c-123", "replies": [{"text": "…", "choices": []}], "status": "waiting",
///   "team": null, "duplicate": false}`
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    pub conversation: String,
    pub replies: Vec<Reply>,
    pub status: &'static str,
    pub team: Option<String>,
    pub duplicate: bool,
    /// Contact fields the message carried that the config does not declare: not stored.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored_fields: Vec<String>,
}

impl From<Outcome> for Answer {
    fn from(outcome: Outcome) -> Self {
        Answer {
            conversation: outcome.conversation,
            replies: outcome.replies,
            status: outcome.status,
            team: outcome.team,
            duplicate: outcome.duplicate,
            ignored_fields: outcome.ignored_fields,
        }
    }
}
