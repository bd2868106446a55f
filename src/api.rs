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
/// idempotency keys): ids end up in keys, logs and Zendesk fields. Counted in characters, as
/// JSON Schema's `maxLength` counts them, so `schemas/openapi.yaml` can state it exactly.
pub const MAX_ID_CHARS: usize = 256;

/// The most contact fields one message carries, and the longest value of one (a text's
/// characters; another value's, as JSON).
pub const MAX_FIELDS: usize = 64;
pub const MAX_FIELD_CHARS: usize = 1024;

/// Why an id is refused, naming `field`: empty, over [`MAX_ID_CHARS`], or holding a control
/// character (which would forge log lines or reach a terminal).
pub fn check_id(field: &str, id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err(format!("`{field}` is empty"));
    }
    let length = id.chars().count();
    if length > MAX_ID_CHARS {
        return Err(format!(
            "`{field}` is {length} characters long; ids are at most {MAX_ID_CHARS} characters"
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
        // Any name passes (OpenAPI 3.0 cannot constrain a map's keys): only the declared
        // fields are kept, and the others' names are only echoed, as JSON, in the answer.
        for (name, value) in &self.contact.fields {
            let size = field_size(value);
            if size > MAX_FIELD_CHARS {
                return Err(format!(
                    "`contact.fields.{}` is {size} characters long; a field's value is at most {MAX_FIELD_CHARS} characters",
                    shown(name)
                ));
            }
        }
        Ok(())
    }
}

/// A field name as an error message shows it: its first 64 characters, escaped.
fn shown(name: &str) -> String {
    name.chars().take(64).flat_map(char::escape_debug).collect()
}

/// A field value's length: a text's characters, another value's characters as JSON.
fn field_size(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::String(text) => text.chars().count(),
        other => other.to_string().chars().count(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn message(fields: &serde_json::Value) -> InboundMessage {
        serde_json::from_value(serde_json::json!({ "account": "a", "conversation": "c",
            "message_id": "m", "contact": { "id": "u", "fields": fields }, "text": "" }))
        .unwrap()
    }

    /// Lengths are characters, as the OpenAPI document's `maxLength` counts them: 256 `é`
    /// (512 bytes) is an id, 257 is not.
    #[test]
    fn ids_are_counted_in_characters() {
        assert_eq!(check_id("id", &"é".repeat(MAX_ID_CHARS)), Ok(()));
        let refused = check_id("id", &"é".repeat(MAX_ID_CHARS + 1)).unwrap_err();
        assert!(refused.contains("257 characters"), "{refused}");
        assert!(check_id("id", "").is_err());
        assert!(check_id("id", "a\u{85}b").is_err(), "U+0085 is a control");
        assert_eq!(check_id("id", " ü 🦀 "), Ok(()));
    }

    /// Any field name passes (the document cannot say otherwise); a text value is capped in
    /// characters, another value as JSON; the message names the field, escaped and cut short.
    #[test]
    fn field_names_pass_and_values_are_capped_in_characters() {
        let odd = serde_json::json!({ "": 1, "a\nb": true, "x".repeat(300): null });
        assert_eq!(message(&odd).check(), Ok(()));
        let full = serde_json::json!({ "email": "é".repeat(MAX_FIELD_CHARS) });
        assert_eq!(message(&full).check(), Ok(()));
        let name = format!("bad\n{}", "n".repeat(100));
        let over = serde_json::json!({ name: "é".repeat(MAX_FIELD_CHARS + 1) });
        let refused = message(&over).check().unwrap_err();
        assert!(
            refused.starts_with("`contact.fields.bad\\nnnn"),
            "{refused}"
        );
        assert!(!refused.contains('\n') && refused.len() < 200, "{refused}");
        let list = serde_json::json!({ "tags": vec!["x"; 300] });
        assert!(message(&list).check().is_err(), "1201 characters as JSON");
    }
}
