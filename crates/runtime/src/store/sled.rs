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
const DEFAULT_CACHE_BYTES: u64 = 32 * 1024 * 1024;

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
}
