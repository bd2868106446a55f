//! The chat pane: a conversation with the text being edited, run on the real runtime —
//! `setup::start` on a memory store, with the workspace's sandbox Zendesk organizations and
//! action runners — as `scenarist chat` runs one. The clock is a manual one that moves only
//! with `wait` (as a transcript's does), so what happened can be saved as a transcript test
//! that replays the same way (`transcript`). The language switch starts a new conversation
//! in that language (a transcript's `language` is set before its first message).
//!
//! Sessions live in memory, at most [`MAX_SESSIONS`] at a time (the oldest one goes).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::Studio;
use super::files::{self, Kind};
use super::guard::JsonBody;
use super::record::Recorder;
use super::transcript::{self, Action, Entry, Mock};
use crate::config::Workspace;
use crate::harness;
use crate::library::Library;
use crate::lint::lint_bytes;
use crate::runtime::engine::Inbound;
use crate::runtime::interpreter::Trace;
use crate::runtime::program::Program;
use crate::runtime::state::{Author, Conversation, Input, Status};
use crate::runtime::value::Value;
use crate::runtime::{Clock, FlushPolicy, ManualClock};
use crate::service::ApiError;
use crate::setup::{self, App, Data};
use crate::syntax::parse_duration_text;
use crate::zendesk::actions::credentials;
use crate::zendesk::client::{Timeouts, ZendeskClient};
use scenarist_base::clock::iso8601;

/// How many conversations the studio keeps at once.
pub(super) const MAX_SESSIONS: usize = 8;
/// How many things may happen in one chat (a transcript longer than this is no test).
const MAX_ENTRIES: usize = 500;
/// The contact's name: the transcript harness's default, so a saved test needs no other.
const CONTACT: &str = "Ada Lovelace";
const CONVERSATION: &str = "studio";

/// A chat, locked while an action runs (one at a time, in order).
type Shared = Arc<tokio::sync::Mutex<Session>>;

#[derive(Default)]
pub(super) struct Sessions {
    /// Id → (creation order, chat).
    map: Mutex<HashMap<String, (u64, Shared)>>,
    created: AtomicU64,
}

impl Sessions {
    fn insert(&self, id: String, session: Session) {
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

    fn get(&self, id: &str) -> Result<Shared, ApiError> {
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

struct Session {
    id: String,
    app: App,
    /// What the actions called so far gave.
    recorder: Arc<Recorder>,
    clock: Arc<ManualClock>,
    trace: Arc<Mutex<Vec<Trace>>>,
    /// The scenario's path in the folder and the text the chat runs (the file's own text).
    path: String,
    text: String,
    program: Program,
    account: String,
    language: Option<String>,
    /// When the conversation started (RFC 3339): a saved test's `at`.
    started: String,
    /// Contact fields given with the first message (the language's).
    fields: BTreeMap<String, Value>,
    zendesk: Option<ZendeskClient>,
    sent: u64,
    /// The last history turn shown in `lines`.
    shown: u64,
    lines: Vec<Line>,
    entries: Vec<Entry>,
    step: Option<String>,
}

/// A line of the chat as the page shows it.
#[derive(Clone, Debug, Serialize)]
struct Line {
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

#[derive(Debug, Deserialize)]
pub(super) struct Create {
    path: String,
    /// The text to run (default: the file's saved text).
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    language: Option<String>,
    /// The channel account (default: the config's account that runs this scenario).
    #[serde(default)]
    account: Option<String>,
    /// When the conversation starts (RFC 3339; default: now).
    #[serde(default)]
    at: Option<String>,
}

type Answer = Result<Json<View>, ApiError>;

/// `POST /api/sessions`: a new conversation with the scenario.
pub(super) async fn create(
    State(studio): State<Arc<Studio>>,
    JsonBody(create): JsonBody<Create>,
) -> Answer {
    let (path, kind) = files::confine(&studio.folder, &create.path)?;
    if kind != Kind::Scenario {
        return Err(ApiError::bad_request("a chat runs a scenario (`.scn`)"));
    }
    let text = match create.text {
        Some(text) => text,
        None => files::read_bytes(path)
            .await
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("cannot read `{}` as text", create.path),
                )
            })?,
    };
    let runnable = runnable(&studio, &create.path, &text)?;
    let (source, program) = runnable;
    let account = create.account.unwrap_or_else(|| {
        studio
            .workspace
            .config
            .accounts
            .iter()
            .find(|(_, account)| account.scenario == program.name)
            .map_or_else(|| "studio:web".to_owned(), |(id, _)| id.clone())
    });
    let mut fields = BTreeMap::new();
    if let Some(language) = &create.language {
        let field = harness::language_field(&program, language).map_err(ApiError::bad_request)?;
        fields.insert(field, Value::text(language));
    }
    let start = match &create.at {
        Some(at) => scenarist_lang::schedule::parse_instant(at).map_err(ApiError::bad_request)?,
        // Whole seconds, so the saved test's `at` is the same instant.
        None => scenarist_base::clock::SystemClock.now().div_euclid(1000) * 1000,
    };
    let clock = Arc::new(ManualClock::new(start));
    let trace = Arc::new(Mutex::new(Vec::new()));
    let name = program.name.clone();
    let traced = Arc::clone(&trace);
    let mut recorder = None;
    let app = setup::start_wrapped(
        &studio.workspace,
        Data::Memory,
        Arc::clone(&clock) as Arc<dyn Clock>,
        |options| {
            options.routes.clear();
            options.default_scenario = Some(name);
            options.flush = FlushPolicy::EveryMessage;
            options.trace = Some(traced);
        },
        |runner| {
            let recording = Arc::new(Recorder::new(runner));
            recorder = Some(Arc::clone(&recording));
            recording
        },
    )
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "start", e.to_string()))?;
    let recorder = recorder.ok_or_else(|| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "start",
            "the action runner was not built",
        )
    })?;
    app.engine.publish(&source).map_err(ApiError::from)?;
    let zendesk = zendesk_client(&app.workspace, &account);
    let mut random = [0u8; 16];
    getrandom::fill(&mut random)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "random", e.to_string()))?;
    let id = scenarist_base::hex::encode(&random);
    let session = Session {
        id: id.clone(),
        app,
        recorder,
        clock,
        trace,
        path: create.path,
        text,
        program,
        account,
        language: create.language,
        started: iso8601(start),
        fields,
        zendesk,
        sent: 0,
        shown: 0,
        lines: Vec::new(),
        entries: Vec::new(),
        step: None,
    };
    let view = session.view(&studio.workspace)?;
    studio.sessions.insert(id, session);
    Ok(Json(view))
}

