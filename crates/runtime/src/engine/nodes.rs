//! Several processes on one store (PostgreSQL): the locks they all see. A conversation's
//! lock is held from reading its record to its commit, so two nodes never run its inputs at
//! once — the second reads what the first committed (a message id resent to another node
//! finds its first answer). A contact's lock is held around its read-modify-write, as the
//! in-process contact lock is. Taken after the in-process line and lock, so a node waits for
//! the database only with one task per conversation; a conversation's lock before its
//! contact's, always, so no two holders wait for each other. A conversation's outbox effects
//! run under its claim (`claim_effects`), which never waits. On a store only this process
//! uses (sled, memory) all three are no-ops.

use std::sync::Arc;

use super::{Engine, EngineError};
use crate::store::{Claim, Held, StoreError};

impl Engine {
    /// The lock of conversation `id` on the store.
    pub(super) async fn hold_conversation(&self, id: &str) -> Result<Held, EngineError> {
        self.hold(Held::none(), conversation_lock(id)).await
    }

    /// The lock of a contact too, held with `held` (or alone when `held` holds nothing).
    pub(super) async fn hold_contact(
        &self,
        held: Held,
        account: &str,
        id: &str,
    ) -> Result<Held, EngineError> {
        self.hold(held, contact_lock(account, id)).await
    }

    /// The lock of conversation `id` too, held with `held` (an erasure holds every one of
    /// its contact's, in id order, so two erasures never wait for each other).
    pub(super) async fn hold_conversation_too(
        &self,
        held: Held,
        id: &str,
    ) -> Result<Held, EngineError> {
        self.hold(held, conversation_lock(id)).await
    }

    async fn hold(&self, held: Held, name: String) -> Result<Held, EngineError> {
        let store = Arc::clone(&self.inner.store);
        if !store.backend().shared() {
            return Ok(held);
        }
        // Waiting for another node blocks a thread: not one of the runtime's workers.
        let taken = tokio::task::spawn_blocking(move || held.with(store.backend(), &name))
            .await
            .unwrap_or_else(|_| Err(StoreError::Io("a lock's waiting thread panicked".into())));
        taken.map_err(|e| self.storage_error(&e))
    }

    /// The claim on conversation `id`'s effects among the nodes on the store, or `None` while
    /// another node runs one of them (never waits: the due entry stays for a later tick).
    /// Held from reading the pending effect until its result is committed; a node that dies
    /// lets it go, so another node's scheduler takes the effect over.
    pub(crate) fn claim_effects(&self, id: &str) -> Result<Option<Claim>, EngineError> {
        self.inner
            .store
            .backend()
            .claim(&effects_claim(id))
            .map_err(|e| self.storage_error(&e))
    }
}

fn effects_claim(id: &str) -> String {
    format!("effects\0{id}")
}

pub(super) fn conversation_lock(id: &str) -> String {
    format!("conversation\0{id}")
}

pub(super) fn contact_lock(account: &str, id: &str) -> String {
    format!("contact\0{account}\0{id}")
}
