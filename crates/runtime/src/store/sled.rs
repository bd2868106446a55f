//! The sled 0.34.7 backend: the only module that names sled. One sled `Tree` per keyspace.
//! Every sled error is a storage failure (`StoreError::Io`): the engine stops intake instead
//! of retrying (reliability.md §2.4: sled's I/O errors are sticky, and a failed fsync must
//! never be retried).

use std::path::Path;
use std::time::{Duration, Instant};

use super::backend::{Backend, Pairs, TreeName};
use super::{StorageCause, StorageFault, StoreError};

pub struct SledBackend {
    db: sled::Db,
    trees: Vec<(TreeName, sled::Tree)>,
}

/// sled's error with its cause (sled keeps the `io::ErrorKind` of an I/O error).
fn io(error: &sled::Error) -> StoreError {
    let cause = match error {
        sled::Error::Io(io) => StorageCause::of(io.kind()),
        _ => StorageCause::Other,
    };
    StoreError::Io(StorageFault::new(cause, error.to_string()))
}

/// How long an open waits for the directory's lock. sled 0.34 lets go of it from a background
/// thread a moment after its last handle is dropped (spacejam/sled#1289): a store reopened
/// right after it was closed — in this process, or just after another one exited — can find
/// it still held for a few milliseconds. A lock still held after this is another process's.
const LOCK_WAIT: Duration = Duration::from_secs(1);

/// sled 0.34 reports a held lock as an `Other` I/O error whose text carries the `WouldBlock`
/// of `flock` (its `config.rs`).
fn lock_held(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io)
        if io.kind() == std::io::ErrorKind::WouldBlock
            || io.to_string().starts_with("could not acquire lock"))
}

/// The page cache when the config does not size it (`store.cache_mb`'s default): sled's own
/// default, 1 GB, would be most of the process's memory.
const DEFAULT_CACHE_BYTES: u64 = scenarist_lang::config::DEFAULT_CACHE_MB * 1024 * 1024;

/// sled 0.34 writes its snapshot (where each page lies in its log) to `snap.<LSN>.generating`,
/// syncs it and renames it to `snap.<LSN>`; but when it opens it reads the newest file whose
/// name starts with `snap.`, an unfinished one included. A process killed between the two
/// steps — sled writes a snapshot at every open, so a kill during start-up is enough — leaves
/// a store that never opens again ("empty/corrupt snapshot file found": spacejam/sled#1527,
/// #1533). Such a file was never the store's snapshot and the log holds every write, so it is
/// removed before sled opens, which then recovers from the previous snapshot as if the
/// interrupted open had not happened. Done under sled's own lock on its `db` file, so that an
/// open in progress in another process keeps its file; when the lock is held, nothing is
/// removed and sled's open reports the lock. Returns how many files were removed.
fn discard_unfinished_snapshots(path: &Path) -> Result<usize, StoreError> {
    use fs2::FileExt as _;

    let unfinished = |name: &str| name.starts_with("snap.") && name.ends_with(".generating");
    let Ok(entries) = std::fs::read_dir(path) else {
        return Ok(0); // a new store: sled creates the folder
    };
    let found: Vec<std::path::PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_str().is_some_and(unfinished))
        .map(|entry| entry.path())
        .collect();
    if found.is_empty() {
        return Ok(0);
    }
    let Ok(db) = std::fs::OpenOptions::new().read(true).open(path.join("db")) else {
        return Ok(0);
    };
    if db.try_lock_exclusive().is_err() {
        return Ok(0);
    }
    for file in &found {
        std::fs::remove_file(file).map_err(|error| {
            StoreError::Io(StorageFault::new(
                StorageCause::of(error.kind()),
                format!(
                    "cannot remove the unfinished snapshot {}: {error}",
                    file.display()
                ),
            ))
        })?;
        tracing::warn!(
            file = %file.display(),
            "removed an unfinished snapshot of the store (its last run stopped while writing it)"
        );
    }
    // Closing the file lets go of the lock; sled takes it again as it opens.
    drop(db);
    Ok(found.len())
}

