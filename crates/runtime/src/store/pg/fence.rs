//! A step's commit fenced by its locks. A lock connection lost in mid-step loses its locks
//! (the server ended the session), and another node may then take the conversation and run
//! it from the record as it was. So the statement that commits the step (`commits.rs`, shared
//! with the steps committing at the same time) first checks that each lock the step took is
//! still held by the session that took it, and keeps none of the step's writes if not: the
//! step is not acknowledged, its sender resends, and the message runs once, on whichever node
//! then holds the lock. What is left is the time from that check to the statement's commit,
//! where a lock lost can still let another node read the record this commit is replacing.

use super::super::StoreError;
use super::super::backend::{Held, Write};
use super::PgBackend;
use super::locks::PgHeld;

/// `writes` in one transaction, kept only if every lock of `held` is still held.
pub(super) fn apply_held(
    backend: &PgBackend,
    writes: Vec<Write>,
    held: &Held,
) -> Result<(), StoreError> {
    let fence = held
        .lock()
        .and_then(|lock| lock.as_any().downcast_ref::<PgHeld>())
        .map(|lock| lock.taken().to_vec())
        .unwrap_or_default();
    backend.commits.apply(&backend.pool, writes, fence)
}
