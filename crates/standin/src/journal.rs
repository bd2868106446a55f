//! The state file's journal, `<state file>.journal`: one JSON line per request that changed
//! the kept data, holding only what changed, so a request costs an append instead of a
//! rewrite of the whole state (`persist` compacts it into the state file now and then).
//!
//! A line is a delta between two snapshots' JSON: for a list of records with an `id`
//! (`users`, `tickets`, `ticket_fields`) and for a map (`idempotency`, the tokens), the
//! entries set — whole — and the ones removed; any other field, its new value:
//!
//! ```text
//! {"next_id":{"value":1007},"tickets":{"set":[{"id":4001,…}],"remove":[]}}
//! ```
//!
//! Applying a delta sets values, so replaying lines the state file already contains (a crash
//! between writing a compacted state file and removing the journal) changes nothing.
//!
//! Invariants: the journal is created exclusively (`O_EXCL`: never through a symlink or into
//! a leftover file) with mode 0600 — it holds bearer tokens like the state file — and then
//! appended through the handle that created it. At load, a last line that is cut short (a
//! crash in the middle of an append) is dropped with a warning: its request never got an
//! answer. A broken line before the last is an error: the journal is damaged.

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// `<state file>.journal`.
pub(crate) fn path_of(state_file: &Path) -> PathBuf {
    let mut name = state_file.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// What changed from `old` to `new` (two snapshots' JSON objects); `None` when nothing did.
pub(crate) fn delta(old: &Value, new: &Value) -> Option<Value> {
    let (Value::Object(old), Value::Object(new)) = (old, new) else {
        return Some(json!({ "replace": new }));
    };
    let mut changes = Map::new();
    for (key, after) in new {
        let before = old.get(key).unwrap_or(&Value::Null);
        if before == after {
            continue;
        }
        let change = match (before, after) {
            (Value::Array(before), Value::Array(after)) if all_have_ids(before, after) => {
                let set: Vec<&Value> = after
                    .iter()
                    .filter(|entry| !before.contains(entry))
                    .collect();
                let remove: Vec<&Value> = before
                    .iter()
                    .filter_map(|entry| entry.get("id"))
                    .filter(|id| !after.iter().any(|e| e.get("id") == Some(id)))
                    .collect();
                json!({ "set": set, "remove": remove })
            }
            (Value::Object(before), Value::Object(after)) => {
                let set: Map<String, Value> = after
                    .iter()
                    .filter(|(k, v)| before.get(*k) != Some(v))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let remove: Vec<&String> =
                    before.keys().filter(|k| !after.contains_key(*k)).collect();
                json!({ "set": set, "remove": remove })
            }
            _ => json!({ "value": after }),
        };
        changes.insert(key.clone(), change);
    }
    (!changes.is_empty()).then_some(Value::Object(changes))
}

fn all_have_ids(before: &[Value], after: &[Value]) -> bool {
    before
        .iter()
        .chain(after)
        .all(|entry| entry.get("id").is_some_and(Value::is_u64))
}

/// Applies one delta to `state` (a snapshot's JSON object).
pub(crate) fn apply(state: &mut Value, delta: &Value) -> Result<(), String> {
    if let Some(whole) = delta.get("replace") {
        *state = whole.clone();
        return Ok(());
    }
    let (Value::Object(state), Value::Object(changes)) = (state, delta) else {
        return Err("a journal line is not a JSON object".to_owned());
    };
    for (key, change) in changes {
        if let Some(value) = change.get("value") {
            state.insert(key.clone(), value.clone());
            continue;
        }
        let set = change.get("set").unwrap_or(&Value::Null);
        let remove = change
            .get("remove")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let slot = state.entry(key.clone()).or_insert(Value::Null);
        match (slot, set) {
            (Value::Array(entries), Value::Array(set)) => {
                entries.retain(|e| !remove.iter().any(|id| e.get("id") == Some(id)));
                for entry in set {
                    match entries.iter_mut().find(|e| e.get("id") == entry.get("id")) {
                        Some(existing) => *existing = entry.clone(),
                        None => entries.push(entry.clone()),
                    }
                }
                // Lists follow id order, as `Snapshot::of` writes them.
                entries.sort_by_key(|e| e.get("id").and_then(Value::as_u64));
            }
            (Value::Object(entries), Value::Object(set)) => {
                for key in remove.iter().filter_map(Value::as_str) {
                    entries.remove(key);
                }
                for (k, v) in set {
                    entries.insert(k.clone(), v.clone());
                }
            }
            (slot @ Value::Null, set) => *slot = set.clone(),
            _ => {
                return Err(format!(
                    "the journal changes `{key}` in a way its state cannot take"
                ));
            }
        }
    }
    Ok(())
}

/// The deltas in the journal at `path`, oldest first (none when there is no journal), and
/// whether a torn last line was dropped.
pub(crate) fn read(path: &Path) -> Result<(Vec<Value>, bool), String> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), false)),
        Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
    };
    let complete = bytes.ends_with(b"\n");
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .collect();
    let mut deltas = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let last = index + 1 == lines.len();
        // A line is written with its newline in one append: without it, the append was cut
        // short by a crash, and that request was never answered.
        if last && !complete {
            return Ok((deltas, true));
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(delta) => deltas.push(delta),
            Err(_) if last => return Ok((deltas, true)),
            Err(error) => {
                return Err(format!(
                    "line {} of {} is not JSON ({error}); move the journal away to start from the state file alone",
                    index + 1,
                    path.display()
                ));
            }
        }
    }
    Ok((deltas, false))
}

