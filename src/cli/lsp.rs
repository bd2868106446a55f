//! `scenarist lsp`: the language server for editors, over stdin and stdout (the
//! `scenarist-lsp` crate). `--config` (or `SCENARIST_CONFIG`) fixes the workspace config for
//! every document; without it each document uses the `scenarist.yaml` found above it, else the
//! built-in default. Logs go to stderr, as for every command: stdout carries only the protocol.

use anyhow::Context as _;

use super::{ExitStatus, GlobalArgs};

#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// Talk over stdin and stdout (the only transport; accepted because editors pass it).
    #[arg(long)]
    pub stdio: bool,
}

pub(super) fn run(_args: &LspArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let ending =
        scenarist_lsp::serve_stdio(global.config.clone()).context("the language server stopped")?;
    // The protocol: exit code 0 after `shutdown` then `exit`, 1 otherwise.
    Ok(match ending {
        scenarist_lsp::Ending::Clean => ExitStatus::Success,
        scenarist_lsp::Ending::Abrupt => ExitStatus::Failure,
    })
}
