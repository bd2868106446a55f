//! Data that ends: the retention policy and the sweeper that applies it.
//!
//! Ended conversations (with their histories), `seen` entries and unused scenario versions are
//! kept for as long as the policy says, then removed by a background sweep in small batches,
//! yielding between them so intake never waits for it. A conversation is removed in its turn
//! (`Engine::retire`); what the store removes, and in which order, is `store/retire.rs`. Time
//! is the engine's clock, so tests move it instead of waiting.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::engine::{Engine, EngineError};
use crate::metrics::{Kind, metrics};
use crate::state::{Conversation, Status};
use crate::store::{Claim, StoreError, conversation_pages};

/// How long each kind of data is kept, in milliseconds; `None` keeps it forever.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    /// An ended conversation, counted from its last change.
    pub ended: Option<i64>,
    /// A `seen` entry (the long-term de-duplication index), counted from its message.
    pub seen: Option<i64>,
    /// A scenario version no stored conversation is pinned to and that is not the newest,
    /// counted from the sweep that first found it unused.
    pub versions: Option<i64>,
}

impl Retention {
    /// How often the sweeper runs: a tenth of the shortest retention, between a second and an
    /// hour; `None` when everything is kept forever.
    pub fn interval(&self) -> Option<Duration> {
        let shortest = [self.ended, self.seen, self.versions]
            .into_iter()
            .flatten()
            .min()?;
        let millis = u64::try_from(shortest / 10).unwrap_or(0);
        Some(Duration::from_millis(millis.clamp(1_000, 3_600_000)))
    }
}

/// Whether retention may remove `conversation`: ended at or before `ended_by`, with no
/// effect waiting in its outbox and no timer armed.
pub fn expired(conversation: &Conversation, ended_by: i64) -> bool {
    conversation.status == Status::Ended
        && conversation.updated_at <= ended_by
        && conversation.pending.is_empty()
        && conversation.timer.is_none()
}

/// What one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub conversations: usize,
    pub turns: usize,
    pub seen: usize,
    pub versions: usize,
    /// `seen` entries of an older format given their age.
    pub dated: usize,
    /// Another node on the same store was sweeping: this round did nothing.
    pub skipped: bool,
}

impl Swept {
    fn removed_anything(&self) -> bool {
        self.conversations + self.turns + self.seen + self.versions > 0
    }
}

/// Records read or removed per batch, between two yields.
const BATCH: usize = 256;

/// The claim a sweep of a shared store holds (`Backend::claim`): one node sweeps at a time.
const ROUND: &str = "retention";

pub struct Sweeper {
    engine: Engine,
    retention: Retention,
    /// Version → when a sweep first found it unused (kept in memory: a restart only delays).
    unused_since: HashMap<String, i64>,
}

impl Sweeper {
    pub fn new(engine: Engine, retention: Retention) -> Self {
        Self {
            engine,
            retention,
            unused_since: HashMap::new(),
        }
    }

    /// One full pass over the store.
    pub async fn sweep(&mut self) -> Result<Swept, EngineError> {
        // On a store several nodes share, one sweeps at a time; the others skip the round
        // (each removal is still safe against their steps: `Engine::retire`, `swap_if`).
        let Some(_sweeping) = self.take_round().await? else {
            tracing::debug!("retention: another node is sweeping the store; this round is skipped");
            return Ok(Swept {
                skipped: true,
                ..Swept::default()
            });
        };
        let mut swept = Swept::default();
        let now = self.engine.clock().now();
        // Versions current now or later are the only ones new conversations can pin.
        let current = self.engine.current_versions();
        let pinned = self.sweep_conversations(now, &mut swept).await?;
        self.sweep_seen(now, &mut swept).await?;
        self.sweep_versions(now, &pinned, &current, &mut swept)?;
        let count = |kind, n: usize| {
            metrics()
                .retention_removed
                .get_or_create(&Kind { kind })
                .inc_by(u64::try_from(n).unwrap_or(u64::MAX));
        };
        count("conversations", swept.conversations);
        count("turns", swept.turns);
        count("seen", swept.seen);
        count("scenario_versions", swept.versions);
        if swept.removed_anything() {
            tracing::info!(
                conversations = swept.conversations,
                turns = swept.turns,
                seen = swept.seen,
                scenario_versions = swept.versions,
                "retention sweep removed what was past its retention"
            );
        }
        Ok(swept)
    }

