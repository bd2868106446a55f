//! Intake: what happens to an input before the interpreter sees it — a delivery seen before
//! is answered from its first answer (de-duplication), a contact's message finds or starts
//! its conversation on the right scenario version, and its contact fields are filtered to
//! the declared ones.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::commit::outcome;
use super::{Engine, EngineError, Inbound, Outcome};
use crate::catalog::ScenarioError;
use crate::delivery::{Delivery, Recognised};
use crate::program::Program;
use crate::state::{Contact, Conversation, Input, Status};
use crate::value::Value;

impl Engine {
    /// Drops the fields the config does not declare and returns their names.
    pub(super) fn keep_declared(&self, fields: &mut BTreeMap<String, Value>) -> Vec<String> {
        let Some(declared) = self.options().contact_fields.clone() else {
            return Vec::new();
        };
        let ignored: Vec<String> = fields
            .keys()
            .filter(|name| !declared.contains(*name))
            .cloned()
            .collect();
        fields.retain(|name, _| declared.contains(name));
        ignored
    }

    /// The first answer to a delivery seen before: from the record's recent window, or from
    /// the long-term `seen` index, which holds the ids that left the window (trusted only if
    /// the record confirms it). An event key
    /// first used with another request is refused.
    pub(super) fn duplicate(
        &self,
        conversation: &Conversation,
        delivery: &Delivery,
    ) -> Result<Option<Outcome>, EngineError> {
        let lookup = delivery.lookup();
        if let Some(seq) = conversation.recent_turn(&lookup) {
            if let Some(outcome) = self.replay(conversation, seq, delivery)? {
                return Ok(Some(outcome));
            }
        }
        // A window that never overflowed holds every id this conversation ever got.
        if conversation.recent_is_complete() {
            return Ok(None);
        }
        // An id that left the window; or, in a store written before ids entered the index
        // only then, any id under its account.
        let store = &self.inner.store;
        let hash = crate::state::id_hash(&lookup);
        let mut seen = store
            .seen_in(&conversation.id, hash)
            .map_err(|e| self.fail(&conversation.id, &e))?;
        if seen.is_none() {
            seen = store
                .seen(&conversation.account, &lookup)
                .map_err(|e| self.fail(&conversation.id, &e))?;
        }
        match seen {
            Some(seen)
                if seen.conversation == conversation.id && seen.seq <= conversation.last_seq =>
            {
                self.replay(conversation, seen.seq, delivery)
            }
            _ => Ok(None),
        }
    }

    /// The answer of turn `seq`, if that turn was caused by `delivery`.
    pub(super) fn replay(
        &self,
        conversation: &Conversation,
        seq: u64,
        delivery: &Delivery,
    ) -> Result<Option<Outcome>, EngineError> {
        let turn = self
            .inner
            .store
            .turn(&conversation.id, seq)
            .map_err(|e| self.fail(&conversation.id, &e))?;
        let Some(turn) = turn else { return Ok(None) };
        match turn.message_id.as_deref().map(|id| delivery.recognise(id)) {
            Some(Recognised::Same) => Ok(Some(outcome(conversation, &turn, true, Vec::new()))),
            Some(Recognised::Conflict) => Err(EngineError::KeyReused(conversation.id.clone())),
            _ => Ok(None),
        }
    }

    pub(super) fn prepare_contact(
        &self,
        existing: Option<Conversation>,
        inbound: Inbound,
    ) -> Result<(Conversation, Contact, Option<Contact>, Input), EngineError> {
        let now = self.inner.clock.now();
        let mut conversation = if let Some(conversation) = existing {
            conversation
        } else {
            let program = self.newest_for(&inbound.account)?;
            Conversation::new(
                &inbound.conversation,
                &inbound.account,
                &inbound.contact_id,
                &program.name,
                &program.version,
                now,
            )
        };
        // A conversation starting over gets the newest version of its scenario.
        if conversation.status == Status::Ended {
            if let Some(program) = self.inner.catalog.newest(&conversation.scenario) {
                conversation.version.clone_from(&program.version);
            }
        }
        let stored = self.load_contact(&inbound.account, &inbound.contact_id)?;
        let mut contact = stored
            .clone()
            .unwrap_or_else(|| Contact::new(&inbound.account, &inbound.contact_id, ""));
        if !inbound.contact_name.is_empty() {
            contact.name = inbound.contact_name;
        }
        contact.fields.extend(inbound.fields);
        let input = Input::Contact {
            message_id: inbound.message_id,
            text: inbound.text,
        };
        Ok((conversation, contact, stored, input))
    }

