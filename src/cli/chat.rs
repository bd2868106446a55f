//! `scenarist chat`: talk to a scenario in the terminal. One conversation, kept in sled in
//! `--data DIR` (default: `chat/` in the data directory): quit, come back, and it resumes where it waited. Lines starting with `/`
//! are commands (`/help`); everything else is a message from you, the contact. Works the
//! same with a pipe as stdin, so it can be scripted; the prompt is shown only on a terminal.
//!
//! On a terminal, lines are read by rustyline (line editing, history) on a thread of their
//! own, while this task fires what becomes due every second; what the bot says meanwhile is
//! printed through the editor's external printer, above the line being typed, which stays
//! as it was. The reader waits for each line to be handled before it shows the prompt again,
//! so the bot's answer comes before the next prompt.
#![expect(clippy::print_stdout, reason = "chat is a terminal program")]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::AsyncBufReadExt as _;

use super::load;
use super::{ExitStatus, GlobalArgs};
use crate::config::{FieldType, Workspace};
use crate::harness;
use crate::runtime::engine::{Engine, Inbound};
use crate::runtime::program::Program;
use crate::runtime::state::{Author, Conversation, Input, Part, Status};
use crate::runtime::value::Value;
use crate::runtime::{Clock, FlushPolicy};
use crate::setup::ScenarioSource;
use crate::setup::{self, Data};
use crate::source::SourceFile;
use crate::syntax::parse_duration_text;
use crate::zendesk::actions::credentials;
use crate::zendesk::client::{Timeouts, ZendeskClient};
use crate::zendesk::sandbox;
use scenarist_base::clock::OffsetClock;

#[derive(Debug, clap::Args)]
pub struct ChatArgs {
    /// The scenario to talk to.
    pub file: PathBuf,
    /// Where the conversation is kept; default: the `chat` folder in the config's
    /// `data_dir` (so a chat can run while `serve` holds the data directory).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Your name, as the channel would give it.
    #[arg(long, default_value = "Ada Lovelace")]
    pub name: String,
    /// The channel account the conversation runs on: its channel limits and Zendesk sync
    /// apply (e.g. `facebook:acme` to see tickets appear in the Zendesk of its organization).
    #[arg(long, default_value = "chat:terminal")]
    pub account: String,
    /// Start the clock at this time (`2026-12-05T19:30:00+01:00`), to try opening hours; it
    /// runs on from there, and `/wait` moves it.
    #[arg(long)]
    pub at: Option<String>,
    /// A contact field the channel gives, `NAME=VALUE` (repeatable), e.g. `--field language=fr`;
    /// the field must be declared in the config's `contact_fields`.
    #[arg(long = "field", value_name = "NAME=VALUE")]
    pub fields: Vec<String>,
    /// The conversation's language, one of the scenario's `languages` (e.g. `en`): sets the
    /// contact field its `language from` names, with your first message of this run.
    #[arg(long)]
    pub lang: Option<String>,
}

const HELP: &str = "Type a message to answer the bot. Commands:
  /wait 15m        let time pass (fires timeouts)
  /history         the whole conversation so far
  /ticket          the conversation's Zendesk ticket, read back from Zendesk
  /advisor TEXT    write as an advisor (the bot goes silent)
  /team NAME       route the conversation to a team, as an advisor would
  /return [STEP]   hand the conversation back to the bot (at STEP or the start)
  /close           close the conversation
  /quit            leave (the conversation is kept; run chat again to resume)";

pub(super) fn run(args: &ChatArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let workspace = match load::workspace(global.config.as_deref(), global)? {
        Ok(workspace) => workspace,
        Err(status) => return Ok(status),
    };
    let paths = std::slice::from_ref(&args.file);
    let stdout = &mut std::io::stdout().lock();
    let header = "This scenario has errors; fix them first:";
    let scenario = match load::scenarios(&workspace, paths, global, stdout, header)? {
        Ok(mut loaded) => loaded.pop().context("no scenario file given")?,
        Err(status) => return Ok(status),
    };
    let mut fields = match channel_fields(&args.fields, &workspace) {
        Ok(fields) => fields,
        Err(problem) => {
            println!("✗ {problem}");
            return Ok(ExitStatus::Error);
        }
    };
    let at = match args
        .at
        .as_deref()
        .map(scenarist_lang::schedule::parse_instant)
    {
        Some(Err(problem)) => {
            println!("✗ --at: {problem}");
            return Ok(ExitStatus::Error);
        }
        Some(Ok(at)) => Some(at),
        None => None,
    };
    let data = match &args.data {
        Some(data) => data.clone(),
        None => setup::data_dir(None, &workspace).join("chat"),
    };
    let runtime = setup::tokio_runtime()?;
    if let Some(language) = &args.lang {
        let (field, value) = language_field(&scenario.source, &scenario.name, language)?;
        fields.insert(field, value);
    }
    let start = Start { at, fields };
    runtime.block_on(chat(args, &workspace, &data, &scenario, start))
}

