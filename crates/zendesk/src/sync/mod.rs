//! The sync modes, as pure planning over a conversation's state. After every input the
//! engine applies, `after_input` records what a finished sync effect did and decides the next
//! one — one at a time per conversation, so the ticket exists before its comments and the
//! comments keep the order of the messages:
//!
//! - **trigger**: mode B (`zendesk`) when the conversation's team is the sync team (by the bot
//!   or an advisor); mode A (`interface`) when an advisor writes and the contact is linked to
//!   a Zendesk user;
//! - **create** (`sync.create_ticket`): find or create the user from the email field (or use
//!   the linked user), then create the ticket carrying the history so far;
//! - **continue** (`continue_after_ticket`): every later contact, bot and advisor message
//!   becomes a comment (`sync.comment`), and closing the conversation solves the ticket
//!   (`sync.solve`).
//!
//! The effects go through the runtime's outbox with deterministic ids; `actions.rs` runs them.
//! An account that is not linked, or whose sync toggle is off, never gets a target here, so it
//! never syncs. A ticket the scenario created itself (`zendesk.create_ticket`) counts as the
//! conversation's ticket: no path creates a second one.

use std::collections::{BTreeMap, HashMap};

use crate::actions::to_id;
use scenarist_lang::actions::names;
use scenarist_lang::config::SyncMode;
use scenarist_runtime::hook::AfterInput;
use scenarist_runtime::state::{
    ActionOutcome, Contact, Conversation, DeadLetter, Effect, Input, SyncState,
};
use scenarist_runtime::value::Value;

pub const CREATE: &str = "sync.create_ticket";
pub const COMMENT: &str = "sync.comment";
pub const SOLVE: &str = "sync.solve";

/// How one account syncs (resolved from the workspace config).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncTarget {
    pub organization: String,
    pub mode: SyncMode,
    pub team: Option<String>,
    pub email_field: Option<String>,
    pub continue_after_ticket: bool,
    /// `ticket.fields.NAME` → the Zendesk ticket field id (`sync.ticket_fields`).
    pub ticket_fields: BTreeMap<String, u64>,
}

/// The end of everything: "every message of a turn".
pub const WHOLE_TURN: u32 = u32::MAX;

/// The sync as the engine runs it after each input: each account's target and organization.
#[derive(Debug, Default)]
pub struct ZendeskSync {
    /// Account → how it syncs (absent: the account never syncs).
    pub targets: HashMap<String, SyncTarget>,
    /// Account → its Zendesk organization (also for accounts whose sync is off).
    pub organizations: HashMap<String, String>,
}

impl AfterInput for ZendeskSync {
    fn after_input(
        &self,
        account: &str,
        conversation: &mut Conversation,
        contact: &mut Contact,
        input: &Input,
        finished: Option<&Effect>,
        now: i64,
    ) {
        after_input(
            self.targets.get(account),
            self.organizations.get(account).map(String::as_str),
            conversation,
            contact,
            input,
            finished,
            now,
        );
    }
}

/// Records what `finished` (the effect an `ActionDone` input resolved, if any) did, then plans
/// the next sync effect. `organization` is the account's Zendesk organization (for linking
/// contacts from the scenario's own Zendesk calls); `target` is `None` when the account does
/// not sync.
pub fn after_input(
    target: Option<&SyncTarget>,
    organization: Option<&str>,
    conversation: &mut Conversation,
    contact: &mut Contact,
    input: &Input,
    finished: Option<&Effect>,
    now: i64,
) {
    if let (Some(effect), Input::ActionDone { outcome, .. }) = (finished, input) {
        record(conversation, contact, organization, effect, outcome, now);
    }
    let Some(target) = target else { return };
    let state = conversation.sync.get_or_insert_with(|| SyncState {
        organization: target.organization.clone(),
        ..SyncState::default()
    });
    match target.mode {
        SyncMode::Zendesk => {
            if target.team.is_some() && conversation.team == target.team {
                state.triggered = true;
            }
        }
        SyncMode::Interface => {
            if matches!(input, Input::Advisor { .. })
                && contact.zendesk.contains_key(&target.organization)
            {
                state.triggered = true;
            }
        }
    }
    if matches!(input, Input::Close) {
        state.close_requested = true;
    }
    plan(target, conversation, contact, now);
}