    /// The store's `retention` claim, if no other node holds it (always, on a store only this
    /// process uses).
    async fn take_round(&self) -> Result<Option<Claim>, EngineError> {
        let store = Arc::clone(self.engine.store());
        tokio::task::spawn_blocking(move || store.backend().claim(ROUND))
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Io(
                    "the retention claim's thread panicked".into(),
                ))
            })
            .map_err(|e| self.engine.storage_error(&e))
    }

    /// Removes expired conversations; answers the versions the kept ones are pinned to.
    async fn sweep_conversations(
        &self,
        now: i64,
        swept: &mut Swept,
    ) -> Result<HashSet<String>, EngineError> {
        let mut pinned = HashSet::new();
        let ended_by = self.retention.ended.map(|keep| now.saturating_sub(keep));
        for batch in conversation_pages(self.engine.store().as_ref(), BATCH) {
            let batch = batch.map_err(|e| self.engine.storage_error(&e))?;
            for (id, record) in batch {
                // An unreadable record is the quarantine's, and pins nothing that can run.
                let Ok(conversation) = record else { continue };
                let removed = match ended_by {
                    Some(ended_by) if expired(&conversation, ended_by) => {
                        match self.engine.retire(&id, ended_by).await {
                            Ok(removed) => removed,
                            // Found corrupt in its turn: set aside by the engine, not removed.
                            Err(EngineError::Quarantined(..)) => continue,
                            Err(error) => return Err(error),
                        }
                    }
                    _ => None,
                };
                match removed {
                    Some(removed) => {
                        swept.conversations += usize::from(removed.conversation);
                        swept.turns += removed.turns;
                        swept.seen += removed.seen;
                    }
                    // Kept (or changed by a message meanwhile, onto a current version).
                    None => {
                        pinned.insert(conversation.version);
                    }
                }
            }
            tokio::task::yield_now().await;
        }
        Ok(pinned)
    }

    async fn sweep_seen(&self, now: i64, swept: &mut Swept) -> Result<(), EngineError> {
        // Entries of an older format are dated even when `seen` is kept forever: no harm.
        let written_by = self
            .retention
            .seen
            .map_or(i64::MIN, |keep| now.saturating_sub(keep));
        let mut from = Vec::new();
        loop {
            let batch = self
                .engine
                .store()
                .sweep_seen(&from, BATCH, written_by, now)
                .map_err(|e| self.engine.storage_error(&e))?;
            swept.seen += batch.removed;
            swept.dated += batch.dated;
            tokio::task::yield_now().await;
            match batch.next {
                Some(next) => from = next,
                None => return Ok(()),
            }
        }
    }

    fn sweep_versions(
        &mut self,
        now: i64,
        pinned: &HashSet<String>,
        current: &HashSet<String>,
        swept: &mut Swept,
    ) -> Result<(), EngineError> {
        let Some(keep) = self.retention.versions else {
            return Ok(());
        };
        let store = self.engine.store();
        let stored = store
            .scenario_versions()
            .map_err(|e| self.engine.storage_error(&e))?;
        self.unused_since
            .retain(|version, _| stored.contains(version));
        for version in stored {
            if pinned.contains(&version) || current.contains(&version) {
                self.unused_since.remove(&version);
                continue;
            }
            let since = *self.unused_since.entry(version.clone()).or_insert(now);
            // Published again since the sweep began (a reload back to it): it stays.
            if now.saturating_sub(since) < keep || self.engine.current_versions().contains(&version)
            {
                continue;
            }
            store
                .remove_scenario(&version)
                .map_err(|e| self.engine.storage_error(&e))?;
            self.unused_since.remove(&version);
            swept.versions += 1;
        }
        Ok(())
    }

    /// Sweeps every `interval` (real time) until aborted; a storage failure stops it (intake
    /// has stopped too, and says why), a database out of reach only skips a sweep.
    pub fn spawn(mut self, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                match self.sweep().await {
                    // A database out of reach for now: the next sweep starts over.
                    Ok(_) | Err(EngineError::Unreachable(_)) => {}
                    Err(error) => {
                        tracing::error!(%error, "the retention sweeper stopped");
                        return;
                    }
                }
            }
        })
    }
}
