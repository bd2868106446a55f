//! The ordered key-value interface a storage engine must offer to host a `KvStore`.

use super::StoreError;

/// The named keyspaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TreeName {
    Conversations,
    History,
    Contacts,
    Seen,
    Due,
    Scenarios,
    Quarantine,
    /// A contact's conversations: `(account, contact, conversation)` → the conversation id.
    ContactConversations,
}

impl TreeName {
    pub const ALL: [TreeName; 8] = [
        TreeName::Conversations,
        TreeName::History,
        TreeName::Contacts,
        TreeName::Seen,
        TreeName::Due,
        TreeName::Scenarios,
        TreeName::Quarantine,
        TreeName::ContactConversations,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TreeName::Conversations => "conversations",
            TreeName::History => "history",
            TreeName::Contacts => "contacts",
            TreeName::Seen => "seen",
            TreeName::Due => "due",
            TreeName::Scenarios => "scenarios",
            TreeName::Quarantine => "quarantine",
            TreeName::ContactConversations => "contact_conversations",
        }
    }

    pub fn parse(name: &str) -> Option<TreeName> {
        TreeName::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

pub(super) type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// One change of a batch that [`Backend::apply`] applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    Insert {
        tree: TreeName,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Remove {
        tree: TreeName,
        key: Vec<u8>,
    },
}

pub trait Backend: Send + Sync + 'static {
    fn get(&self, tree: TreeName, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    fn insert(&self, tree: TreeName, key: &[u8], value: &[u8]) -> Result<(), StoreError>;
    fn remove(&self, tree: TreeName, key: &[u8]) -> Result<(), StoreError>;
    /// Entries whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, tree: TreeName, prefix: &[u8]) -> Result<Pairs, StoreError>;
    /// Entries with keys below `end`, in key order, at most `limit`.
    fn scan_below(&self, tree: TreeName, end: &[u8], limit: usize) -> Result<Pairs, StoreError>;
    /// fsync: every write so far survives a crash once this returns `Ok`.
    fn flush(&self) -> Result<(), StoreError>;
    /// Whether the store holds nothing (import only goes into an empty store).
    fn is_empty(&self) -> Result<bool, StoreError>;
    /// Entries with keys at or after `start`, in key order, at most `limit`: a page of a
    /// scan that never holds a whole tree (export, quarantine, the retention sweeper). The
    /// default reads the whole tree for each page; real backends override it.
    fn scan_from(&self, tree: TreeName, start: &[u8], limit: usize) -> Result<Pairs, StoreError> {
        Ok(self
            .scan_prefix(tree, &[])?
            .into_iter()
            .filter(|(key, _)| key.as_slice() >= start)
            .take(limit)
            .collect())
    }
    /// Applies `writes` in order: a step's commit. The default applies them one at a time
    /// (sled, memory), where the commit's safety comes from its order — the conversation
    /// record is the last insert; a backend with transactions applies them all or none.
    fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        for write in writes {
            match write {
                Write::Insert { tree, key, value } => self.insert(tree, &key, &value)?,
                Write::Remove { tree, key } => self.remove(tree, &key)?,
            }
        }
        Ok(())
    }
    /// Whether other processes may use the same store at once (PostgreSQL): then
    /// [`Backend::hold`] takes locks they see too.
    fn shared(&self) -> bool {
        false
    }
    /// Takes the lock `name`, waiting (blocking) while another holder has it; released when
    /// the guard drops, or when its process dies. Only for a [`Backend::shared`] backend; the
    /// default holds nothing.
    fn hold(&self, _name: &str) -> Result<Held, StoreError> {
        Ok(Held::none())
    }
    /// Whether a database server answers now (`/readyz`), quickly: a server's backend checks
    /// with a round trip (at most once a second, waiting briefly); an embedded one has
    /// nothing to check.
    fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Replaces the value of `key` by `new` (or removes it, `None`) only if it is still
    /// `expected`; whether it did. A sweep that read a value and judged it changes it only if
    /// no step wrote it meanwhile. The default reads then writes: atomic only for a backend
    /// whose writers all run in this process under one lock (memory); sled and PostgreSQL
    /// do it in one atomic operation.
    fn swap_if(
        &self,
        tree: TreeName,
        key: &[u8],
        expected: &[u8],
        new: Option<&[u8]>,
    ) -> Result<bool, StoreError> {
        if self.get(tree, key)?.as_deref() != Some(expected) {
            return Ok(false);
        }
        match new {
            Some(value) => self.insert(tree, key, value)?,
            None => self.remove(tree, key)?,
        }
        Ok(true)
    }
    /// Tries to take the claim `name` without waiting: `Ok(None)` while another process holds
    /// it. Released when the guard drops, or when its process dies (so another process takes
    /// over what it was doing). Only for a [`Backend::shared`] backend; the default claims
    /// nothing and always succeeds.
    fn claim(&self, _name: &str) -> Result<Option<Claim>, StoreError> {
        Ok(Some(Claim::none()))
    }
    /// [`Backend::apply`], fenced by the locks `held` holds: on a [`Backend::shared`] backend,
    /// the writes are kept only if each of those locks is still held when they commit (a lock
    /// whose session ended may be another process's now), else nothing is written and the
    /// answer is an error. The default applies them.
    fn apply_held(&self, writes: Vec<Write>, _held: &Held) -> Result<(), StoreError> {
        self.apply(writes)
    }
}

