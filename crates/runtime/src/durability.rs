//! When a write becomes durable, and the acknowledgement that waits for it. Two policies:
//!
//! - `EveryMessage`: each step flushes (fsync) before it is acknowledged. Nothing
//!   acknowledged is ever lost, even on power loss; throughput is bounded by fsync latency.
//! - `GroupCommit { interval_ms }`: one flusher task flushes and acknowledges every step its
//!   flush covered; steps written during a flush share the next one, so under load one fsync
//!   covers many. `interval_ms` > 0 makes the flusher wait that long before each flush to
//!   gather more (fewer fsyncs, longer waits); 0 (the default) flushes at once, measured twice
//!   the throughput of 5 ms on `scripts/bench-serve`. The same promise either way: an
//!   acknowledged message is on disk.
//!
//! With group commit each write joins the open batch; the flusher takes the batch before it
//! flushes and wakes its writes once, when that flush ends: a write made during a flush is
//! in the next batch and is not woken by the flush that does not cover it.
//!
//! Flushes run on one task or under one lock, never concurrently (sled's concurrent
//! `flush_async` calls have deadlock reports, reliability.md §2.4). A failed flush is never
//! retried (fsyncgate): it is reported to every waiter and the engine stops intake.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use crate::store::{StorageFault, Store, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushPolicy {
    EveryMessage,
    GroupCommit { interval_ms: u64 },
}

impl Default for FlushPolicy {
    fn default() -> Self {
        FlushPolicy::GroupCommit { interval_ms: 0 }
    }
}

impl From<scenarist_lang::config::DurabilityConfig> for FlushPolicy {
    fn from(config: scenarist_lang::config::DurabilityConfig) -> Self {
        match config.flush {
            scenarist_lang::config::FlushMode::EveryMessage => FlushPolicy::EveryMessage,
            scenarist_lang::config::FlushMode::GroupCommit => FlushPolicy::GroupCommit {
                interval_ms: config.interval_ms,
            },
        }
    }
}

/// The writes waiting for one flush: each waiter is woken once, by the flush that covers
/// it (a waiter that arrives during a flush joins the next batch, and is not woken by the
/// flush in progress).
#[derive(Default)]
struct Batch {
    /// Set before `done` is notified; kept whole (not as text), so that every waiter gets
    /// the same failure, told once.
    result: OnceLock<Result<(), StorageFault>>,
    done: Notify,
}

impl Batch {
    fn finish(&self, result: Result<(), StorageFault>) {
        let _ = self.result.set(result);
        self.done.notify_waiters();
    }

    async fn wait(&self) -> Result<(), StoreError> {
        loop {
            let notified = self.done.notified();
            tokio::pin!(notified);
            // Registered before the result is read, so a flush finishing in between wakes it.
            notified.as_mut().enable();
            if let Some(result) = self.result.get() {
                return result.clone().map_err(StoreError::Io);
            }
            notified.await;
        }
    }
}

/// The batch writes join, and how many joined it.
struct Open {
    batch: Arc<Batch>,
    joined: usize,
    /// A flush failed: the flusher stopped, and every write fails with this.
    failed: Option<StorageFault>,
}

pub struct Durability {
    store: Arc<dyn Store>,
    policy: FlushPolicy,
    open: Mutex<Open>,
    /// Set while the flusher waits for work: only then does a write wake it.
    idle: AtomicBool,
    wake: Notify,
    serial: tokio::sync::Mutex<()>,
}

impl Durability {
    /// Creates the durability point; with group commit, spawns its flusher on the current
    /// tokio runtime.
    pub fn start(store: Arc<dyn Store>, policy: FlushPolicy) -> Arc<Self> {
        let durability = Arc::new(Self {
            store,
            policy,
            open: Mutex::new(Open {
                batch: Arc::default(),
                joined: 0,
                failed: None,
            }),
            idle: AtomicBool::new(false),
            wake: Notify::new(),
            serial: tokio::sync::Mutex::new(()),
        });
        if let FlushPolicy::GroupCommit { interval_ms } = policy {
            tokio::spawn(Arc::clone(&durability).flusher(Duration::from_millis(interval_ms)));
        }
        durability
    }

    pub fn policy(&self) -> FlushPolicy {
        self.policy
    }

    /// Returns once every write made before the call is durable.
    pub async fn wait(&self) -> Result<(), StoreError> {
        match self.policy {
            FlushPolicy::EveryMessage => {
                let _one_at_a_time = self.serial.lock().await;
                flush(&self.store).await
            }
            FlushPolicy::GroupCommit { .. } => {
                // Joined after the caller's write: the flusher takes the batch before it
                // flushes, so the flush that finishes this batch covers the write.
                let batch = {
                    let mut open = self.lock();
                    if let Some(fault) = &open.failed {
                        return Err(StoreError::Io(fault.clone()));
                    }
                    open.joined += 1;
                    Arc::clone(&open.batch)
                };
                if self.idle.swap(false, Ordering::SeqCst) {
                    self.wake.notify_one();
                }
                batch.wait().await
            }
        }
    }

    async fn flusher(self: Arc<Self>, interval: Duration) {
        loop {
            self.work().await;
            if !interval.is_zero() {
                // Gather more writes: those that join meanwhile share this flush.
                tokio::time::sleep(interval).await;
            }
            let Some(batch) = self.take() else {
                continue;
            };
            let result = flush(&self.store).await;
            if !self.finish(&batch, result) {
                return;
            }
        }
    }

