//! What one conversation occupies in the store besides its history: the bytes of the keys
//! and values of its record, its due entries, its contact, its entry in the contact index and
//! the `seen` entries of its turns — none until more than 32 ids pushed some out of the
//! record's window — (summed as stored, envelopes included; not sled's own
//! per-entry overhead on disk). For the benchmarks' "bytes per idle conversation".

use super::backend::{Backend, TreeName};
use super::kv::KvStore;
use super::{Due, Store, StoreError, keys};

/// Key + value bytes by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    pub record: usize,
    pub due: usize,
    pub contact: usize,
    pub contact_index: usize,
    pub seen: usize,
}

impl Footprint {
    pub fn total(&self) -> usize {
        self.record + self.due + self.contact + self.contact_index + self.seen
    }
}

/// The footprint of conversation `id`; `None` when it has no record.
pub fn footprint<B: Backend>(
    store: &KvStore<B>,
    id: &str,
) -> Result<Option<Footprint>, StoreError> {
    let backend = store.backend_ref();
    let size = |tree: TreeName, key: &[u8]| -> Result<usize, StoreError> {
        Ok(backend
            .get(tree, key)?
            .map_or(0, |value| key.len() + value.len()))
    };
    let Some(record) = store.conversation(id)? else {
        return Ok(None);
    };
    let mut found = Footprint {
        record: size(TreeName::Conversations, &keys::conversation(id))?,
        contact: size(
            TreeName::Contacts,
            &keys::pair(&record.account, &record.contact),
        )?,
        contact_index: size(
            TreeName::ContactConversations,
            &keys::contact_conversation(&record.account, &record.contact, id),
        )?,
        ..Footprint::default()
    };
    for entry in Due::of_record(&record) {
        found.due += size(TreeName::Due, &keys::due(&entry))?;
    }
    // The ids that left its window, then any entry an earlier build keyed by account and id.
    for (key, value) in backend.scan_prefix(TreeName::Seen, &keys::seen_in_prefix(id))? {
        found.seen += key.len() + value.len();
    }
    for turn in store.history(id, record.last_seq)? {
        if let Some(message_id) = &turn.message_id {
            found.seen += size(TreeName::Seen, &keys::pair(&record.account, message_id))?;
        }
    }
    Ok(Some(found))
}
