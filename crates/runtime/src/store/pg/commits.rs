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

/// Every write of a batch, fenced by its steps' locks: `$1`–`$3` the upserts and `$4`–`$5`
/// the deletions (a key's deletion never beside an upsert of it: `rows`), `$9` and `$10`
/// the step of each; `$6`–`$8` each step's locks as (step, server process id, key). A step
/// whose lock is no longer held by the session that took it (that session ended: another
/// node may run the conversation now) has none of its writes kept; the statement answers
/// those steps. Locks are advisory locks on a 64-bit key: `classid` its high half, `objid`
/// its low half, `objsubid` 1.
pub const APPLY: &str = "WITH lost AS (\
                       SELECT DISTINCT taken.step \
                       FROM unnest($6::int4[], $7::int4[], $8::int8[]) AS taken (step, pid, key) \
                       WHERE NOT EXISTS (\
                         SELECT 1 FROM pg_locks l \
                         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
                         AND l.pid = taken.pid \
                         AND ((l.classid::bigint << 32) | l.objid::bigint) = taken.key \
                         AND l.database = \
                           (SELECT oid FROM pg_database WHERE datname = current_database()))), \
                     removed AS (\
                       DELETE FROM scenarist_kv AS kv \
                       USING unnest($4::smallint[], $5::bytea[], $9::int4[]) AS gone (tree, key, step) \
                       WHERE kv.tree = gone.tree AND kv.key = gone.key \
                       AND gone.step NOT IN (SELECT step FROM lost)), \
                     kept AS (\
                       INSERT INTO scenarist_kv (tree, key, value) \
                       SELECT put.tree, put.key, put.value \
                       FROM unnest($1::smallint[], $2::bytea[], $3::bytea[], $10::int4[]) \
                         AS put (tree, key, value, step) \
                       WHERE put.step NOT IN (SELECT step FROM lost) \
                       ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value) \
                     SELECT step FROM lost";

/// At most this many steps in one statement (a bound on its size; the rest go in the next).
const MOST_STEPS: usize = 128;

type Reply = SyncSender<Result<(), StoreError>>;

struct Step {
    writes: Vec<Write>,
    /// The locks the step must still hold when it commits, as (key, server process id of
    /// the session that took it): none for a write outside a step.
    fence: Vec<(i64, i32)>,
    reply: Reply,
}

/// The steps waiting for a connection to commit them.
#[derive(Default)]
pub(super) struct Commits {
    waiting: Arc<Mutex<Vec<Step>>>,
}

impl Commits {
    /// Commits `writes` (one step's, all or none) with whatever else is waiting, if each lock
    /// of `fence` is still held by the session that took it; returns once they are durable.
    pub(super) fn apply(
        &self,
        pool: &Pool,
        writes: Vec<Write>,
        fence: Vec<(i64, i32)>,
    ) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let (reply, answer) = mpsc::sync_channel(1);
        lock(&self.waiting).push(Step {
            writes,
            fence,
            reply,
        });
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
    // Two steps writing one key (a `seen` id two conversations share) would leave only the
    // later write, which a lost lock could then drop: such a batch commits step by step.
    if steps.len() > 1 && shares_a_key(&steps) {
        commit_each_alone(connection, steps);
        return;
    }
    match commit(connection, &steps) {
        // Rolled back: each step again, alone, gets its own answer.
        Err(Failure::Refused(_)) if steps.len() > 1 => commit_each_alone(connection, steps),
        Ok(lost) => {
            for (number, step) in steps.into_iter().enumerate() {
                // A caller is never gone (it waits for this answer).
                let _ = step.reply.send(answer(&lost, number));
            }
        }
        Err(failure) => {
            // Every step is told the same failure, kept whole (its cause with it).
            let fault = match failure.into_store() {
                StoreError::Io(fault) => fault,
                other => StorageFault::new(StorageCause::Other, other.to_string()),
            };
            for step in steps {
                let _ = step.reply.send(Err(StoreError::Io(fault.clone())));
            }
        }
    }
}

/// Commits each of `steps` in a statement of its own, and answers each.
fn commit_each_alone(connection: &mut Connection, steps: Vec<Step>) {
    for step in steps {
        let alone = commit(connection, std::slice::from_ref(&step));
        // A caller is never gone (it waits for this answer).
        let _ = step
            .reply
            .send(alone.map_or_else(|failure| Err(failure.into_store()), |lost| answer(&lost, 0)));
    }
}

/// Step `number`'s answer: committed, or refused because it lost a lock.
fn answer(lost: &[i32], number: usize) -> Result<(), StoreError> {
    if lost
        .iter()
        .any(|step| usize::try_from(*step).ok() == Some(number))
    {
        Err(lock_lost())
    } else {
        Ok(())
    }
}

fn lock_lost() -> StoreError {
    StoreError::Io(StorageFault::new(
        StorageCause::Unreachable,
        "PostgreSQL: the step's lock was lost before its commit (its lock connection's session \
         ended, so another node may run the conversation now): nothing of the step was written"
            .to_owned(),
    ))
}

/// Whether two of `steps` write the same key.
fn shares_a_key(steps: &[Step]) -> bool {
    let mut seen = std::collections::HashSet::new();
    steps.iter().any(|step| {
        rows(&step.writes)
            .into_keys()
            .any(|(tree, key)| !seen.insert((tree, key.to_vec())))
    })
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

/// One statement with the writes of `steps` (which share no key), fenced by their locks: the
/// numbers of the steps that lost a lock, none of whose writes were kept. Rows go in key
/// order, so two statements never wait for each other's row locks in opposite orders.
fn commit(connection: &mut Connection, steps: &[Step]) -> Result<Vec<i32>, Failure> {
    let mut rows_of_steps = BTreeMap::new();
    let (mut fenced, mut sessions, mut keys_held) = (Vec::new(), Vec::new(), Vec::new());
    for (number, step) in steps.iter().enumerate() {
        let number = i32::try_from(number).unwrap_or(i32::MAX);
        for (row, value) in rows(&step.writes) {
            rows_of_steps.insert(row, (value, number));
        }
        for (key, session) in &step.fence {
            fenced.push(number);
            sessions.push(*session);
            keys_held.push(*key);
        }
    }
    let (mut trees, mut keys, mut values, mut put_steps) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut gone_trees, mut gone_keys, mut gone_steps) = (Vec::new(), Vec::new(), Vec::new());
    for ((tree, key), (value, number)) in rows_of_steps {
        if let Some(value) = value {
            trees.push(tree);
            keys.push(key);
            values.push(value);
            put_steps.push(number);
        } else {
            gone_trees.push(tree);
            gone_keys.push(key);
            gone_steps.push(number);
        }
    }
    let statement = connection.statement(APPLY).map_err(Failure::Other)?;
    let client = connection
        .client()
        .map_err(|e| Failure::Other(PgError::into_store(e)))?;
    let lost = client
        .query(
            &statement,
            &[
                &trees,
                &keys,
                &values,
                &gone_trees,
                &gone_keys,
                &fenced,
                &sessions,
                &keys_held,
                &gone_steps,
                &put_steps,
            ],
        )
        .map_err(|e| {
            if e.code().is_some() {
                Failure::Refused(storage(&e))
            } else {
                Failure::Other(storage(&e))
            }
        })?;
    lost.iter()
        .map(|row| row.try_get::<_, i32>(0))
        .collect::<Result<_, _>>()
        .map_err(|e| Failure::Other(storage(&e)))
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
