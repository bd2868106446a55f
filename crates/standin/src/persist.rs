//! The stand-in's optional state file ([`StandInConfig::state_file`]): what makes the demo
//! sandbox durable like the conversation store beside it, so a restarted demo still finds the
//! ticket it comments on.
//!
//! Kept: users, tickets with their comments (every field), ticket fields, the id counters, the agent's id,
//! idempotency entries (a retry after a restart still replays within the 2 h retention) and the
//! issued OAuth access tokens, with the refresh tokens that rotate them. Not kept: queued
//! faults, the request log, the rate-limit window, OAuth codes (single-use, 120 s) and the
//! clock offset tests set — those are per run.
//!
//! The file is JSON, `{"version": 1, …}` (see `snapshot`, whose structs are private, so the
//! public record types keep their shapes), followed by its journal, `<file>.journal`: one
//! line per later change (`journal`). [`open`] loads the file and replays the journal (or
//! starts fresh when there is no file), then compacts them — writes the whole state to the
//! file and removes the journal — so an unwritable place fails at start rather than on the
//! first change. After every routed request the server calls [`save`], which appends what
//! changed to the journal, before the response goes out: a client that saw a success finds
//! the change after a restart. Once the journal has [`COMPACT_AFTER_LINES`] lines, or is as
//! large as the state file (at least [`COMPACT_AFTER_BYTES`]), the next change compacts
//! instead, so a long demo or load run costs an append per change and keeps the files
//! bounded: at most about twice the state plus 64 KiB.
//!
//! Invariants: the file holds bearer tokens, so it is written like a secret
//! (`private_file::write`): owner-only (0600, a missing folder 0700), replaced atomically (a
//! temp file created exclusively in the same folder, fsync, rename, fsync of the folder), so a
//! reader sees the old file or the new one, never a mix, and a symlink or leftover file beside
//! it is never written through. Snapshots are numbered under the
//! state lock, so their numbers follow the order of the states they show, and the writer
//! (serialised by its own mutex) skips a snapshot older than the one it last wrote: two
//! requests racing cannot leave the older state on disk last.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::Deserialize;
use serde_json::Value;

use super::StandInConfig;
use super::journal::{self, Journal};
use super::snapshot::{Snapshot, VERSION};
use super::state::{Shared, State};

/// Why a state file cannot be used. `StandIn::start` returns it inside a `std::io::Error` (kind
/// `InvalidData` for [`StateFileError::Invalid`], the underlying kind otherwise), from which
/// `get_ref()` and `downcast_ref` recover it.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    /// The file exists but cannot be read: e.g. the path is a folder, or permission is denied.
    #[error("cannot read the stand-in state file {}: {error}", path.display())]
    Read { path: PathBuf, error: io::Error },
    /// The file is not a version-1 state file: e.g. `{"version": 2}`, truncated JSON, or a
    /// `next_ticket_id` that is not above every ticket id.
    #[error("the stand-in state file {} is not valid: {reason}", path.display())]
    Invalid { path: PathBuf, reason: String },
    /// The file cannot be written: e.g. its folder is read-only.
    #[error("cannot write the stand-in state file {}: {error}", path.display())]
    Write { path: PathBuf, error: io::Error },
}

impl From<StateFileError> for io::Error {
    fn from(error: StateFileError) -> Self {
        let kind = match &error {
            StateFileError::Read { error, .. } | StateFileError::Write { error, .. } => {
                error.kind()
            }
            StateFileError::Invalid { .. } => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, error)
    }
}

/// Just the version of a file, read before the rest.
#[derive(Deserialize)]
struct Probe {
    version: Option<Value>,
}

/// Writes the state file; one per stand-in with a `state_file`.
pub(crate) struct Persister {
    path: PathBuf,
    /// The number of the last snapshot taken.
    taken: AtomicU64,
    /// What the file holds now; locked for the whole write, so writes happen one at a time.
    written: Mutex<Written>,
}

