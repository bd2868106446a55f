//! Looking into and removing quarantined conversations (`scenarist store quarantine`, the
//! `/v1/admin/quarantine` routes): what each tree holds for one, raw, whether or not it
//! decodes — so an operator sees a damaged record without a hex editor, and drops it.

use serde::Serialize;

use super::backend::{Backend, TreeName};
use super::envelope::{decode, decode_turn};
use super::{Due, StoreError, keys, pages};
use crate::state::Conversation;

/// A quarantined conversation and why it was set aside.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Quarantined {
    pub conversation: String,
    pub reason: String,
}

/// What the store holds for one conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Inspection {
    pub conversation: String,
    /// Why it was set aside; `None`: it is not quarantined.
    pub reason: Option<String>,
    /// Its record (`conversations` tree), raw; `None`: there is none.
    pub record: Option<Stored>,
    /// Every turn stored in `history` for it, committed or not.
    pub history: Vec<Stored>,
    /// Its entries in the `due` index (timers and outbox effects).
    pub due: Vec<Stored>,
}

/// One stored value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stored {
    pub tree: &'static str,
    /// The key, hex.
    pub key: String,
    pub bytes: usize,
    /// Why the value does not read; `None`: it passes its checksum and decodes.
    pub problem: Option<String>,
    /// The value, hex; given for the record and for every value that does not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hex: Option<String>,
    /// The same bytes as text, losslessly: printable ASCII as it is, `\\` for a backslash,
    /// `\xNN` (or `\n`, `\t`, …) for any other byte.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Stored {
    fn new(tree: TreeName, key: &[u8], bytes: &[u8], problem: Option<String>, raw: bool) -> Self {
        let raw = raw || problem.is_some();
        Self {
            tree: tree.as_str(),
            key: scenarist_base::hex::encode(key),
            bytes: bytes.len(),
            problem,
            hex: raw.then(|| scenarist_base::hex::encode(bytes)),
            text: raw.then(|| bytes.escape_ascii().to_string()),
        }
    }
}

/// What dropping a conversation removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Dropped {
    pub conversation: String,
    /// Its record was removed (there was one).
    pub record: bool,
    pub turns: usize,
    pub due: usize,
    /// Its quarantine mark was removed (there was one).
    pub quarantine: bool,
}

pub(super) fn list(backend: &dyn Backend) -> Result<Vec<Quarantined>, StoreError> {
    let mut found = Vec::new();
    pages::each(backend, TreeName::Quarantine, &[], |key, bytes| {
        found.push(Quarantined {
            conversation: String::from_utf8_lossy(&key).into_owned(),
            reason: reason(&bytes),
        });
        Ok::<_, StoreError>(())
    })?;
    Ok(found)
}

fn reason(bytes: &[u8]) -> String {
    decode::<String>(bytes).unwrap_or_else(|e| format!("(the recorded reason does not read: {e})"))
}

pub(super) fn inspect(backend: &dyn Backend, id: &str) -> Result<Inspection, StoreError> {
    let key = keys::conversation(id);
    let reason = backend
        .get(TreeName::Quarantine, &key)?
        .map(|bytes| reason(&bytes));
    let record = backend.get(TreeName::Conversations, &key)?.map(|bytes| {
        let problem = decode::<Conversation>(&bytes).err();
        Stored::new(TreeName::Conversations, &key, &bytes, problem, true)
    });
    let mut history = Vec::new();
    pages::each(
        backend,
        TreeName::History,
        &keys::history_prefix(id),
        |key, bytes| {
            let problem = decode_turn(&bytes).err();
            history.push(Stored::new(TreeName::History, &key, &bytes, problem, false));
            Ok::<_, StoreError>(())
        },
    )?;
    let mut due = Vec::new();
    each_due(backend, id, |key, bytes| {
        let problem = decode::<Due>(bytes).err();
        due.push(Stored::new(TreeName::Due, key, bytes, problem, false));
    })?;
    Ok(Inspection {
        conversation: id.to_owned(),
        reason,
        record,
        history,
        due,
    })
}

/// The due index is ordered by time, so a conversation's entries take a scan of all of it
/// (a page at a time); each key names its conversation, even when its value is damaged.
fn each_due(
    backend: &dyn Backend,
    id: &str,
    mut each: impl FnMut(&[u8], &[u8]),
) -> Result<(), StoreError> {
    pages::each(backend, TreeName::Due, &[], |key, bytes| {
        if keys::due_conversation(&key) == Some(id.as_bytes()) {
            each(&key, &bytes);
        }
        Ok::<_, StoreError>(())
    })
}

/// Removes what the store holds for `id`, record last but one and the quarantine mark last:
/// a crash part way leaves the conversation still marked, and dropping it again finishes.
pub(super) fn drop(backend: &dyn Backend, id: &str) -> Result<Dropped, StoreError> {
    let key = keys::conversation(id);
    let mut dropped = Dropped {
        conversation: id.to_owned(),
        ..Dropped::default()
    };
    let mut due = Vec::new();
    each_due(backend, id, |key, _| due.push(key.to_vec()))?;
    for key in &due {
        backend.remove(TreeName::Due, key)?;
    }
    dropped.due = due.len();
    dropped.turns = super::kv::remove_history(backend, id)?;
    dropped.record = backend.get(TreeName::Conversations, &key)?.is_some();
    backend.remove(TreeName::Conversations, &key)?;
    dropped.quarantine = backend.get(TreeName::Quarantine, &key)?.is_some();
    backend.remove(TreeName::Quarantine, &key)?;
    Ok(dropped)
}
