//! Logical backup: every record of every keyspace as one JSON line, decoded (so it reads and
//! survives a change of storage engine or on-disk format), between a header and a trailer
//! that carries the record count and a CRC32 of the lines. `import` checks the trailer
//! before writing anything, writes only into an empty store, and flushes at the end.

use std::io::{BufRead, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::backend::{Backend, TreeName};
use super::envelope::{decode, decode_turn, encode};
use super::{Due, ScenarioVersion, Seen, StoreError};
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

/// Writes every record of `backend` to `out`.
pub fn export(backend: &dyn Backend, out: &mut dyn Write) -> Result<ExportStats, ExportError> {
    let mut hasher = crc32fast::Hasher::new();
    let mut stats = ExportStats::default();
    writeln!(out, "{}", json!({ "format": FORMAT, "version": VERSION }))?;
    for tree in TreeName::ALL {
        for (key, bytes) in backend.scan_prefix(tree, &[])? {
            let value = to_json(tree, &bytes).map_err(|reason| StoreError::Corrupt {
                tree: tree.as_str(),
                key: String::from_utf8_lossy(&key).into_owned(),
                reason,
            })?;
            let line =
                json!({ "tree": tree.as_str(), "key": scenarist_base::hex::encode(&key), "value": value })
                    .to_string();
            hasher.update(line.as_bytes());
            writeln!(out, "{line}")?;
            stats.records += 1;
        }
    }
    writeln!(
        out,
        "{}",
        json!({ "records": stats.records, "crc32": hasher.finalize() })
    )?;
    out.flush()?;
    Ok(stats)
}

/// Restores a backup into an empty `backend`.
pub fn import(backend: &dyn Backend, input: &mut dyn BufRead) -> Result<ExportStats, ExportError> {
    if !backend.is_empty()? {
        return Err(ExportError::NotEmpty);
    }
    let lines: Vec<String> = input.lines().collect::<Result<_, _>>()?;
    let invalid = |line: usize, reason: &str| ExportError::Invalid {
        line,
        reason: reason.to_owned(),
    };
    let parse = |i: usize| -> Result<serde_json::Value, ExportError> {
        let line = lines
            .get(i)
            .ok_or_else(|| invalid(i + 1, "the backup ends early"))?;
        serde_json::from_str(line).map_err(|e| invalid(i + 1, &e.to_string()))
    };
    let header = parse(0)?;
    if header["format"] != FORMAT || header["version"] != VERSION {
        return Err(invalid(
            1,
            "not a scenarist export of a version this build reads",
        ));
    }
    let body = lines
        .get(1..lines.len().saturating_sub(1))
        .unwrap_or_default();
    let trailer = parse(lines.len().saturating_sub(1))?;
    let mut hasher = crc32fast::Hasher::new();
    for line in body {
        hasher.update(line.as_bytes());
    }
    if trailer["records"] != body.len() || trailer["crc32"] != hasher.finalize() {
        return Err(invalid(
            lines.len(),
            "the record count or checksum does not match: the backup is incomplete or altered",
        ));
    }
    for (i, line) in body.iter().enumerate() {
        let record: serde_json::Value =
            serde_json::from_str(line).map_err(|e| invalid(i + 2, &e.to_string()))?;
        let tree = record["tree"]
            .as_str()
            .and_then(TreeName::parse)
            .ok_or_else(|| invalid(i + 2, "unknown tree"))?;
        let key = record["key"]
            .as_str()
            .and_then(scenarist_base::hex::decode)
            .ok_or_else(|| invalid(i + 2, "the key is not hex"))?;
        let bytes = from_json(tree, &record["value"]).map_err(|e| invalid(i + 2, &e))?;
        backend.insert(tree, &key, &bytes)?;
    }
    backend.flush()?;
    Ok(ExportStats {
        records: body.len() as u64,
    })
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
        TreeName::Quarantine | TreeName::ContactConversations => as_json::<String>(bytes),
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
        TreeName::Quarantine | TreeName::ContactConversations => as_bytes::<String>(value),
    }
}
