//! Removing what retention no longer keeps, in an order a crash cannot make unsafe.
//!
//! Readers trust only what a conversation record vouches for: turns up to its `last_seq`,
//! the turns its recent window names, and `seen` entries the record confirms (intake checks
//! `seq <= last_seq` and the turn's own message id). So a conversation is removed in three
//! moves, each safe to be the last one before a crash:
//! 1. its record is rewritten to vouch for no turn (`last_seq` 0, an empty window): from here
//!    it reads as an ended conversation with no history, and it still names the conversation,
//!    so the next sweep finds it again;
//! 2. each turn goes, the `seen` entry pointing at it first (an index entry never outlives
//!    what it points at);
//! 3. the record goes;
//! 4. its entry in the contact's index goes, last (an entry pointing at nothing is harmless;
//!    a record the index does not name would escape a contact's export and erasure).
//!
//! A re-run after a crash at any point repeats what is left. A message for the conversation
//! in between (after a restart) finds an ended conversation and starts it over; its turns
//! overwrite the old ones, and the left-over ones past its `last_seq` are never read.

use super::backend::{Backend, TreeName};
use super::envelope::{decode_seen, decode_turn};
use super::kv::{KvStore, record};
use super::{Record, StoreError, keys};
use crate::delivery::Delivery;
use crate::state::Conversation;

/// What removing one conversation took away.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Removed {
    /// The conversation record was there (and is gone).
    pub conversation: bool,
    pub turns: usize,
    pub seen: usize,
}

/// One batch of the `seen` sweep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeenBatch {
    pub removed: usize,
    /// Entries written before entries carried their time, dated now.
    pub dated: usize,
    /// Where the next batch starts; `None` when this one reached the end of the index.
    pub next: Option<Vec<u8>>,
}

/// The smallest key after `key`.
fn after(key: &[u8]) -> Vec<u8> {
    let mut next = key.to_vec();
    next.push(0);
    next
}

pub(super) fn conversations_after<B: Backend>(
    store: &KvStore<B>,
    after_id: Option<&str>,
    limit: usize,
) -> Result<Vec<Record>, StoreError> {
    let start = after_id.map_or_else(Vec::new, |id| after(&keys::conversation(id)));
    Ok(store
        .backend_ref()
        .scan_from(TreeName::Conversations, &start, limit)?
        .into_iter()
        .map(record)
        .collect())
}

pub(super) fn remove_conversation<B: Backend>(
    store: &KvStore<B>,
    id: &str,
) -> Result<Removed, StoreError> {
    let backend = store.backend_ref();
    let record_key = keys::conversation(id);
    // Only a readable record is removed: a corrupt one is the quarantine's.
    let Some(mut record) = store.read::<Conversation>(TreeName::Conversations, &record_key)? else {
        return Ok(Removed::default());
    };
    // 1. The record stops vouching for any turn.
    if record.last_seq != 0 || !record.recent.is_empty() {
        record.last_seq = 0;
        record.recent.clear();
        store.write(TreeName::Conversations, &record_key, &record)?;
    }
    // 2. Each turn, its `seen` entry first.
    let mut removed = Removed {
        conversation: true,
        ..Removed::default()
    };
    // The ids that left its window are keyed under the conversation: they go before any turn.
    removed.seen += super::kv::remove_seen_in(backend, id)?;
    for (turn_key, bytes) in backend.scan_prefix(TreeName::History, &keys::history_prefix(id))? {
        // A turn that does not decode names no entry to remove; it goes all the same.
        let message_id = decode_turn(&bytes).ok().and_then(|turn| turn.message_id);
        if let Some(stored) = message_id {
            // An entry of the layout before ids entered the index only when they left a window.
            let seen_key = keys::pair(&record.account, Delivery::lookup_of(&stored));
            let here = backend
                .get(TreeName::Seen, &seen_key)?
                .filter(|bytes| decode_seen(bytes).is_ok_and(|seen| seen.conversation == id));
            // The same id may have been applied in another conversation since (or is being
            // now, on another node): that entry stays.
            if let Some(bytes) = here
                && backend.swap_if(TreeName::Seen, &seen_key, &bytes, None)?
            {
                removed.seen += 1;
            }
        }
        backend.remove(TreeName::History, &turn_key)?;
        removed.turns += 1;
    }
    // 3. The record.
    backend.remove(TreeName::Conversations, &record_key)?;
    // 4. Its entry in the contact's index, after the record: an entry left by a crash here
    // points at nothing (readers of the index read the record), while a record without its
    // entry would hide the contact's data from an export or an erasure.
    backend.remove(
        TreeName::ContactConversations,
        &keys::contact_conversation(&record.account, &record.contact, id),
    )?;
    Ok(removed)
}

pub(super) fn sweep_seen<B: Backend>(
    store: &KvStore<B>,
    from: &[u8],
    limit: usize,
    written_by: i64,
    now: i64,
) -> Result<SeenBatch, StoreError> {
    let backend = store.backend_ref();
    let entries = backend.scan_from(TreeName::Seen, from, limit.max(1))?;
    let mut batch = SeenBatch {
        next: (entries.len() >= limit.max(1))
            .then(|| entries.last().map(|(key, _)| after(key)))
            .flatten(),
        ..SeenBatch::default()
    };
    // Each change is made only if the entry is still the one read: a step (of this node or
    // another on the same database) that wrote it meanwhile keeps what it wrote.
    for (key, bytes) in entries {
        // A corrupt entry is left as it is: it is not this sweep's to judge.
        let Ok(mut seen) = decode_seen(&bytes) else {
            continue;
        };
        match seen.at {
            Some(at) if at <= written_by => {
                if backend.swap_if(TreeName::Seen, &key, &bytes, None)? {
                    batch.removed += 1;
                }
            }
            Some(_) => {}
            None => {
                seen.at = Some(now);
                let dated = super::envelope::encode(&seen)?;
                if backend.swap_if(TreeName::Seen, &key, &bytes, Some(&dated))? {
                    batch.dated += 1;
                }
            }
        }
    }
    Ok(batch)
}
