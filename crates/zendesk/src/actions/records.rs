//! The values Zendesk's users and tickets become in scenarios, and the user a contact
//! becomes in Zendesk: found by its email, else created over the organization's create fields.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::Org;
use crate::client::ZendeskError;
use crate::model::{Ticket, User};
use scenarist_lang::config::FieldLists;
use scenarist_runtime::state::Contact;
use scenarist_runtime::value::Value;

/// What the caller knows of a user to create, over the configured create fields.
#[derive(Clone, Debug, Default)]
pub struct UserSeed {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// The user with the seed's email (an exact match among the search results), else one
/// created (or matched by email or external id) with `create_or_update` from `new_user`.
pub(super) async fn find_or_create_user(
    org: &Org,
    contact: &Contact,
    seed: &UserSeed,
) -> Result<User, ZendeskError> {
    let email = seed
        .email
        .as_deref()
        .filter(|e| !e.is_empty())
        .ok_or_else(|| ZendeskError::Decode("no email to find the Zendesk user by".into()))?;
    let found = org
        .client
        .search_users(&format!("email:\"{email}\""))
        .await?;
    if let Some(user) = found.users.into_iter().find(|u| {
        u.email
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
    }) {
        return Ok(user);
    }
    org.client
        .create_or_update_user(&new_user(&org.fields, contact, seed))
        .await
}

/// The `{"user": …}` body that creates a user: the configured create fields filled from the
/// contact, then the seed's name, email and phone over them. A user always gets a name (Zendesk
/// requires one): the seed's, the contact's, the email's local part, or "Contact".
pub fn new_user(fields: &FieldLists, contact: &Contact, seed: &UserSeed) -> Json {
    let mut user = serde_json::Map::new();
    let mut user_fields = serde_json::Map::new();
    for (property, field) in &fields.create {
        let Some(value) = contact_value(contact, field) else {
            continue;
        };
        match property.strip_prefix("user_fields.") {
            Some(key) => {
                user_fields.insert(key.to_owned(), value);
            }
            None => {
                user.insert(property.clone(), value);
            }
        }
    }
    let present = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
    if let Some(email) = present(&seed.email) {
        user.insert("email".into(), json!(email));
    }
    if let Some(phone) = present(&seed.phone) {
        user.insert("phone".into(), json!(phone));
    }
    let email = user.get("email").and_then(Json::as_str).map(str::to_owned);
    let name = present(&seed.name)
        .or_else(|| {
            user.get("name")
                .and_then(Json::as_str)
                .filter(|n| !n.trim().is_empty())
                .map(str::to_owned)
        })
        .or_else(|| Some(contact.name.clone()).filter(|n| !n.trim().is_empty()))
        .or_else(|| {
            email
                .as_deref()
                .and_then(|e| e.split('@').next())
                .filter(|local| !local.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Contact".to_owned());
    user.insert("name".into(), json!(name));
    if !user_fields.is_empty() {
        user.insert("user_fields".into(), Json::Object(user_fields));
    }
    user.insert("skip_verify_email".into(), json!(true));
    json!({ "user": user })
}

pub(super) fn contact_value(contact: &Contact, field: &str) -> Option<Json> {
    match field {
        "name" => Some(json!(contact.name)).filter(|_| !contact.name.is_empty()),
        "id" => Some(json!(contact.id)),
        "first_name" => Some(json!(contact.first_name())),
        other => contact
            .fields
            .get(other)
            .map(scenarist_runtime::value::to_json),
    }
}

#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "Zendesk ids fit in 53 bits"
)]
/// A Zendesk id from a number of the runtime (a negative one reads as 0).
pub fn to_id(n: f64) -> u64 {
    n.max(0.0) as u64
}

#[expect(clippy::cast_precision_loss, reason = "Zendesk ids fit in 53 bits")]
pub(super) fn record<const N: usize>(fields: [(&str, u64); N]) -> Value {
    Value::Record(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::Number(v as f64)))
            .collect::<BTreeMap<_, _>>(),
    )
}

pub fn user_record(user: &User) -> Value {
    let mut fields = BTreeMap::new();
    if let Some(id) = user.id {
        #[expect(clippy::cast_precision_loss, reason = "Zendesk ids fit in 53 bits")]
        fields.insert("id".to_owned(), Value::Number(id as f64));
    }
    if let Some(email) = &user.email {
        fields.insert("email".to_owned(), Value::text(email));
    }
    fields.insert("name".to_owned(), Value::text(&user.name));
    Value::Record(fields)
}

pub(super) fn ticket_record(ticket: &Ticket) -> Value {
    let mut fields = BTreeMap::new();
    #[expect(clippy::cast_precision_loss, reason = "Zendesk ids fit in 53 bits")]
    fields.insert("id".to_owned(), Value::Number(ticket.id as f64));
    fields.insert("status".to_owned(), Value::text(&ticket.status));
    if let Some(url) = &ticket.url {
        fields.insert("url".to_owned(), Value::text(url));
    }
    Value::Record(fields)
}
