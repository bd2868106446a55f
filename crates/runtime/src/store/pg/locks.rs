//! Locks every node on the database sees: PostgreSQL session-level advisory locks, keyed by a
//! 64-bit hash of the lock's name. A guard keeps a connection of the lock pool for its whole
//! life, that connection's thread waiting for more names to take (`Held::also`) or for the
//! guard to drop, when it lets every lock of the session go. A node that dies loses its
//! connections, and the server ends their sessions and their locks with them.
//!
//! The lock pool is apart from the data pool: a step holds its lock connection while its
//! reads and writes go to the data pool, so steps holding locks never wait for a connection
//! another holder keeps. Two names that hash alike share a lock: that costs only waiting.
//!
//! A lock's session may end under its holder (a database restart ends every session): the
//! step then must not commit. Each lock keeps the server process that took it, and the
//! statement that commits the step checks they still hold them (`fence.rs`).

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use super::super::StoreError;
use super::super::backend::{Held, HeldLock};
use super::pool::{Connection, Pool};
use super::{PgError, storage};

/// Takes the lock and says which server process holds it (what a fenced commit looks for).
const LOCK: &str = "SELECT pg_backend_pid() FROM (SELECT pg_advisory_lock($1)) AS taken";
const RELEASE: &str = "SELECT pg_advisory_unlock_all()";

/// The server process id of the session that took the lock.
type Reply = SyncSender<Result<i32, StoreError>>;

pub(super) struct Locks {
    pool: Pool,
}

/// A held guard: the requests to its connection's thread; dropping it releases.
pub(super) struct PgHeld {
    requests: Sender<(i64, Reply)>,
    /// Each lock taken, and the server process (session) that took it.
    taken: Vec<(i64, i32)>,
}

impl Locks {
    pub(super) fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// Takes the lock `name`, waiting while another session holds it.
    pub(super) fn hold(&self, name: &str) -> Result<Held, StoreError> {
        let (requests, queue) = mpsc::channel();
        let (reply, answer) = mpsc::sync_channel(1);
        let first = key(name);
        let sent = self
            .pool
            .send(move |connection| keep(connection, first, &reply, &queue));
        if !sent {
            return Err(stopped());
        }
        let session = answer.recv().map_err(|_| stopped())??;
        Ok(Held::new(Box::new(PgHeld {
            requests,
            taken: vec![(first, session)],
        })))
    }
}

impl HeldLock for PgHeld {
    fn also(&mut self, name: &str) -> Result<(), StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let key = key(name);
        self.requests.send((key, reply)).map_err(|_| stopped())?;
        let session = answer.recv().map_err(|_| stopped())??;
        self.taken.push((key, session));
        Ok(())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl PgHeld {
    /// Each lock held, as (key, server process id).
    pub(super) fn taken(&self) -> &[(i64, i32)] {
        &self.taken
    }
}

/// The job of a guard's connection: the first lock, then each one asked for, then release.
fn keep(connection: &mut Connection, first: i64, reply: &Reply, queue: &Receiver<(i64, Reply)>) {
    let granted = lock(connection, first);
    let held = granted.is_ok();
    // The caller waits for this answer (a dropped caller only means releasing at once).
    let _ = reply.send(granted);
    if held {
        // Ends when the guard drops (its sender with it).
        while let Ok((next, reply)) = queue.recv() {
            let granted = lock(connection, next);
            let failed = granted.is_err();
            let _ = reply.send(granted);
            if failed {
                break;
            }
        }
    }
    release(connection);
}

fn lock(connection: &mut Connection, key: i64) -> Result<i32, StoreError> {
    let taken = connection.statement(LOCK).and_then(|statement| {
        let client = connection.client().map_err(PgError::into_store)?;
        client
            .query_one(&statement, &[&key])
            .and_then(|row| row.try_get(0))
            .map_err(|e| storage(&e))
    });
    if let Err(error) = &taken
        && error.is_transient()
    {
        // The session is gone and its locks with it; the next guard connects again.
        connection.close();
    }
    taken
}

/// Lets go of every lock of the session; a session that cannot is closed, which does it.
fn release(connection: &mut Connection) {
    // No session, no locks (one lost already lost them).
    if !connection.is_open() {
        return;
    }
    let released = connection.statement(RELEASE).and_then(|statement| {
        let client = connection.client().map_err(PgError::into_store)?;
        client.execute(&statement, &[]).map_err(|e| storage(&e))
    });
    if released.is_err() {
        connection.close();
    }
}

/// A lock's number: the stable hash of its name.
pub(super) fn key(name: &str) -> i64 {
    i64::from_ne_bytes(crate::state::id_hash(name).to_ne_bytes())
}

fn stopped() -> StoreError {
    StoreError::Io("the PostgreSQL lock connections have stopped (see the log for a panic)".into())
}
