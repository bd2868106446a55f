//! Group commit: the steps that commit while the connections are busy go to PostgreSQL
//! together, as one statement — one round trip, one transaction, one WAL flush — instead of a
//! transaction of a statement per row each (`docs/performance.md#postgresql` has the figures).
//!
//! The shape of sled's group commit (`durability.rs`): each step joins the waiting batch and
//! sends a job to the pool; the first job a free connection runs takes every step waiting and
//! commits them, later jobs find theirs taken and do nothing. With a free connection a step
//! commits at once, alone; under load the batch is what arrived during the commits before it.
//!
//! Each step is answered only after the statement holding its writes committed, durably
//! (`synchronous_commit` on). One statement is one transaction, so each step's writes are
//! still all kept or none. When the server refuses a batch (an error with a SQL state: the
//! statement was rolled back), each of its steps is tried again alone, so one step's failure
//! is that step's and never takes the others' writes with it; a batch lost with its
//! connection (no SQL state: it may have committed) fails every step in it, as a lost commit
//! fails its one step.

use std::collections::BTreeMap;
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};

use super::super::backend::Write;
use super::super::{StorageCause, StorageFault, StoreError};
use super::pool::{Connection, Pool};
use super::{PgError, code, storage};

/// Every write of a batch: its upserts and its deletions, each a column of the statement's
/// arrays; a key's deletion runs before any upsert, and no key is in both (`rows`).
const APPLY: &str = "WITH removed AS (\
                       DELETE FROM scenarist_kv AS kv \
                       USING unnest($4::smallint[], $5::bytea[]) AS gone (tree, key) \
                       WHERE kv.tree = gone.tree AND kv.key = gone.key) \
                     INSERT INTO scenarist_kv (tree, key, value) \
                     SELECT * FROM unnest($1::smallint[], $2::bytea[], $3::bytea[]) \
                     ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value";

/// At most this many steps in one statement (a bound on its size; the rest go in the next).
const MOST_STEPS: usize = 128;

type Reply = SyncSender<Result<(), StoreError>>;

struct Step {
    writes: Vec<Write>,
    reply: Reply,
}

/// The steps waiting for a connection to commit them.
#[derive(Default)]
pub(super) struct Commits {
    waiting: Arc<Mutex<Vec<Step>>>,
}

impl Commits {
    /// Commits `writes` (one step's, all or none) with whatever else is waiting; returns once
    /// they are durable.
    pub(super) fn apply(&self, pool: &Pool, writes: Vec<Write>) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let (reply, answer) = mpsc::sync_channel(1);
        lock(&self.waiting).push(Step { writes, reply });
        let waiting = Arc::clone(&self.waiting);
        if !pool.send(move |connection| commit_waiting(connection, &waiting)) {
            return Err(stopped());
        }
        answer.recv().map_err(|_| stopped())?
    }
}

/// A job of the pool: commits the steps waiting (none when an earlier job took them).
fn commit_waiting(connection: &mut Connection, waiting: &Mutex<Vec<Step>>) {
    let steps: Vec<Step> = {
        let mut waiting = lock(waiting);
        let taken = waiting.len().min(MOST_STEPS);
        waiting.drain(..taken).collect()
    };
    if steps.is_empty() {
        return;
    }
    let result = commit(connection, steps.iter().flat_map(|step| &step.writes));
    match result {
        Err(Failure::Refused(_)) if steps.len() > 1 => {
            // Rolled back: each step again, alone, gets its own answer.
            for step in steps {
                let alone = commit(connection, &step.writes).map_err(Failure::into_store);
                let _ = step.reply.send(alone);
            }
        }
        result => {
            // Every step is told the same failure, kept whole (its cause with it).
            let result = result.map_err(|failure| match failure.into_store() {
                StoreError::Io(fault) => fault,
                other => StorageFault::new(StorageCause::Other, other.to_string()),
            });
            for step in steps {
                // A caller is never gone (it waits for this answer).
                let _ = step.reply.send(result.clone().map_err(StoreError::Io));
            }
        }
    }
}

/// Why a batch's statement failed.
enum Failure {
    /// The server refused it: it was rolled back, nothing of it was kept.
    Refused(StoreError),
    /// Anything else (the connection was lost, or could not be made).
    Other(StoreError),
}

impl Failure {
    fn into_store(self) -> StoreError {
        match self {
            Failure::Refused(error) | Failure::Other(error) => error,
        }
    }
}

/// The rows `writes` leave, in key order: each key's last write, `None` for a removal.
/// Applied together they give what applying `writes` one by one gives.
pub(super) fn rows<'a>(
    writes: impl IntoIterator<Item = &'a Write>,
) -> BTreeMap<(i16, &'a [u8]), Option<&'a [u8]>> {
    let mut rows = BTreeMap::new();
    for write in writes {
        match write {
            Write::Insert { tree, key, value } => {
                rows.insert((code(*tree), key.as_slice()), Some(value.as_slice()))
            }
            Write::Remove { tree, key } => rows.insert((code(*tree), key.as_slice()), None),
        };
    }
    rows
}

/// One statement with `writes`. Rows go in key order, so two statements never wait for each
/// other's row locks in opposite orders.
fn commit<'a>(
    connection: &mut Connection,
    writes: impl IntoIterator<Item = &'a Write>,
) -> Result<(), Failure> {
    let (mut trees, mut keys, mut values) = (Vec::new(), Vec::new(), Vec::new());
    let (mut gone_trees, mut gone_keys) = (Vec::new(), Vec::new());
    for ((tree, key), value) in rows(writes) {
        if let Some(value) = value {
            trees.push(tree);
            keys.push(key);
            values.push(value);
        } else {
            gone_trees.push(tree);
            gone_keys.push(key);
        }
    }
    let statement = connection.statement(APPLY).map_err(Failure::Other)?;
    let client = connection
        .client()
        .map_err(|e| Failure::Other(PgError::into_store(e)))?;
    client
        .execute(
            &statement,
            &[&trees, &keys, &values, &gone_trees, &gone_keys],
        )
        .map(drop)
        .map_err(|e| {
            if e.code().is_some() {
                Failure::Refused(storage(&e))
            } else {
                Failure::Other(storage(&e))
            }
        })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The queue is a list of steps: a panic elsewhere leaves it whole.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn stopped() -> StoreError {
    StoreError::Io(
        "the PostgreSQL connection threads have stopped (see the log for a panic)".into(),
    )
}

#[cfg(test)]
mod tests;
