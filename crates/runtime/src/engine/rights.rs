//! A contact's erasure in turn with its conversations (`rights::erase` does the work): it
//! takes the turn of every conversation of the contact, then the contact's lock — the order
//! a message takes them in — so a message already running finishes first (before), and one
//! arriving later waits and then finds nothing of what was erased (after): no step writes an
//! erased record back. On a store several nodes share, it takes the same locks in the
//! database too (`nodes.rs`), so a step on another node cannot interleave with it either.

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
            // The same locks among every node on the store (`nodes.rs`): a step of one of
            // these conversations on another node finishes first, or starts after.
            let mut ordered = conversations.clone();
            ordered.sort();
            let mut held = crate::store::Held::none();
            for conversation in &ordered {
                held = self.hold_conversation_too(held, conversation).await?;
            }
            let _held = self.hold_contact(held, account, id).await?;
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::engine::Engine;
    use crate::engine::testing::{echo_engine, inbound};
    use crate::store::{KvStore, MemoryBackend, Store};

    /// How many hold the contact's lock `Arc` (the engine's map and this probe included).
    fn holders(engine: &Engine) -> usize {
        Arc::strong_count(&engine.contact_lock("facebook:acme", "u1"))
    }

    /// The window a message once had: it read its conversation, then waited for the contact's
    /// lock while an erasure held it, and wrote the conversation back afterwards. Here the
    /// message arrives while the erasure waits for that lock; it must land after the erasure,
    /// on a new conversation.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_message_arriving_while_an_erasure_waits_never_writes_the_conversation_back() {
        let store: Arc<dyn Store> = Arc::new(KvStore::new(MemoryBackend::default()));
        let engine = echo_engine(Arc::clone(&store));
        engine.handle(inbound("m1", "my secret")).await.unwrap();
        engine.handle(inbound("m2", "more")).await.unwrap();

        // Both the erasure and the message will queue on the contact's lock, held here.
        let lock = engine.contact_lock("facebook:acme", "u1");
        let held = lock.lock().await;
        let erasing = tokio::spawn({
            let engine = engine.clone();
            async move { engine.erase_contact("facebook:acme", "u1").await }
        });
        // The map, `lock`, the probe, and the erasure.
        while holders(&engine) < 4 {
            tokio::task::yield_now().await;
        }
        let message = tokio::spawn({
            let engine = engine.clone();
            async move { engine.handle(inbound("m3", "after")).await }
        });
        // A message that could read the conversation now would queue on the lock too; give it
        // the chance (a bounded wait for something that must not happen, not a timing).
        for _ in 0..200 {
            if holders(&engine) >= 5 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        drop(held);
        let erased = erasing.await.unwrap().unwrap().unwrap();
        assert_eq!(erased.removed.turns, 2, "{erased:?}");
        message.await.unwrap().unwrap();
        let conversation = store.conversation("c1").unwrap().unwrap();
        assert_eq!(
            conversation.last_seq, 1,
            "the message started a new conversation: {conversation:?}"
        );
        let history = store.history("c1", u64::MAX).unwrap();
        assert!(!format!("{history:?}").contains("my secret"), "{history:?}");
    }
}
