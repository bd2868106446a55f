//! Claims: which node runs a conversation's outbox effects now. A claim is a session-level
//! advisory lock taken with `pg_try_advisory_lock` (never waiting: a claim another node holds
//! means "skip, the due entry stays for a later tick"), all of a node's claims on ONE
//! connection of their own, so that effects waiting seconds on Zendesk do not keep lock or
//! data connections. When a node dies the server ends its session and the claims with it,
//! and the next scheduler tick of another node takes the effect over.
//!
//! A claims connection that is lost (the server restarted, the network cut) takes its claims
//! with it while their effects still run here: until those end, another node may run the
//! same effect too. That window is safe because every effect is safe to repeat (its
//! idempotency key, the external-id lookups: reliability.md §3); the next claim reconnects.
//! A release is matched to the session it was taken in, so one from a lost session never
//! lets go of a claim of the new one.

use std::sync::Arc;

use super::super::StoreError;
use super::super::backend::Claim;
use super::pool::{Connection, Pool, Setup};
use super::{PgError, storage};

/// Asked of the server for the sessions that hold locks and claims: it probes a silent client
/// after 10 s, every 5 s, and ends the session after 3 probes unanswered, so the locks of a
/// node whose machine vanished (no connection reset) go in about 25 s rather than after the
/// system's 2 hours.
const KEEPALIVES: &str =
    "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3";

const TRY: &str = "SELECT pg_try_advisory_lock($1)";
const RELEASE: &str = "SELECT pg_advisory_unlock($1)";

pub(super) struct Claims {
    /// One connection: a session holds any number of advisory locks.
    connection: Arc<Pool>,
}

/// A claim taken: dropping it lets it go (a job for the claims connection, not waited for).
struct PgClaim {
    connection: Arc<Pool>,
    key: i64,
    session: u64,
}

/// How the connections that hold locks connect: as the data connections, with keepalives,
/// named for `pg_stat_activity` (`scenarist <role> <process id>`: which node holds what).
pub(super) fn holding(data: &Setup, role: &str) -> Arc<Setup> {
    let mut config = data.config.clone();
    config.application_name(&format!("scenarist {role} {}", std::process::id()));
    let options = match data.config.get_options() {
        Some(given) => format!("{given} {KEEPALIVES}"),
        None => KEEPALIVES.to_owned(),
    };
    config.options(&options);
    Arc::new(Setup {
        config,
        url: data.url.clone(),
        tls: data.tls.clone(),
    })
}

impl Claims {
    pub(super) fn new(connection: Pool) -> Self {
        Self {
            connection: Arc::new(connection),
        }
    }

    /// Takes the claim `name`, or `None` while another session holds it.
    pub(super) fn claim(&self, name: &str) -> Result<Option<Claim>, StoreError> {
        let key = super::locks::key(name);
        let taken = self.connection.call(move |connection| {
            // A session lost while idle is found on its first statement: once more, on a new one.
            try_claim(connection, key).or_else(|_| try_claim(connection, key))
        })?;
        Ok(taken.map(|session| {
            Claim::new(Box::new(PgClaim {
                connection: Arc::clone(&self.connection),
                key,
                session,
            }))
        }))
    }
}

/// The claim `key` in this connection's session: the session's number when taken.
fn try_claim(connection: &mut Connection, key: i64) -> Result<Option<u64>, StoreError> {
    // Reconnected first when the session was lost: its prepared statements went with it.
    connection.client().map_err(PgError::into_store)?;
    let statement = connection.statement(TRY)?;
    let client = connection.client().map_err(PgError::into_store)?;
    let taken: bool = client
        .query_one(&statement, &[&key])
        .and_then(|row| row.try_get(0))
        .map_err(|e| storage(&e))?;
    Ok(taken.then(|| connection.session()))
}

impl Drop for PgClaim {
    fn drop(&mut self) {
        let (key, session) = (self.key, self.session);
        // A claims connection gone (the store closing) has let every claim go already.
        let _ = self.connection.send(move |connection| {
            if connection.session() != session {
                return; // taken in a session that has ended, and its claims with it
            }
            let released = connection.statement(RELEASE).and_then(|statement| {
                let client = connection.client().map_err(PgError::into_store)?;
                client.execute(&statement, &[&key]).map_err(|e| storage(&e))
            });
            if released.is_err() {
                // A session that cannot let go is closed, which lets go of all its claims.
                connection.close();
            }
        });
    }
}
