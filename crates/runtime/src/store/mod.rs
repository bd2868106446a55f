//! Durable state behind a narrow trait. `Store` speaks the runtime's language (conversations,
//! turns, contacts, the de-dup and due indexes, scenario versions); `KvStore` implements it
//! over any ordered key-value `Backend` — sled on disk (`sled.rs`, the only sled user),
//! memory (`memory.rs`) or PostgreSQL (`pg/`) — and one conformance suite (`tests.rs`) runs
//! against all three. `Backend::apply` writes a step's batch: one write at a time on sled and
//! memory (the order below makes that safe), one transaction on PostgreSQL.
//!
//! The commit protocol (docs: design/architecture.md, reliability.md §3): the side records of
//! a step (its history turn, the contact, `seen` and due-index entries) are written first,
//! each idempotent; the conversation record is written last, in a single insert — that insert
//! is the moment the step happens. A crash in between leaves side records the next run of the
//! same step rewrites; readers trust only what the conversation record says (turns up to its
//! `last_seq`, timers and effects it lists). sled 0.34's multi-key atomic writes cost 5–6× on
//! this machine (reference/performance.md), which is why atomicity comes from this ordering.
//!
//! Every value is wrapped in an envelope (format version + CRC32) checked on every read; a
//! mismatch is `StoreError::Corrupt`, and the engine quarantines the conversation.

mod backend;
mod due_index;
mod envelope;
mod export;
mod fault;
mod footprint;
mod keys;
mod kv;
mod legacy;
mod memory;
mod pages;
mod pg;
mod quarantine;
mod retire;
mod sled;

pub use backend::{Backend, Claim, Held, HeldLock, TreeName, Write};
pub use export::{ExportError, ExportStats, export, import};
pub use fault::{StorageCause, StorageFault};
pub use footprint::{Footprint, footprint};
pub use kv::KvStore;
pub use memory::MemoryBackend;
pub use pages::{ConversationPages, conversation_pages};
pub use pg::{
    COMMIT_STATEMENT, Migrated, PgBackend, PgError, SCHEMA_VERSION, TEST_DATABASE_URL,
    scratch_database, test_database_url,
};
pub use quarantine::{Dropped, Inspection, Quarantined, Stored};
pub use retire::{Removed, SeenBatch};
pub use sled::SledBackend;

use crate::state::{Contact, Conversation, Turn};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The storage itself failed (I/O, a sled error). Intake must stop: never retried —
    /// unless it is [`StoreError::is_transient`] (a database server out of reach for now).
    /// `Display` is for the log; a caller is told [`StoreError::plain`].
    #[error("{0}")]
    Io(StorageFault),
    /// A stored value failed its checksum or could not be decoded.
    #[error("corrupt value in {tree} at key {key}: {reason}")]
    Corrupt {
        tree: &'static str,
        key: String,
        reason: String,
    },
    /// A value could not be encoded (a bug, not a storage failure).
    #[error("cannot encode a value: {0}")]
    Encode(String),
}

impl StoreError {
    pub fn is_corrupt(&self) -> bool {
        matches!(self, StoreError::Corrupt { .. })
    }

    /// A database that cannot be reached for now ([`StorageCause::Unreachable`]): the request
    /// fails, intake goes on, and the next call connects again.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Io(fault) if fault.is_transient())
    }

    /// What an API caller is told, in plain words; the detail (`Display`) goes to the log.
    pub fn plain(&self) -> String {
        match self {
            StoreError::Io(fault) => fault.plain(),
            StoreError::Corrupt { .. } => {
                "a stored record failed its checksum; it is set aside, and the operator has the details in the log".to_owned()
            }
            StoreError::Encode(_) => {
                "the service could not encode a record (a bug); nothing was recorded".to_owned()
            }
        }
    }
}

impl From<&std::io::Error> for StoreError {
    fn from(error: &std::io::Error) -> Self {
        StoreError::Io(StorageFault::from(error))
    }
}

/// A stored conversation's id and its record (an error for one that fails its checksum).
pub type Record = (String, Result<Conversation, StoreError>);

/// An entry of the due index: something to do at `at` for a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Due {
    pub at: i64,
    pub conversation: String,
    pub what: DueKind,
}

