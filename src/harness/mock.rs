//! The action runner of `scenarist test`: gives each call the result the transcript declares,
//! records every call with its arguments, and for actions the transcript does not mock
//! behaves as the production runner does (a Zendesk action fails: not configured).
//!
//! A mock is checked against the action's signature before any test runs (`mock_problem`):
//! an action that does not exist, or a result field its result does not have, would make a
//! transcript pass on values the real action can never give.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use super::transcript::{MockSpec, TestFile};
use crate::config::Workspace;
use crate::diagnostic::did_you_mean;
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

/// Why a mock of `file` cannot stand for its action in `workspace`, if one cannot.
pub(super) fn mock_problem(file: &TestFile, workspace: &Workspace) -> Option<String> {
    for case in &file.tests {
        for (name, mock) in &case.actions {
            let Some(action) = workspace.action(name) else {
                let names = workspace.action_names();
                let hint = did_you_mean(name, names.iter().map(String::as_str))
                    .unwrap_or_else(|| format!("the actions are {}", names.join(", ")));
                return Some(format!(
                    "test `{}` mocks `{name}`, which is not an action: {hint}",
                    case.name
                ));
            };
            let Some(serde_json::Value::Object(fields)) = &mock.result else {
                continue;
            };
            let Some(record) = action.result else {
                return Some(format!(
                    "test `{}` gives `{name}` a result, but it has none",
                    case.name
                ));
            };
            if let Some(field) = fields.keys().find(|f| record.field(f).is_none()) {
                let known: Vec<&str> = record.fields.iter().map(|(n, _)| *n).collect();
                return Some(format!(
                    "test `{}` mocks `{name}` with `{field}`, which its result does not have (its fields: {})",
                    case.name,
                    known.join(", ")
                ));
            }
        }
    }
    None
}