    /// Returns once a write waits for a flush.
    async fn work(&self) {
        loop {
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.idle.store(true, Ordering::SeqCst);
            // A write that joins after this look finds `idle` set and wakes us.
            if self.lock().joined > 0 {
                self.idle.store(false, Ordering::SeqCst);
                return;
            }
            notified.await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The open batch if a write joined it, replaced by an empty one.
    fn take(&self) -> Option<Arc<Batch>> {
        let mut open = self.lock();
        if open.joined == 0 {
            return None;
        }
        open.joined = 0;
        Some(std::mem::take(&mut open.batch))
    }

    /// Tells the batch's waiters; `false` after a failed flush, which is never retried
    /// (fsyncgate): the writes waiting now and every later one fail with it.
    fn finish(&self, batch: &Batch, result: Result<(), StoreError>) -> bool {
        match result {
            Ok(()) => {
                batch.finish(Ok(()));
                true
            }
            Err(error) => {
                tracing::error!(%error, "flush failed; every write waiting for it fails");
                let fault = match error {
                    StoreError::Io(fault) => fault,
                    other => StorageFault::from(other.to_string()),
                };
                batch.finish(Err(fault.clone()));
                let mut open = self.lock();
                open.failed = Some(fault.clone());
                // Writes that joined during the failed flush were not covered by it.
                open.batch.finish(Err(fault));
                false
            }
        }
    }
}

async fn flush(store: &Arc<dyn Store>) -> Result<(), StoreError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || store.flush())
        .await
        .map_err(|e| StoreError::Io(format!("the flush task failed: {e}").into()))?
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::{Condvar, Mutex};
    use std::task::{Context, Poll, Wake, Waker};

    use super::*;
    use crate::store::{Backend, KvStore, MemoryBackend, TreeName};

    /// A memory backend whose flushes wait for a permit from the test, and fail when told.
    #[derive(Default)]
    struct Gated {
        inner: MemoryBackend,
        started: AtomicUsize,
        permits: Mutex<usize>,
        granted: Condvar,
        fail: AtomicBool,
    }

    impl Gated {
        fn grant(&self) {
            *self.permits.lock().unwrap() += 1;
            self.granted.notify_all();
        }
    }

    impl Backend for Arc<Gated> {
        fn get(&self, tree: TreeName, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            self.inner.get(tree, key)
        }
        fn insert(&self, tree: TreeName, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
            self.inner.insert(tree, key, value)
        }
        fn remove(&self, tree: TreeName, key: &[u8]) -> Result<(), StoreError> {
            self.inner.remove(tree, key)
        }
        fn scan_prefix(
            &self,
            tree: TreeName,
            prefix: &[u8],
        ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
            self.inner.scan_prefix(tree, prefix)
        }
        fn scan_below(
            &self,
            tree: TreeName,
            end: &[u8],
            limit: usize,
        ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
            self.inner.scan_below(tree, end, limit)
        }
        fn flush(&self) -> Result<(), StoreError> {
            self.started.fetch_add(1, Ordering::SeqCst);
            let mut permits = self.permits.lock().unwrap();
            while *permits == 0 {
                permits = self.granted.wait(permits).unwrap();
            }
            *permits -= 1;
            if self.fail.load(Ordering::SeqCst) {
                return Err(StoreError::Io("the disk is gone".into()));
            }
            Ok(())
        }
        fn is_empty(&self) -> Result<bool, StoreError> {
            self.inner.is_empty()
        }
    }

    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn group_commit(gated: &Arc<Gated>) -> Arc<Durability> {
        let store: Arc<dyn Store> = Arc::new(KvStore::new(Arc::clone(gated)));
        Durability::start(store, FlushPolicy::GroupCommit { interval_ms: 0 })
    }

    async fn until(condition: impl Fn() -> bool) {
        while !condition() {
            tokio::task::yield_now().await;
        }
    }

    /// A write that arrives while a flush runs is answered by the next flush, and the one in
    /// progress does not wake it: each acknowledgement costs one wake-up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_during_a_flush_waits_for_the_next_and_is_woken_once() {
        let gated = Arc::new(Gated::default());
        let durability = group_commit(&gated);
        let first = tokio::spawn({
            let durability = Arc::clone(&durability);
            async move { durability.wait().await }
        });
        until(|| gated.started.load(Ordering::SeqCst) == 1).await;
        let woken = Arc::new(Wakes::default());
        let waker = Waker::from(Arc::clone(&woken));
        let mut cx = Context::from_waker(&waker);
        let second = durability.wait();
        tokio::pin!(second);
        assert!(second.as_mut().poll(&mut cx).is_pending());
        gated.grant();
        assert!(matches!(first.await.unwrap(), Ok(())));
        until(|| gated.started.load(Ordering::SeqCst) == 2).await;
        assert_eq!(
            woken.0.load(Ordering::SeqCst),
            0,
            "the first flush did not cover the second write and must not wake it"
        );
        assert!(second.as_mut().poll(&mut cx).is_pending());
        gated.grant();
        until(|| woken.0.load(Ordering::SeqCst) > 0).await;
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
        assert!(matches!(second.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
    }

    /// A failed flush is never retried: its writes get the failure, and so does every later
    /// write, at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_flush_fails_its_writes_and_every_later_one() {
        let gated = Arc::new(Gated::default());
        gated.fail.store(true, Ordering::SeqCst);
        let durability = group_commit(&gated);
        let waiting = tokio::spawn({
            let durability = Arc::clone(&durability);
            async move { durability.wait().await }
        });
        until(|| gated.started.load(Ordering::SeqCst) == 1).await;
        gated.grant();
        let failed = waiting.await.unwrap().unwrap_err();
        assert!(failed.to_string().contains("the disk is gone"), "{failed}");
        let later = durability.wait().await.unwrap_err();
        assert_eq!(later.to_string(), failed.to_string());
        assert_eq!(gated.started.load(Ordering::SeqCst), 1, "never retried");
    }
}