    pub(super) fn newest_for(&self, account: &str) -> Result<Arc<Program>, EngineError> {
        let options = self.options();
        let name = options
            .routes
            .get(account)
            .or(options.default_scenario.as_ref())
            .ok_or_else(|| EngineError::UnknownAccount(account.to_owned()))?;
        self.inner.catalog.newest(name).ok_or_else(|| {
            EngineError::Scenario(ScenarioError::NotLoaded {
                name: name.clone(),
                account: account.to_owned(),
            })
        })
    }

    /// The stored contact record, if any.
    pub(super) fn load_contact(
        &self,
        account: &str,
        id: &str,
    ) -> Result<Option<Contact>, EngineError> {
        match self.inner.store.contact(account, id) {
            Ok(contact) => Ok(contact),
            // A corrupt contact record is not worth stopping a conversation for: start anew.
            Err(error) if error.is_corrupt() => {
                tracing::error!(account, contact = id, %error, "corrupt contact record replaced");
                Ok(None)
            }
            Err(error) => Err(self.storage(&error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::engine::Engine;
    use crate::engine::testing::{echo_engine, inbound};
    use crate::state::RECENT_WINDOW;
    use crate::store::{KvStore, MemoryBackend, Seen, Store, TreeName};

    async fn send(engine: &Engine, id: &str) -> bool {
        let text = format!("text of {id}");
        engine.handle(inbound(id, &text)).await.unwrap().duplicate
    }

    fn seen_entries(store: &dyn Store) -> usize {
        store
            .backend()
            .scan_prefix(TreeName::Seen, &[])
            .unwrap()
            .len()
    }

    /// The key of the layout written before ids entered the index only as they left a
    /// window: the account, then the id, each behind its length (`store::keys::pair`).
    fn legacy_key(account: &str, id: &str) -> Vec<u8> {
        let mut key = Vec::new();
        for part in [account, id] {
            key.extend_from_slice(&u32::try_from(part.len()).unwrap().to_be_bytes());
            key.extend_from_slice(part.as_bytes());
        }
        key
    }

    #[tokio::test]
    async fn ids_reach_the_seen_index_only_as_they_leave_the_window_and_repeats_stay_known() {
        let store: Arc<dyn Store> = Arc::new(KvStore::new(MemoryBackend::default()));
        let engine = echo_engine(Arc::clone(&store));
        let over = 8;
        for i in 0..RECENT_WINDOW + over {
            assert!(!send(&engine, &format!("m{i}")).await);
            let written = i.saturating_sub(RECENT_WINDOW - 1);
            assert_eq!(seen_entries(store.as_ref()), written, "after m{i}");
        }
        // Out of the window (in the index), in it, and new.
        assert!(send(&engine, "m3").await, "an id that left the window");
        assert!(send(&engine, &format!("m{}", RECENT_WINDOW + 2)).await);
        assert!(!send(&engine, "fresh").await);

        // The same conversation in a store written before: every id under its account.
        let old: Arc<dyn Store> = Arc::new(KvStore::new(MemoryBackend::default()));
        for tree in TreeName::ALL {
            if tree == TreeName::Seen {
                continue;
            }
            for (key, value) in store.backend().scan_prefix(tree, &[]).unwrap() {
                old.backend().insert(tree, &key, &value).unwrap();
            }
        }
        let record = store.conversation("c1").unwrap().unwrap();
        for seq in 1..=record.last_seq {
            let turn = store.turn("c1", seq).unwrap().unwrap();
            let seen = Seen {
                conversation: "c1".into(),
                seq,
                at: Some(1_000),
            };
            old.backend()
                .insert(
                    TreeName::Seen,
                    &legacy_key("facebook:acme", &turn.message_id.unwrap()),
                    &crate::store::encode_for_tests(&seen).unwrap(),
                )
                .unwrap();
        }
        let upgraded = echo_engine(Arc::clone(&old));
        assert!(send(&upgraded, "m3").await, "an id in the old layout");
        assert!(!send(&upgraded, "fresh again").await);
    }
}
