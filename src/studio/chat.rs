//! The chat pane's endpoints: a conversation with the text being edited, run on the real
//! runtime — `setup::start_wrapped` on a memory store, with the workspace's sandbox Zendesk
//! organizations and action runners (recorded, `record`) — as `scenarist chat` runs one. The
//! clock is a manual one that moves only with `wait` (as a transcript's does), so what
//! happened can be saved as a transcript test that replays the same way (`save`). The
//! language switch starts a new conversation in that language (a transcript's `language` is
//! set before its first message).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::Studio;
use super::files::{self, Kind};
use super::guard::JsonBody;
use super::record::Recorder;
use super::session::{Session, View};
use super::transcript::Action;
use crate::config::Workspace;
use crate::harness;
use crate::library::Library;
use crate::lint::lint_bytes;
use crate::runtime::program::Program;
use crate::runtime::value::Value;
use crate::runtime::{Clock, FlushPolicy, ManualClock};
use crate::service::ApiError;
use crate::setup::{self, Data};
use crate::zendesk::actions::credentials;
use crate::zendesk::client::{Timeouts, ZendeskClient};
use scenarist_base::clock::iso8601;

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
