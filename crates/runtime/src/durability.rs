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
//! Flushes run on one task or under one lock, never concurrently (sled's concurrent
//! `flush_async` calls have deadlock reports, reliability.md §2.4). A failed flush is never
//! retried (fsyncgate): it is reported to every waiter and the engine stops intake.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, Notify, watch};

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

#[derive(Clone, Debug, PartialEq, Eq)]
enum Flushed {
    Upto(u64),
    /// Kept whole (not as text), so that every waiter gets the same failure, told once.
    Failed(StorageFault),
}

pub struct Durability {
    store: Arc<dyn Store>,
    policy: FlushPolicy,
    requested: AtomicU64,
    wake: Notify,
    flushed: watch::Sender<Flushed>,
    serial: Mutex<()>,
}

impl Durability {
    /// Creates the durability point; with group commit, spawns its flusher on the current
    /// tokio runtime.
    pub fn start(store: Arc<dyn Store>, policy: FlushPolicy) -> Arc<Self> {
        let (flushed, _) = watch::channel(Flushed::Upto(0));
        let durability = Arc::new(Self {
            store,
            policy,
            requested: AtomicU64::new(0),
            wake: Notify::new(),
            flushed,
            serial: Mutex::new(()),
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
                let mut flushed = self.flushed.subscribe();
                // The ticket is taken after the caller's write, so a flush that starts after
                // the flusher read a target >= ticket covers it.
                let ticket = self.requested.fetch_add(1, Ordering::SeqCst) + 1;
                self.wake.notify_one();
                loop {
                    match &*flushed.borrow_and_update() {
                        Flushed::Upto(done) if *done >= ticket => return Ok(()),
                        Flushed::Failed(fault) => return Err(StoreError::Io(fault.clone())),
                        Flushed::Upto(_) => {}
                    }
                    if flushed.changed().await.is_err() {
                        return Err(StoreError::Io("the flusher stopped".into()));
                    }
                }
            }
        }
    }

    async fn flusher(self: Arc<Self>, interval: Duration) {
        loop {
            self.wake.notified().await;
            if !interval.is_zero() {
                tokio::time::sleep(interval).await;
            }
            let target = self.requested.load(Ordering::SeqCst);
            match flush(&self.store).await {
                Ok(()) => {
                    self.flushed.send_replace(Flushed::Upto(target));
                }
                Err(error) => {
                    tracing::error!(%error, "flush failed; every write waiting for it fails");
                    let fault = match error {
                        StoreError::Io(fault) => fault,
                        other => StorageFault::from(other.to_string()),
                    };
                    self.flushed.send_replace(Flushed::Failed(fault));
                    return;
                }
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
