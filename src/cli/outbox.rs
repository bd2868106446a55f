//! `scenarist outbox list|retry`: the effects waiting in conversations' outboxes (Zendesk
//! calls and other actions, with their attempts and last error) and the dead letters — sync
//! effects that failed for good. `retry` sends dead letters back to the outbox through the
//! engine (`Input::Revive`, committed like any input); they run when the service runs.
//!
//! Both open the config's store (or sled in `--data`): on sled they refuse to run while the
//! service holds the directory; on PostgreSQL they may run beside the nodes, `retry`'s
//! inputs taking the conversation's lock in the database as any step does.
#![expect(clippy::print_stdout, reason = "these commands report to the admin")]

use std::path::PathBuf;
use std::sync::Arc;

use super::contact::open_flagged;
use super::zendesk::runtime;
use super::{ExitStatus, GlobalArgs};
use crate::runtime::engine::{Engine, EngineOptions};
use crate::runtime::runner::BuiltinActions;
use crate::runtime::state::{Conversation, Input};
use crate::runtime::{Clock, FlushPolicy, SystemClock};
use crate::store::Store;
use scenarist_base::clock::iso8601;

#[derive(Debug, clap::Args)]
pub struct OutboxArgs {
    #[command(subcommand)]
    pub command: OutboxCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum OutboxCommand {
    /// List every pending effect and every dead letter.
    List {
        /// A sled data directory; default: the config's store (PostgreSQL, or sled in `data_dir`).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Send dead letters back to the outbox (they run when the service runs).
    Retry {
        /// A sled data directory; default: the config's store (PostgreSQL, or sled in `data_dir`).
        #[arg(long)]
        data: Option<PathBuf>,
        /// The dead letters' effect ids (as `outbox list` shows them).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        effects: Vec<String>,
        /// Every dead letter.
        #[arg(long)]
        all: bool,
    },
}

pub(super) fn run(args: &OutboxArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    match &args.command {
        OutboxCommand::List { data } => {
            let store = match open_flagged(data.as_deref(), global)? {
                Ok(store) => store,
                Err(status) => return Ok(status),
            };
            list(store.as_ref())
        }
        OutboxCommand::Retry { data, effects, all } => {
            let store = match open_flagged(data.as_deref(), global)? {
                Ok(store) => store,
                Err(status) => return Ok(status),
            };
            runtime()?.block_on(retry(store, effects, *all))
        }
    }
}

/// Every readable conversation; a corrupt or quarantined one is reported and skipped.
fn conversations(store: &dyn Store) -> anyhow::Result<Vec<Conversation>> {
    let mut found = Vec::new();
    for (id, record) in store.conversations()? {
        match record {
            Ok(conversation) => found.push(conversation),
            Err(error) => println!("! conversation {id} cannot be read: {error}"),
        }
    }
    Ok(found)
}

fn list(store: &dyn Store) -> anyhow::Result<ExitStatus> {
    let conversations = conversations(store)?;
    let pending: usize = conversations.iter().map(|c| c.pending.len()).sum();
    let dead: usize = conversations.iter().map(|c| c.dead.len()).sum();
    if pending == 0 && dead == 0 {
        println!(
            "The outbox is empty: no pending effect and no dead letter in {} conversation(s).",
            conversations.len()
        );
        return Ok(ExitStatus::Success);
    }
    println!("Pending effects: {pending}");
    for conversation in &conversations {
        for effect in &conversation.pending {
            println!(
                "  {}  {}  conversation {}  attempts {}  next {}{}",
                effect.id,
                effect.action,
                conversation.id,
                effect.attempts,
                iso8601(effect.next_attempt_at),
                effect
                    .last_error
                    .as_deref()
                    .map(|e| format!("\n      last error: {e}"))
                    .unwrap_or_default()
            );
        }
    }
    println!("Dead letters: {dead}");
    for conversation in &conversations {
        for letter in &conversation.dead {
            println!(
                "  {}  {}  conversation {}  failed {}\n      error: {}",
                letter.effect.id,
                letter.effect.action,
                conversation.id,
                iso8601(letter.at),
                letter.error
            );
        }
    }
    if dead > 0 {
        println!(
            "`scenarist outbox retry EFFECT_ID…` (or --all) sends dead letters back to the outbox."
        );
    }
    Ok(ExitStatus::Success)
}

async fn retry(store: Arc<dyn Store>, wanted: &[String], all: bool) -> anyhow::Result<ExitStatus> {
    let conversations = conversations(store.as_ref())?;
    let letters: Vec<(String, String, String)> = conversations
        .iter()
        .flat_map(|c| {
            c.dead
                .iter()
                .map(|d| (c.id.clone(), d.effect.id.clone(), d.effect.action.clone()))
        })
        .filter(|(_, id, _)| all || wanted.contains(id))
        .collect();
    let unknown: Vec<&String> = wanted
        .iter()
        .filter(|id| !letters.iter().any(|(_, found, _)| found == *id))
        .collect();
    // Nothing is published: every conversation's scenario version loads from the store.
    let engine = Engine::new(
        Arc::clone(&store),
        Arc::new(SystemClock) as Arc<dyn Clock>,
        Arc::new(BuiltinActions),
        EngineOptions {
            flush: FlushPolicy::EveryMessage,
            ..EngineOptions::default()
        },
    );
    let mut revived = 0;
    for (conversation, effect, action) in &letters {
        let input = Input::Revive {
            effect: effect.clone(),
        };
        match engine.apply(conversation, input).await {
            Ok(Some(_)) => {
                revived += 1;
                println!("revived {effect} ({action}) of conversation {conversation}");
            }
            Ok(None) => println!("{effect} is no longer a dead letter; skipped"),
            Err(error) => println!("✗ {effect}: {error}"),
        }
    }
    store.flush()?;
    for id in &unknown {
        println!("✗ no dead letter `{id}` (see `scenarist outbox list`)");
    }
    if letters.is_empty() && unknown.is_empty() {
        println!("There is no dead letter to retry.");
    } else if revived > 0 {
        println!(
            "{} back in the outbox; {} when the service runs.",
            super::output::plural(revived, "effect"),
            if revived == 1 { "it runs" } else { "they run" }
        );
    }
    Ok(if unknown.is_empty() && revived == letters.len() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