/// The bundle to run and its compiled program, or the lint errors that stop it.
fn runnable(studio: &Studio, path: &str, text: &str) -> Result<(String, Program), ApiError> {
    let library = Library::load(&studio.folder).unwrap_or_default();
    let linted = lint_bytes(path, text.as_bytes().to_vec(), &studio.workspace, &library);
    let errors: usize = linted
        .reports
        .iter()
        .map(crate::diagnostic::FileReport::errors)
        .sum();
    let unrunnable =
        |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "not_runnable", message);
    if errors > 0 {
        return Err(unrunnable(format!(
            "the scenario has {errors} error(s); fix them first (the editor lists them)"
        )));
    }
    let Some(bundle) = linted.bundle else {
        return Err(unrunnable(
            "this file holds flows but no scenario; chat with a scenario that includes them".into(),
        ));
    };
    let scenario = crate::include::runnable(&bundle.file).map_err(|d| unrunnable(d.message))?;
    let program =
        Program::compile(&scenario, bundle.file.text()).map_err(|e| unrunnable(e.to_string()))?;
    Ok((bundle.file.text().to_owned(), program))
}

/// A client of the account's Zendesk organization (the sandbox's), to read the ticket back.
fn zendesk_client(workspace: &Workspace, account: &str) -> Option<ZendeskClient> {
    let name = workspace.config.accounts.get(account)?.zendesk.as_ref()?;
    let organization = workspace.config.zendesk.organizations.get(name)?;
    let credentials = credentials(organization, &workspace.base).ok()?;
    ZendeskClient::new(&organization.url, credentials, Timeouts::default()).ok()
}

/// `GET /api/sessions/{id}`.
pub(super) async fn show(State(studio): State<Arc<Studio>>, Path(id): Path<String>) -> Answer {
    let session = studio.sessions.get(&id)?;
    let session = session.lock().await;
    Ok(Json(session.view(&studio.workspace)?))
}

#[derive(Debug, Deserialize)]
pub(super) struct Said {
    text: String,
}

/// `POST /api/sessions/{id}/message` with `{text}`: the contact writes.
pub(super) async fn message(
    State(studio): State<Arc<Studio>>,
    Path(id): Path<String>,
    JsonBody(said): JsonBody<Said>,
) -> Answer {
    act(&studio, &id, Action::Contact(said.text)).await
}

/// `POST /api/sessions/{id}/advisor` with `{text}`: an advisor writes.
pub(super) async fn advisor(
    State(studio): State<Arc<Studio>>,
    Path(id): Path<String>,
    JsonBody(said): JsonBody<Said>,
) -> Answer {
    act(&studio, &id, Action::Advisor(said.text)).await
}

