//! `Store` over an ordered key-value `Backend`: key layouts, envelopes and the commit order.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::backend::{Backend, Held, TreeName, Write};
use super::envelope::{decode, decode_seen, decode_turn, encode};
use super::retire::{self, Removed, SeenBatch};
use super::{
    Commit, Dropped, Due, Erased, Inspection, Quarantined, Record, ScenarioVersion, Seen, Store,
    StoreError, keys, quarantine,
};
use crate::state::{Contact, Conversation, Turn};

pub struct KvStore<B: Backend> {
    backend: B,
    /// Whether the `seen` index holds entries of the layout before ids entered it only when
    /// they left a window (checked once: nothing writes that layout any more).
    legacy_seen: std::sync::OnceLock<bool>,
}

impl<B: Backend> KvStore<B> {
    pub fn new(backend: B) -> Self {
        Self {
            backend,
            legacy_seen: std::sync::OnceLock::new(),
        }
    }

    /// The backend with its own type (for wrappers that count or inject faults).
    pub fn backend_ref(&self) -> &B {
        &self.backend
    }

    pub(super) fn read<T: DeserializeOwned>(
        &self,
        tree: TreeName,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        match self.backend.get(tree, key)? {
            None => Ok(None),
            Some(bytes) => decode(&bytes)
                .map(Some)
                .map_err(|reason| corrupt(tree, key, reason)),
        }
    }

    pub(super) fn write<T: Serialize>(
        &self,
        tree: TreeName,
        key: &[u8],
        value: &T,
    ) -> Result<(), StoreError> {
        self.backend.insert(tree, key, &encode(value)?)
    }

    fn read_seen(&self, key: &[u8]) -> Result<Option<Seen>, StoreError> {
        match self.backend.get(TreeName::Seen, key)? {
            None => Ok(None),
            Some(bytes) => decode_seen(&bytes)
                .map(Some)
                .map_err(|reason| corrupt(TreeName::Seen, key, reason)),
        }
    }

    /// Fills the contact index from the records, once, for a store written before it existed.
    /// Steps committed meanwhile index themselves, so the index is complete when this ends.
    fn index_old_conversations(&self) -> Result<(), StoreError> {
        let tree = TreeName::ContactConversations;
        if self
            .backend
            .get(tree, keys::CONTACT_INDEX_COMPLETE)?
            .is_some()
        {
            return Ok(());
        }
        // A page at a time: a large store is never held in memory whole.
        for page in super::conversation_pages(self, 256) {
            for (_, record) in page? {
                // A record that does not read cannot say whose it is (quarantined when used).
                if let Ok(conversation) = record {
                    self.backend.apply(vec![index_entry(&conversation)?])?;
                }
            }
        }
        self.write(
            tree,
            keys::CONTACT_INDEX_COMPLETE,
            &"every conversation is indexed".to_owned(),
        )
    }
}

/// An insert of `value`, encoded in its envelope.
fn put<T: Serialize>(tree: TreeName, key: Vec<u8>, value: &T) -> Result<Write, StoreError> {
    Ok(Write::Insert {
        tree,
        key,
        value: encode(value)?,
    })
}

/// The conversation's entry in its contact's index (writing it again changes nothing).
fn index_entry(conversation: &Conversation) -> Result<Write, StoreError> {
    put(
        TreeName::ContactConversations,
        keys::contact_conversation(
            &conversation.account,
            &conversation.contact,
            &conversation.id,
        ),
        &conversation.id,
    )
}

pub(super) fn corrupt(tree: TreeName, key: &[u8], reason: String) -> StoreError {
    StoreError::Corrupt {
        tree: tree.as_str(),
        key: String::from_utf8_lossy(key).into_owned(),
        reason,
    }
}

/// Removes every history turn of a conversation, a page at a time, and before them the
/// `seen` entries of ids that left its window (they point at its turns); how many turns.
pub(super) fn remove_history(
    backend: &dyn Backend,
    conversation: &str,
) -> Result<usize, StoreError> {
    remove_seen_in(backend, conversation)?;
    remove_prefixed(
        backend,
        TreeName::History,
        &keys::history_prefix(conversation),
    )
}

/// Removes the `seen` entries of the ids that left a conversation's window; how many.
pub(super) fn remove_seen_in(
    backend: &dyn Backend,
    conversation: &str,
) -> Result<usize, StoreError> {
    remove_prefixed(backend, TreeName::Seen, &keys::seen_in_prefix(conversation))
}

/// Removes every entry of `tree` under `prefix`, a page at a time; how many.
fn remove_prefixed(
    backend: &dyn Backend,
    tree: TreeName,
    prefix: &[u8],
) -> Result<usize, StoreError> {
    let mut removed = 0;
    super::pages::each(backend, tree, prefix, |key, _| {
        backend.remove(tree, &key)?;
        removed += 1;
        Ok::<_, StoreError>(())
    })?;
    Ok(removed)
}

