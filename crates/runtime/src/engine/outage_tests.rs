//! A database out of reach for a while, on a store that fails as PostgreSQL's does then:
//! requests are refused and intake goes on, and a commit whose answer was lost is recognised
//! when its message is sent again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::EngineError;
use super::testing::{echo_engine, inbound};
use crate::store::{
    Backend, KvStore, MemoryBackend, StorageCause, StorageFault, Store, StoreError, TreeName, Write,
};

/// A memory store whose database is down while `down` is set, and whose next commit is kept
/// but its answer lost while `lose_answer` is set.
#[derive(Default)]
struct Flaky {
    inner: MemoryBackend,
    down: AtomicBool,
    lose_answer: AtomicBool,
}

fn unreachable() -> StoreError {
    StoreError::Io(StorageFault::new(
        StorageCause::Unreachable,
        "PostgreSQL: connection refused",
    ))
}

impl Flaky {
    fn up(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(unreachable())
        } else {
            Ok(())
        }
    }
}

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

impl Backend for Flaky {
    fn get(&self, tree: TreeName, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.up()?;
        self.inner.get(tree, key)
    }
    fn insert(&self, tree: TreeName, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.up()?;
        self.inner.insert(tree, key, value)
    }
    fn remove(&self, tree: TreeName, key: &[u8]) -> Result<(), StoreError> {
        self.up()?;
        self.inner.remove(tree, key)
    }
    fn scan_prefix(&self, tree: TreeName, prefix: &[u8]) -> Result<Pairs, StoreError> {
        self.up()?;
        self.inner.scan_prefix(tree, prefix)
    }
    fn scan_below(&self, tree: TreeName, end: &[u8], limit: usize) -> Result<Pairs, StoreError> {
        self.up()?;
        self.inner.scan_below(tree, end, limit)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.up()
    }
    fn is_empty(&self) -> Result<bool, StoreError> {
        self.inner.is_empty()
    }
    fn apply(&self, writes: Vec<Write>) -> Result<(), StoreError> {
        self.up()?;
        self.inner.apply(writes)?;
        if self.lose_answer.swap(false, Ordering::SeqCst) {
            // The COMMIT went through; the connection broke before its answer came.
            return Err(unreachable());
        }
        Ok(())
    }
}

fn engine() -> (super::Engine, Arc<KvStore<Flaky>>) {
    let store = Arc::new(KvStore::new(Flaky::default()));
    (echo_engine(Arc::clone(&store) as Arc<dyn Store>), store)
}

#[tokio::test]
async fn a_database_out_of_reach_refuses_requests_and_intake_resumes_when_it_is_back() {
    let (engine, store) = engine();
    engine.handle(inbound("m1", "one")).await.unwrap();

    store.backend_ref().down.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        let refused = engine.handle(inbound("m2", "two")).await;
        let Err(EngineError::Unreachable(reason)) = refused else {
            panic!("{refused:?}");
        };
        assert!(reason.contains("cannot reach its database"), "{reason}");
    }
    assert_eq!(engine.failure(), None, "intake did not stop");
    assert!(engine.store_unreachable());

    store.backend_ref().down.store(false, Ordering::SeqCst);
    let outcome = engine.handle(inbound("m2", "two")).await.unwrap();
    assert!(!outcome.duplicate);
    assert_eq!(outcome.replies[0].text, "You said: two");
    assert!(!engine.store_unreachable());
    let conversation = engine.conversation("c1").unwrap().unwrap();
    assert_eq!(engine.history(&conversation).unwrap().len(), 2);
}

#[tokio::test]
async fn a_commit_whose_answer_was_lost_is_recognised_when_the_message_comes_again() {
    let (engine, store) = engine();
    engine.handle(inbound("m1", "one")).await.unwrap();

    store
        .backend_ref()
        .lose_answer
        .store(true, Ordering::SeqCst);
    let refused = engine.handle(inbound("m2", "two")).await;
    assert!(
        matches!(refused, Err(EngineError::Unreachable(_))),
        "{refused:?}"
    );
    // Not acknowledged; the sender sends it again and gets the answer it was kept with.
    let again = engine.handle(inbound("m2", "two")).await.unwrap();
    assert!(again.duplicate, "{again:?}");
    assert_eq!(again.replies[0].text, "You said: two");
    let conversation = engine.conversation("c1").unwrap().unwrap();
    assert_eq!(
        engine.history(&conversation).unwrap().len(),
        2,
        "applied once"
    );
    let next = engine.handle(inbound("m3", "three")).await.unwrap();
    assert!(!next.duplicate);
}

#[test]
fn only_an_unreachable_database_is_transient_never_a_disk_error() {
    assert!(unreachable().is_transient());
    for code in [5, 28, 111] {
        // EIO, ENOSPC, ECONNREFUSED from sled's files: intake stops as before.
        let error = StoreError::from(&std::io::Error::from_raw_os_error(code));
        assert!(!error.is_transient(), "{error}");
    }
}