#[derive(Debug, Deserialize)]
pub(super) struct Team {
    team: String,
}

/// `POST /api/sessions/{id}/route` with `{team}`.
pub(super) async fn route(
    State(studio): State<Arc<Studio>>,
    Path(id): Path<String>,
    JsonBody(team): JsonBody<Team>,
) -> Answer {
    act(&studio, &id, Action::Route(team.team)).await
}

#[derive(Debug, Deserialize)]
pub(super) struct Return {
    #[serde(default)]
    step: Option<String>,
}

/// `POST /api/sessions/{id}/return` with `{step}` (none: the start).
pub(super) async fn return_to_bot(
    State(studio): State<Arc<Studio>>,
    Path(id): Path<String>,
    JsonBody(to): JsonBody<Return>,
) -> Answer {
    let step = to
        .step
        .filter(|s| !s.trim().is_empty())
        .map_or(serde_json::Value::Bool(true), serde_json::Value::String);
    act(&studio, &id, Action::ReturnToBot(step)).await
}

/// `POST /api/sessions/{id}/close`.
pub(super) async fn close(State(studio): State<Arc<Studio>>, Path(id): Path<String>) -> Answer {
    act(&studio, &id, Action::Close(true)).await
}

#[derive(Debug, Deserialize)]
pub(super) struct Wait {
    duration: String,
}

/// `POST /api/sessions/{id}/wait` with `{duration}` (`15m`): the clock moves, timeouts fire.
pub(super) async fn wait(
    State(studio): State<Arc<Studio>>,
    Path(id): Path<String>,
    JsonBody(wait): JsonBody<Wait>,
) -> Answer {
    act(&studio, &id, Action::Wait(wait.duration.trim().to_owned())).await
}

async fn act(studio: &Studio, id: &str, action: Action) -> Answer {
    let session = studio.sessions.get(id)?;
    let mut session = session.lock().await;
    session.perform(action).await?;
    Ok(Json(session.view(&studio.workspace)?))
}

