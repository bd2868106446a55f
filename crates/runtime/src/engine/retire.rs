//! Removing an expired conversation in its turn: the same line intake uses, so a message
//! for it is applied before the removal (and the conversation, changed, is no longer
//! expired) or after it (and starts a new conversation) — never written into a half-removed
//! one.

use std::collections::HashSet;

use super::{Engine, EngineError};
use crate::retention::expired;
use crate::store::Removed;

impl Engine {
    /// Removes conversation `id` if, read in its turn, it is still ended at or before
    /// `ended_by` with nothing left to do. `Ok(None)`: it was kept.
    pub async fn retire(&self, id: &str, ended_by: i64) -> Result<Option<Removed>, EngineError> {
        let place = self.place(id);
        place.turn().await;
        if let Some(reason) = self.failure() {
            return Err(EngineError::Unavailable(reason));
        }
        // And in turn with the steps of other nodes on the same store.
        let _held = self.hold_conversation(id).await?;
        let store = self.store().as_ref();
        let conversation = store.conversation(id).map_err(|e| self.fail(id, &e))?;
        if !conversation.is_some_and(|c| expired(&c, ended_by)) {
            return Ok(None);
        }
        let removed = store
            .remove_conversation(id)
            .map_err(|e| self.storage(&e))?;
        Ok(Some(removed))
    }

    /// The versions new conversations get now (a scenario's newest): never unused.
    pub fn current_versions(&self) -> HashSet<String> {
        self.inner.catalog.newest_versions()
    }
}