/// A claim every process on the store sees, held until dropped: the guard of
/// [`Backend::claim`]. For one process alone on its store it holds nothing.
pub struct Claim(Option<Box<dyn Send>>);

impl Claim {
    /// A guard that holds nothing.
    pub fn none() -> Self {
        Claim(None)
    }

    /// A guard that lets its claim go when `release` drops.
    pub fn new(release: Box<dyn Send>) -> Self {
        Claim(Some(release))
    }

    /// Whether it holds a claim (one taken through [`Backend::claim`]).
    pub fn is_holding(&self) -> bool {
        self.0.is_some()
    }
}

/// A lock every process on the store sees, held until dropped: the guard of
/// [`Backend::hold`]. For one process alone on its store (sled, memory) it holds nothing:
/// the engine's own locks already order that process's steps.
pub struct Held(Option<Box<dyn HeldLock>>);

/// What a backend shared between processes holds for a [`Held`].
pub trait HeldLock: Send {
    /// Takes the lock `name` too (waiting for it), held as long as the first.
    fn also(&mut self, name: &str) -> Result<(), StoreError>;
    /// The lock as its backend's own type (what [`Backend::apply_held`] checks).
    fn as_any(&self) -> &dyn std::any::Any;
}

impl Held {
    /// A guard that holds nothing.
    pub fn none() -> Self {
        Held(None)
    }

    pub fn new(lock: Box<dyn HeldLock>) -> Self {
        Held(Some(lock))
    }

    /// Whether it holds a lock (one taken through [`Backend::hold`]).
    pub fn is_holding(&self) -> bool {
        self.0.is_some()
    }

    /// What it holds, for the backend that took it.
    pub fn lock(&self) -> Option<&dyn HeldLock> {
        self.0.as_deref()
    }

    /// Takes the lock `name` too, waiting for it; released with the first.
    pub fn also(&mut self, name: &str) -> Result<(), StoreError> {
        match &mut self.0 {
            Some(lock) => lock.also(name),
            None => Ok(()),
        }
    }

    /// This guard holding `name` too (waiting for it): taken with the locks it holds, or as
    /// `backend`'s first when it holds none. Nothing on a backend no other process shares.
    pub fn with(mut self, backend: &dyn Backend, name: &str) -> Result<Held, StoreError> {
        if !backend.shared() {
            return Ok(self);
        }
        if self.is_holding() {
            self.also(name)?;
            Ok(self)
        } else {
            backend.hold(name)
        }
    }
}
