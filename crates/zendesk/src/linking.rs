//! Contacts and their Zendesk users, per organization (product.md, "Contacts outlive
//! conversations"). Linking is an advisor's or admin's action, and the organization's three
//! field lists say how it is done:
//!
//! - `candidates`: the Zendesk users matching the contact on the *search* fields — one query
//!   per mapped field that has a value, results merged, **exact matches first** (Zendesk's
//!   search is fuzzy and its index lags, so a hit is exact only when the user's property
//!   equals the contact's value);
//! - `link` (an existing user, checked first) and `create_and_link` (a user made from the
//!   *create* fields, with the same body the sync's find-or-create sends);
//! - `unlink`;
//! - `display`: the linked user's *display* fields.
//!
//! The functions that take a `store` write the contact with `Store::put_contact` (the CLI,
//! which holds sled's lock); the service checks or creates the user with `existing_user` /
//! `create_user` and writes through `Engine::update_contact`, in turn with conversations.

use std::cmp::Reverse;

use super::actions::{Org, UserSeed, new_user};
use super::client::ZendeskError;
use super::model::User;
use scenarist_runtime::state::Contact;
use scenarist_runtime::store::{Store, StoreError};
use scenarist_runtime::value::Value;

/// A Zendesk user that may be the contact, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub user: User,
    /// The search fields whose query found the user, in the order of the search list.
    pub matched: Vec<FieldMatch>,
}

/// One search field that found a candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldMatch {
    /// The Zendesk property (`email`, `user_fields.order_number`).
    pub property: String,
    /// The contact field it is mapped from.
    pub contact_field: String,
    /// The user's property equals the contact's value (ignoring case), not merely a fuzzy hit.
    pub exact: bool,
}

impl Candidate {
    /// Whether any matched field is an exact match.
    pub fn exact(&self) -> bool {
        self.matched.iter().any(|m| m.exact)
    }

