//! Commands that change a store while `serve` nodes may run on it (PostgreSQL: `scenarist
//! contact …`, `scenarist store quarantine drop`): they take the database locks a node's
//! step takes (`nodes.rs`), in the same order, so they never interleave with a step. On a
//! store only one process opens (sled locks its directory) they hold nothing.

use crate::rights::{self, EraseError, Erasure};
use crate::store::{Held, Store, StoreError};

use super::nodes::{contact_lock, conversation_lock};

/// How many times an erasure starts over because a conversation of the contact began while
/// it waited for the locks.
const ROUNDS: usize = 16;

/// The lock of conversation `id`: no node runs a step of it until the guard drops.
pub fn hold_conversation(store: &dyn Store, id: &str) -> Result<Held, StoreError> {
    hold(store, Held::none(), &conversation_lock(id))
}

/// The lock of a contact's record: no node writes it until the guard drops. Take no
/// conversation's lock while holding it (a step takes its conversation's first).
pub fn hold_contact(store: &dyn Store, account: &str, id: &str) -> Result<Held, StoreError> {
    hold(store, Held::none(), &contact_lock(account, id))
}

/// [`rights::erase`] holding the locks of the contact's conversations (in id order), then of
/// the contact, as `Engine::erase_contact` does on a node.
pub fn erase_contact(store: &dyn Store, account: &str, id: &str) -> Result<Erasure, EraseError> {
    if !store.backend().shared() {
        return rights::erase(store, account, id);
    }
    for _ in 0..ROUNDS {
        let mut conversations = store.contact_conversations(account, id)?;
        conversations.sort();
        let mut held = Held::none();
        for conversation in &conversations {
            held = hold(store, held, &conversation_lock(conversation))?;
        }
        let _held = hold(store, held, &contact_lock(account, id))?;
        // A conversation started meanwhile is indexed under the contact's lock, now held.
        let mut now = store.contact_conversations(account, id)?;
        now.sort();
        if now == conversations {
            return rights::erase(store, account, id);
        }
    }
    Err(EraseError::Store(StoreError::Io(
        format!(
            "the contact's conversations kept starting while the erasure waited for them \
             ({ROUNDS} rounds); nothing was erased, try again"
        )
        .into(),
    )))
}

fn hold(store: &dyn Store, held: Held, name: &str) -> Result<Held, StoreError> {
    held.with(store.backend(), name)
}
