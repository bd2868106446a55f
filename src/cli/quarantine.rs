//! `scenarist store quarantine list|show|drop`: the conversations set aside because a stored
//! value failed its checksum — why, what every tree holds for one (raw, as hex and as
//! lossless text), and removing one. On the config's store (or sled in `--data`): on sled
//! only while the service is stopped (a running service has the same through
//! `/v1/admin/quarantine`); on PostgreSQL also beside running nodes, a drop holding the
//! conversation's database lock as a step does.
#![expect(clippy::print_stdout, reason = "these commands report to the admin")]

use std::path::PathBuf;

use super::contact::open_flagged;
use super::output::plural;
use super::{ExitStatus, GlobalArgs};
use crate::api::check_id;
use crate::runtime::engine::beside;
use crate::store::{Inspection, Stored};

#[derive(Debug, clap::Args)]
pub struct QuarantineArgs {
    /// A sled data directory; default: the config's store (PostgreSQL, or sled in `data_dir`).
    #[arg(long, global = true)]
    pub data: Option<PathBuf>,
    /// Print JSON (the admin routes' shape) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: QuarantineCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum QuarantineCommand {
    /// List the quarantined conversations and why each was set aside.
    List,
    /// Show what the store holds for a quarantined conversation, the damaged values raw.
    Show {
        /// The conversation id.
        conversation: String,
    },
    /// Remove a quarantined conversation: its record, history, due entries and mark.
    Drop {
        /// The conversation id.
        conversation: String,
    },
}

pub(super) fn run(args: &QuarantineArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    if let QuarantineCommand::Show { conversation } | QuarantineCommand::Drop { conversation } =
        &args.command
    {
        check_id("conversation", conversation).map_err(anyhow::Error::msg)?;
    }
    let store = match open_flagged(args.data.as_deref(), global)? {
        Ok(store) => store,
        Err(status) => return Ok(status),
    };
    let store = store.as_ref();
    match &args.command {
        QuarantineCommand::List => {
            let listed = store.quarantine_list()?;
            if args.json {
                println!("{}", serde_json::json!({ "quarantined": listed }));
            } else if listed.is_empty() {
                println!("no conversation is quarantined");
            } else {
                for entry in &listed {
                    println!("{}\n  {}", entry.conversation, entry.reason);
                }
            }
        }
        QuarantineCommand::Show { conversation } => {
            let inspection = store.inspect(conversation)?;
            if inspection.reason.is_none() {
                return Ok(not_quarantined(conversation));
            }
            if args.json {
                println!("{}", serde_json::to_string_pretty(&inspection)?);
            } else {
                print!("{}", describe(&inspection));
            }
        }
        QuarantineCommand::Drop { conversation } => {
            // Beside running nodes (PostgreSQL), in turn with their steps of it.
            let _held = beside::hold_conversation(store, conversation)?;
            // A quarantine mark that does not read still marks the conversation.
            match store.quarantined(conversation) {
                Ok(None) => return Ok(not_quarantined(conversation)),
                Ok(Some(_)) => {}
                Err(error) if error.is_corrupt() => {}
                Err(error) => return Err(error.into()),
            }
            let dropped = store.drop_conversation(conversation)?;
            store.flush()?;
            if args.json {
                println!("{}", serde_json::json!({ "dropped": dropped }));
            } else {
                println!(
                    "dropped conversation {}: {}, {}, {}",
                    dropped.conversation,
                    if dropped.record {
                        "its record"
                    } else {
                        "no record"
                    },
                    plural(dropped.turns, "history turn"),
                    due_entries(dropped.due),
                );
            }
        }
    }
    Ok(ExitStatus::Success)
}

#[expect(clippy::print_stderr, reason = "the refusal goes to stderr")]
fn not_quarantined(conversation: &str) -> ExitStatus {
    eprintln!(
        "error: conversation `{conversation}` is not quarantined (`scenarist store quarantine list` lists those that are)"
    );
    ExitStatus::Failure
}

/// The inspection as text: the reason, the record raw, then the other trees' values (raw
/// when they do not read).
fn describe(inspection: &Inspection) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "conversation {}", inspection.conversation);
    if let Some(reason) = &inspection.reason {
        let _ = writeln!(out, "quarantined: {reason}");
    }
    match &inspection.record {
        Some(record) => describe_value(&mut out, "record", record),
        None => out.push_str("record: none\n"),
    }
    let _ = writeln!(out, "history: {}", plural(inspection.history.len(), "turn"));
    for turn in &inspection.history {
        describe_value(&mut out, "  turn", turn);
    }
    let _ = writeln!(out, "due index: {}", due_entries(inspection.due.len()));
    for due in &inspection.due {
        describe_value(&mut out, "  due", due);
    }
    out
}

fn describe_value(out: &mut String, what: &str, stored: &Stored) {
    use std::fmt::Write as _;
    let state = stored.problem.as_deref().unwrap_or("reads");
    let _ = writeln!(
        out,
        "{what} (tree {}, key {}, {} bytes): {state}",
        stored.tree, stored.key, stored.bytes
    );
    if let (Some(hex), Some(text)) = (&stored.hex, &stored.text) {
        let indent = " ".repeat(what.len() - what.trim_start().len() + 2);
        let _ = writeln!(out, "{indent}hex:  {hex}");
        let _ = writeln!(out, "{indent}text: {text}");
    }
}

fn due_entries(n: usize) -> String {
    if n == 1 {
        "1 due entry".to_owned()
    } else {
        format!("{n} due entries")
    }
}
