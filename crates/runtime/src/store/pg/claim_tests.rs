//! Claims among nodes on one database (`claims.rs`): refused at once while another node holds
//! one, free once dropped or once the holder's session ends, and a node whose claims session
//! was lost claims again on a new one without a stale release letting go of a new claim.

use super::*;

/// Two stores on one new database, as two nodes would open it.
fn two_nodes() -> (PgBackend, PgBackend) {
    let url = scratch_database(&test_database_url().unwrap_or_else(|why| panic!("{why}")))
        .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
    (
        PgBackend::open(&url, 2).unwrap(),
        PgBackend::open(&url, 2).unwrap(),
    )
}

/// Whether `node` gets the claim `name` now (letting it go at once).
fn free(node: &PgBackend, name: &str) -> bool {
    node.claim(name).unwrap().is_some()
}

/// Ends the sessions of this test's database that hold advisory locks, as the death of their
/// node does, and waits until they are gone.
fn end_sessions_holding_locks(node: &PgBackend) {
    node.pool
        .call(|connection| {
            connection
                .client()
                .map_err(PgError::into_store)?
                .batch_execute(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_locks \
                     WHERE locktype = 'advisory' AND pid <> pg_backend_pid() \
                     AND database = (SELECT oid FROM pg_database \
                                     WHERE datname = current_database())",
                )
                .map_err(|e| storage(&e))
        })
        .unwrap();
}

#[test]
fn a_claim_another_node_holds_is_refused_at_once_and_free_once_dropped() {
    let (first, second) = two_nodes();
    let claim = first.claim("effects\0c1").unwrap().unwrap();
    assert!(claim.is_holding());
    assert!(!free(&second, "effects\0c1"), "held by the first node");
    assert!(free(&second, "effects\0c2"), "another name is free");
    drop(claim);
    // The release is the claims connection's next job: one more claim there waits for it.
    assert!(free(&first, "effects\0c3"));
    assert!(free(&second, "effects\0c1"));
}

#[test]
fn a_claim_of_a_session_that_ended_is_free_and_its_late_release_lets_go_of_nothing() {
    let (first, second) = two_nodes();
    let lost = first.claim("effects\0c1").unwrap().unwrap();
    end_sessions_holding_locks(&second);
    // The dead session's claim is free: another node takes the effect over.
    assert!(free(&second, "effects\0c1"));
    // The first node claims again, on a new session.
    let again = first.claim("effects\0c1").unwrap().unwrap();
    assert!(!free(&second, "effects\0c1"));
    // The claim of the lost session ends late: the new session's claim stays.
    drop(lost);
    assert!(free(&first, "effects\0c2"));
    assert!(
        !free(&second, "effects\0c1"),
        "a stale release let go of a claim"
    );
    drop(again);
    assert!(free(&first, "effects\0c2"));
    assert!(free(&second, "effects\0c1"));
}
