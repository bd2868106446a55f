//! Dropping a quarantined conversation while the engine runs: in the conversation's line, so
//! no input of it runs meanwhile (on this node, nor on another sharing the store), and
//! durable before the answer.

use super::{Engine, EngineError};
use crate::store::Dropped;

impl Engine {
    /// Removes a quarantined conversation's record, history, due entries and quarantine mark.
    /// `Ok(None)`: it is not quarantined, and nothing was removed.
    pub async fn drop_quarantined(&self, id: &str) -> Result<Option<Dropped>, EngineError> {
        let place = self.place(id);
        place.turn().await;
        if let Some(reason) = self.failure() {
            return Err(EngineError::Unavailable(reason));
        }
        // And in turn with the steps of other nodes on the same store.
        let _held = self.hold_conversation(id).await?;
        let store = self.inner.store.as_ref();
        // A quarantine mark that does not read still marks the conversation.
        match store.quarantined(id) {
            Ok(None) => return Ok(None),
            Ok(Some(_)) => {}
            Err(error) if error.is_corrupt() => {}
            Err(error) => return Err(self.storage(&error)),
        }
        let dropped = store.drop_conversation(id).map_err(|e| self.storage(&e))?;
        self.inner
            .durability
            .wait()
            .await
            .map_err(|e| self.storage(&e))?;
        tracing::warn!(
            conversation = id,
            turns = dropped.turns,
            due = dropped.due,
            "quarantined conversation dropped"
        );
        Ok(Some(dropped))
    }
}
