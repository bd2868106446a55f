//! Logical backup: every record of every keyspace as one JSON line, decoded (so it reads and
//! survives a change of storage engine or on-disk format), between a header and a trailer
//! that carries the record count and a CRC32 of the lines. A value that fails its checksum is
//! carried raw (hex) instead of decoded. Both stream: `import` writes only
//! into an empty store, checks the trailer at the end (and empties the store again if it does
//! not match), and flushes.

use std::io::{BufRead, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::backend::{Backend, TreeName};
use super::envelope::{decode, decode_turn, encode};
use super::{Due, ScenarioVersion, Seen, StoreError, keys, pages};
use crate::state::{Contact, Conversation, Turn};

const FORMAT: &str = "scenarist-export";
const VERSION: u32 = 1;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ExportStats {
    pub records: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write or read the backup: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line} of the backup: {reason}")]
    Invalid { line: usize, reason: String },
    #[error("the target store is not empty; import only restores into a fresh data directory")]
    NotEmpty,
}

/// Writes every record of `backend` to `out`, a page at a time, while the store may be in use
/// (`POST /v1/admin/export`): every conversation at one of its commit points.
///
/// Why the order makes it consistent (the commit protocol, `store/mod.rs`): a conversation's
/// record is read first and its history after it, up to the record's `last_seq` — every turn
/// up to there was written before the record, and later steps only write later turns. The
/// shared side records (contacts, `seen`, due entries) and scenario versions are read after
/// every conversation, so each is at least as new as the steps the exported records
/// committed; one that is newer is what a crash between a step's side records and its
/// record leaves, which the engine already accepts. A due entry a later step removed is
/// rebuilt by the re-arming at start.
///
/// A value that fails its checksum is carried as its raw bytes (`raw`, hex), so the restored
/// store holds it as it was and sets its conversation aside again.
pub fn export(backend: &dyn Backend, out: &mut dyn Write) -> Result<ExportStats, ExportError> {
    let mut lines = Lines {
        out,
        hasher: crc32fast::Hasher::new(),
        stats: ExportStats::default(),
    };
    writeln!(
        lines.out,
        "{}",
        json!({ "format": FORMAT, "version": VERSION })
    )?;
    pages::each(backend, TreeName::Conversations, &[], |key, bytes| {
        // A record that does not decode keeps every turn: there is no `last_seq` to trust.
        let upto = decode::<Conversation>(&bytes).ok().map(|c| c.last_seq);
        lines.record(TreeName::Conversations, &key, &bytes)?;
        let id = String::from_utf8_lossy(&key);
        pages::each(
            backend,
            TreeName::History,
            &keys::history_prefix(&id),
            |key, bytes| {
                // Turns past the record's last sequence number were never committed.
                let committed = match (decode_turn(&bytes), upto) {
                    (Ok(turn), Some(upto)) => turn.seq <= upto,
                    _ => true,
                };
                if committed {
                    lines.record(TreeName::History, &key, &bytes)?;
                }
                Ok::<_, ExportError>(())
            },
        )
    })?;
    for tree in TreeName::ALL {
        if matches!(tree, TreeName::Conversations | TreeName::History) {
            continue;
        }
        pages::each(backend, tree, &[], |key, bytes| {
            lines.record(tree, &key, &bytes)
        })?;
    }
    let Lines {
        out, hasher, stats, ..
    } = lines;
    writeln!(
        out,
        "{}",
        json!({ "records": stats.records, "crc32": hasher.finalize() })
    )?;
    out.flush()?;
    Ok(stats)
}

/// The body of a backup as it is written: the lines, their count and their checksum.
struct Lines<'a> {
    out: &'a mut dyn Write,
    hasher: crc32fast::Hasher,
    stats: ExportStats,
}

impl Lines<'_> {
    fn record(&mut self, tree: TreeName, key: &[u8], bytes: &[u8]) -> Result<(), ExportError> {
        let key = scenarist_base::hex::encode(key);
        let line = match to_json(tree, bytes) {
            Ok(value) => json!({ "tree": tree.as_str(), "key": key, "value": value }),
            Err(_) => {
                json!({ "tree": tree.as_str(), "key": key, "raw": scenarist_base::hex::encode(bytes) })
            }
        }
        .to_string();
        self.hasher.update(line.as_bytes());
        writeln!(self.out, "{line}")?;
        self.stats.records += 1;
        Ok(())
    }
}