/// A stored conversation as a scan reads it: its id and its record, or why it does not read.
pub(super) fn record((key, bytes): (Vec<u8>, Vec<u8>)) -> Record {
    let record = decode(&bytes).map_err(|reason| corrupt(TreeName::Conversations, &key, reason));
    (String::from_utf8_lossy(&key).into_owned(), record)
}

impl<B: Backend> Store for KvStore<B> {
    fn conversation(&self, id: &str) -> Result<Option<Conversation>, StoreError> {
        self.read(TreeName::Conversations, &keys::conversation(id))
    }

    fn contact(&self, account: &str, id: &str) -> Result<Option<Contact>, StoreError> {
        self.read(TreeName::Contacts, &keys::pair(account, id))
    }

    fn history(&self, conversation: &str, upto: u64) -> Result<Vec<Turn>, StoreError> {
        let mut turns = Vec::new();
        for (key, bytes) in self
            .backend
            .scan_prefix(TreeName::History, &keys::history_prefix(conversation))?
        {
            let turn =
                decode_turn(&bytes).map_err(|reason| corrupt(TreeName::History, &key, reason))?;
            // Turns past the record's last sequence number were never committed.
            if turn.seq <= upto {
                turns.push(turn);
            }
        }
        Ok(turns)
    }

    fn turn(&self, conversation: &str, seq: u64) -> Result<Option<Turn>, StoreError> {
        let key = keys::turn(conversation, seq);
        match self.backend.get(TreeName::History, &key)? {
            None => Ok(None),
            Some(bytes) => decode_turn(&bytes)
                .map(Some)
                .map_err(|reason| corrupt(TreeName::History, &key, reason)),
        }
    }

    fn seen_in(&self, conversation: &str, hash: u64) -> Result<Option<Seen>, StoreError> {
        self.read_seen(&keys::seen_in(conversation, hash))
    }

    fn seen(&self, account: &str, message_id: &str) -> Result<Option<Seen>, StoreError> {
        let legacy = if let Some(legacy) = self.legacy_seen.get() {
            *legacy
        } else {
            // That layout's keys sort first (they start with a zero byte).
            let first = self.backend.scan_from(TreeName::Seen, &[], 1)?;
            let legacy = first.first().is_some_and(|(key, _)| !keys::is_seen_in(key));
            *self.legacy_seen.get_or_init(|| legacy)
        };
        if !legacy {
            return Ok(None);
        }
        self.read_seen(&keys::pair(account, message_id))
    }

    fn commit(&self, commit: &Commit) -> Result<(), StoreError> {
        self.commit_held(commit, &Held::none())
    }

    fn commit_held(&self, commit: &Commit, held: &Held) -> Result<(), StoreError> {
        // Every value encoded first: a value that cannot be encoded writes nothing.
        let mut writes = Vec::new();
        if let Some(turn) = &commit.turn {
            writes.push(put(
                TreeName::History,
                keys::turn(&commit.conversation.id, turn.seq),
                turn,
            )?);
        }
        if let Some(contact) = &commit.contact {
            writes.push(put(
                TreeName::Contacts,
                keys::pair(&contact.account, &contact.id),
                contact,
            )?);
        }
        for (hash, seen) in &commit.seen {
            writes.push(put(
                TreeName::Seen,
                keys::seen_in(&seen.conversation, *hash),
                seen,
            )?);
        }
        for due in &commit.due {
            writes.push(put(TreeName::Due, keys::due(due), due)?);
        }
        // A conversation's first turn (a new conversation, or one started again under its id
        // after it was removed) puts it in its contact's index; later steps cost nothing here.
        if commit.turn.as_ref().is_some_and(|turn| turn.seq == 1) {
            writes.push(index_entry(&commit.conversation)?);
        }
        // The commit point: one insert (on a backend with transactions, the transaction's
        // commit, which takes every write of the step or none).
        writes.push(put(
            TreeName::Conversations,
            keys::conversation(&commit.conversation.id),
            &commit.conversation,
        )?);
        for due in &commit.undue {
            writes.push(Write::Remove {
                tree: TreeName::Due,
                key: keys::due(due),
            });
        }
        self.backend.apply_held(writes, held)
    }

    fn due(&self, at: i64, limit: usize) -> Result<Vec<Due>, StoreError> {
        self.backend
            .scan_below(TreeName::Due, &keys::due_end(at), limit)?
            .into_iter()
            .map(|(key, bytes)| {
                decode(&bytes).map_err(|reason| corrupt(TreeName::Due, &key, reason))
            })
            .collect()
    }

    fn remove_due(&self, due: &Due) -> Result<(), StoreError> {
        self.backend.remove(TreeName::Due, &keys::due(due))
    }

    fn put_due(&self, due: &Due) -> Result<(), StoreError> {
        self.write(TreeName::Due, &keys::due(due), due)
    }

    fn put_scenario(&self, version: &ScenarioVersion) -> Result<(), StoreError> {
        self.write(TreeName::Scenarios, version.version.as_bytes(), version)
    }