/// The contact field and value that put the conversation in `language` (`--lang`).
fn language_field(source: &str, name: &str, language: &str) -> anyhow::Result<(String, Value)> {
    let file = SourceFile::new(name, source.to_owned());
    let scenario = crate::include::runnable(&file).map_err(|d| anyhow::anyhow!("{}", d.message))?;
    let program = Program::compile(&scenario, source)?;
    let field =
        harness::language_field(&program, language).map_err(|e| anyhow::anyhow!("--lang: {e}"))?;
    Ok((field, Value::text(language)))
}

/// What `--at`, `--field` and `--lang` set for the run.
struct Start {
    at: Option<i64>,
    fields: BTreeMap<String, Value>,
}

/// `--field NAME=VALUE`s, each a declared contact field, its value read as the field's type.
fn channel_fields(
    given: &[String],
    workspace: &Workspace,
) -> Result<BTreeMap<String, Value>, String> {
    let mut fields = BTreeMap::new();
    for pair in given {
        let (name, value) = pair.split_once('=').ok_or_else(|| {
            format!("--field `{pair}`: write it NAME=VALUE, e.g. --field language=fr")
        })?;
        let kind = workspace.field_type(name).ok_or_else(|| {
            let hint = crate::diagnostic::did_you_mean(name, workspace.field_names())
                .unwrap_or_else(|| {
                    format!(
                        "declare it under `contact_fields` in {}",
                        workspace.file.name()
                    )
                });
            format!("--field `{name}` is not a declared contact field; {hint}")
        })?;
        let value = match kind {
            FieldType::Number => value.parse::<f64>().map(Value::Number).map_err(|_| {
                format!("--field `{name}` is a number field, and `{value}` is not a number")
            })?,
            FieldType::Bool => match value {
                "true" | "yes" => Value::Bool(true),
                "false" | "no" => Value::Bool(false),
                _ => return Err(format!("--field `{name}` is true or false, not `{value}`")),
            },
            _ => Value::text(value),
        };
        fields.insert(name.to_owned(), value);
    }
    Ok(fields)
}

async fn chat(
    args: &ChatArgs,
    workspace: &Workspace,
    data: &Path,
    scenario: &ScenarioSource,
    start: Start,
) -> anyhow::Result<ExitStatus> {
    let (source, name) = (scenario.source.as_str(), scenario.name.as_str());
    let clock = Arc::new(OffsetClock::default());
    if let Some(at) = start.at {
        clock.advance(at.saturating_sub(clock.now()));
    }
    // The account's Zendesk sync applies, but the conversation runs this file's scenario.
    let app = setup::start(
        workspace,
        Data::Dir(data),
        Arc::clone(&clock) as Arc<dyn Clock>,
        |options| {
            options.routes.clear();
            options.default_scenario = Some(name.to_owned());
            options.flush = FlushPolicy::EveryMessage;
        },
    )
    .await?;
    let (workspace, sandboxes, problems) = (&app.workspace, &app.sandboxes, &app.problems);
    let organization = workspace
        .config
        .accounts
        .get(&args.account)
        .and_then(|a| a.zendesk.as_ref());
    let zendesk = match organization {
        Some(name) => {
            let mine = format!("Zendesk organization `{name}`");
            for problem in problems.iter().filter(|p| p.starts_with(&mine)) {
                println!("note: {problem}; Zendesk calls will fail");
            }
            if let Some(standin) = sandboxes.get(name) {
                println!(
                    "Zendesk sandbox `{name}` at {url}: this conversation's ticket appears there; /ticket shows it\n  (or: curl -u {} {url}/api/v2/tickets.json)",
                    sandbox::login(),
                    url = standin.url()
                );
            }
            zendesk_client(workspace, name)
        }
        None => None,
    };
    let engine = app.engine;
    engine.publish(source)?;
    let id = format!("chat:{name}");
    let mut chat = Chat {
        engine,
        clock,
        id,
        contact_name: args.name.clone(),
        account: args.account.clone(),
        fields: start.fields,
        shown: 0,
        sent: 0,
        zendesk,
        ticket: None,
        sync_error: None,
        printer: None,
    };
    chat.greet()?;

    if std::io::stdin().is_terminal() {
        match editor() {
            Ok((editor, printer)) => {
                chat.printer = Some(printer);
                return terminal(chat, editor).await;
            }
            // A terminal rustyline cannot drive: read it as a pipe rather than fail.
            Err(error) => tracing::debug!("no line editing on this terminal: {error}"),
        }
    }
    // Scripted: every line of stdin in order, no prompt, no clock ticking.
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        if !chat.command(line.trim()).await? {
            break;
        }
    }
    Ok(ExitStatus::Success)
}