impl Due {
    /// The entries a conversation record calls for: its timer and each effect in its outbox.
    pub fn of_record(conversation: &Conversation) -> impl Iterator<Item = Due> + '_ {
        let due = |what, at| Due {
            at,
            conversation: conversation.id.clone(),
            what,
        };
        let timer = conversation
            .timer
            .iter()
            .map(move |timer| due(DueKind::Timer(timer.id), timer.due_at));
        let effects = conversation
            .pending
            .iter()
            .map(move |effect| due(DueKind::Effect(effect.id.clone()), effect.next_attempt_at));
        timer.chain(effects)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DueKind {
    Timer(u64),
    Effect(String),
}

/// Where an inbound message id was applied: the conversation and the turn.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    pub conversation: String,
    pub seq: u64,
    /// When it was written, for the retention sweeper; `None` for an entry written before
    /// entries carried their time (format 2), which the sweeper dates when it first meets it.
    pub at: Option<i64>,
}

/// Everything one step writes. Applied by `Store::commit` in the protocol's order.
#[derive(Clone, Debug)]
pub struct Commit {
    pub turn: Option<Turn>,
    pub contact: Option<Contact>,
    /// Message ids that left the conversation record's window in this step, as `(id hash,
    /// where it was applied)`: the record no longer vouches for them, the `seen` index does.
    pub seen: Vec<(u64, Seen)>,
    pub due: Vec<Due>,
    /// Index entries made stale by this step, removed after the commit point.
    pub undue: Vec<Due>,
    pub conversation: Conversation,
}

/// A stored scenario version.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScenarioVersion {
    pub name: String,
    pub version: String,
    pub source: String,
}

/// What [`Store::erase_conversation`] removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Erased {
    /// There was a conversation record (this contact's, or one that did not read).
    pub record: bool,
    /// History turns removed.
    pub turns: usize,
}

