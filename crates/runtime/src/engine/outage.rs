//! A database out of reach for now (PostgreSQL restarting, a connection lost): unlike any
//! other storage failure it does not stop intake. The failed transaction was rolled back
//! whole (or, for a COMMIT whose answer was lost, its outcome is unknown): the request is
//! refused and not acknowledged, nothing of it is kept in the engine, and the next request
//! reads the record again — so a sender's retry of a commit that did go through is answered
//! by de-duplication. The log says when the database went out of reach and when it answered
//! again, once each; the metrics count the refusals.

use std::sync::atomic::Ordering;

use super::{Engine, EngineError};
use crate::store::StoreError;

impl Engine {
    /// A transient storage error as the request's answer (503 with `Retry-After`).
    pub(super) fn unreachable(&self, error: &StoreError) -> EngineError {
        let metrics = crate::metrics::metrics();
        metrics.store_unreachable_errors.inc();
        if !self.inner.unreachable.swap(true, Ordering::SeqCst) {
            metrics.store_unreachable.set(1);
            tracing::error!(
                %error,
                "the database cannot be reached: requests get 503 until it answers again"
            );
        }
        EngineError::Unreachable(error.plain())
    }

    /// A call to the store went through: an outage, if there was one, is over.
    pub(crate) fn reachable(&self) {
        if self.inner.unreachable.load(Ordering::Relaxed)
            && self.inner.unreachable.swap(false, Ordering::SeqCst)
        {
            crate::metrics::metrics().store_unreachable.set(0);
            tracing::info!("the database answers again: requests are accepted");
        }
    }

    /// Whether the last call to the store found the database out of reach.
    pub fn store_unreachable(&self) -> bool {
        self.inner.unreachable.load(Ordering::Relaxed)
    }
}
