//! Connections to PostgreSQL, each owned by an OS thread of its own. The `Store` is called
//! synchronously, from inside tokio tasks: the `postgres` client runs its own small runtime
//! for each call (`block_on`), which panics on a thread that is already in one. So a call is
//! a job sent over a channel to a free connection thread, and the caller waits for its
//! answer — as it waits for sled's disk. The pool's size bounds the connections.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use postgres::{Client, NoTls, Statement};

use super::super::StoreError;
use super::{PgError, redacted, storage, words};

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// How to connect: the parsed URL, kept only here and never printed (it holds the password).
pub(super) struct Setup {
    pub(super) config: postgres::Config,
    /// The URL as given, to take its password out of an error's words.
    pub(super) url: String,
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

/// One connection, (re)opened when a job needs it, with its prepared statements.
pub(super) struct Connection {
    setup: Arc<Setup>,
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
            let mut client = self.setup.config.connect(NoTls).map_err(|e| {
                PgError::Connect(format!(
                    "at {}: {}",
                    self.setup.place(),
                    redacted(&words(&e), &self.setup.url)
                ))
            })?;
            // Every commit waits for its WAL write, whatever the server's default says: an
            // answer is sent only after its step is durable.
            client
                .batch_execute("SET synchronous_commit = on")
                .map_err(|e| PgError::Connect(redacted(&words(&e), &self.setup.url)))?;
            self.client = Some(client);
            self.sessions += 1;
        }
        self.client
            .as_mut()
            .ok_or_else(|| PgError::Connect("the connection closed as it opened".into()))
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
        let mut workers = Vec::new();
        for n in 0..size.max(1) {
            let queue = Arc::clone(&queue);
            let setup = Arc::clone(setup);
            let worker = std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || work(&queue, setup))
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
        answer.recv().map_err(|_| stopped())
    }

    /// Hands `job` to a connection and returns at once: a job that keeps its connection for
    /// a while (a held lock) and answers through channels of its own.
    pub(super) fn send(&self, job: impl FnOnce(&mut Connection) + Send + 'static) -> bool {
        self.jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(Box::new(job)).is_ok())
    }

    /// [`Pool::run`] for a job that may fail with a storage error.
    pub(super) fn call<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.run(job)?
    }
}

fn work(queue: &Mutex<Receiver<Job>>, setup: Arc<Setup>) {
    let mut connection = Connection {
        setup,
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
