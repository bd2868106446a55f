//! What the PostgreSQL backend's tests share: two nodes on one new database, SQL sent as is,
//! and the end of the sessions that hold locks (a node's death, as the server sees it).

use super::{PgBackend, PgError, scratch_database, storage, test_database_url};

/// Two stores on one new database, as two nodes would open it.
pub(super) fn two_nodes() -> (PgBackend, PgBackend) {
    let url = scratch_database(&test_database_url().unwrap_or_else(|why| panic!("{why}")))
        .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
    (
        PgBackend::open(&url, 2).unwrap(),
        PgBackend::open(&url, 2).unwrap(),
    )
}

/// Runs `sql` on one of `backend`'s data connections.
pub(super) fn raw_sql(backend: &PgBackend, sql: &'static str) {
    backend
        .pool
        .call(move |connection| {
            connection
                .client()
                .map_err(PgError::into_store)?
                .batch_execute(sql)
                .map_err(|e| storage(&e))
        })
        .unwrap();
}

/// Ends the sessions of `node`'s database that hold advisory locks (but the one this runs
/// on), as the death of their node does, and waits until they are gone.
pub(super) fn end_sessions_holding_locks(node: &PgBackend) {
    raw_sql(
        node,
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks \
         WHERE locktype = 'advisory' AND pid <> pg_backend_pid() \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    );
}