impl SledBackend {
    /// Opens (or creates) the database in `path` with the default page cache. sled locks the
    /// directory, so a second process fails here (after [`LOCK_WAIT`]) instead of corrupting it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// [`SledBackend::open`] with a page cache of at most `cache_bytes`.
    pub fn open_with_cache(path: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        // The background flush is only a backstop; durability points flush explicitly.
        let config = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(1000));
        let deadline = Instant::now() + LOCK_WAIT;
        let mut pause = Duration::from_millis(5);
        loop {
            discard_unfinished_snapshots(path)?;
            match config.open() {
                Ok(db) => return Self::from_db(db),
                Err(error) if lock_held(&error) && Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(error) => return Err(io(&error)),
            }
        }
    }

    /// Opens the closed store in `path` once more and closes it, so the next open starts
    /// quickly: sled 0.34 writes its snapshot (where each page is in its log) only when it
    /// opens, after replaying the log written since the last one — after a day of traffic or
    /// a bulk import, seconds. Called after a clean stop, that replay happens here instead of
    /// in the next start (after a crash, the next start still pays it). `Ok` once the
    /// snapshot is on disk; nothing is written but the snapshot.
    pub fn write_snapshot(path: &Path, cache_bytes: u64) -> Result<(), StoreError> {
        let reopened = Self::open_with_cache(path, cache_bytes)?;
        reopened.flush()
    }

    /// A throw-away database in a temporary directory (tests).
    pub fn temporary() -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .temporary(true)
            .cache_capacity(DEFAULT_CACHE_BYTES)
            .open()
            .map_err(|e| io(&e))?;
        Self::from_db(db)
    }

    fn from_db(db: sled::Db) -> Result<Self, StoreError> {
        let trees = TreeName::ALL
            .into_iter()
            .map(|name| {
                db.open_tree(name.as_str())
                    .map(|tree| (name, tree))
                    .map_err(|e| io(&e))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { db, trees })
    }

    fn tree(&self, name: TreeName) -> Result<&sled::Tree, StoreError> {
        self.trees
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, tree)| tree)
            .ok_or_else(|| StoreError::Io(format!("tree {} is not open", name.as_str()).into()))
    }

    /// Bytes the database occupies on disk (for space-amplification monitoring).
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.db.size_on_disk().map_err(|e| io(&e))
    }
}

fn pairs(
    iter: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
) -> Result<Pairs, StoreError> {
    iter.map(|entry| {
        entry
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .map_err(|e| io(&e))
    })
    .collect()
}