/// What a finished effect changes.
fn record(
    conversation: &mut Conversation,
    contact: &mut Contact,
    organization: Option<&str>,
    effect: &Effect,
    outcome: &ActionOutcome,
    now: i64,
) {
    let result = match outcome {
        ActionOutcome::Done(value) => value.as_ref(),
        ActionOutcome::Failed(error) => {
            if effect.action.starts_with("sync.") {
                conversation.dead.push(DeadLetter {
                    effect: effect.clone(),
                    error: error.clone(),
                    at: now,
                });
                if let Some(state) = &mut conversation.sync {
                    state.last_error = Some(error.clone());
                }
            }
            return;
        }
    };
    let number = |name: &str| {
        result
            .and_then(|v| v.field(name))
            .and_then(Value::as_number)
            .map(to_id)
    };
    match effect.action.as_str() {
        CREATE => {
            if let Some(state) = &mut conversation.sync {
                state.ticket_id = number("ticket_id");
                state.user_id = number("user_id");
                let index = number("index")
                    .and_then(|i| u32::try_from(i).ok())
                    .unwrap_or(WHOLE_TURN);
                state.synced = (number("seq").unwrap_or(effect.created_seq), index);
                state.last_error = None;
                if let Some(user) = state.user_id {
                    contact.zendesk.insert(state.organization.clone(), user);
                }
            }
        }
        COMMENT => {
            if let (Some(state), Some(seq)) = (&mut conversation.sync, number("seq")) {
                let index = number("index")
                    .and_then(|i| u32::try_from(i).ok())
                    .unwrap_or(WHOLE_TURN);
                state.synced = (seq, index);
                state.last_error = None;
            }
        }
        SOLVE => {
            if let Some(state) = &mut conversation.sync {
                state.solved = true;
            }
        }
        names::ZENDESK_FIND_OR_CREATE_USER => {
            if let (Some(organization), Some(user)) = (organization, number("id")) {
                contact.zendesk.insert(organization.to_owned(), user);
            }
        }
        names::ZENDESK_CREATE_TICKET => {
            // The scenario made the conversation's ticket: the sync continues on it.
            let ticket = number("id");
            let requester = effect
                .request
                .get("requester")
                .and_then(|r| r.field("id"))
                .and_then(Value::as_number)
                .map(to_id);
            if let (Some(state), Some(ticket)) = (&mut conversation.sync, ticket) {
                if state.ticket_id.is_none() {
                    state.ticket_id = Some(ticket);
                    state.user_id = state.user_id.or(requester);
                    state.synced = (effect.created_seq, WHOLE_TURN);
                }
            }
        }
        _ => {}
    }
}

#[expect(clippy::cast_precision_loss, reason = "Zendesk ids fit in 53 bits")]
fn number(n: u64) -> Value {
    Value::Number(n as f64)
}

fn plan(target: &SyncTarget, conversation: &mut Conversation, contact: &Contact, now: i64) {
    let busy = conversation
        .pending
        .iter()
        .chain(conversation.dead.iter().map(|d| &d.effect))
        .any(|e| e.action.starts_with("sync."));
    let last_seq = conversation.last_seq;
    let id = conversation.id.clone();
    let Some(state) = &mut conversation.sync else {
        return;
    };
    if busy || state.solved {
        return;
    }
    let mut request = BTreeMap::new();
    let action = match state.ticket_id {
        None if !state.triggered => return,
        None => {
            let user = state
                .user_id
                .or_else(|| contact.zendesk.get(&target.organization).copied());
            let email = target
                .email_field
                .as_ref()
                .and_then(|field| contact.fields.get(field));
            match (user, email) {
                (Some(user), _) => {
                    request.insert("user_id".to_owned(), number(user));
                }
                (None, Some(email)) => {
                    request.insert("email".to_owned(), email.clone());
                }
                (None, None) => {
                    let field = target.email_field.as_deref().unwrap_or("email");
                    state.last_error = Some(format!(
                        "the contact has no `{field}`: the ticket is created once it is known"
                    ));
                    return;
                }
            }
            request.insert("name".to_owned(), Value::text(&contact.name));
            ticket_values(&conversation.variables, target, &mut request);
            CREATE
        }
        Some(_) if !target.continue_after_ticket => return,
        Some(ticket) if state.synced < (last_seq, WHOLE_TURN) => {
            request.insert("ticket_id".to_owned(), number(ticket));
            request.insert("after_seq".to_owned(), number(state.synced.0));
            request.insert("after_index".to_owned(), number(u64::from(state.synced.1)));
            if let Some(user) = state.user_id {
                request.insert("user_id".to_owned(), number(user));
            }
            COMMENT
        }
        Some(ticket) if state.close_requested => {
            request.insert("ticket_id".to_owned(), number(ticket));
            SOLVE
        }
        Some(_) => return,
    };
    request.insert("organization".to_owned(), Value::text(&target.organization));
    let effect_id = format!("{id}:sync:{}", state.effects);
    state.effects += 1;
    conversation.pending.push(Effect {
        id: effect_id,
        conversation: id,
        action: action.to_owned(),
        request,
        created_at: now,
        created_seq: last_seq,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        started: false,
    });
}

#[cfg(test)]
mod tests;

/// What the scenario set on the ticket (`set ticket.priority = …`, kept under dotted names
/// among the variables) as the create request's `tags`, `priority`, `group_id` and
/// `custom_fields` (each `{id, value}`, the id from `sync.ticket_fields`).
fn ticket_values(
    variables: &BTreeMap<String, Value>,
    target: &SyncTarget,
    request: &mut BTreeMap<String, Value>,
) {
    use scenarist_lang::builtins::ticket;
    let mut custom = Vec::new();
    for (key, value) in variables.range(ticket::PREFIX.to_owned()..) {
        let Some(name) = key.strip_prefix(ticket::PREFIX) else {
            break;
        };
        match name.split_once('.') {
            Some((ticket::FIELDS, field)) => {
                if let Some(id) = target.ticket_fields.get(field) {
                    custom.push(Value::Record(BTreeMap::from([
                        ("id".to_owned(), number(*id)),
                        ("value".to_owned(), value.clone()),
                    ])));
                }
            }
            Some(_) => {}
            None => {
                request.insert(format!("ticket_{name}"), value.clone());
            }
        }
    }
    if !custom.is_empty() {
        request.insert("ticket_custom_fields".to_owned(), Value::List(custom));
    }
}
