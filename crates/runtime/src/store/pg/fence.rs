//! A step's commit fenced by its locks. A lock connection lost in mid-step loses its locks
//! (the server ended the session), and another node may then take the conversation and run
//! it from the record as it was. So the step's transaction checks, as its last statement
//! before `COMMIT`, that each lock it took is still held by the session that took it, and
//! rolls back if not: the step is not acknowledged, its sender resends, and the message runs
//! once, on whichever node then holds the lock. What is left is the time from that check to
//! the commit's end (one round trip), where a lock lost can still let another node read the
//! record this commit is about to replace.

use super::super::StoreError;
use super::super::backend::{Backend as _, Held, Write};
use super::locks::PgHeld;
use super::{DELETE, PgBackend, PgError, UPSERT, code, storage};
use crate::store::{StorageCause, StorageFault};

/// How many of the locks (`$1` the sessions' server process ids, `$2` the keys, pairwise)
/// are still held by the session that took them: one round trip for all of a step's locks.
const STILL_HELD: &str = "SELECT count(*) FROM pg_locks l \
     JOIN unnest($1::int4[], $2::int8[]) AS taken (pid, key) \
     ON l.pid = taken.pid AND ((l.classid::bigint << 32) | l.objid::bigint) = taken.key \
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())";

/// `writes` in one transaction, kept only if every lock of `held` is still held.
pub(super) fn apply_held(
    backend: &PgBackend,
    writes: Vec<Write>,
    held: &Held,
) -> Result<(), StoreError> {
    let Some(taken) = held
        .lock()
        .and_then(|lock| lock.as_any().downcast_ref::<PgHeld>())
        .map(|lock| lock.taken().to_vec())
    else {
        return backend.apply(writes);
    };
    backend.pool.call(move |connection| {
        let upsert = connection.statement(UPSERT)?;
        let delete = connection.statement(DELETE)?;
        let still_held = connection.statement(STILL_HELD)?;
        let client = connection.client().map_err(PgError::into_store)?;
        let mut transaction = client.transaction().map_err(|e| storage(&e))?;
        for write in &writes {
            match write {
                Write::Insert { tree, key, value } => {
                    transaction.execute(&upsert, &[&code(*tree), key, value])
                }
                Write::Remove { tree, key } => transaction.execute(&delete, &[&code(*tree), key]),
            }
            .map_err(|e| storage(&e))?;
        }
        let (sessions, keys): (Vec<i32>, Vec<i64>) =
            taken.iter().map(|(key, session)| (*session, *key)).unzip();
        let held: i64 = transaction
            .query_one(&still_held, &[&sessions, &keys])
            .and_then(|row| row.try_get(0))
            .map_err(|e| storage(&e))?;
        if usize::try_from(held).ok() != Some(taken.len()) {
            // Dropping the transaction rolls it back.
            return Err(lost());
        }
        transaction.commit().map_err(|e| storage(&e))
    })
}

fn lost() -> StoreError {
    StoreError::Io(StorageFault::new(
        StorageCause::Unreachable,
        "PostgreSQL: the step's lock was lost before its commit (its lock connection's session \
         ended, so another node may run the conversation now): nothing of the step was written"
            .to_owned(),
    ))
}
