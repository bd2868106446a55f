//! A transition made into one commit: the side records (history turn, contact, `seen`
//! entry, due-index changes) and the conversation record, and the answer it gives.

use crate::delivery::Delivery;
use crate::interpreter::{Trace, Transition};
use crate::state::{Contact, Conversation, Turn};
use crate::store::{Commit, Due, DueKind, Seen};

use super::{Outcome, Reply, ReplyPart};

/// What of a conversation's record the side indexes mirror: its timer and outbox schedule
/// (the due index), and the oldest id of a full window, which the next id pushes out (to the
/// `seen` index).
pub(super) struct Schedule {
    timer: Option<crate::state::Timer>,
    pub(super) effects: Vec<(String, i64)>,
    oldest: Option<(u64, u64)>,
}

impl Schedule {
    pub(super) fn of(conversation: &Conversation) -> Self {
        Self {
            oldest: conversation
                .recent_is_full()
                .then(|| conversation.recent.front().copied())
                .flatten(),
            timer: conversation.timer.clone(),
            effects: conversation
                .pending
                .iter()
                .map(|e| (e.id.clone(), e.next_attempt_at))
                .collect(),
        }
    }
}

/// The side records and the record of a transition, and its trace.
pub(super) fn commit_of(
    before: &Schedule,
    stored_contact: Option<&Contact>,
    transition: Transition,
    delivery: Option<&Delivery>,
) -> (Commit, Vec<Trace>) {
    let Transition {
        conversation: after,
        contact,
        turn,
        trace,
        ..
    } = transition;
    let due_of = |what: DueKind, at: i64| Due {
        at,
        conversation: after.id.clone(),
        what,
    };
    let mut due = Vec::new();
    let mut undue = Vec::new();
    if before.timer != after.timer {
        if let Some(timer) = &before.timer {
            undue.push(due_of(DueKind::Timer(timer.id), timer.due_at));
        }
        if let Some(timer) = &after.timer {
            due.push(due_of(DueKind::Timer(timer.id), timer.due_at));
        }
    }
    for effect in &after.pending {
        let old = before.effects.iter().find(|(id, _)| *id == effect.id);
        if old.is_none_or(|(_, at)| *at != effect.next_attempt_at) {
            due.push(due_of(
                DueKind::Effect(effect.id.clone()),
                effect.next_attempt_at,
            ));
        }
    }
    for (id, at) in &before.effects {
        let new = after.pending.iter().find(|e| e.id == *id);
        if new.is_none_or(|new| new.next_attempt_at != *at) {
            undue.push(due_of(DueKind::Effect(id.clone()), *at));
        }
    }
    // An id is written to the `seen` index only when it leaves the window: until then the
    // record itself vouches for it.
    let seen = before
        .oldest
        .filter(|oldest| delivery.is_some() && !after.recent.contains(oldest))
        .map(|(hash, seq)| {
            (
                hash,
                Seen {
                    conversation: after.id.clone(),
                    seq,
                    at: Some(after.updated_at),
                },
            )
        })
        .into_iter()
        .collect();
    let contact = (Some(&contact) != stored_contact).then_some(contact);
    // A turn with nothing in it (an effect retried or started) is not written.
    let turn = turn.is_recorded().then_some(turn);
    (
        Commit {
            turn,
            contact,
            seen,
            due,
            undue,
            conversation: after,
        },
        trace,
    )
}

pub(super) fn outcome(
    conversation: &Conversation,
    turn: &Turn,
    duplicate: bool,
    trace: Vec<Trace>,
) -> Outcome {
    Outcome {
        conversation: conversation.id.clone(),
        replies: turn
            .replies()
            .map(|m| Reply {
                text: m.text.clone(),
                choices: m.choices.clone(),
                parts: m.parts.iter().map(ReplyPart::from).collect(),
            })
            .collect(),
        status: conversation.status.name(),
        team: conversation.team.clone(),
        duplicate,
        seq: turn.seq,
        trace,
        ignored_fields: Vec::new(),
    }
}
