//! The Zendesk stand-in: a real HTTP server on loopback that speaks the Zendesk Support API
//! endpoints the connector uses (users, user fields, tickets, ticket fields, comments, OAuth),
//! keeps users, tickets and ticket fields in memory and injects faults on demand. Integration
//! tests and the offline demo point the connector's base URL at it; no test reaches the real
//! API (STYLE C15).
//!
//! Layout: `server` (accept loop and per-connection serving, so a fault can close a
//! connection without a status line), `faults`, `auth`, `routes` (the router and small
//! endpoints), `users`, `search`, `tickets`, `update`, `ticket_fields` (the custom ticket
//! fields, and a ticket's priority, group and custom field values), `comments`, `oauth`,
//! `render` (Zendesk-shaped JSON), `reply` (the response type and error envelopes), `state`
//! (the data, behind one mutex that is never held across an `await`), `persist` (the optional
//! state file that keeps users, tickets, ticket fields, ids, idempotency keys and tokens across
//! restarts), `journal` (the changes appended to it between compactions) and `snapshot` (that
//! file's content).
//!
//! Invariants: every request is logged before anything else happens to it; a fault applies
//! before authentication and routing; the stand-in's clock is the system clock plus an
//! offset that tests move with [`StandIn::advance_clock`].

mod auth;
mod comments;
mod demo_orders;
mod faults;
mod journal;
mod oauth;
mod persist;
mod render;
mod reply;
mod routes;
mod search;
mod server;
mod snapshot;
mod state;
mod ticket_fields;
mod tickets;
mod update;
mod users;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use demo_orders::DemoOrders;
pub use faults::{Fault, FaultKind};
pub use persist::StateFileError;
pub use state::{
    CommentRecord, REQUEST_LOG_CAP, RequestLog, TicketFieldRecord, TicketRecord, UserRecord,
};

use state::Shared;

/// What the stand-in accepts as credentials, and the custom user fields it defines.
#[derive(Debug, Clone, PartialEq)]
pub struct StandInConfig {
    /// The agent's email: API-token requests must authenticate as `{email}/token`.
    pub email: String,
    pub api_token: String,
    /// A bearer token accepted from the start (tokens issued by the OAuth flow are accepted
    /// too).
    pub oauth_token: Option<String>,
    pub oauth_client_id: String,
    pub oauth_client_secret: String,
    /// Custom user fields as `(key, type)`, e.g. `("vip", "checkbox")`.
    pub user_fields: Vec<(String, String)>,
    /// Custom ticket fields the account has from the start, with their ids; one missing from
    /// the state file is added to it (the sandbox defines those `sync.ticket_fields` names).
    pub ticket_fields: Vec<TicketFieldRecord>,
    /// Where to keep users, tickets, id counters, idempotency keys and issued OAuth tokens
    /// across restarts (JSON; loaded at start if it exists, with what changed after each request
    /// appended to `<file>.journal` and compacted into the file now and then). `None`: in
    /// memory only.
    pub state_file: Option<PathBuf>,
}

impl Default for StandInConfig {
    fn default() -> Self {
        Self {
            email: "agent@acme.example".to_owned(),
            api_token: "standin-token".to_owned(),
            oauth_token: Some("standin-oauth-token".to_owned()),
            oauth_client_id: "scenarist".to_owned(),
            oauth_client_secret: "standin-secret".to_owned(),
            user_fields: vec![
                ("order_number".to_owned(), "text".to_owned()),
                ("vip".to_owned(), "checkbox".to_owned()),
            ],
            ticket_fields: Vec::new(),
            state_file: None,
        }
    }
}

/// A running stand-in. Dropping it stops the server too (the accept loop ends when the
/// shutdown sender goes away); [`StandIn::stop`] also waits for that.
pub struct StandIn {
    shared: Arc<Shared>,
    url: String,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl StandIn {
    /// Starts on 127.0.0.1:port (0 = any free port) and returns at once; the server runs on
    /// the current tokio runtime. With a `state_file` it first loads that file (or starts
    /// fresh when there is none) and writes it; a file that cannot be read, parsed or written
    /// is an error wrapping a [`StateFileError`], which names the file and the problem.
    pub async fn start(port: u16, config: StandInConfig) -> std::io::Result<StandIn> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let url = format!("http://127.0.0.1:{}", addr.port());
        let shared = Arc::new(persist::open(config, url.clone()).await?);
        let (shutdown, shutdown_rx) = watch::channel(false);
        let router = routes::router(Arc::clone(&shared));
        let task = tokio::spawn(server::serve(
            listener,
            Arc::clone(&shared),
            router,
            shutdown_rx,
        ));
        Ok(StandIn {
            shared,
            url,
            shutdown,
            task,
        })
    }

    /// The base URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Queues a fault; faults are tried in the order they were queued.
    pub fn inject(&self, fault: Fault) {
        self.shared.lock().push_fault(fault);
    }

    /// A snapshot of the tickets, ordered by id.
    pub fn tickets(&self) -> Vec<TicketRecord> {
        self.shared.lock().ticket_records()
    }

    /// A snapshot of the users (the agent included), ordered by id.
    pub fn users(&self) -> Vec<UserRecord> {
        self.shared.lock().user_records()
    }

    /// A snapshot of the custom ticket fields, ordered by id.
    pub fn ticket_fields(&self) -> Vec<TicketFieldRecord> {
        self.shared.lock().ticket_field_records()
    }

    /// The requests received so far, in order (control requests to `/__standin` included):
    /// the latest [`REQUEST_LOG_CAP`], the oldest dropped first.
    pub fn requests(&self) -> Vec<RequestLog> {
        self.shared.lock().requests.iter().cloned().collect()
    }

    /// Moves the stand-in's own clock (idempotency-key retention, OAuth code and token
    /// lifetimes, timestamps).
    pub fn advance_clock(&self, seconds: i64) {
        self.shared.lock().advance_clock(seconds);
    }

    /// Stops accepting, closes open connections and waits for the server task; with a state
    /// file, writes the whole state to it a last time and removes its journal.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        persist::save(&self.shared).await;
        persist::compact_now(&self.shared);
    }

    /// With a state file: writes the whole state to it now and removes its journal (blocking
    /// file I/O), so the file alone holds everything — for a stand-in about to be dropped.
    pub fn compact(&self) {
        persist::compact_now(&self.shared);
    }
}

impl std::fmt::Debug for StandIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandIn")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}
