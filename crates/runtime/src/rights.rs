//! Contacts' rights (GDPR articles 15 and 17): everything stored about a contact as one
//! document ([`export`]), and its erasure ([`erase`]). Both work on a store and find the
//! contact's conversations through its contact index (`Store::contact_conversations`), never
//! by reading every conversation. While an engine runs on the store, erase through
//! `Engine::erase_contact`, which runs it in turn with the contact's conversations.
//!
//! The outbox is finished first: an erasure is refused while a conversation of the contact
//! still has an effect pending (a Zendesk comment not yet posted, an action call not yet
//! answered), because the effect would need what the erasure removes. Dead letters (effects
//! that failed for good) go with their conversation.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::state::{Contact, Conversation, Turn};
use crate::store::{Record, Store, StoreError};

/// Everything stored about a contact.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ContactExport {
    pub account: String,
    pub id: String,
    /// The contact record: name, fields, tags and Zendesk links (per organization, the
    /// Zendesk user id). `None` if there is none or it does not read (see `unreadable`).
    pub contact: Option<Contact>,
    /// Every conversation of the contact with its full history, oldest first.
    pub conversations: Vec<ConversationExport>,
    /// Records that failed their checksum and could not be exported (named, not hidden).
    pub unreadable: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ConversationExport {
    /// The conversation record as stored: scenario, status, variables, outbox, Zendesk sync.
    pub record: Conversation,
    /// Every history turn, in order.
    pub history: Vec<Turn>,
}

/// `None`: nothing is stored about this contact.
pub fn export(
    store: &dyn Store,
    account: &str,
    id: &str,
) -> Result<Option<ContactExport>, StoreError> {
    let mut unreadable = Vec::new();
    let contact = store.contact(account, id).or_else(|error| {
        if error.is_corrupt() {
            unreadable.push(format!("the contact record ({error})"));
            Ok(None)
        } else {
            Err(error)
        }
    })?;
    let mut conversations = Vec::new();
    for (conversation, record) in records(store, account, id)? {
        match record {
            Ok(record) => {
                let history = store.history(&conversation, record.last_seq)?;
                conversations.push(ConversationExport { record, history });
            }
            Err(error) => unreadable.push(format!("conversation `{conversation}` ({error})")),
        }
    }
    conversations.sort_by_key(|c| c.record.created_at);
    if contact.is_none() && conversations.is_empty() && unreadable.is_empty() {
        return Ok(None);
    }
    Ok(Some(ContactExport {
        account: account.to_owned(),
        id: id.to_owned(),
        contact,
        conversations,
        unreadable,
    }))
}

/// The records of a contact's conversations: those of the index that still exist and are
/// the contact's (an id may be reused by another contact after an erase).
fn records(store: &dyn Store, account: &str, id: &str) -> Result<Vec<Record>, StoreError> {
    let mut found = Vec::new();
    for conversation in store.contact_conversations(account, id)? {
        match store.conversation(&conversation) {
            Ok(None) => {}
            Ok(Some(record)) if record.account != account || record.contact != id => {}
            Ok(Some(record)) => found.push((conversation, Ok(record))),
            Err(error) if error.is_corrupt() => found.push((conversation, Err(error))),
            Err(error) => return Err(error),
        }
    }
    Ok(found)
}

/// What an erasure removed, and what it could not.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Erasure {
    pub account: String,
    pub id: String,
    pub removed: Removed,
    /// What Scenarist cannot remove: the data is in Zendesk, where the operator acts.
    pub not_removed: NotRemoved,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// The contact record was there and is gone.
    pub contact: bool,
    pub fields: usize,
    pub tags: usize,
    /// Zendesk links (one per organization).
    pub links: usize,
    /// The conversations removed, with their records, timers and histories.
    pub conversations: Vec<String>,
    /// History turns removed (each holds the texts of one input and its replies).
    pub turns: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NotRemoved {
    /// Per Zendesk organization, the users and tickets that hold this contact's data.
    pub zendesk: Vec<ZendeskLeft>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ZendeskLeft {
    pub organization: String,
    pub user_ids: BTreeSet<u64>,
    pub ticket_ids: BTreeSet<u64>,
}

/// An effect still in the outbox, which refuses an erasure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pending {
    pub conversation: String,
    pub effect: String,
    pub action: String,
}

#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the contact's conversations still have {} effect(s) in the outbox (first: `{}` of conversation `{}`); nothing was erased — erase again once the outbox has finished them (`scenarist outbox list` shows them)",
        .0.len(),
        .0.first().map_or("", |p| p.action.as_str()),
        .0.first().map_or("", |p| p.conversation.as_str())
    )]
    OutboxPending(Vec<Pending>),
}

