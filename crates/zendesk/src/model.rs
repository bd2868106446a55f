//! The JSON of the Zendesk Support API that the client reads. Deserialization is lenient —
//! unknown fields are ignored, polymorphic values (`user_fields`, `metadata`) stay JSON — so
//! a field Zendesk adds tomorrow does not break a sync. Ids are 64-bit.

use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
pub struct User {
    /// `null` for the anonymous user `users/me` returns when credentials are wrong.
    pub id: Option<u64>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub user_fields: Map<String, Value>,
}

impl User {
    /// The value of a user property (`email`, `phone`, `name`, `external_id`) or custom field
    /// (`user_fields.<key>`), as text.
    pub fn property(&self, property: &str) -> Option<String> {
        match property {
            "email" => self.email.clone(),
            "phone" => self.phone.clone(),
            "name" => Some(self.name.clone()).filter(|n| !n.is_empty()),
            "external_id" => self.external_id.clone(),
            "role" => self.role.clone(),
            other => {
                let key = other.strip_prefix("user_fields.")?;
                match self.user_fields.get(key)? {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    value => Some(value.to_string()),
                }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct UserEnvelope {
    pub user: User,
}

#[derive(Debug, Deserialize)]
pub struct UsersPage {
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub next_page: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct UserField {
    pub id: u64,
    pub key: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
pub struct UserFieldsPage {
    #[serde(default)]
    pub user_fields: Vec<UserField>,
    #[serde(default)]
    pub next_page: Option<String>,
}

/// A ticket field (`GET /api/v2/ticket_fields/{id}`): what `zendesk check` reads of it.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct TicketField {
    pub id: u64,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub title: String,
    #[serde(default = "yes")]
    pub active: bool,
}

#[derive(Debug, Deserialize)]
pub struct TicketFieldEnvelope {
    pub ticket_field: TicketField,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Ticket {
    pub id: u64,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub requester_id: Option<u64>,
    #[serde(default)]
    pub assignee_id: Option<u64>,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TicketEnvelope {
    pub ticket: Ticket,
}

#[derive(Debug, Deserialize)]
pub struct TicketsPage {
    #[serde(default)]
    pub tickets: Vec<Ticket>,
    #[serde(default)]
    pub next_page: Option<String>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub author_id: Option<u64>,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub public: bool,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub metadata: Value,
}

impl Comment {
    /// The custom audit metadata the update that added this comment carried.
    pub fn custom(&self, key: &str) -> Option<&str> {
        self.metadata.get("custom")?.get(key)?.as_str()
    }
}

#[derive(Debug, Deserialize)]
pub struct CommentsPage {
    #[serde(default)]
    pub comments: Vec<Comment>,
    #[serde(default)]
    pub meta: Option<CursorMeta>,
    #[serde(default)]
    pub links: Option<Links>,
}

#[derive(Debug, Deserialize)]
pub struct CursorMeta {
    #[serde(default)]
    pub has_more: bool,
}

#[derive(Debug, Deserialize)]
pub struct Links {
    #[serde(default)]
    pub next: Option<String>,
}
