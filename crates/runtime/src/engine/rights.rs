//! A contact's erasure in turn with its conversations (`rights::erase` does the work): it
//! takes the turn of every conversation of the contact, then the contact's lock — the order
//! a message takes them in — so a message already running finishes first (before), and one
//! arriving later waits and then finds nothing of what was erased (after): no step writes an
//! erased record back.

use super::{Engine, EngineError};
use crate::rights::{self, EraseError, Erasure};

/// How many times an erasure starts over because a conversation of the contact began while
/// it waited for the turns; each round takes that conversation's turn too.
const ROUNDS: usize = 16;

impl Engine {
    /// Erases a contact and its conversations; durable on return. Refused while the
    /// contact's conversations have effects in the outbox ([`EraseError::OutboxPending`]).
    pub async fn erase_contact(
        &self,
        account: &str,
        id: &str,
    ) -> Result<Result<Erasure, EraseError>, EngineError> {
        // One erasure at a time: each takes several conversations' turns, and two taking
        // them in interleaved order could wait on each other.
        let _one_at_a_time = self.inner.erasing.lock().await;
        let store = self.inner.store.as_ref();
        for _ in 0..ROUNDS {
            if let Some(reason) = self.failure() {
                return Err(EngineError::Unavailable(reason));
            }
            let conversations = store
                .contact_conversations(account, id)
                .map_err(|e| self.storage(&e))?;
            let places: Vec<_> = conversations.iter().map(|c| self.place(c)).collect();
            for place in &places {
                place.turn().await;
            }
            let contact_lock = self.contact_lock(account, id);
            let _contact = contact_lock.lock().await;
            // A conversation that started meanwhile is written under this lock, which is now
            // held: if the list is the same, it is complete until the lock is let go.
            let now = store
                .contact_conversations(account, id)
                .map_err(|e| self.storage(&e))?;
            if now != conversations {
                continue;
            }
            let erasure = match rights::erase(store, account, id) {
                Err(EraseError::Store(error)) => return Err(self.storage(&error)),
                other => other,
            };
            self.inner
                .durability
                .wait()
                .await
                .map_err(|e| self.storage(&e))?;
            if let Ok(erasure) = &erasure {
                tracing::info!(
                    account,
                    contact = id,
                    conversations = erasure.removed.conversations.len(),
                    turns = erasure.removed.turns,
                    "contact erased"
                );
            }
            return Ok(erasure);
        }
        Err(EngineError::Unavailable(format!(
            "the contact's conversations kept starting while the erasure waited for them ({ROUNDS} rounds); nothing was erased, try again"
        )))
    }
}
