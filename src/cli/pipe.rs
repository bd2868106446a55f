//! `scenarist pipe`: the runtime over stdin and stdout, for scripts and tests. Each input
//! line is an inbound message (the JSON of `POST /v1/messages`); each output line is its
//! answer, written once the message is durable, with the `message_id` it answers. Messages
//! of different conversations run concurrently (answers come in completion order); timers
//! and actions run in the background. At the end of the input, everything due is run and
//! the store flushed.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncBufReadExt as _;

use super::load;
use super::{ExitStatus, GlobalArgs};
use crate::api::{Answer, InboundMessage};
use crate::runtime::engine::Engine;
use crate::runtime::{Clock, FlushPolicy, SystemClock};
use crate::setup::{self, Data};

#[derive(Debug, clap::Args)]
pub struct PipeArgs {
    /// Scenario files or folders; the config's accounts say which runs where.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The data directory; default: the config's `data_dir`.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Run every account's messages on this scenario (by name), whatever the config says.
    #[arg(long)]
    pub scenario: Option<String>,
    /// At the end of the input, wait up to this many seconds for pending actions (Zendesk
    /// calls and their retries) to finish.
    #[arg(long, default_value_t = 30)]
    pub drain: u64,
    /// Override the config's flush policy: `every-message` or `group-commit`.
    #[arg(long, value_parser = ["every-message", "group-commit"])]
    pub flush: Option<String>,
}

pub(super) fn run(args: &PipeArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let workspace = match load::workspace(global.config.as_deref(), global)? {
        Ok(workspace) => workspace,
        Err(status) => return Ok(status),
    };
    // Not a `stderr().lock()` kept alive: a worker thread's log line would wait for it forever.
    let scenarios =
        match load::scenarios(&workspace, &args.paths, global, &mut std::io::stderr(), "")? {
            Ok(scenarios) => scenarios,
            Err(status) => return Ok(status),
        };
    let data = setup::data_dir(args.data.as_deref(), &workspace);
    let sources: Vec<String> = scenarios.iter().map(|s| s.source.clone()).collect();
    let runtime = setup::tokio_runtime()?;
    runtime.block_on(pipe(args, &workspace, &data, &sources))
}

async fn pipe(
    args: &PipeArgs,
    workspace: &crate::config::Workspace,
    data: &std::path::Path,
    sources: &[String],
) -> anyhow::Result<ExitStatus> {
    let clock = Arc::new(SystemClock) as Arc<dyn Clock>;
    let app = setup::start(workspace, Data::Dir(data), clock, |options| {
        if let Some(name) = &args.scenario {
            options.routes.clear();
            options.default_scenario = Some(name.clone());
        }
        match args.flush.as_deref() {
            Some("every-message") => options.flush = FlushPolicy::EveryMessage,
            Some(_) => options.flush = FlushPolicy::GroupCommit { interval_ms: 0 },
            None => {}
        }
    })
    .await?;
    for (name, url) in app.sandboxes.urls() {
        tracing::info!("Zendesk sandbox `{name}` at {url}");
    }
    for problem in &app.problems {
        tracing::warn!("{problem}");
    }
    let engine = app.engine;
    for source in sources {
        engine.publish(source)?;
    }
    engine.rearm()?;
    let scheduler = engine.spawn_scheduler(Duration::from_millis(20));
    let sweeper = setup::spawn_sweeper(workspace, &engine);
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let mut tasks = tokio::task::JoinSet::new();
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        // A finished task stays in the set (its cell, its answer) until it is joined: reap as
        // we go, or a long stream holds every message it ever answered.
        while tasks.try_join_next().is_some() {}
        if line.trim().is_empty() {
            continue;
        }
        let (engine, out) = (engine.clone(), Arc::clone(&out));
        let parsed = serde_json::from_str::<InboundMessage>(&line)
            .map_err(|e| e.to_string())
            .and_then(|message| message.check().map(|()| message))
            .map(|message| (engine.place(&message.conversation), message));
        // The place is taken here, in input order: a conversation's lines run in order.
        tasks.spawn(async move {
            let answer = match parsed {
                Err(error) => json!({ "error": format!("not an inbound message: {error}") }),
                Ok((place, message)) => {
                    let id = message.message_id.clone();
                    match engine.handle_at(place, message.into()).await {
                        Ok(outcome) => {
                            let mut answer =
                                serde_json::to_value(Answer::from(outcome)).unwrap_or_default();
                            answer["message_id"] = json!(id);
                            answer
                        }
                        Err(error) => json!({ "message_id": id, "error": error.to_string() }),
                    }
                }
            };
            let mut out = out.lock().unwrap_or_else(PoisonError::into_inner);
            // One write per line, so an answer is never interleaved or half-written.
            let _ = out.write_all(format!("{answer}\n").as_bytes());
            let _ = out.flush();
        });
    }
    while tasks.join_next().await.is_some() {}
    // At the end of the input, give the outbox (Zendesk calls and their retries) time to
    // drain; the scheduler keeps running meanwhile.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.drain);
    while outbox_busy(&engine)? && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    scheduler.abort();
    if let Some(sweeper) = sweeper {
        sweeper.abort();
    }
    engine.settle(64).await?;
    engine.store().flush()?;
    Ok(if engine.failure().is_some() {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    })
}

/// Whether any conversation still has an effect in its outbox: only those the due index
/// holds an effect for are read (every pending effect has its entry), not every record.
fn outbox_busy(engine: &Engine) -> anyhow::Result<bool> {
    let store = engine.store();
    for id in store.conversations_with_effects()? {
        if store
            .conversation(&id)?
            .is_some_and(|c| !c.pending.is_empty())
        {
            return Ok(true);
        }
    }
    Ok(false)
}