/// What the line reader hands over: a line, or the end (Ctrl-D, Ctrl-C, an error).
enum Read {
    Line(String),
    End,
}

/// The terminal loop: lines from a rustyline editor on a blocking thread; every second
/// without one, what became due fires and is printed above the line being typed.
type Printer = Box<dyn rustyline::ExternalPrinter + Send>;

/// The line editor and its printer for what comes while a line is being typed.
fn editor() -> rustyline::Result<(rustyline::DefaultEditor, Printer)> {
    let mut editor = rustyline::DefaultEditor::new()?;
    let printer = Box::new(editor.create_external_printer()?);
    Ok((editor, printer))
}

async fn terminal(
    mut chat: Chat,
    mut editor: rustyline::DefaultEditor,
) -> anyhow::Result<ExitStatus> {
    use rustyline::error::ReadlineError;
    let (lines, mut read) = tokio::sync::mpsc::channel::<Read>(1);
    let (handled, next) = std::sync::mpsc::channel::<()>();
    let reader = std::thread::spawn(move || {
        loop {
            let line = match editor.readline("you> ") {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = editor.add_history_entry(line.as_str());
                    }
                    Read::Line(line)
                }
                Err(ReadlineError::Eof | ReadlineError::Interrupted) => Read::End,
                Err(error) => {
                    tracing::warn!("cannot read the terminal: {error}");
                    Read::End
                }
            };
            let end = matches!(line, Read::End);
            // Stop when the chat is gone, or after the end; else wait until the line is
            // handled, so the prompt comes after the bot's answer.
            if end || lines.blocking_send(line).is_err() || next.recv().is_err() {
                break;
            }
        }
    });
    loop {
        tokio::select! {
            line = read.recv() => {
                let Some(Read::Line(line)) = line else { break };
                if !chat.command(line.trim()).await? {
                    break;
                }
                if handled.send(()).is_err() {
                    break;
                }
            }
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                // Real time passes in a terminal: fire what became due.
                chat.settle().await?;
            }
        }
    }
    // The reader is done (it read the end) or waits for `handled`, which dropping ends.
    drop(handled);
    drop(read);
    let _ = tokio::task::spawn_blocking(move || reader.join()).await;
    Ok(ExitStatus::Success)
}

struct Chat {
    engine: Engine,
    clock: Arc<OffsetClock>,
    id: String,
    contact_name: String,
    account: String,
    /// The contact fields the "channel" gives with the first message of the run (`--field`,
    /// `--lang`).
    fields: BTreeMap<String, Value>,
    /// The last history turn shown.
    shown: u64,
    sent: u64,
    /// The client of the account's Zendesk organization, when it has one.
    zendesk: Option<ZendeskClient>,
    /// The ticket and sync error last reported.
    ticket: Option<u64>,
    sync_error: Option<String>,
    /// On a terminal, the line editor's printer: what the bot says while a line is being typed
    /// goes above it. `None` in scripted mode: plain stdout.
    printer: Option<Printer>,
}