    fn exact_count(&self) -> usize {
        self.matched.iter().filter(|m| m.exact).count()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// `link` with an id Zendesk does not know (404 on `users/{id}`).
    #[error("Zendesk has no user #{0} in this organization")]
    NoSuchUser(u64),
    /// `display` of a contact that is not linked to this organization.
    #[error("the contact is not linked to a Zendesk user in `{0}`")]
    NotLinked(String),
    /// A created user came back without an id (never seen; Zendesk always gives one).
    #[error("Zendesk created the user but gave no id back")]
    NoId,
    #[error(transparent)]
    Zendesk(#[from] ZendeskError),
    #[error("cannot write the contact record: {0}")]
    Store(#[from] StoreError),
}

/// The Zendesk users matching a contact, and whether a search stopped at its cap.
#[derive(Debug, Default)]
pub struct Candidates {
    pub list: Vec<Candidate>,
    /// A search matched more than [`crate::client::SEARCH_CAP`] users; the others were not read.
    pub truncated: bool,
}

/// The Zendesk users matching `contact` on the organization's search fields, exact matches
/// first (more exact fields first, then more matched fields; otherwise Zendesk's order).
pub async fn candidates(org: &Org, contact: &Contact) -> Result<Candidates, ZendeskError> {
    let mut found: Vec<Candidate> = Vec::new();
    let mut truncated = false;
    for (property, field) in &org.fields.search {
        let Some(value) = contact_text(contact, field) else {
            continue;
        };
        let users = if property == "external_id" {
            org.client.users_by_external_id(&value).await?
        } else {
            let search = org
                .client
                .search_users(&search_query(property, &value))
                .await?;
            truncated |= search.truncated;
            search.users
        };
        for user in users {
            let Some(id) = user.id else { continue };
            let hit = FieldMatch {
                property: property.clone(),
                contact_field: field.clone(),
                exact: same_value(property, user.property(property).as_deref(), &value),
            };
            match found.iter_mut().find(|c| c.user.id == Some(id)) {
                Some(candidate) => candidate.matched.push(hit),
                None => found.push(Candidate {
                    user,
                    matched: vec![hit],
                }),
            }
        }
    }
    // A stable sort keeps Zendesk's relevance order among equals.
    found.sort_by_key(|c| (Reverse(c.exact_count()), Reverse(c.matched.len())));
    Ok(Candidates {
        list: found,
        truncated,
    })
}

/// Links the contact to the Zendesk user `user_id` of `org` (checked to exist first) and
/// stores the contact. Returns the user.
pub async fn link(
    store: &dyn Store,
    org: &Org,
    contact: &Contact,
    user_id: u64,
) -> Result<User, LinkError> {
    let user = existing_user(org, user_id).await?;
    let mut contact = contact.clone();
    contact.zendesk.insert(org.name.clone(), user_id);
    store.put_contact(&contact)?;
    Ok(user)
}

/// The Zendesk user `user_id` of `org`, or [`LinkError::NoSuchUser`].
pub async fn existing_user(org: &Org, user_id: u64) -> Result<User, LinkError> {
    match org.client.user(user_id).await {
        Ok(user) => Ok(user),
        Err(error) if error.status() == Some(404) => Err(LinkError::NoSuchUser(user_id)),
        Err(error) => Err(error.into()),
    }
}

/// Creates a Zendesk user from the organization's create fields, with the `seed`'s name,
/// email and phone over them (`create_or_update`: a user with the same email or external id
/// is matched instead of duplicated), links the contact to it and stores the contact.
/// Returns the user.
pub async fn create_and_link(
    store: &dyn Store,
    org: &Org,
    contact: &Contact,
    seed: &UserSeed,
) -> Result<User, LinkError> {
    let (user, id) = create_user(org, contact, seed).await?;
    let mut contact = contact.clone();
    contact.zendesk.insert(org.name.clone(), id);
    store.put_contact(&contact)?;
    Ok(user)
}

/// A Zendesk user made from the organization's create fields and the `seed` (matched, not
/// duplicated, when one has the same email or external id), with its id.
pub async fn create_user(
    org: &Org,
    contact: &Contact,
    seed: &UserSeed,
) -> Result<(User, u64), LinkError> {
    let body = new_user(&org.fields, contact, seed);
    let user = org.client.create_or_update_user(&body).await?;
    let id = user.id.ok_or(LinkError::NoId)?;
    Ok((user, id))
}

/// Removes the contact's link to `organization` and stores the contact. Returns the user it
/// was linked to, if any (nothing is written when there was none).
pub fn unlink(
    store: &dyn Store,
    contact: &Contact,
    organization: &str,
) -> Result<Option<u64>, StoreError> {
    let mut contact = contact.clone();
    let previous = contact.zendesk.remove(organization);
    if previous.is_some() {
        store.put_contact(&contact)?;
    }
    Ok(previous)
}

/// The linked user and its display fields as (property, value), ordered by property.
pub async fn display(
    org: &Org,
    contact: &Contact,
) -> Result<(User, Vec<(String, Option<String>)>), LinkError> {
    let id = *contact
        .zendesk
        .get(&org.name)
        .ok_or_else(|| LinkError::NotLinked(org.name.clone()))?;
    let user = match org.client.user(id).await {
        Ok(user) => user,
        Err(error) if error.status() == Some(404) => return Err(LinkError::NoSuchUser(id)),
        Err(error) => return Err(error.into()),
    };
    let shown = org
        .fields
        .display
        .keys()
        .map(|property| (property.clone(), user.property(property)))
        .collect();
    Ok((user, shown))
}

/// A contact field as text (built-in `id`, `name`, `first_name`, or a custom field), if it
/// has a value.
pub fn contact_text(contact: &Contact, field: &str) -> Option<String> {
    let text = match field {
        "id" => contact.id.clone(),
        "name" => contact.name.clone(),
        "first_name" => contact.first_name().to_owned(),
        other => match contact.fields.get(other)? {
            Value::Bool(b) => b.to_string(),
            value => value.to_string(),
        },
    };
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The `users/search` query for one field: `email:"a@b.c"`, `order_number:"A-1"` (a custom
/// field is searched by its key). Double quotes inside the value would end the phrase, so
/// they are dropped.
fn search_query(property: &str, value: &str) -> String {
    let key = property.strip_prefix("user_fields.").unwrap_or(property);
    let value: String = value.chars().filter(|c| *c != '"').collect();
    format!("{key}:\"{value}\"")
}

/// Whether a user's property is the contact's value: equal ignoring case and surrounding
/// spaces; phone numbers compare by their digits (and a leading `+`), so `+1 555-0100`
/// equals `+15550100`.
fn same_value(property: &str, user: Option<&str>, contact: &str) -> bool {
    let Some(user) = user else { return false };
    if property == "phone" {
        let digits = |s: &str| -> String {
            s.chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect()
        };
        let (a, b) = (digits(user), digits(contact));
        return !a.is_empty() && a == b;
    }
    user.trim().to_lowercase() == contact.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Credentials, Timeouts, ZendeskClient};
    use crate::secret::Secret;
    use scenarist_lang::config::FieldLists;
    use scenarist_runtime::store::{KvStore, MemoryBackend};
    use serde_json::json;
    use zendesk_standin::{StandIn, StandInConfig};

    fn org(url: &str, fields: FieldLists) -> Org {
        let credentials = Credentials::ApiToken {
            email: "agent@acme.example".into(),
            token: Secret::new("standin-token"),
        };
        let client = ZendeskClient::new(url, credentials, Timeouts::default()).unwrap();
        Org::new("acme", client, fields)
    }

    fn search(pairs: &[(&str, &str)]) -> FieldLists {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(p, f)| ((*p).to_owned(), (*f).to_owned()))
                .collect()
        };
        let shown = [
            ("name", "name"),
            ("email", "email"),
            ("user_fields.order_number", "order"),
        ];
        FieldLists {
            search: map(pairs),
            display: map(&shown),
            create: map(&shown),
        }
    }

    async fn user(org: &Org, name: &str, email: &str, phone: Option<&str>) -> u64 {
        let mut body = json!({ "user": { "name": name, "email": email } });
        if let Some(phone) = phone {
            body["user"]["phone"] = json!(phone);
        }
        org.client
            .create_or_update_user(&body)
            .await
            .unwrap()
            .id
            .unwrap()
    }

    fn ada() -> Contact {
        let mut contact = Contact::new("facebook:acme", "u1", "Ada Lovelace");
        contact
            .fields
            .insert("email".into(), Value::text("ada@example.com"));
        contact
            .fields
            .insert("phone".into(), Value::text("+33 6 12 34 56 78"));
        contact.fields.insert("order".into(), Value::text("A-1001"));
        contact
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn exact_matches_come_first() {
        let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
        let org = org(
            &standin.url(),
            search(&[("email", "email"), ("phone", "phone")]),
        );
        // Fuzzy hits first in Zendesk's order (lower ids), the exact one created last.
        let fuzzy = user(&org, "Ada Byron", "ada@example.com.au", None).await;
        let phone_only = user(&org, "A. King", "king@example.org", Some("+33612345678")).await;
        let exact = user(
            &org,
            "Ada Lovelace",
            "ADA@example.com",
            Some("+33612345678"),
        )
        .await;
        let found = candidates(&org, &ada()).await.unwrap().list;
        let ids: Vec<u64> = found.iter().map(|c| c.user.id.unwrap()).collect();
        assert_eq!(ids, vec![exact, phone_only, fuzzy], "{found:#?}");
        assert!(found[0].exact() && found[0].matched.iter().all(|m| m.exact));
        assert_eq!(
            found[0].matched.len(),
            2,
            "found by email and by phone, listed once"
        );
        assert!(found[1].exact());
        assert_eq!(found[1].matched[0].property, "phone");
        assert!(!found[2].exact(), "a substring hit is not exact");
        standin.stop().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn link_create_display_and_unlink() {
        let standin = StandIn::start(0, StandInConfig::default()).await.unwrap();
        let org = org(&standin.url(), search(&[("email", "email")]));
        let store = KvStore::new(MemoryBackend::default());
        let contact = ada();
        assert!(matches!(
            link(&store, &org, &contact, 42).await,
            Err(LinkError::NoSuchUser(42))
        ));
        assert!(store.contact("facebook:acme", "u1").unwrap().is_none());

        let created = create_and_link(&store, &org, &contact, &UserSeed::default())
            .await
            .unwrap();
        let id = created.id.unwrap();
        let stored = store.contact("facebook:acme", "u1").unwrap().unwrap();
        assert_eq!(stored.zendesk.get("acme"), Some(&id));
        let (_, shown) = display(&org, &stored).await.unwrap();
        assert_eq!(
            shown,
            vec![
                ("email".to_owned(), Some("ada@example.com".to_owned())),
                ("name".to_owned(), Some("Ada Lovelace".to_owned())),
                (
                    "user_fields.order_number".to_owned(),
                    Some("A-1001".to_owned())
                ),
            ]
        );
        // Creating again matches the same user by email.
        let again = create_and_link(&store, &org, &stored, &UserSeed::default())
            .await
            .unwrap();
        assert_eq!(again.id, Some(id));

        assert_eq!(unlink(&store, &stored, "acme").unwrap(), Some(id));
        let unlinked = store.contact("facebook:acme", "u1").unwrap().unwrap();
        assert!(unlinked.zendesk.is_empty());
        assert!(matches!(
            display(&org, &unlinked).await,
            Err(LinkError::NotLinked(_))
        ));
        let linked = link(&store, &org, &unlinked, id).await.unwrap();
        assert_eq!(linked.name, "Ada Lovelace");
        standin.stop().await;
    }

    #[test]
    fn queries_and_equality() {
        assert_eq!(search_query("email", "a@b.c"), "email:\"a@b.c\"");
        assert_eq!(
            search_query("user_fields.order_number", "A\"1"),
            "order_number:\"A1\""
        );
        assert!(same_value("phone", Some("+1 555-0100"), "+15550100"));
        assert!(same_value(
            "email",
            Some("Ada@Example.com"),
            "ada@example.com "
        ));
        assert!(!same_value(
            "email",
            Some("ada@example.com.au"),
            "ada@example.com"
        ));
        assert!(!same_value("email", None, "ada@example.com"));
    }
}