impl Session {
    async fn perform(&mut self, action: Action) -> Result<(), ApiError> {
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

    fn conversation(&self) -> Result<Option<Conversation>, ApiError> {
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

    fn view(&self, workspace: &Workspace) -> Result<View, ApiError> {
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

#[derive(Debug, Serialize)]
pub(super) struct TicketView {
    id: u64,
    status: String,
    subject: Option<String>,
    comments: Vec<CommentView>,
}

#[derive(Debug, Serialize)]
struct CommentView {
    created_at: String,
    body: String,
}

/// `GET /api/sessions/{id}/ticket`: the conversation's ticket, read back from the sandbox.
pub(super) async fn ticket(
    State(studio): State<Arc<Studio>>,
    Path(id): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    let session = studio.sessions.get(&id)?;
    let session = session.lock().await;
    let no_ticket = |why: &str| ApiError::new(StatusCode::NOT_FOUND, "no_ticket", why.to_owned());
    let Some(client) = &session.zendesk else {
        return Err(no_ticket(
            "this chat's account is not linked to a Zendesk organization",
        ));
    };
    let ticket_id = session
        .conversation()?
        .and_then(|c| c.sync)
        .and_then(|s| s.ticket_id)
        .ok_or_else(|| no_ticket("no ticket yet"))?;
    let unreadable = |e: crate::zendesk::client::ZendeskError| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            "zendesk",
            format!("ticket #{ticket_id} cannot be read back: {e}"),
        )
    };
    let ticket = client.ticket(ticket_id).await.map_err(unreadable)?;
    let comments = client.comments(ticket_id).await.map_err(unreadable)?;
    Ok(Json(TicketView {
        id: ticket_id,
        status: ticket.status,
        subject: ticket.subject,
        comments: comments
            .into_iter()
            .map(|c| CommentView {
                created_at: c.created_at,
                body: c.body,
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize)]
pub(super) struct SaveTest {
    /// The test file's name, beside the scenario (default: `<scenario>.studio.test.yaml`).
    #[serde(default)]
    file: Option<String>,
    /// The test's name.
    #[serde(default)]
    name: Option<String>,
    /// Replace a file of that name.
    #[serde(default)]
    overwrite: bool,
}

#[derive(Debug, Serialize)]
pub(super) struct SavedTest {
    path: String,
    /// What `scenarist test` says of the file just written.
    passed: bool,
    report: Vec<String>,
}

/// `POST /api/sessions/{id}/test`: the conversation as a `*.test.yaml` beside the scenario,
/// then run by the transcript harness.
pub(super) async fn save_test(
    State(studio): State<Arc<Studio>>,
    Path(id): Path<String>,
    JsonBody(save): JsonBody<SaveTest>,
) -> Result<Json<SavedTest>, ApiError> {
    let session = studio.sessions.get(&id)?;
    let session = session.lock().await;
    if session.entries.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "empty",
            "nothing happened in this chat yet",
        ));
    }
    let (scenario_path, _) = files::confine(&studio.folder, &session.path)?;
    let on_disk = files::read_bytes(scenario_path).await.unwrap_or_default();
    if on_disk != session.text.as_bytes() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "unsaved",
            "the chat ran a text that differs from the saved file: save the scenario, start a new chat, and save that one",
        ));
    }
    let (folder, stem) = match session.path.rsplit_once('/') {
        Some((folder, name)) => (format!("{folder}/"), name),
        None => (String::new(), session.path.as_str()),
    };
    let scenario_name = stem.to_owned();
    let stem = stem.strip_suffix(".scn").unwrap_or(stem);
    let file = save
        .file
        .unwrap_or_else(|| format!("{stem}.studio.test.yaml"));
    if file.contains('/') {
        return Err(ApiError::bad_request(
            "a saved test goes beside its scenario: give a file name, not a path",
        ));
    }
    let relative = format!("{folder}{file}");
    let (path, kind) = files::confine(&studio.folder, &relative)?;
    if kind != Kind::Test {
        return Err(ApiError::bad_request(
            "a transcript test's name ends with `.test.yaml`",
        ));
    }
    if path.exists() && !save.overwrite {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "exists",
            format!("`{relative}` exists; choose another name or replace it"),
        ));
    }
    let config = studio.config.as_ref().and_then(|config| {
        let config = config.canonicalize().ok()?;
        let relative = config.strip_prefix(path.parent()?).ok()?;
        Some(relative.to_string_lossy().replace('\\', "/"))
    });
    let (actions, mut notes) = mocks(&studio.workspace, session.recorder.calls());
    if config.is_none() && studio.config.is_some() {
        notes.push(
            "the config is not in the scenario's folder or below it, so the test runs on the built-in config".into(),
        );
    }
    let name = save
        .name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("recorded in the studio at {}", session.started));
    let text = transcript::render(&transcript::Recording {
        scenario: &scenario_name,
        config: config.as_deref(),
        account: &session.account,
        name: &name,
        at: &session.started,
        language: session.language.as_deref(),
        contact: CONTACT,
        actions: &actions,
        entries: &session.entries,
    })
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "yaml", e.to_string()))?;
    drop(session);
    let written = path.clone();
    tokio::task::spawn_blocking(move || files::write(&written, text.as_bytes()))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()))?
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "unwritable",
                format!("cannot write `{relative}`: {e}"),
            )
        })?;
    let result = harness::run_file(&path).await;
    let mut lines = report(&result);
    lines.extend(notes);
    Ok(Json(SavedTest {
        path: relative,
        passed: result.passed(),
        report: lines,
    }))
}

/// A transcript's mocks from what the chat's actions gave: one per action (the first call's
/// result; a note when later calls gave another). Only the actions a scenario may call:
/// the Zendesk sync's own work is not the scenario's.
fn mocks(
    workspace: &Workspace,
    calls: Vec<(String, Mock)>,
) -> (BTreeMap<String, Mock>, Vec<String>) {
    let mut mocks: BTreeMap<String, Mock> = BTreeMap::new();
    let mut notes = Vec::new();
    for (action, mock) in calls {
        if workspace.action(&action).is_none() {
            continue;
        }
        match mocks.get(&action) {
            None => {
                mocks.insert(action, mock);
            }
            Some(first) if *first != mock => {
                let note = format!(
                    "`{action}` gave different results in this chat; a transcript mocks an action once, so the test gives every call the first one"
                );
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
            Some(_) => {}
        }
    }
    (mocks, notes)
}

/// What the harness said, a line per finding.
fn report(result: &harness::FileResult) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(error) = &result.error {
        lines.push(error.clone());
    }
    for report in &result.lint {
        for diagnostic in &report.diagnostics {
            lines.push(format!(
                "{}: {} {}",
                report.file.name(),
                diagnostic.code.id(),
                diagnostic.message
            ));
        }
    }
    for test in &result.tests {
        match &test.failure {
            None => lines.push(format!("✓ {}", test.name)),
            Some(failure) => {
                lines.push(format!(
                    "✗ {} — entry {} ({})",
                    test.name, failure.entry, failure.action
                ));
                for mismatch in &failure.mismatches {
                    lines.push(format!(
                        "  {}: expected {} but got {}",
                        mismatch.what,
                        mismatch.expected.join(" / "),
                        mismatch.actual.join(" / ")
                    ));
                }
            }
        }
    }
    lines
}
