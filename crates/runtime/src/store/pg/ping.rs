//! Whether the database answers, for `/readyz`: `SELECT 1` on a pool connection, waited for
//! a short while, and its answer kept for a second so that probes, however many, reach the
//! database at most once a second.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::super::{StorageFault, StoreError};
use super::pool::Pool;
use super::{PgError, storage};

/// How long a check waits for a connection's answer.
const PATIENCE: Duration = Duration::from_secs(2);
/// How long an answer is reused.
const FRESH: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(super) struct Pings {
    last: Mutex<Option<(Instant, Result<(), StorageFault>)>>,
}

impl Pings {
    pub(super) fn check(&self, pool: &Pool) -> Result<(), StoreError> {
        // Held while checking: probes that come meanwhile wait for this answer.
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, answer)) = last.as_ref()
            && at.elapsed() < FRESH
        {
            return answer.clone().map_err(StoreError::Io);
        }
        let answer = pool
            .call_within(
                |connection| {
                    let client = connection.client().map_err(PgError::into_store)?;
                    client.batch_execute("SELECT 1").map_err(|e| storage(&e))
                },
                PATIENCE,
            )
            .map_err(|error| match error {
                StoreError::Io(fault) => fault,
                other => StorageFault::from(other.to_string()),
            });
        *last = Some((Instant::now(), answer.clone()));
        answer.map_err(StoreError::Io)
    }
}