impl Backend for SledBackend {
    fn get(&self, tree: TreeName, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tree(tree)?
            .get(key)
            .map_err(|e| io(&e))?
            .map(|v| v.to_vec()))
    }

    fn insert(&self, tree: TreeName, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.tree(tree)?.insert(key, value).map_err(|e| io(&e))?;
        Ok(())
    }

    fn remove(&self, tree: TreeName, key: &[u8]) -> Result<(), StoreError> {
        self.tree(tree)?.remove(key).map_err(|e| io(&e))?;
        Ok(())
    }

    fn scan_prefix(&self, tree: TreeName, prefix: &[u8]) -> Result<Pairs, StoreError> {
        pairs(self.tree(tree)?.scan_prefix(prefix))
    }

    fn scan_below(&self, tree: TreeName, end: &[u8], limit: usize) -> Result<Pairs, StoreError> {
        pairs(self.tree(tree)?.range(..end).take(limit))
    }

    fn scan_from(&self, tree: TreeName, start: &[u8], limit: usize) -> Result<Pairs, StoreError> {
        pairs(self.tree(tree)?.range(start..).take(limit))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(|e| io(&e))?;
        Ok(())
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        for (_, tree) in &self.trees {
            if !tree.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn swap_if(
        &self,
        tree: TreeName,
        key: &[u8],
        expected: &[u8],
        new: Option<&[u8]>,
    ) -> Result<bool, StoreError> {
        let swapped = self
            .tree(tree)?
            .compare_and_swap(key, Some(expected), new)
            .map_err(|e| io(&e))?;
        Ok(swapped.is_ok())
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    /// The log position of the newest snapshot sled wrote in `dir` (`snap.<LSN in hex>`).
    fn newest_snapshot(dir: &Path) -> Option<u64> {
        std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|entry| {
                let name = entry.unwrap().file_name().into_string().unwrap();
                u64::from_str_radix(name.strip_prefix("snap.")?, 16).ok()
            })
            .max()
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("scenarist-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// A sweep's change lands only on the value it read (sled's compare-and-swap).
    #[test]
    fn swap_if_changes_a_value_only_while_it_is_the_one_expected() {
        let dir = scratch("swap-if");
        let backend = SledBackend::open(&dir).unwrap();
        backend.insert(TreeName::Seen, b"m1", b"new").unwrap();
        assert!(
            !backend
                .swap_if(TreeName::Seen, b"m1", b"old", None)
                .unwrap()
        );
        assert!(
            backend
                .swap_if(TreeName::Seen, b"m1", b"new", Some(b"dated"))
                .unwrap()
        );
        assert!(
            !backend
                .swap_if(TreeName::Seen, b"m1", b"new", None)
                .unwrap()
        );
        assert!(
            backend
                .swap_if(TreeName::Seen, b"m1", b"dated", None)
                .unwrap()
        );
        assert_eq!(backend.get(TreeName::Seen, b"m1").unwrap(), None);
        drop(backend);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A run killed while sled wrote its snapshot at open leaves `snap.<LSN>.generating`
    /// behind, empty or cut short; sled 0.34 would read it as the newest snapshot and refuse
    /// to open the store ever again. It opens, with every write, and the file is gone.
    #[test]
    fn a_snapshot_left_unfinished_by_a_killed_open_does_not_stop_the_next_one() {
        let dir = scratch("unfinished-snapshot");
        {
            let backend = SledBackend::open(&dir).unwrap();
            backend
                .insert(TreeName::Conversations, b"c1", b"kept")
                .unwrap();
            backend.flush().unwrap();
        }
        // As a kill leaves it: created after the committed snapshot, before its bytes.
        let unfinished = dir.join(format!("snap.{:016X}.generating", u64::MAX >> 4));
        std::fs::write(&unfinished, b"").unwrap();
        let reopened = SledBackend::open(&dir).unwrap();
        assert_eq!(
            reopened.get(TreeName::Conversations, b"c1").unwrap(),
            Some(b"kept".to_vec())
        );
        assert!(!unfinished.exists());
        drop(reopened);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// While another open holds the store, its snapshot in the making is not touched.
    #[test]
    fn an_unfinished_snapshot_of_a_store_open_elsewhere_is_left_alone() {
        let dir = scratch("snapshot-held");
        let backend = SledBackend::open(&dir).unwrap();
        let generating = dir.join(format!("snap.{:016X}.generating", u64::MAX >> 4));
        std::fs::write(&generating, b"in progress").unwrap();
        assert_eq!(discard_unfinished_snapshots(&dir).unwrap(), 0);
        assert!(generating.exists());
        drop(backend);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Writes after the last open are covered by a snapshot once `write_snapshot` ran, so the
    /// next open has no log to replay; the data reads back the same.
    #[test]
    fn a_snapshot_written_after_a_clean_close_covers_every_write() {
        let dir = scratch("snapshot");
        let written = {
            let backend = SledBackend::open(&dir).unwrap();
            for n in 0..2_000u32 {
                let key = n.to_be_bytes();
                backend
                    .insert(TreeName::Conversations, &key, &[7; 100])
                    .unwrap();
            }
            backend.flush().unwrap();
            newest_snapshot(&dir)
        };
        // Any snapshot sled's own open wrote predates the writes.
        assert!(written.unwrap_or(0) < 2_000 * 100, "{written:?}");
        SledBackend::write_snapshot(&dir, DEFAULT_CACHE_BYTES).unwrap();
        let after = newest_snapshot(&dir).expect("a snapshot was written");
        assert!(
            after >= 2_000 * 100,
            "the snapshot stops at log position {after}"
        );
        let reopened = SledBackend::open(&dir).unwrap();
        assert_eq!(
            reopened
                .get(TreeName::Conversations, &1_999u32.to_be_bytes())
                .unwrap(),
            Some(vec![7; 100])
        );
        drop(reopened);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
