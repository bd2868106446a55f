//! `Store` over an ordered key-value `Backend`: key layouts, envelopes and the commit order.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::backend::{Backend, TreeName};
use super::envelope::{decode, decode_turn, encode};
use super::{
    Commit, Dropped, Due, Inspection, Quarantined, Record, ScenarioVersion, Seen, Store,
    StoreError, keys, quarantine,
};
use crate::state::{Contact, Conversation, Turn};

pub struct KvStore<B: Backend> {
    backend: B,
}

impl<B: Backend> KvStore<B> {
    pub fn new(backend: B) -> Self {
        Self { backend }
    }

    /// The backend with its own type (for wrappers that count or inject faults).
    pub fn backend_ref(&self) -> &B {
        &self.backend
    }

    fn read<T: DeserializeOwned>(
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

    fn write<T: Serialize>(&self, tree: TreeName, key: &[u8], value: &T) -> Result<(), StoreError> {
        self.backend.insert(tree, key, &encode(value)?)
    }
}

fn corrupt(tree: TreeName, key: &[u8], reason: String) -> StoreError {
    StoreError::Corrupt {
        tree: tree.as_str(),
        key: String::from_utf8_lossy(key).into_owned(),
        reason,
    }
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

    fn seen(&self, account: &str, message_id: &str) -> Result<Option<Seen>, StoreError> {
        self.read(TreeName::Seen, &keys::pair(account, message_id))
    }

    fn commit(&self, commit: &Commit) -> Result<(), StoreError> {
        if let Some(turn) = &commit.turn {
            self.write(
                TreeName::History,
                &keys::turn(&commit.conversation.id, turn.seq),
                turn,
            )?;
        }
        if let Some(contact) = &commit.contact {
            self.write(
                TreeName::Contacts,
                &keys::pair(&contact.account, &contact.id),
                contact,
            )?;
        }
        for (account, message_id, seen) in &commit.seen {
            self.write(TreeName::Seen, &keys::pair(account, message_id), seen)?;
        }
        for due in &commit.due {
            self.write(TreeName::Due, &keys::due(due), due)?;
        }
        // The commit point: one insert.
        self.write(
            TreeName::Conversations,
            &keys::conversation(&commit.conversation.id),
            &commit.conversation,
        )?;
        for due in &commit.undue {
            self.backend.remove(TreeName::Due, &keys::due(due))?;
        }
        Ok(())
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
            .map(|(key, bytes)| {
                let record =
                    decode(&bytes).map_err(|reason| corrupt(TreeName::Conversations, &key, reason));
                (String::from_utf8_lossy(&key).into_owned(), record)
            })
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
}
