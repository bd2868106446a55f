//! What the runtime keeps: the conversation record (the commit point of every message), the
//! contact record, history turns, outbox effects and timers, and the inputs that move a
//! conversation. All of it is plain serde data, stored by `store` and exported as JSON.
//! Times are milliseconds since the Unix epoch, from the runtime's clock.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};

use super::value::Value;

/// How many recent inbound message ids a conversation record remembers (the de-dup window);
/// an id that leaves it is written to the long-term `seen` index in the same commit.
pub const RECENT_WINDOW: usize = 32;

/// Where a conversation stands. Written last, in one insert: the moment a message is applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub account: String,
    pub contact: String,
    /// The scenario's name and the version (source hash) this conversation is pinned to.
    pub scenario: String,
    pub version: String,
    pub status: Status,
    pub variables: BTreeMap<String, Value>,
    pub team: Option<String>,
    /// The sequence number of the last history turn; turns beyond it are ignored.
    pub last_seq: u64,
    /// Recent inbound message ids (as `id_hash`) and the turn each produced. A hash keeps
    /// the record small; a match is confirmed against the turn's own message id.
    pub recent: VecDeque<(u64, u64)>,
    /// The outbox: action calls recorded, not yet resolved.
    pub pending: Vec<Effect>,
    pub timer: Option<Timer>,
    /// Counters that make timer and effect ids unique and deterministic.
    pub next_timer: u64,
    /// How many times the scenario started over in this conversation (after `end`).
    pub episode: u32,
    pub created_at: i64,
    pub updated_at: i64,
    /// The Zendesk sync of this conversation, once its account syncs.
    pub sync: Option<SyncState>,
    /// Effects that failed for good.
    pub dead: Vec<DeadLetter>,
}

impl Conversation {
    pub fn new(
        id: &str,
        account: &str,
        contact: &str,
        scenario: &str,
        version: &str,
        now: i64,
    ) -> Self {
        Self {
            id: id.to_owned(),
            account: account.to_owned(),
            contact: contact.to_owned(),
            scenario: scenario.to_owned(),
            version: version.to_owned(),
            status: Status::Fresh,
            variables: BTreeMap::new(),
            team: None,
            last_seq: 0,
            recent: VecDeque::new(),
            pending: Vec::new(),
            timer: None,
            next_timer: 0,
            episode: 0,
            created_at: now,
            updated_at: now,
            sync: None,
            dead: Vec::new(),
        }
    }

    /// The turn an inbound message id may have produced, if its hash is in the recent window
    /// (the caller confirms with the turn).
    pub fn recent_turn(&self, message_id: &str) -> Option<u64> {
        let hash = id_hash(message_id);
        self.recent
            .iter()
            .find(|(h, _)| *h == hash)
            .map(|(_, seq)| *seq)
    }

    /// Whether the window still holds every inbound message id the conversation ever got.
    pub fn recent_is_complete(&self) -> bool {
        self.recent.len() < RECENT_WINDOW
    }

    /// Whether the next id remembered pushes the oldest one out of the window.
    pub fn recent_is_full(&self) -> bool {
        self.recent.len() >= RECENT_WINDOW
    }

    pub fn remember(&mut self, message_id: &str, seq: u64) {
        self.recent.push_back((id_hash(message_id), seq));
        while self.recent.len() > RECENT_WINDOW {
            self.recent.pop_front();
        }
    }
}

/// A position in a compiled scenario: a step and an instruction index in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pc {
    pub step: String,
    pub index: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Status {
    /// Created, the scenario has not run yet.
    Fresh,
    /// Waiting for the contact's answer to the `ask` at `at`.
    Answer { at: Pc, invalid: u32 },
    /// Waiting for the result of the effect `effect`, called at `at`.
    Action { at: Pc, effect: String },
    /// Handed to an advisor: the bot is silent until `return to bot`.
    WithAdvisor,
    /// Stopped by `end` or closed; a new contact message starts the scenario again.
    Ended,
}

impl Status {
    /// The name used in APIs and transcripts.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Fresh | Status::Answer { .. } | Status::Action { .. } => "waiting",
            Status::WithAdvisor => "with_advisor",
            Status::Ended => "ended",
        }
    }
}

/// An armed `timeout`: fires `Input::Timer { id }` at `due_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    pub id: u64,
    pub due_at: i64,
}

/// An action call recorded in the outbox. The request is frozen when recorded and sent
/// unchanged on every attempt; `id` is deterministic (`conversation:turn:n`) and is the
/// idempotency key of whatever the action does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    pub id: String,
    /// The conversation the effect belongs to.
    pub conversation: String,
    pub action: String,
    pub request: BTreeMap<String, Value>,
    /// When it was recorded (retries stop a day later).
    pub created_at: i64,
    /// The history turn that recorded it: what the effect may read of the history is fixed
    /// (turns up to here never change), so a retry sends the same request.
    pub created_seq: u64,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    /// An attempt was started: it may have reached the remote side, so the next attempt
    /// first checks whether the work is already done.
    pub started: bool,
}

/// An effect that failed for good, kept for `scenarist outbox list|retry`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub effect: Effect,
    pub error: String,
    pub at: i64,
}

/// Where the conversation stands with its Zendesk ticket (the sync modes).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    pub organization: String,
    /// The sync was triggered (mode B: the sync team was reached; mode A: an advisor wrote).
    pub triggered: bool,
    pub user_id: Option<u64>,
    pub ticket_id: Option<u64>,
    /// Messages up to this position (turn seq, message index) are on the ticket.
    pub synced: (u64, u32),
    /// The conversation was closed: the ticket is to be solved.
    pub close_requested: bool,
    pub solved: bool,
    /// Counts sync effects, for their deterministic ids.
    pub effects: u32,
    /// The last sync error, shown with the conversation.
    pub last_error: Option<String>,
}