/// A journal created exclusively, owner-only, and appended through its own handle.
pub(crate) struct Journal {
    file: File,
    pub(crate) lines: usize,
    pub(crate) bytes: u64,
}

impl Journal {
    /// Creates the journal at `path`; there must be none (the last compaction removed it).
    pub(crate) fn create(path: &Path) -> io::Result<Self> {
        let mut options = OpenOptions::new();
        options.append(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        Ok(Self {
            file: options.open(path)?,
            lines: 0,
            bytes: 0,
        })
    }

    /// Appends one delta and makes it durable before the request is answered.
    pub(crate) fn append(&mut self, delta: &Value) -> io::Result<()> {
        let mut line = serde_json::to_vec(delta).map_err(io::Error::from)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()?;
        self.lines += 1;
        self.bytes += line.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_carry_what_changed_and_replay_to_the_same_state() {
        let old = json!({"version": 1, "next_id": 5,
            "users": [{"id": 1, "name": "A"}, {"id": 2, "name": "B"}],
            "access_tokens": {"t1": null, "t2": 100}});
        let new = json!({"version": 1, "next_id": 7,
            "users": [{"id": 1, "name": "A"}, {"id": 3, "name": "C"}, {"id": 2, "name": "B2"}],
            "access_tokens": {"t2": 100, "t3": null}});
        let change = delta(&old, &new).unwrap();
        assert_eq!(
            change,
            json!({"next_id": {"value": 7},
                "users": {"set": [{"id": 3, "name": "C"}, {"id": 2, "name": "B2"}], "remove": []},
                "access_tokens": {"set": {"t3": null}, "remove": ["t1"]}})
        );
        let mut state = old.clone();
        apply(&mut state, &change).unwrap();
        let mut sorted = new.clone();
        sorted["users"] =
            json!([{"id": 1, "name": "A"}, {"id": 2, "name": "B2"}, {"id": 3, "name": "C"}]);
        assert_eq!(state, sorted);
        // Replaying it again (after a compaction the crash interrupted) changes nothing.
        apply(&mut state, &change).unwrap();
        assert_eq!(state, sorted);
        assert_eq!(delta(&new, &new), None);
        let removed = delta(&new, &json!({"version": 1, "next_id": 7, "users": [{"id": 1, "name": "A"}], "access_tokens": {}})).unwrap();
        apply(&mut state, &removed).unwrap();
        assert_eq!(state["users"], json!([{"id": 1, "name": "A"}]));
        assert_eq!(state["access_tokens"], json!({}));
    }
}