/// Restores a backup into an empty `backend`, a line at a time (a backup of any size, never
/// held in memory). The trailer's count and checksum are checked at the end: a backup that does
/// not check out (altered, cut short, a bad line) leaves the store empty again.
pub fn import(backend: &dyn Backend, input: &mut dyn BufRead) -> Result<ExportStats, ExportError> {
    if !backend.is_empty()? {
        return Err(ExportError::NotEmpty);
    }
    match write_lines(backend, input) {
        Ok(stats) => {
            backend.flush()?;
            Ok(stats)
        }
        Err(error) => {
            // The store was empty: nothing of a refused backup stays.
            for tree in TreeName::ALL {
                pages::each(backend, tree, &[], |key, _| backend.remove(tree, &key))?;
            }
            backend.flush()?;
            Err(error)
        }
    }
}

fn invalid(line: usize, reason: &str) -> ExportError {
    ExportError::Invalid {
        line,
        reason: reason.to_owned(),
    }
}

fn parse(number: usize, line: &str) -> Result<serde_json::Value, ExportError> {
    serde_json::from_str(line).map_err(|e| invalid(number, &e.to_string()))
}

/// Writes every record line; the last line is the trailer, known as such only at the end.
fn write_lines(backend: &dyn Backend, input: &mut dyn BufRead) -> Result<ExportStats, ExportError> {
    let mut lines = input.lines();
    let header = lines
        .next()
        .ok_or_else(|| invalid(1, "the backup is empty"))??;
    let header = parse(1, &header)?;
    if header["format"] != FORMAT || header["version"] != VERSION {
        return Err(invalid(
            1,
            "not a scenarist export of a version this build reads",
        ));
    }
    let mut hasher = crc32fast::Hasher::new();
    let mut records = 0u64;
    // The line read last, with its number: a record once another line follows it.
    let mut last: Option<(usize, String)> = None;
    for (i, line) in lines.enumerate() {
        if let Some((number, record)) = last.replace((i + 2, line?)) {
            hasher.update(record.as_bytes());
            records += 1;
            insert_line(backend, number, &record)?;
        }
    }
    let Some((number, trailer)) = last else {
        return Err(invalid(2, "the backup ends early"));
    };
    let trailer = parse(number, &trailer)?;
    if trailer["records"] != records || trailer["crc32"] != hasher.finalize() {
        return Err(invalid(
            number,
            "the record count or checksum does not match: the backup is incomplete or altered",
        ));
    }
    Ok(ExportStats { records })
}

fn insert_line(backend: &dyn Backend, number: usize, line: &str) -> Result<(), ExportError> {
    let record = parse(number, line)?;
    let tree = record["tree"]
        .as_str()
        .and_then(TreeName::parse)
        .ok_or_else(|| invalid(number, "unknown tree"))?;
    let key = record["key"]
        .as_str()
        .and_then(scenarist_base::hex::decode)
        .ok_or_else(|| invalid(number, "the key is not hex"))?;
    let bytes = match record["raw"].as_str() {
        // A value that failed its checksum when exported, restored byte for byte.
        Some(raw) => scenarist_base::hex::decode(raw)
            .ok_or_else(|| invalid(number, "the raw value is not hex"))?,
        None => from_json(tree, &record["value"]).map_err(|e| invalid(number, &e))?,
    };
    backend.insert(tree, &key, &bytes)?;
    Ok(())
}

fn to_json(tree: TreeName, bytes: &[u8]) -> Result<serde_json::Value, String> {
    fn as_json<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<serde_json::Value, String> {
        serde_json::to_value(decode::<T>(bytes)?).map_err(|e| e.to_string())
    }
    match tree {
        TreeName::Conversations => as_json::<Conversation>(bytes),
        TreeName::History => decode_turn(bytes)
            .and_then(|turn| serde_json::to_value(turn).map_err(|e| e.to_string())),
        TreeName::Contacts => as_json::<Contact>(bytes),
        TreeName::Seen => as_json::<Seen>(bytes),
        TreeName::Due => as_json::<Due>(bytes),
        TreeName::Scenarios => as_json::<ScenarioVersion>(bytes),
        TreeName::Quarantine => as_json::<String>(bytes),
    }
}

fn from_json(tree: TreeName, value: &serde_json::Value) -> Result<Vec<u8>, String> {
    fn as_bytes<T: DeserializeOwned + Serialize>(
        value: &serde_json::Value,
    ) -> Result<Vec<u8>, String> {
        let typed: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        encode(&typed).map_err(|e| e.to_string())
    }
    match tree {
        TreeName::Conversations => as_bytes::<Conversation>(value),
        TreeName::History => as_bytes::<Turn>(value),
        TreeName::Contacts => as_bytes::<Contact>(value),
        TreeName::Seen => as_bytes::<Seen>(value),
        TreeName::Due => as_bytes::<Due>(value),
        TreeName::Scenarios => as_bytes::<ScenarioVersion>(value),
        TreeName::Quarantine => as_bytes::<String>(value),
    }
}
