//! Timers and the outbox. Both are found through the store's due index, which the commits
//! of the engine keep, so after a restart overdue timers fire once and pending effects run.
//!
//! An effect runs outside the conversation's lock (a Zendesk call may take seconds); its
//! result comes back as an input (`ActionDone` / `ActionRetry`) through the same commit path
//! as any message. A crash after the action ran but before its result was committed leaves
//! the effect pending, so it runs again with the same id — the action's idempotency key is
//! what keeps that from doing the work twice (reliability.md §3).
//!
//! Several nodes on one store (PostgreSQL) all read the due index: a timer fired by two of
//! them applies once (its step runs under the conversation's lock and finds it no longer
//! armed), and an effect runs on the node that holds its conversation's claim
//! (`Engine::claim_effects`), taken over by another when that node dies.

use std::sync::Arc;
use std::time::Duration;

use super::engine::{Engine, EngineError};
use super::state::{ActionOutcome, Effect, Input};
use crate::runner::ActionResult;
use crate::store::{Due, DueKind, conversation_pages};

/// Attempts after which a retryable failure becomes a failure for good.
pub const MAX_ATTEMPTS: u32 = 20;
/// Retryable failures are retried for at least this long after the effect was recorded
/// (a Zendesk outage of a few hours must not lose a ticket), then become failures.
pub(super) const RETRY_DEADLINE_MS: i64 = 24 * 60 * 60 * 1000;
const BASE_BACKOFF_MS: i64 = 1_000;
const MAX_BACKOFF_MS: i64 = 5 * 60 * 1_000;
const BATCH: usize = 512;
/// How often a scheduler on a shared store counts the outbox for `/metrics` (a scan of the
/// due index's keys: timers included, so not every tick).
const OUTBOX_RECOUNT: Duration = Duration::from_secs(10);

impl Engine {
    /// Gets the due index ready before intake starts, and counts the outbox for its gauge.
    /// Returns how many due entries it re-created.
    ///
    /// The index is a superset of what the records call for (a step writes its entries
    /// before its record and removes stale ones after; a stale entry is dropped when it
    /// fires), so a start reads no record but those with an effect entry: start-up does not
    /// grow with the store. A store written before that held (an earlier version's scheduler
    /// could drop an effect's entry) has its records read once, a page at a time, and is
    /// then marked so that no later start does it again.
    pub fn rearm(&self) -> Result<usize, EngineError> {
        let store = self.store();
        let storage = |e: &crate::store::StoreError| self.storage_error(e);
        let rearmed = if store.due_index_complete().map_err(|e| storage(&e))? {
            0
        } else {
            let rearmed = self.rearm_from_records()?;
            store.mark_due_index_complete().map_err(|e| storage(&e))?;
            rearmed
        };
        if rearmed > 0 {
            tracing::warn!(rearmed, "re-created due entries missing from the index");
        }
        // Every pending effect has an entry: the records of the conversations with one hold
        // the whole outbox. From here on, commits keep the depth up to date.
        let mut pending = 0;
        for id in store
            .conversations_with_effects()
            .map_err(|e| storage(&e))?
        {
            // A record that does not read is quarantined when its conversation is next used.
            if let Ok(Some(conversation)) = store.conversation(&id) {
                pending += conversation.pending.len();
            }
        }
        crate::metrics::metrics()
            .outbox_depth
            .set(i64::try_from(pending).unwrap_or(i64::MAX));
        Ok(rearmed)
    }

    /// On a store other processes share, sets the outbox's depth to what the due index holds:
    /// their commits and effect runs change it too, so this process's own would not add up
    /// (a node running effects another queued would go below zero). A failed count keeps the
    /// last one; the scheduler's next read reports the database.
    fn recount_shared_outbox(&self) {
        let store = self.store();
        if !store.backend().shared() {
            return;
        }
        if let Ok(depth) = store.outbox_depth() {
            crate::metrics::metrics()
                .outbox_depth
                .set(i64::try_from(depth).unwrap_or(i64::MAX));
        }
    }

    /// Re-creates the due entries the records call for and the index lacks, reading every
    /// record a page at a time: once per store, for one written by an earlier version.
    fn rearm_from_records(&self) -> Result<usize, EngineError> {
        let store = self.store();
        let storage = |e: &crate::store::StoreError| self.storage_error(e);
        let indexed: std::collections::HashSet<Due> = store
            .due(i64::MAX, usize::MAX)
            .map_err(|e| storage(&e))?
            .into_iter()
            .collect();
        let mut rearmed = 0;
        for page in conversation_pages(store.as_ref(), BATCH) {
            for (_, record) in page.map_err(|e| storage(&e))? {
                // A record that does not read is quarantined when its conversation is next used.
                let Ok(conversation) = record else {
                    continue;
                };
                for entry in Due::of_record(&conversation) {
                    if !indexed.contains(&entry) {
                        store.put_due(&entry).map_err(|e| storage(&e))?;
                        rearmed += 1;
                    }
                }
            }
        }
        Ok(rearmed)
    }