impl Chat {
    fn greet(&mut self) -> anyhow::Result<()> {
        match self.engine.conversation(&self.id)? {
            None => println!("New conversation. Say something to start; /help for commands."),
            Some(conversation) => {
                self.shown = conversation.last_seq;
                self.sent = conversation.last_seq;
                self.ticket = conversation.sync.as_ref().and_then(|s| s.ticket_id);
                let waiting = match &conversation.status {
                    Status::Answer { at, .. } => {
                        format!("waiting for your answer in step `{}`", at.step)
                    }
                    Status::Action { .. } => "waiting for an action to finish".to_owned(),
                    Status::WithAdvisor => {
                        "with an advisor (/return hands it back to the bot)".to_owned()
                    }
                    Status::Ended => "ended (a new message starts over)".to_owned(),
                    Status::Fresh => "not started".to_owned(),
                };
                println!("Resuming the conversation: {waiting}.");
                let history = self.engine.history(&conversation)?;
                if let Some(last) = history.iter().rev().find(|t| t.replies().next().is_some()) {
                    for message in last.replies() {
                        print!(
                            "{}",
                            bot_lines(&message.text, &message.choices, &message.parts)
                        );
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs one line; `false` to stop.
    async fn command(&mut self, line: &str) -> anyhow::Result<bool> {
        let (command, rest) = line
            .split_once(' ')
            .map_or((line, ""), |(c, r)| (c, r.trim()));
        let input = match command {
            "" => return Ok(true),
            "/quit" | "/exit" => return Ok(false),
            "/help" => {
                println!("{HELP}");
                return Ok(true);
            }
            "/history" => {
                self.history()?;
                return Ok(true);
            }
            "/ticket" => {
                self.show_ticket().await?;
                return Ok(true);
            }
            "/wait" => {
                let Some(seconds) = parse_duration_text(rest) else {
                    println!("(write a duration such as /wait 15m, /wait 30s or /wait 1h30m)");
                    return Ok(true);
                };
                self.clock
                    .advance(i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX));
                println!("({rest} later)");
                self.settle().await?;
                return Ok(true);
            }
            "/advisor" => {
                self.sent += 1;
                Input::Advisor {
                    message_id: format!("advisor-{}-{}", self.clock.now(), self.sent),
                    advisor_id: "a1".into(),
                    advisor_name: "Advisor".into(),
                    text: rest.into(),
                }
            }
            "/team" if !rest.is_empty() => Input::Team { team: rest.into() },
            "/return" => Input::ReturnToBot {
                step: (!rest.is_empty()).then(|| rest.to_owned()),
            },
            "/close" => Input::Close,
            other if other.starts_with('/') => {
                println!("(unknown command {other}; /help lists them)");
                return Ok(true);
            }
            _ => {
                self.send(line).await?;
                return Ok(true);
            }
        };
        if self.engine.conversation(&self.id)?.is_none() {
            println!("(there is no conversation yet: say something first)");
            return Ok(true);
        }
        self.engine.apply(&self.id, input).await?;
        self.settle().await?;
        Ok(true)
    }

    async fn send(&mut self, text: &str) -> anyhow::Result<()> {
        self.sent += 1;
        let inbound = Inbound {
            account: self.account.clone(),
            conversation: self.id.clone(),
            message_id: format!("chat-{}-{}", self.clock.now(), self.sent),
            contact_id: "you".into(),
            contact_name: self.contact_name.clone(),
            text: text.to_owned(),
            // Given with the first message of the run, as a channel does when the contact
            // arrives; the scenario may change them afterwards.
            fields: std::mem::take(&mut self.fields),
        };
        let outcome = self.engine.handle(inbound).await?;
        self.shown = self.shown.max(outcome.seq);
        for reply in &outcome.replies {
            let parts: Vec<Part> = reply.parts.iter().map(Part::from).collect();
            print!("{}", bot_lines(&reply.text, &reply.choices, &parts));
        }
        self.settle().await
    }

    /// Fires due timers and actions, then shows what they said.
    async fn settle(&mut self) -> anyhow::Result<()> {
        self.engine.settle(16).await?;
        let Some(conversation) = self.engine.conversation(&self.id)? else {
            return Ok(());
        };
        let mut out = self.report_sync(&conversation);
        if conversation.last_seq > self.shown {
            for turn in self
                .engine
                .history(&conversation)?
                .iter()
                .filter(|t| t.seq > self.shown)
            {
                for message in &turn.messages {
                    match &message.author {
                        Author::Bot => out.push_str(&bot_lines(
                            &message.text,
                            &message.choices,
                            &message.parts,
                        )),
                        Author::System => {
                            let _ = writeln!(out, "  ({})", message.text);
                        }
                        Author::Contact | Author::Advisor { .. } => {}
                    }
                }
            }
            self.shown = conversation.last_seq;
        }
        self.emit(&out);
        Ok(())
    }

    /// Prints lines that may come while a line is being typed: above it, on a terminal.
    fn emit(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        match &mut self.printer {
            Some(printer) => {
                if let Err(error) = printer.print(text.to_owned()) {
                    tracing::debug!("the line editor's printer failed: {error}");
                    print!("{text}");
                }
            }
            None => print!("{text}"),
        }
    }

    /// What to tell when the conversation's ticket appears or its sync fails.
    fn report_sync(&mut self, conversation: &Conversation) -> String {
        let mut out = String::new();
        let Some(sync) = &conversation.sync else {
            return out;
        };
        if sync.ticket_id.is_some() && sync.ticket_id != self.ticket {
            self.ticket = sync.ticket_id;
            if let Some(id) = self.ticket {
                let _ = writeln!(
                    out,
                    "  (Zendesk: ticket #{id} created with the conversation so far; /ticket shows it)"
                );
            }
        }
        if sync.last_error.is_some() && sync.last_error != self.sync_error {
            self.sync_error.clone_from(&sync.last_error);
            if let Some(error) = &self.sync_error {
                let _ = writeln!(
                    out,
                    "  (Zendesk sync failed: {error}; `scenarist outbox list` shows what waits)"
                );
            }
        }
        out
    }

    /// The conversation's ticket as Zendesk has it, read back through the API.
    async fn show_ticket(&self) -> anyhow::Result<()> {
        let (Some(client), Some(id)) = (&self.zendesk, self.ticket) else {
            println!(
                "(no ticket yet{})",
                if self.zendesk.is_none() {
                    ": this account is not linked to Zendesk (try --account facebook:acme)"
                } else {
                    ""
                }
            );
            return Ok(());
        };
        let ticket = match client.ticket(id).await {
            Ok(ticket) => ticket,
            Err(error) => {
                println!("(ticket #{id} cannot be read back: {error})");
                return Ok(());
            }
        };
        println!(
            "ticket #{id} ({}) {}",
            ticket.status,
            ticket.subject.as_deref().unwrap_or_default()
        );
        match client.comments(id).await {
            Ok(comments) => {
                for (i, comment) in comments.iter().enumerate() {
                    println!("  [{}] {}", i + 1, comment.created_at);
                    for line in comment.body.lines().filter(|l| !l.trim().is_empty()) {
                        println!("      {line}");
                    }
                }
            }
            Err(error) => println!("(its comments cannot be read back: {error})"),
        }
        Ok(())
    }

    fn history(&self) -> anyhow::Result<()> {
        let Some(conversation) = self.engine.conversation(&self.id)? else {
            println!("(no conversation yet)");
            return Ok(());
        };
        for turn in self.engine.history(&conversation)? {
            for message in &turn.messages {
                let time = scenarist_base::clock::iso8601(message.at);
                let who = match &message.author {
                    Author::Contact => "you".to_owned(),
                    Author::Bot => "bot".to_owned(),
                    Author::Advisor { name, .. } => name.clone(),
                    Author::System => {
                        println!("{time} ({})", message.text);
                        continue;
                    }
                };
                println!("{time} {who}: {}", message.text);
            }
        }
        Ok(())
    }
}

/// A bot message as chat shows it: `bot: ` before each line, then the numbered choices. A
/// rich message shows its parts as transcripts write them (`link: Track it -> https://…`; a
/// card one piece per line), not its plain-text fallback.
fn bot_lines(text: &str, choices: &[String], parts: &[Part]) -> String {
    let mut out = String::new();
    if parts.is_empty() {
        for line in text.lines() {
            let _ = writeln!(out, "bot: {line}");
        }
    }
    for part in parts {
        for (i, line) in harness::chat_lines(part).iter().enumerate() {
            let lead = if i == 0 { "bot: " } else { "       " };
            let _ = writeln!(out, "{lead}{line}");
        }
    }
    for (i, choice) in choices.iter().enumerate() {
        let _ = writeln!(out, "     [{}] {choice}", i + 1);
    }
    out
}

/// A client for the organization `name`, if its credentials can be read.
fn zendesk_client(workspace: &Workspace, name: &str) -> Option<ZendeskClient> {
    let organization = workspace.config.zendesk.organizations.get(name)?;
    let credentials = credentials(organization, &workspace.base).ok()?;
    ZendeskClient::new(&organization.url, credentials, Timeouts::default()).ok()
}