/// Erases a contact: its conversations (records, timers, histories), then its record. Run
/// again after a crash, it finishes; run on a contact already erased, it removes nothing.
pub fn erase(store: &dyn Store, account: &str, id: &str) -> Result<Erasure, EraseError> {
    let contact = match store.contact(account, id) {
        Ok(contact) => contact,
        Err(error) if error.is_corrupt() => None,
        Err(error) => return Err(error.into()),
    };
    let records = records(store, account, id)?;
    let pending: Vec<Pending> = records
        .iter()
        .filter_map(|(_, record)| record.as_ref().ok())
        .flat_map(|record| {
            record.pending.iter().map(|effect| Pending {
                conversation: record.id.clone(),
                effect: effect.id.clone(),
                action: effect.action.clone(),
            })
        })
        .collect();
    if !pending.is_empty() {
        return Err(EraseError::OutboxPending(pending));
    }
    let mut zendesk: BTreeMap<String, ZendeskLeft> = BTreeMap::new();
    let mut add = |organization: &str, user: Option<u64>, ticket: Option<u64>| {
        let found = zendesk
            .entry(organization.to_owned())
            .or_insert_with(|| ZendeskLeft {
                organization: organization.to_owned(),
                ..ZendeskLeft::default()
            });
        found.user_ids.extend(user);
        found.ticket_ids.extend(ticket);
    };
    for (organization, user) in contact.iter().flat_map(|c| &c.zendesk) {
        add(organization, Some(*user), None);
    }
    for sync in records
        .iter()
        .filter_map(|(_, record)| record.as_ref().ok()?.sync.as_ref())
    {
        add(&sync.organization, sync.user_id, sync.ticket_id);
    }
    let mut removed = Removed::default();
    // Every id of the index, including one whose record is already gone (a crash mid-erase).
    for conversation in store.contact_conversations(account, id)? {
        let erased = store.erase_conversation(account, id, &conversation)?;
        if erased.record {
            removed.conversations.push(conversation);
        }
        removed.turns += erased.turns;
    }
    removed.contact = store.remove_contact(account, id)?;
    if let Some(contact) = contact {
        removed.fields = contact.fields.len();
        removed.tags = contact.tags.len();
        removed.links = contact.zendesk.len();
    }
    Ok(Erasure {
        account: account.to_owned(),
        id: id.to_owned(),
        removed,
        not_removed: NotRemoved {
            zendesk: zendesk.into_values().collect(),
        },
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::state::{Effect, SyncState};
    use crate::store::{Commit, KvStore, MemoryBackend};

    fn stored(pending: bool) -> KvStore<MemoryBackend> {
        let store = KvStore::new(MemoryBackend::default());
        let mut contact = Contact::new("facebook:acme", "u1", "Ada");
        contact.zendesk.insert("acme".into(), 7);
        let mut conversation = Conversation::new("c1", "facebook:acme", "u1", "demo", "v1", 1);
        conversation.last_seq = 1;
        conversation.sync = Some(SyncState {
            organization: "acme".into(),
            user_id: Some(8),
            ticket_id: Some(4001),
            ..SyncState::default()
        });
        if pending {
            conversation.pending.push(Effect {
                id: "c1:1:0".into(),
                conversation: "c1".into(),
                action: "zendesk.comment".into(),
                request: BTreeMap::new(),
                created_at: 1,
                created_seq: 1,
                attempts: 0,
                next_attempt_at: 1,
                last_error: None,
                started: false,
            });
        }
        let turn = Turn {
            seq: 1,
            at: 1,
            message_id: Some("m1".into()),
            messages: Vec::new(),
        };
        let commit = Commit {
            turn: Some(turn),
            contact: Some(contact),
            seen: Vec::new(),
            due: Vec::new(),
            undue: Vec::new(),
            conversation,
        };
        store.commit(&commit).unwrap();
        store
    }

    #[test]
    fn an_effect_in_the_outbox_refuses_the_erasure_and_nothing_is_removed() {
        let store = stored(true);
        let refused = erase(&store, "facebook:acme", "u1").unwrap_err();
        assert!(
            matches!(&refused, EraseError::OutboxPending(p) if p.len() == 1 && p[0].action == "zendesk.comment"),
            "{refused}"
        );
        let kept = export(&store, "facebook:acme", "u1").unwrap().unwrap();
        assert_eq!(kept.conversations.len(), 1);
        assert!(kept.contact.is_some());
    }

    #[test]
    fn an_erasure_names_every_zendesk_user_and_ticket_and_is_idempotent() {
        let store = stored(false);
        let erasure = erase(&store, "facebook:acme", "u1").unwrap();
        assert!(erasure.removed.contact);
        assert_eq!(erasure.removed.links, 1);
        assert_eq!(erasure.removed.conversations, ["c1"]);
        assert_eq!(erasure.removed.turns, 1);
        assert_eq!(
            erasure.not_removed.zendesk,
            [ZendeskLeft {
                organization: "acme".into(),
                user_ids: [7, 8].into(),
                ticket_ids: [4001].into(),
            }]
        );
        assert_eq!(export(&store, "facebook:acme", "u1").unwrap(), None);
        let again = erase(&store, "facebook:acme", "u1").unwrap();
        assert_eq!(again.removed, Removed::default());
        assert!(again.not_removed.zendesk.is_empty());
    }
}
