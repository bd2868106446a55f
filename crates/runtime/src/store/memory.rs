//! An in-memory backend: the same `KvStore` code over `BTreeMap`s, for `scenarist test` and
//! fast tests. Nothing survives the process; `flush` is a no-op.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::StoreError;
use super::backend::{Backend, Pairs, TreeName};

type Tree = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Default)]
pub struct MemoryBackend {
    trees: Mutex<HashMap<&'static str, Tree>>,
}

impl MemoryBackend {
    fn with<T>(&self, tree: TreeName, f: impl FnOnce(&mut Tree) -> T) -> Result<T, StoreError> {
        let mut trees = self
            .trees
            .lock()
            .map_err(|_| StoreError::Io("the memory store's lock is poisoned".into()))?;
        Ok(f(trees.entry(tree.as_str()).or_default()))
    }
}

impl Backend for MemoryBackend {
    fn get(&self, tree: TreeName, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(tree, |t| t.get(key).cloned())
    }

    fn insert(&self, tree: TreeName, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.with(tree, |t| {
            t.insert(key.to_vec(), value.to_vec());
        })
    }

    fn remove(&self, tree: TreeName, key: &[u8]) -> Result<(), StoreError> {
        self.with(tree, |t| {
            t.remove(key);
        })
    }

    fn scan_prefix(&self, tree: TreeName, prefix: &[u8]) -> Result<Pairs, StoreError> {
        self.with(tree, |t| {
            t.range(prefix.to_vec()..)
                .take_while(|(k, _)| k.starts_with(prefix))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
    }

    fn scan_below(&self, tree: TreeName, end: &[u8], limit: usize) -> Result<Pairs, StoreError> {
        self.with(tree, |t| {
            t.range(..end.to_vec())
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
    }

    fn scan_from(&self, tree: TreeName, start: &[u8], limit: usize) -> Result<Pairs, StoreError> {
        self.with(tree, |t| {
            t.range(start.to_vec()..)
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        let trees = self
            .trees
            .lock()
            .map_err(|_| StoreError::Io("the memory store's lock is poisoned".into()))?;
        Ok(trees.values().all(BTreeMap::is_empty))
    }
}
