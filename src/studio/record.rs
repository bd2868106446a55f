//! The chat's action runner: the application's own (Zendesk's sandbox, the declared HTTP
//! actions), with what each call gave written down, so a saved transcript can mock every
//! action with the result it had in the studio (`scenarist test` runs no connector).

use std::sync::{Arc, Mutex, PoisonError};

use crate::runtime::runner::{ActionFuture, ActionResult, ActionRunner};
use crate::runtime::state::Effect;
use crate::runtime::value::to_json;

use super::transcript::Mock;

pub(super) struct Recorder {
    inner: Arc<dyn ActionRunner>,
    /// Action name and what it gave, in the order the calls finished.
    calls: Mutex<Vec<(String, Mock)>>,
}

impl Recorder {
    pub(super) fn new(inner: Arc<dyn ActionRunner>) -> Self {
        Self {
            inner,
            calls: Mutex::new(Vec::new()),
        }
    }

    /// Every call so far.
    pub(super) fn calls(&self) -> Vec<(String, Mock)> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ActionRunner for Recorder {
    fn run<'a>(&'a self, effect: &'a Effect) -> ActionFuture<'a> {
        Box::pin(async move {
            let result = self.inner.run(effect).await;
            let mock = match &result {
                ActionResult::Done(value) => Some(Mock {
                    result: value.as_ref().map(to_json),
                    error: None,
                }),
                ActionResult::Failed(error) => Some(Mock {
                    result: None,
                    error: Some(error.clone()),
                }),
                // Tried again later: the attempt that ends it is the one recorded.
                ActionResult::Retry { .. } | ActionResult::Wait { .. } => None,
            };
            if let Some(mock) = mock {
                self.calls
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((effect.action.clone(), mock));
            }
            result
        })
    }

    fn executes(&self) -> Vec<String> {
        self.inner.executes()
    }

    fn records_attempts(&self, action: &str) -> bool {
        self.inner.records_attempts(action)
    }
}