    fn scenario(&self, version: &str) -> Result<Option<ScenarioVersion>, StoreError> {
        self.read(TreeName::Scenarios, version.as_bytes())
    }

    fn put_contact(&self, contact: &Contact) -> Result<(), StoreError> {
        self.write(
            TreeName::Contacts,
            &keys::pair(&contact.account, &contact.id),
            contact,
        )
    }

    fn quarantine(&self, conversation: &str, reason: &str) -> Result<(), StoreError> {
        self.write(
            TreeName::Quarantine,
            &keys::conversation(conversation),
            &reason.to_owned(),
        )
    }

    fn quarantined(&self, conversation: &str) -> Result<Option<String>, StoreError> {
        self.read(TreeName::Quarantine, &keys::conversation(conversation))
    }

    fn conversations(&self) -> Result<Vec<Record>, StoreError> {
        Ok(self
            .backend
            .scan_prefix(TreeName::Conversations, &[])?
            .into_iter()
            .map(record)
            .collect())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.backend.flush()
    }

    fn backend(&self) -> &dyn Backend {
        &self.backend
    }

    // backup and quarantine
    fn quarantine_list(&self) -> Result<Vec<Quarantined>, StoreError> {
        quarantine::list(&self.backend)
    }

    fn inspect(&self, conversation: &str) -> Result<Inspection, StoreError> {
        quarantine::inspect(&self.backend, conversation)
    }

    fn drop_conversation(&self, conversation: &str) -> Result<Dropped, StoreError> {
        quarantine::drop(&self.backend, conversation)
    }

    // contacts' rights
    fn contact_conversations(
        &self,
        account: &str,
        contact: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.index_old_conversations()?;
        let prefix = keys::pair(account, contact);
        // The id is the key's last part (after its 4-byte length): no value to decode.
        Ok(self
            .backend
            .scan_prefix(TreeName::ContactConversations, &prefix)?
            .into_iter()
            .map(|(key, _)| {
                String::from_utf8_lossy(key.get(prefix.len() + 4..).unwrap_or_default())
                    .into_owned()
            })
            .collect())
    }

    fn erase_conversation(
        &self,
        account: &str,
        contact: &str,
        conversation: &str,
    ) -> Result<Erased, StoreError> {
        let mut erased = Erased::default();
        let record_key = keys::conversation(conversation);
        let record = self
            .backend
            .get(TreeName::Conversations, &record_key)?
            .map(|bytes| decode::<Conversation>(&bytes));
        let theirs = matches!(&record, Some(Ok(c)) if c.account != account || c.contact != contact);
        if !theirs {
            if let Some(record) = record {
                self.backend.remove(TreeName::Conversations, &record_key)?;
                erased.record = true;
                if let Ok(record) = record {
                    for entry in Due::of_record(&record) {
                        self.backend.remove(TreeName::Due, &keys::due(&entry))?;
                    }
                }
            }
            erased.turns = remove_history(&self.backend, conversation)?;
        }
        self.backend.remove(
            TreeName::ContactConversations,
            &keys::contact_conversation(account, contact, conversation),
        )?;
        Ok(erased)
    }

    fn remove_contact(&self, account: &str, id: &str) -> Result<bool, StoreError> {
        let key = keys::pair(account, id);
        let existed = self.backend.get(TreeName::Contacts, &key)?.is_some();
        if existed {
            self.backend.remove(TreeName::Contacts, &key)?;
        }
        Ok(existed)
    }

    // retention (the protocol is in `retire.rs`)
    fn conversations_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        retire::conversations_after(self, after, limit)
    }

    fn remove_conversation(&self, id: &str) -> Result<Removed, StoreError> {
        retire::remove_conversation(self, id)
    }

    fn sweep_seen(
        &self,
        from: &[u8],
        limit: usize,
        written_by: i64,
        now: i64,
    ) -> Result<SeenBatch, StoreError> {
        retire::sweep_seen(self, from, limit, written_by, now)
    }

    fn scenario_versions(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .backend
            .scan_prefix(TreeName::Scenarios, &[])?
            .into_iter()
            .map(|(key, _)| String::from_utf8_lossy(&key).into_owned())
            .collect())
    }

    fn remove_scenario(&self, version: &str) -> Result<(), StoreError> {
        self.backend.remove(TreeName::Scenarios, version.as_bytes())
    }

    // start-up (`due_index.rs`)
    fn due_index_complete(&self) -> Result<bool, StoreError> {
        super::due_index::complete(&self.backend)
    }

    fn mark_due_index_complete(&self) -> Result<(), StoreError> {
        super::due_index::mark_complete(&self.backend)
    }

    fn conversations_with_effects(&self) -> Result<Vec<String>, StoreError> {
        super::due_index::conversations_with_effects(&self.backend)
    }

    fn outbox_depth(&self) -> Result<usize, StoreError> {
        super::due_index::effect_entries(&self.backend)
    }
}
