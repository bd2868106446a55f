//! Connections to PostgreSQL, each owned by an OS thread of its own. The `Store` is called
//! synchronously, from inside tokio tasks: the `postgres` client runs its own small runtime
//! for each call (`block_on`), which panics on a thread that is already in one. So a call is
//! a job sent over a channel to a free connection thread, and the caller waits for its
//! answer — as it waits for sled's disk. The pool's size bounds the connections.
//!
//! A connection lost (the server restarted, the network broke) is dropped by the call that
//! found it lost, and the next call connects again; while the server refuses, the pool's
//! threads wait out one backoff together (`Gate`), failing calls at once meanwhile, so a
//! server that is down is not hammered and callers are not kept waiting.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use postgres::{Client, Statement};

use super::super::{StorageCause, StorageFault, StoreError};
use super::{PgError, redacted, storage, words};

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// How to connect: the parsed URL, kept only here and never printed (it holds the password).
pub(super) struct Setup {
    pub(super) config: postgres::Config,
    /// The URL as given, to take its password out of an error's words.
    pub(super) url: String,
    /// Plain, or TLS with its checks (`tls.rs`).
    pub(super) tls: super::tls::Tls,
}

impl Setup {
    /// Where the URL points, for messages: hosts, ports, database and user (no password).
    fn place(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|host| match host {
                postgres::config::Host::Tcp(name) => name.clone(),
                postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        let ports: Vec<String> = self.config.get_ports().iter().map(u16::to_string).collect();
        format!(
            "{} port {} (database {}, user {})",
            if hosts.is_empty() {
                "localhost".to_owned()
            } else {
                hosts.join(",")
            },
            if ports.is_empty() {
                "5432".to_owned()
            } else {
                ports.join(",")
            },
            self.config.get_dbname().unwrap_or("the user's"),
            self.config.get_user().unwrap_or("the system user's"),
        )
    }
}

/// The first wait after a failed connection attempt, doubled after each failure up to the
/// last: a restarting server (about a second) is found again quickly, a stopped one is tried
/// every two seconds.
const FIRST_WAIT: Duration = Duration::from_millis(100);
const LAST_WAIT: Duration = Duration::from_secs(2);

/// When a pool's threads may try to connect again after an attempt failed.
#[derive(Default)]
struct Gate {
    state: Mutex<Backoff>,
}

#[derive(Default)]
struct Backoff {
    not_before: Option<Instant>,
    wait: Duration,
}

impl Gate {
    /// `Err(left)`: an attempt failed lately; the next one is `left` from now.
    fn admit(&self) -> Result<(), Duration> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match state.not_before {
            Some(at) if at > Instant::now() => Err(at - Instant::now()),
            _ => Ok(()),
        }
    }

    fn failed(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.wait = (state.wait * 2).clamp(FIRST_WAIT, LAST_WAIT);
        state.not_before = Some(Instant::now() + state.wait);
    }

    fn succeeded(&self) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = Backoff::default();
    }
}

/// One connection, (re)opened when a job needs it, with its prepared statements.
pub(super) struct Connection {
    setup: Arc<Setup>,
    gate: Arc<Gate>,
    client: Option<Client>,
    statements: HashMap<&'static str, Statement>,
    /// How many sessions this connection has opened: what a session-level lock was taken in.
    sessions: u64,
}

impl Connection {
    /// The open connection, connecting first when there is none or it was lost.
    pub(super) fn client(&mut self) -> Result<&mut Client, PgError> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.statements.clear();
            self.client = None;
            if let Err(left) = self.gate.admit() {
                return Err(PgError::Connect(format!(
                    "at {}: the last attempt failed; the next one in {} ms",
                    self.setup.place(),
                    left.as_millis()
                )));
            }
            let client = self.connect();
            match &client {
                Ok(_) => self.gate.succeeded(),
                Err(_) => self.gate.failed(),
            }
            self.client = Some(client?);
            self.sessions += 1;
        }
        self.client
            .as_mut()
            .ok_or_else(|| PgError::Connect("the connection closed as it opened".into()))
    }

    fn connect(&self) -> Result<Client, PgError> {
        let mut client = self.setup.tls.connect(&self.setup.config).map_err(|e| {
            PgError::Connect(format!(
                "at {}: {}",
                self.setup.place(),
                self.setup
                    .tls
                    .explain(redacted(&words(&e), &self.setup.url))
            ))
        })?;
        // Every commit waits for its WAL write, whatever the server's default says: an
        // answer is sent only after its step is durable.
        client
            .batch_execute("SET synchronous_commit = on")
            .map_err(|e| PgError::Connect(redacted(&words(&e), &self.setup.url)))?;
        Ok(client)
    }

    /// Whether a session is open (it may have been lost without this knowing yet).
    pub(super) fn is_open(&self) -> bool {
        self.client
            .as_ref()
            .is_some_and(|client| !client.is_closed())
    }

    /// Closes the connection (the next job opens a new one): the server ends its session and
    /// with it every lock the session held.
    pub(super) fn close(&mut self) {
        self.statements.clear();
        self.client = None;
    }

    /// The session the connection is in (a new one after each reconnection): a session's
    /// advisory locks end with it.
    pub(super) fn session(&self) -> u64 {
        self.sessions
    }

    /// `sql` prepared on this connection (once per connection).
    pub(super) fn statement(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        // Reconnected first when the session was lost: its prepared statements went with it,
        // and a cached one used on the new session would be unknown there.
        self.client().map_err(PgError::into_store)?;
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self
            .client()
            .map_err(PgError::into_store)?
            .prepare(sql)
            .map_err(|e| storage(&e))?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }
}