pub trait Store: Send + Sync + 'static {
    fn conversation(&self, id: &str) -> Result<Option<Conversation>, StoreError>;
    fn contact(&self, account: &str, id: &str) -> Result<Option<Contact>, StoreError>;
    /// The turns of a conversation with `seq <= upto`, in order.
    fn history(&self, conversation: &str, upto: u64) -> Result<Vec<Turn>, StoreError>;
    fn turn(&self, conversation: &str, seq: u64) -> Result<Option<Turn>, StoreError>;
    /// Where an id that left a record's window was applied (`Commit::seen`).
    fn seen_in(&self, conversation: &str, hash: u64) -> Result<Option<Seen>, StoreError>;
    /// Where a message id was applied, in the layout written before ids entered the index only
    /// when they left the window (every id, keyed by account and id).
    fn seen(&self, account: &str, message_id: &str) -> Result<Option<Seen>, StoreError>;
    /// Writes a step: side records, then the conversation record, then index clean-up.
    fn commit(&self, commit: &Commit) -> Result<(), StoreError>;
    /// Index entries due at or before `at`, oldest first, at most `limit`.
    fn due(&self, at: i64, limit: usize) -> Result<Vec<Due>, StoreError>;
    fn remove_due(&self, due: &Due) -> Result<(), StoreError>;
    /// Adds an index entry outside a step (re-arming at start; see `Engine::rearm`).
    fn put_due(&self, due: &Due) -> Result<(), StoreError>;
    fn put_scenario(&self, version: &ScenarioVersion) -> Result<(), StoreError>;
    fn scenario(&self, version: &str) -> Result<Option<ScenarioVersion>, StoreError>;
    /// Writes a contact record outside a conversation step (linking). While an engine runs on
    /// the store, go through `Engine::update_contact`, which takes the contact's turn.
    fn put_contact(&self, contact: &Contact) -> Result<(), StoreError>;
    fn quarantine(&self, conversation: &str, reason: &str) -> Result<(), StoreError>;
    fn quarantined(&self, conversation: &str) -> Result<Option<String>, StoreError>;
    /// Every stored conversation, read in one scan: its id and its record (an error for one
    /// that fails its checksum).
    fn conversations(&self) -> Result<Vec<Record>, StoreError>;
    /// Makes every write so far durable (fsync). A failure must not be retried.
    fn flush(&self) -> Result<(), StoreError>;
    /// The backend, for logical export and import.
    fn backend(&self) -> &dyn Backend;

    // backup and quarantine
    /// Every quarantined conversation with the reason recorded, in id order.
    fn quarantine_list(&self) -> Result<Vec<Quarantined>, StoreError>;
    /// What every tree holds for a conversation, raw, whether or not it decodes.
    fn inspect(&self, conversation: &str) -> Result<Inspection, StoreError>;
    /// Removes a conversation's due entries, history, record and quarantine mark, in that
    /// order. While an engine runs on the store, go through `Engine::drop_quarantined`.
    fn drop_conversation(&self, conversation: &str) -> Result<Dropped, StoreError>;
    // contacts' rights
    /// The ids of a contact's conversations, from the `contact_conversations` index. The
    /// commit of a conversation's first turn adds its entry (a side record, before the
    /// conversation record; later steps write nothing there);
    /// the first call on a store written before the index existed fills it from one scan of
    /// the records. An id may outlive its record (a crash mid-erase): read the record.
    fn contact_conversations(
        &self,
        account: &str,
        contact: &str,
    ) -> Result<Vec<String>, StoreError>;
    /// Erases one of a contact's conversations: its record first (the erasure's commit point:
    /// nothing reads the rest without it), then its due entries and history turns, its index
    /// entry last, so a rerun after a crash finds it again and finishes. A record of another
    /// contact under the same id (an id reused after an erase) is left alone. While an engine
    /// runs on the store, go through `Engine::erase_contact`, which takes the turns.
    fn erase_conversation(
        &self,
        account: &str,
        contact: &str,
        conversation: &str,
    ) -> Result<Erased, StoreError>;
    /// Removes a contact record; whether there was one.
    fn remove_contact(&self, account: &str, id: &str) -> Result<bool, StoreError>;

    // retention: what the sweeper (`crate::retention`) reads and removes, in small batches.
    /// Up to `limit` stored conversations whose ids come after `after` (from the first when
    /// `None`), in id order, each with its record (an error for one that fails its checksum).
    fn conversations_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError>;
    /// Removes a conversation, its history and the `seen` entries that point at it, in an
    /// order a crash cannot make unsafe (`retire.rs`); calling it again finishes the job. Call
    /// it in the conversation's turn (`Engine::retire`).
    fn remove_conversation(&self, id: &str) -> Result<Removed, StoreError>;
    /// One batch of the `seen` index, from the key `from` on: entries written at or before
    /// `written_by` are removed, entries with no time (format 2) are dated `now`.
    fn sweep_seen(
        &self,
        from: &[u8],
        limit: usize,
        written_by: i64,
        now: i64,
    ) -> Result<SeenBatch, StoreError>;
    /// The ids of every stored scenario version.
    fn scenario_versions(&self) -> Result<Vec<String>, StoreError>;
    fn remove_scenario(&self, version: &str) -> Result<(), StoreError>;

    // start-up (`Engine::rearm`): what it checks, found without reading every record.
    /// Whether every record's timer and effects are known to have their due entries (a store
    /// written by this version, or one whose records were checked once).
    fn due_index_complete(&self) -> Result<bool, StoreError>;
    /// Records (durably) that every record's due entries are in the index.
    fn mark_due_index_complete(&self) -> Result<(), StoreError>;
    /// The conversations the due index holds an effect entry for, each once, in id order:
    /// every conversation with a pending effect, and maybe a few whose effect is done (an
    /// entry left by a crash, dropped when it fires).
    fn conversations_with_effects(&self) -> Result<Vec<String>, StoreError>;
    /// [`Store::commit`], kept only while `held` (the step's locks) is still held: on a store
    /// shared between processes, a step whose lock was lost (its session ended, so another
    /// process may run the conversation now) commits nothing and gets an error.
    fn commit_held(&self, commit: &Commit, _held: &Held) -> Result<(), StoreError> {
        self.commit(commit)
    }
    /// The effect entries of the due index: every pending effect, whichever process queued
    /// it (and maybe a few a crash left, dropped when they fire).
    fn outbox_depth(&self) -> Result<usize, StoreError>;
}

#[cfg(test)]
mod tests;

/// A value as the store writes it, for tests outside this module that build old layouts.
#[cfg(test)]
pub(crate) fn encode_for_tests<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    envelope::encode(value)
}
