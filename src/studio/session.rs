//! A studio chat: the conversation the page shows, run on the application `setup::start`
//! assembles (a memory store, the sandboxes, the action runners, a manual clock), with what
//! happened kept as transcript entries (`transcript`). Chats live in memory, at most
//! [`MAX_SESSIONS`] at a time (the oldest one goes), each at most [`MAX_ENTRIES`] long.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::http::StatusCode;
use serde::Serialize;

use super::record::Recorder;
use super::transcript::{Action, Entry};
use crate::config::Workspace;
use crate::harness;
use crate::runtime::engine::Inbound;
use crate::runtime::interpreter::Trace;
use crate::runtime::program::Program;
use crate::runtime::state::{Author, Conversation, Input, Status};
use crate::runtime::value::Value;
use crate::runtime::{Clock, ManualClock};
use crate::service::ApiError;
use crate::setup::App;
use crate::syntax::parse_duration_text;
use crate::zendesk::client::ZendeskClient;
use scenarist_base::clock::iso8601;

/// How many conversations the studio keeps at once.
pub(super) const MAX_SESSIONS: usize = 8;
/// How many things may happen in one chat (a transcript longer than this is no test).
pub(super) const MAX_ENTRIES: usize = 500;
/// The contact's name: the transcript harness's default, so a saved test needs no other.
pub(super) const CONTACT: &str = "Ada Lovelace";
pub(super) const CONVERSATION: &str = "studio";

/// A chat, locked while an action runs (one at a time, in order).
type Shared = Arc<tokio::sync::Mutex<Session>>;

#[derive(Default)]
pub(super) struct Sessions {
    /// Id → (creation order, chat).
    map: Mutex<HashMap<String, (u64, Shared)>>,
    created: AtomicU64,
}

impl Sessions {
    pub(super) fn insert(&self, id: String, session: Session) {
        let order = self.created.fetch_add(1, Ordering::SeqCst);
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        while map.len() >= MAX_SESSIONS {
            let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (order, _))| *order)
                .map(|(id, _)| id.clone())
            else {
                break;
            };
            map.remove(&oldest);
        }
        map.insert(id, (order, Arc::new(tokio::sync::Mutex::new(session))));
    }

    pub(super) fn get(&self, id: &str) -> Result<Shared, ApiError> {
        let map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(id).map(|(_, s)| Arc::clone(s)).ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_session",
                "no such chat (the studio keeps the last 8; start a new one)",
            )
        })
    }
}

pub(super) struct Session {
    pub(super) id: String,
    pub(super) app: App,
    /// What the actions called so far gave.
    pub(super) recorder: Arc<Recorder>,
    pub(super) clock: Arc<ManualClock>,
    pub(super) trace: Arc<Mutex<Vec<Trace>>>,
    /// The scenario's path in the folder and the text the chat runs (the file's own text).
    pub(super) path: String,
    pub(super) text: String,
    pub(super) program: Program,
    pub(super) account: String,
    pub(super) language: Option<String>,
    /// When the conversation started (RFC 3339): a saved test's `at`.
    pub(super) started: String,
    /// Contact fields given with the first message (the language's).
    pub(super) fields: BTreeMap<String, Value>,
    pub(super) zendesk: Option<ZendeskClient>,
    pub(super) sent: u64,
    /// The last history turn shown in `lines`.
    pub(super) shown: u64,
    pub(super) lines: Vec<Line>,
    pub(super) entries: Vec<Entry>,
    pub(super) step: Option<String>,
}

/// A line of the chat as the page shows it.
#[derive(Clone, Debug, Serialize)]
pub(super) struct Line {
    /// `you`, `bot`, `advisor`, `system`, or `studio` (what the admin did: a wait, a route).
    who: &'static str,
    text: String,
    choices: Vec<String>,
}

/// What the page shows of a chat.
#[derive(Debug, Serialize)]
pub(super) struct View {
    id: String,
    path: String,
    scenario: String,
    account: String,
    language: Option<String>,
    languages: Vec<String>,
    /// The chat's clock, RFC 3339.
    now: String,
    status: &'static str,
    team: Option<String>,
    /// The step the conversation is in (or last ran).
    step: Option<String>,
    ticket: Option<u64>,
    sync_error: Option<String>,
    lines: Vec<Line>,
    /// How many transcript entries a saved test would hold.
    entries: usize,
    entry_points: Vec<String>,
    teams: Vec<String>,
}

