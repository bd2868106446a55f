//! Running the actions of the outbox. The engine hands each recorded effect (its action, its
//! frozen request and its deterministic id, the idempotency key) to an `ActionRunner` and
//! records what comes back. `BuiltinActions` is the production runner; tests and
//! `scenarist test` plug in their own.

use std::future::Future;
use std::pin::Pin;

use crate::state::Effect;
use crate::value::Value;

/// What running an effect gave.
#[derive(Clone, Debug, PartialEq)]
pub enum ActionResult {
    /// Done; the result bound by `as NAME`, if the action has one.
    Done(Option<Value>),
    /// Failed for good: the scenario takes its `on error` path.
    Failed(String),
    /// Failed in a way worth retrying (timeout, 5xx, 429) after at least `after_ms`.
    Retry { after_ms: i64, error: String },
    /// Not attempted (the remote side asked to wait, e.g. a 429 window is open): try again
    /// after `after_ms`; this does not count as an attempt.
    Wait { after_ms: i64 },
}

pub type ActionFuture<'a> = Pin<Box<dyn Future<Output = ActionResult> + Send + 'a>>;

pub trait ActionRunner: Send + Sync + 'static {
    fn run<'a>(&'a self, effect: &'a Effect) -> ActionFuture<'a>;

    /// The actions this runner executes — built-in ones (`scenarist_lang::actions::names`) or
    /// declared ones (`oms.get_order`) — for dispatching by name and for the test that ties
    /// every spec to an executor.
    fn executes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether an attempt of `action` must be recorded as started before it runs: true for
    /// work that is not idempotent by itself, whose next attempt must first check whether the
    /// previous one got through (a comment, a ticket).
    fn records_attempts(&self, _action: &str) -> bool {
        false
    }
}

/// The production runner. The Zendesk actions need a configured organization, which the
/// connector provides; until one is configured they fail — honestly, so the scenario takes
/// its `on error` path — instead of pretending to succeed.
#[derive(Debug, Default)]
pub struct BuiltinActions;

impl ActionRunner for BuiltinActions {
    fn run<'a>(&'a self, effect: &'a Effect) -> ActionFuture<'a> {
        let result = if effect.action.starts_with("zendesk.") {
            ActionResult::Failed(format!(
                "Zendesk is not configured: `{}` needs a Zendesk organization linked to this account",
                effect.action
            ))
        } else {
            ActionResult::Failed(format!(
                "`{}` is not an action this runtime can run",
                effect.action
            ))
        };
        Box::pin(std::future::ready(result))
    }
}
