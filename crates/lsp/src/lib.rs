//! `scenarist lsp`: a Language Server over stdio for `.scn` files. It adds no language of its
//! own: findings are `scenarist-lang`'s checker's (the same codes, spans and help as `lint`,
//! cross-file ones included), formatting is its formatter, completion and navigation read its
//! AST and its registries. The layers: `transport` (framed JSON-RPC, tolerant of bad input)
//! → `server` (the loop: documents, coalesced edits) and `dispatch` (request → feature) → `analysis` (one document
//! checked, `incremental` re-parsing only the step an edit touched) → the features
//! (`completion`, `hover`, `navigate`, `outline`, `quickfix`) over `names` (every name of a
//! parse) and `position` (byte offsets ↔ UTF-16 positions).
//!
//! Built on lsp-server and lsp-types, rust-analyzer's own: a synchronous loop on one thread,
//! no async runtime (docs/editors.md says why).

mod analysis;
mod completion;
mod diagnostics;
mod dispatch;
mod document;
mod hover;
mod incremental;
mod names;
mod navigate;
mod outline;
mod position;
mod quickfix;
mod scope;
mod server;
mod transport;
mod workspace;

use std::io::BufReader;
use std::path::PathBuf;

pub use server::Ending;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum LspError {
    #[error("cannot read or write the editor's messages")]
    Io(#[from] std::io::Error),
    #[error("the built-in default config is invalid; this is a bug")]
    DefaultConfig,
}

/// Serves one editor over stdin and stdout until it says `exit` or closes stdin. `config`
/// overrides the `scenarist.yaml` found above each document.
pub fn serve_stdio(config: Option<PathBuf>) -> Result<Ending, LspError> {
    let incoming = transport::read_in_background(BufReader::new(std::io::stdin()))?;
    let stdout = std::io::stdout();
    let mut server = server::Server::new(stdout.lock(), config).ok_or(LspError::DefaultConfig)?;
    Ok(server.run(&incoming)?)
}