/// A contact: a person on a channel account, across all their conversations.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub account: String,
    pub id: String,
    pub name: String,
    pub fields: BTreeMap<String, Value>,
    pub tags: BTreeSet<String>,
    /// Per Zendesk organization, the Zendesk user this contact is linked to.
    pub zendesk: BTreeMap<String, u64>,
}

impl Contact {
    pub fn new(account: &str, id: &str, name: &str) -> Self {
        Self {
            account: account.to_owned(),
            id: id.to_owned(),
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// The first word of the name, the usual way to greet.
    pub fn first_name(&self) -> &str {
        self.name.split_whitespace().next().unwrap_or("")
    }
}

/// Who wrote a message in the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Author {
    Contact,
    Bot,
    Advisor {
        id: String,
        name: String,
    },
    /// The runtime's own notes: team changes, handoffs, errors.
    System,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub author: Author,
    /// The text; for a rich message, its plain-text fallback (what a text-only channel shows).
    pub text: String,
    /// Quick replies offered with a bot question.
    pub choices: Vec<String>,
    pub at: i64,
    /// What a rich message shows besides text (`link`, `image`, `card`); empty for text.
    /// (Absent from exports written before rich messages: empty.)
    #[serde(default)]
    pub parts: Vec<Part>,
}

/// A part of a rich message, its texts and URLs rendered for the conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Part {
    /// A button that opens a URL.
    Link { label: String, url: String },
    /// A picture and the text that describes it.
    Image { url: String, alt: String },
    /// A title, an optional body and picture, and link buttons.
    Card {
        title: String,
        text: Option<String>,
        image: Option<(String, String)>,
        links: Vec<(String, String)>,
    },
}

/// Everything one input did: the message that came in (if any) and what followed. Written
/// before the conversation record, under its sequence number, so a re-run rewrites it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub seq: u64,
    pub at: i64,
    /// The inbound message id (contact or advisor) that caused the turn, if any.
    pub message_id: Option<String>,
    pub messages: Vec<Message>,
}

impl Turn {
    /// Whether the turn holds something worth keeping in the history.
    pub fn is_recorded(&self) -> bool {
        self.message_id.is_some() || !self.messages.is_empty()
    }

    /// The bot's replies in this turn.
    pub fn replies(&self) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(|m| m.author == Author::Bot)
    }
}

impl Part {
    /// What a client that shows only text shows instead: the texts, each URL after its label.
    pub fn fallback(&self) -> String {
        match self {
            Part::Link { label, url } => format!("{label}: {url}"),
            Part::Image { url, alt } => format!("{alt}: {url}"),
            Part::Card {
                title,
                text,
                image,
                links,
            } => {
                let mut lines = vec![title.clone()];
                lines.extend(text.iter().cloned());
                lines.extend(image.iter().map(|(url, alt)| format!("{alt}: {url}")));
                lines.extend(links.iter().map(|(label, url)| format!("{label}: {url}")));
                lines.join("\n")
            }
        }
    }
}

/// What moves a conversation. Every change to a conversation is one of these, applied by
/// the interpreter one at a time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Input {
    /// A message from the contact.
    Contact { message_id: String, text: String },
    /// A message from an advisor (the bot stays silent).
    Advisor {
        message_id: String,
        advisor_id: String,
        advisor_name: String,
        text: String,
    },
    /// An advisor routes the conversation to a team.
    Team { team: String },
    /// An advisor hands the conversation back to the scenario, at a step or the start.
    ReturnToBot { step: Option<String> },
    /// The conversation is closed.
    Close,
    /// An armed timeout is due.
    Timer { id: u64 },
    /// An effect of the outbox finished.
    ActionDone {
        effect: String,
        outcome: ActionOutcome,
    },
    /// An effect failed in a way worth retrying; try again at `next_attempt_at`.
    ActionRetry {
        effect: String,
        next_attempt_at: i64,
        error: String,
    },
    /// An effect could not be attempted yet (a 429 window is open): try at `next_attempt_at`;
    /// this is not an attempt.
    ActionDeferred {
        effect: String,
        next_attempt_at: i64,
    },
    /// An attempt of an effect is about to start (recorded first for effects that are not
    /// idempotent by themselves).
    ActionStarted { effect: String },
    /// A dead letter goes back to the outbox (`scenarist outbox retry`).
    Revive { effect: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ActionOutcome {
    Done(Option<Value>),
    Failed(String),
}

/// FNV-1a, 64 bits: a stable hash of a message id (stored, so it must never change).
pub fn id_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::{Author, Message, Part};

    #[test]
    fn an_export_written_before_rich_messages_reads_with_no_parts() {
        let old = r#"{"author":"Bot","text":"Hello","choices":[],"at":3}"#;
        let message: Message = serde_json::from_str(old).unwrap();
        assert_eq!(message.author, Author::Bot);
        assert!(message.parts.is_empty());
    }

    #[test]
    fn a_card_falls_back_to_its_texts_one_per_line() {
        let card = Part::Card {
            title: "Your order".into(),
            text: None,
            image: None,
            links: vec![
                ("Track".into(), "https://a.example/t".into()),
                ("Help".into(), "https://a.example/h".into()),
            ],
        };
        assert_eq!(
            card.fallback(),
            "Your order\nTrack: https://a.example/t\nHelp: https://a.example/h"
        );
    }
}