pub(super) struct Pool {
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// `size` connection threads (at least one), named `name-N`; each connects when its first
    /// job comes.
    pub(super) fn new(setup: &Arc<Setup>, size: usize, name: &str) -> Result<Self, PgError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let gate = Arc::new(Gate::default());
        let mut workers = Vec::new();
        for n in 0..size.max(1) {
            let queue = Arc::clone(&queue);
            let setup = Arc::clone(setup);
            let gate = Arc::clone(&gate);
            let worker = std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || work(&queue, setup, gate))
                .map_err(|e| PgError::Connect(format!("cannot start a connection thread: {e}")))?;
            workers.push(worker);
        }
        Ok(Self {
            jobs: Some(jobs),
            workers,
        })
    }

    /// Runs `job` on a connection and waits for what it gives.
    pub(super) fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> R + Send + 'static,
    ) -> Result<R, StoreError> {
        self.run_within(job, None)
    }

    /// [`Pool::run`], waiting at most `limit` for the answer (`None`: as long as it takes);
    /// a job not answered in time is still run, its answer dropped.
    pub(super) fn run_within<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> R + Send + 'static,
        limit: Option<Duration>,
    ) -> Result<R, StoreError> {
        let stopped = || {
            StoreError::Io(
                "the PostgreSQL connection threads have stopped (see the log for a panic)".into(),
            )
        };
        let (reply, answer) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |connection| {
            // The caller may be gone (it never is: it waits); nothing to do then.
            let _ = reply.send(job(connection));
        });
        self.jobs
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())?;
        match limit {
            None => answer.recv().map_err(|_| stopped()),
            Some(limit) => answer.recv_timeout(limit).map_err(|e| match e {
                mpsc::RecvTimeoutError::Timeout => StoreError::Io(StorageFault::new(
                    StorageCause::Unreachable,
                    format!(
                        "no PostgreSQL connection answered within {} ms",
                        limit.as_millis()
                    ),
                )),
                mpsc::RecvTimeoutError::Disconnected => stopped(),
            }),
        }
    }

    /// Hands `job` to a connection and returns at once: a job that keeps its connection for
    /// a while (a held lock) and answers through channels of its own.
    pub(super) fn send(&self, job: impl FnOnce(&mut Connection) + Send + 'static) -> bool {
        self.jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(Box::new(job)).is_ok())
    }

    /// [`Pool::run`] for a job that may fail with a storage error. A connection found lost
    /// is closed, so the next job connects again.
    pub(super) fn call<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.call_limited(job, None)
    }

    /// [`Pool::call`], waiting at most `limit` for the answer.
    pub(super) fn call_within<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        limit: Duration,
    ) -> Result<T, StoreError> {
        self.call_limited(job, Some(limit))
    }

    fn call_limited<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        limit: Option<Duration>,
    ) -> Result<T, StoreError> {
        self.run_within(
            move |connection| {
                let result = job(connection);
                if let Err(error) = &result
                    && error.is_transient()
                {
                    connection.close();
                }
                result
            },
            limit,
        )?
    }
}

fn work(queue: &Mutex<Receiver<Job>>, setup: Arc<Setup>, gate: Arc<Gate>) {
    let mut connection = Connection {
        setup,
        gate,
        client: None,
        statements: HashMap::new(),
        sessions: 0,
    };
    loop {
        // The lock is held only while waiting for the next job, not while running it.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&mut connection),
            // The pool was dropped: every sender is gone.
            Err(_) => return,
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.jobs = None;
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}
