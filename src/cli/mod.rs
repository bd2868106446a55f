//! The command line (clap derive): the edge of the program. Each subcommand lives in its
//! own file and returns an `ExitStatus`; errors that stop a command are `anyhow` errors,
//! printed with their causes. Exit codes follow ruff: 0 success, 1 findings (lint errors,
//! `fmt --check` drift), 2 usage or tool failure.
#![expect(
    clippy::print_stderr,
    reason = "the CLI reports its own failures on stderr"
)]

mod chat;
mod contact;
mod contact_rights;
mod fmt;
mod graph;
mod lint;
mod load;
mod log;
mod lsp;
mod outbox;
mod output;
mod pipe;
mod quarantine;
mod serve;
mod store;
mod store_migrate;
mod studio;
mod test;
mod zendesk;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "scenarist",
    version,
    about = "Lint, format, draw and run customer-service bot scenarios"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// The workspace config (`scenarist.yaml`: fields, teams, channels, accounts, Zendesk
    /// organizations, the service); default: the example config built into the binary.
    #[arg(long, global = true, env = "SCENARIST_CONFIG")]
    pub config: Option<std::path::PathBuf>,
    /// When to colour the output (`NO_COLOR` set in the environment means never).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl GlobalArgs {
    /// Whether to colour what goes to stdout.
    pub fn color_stdout(&self) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check scenarios for errors and risky constructs.
    Lint(lint::LintArgs),
    /// Talk to a scenario in the terminal (the conversation is kept between runs).
    Chat(chat::ChatArgs),
    /// Rewrite scenarios in the canonical layout (or check that they are).
    Fmt(fmt::FmtArgs),
    /// Run scenarios over stdin/stdout: one inbound message (JSON) in, one answer out, per line.
    Pipe(pipe::PipeArgs),
    /// Run the HTTP service: channels post messages, advisors' tools post their events.
    Serve(serve::ServeArgs),
    /// Back up or restore the conversation store.
    Store(store::StoreArgs),
    /// Run transcript tests (`*.test.yaml`): messages in, expected replies out.
    Test(test::TestArgs),
    /// Draw the step graph of a scenario (Mermaid or Graphviz DOT).
    Graph(graph::GraphArgs),
    /// Connect, check and verify Zendesk organizations; run the Zendesk stand-in.
    Zendesk(zendesk::ZendeskArgs),
    /// Show contacts and link them to Zendesk users.
    Contact(contact::ContactArgs),
    /// List pending effects and dead letters; send dead letters back to the outbox.
    Outbox(outbox::OutboxArgs),
    /// Edit, draw and try the scenarios in a browser (a page served on loopback).
    Studio(studio::StudioArgs),
    /// Run the language server (LSP over stdin/stdout) for editors.
    Lsp(lsp::LspArgs),
}

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Nothing to report.
    Success,
    /// Findings: lint errors, files that need formatting.
    Failure,
    /// The tool could not do its job: bad usage, unreadable files.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::SUCCESS,
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

/// Parses the arguments, runs the command and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // clap prints help and version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    init_logging();
    quiet_on_closed_stdout();
    let result = match &cli.command {
        Command::Lint(args) => lint::run(args, &cli.global),
        Command::Chat(args) => chat::run(args, &cli.global),
        Command::Fmt(args) => fmt::run(args, &cli.global),
        Command::Graph(args) => graph::run(args, &cli.global),
        Command::Pipe(args) => pipe::run(args, &cli.global),
        Command::Serve(args) => serve::run(args, &cli.global),
        Command::Store(args) => store::run(args, &cli.global),
        Command::Test(args) => test::run(args, &cli.global),
        Command::Zendesk(args) => zendesk::run(args, &cli.global),
        Command::Contact(args) => contact::run(args, &cli.global),
        Command::Outbox(args) => outbox::run(args, &cli.global),
        Command::Studio(args) => studio::run(args, &cli.global),
        Command::Lsp(args) => lsp::run(args, &cli.global),
    };
    match result {
        Ok(status) => status.into(),
        Err(error) if output::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            for cause in error.chain().skip(1) {
                eprintln!("  cause: {cause}");
            }
            ExitStatus::Error.into()
        }
    }
}

/// `print!` panics when the reader of stdout has gone (`scenarist chat … | head`); a command
/// whose output nobody reads any more stops quietly instead, as `head`'s other writers do
/// (errors returned for it are handled in `main`). Every other panic keeps the default report.
fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// Logs go to stderr (`log`: filtered by `SCENARIST_LOG`, JSON with
/// `SCENARIST_LOG_FORMAT=json`, control characters escaped, colour only on a terminal).
fn init_logging() {
    log::init();
}