    /// Fires what is due now, one item after the other, and returns how many items there
    /// were. Deterministic: `scenarist test` and tests drive time with it.
    pub async fn run_due(&self) -> Result<usize, EngineError> {
        let now = self.clock().now();
        let due = self
            .store()
            .due(now, BATCH)
            .map_err(|e| self.storage_error(&e))?;
        for entry in &due {
            self.run_one(entry).await?;
        }
        Ok(due.len())
    }

    /// Runs due items until none is left at the current time (effects that lead to more
    /// effects included), at most `rounds` times.
    pub async fn settle(&self, rounds: usize) -> Result<(), EngineError> {
        for _ in 0..rounds {
            if self.run_due().await? == 0 {
                break;
            }
        }
        Ok(())
    }

    /// The background scheduler: fires due items every `tick`, or at once when a commit
    /// records something due now. Effects run concurrently (one at a time per effect).
    pub fn spawn_scheduler(&self, tick: Duration) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move {
            // While the database is out of reach, reads wait longer each time (up to 2 s).
            let mut pause = Duration::ZERO;
            let mut counted = std::time::Instant::now();
            loop {
                tokio::time::sleep(pause).await;
                tokio::select! {
                    () = tokio::time::sleep(tick) => {}
                    () = engine.kicked() => {}
                }
                if engine.failure().is_some() {
                    return;
                }
                let now = engine.clock().now();
                let due = match engine.store().due(now, BATCH) {
                    Ok(due) => {
                        pause = Duration::ZERO;
                        engine.reachable();
                        due
                    }
                    // A database out of reach for now: a later tick reads again.
                    Err(error) if error.is_transient() => {
                        engine.storage_error(&error);
                        pause = (pause * 2).clamp(tick, Duration::from_secs(2));
                        continue;
                    }
                    Err(error) => {
                        engine.storage_error(&error);
                        return;
                    }
                };
                if counted.elapsed() >= OUTBOX_RECOUNT {
                    engine.recount_shared_outbox();
                    counted = std::time::Instant::now();
                }
                for entry in due {
                    let engine = engine.clone();
                    tokio::spawn(async move {
                        match engine.run_one(&entry).await {
                            // Said once for the outage; the entry stays, for a later tick.
                            Ok(()) | Err(EngineError::Unreachable(_)) => {}
                            Err(error) => {
                                tracing::warn!(conversation = %entry.conversation, %error, "due item failed");
                            }
                        }
                    });
                }
            }
        })
    }

    async fn run_one(&self, entry: &Due) -> Result<(), EngineError> {
        match &entry.what {
            DueKind::Timer(id) => match self
                .apply(&entry.conversation, Input::Timer { id: *id })
                .await
            {
                Ok(_) | Err(EngineError::UnknownConversation(_) | EngineError::Quarantined(..)) => {
                }
                Err(error) => return Err(error),
            },
            DueKind::Effect(id) => {
                // An effect already running elsewhere keeps its entry: if this process dies
                // before its result is committed, the entry is how it is found again.
                if self.dispatch(entry, id).await? == Dispatched::Busy {
                    return Ok(());
                }
            }
        }
        // The commit of the item removed its entry; a stale one goes here.
        self.store()
            .remove_due(entry)
            .map_err(|e| self.storage_error(&e))
    }

    async fn dispatch(&self, entry: &Due, effect_id: &str) -> Result<Dispatched, EngineError> {
        if !self.in_flight().insert(effect_id.to_owned()) {
            return Ok(Dispatched::Busy);
        }
        let result = self.dispatch_claimed(entry, effect_id).await;
        self.in_flight().remove(effect_id);
        result
    }

    async fn dispatch_claimed(
        &self,
        entry: &Due,
        effect_id: &str,
    ) -> Result<Dispatched, EngineError> {
        // The effects of one conversation run one at a time, in the order they come due: a
        // ticket exists before its comments, and two calls cannot both create it.
        let lane = self.effect_lane(&entry.conversation);
        let _one_at_a_time = lane.lock().await;
        // And one node at a time among those on a shared store, until the result is
        // committed (`engine/nodes.rs`); a claim another node holds keeps the entry.
        let Some(_claim) = self.claim_effects(&entry.conversation)? else {
            return Ok(Dispatched::Busy);
        };
        self.dispatch_lane(entry, effect_id)
            .await
            .map(|()| Dispatched::Done)
    }

    async fn dispatch_lane(&self, entry: &Due, effect_id: &str) -> Result<(), EngineError> {
        // The record is read in the conversation's turn: a step writes its due entries before
        // its record (the commit point), and an entry seen in between would look stale here
        // and be dropped, leaving its effect pending for good. Waiting for the step to end
        // makes the record current; the turn is given back before the action runs.
        let conversation = {
            let place = self.place(&entry.conversation);
            place.turn().await;
            self.conversation(&entry.conversation)?
        };
        let Some(conversation) = conversation else {
            return Ok(());
        };
        let Some(effect) = conversation
            .pending
            .iter()
            .find(|e| e.id == effect_id)
            .cloned()
        else {
            return Ok(());
        };
        // An entry for an earlier attempt time: the current one has its own entry.
        if effect.next_attempt_at != entry.at {
            return Ok(());
        }
        let actions = Arc::clone(self.inner_actions());
        // Work that is not idempotent by itself is recorded as started first, so that after
        // a crash in flight the next attempt checks whether it got through.
        if actions.records_attempts(&effect.action) && !effect.started {
            self.apply(
                &entry.conversation,
                Input::ActionStarted {
                    effect: effect.id.clone(),
                },
            )
            .await?;
        }
        let result = actions.run(&effect).await;
        let now = self.clock().now();
        let input = match result {
            ActionResult::Done(value) => Input::ActionDone {
                effect: effect.id.clone(),
                outcome: ActionOutcome::Done(value),
            },
            ActionResult::Failed(reason) => Input::ActionDone {
                effect: effect.id.clone(),
                outcome: ActionOutcome::Failed(reason),
            },
            ActionResult::Retry { error, .. }
                if effect.attempts + 1 >= MAX_ATTEMPTS
                    && now - effect.created_at >= RETRY_DEADLINE_MS =>
            {
                Input::ActionDone {
                    effect: effect.id.clone(),
                    outcome: ActionOutcome::Failed(format!(
                        "gave up after {} attempts over 24 hours; last error: {error}",
                        effect.attempts + 1
                    )),
                }
            }
            ActionResult::Wait { after_ms } => Input::ActionDeferred {
                effect: effect.id.clone(),
                next_attempt_at: now.saturating_add(after_ms.max(1)),
            },
            ActionResult::Retry { after_ms, error } => Input::ActionRetry {
                effect: effect.id.clone(),
                next_attempt_at: now.saturating_add(backoff(&effect, after_ms)),
                error,
            },
        };
        match self.apply(&entry.conversation, input).await {
            Ok(_) | Err(EngineError::UnknownConversation(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

/// What became of a due effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dispatched {
    /// Run (or found stale): its entry can go.
    Done,
    /// Already running in this process, or claimed by another node on the store.
    Busy,
}

/// Exponential backoff with full jitter (base 1 s, doubling, capped at 5 min), but never
/// sooner than the server asked (`Retry-After`). The jitter is derived from the effect id
/// and attempt, so it spreads effects apart yet is reproducible.
pub(super) fn backoff(effect: &Effect, at_least_ms: i64) -> i64 {
    let ceiling = BASE_BACKOFF_MS
        .saturating_mul(1 << effect.attempts.min(20))
        .min(MAX_BACKOFF_MS);
    let mut seed = u64::from(effect.attempts).wrapping_add(0x9E37_79B9_7F4A_7C15);
    for byte in effect.id.bytes() {
        seed = (seed ^ u64::from(byte)).wrapping_mul(0x0100_0000_01B3);
    }
    let ceiling_u = u64::try_from(ceiling).unwrap_or(1).max(1);
    let jittered = i64::try_from(seed % ceiling_u).unwrap_or(ceiling);
    jittered.max(at_least_ms).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn effect(attempts: u32) -> Effect {
        Effect {
            id: "c:3".into(),
            conversation: "c".into(),
            action: "zendesk.create_ticket".into(),
            request: BTreeMap::new(),
            created_at: 0,
            created_seq: 3,
            attempts,
            next_attempt_at: 0,
            last_error: None,
            started: false,
        }
    }

    #[test]
    fn backoff_is_bounded_and_honours_retry_after() {
        for attempts in 0..30 {
            let wait = backoff(&effect(attempts), 0);
            let ceiling = (BASE_BACKOFF_MS << attempts.min(20)).min(MAX_BACKOFF_MS);
            assert!((1..=ceiling).contains(&wait), "attempt {attempts}: {wait}");
        }
        assert_eq!(backoff(&effect(0), 30_000), 30_000);
        assert_eq!(
            backoff(&effect(3), 0),
            backoff(&effect(3), 0),
            "reproducible"
        );
    }
}
