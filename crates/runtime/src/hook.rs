//! What a connector does after each input, inside the input's step: the engine knows
//! connectors only through this trait (and `runner::ActionRunner`), so the runtime never
//! names Zendesk. The Zendesk sync implements it to record what a finished effect did and to
//! plan its next call; whatever it changes is committed with the input.

use super::state::{Contact, Conversation, Effect, Input};

pub trait AfterInput: Send + Sync + std::fmt::Debug {
    /// Called after `input` was applied to `conversation` (of `account`) and before the
    /// commit; `finished` is the effect an `ActionDone` input resolved, if any.
    fn after_input(
        &self,
        account: &str,
        conversation: &mut Conversation,
        contact: &mut Contact,
        input: &Input,
        finished: Option<&Effect>,
        now: i64,
    );
}