impl Session {
    pub(super) async fn perform(&mut self, action: Action) -> Result<(), ApiError> {
        if self.entries.len() >= MAX_ENTRIES {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "chat_too_long",
                format!(
                    "this chat has {MAX_ENTRIES} entries, the most one keeps: save it as a test, then start a new chat"
                ),
            ));
        }
        let engine = self.app.engine.clone();
        let before = self.conversation()?.map_or(0, |c| c.last_seq);
        let studio_line = |text: String| Line {
            who: "studio",
            text,
            choices: Vec::new(),
        };
        let input = match &action {
            Action::Contact(text) => {
                self.sent += 1;
                let inbound = Inbound {
                    account: self.account.clone(),
                    conversation: CONVERSATION.into(),
                    message_id: format!("studio-{}", self.sent),
                    contact_id: "contact".into(),
                    contact_name: CONTACT.into(),
                    text: text.clone(),
                    fields: std::mem::take(&mut self.fields),
                };
                engine.handle(inbound).await.map_err(ApiError::from)?;
                None
            }
            Action::Wait(duration) => {
                let seconds = parse_duration_text(duration).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "`{duration}` is not a duration such as 30s, 15m or 1h30m"
                    ))
                })?;
                self.clock
                    .advance(i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX));
                self.lines.push(studio_line(format!("{duration} later")));
                None
            }
            Action::Advisor(text) => {
                self.sent += 1;
                Some(Input::Advisor {
                    message_id: format!("advisor-{}", self.sent),
                    advisor_id: "advisor".into(),
                    advisor_name: "Advisor".into(),
                    text: text.clone(),
                })
            }
            Action::Route(team) => {
                self.lines.push(studio_line(format!("routed to {team}")));
                Some(Input::Team { team: team.clone() })
            }
            Action::ReturnToBot(step) => {
                let step = step.as_str().map(str::to_owned);
                if let Some(step) = &step {
                    if !self.program.is_entry(step) {
                        return Err(ApiError::bad_request(format!(
                            "`{step}` is not an entry point of the scenario; its entry points are {}",
                            self.program.entry_points().join(", ")
                        )));
                    }
                }
                self.lines.push(studio_line(format!(
                    "handed back to the bot{}",
                    step.as_ref()
                        .map(|s| format!(" at {s}"))
                        .unwrap_or_default()
                )));
                Some(Input::ReturnToBot { step })
            }
            Action::Close(_) => {
                self.lines.push(studio_line("closed".into()));
                Some(Input::Close)
            }
        };
        if let Some(input) = input {
            if before == 0 && self.conversation()?.is_none() {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "no_conversation",
                    "there is no conversation yet: write something as the contact first",
                ));
            }
            engine
                .apply(CONVERSATION, input)
                .await
                .map_err(ApiError::from)?;
        }
        engine.settle(16).await.map_err(ApiError::from)?;
        let Some(conversation) = self.conversation()? else {
            return Ok(());
        };
        self.follow(&conversation)?;
        let bot = self.bot_messages(&conversation, before)?;
        self.entries.push(Entry {
            action,
            bot,
            status: conversation.status.name().to_owned(),
            team: conversation
                .team
                .clone()
                .map_or(serde_json::Value::Null, serde_json::Value::String),
        });
        Ok(())
    }

    pub(super) fn conversation(&self) -> Result<Option<Conversation>, ApiError> {
        self.app
            .engine
            .conversation(CONVERSATION)
            .map_err(ApiError::from)
    }

    /// Adds the history's new messages to the chat's lines, and notes the current step.
    fn follow(&mut self, conversation: &Conversation) -> Result<(), ApiError> {
        let history = self
            .app
            .engine
            .history(conversation)
            .map_err(ApiError::from)?;
        for turn in history.iter().filter(|t| t.seq > self.shown) {
            for message in &turn.messages {
                let who = match message.author {
                    Author::Contact => "you",
                    Author::Bot => "bot",
                    Author::Advisor { .. } => "advisor",
                    Author::System => "system",
                };
                let text = if message.parts.is_empty() {
                    message.text.clone()
                } else {
                    let parts: Vec<String> =
                        message.parts.iter().map(harness::transcript_form).collect();
                    parts.join("\n")
                };
                self.lines.push(Line {
                    who,
                    text,
                    choices: message.choices.clone(),
                });
            }
        }
        self.shown = self.shown.max(conversation.last_seq);
        let traced =
            std::mem::take(&mut *self.trace.lock().unwrap_or_else(PoisonError::into_inner));
        if let Some(step) = traced.iter().rev().find_map(|t| match t {
            Trace::Step(step) => Some(step.clone()),
            _ => None,
        }) {
            self.step = Some(step);
        }
        if let Status::Answer { at, .. } | Status::Action { at, .. } = &conversation.status {
            self.step = Some(at.step.clone());
        }
        Ok(())
    }

    /// The bot's messages after turn `before`, as a transcript writes them.
    fn bot_messages(
        &self,
        conversation: &Conversation,
        before: u64,
    ) -> Result<Vec<String>, ApiError> {
        let history = self
            .app
            .engine
            .history(conversation)
            .map_err(ApiError::from)?;
        Ok(history
            .iter()
            .filter(|turn| turn.seq > before)
            .flat_map(|turn| &turn.messages)
            .filter(|m| m.author == Author::Bot)
            .map(|m| {
                if !m.parts.is_empty() {
                    let parts: Vec<String> = m.parts.iter().map(harness::transcript_form).collect();
                    parts.join(" ")
                } else if m.choices.is_empty() {
                    m.text.clone()
                } else {
                    format!("{} [{}]", m.text, m.choices.join(" | "))
                }
            })
            .collect())
    }

    pub(super) fn view(&self, workspace: &Workspace) -> Result<View, ApiError> {
        let conversation = self.conversation()?;
        let sync = conversation.as_ref().and_then(|c| c.sync.as_ref());
        Ok(View {
            id: self.id.clone(),
            path: self.path.clone(),
            scenario: self.program.name.clone(),
            account: self.account.clone(),
            language: self.language.clone(),
            languages: self.program.languages.clone(),
            now: iso8601(self.clock.now()),
            status: conversation.as_ref().map_or("new", |c| c.status.name()),
            team: conversation.as_ref().and_then(|c| c.team.clone()),
            step: self.step.clone(),
            ticket: sync.and_then(|s| s.ticket_id),
            sync_error: sync.and_then(|s| s.last_error.clone()),
            lines: self.lines.clone(),
            entries: self.entries.len(),
            entry_points: self.program.entry_points(),
            teams: workspace.config.teams.clone(),
        })
    }
}