/// Journal lines after which the next change compacts.
pub(crate) const COMPACT_AFTER_LINES: usize = 1024;
/// Journal bytes below which the journal is never compacted for its size.
pub(crate) const COMPACT_AFTER_BYTES: u64 = 64 * 1024;

#[derive(Default)]
struct Written {
    generation: u64,
    snapshot: Option<Snapshot>,
    /// The JSON of what is on disk (state file and journal together); `None` until the
    /// first compaction, and after a failed append (the next change compacts).
    value: Option<Value>,
    journal: Option<Journal>,
    /// The size of the state file at the last compaction.
    state_bytes: u64,
}

/// A snapshot and its number.
pub(crate) struct Taken {
    generation: u64,
    snapshot: Snapshot,
}

impl Persister {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            taken: AtomicU64::new(0),
            written: Mutex::new(Written::default()),
        }
    }

    /// Snapshots what is kept of `data`. Call it with the state lock held: the numbers then
    /// follow the order of the states.
    pub(crate) fn take(&self, data: &State, base_url: &str) -> Taken {
        Taken {
            generation: self.taken.fetch_add(1, Ordering::SeqCst) + 1,
            snapshot: Snapshot::of(data, base_url),
        }
    }

    /// Writes the snapshot unless the file already holds a later one or the same data. Blocks
    /// (file I/O and fsync). After a failed write the file keeps its older content and the
    /// next call tries again.
    pub(crate) fn write(&self, taken: Taken) -> Result<(), StateFileError> {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        if taken.generation <= written.generation {
            return Ok(());
        }
        if written.snapshot.as_ref() != Some(&taken.snapshot) {
            let write_error = |error| StateFileError::Write {
                path: self.path.clone(),
                error,
            };
            let value = serde_json::to_value(&taken.snapshot).map_err(|e| write_error(e.into()))?;
            let due = written.journal.as_ref().is_some_and(|j| {
                j.lines >= COMPACT_AFTER_LINES
                    || j.bytes >= written.state_bytes.max(COMPACT_AFTER_BYTES)
            });
            match written.value.as_ref() {
                Some(before) if !due => {
                    if let Some(change) = journal::delta(before, &value) {
                        if let Err(error) = self.append(&mut written, &change) {
                            // A half-written line must not be followed by others: the next
                            // change rewrites the state file and starts a new journal.
                            written.journal = None;
                            written.value = None;
                            return Err(write_error(error));
                        }
                    }
                }
                _ => self
                    .compact(&mut written, &taken.snapshot)
                    .map_err(write_error)?,
            }
            written.snapshot = Some(taken.snapshot);
            written.value = Some(value);
        }
        written.generation = taken.generation;
        Ok(())
    }

    fn append(&self, written: &mut Written, change: &Value) -> io::Result<()> {
        let journal = match &mut written.journal {
            Some(journal) => journal,
            none => none.insert(Journal::create(&journal::path_of(&self.path))?),
        };
        journal.append(change)
    }

    /// Writes the whole state to the file, then removes the journal (replaying it over the
    /// new file would change nothing, so a crash in between is harmless).
    fn compact(&self, written: &mut Written, snapshot: &Snapshot) -> io::Result<()> {
        let mut bytes = serde_json::to_vec_pretty(snapshot).map_err(io::Error::from)?;
        bytes.push(b'\n');
        scenarist_base::private_file::write(&self.path, &bytes)?;
        written.state_bytes = bytes.len() as u64;
        written.journal = None;
        match fs::remove_file(journal::path_of(&self.path)) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }
}

