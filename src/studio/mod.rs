//! `scenarist studio`: the scenarios of a workspace in a browser. One page (HTML, JavaScript
//! and CSS built into the binary, `assets`) over a small JSON API under `/api/`:
//! `files` lists, reads and saves the files of the config's scenarios folder (only `.scn`
//! and `.test.yaml` files inside it), `edit` lints and draws the text being edited, `chat`
//! runs it on the real runtime (a memory store, the Zendesk sandbox, a clock that moves only
//! when asked, `record` noting what each action gave) and `transcript` turns a conversation
//! into a `*.test.yaml` file.
//!
//! The door (`guard`): every request passes the service's browser checks (a foreign `Host`
//! on loopback — DNS rebinding — is refused, and so is another site's `Origin` and a `POST`
//! that is not JSON); when the studio listens beyond loopback every `/api/` request carries
//! the token printed at start (compared in constant time); bodies are bounded.

mod assets;
mod chat;
mod edit;
mod files;
mod guard;
mod record;
mod save;
mod session;
mod transcript;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::config::Workspace;
use crate::service::browsers::Hosts;
use crate::zendesk::secret::Secret;

pub use guard::MAX_BODY_BYTES;

/// What the handlers share.
pub struct Studio {
    workspace: Workspace,
    /// The config file as given (`None`: the built-in one), for the `config:` of saved tests.
    config: Option<PathBuf>,
    /// The scenarios folder, resolved (symbolic links followed): every file read or written
    /// is inside it.
    folder: PathBuf,
    token: Option<Secret>,
    hosts: Hosts,
    sessions: session::Sessions,
}

/// How the studio is reached.
pub struct Door {
    /// The token `/api/` requests carry (`None`: loopback, none needed).
    pub token: Option<Secret>,
    /// The `Host` names answered.
    pub hosts: Hosts,
}

impl Studio {
    /// The studio over `workspace`'s scenarios folder, which must exist.
    pub fn new(
        workspace: Workspace,
        config: Option<PathBuf>,
        door: Door,
    ) -> anyhow::Result<Arc<Self>> {
        let folder = crate::setup::scenarios_folder(&workspace);
        let folder = folder.canonicalize().map_err(|e| {
            anyhow::anyhow!("cannot open the scenarios folder {}: {e}", folder.display())
        })?;
        Ok(Arc::new(Self {
            workspace,
            config,
            folder,
            token: door.token,
            hosts: door.hosts,
            sessions: session::Sessions::default(),
        }))
    }

    /// The scenarios folder, resolved.
    pub fn folder(&self) -> &std::path::Path {
        &self.folder
    }
}

pub fn router(studio: Arc<Studio>) -> Router {
    let api = Router::new()
        .route("/api/files", get(files::list))
        .route("/api/file", get(files::read).put(files::save))
        .route("/api/lint", post(edit::lint))
        .route("/api/graph", post(edit::graph))
        .route("/api/sessions", post(chat::create))
        .route("/api/sessions/{id}", get(chat::show))
        .route("/api/sessions/{id}/message", post(chat::message))
        .route("/api/sessions/{id}/advisor", post(chat::advisor))
        .route("/api/sessions/{id}/route", post(chat::route))
        .route("/api/sessions/{id}/return", post(chat::return_to_bot))
        .route("/api/sessions/{id}/close", post(chat::close))
        .route("/api/sessions/{id}/wait", post(chat::wait))
        .route("/api/sessions/{id}/ticket", get(chat::ticket))
        .route("/api/sessions/{id}/test", post(save::save_test));
    Router::new()
        .route("/", get(assets::page))
        .route("/assets/{name}", get(assets::asset))
        .merge(api)
        .fallback(guard::not_found)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&studio),
            guard::guard,
        ))
        .with_state(studio)
}
