//! The action runner of `scenarist test`: gives each call the result the transcript declares,
//! records every call with its arguments, and for actions the transcript does not mock
//! behaves as the production runner does (a Zendesk action fails: not configured).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use super::transcript::MockSpec;
use crate::runtime::runner::{ActionFuture, ActionResult, ActionRunner, BuiltinActions};
use crate::runtime::state::Effect;
use crate::runtime::value::{from_json, to_json};

pub(super) struct MockActions {
    mocks: BTreeMap<String, MockSpec>,
    calls: Mutex<Vec<(String, serde_json::Value)>>,
}

impl MockActions {
    pub(super) fn new(mocks: BTreeMap<String, MockSpec>) -> Self {
        Self {
            mocks,
            calls: Mutex::new(Vec::new()),
        }
    }

    /// The calls made since the last `take_calls`: action name and arguments.
    pub(super) fn take_calls(&self) -> Vec<(String, serde_json::Value)> {
        std::mem::take(&mut *self.calls.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl ActionRunner for MockActions {
    fn run<'a>(&'a self, effect: &'a Effect) -> ActionFuture<'a> {
        let args = serde_json::Value::Object(
            effect
                .request
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        );
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((effect.action.clone(), args));
        match self.mocks.get(&effect.action) {
            Some(MockSpec {
                error: Some(error), ..
            }) => Box::pin(std::future::ready(ActionResult::Failed(error.clone()))),
            Some(MockSpec { result, .. }) => {
                let value = result.as_ref().and_then(from_json);
                Box::pin(std::future::ready(ActionResult::Done(value)))
            }
            None => BuiltinActions.run(effect),
        }
    }
}