/// The shared data for a new stand-in at `base_url`: loaded from the state file when the
/// configuration names one that exists (and written back at once), fresh otherwise.
pub(crate) async fn open(config: StandInConfig, base_url: String) -> io::Result<Shared> {
    let Some(path) = config.state_file.clone() else {
        let mut state = State::new(&config);
        state.define_ticket_fields(&config.ticket_fields);
        return Ok(Shared::new(config, base_url, state, None));
    };
    // Reading, parsing and the first write block: keep them off the async workers.
    let opened = tokio::task::spawn_blocking(move || {
        let mut state = match load(&path, &base_url)? {
            Some(state) => state,
            None => State::new(&config),
        };
        state.define_ticket_fields(&config.ticket_fields);
        // The first write creates a missing folder (0700).
        let persister = Persister::new(path);
        persister.write(persister.take(&state, &base_url))?;
        Ok::<_, StateFileError>(Shared::new(
            config,
            base_url,
            state,
            Some(Arc::new(persister)),
        ))
    })
    .await
    .map_err(io::Error::other)?;
    Ok(opened?)
}

/// Writes the state file if the kept data changed since the last write. A failure is logged,
/// not returned: the change stays in memory, the request it came from has succeeded, and the
/// next change tries the write again.
pub(crate) async fn save(shared: &Shared) {
    let Some(persister) = &shared.persister else {
        return;
    };
    let taken = persister.take(&shared.lock(), &shared.base_url);
    let persister = Arc::clone(persister);
    match tokio::task::spawn_blocking(move || persister.write(taken)).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::error!(%error, "zendesk stand-in: the change is kept in memory only");
        }
        Err(error) => tracing::error!(%error, "zendesk stand-in: writing the state file failed"),
    }
}

/// Writes the whole state to the file and removes the journal now (blocking: a small file),
/// so a stopped stand-in leaves one complete file. A failure is logged: the journal is still
/// there and is replayed at the next start.
pub(crate) fn compact_now(shared: &Shared) {
    let Some(persister) = &shared.persister else {
        return;
    };
    let taken = persister.take(&shared.lock(), &shared.base_url);
    let mut written = persister
        .written
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if taken.generation <= written.generation && written.journal.is_none() {
        return;
    }
    match persister.compact(&mut written, &taken.snapshot) {
        Ok(()) => {
            written.value = serde_json::to_value(&taken.snapshot).ok();
            written.snapshot = Some(taken.snapshot);
            written.generation = written.generation.max(taken.generation);
        }
        Err(error) => {
            tracing::error!(%error, "zendesk stand-in: cannot compact the state file; its journal is kept");
        }
    }
}

/// The state in the file at `path` with its journal replayed; `None` when there is no file.
fn load(path: &Path, base_url: &str) -> Result<Option<State>, StateFileError> {
    let Some(value) = load_json(path)? else {
        return Ok(None);
    };
    let invalid = |reason: String| StateFileError::Invalid {
        path: path.to_owned(),
        reason,
    };
    let snapshot: Snapshot = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
    snapshot.restore(base_url).map(Some).map_err(invalid)
}

/// The JSON of the state file at `path` with its journal replayed; `None` when there is no
/// file.
pub(crate) fn load_json(path: &Path) -> Result<Option<Value>, StateFileError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(StateFileError::Read {
                path: path.to_owned(),
                error,
            });
        }
    };
    let invalid = |reason: String| StateFileError::Invalid {
        path: path.to_owned(),
        reason,
    };
    // The version first, so a file from a later format says so instead of "missing field".
    let probe: Probe = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    match probe.version {
        Some(Value::Number(n)) if n.as_u64() == Some(VERSION) => {}
        Some(other) => {
            return Err(invalid(format!(
                "it is version {other}; this build reads version {VERSION}"
            )));
        }
        None => {
            return Err(invalid(
                "it has no \"version\" (is it a stand-in state file?)".to_owned(),
            ));
        }
    }
    let mut value: Value = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    let journal_path = journal::path_of(path);
    let (changes, torn) = journal::read(&journal_path).map_err(&invalid)?;
    if torn {
        tracing::warn!(journal = %journal_path.display(),
            "zendesk stand-in: the journal's last line was cut short (a crash while it was written); that change was never answered and is ignored");
    }
    for change in &changes {
        journal::apply(&mut value, change).map_err(&invalid)?;
    }
    Ok(Some(value))
}
