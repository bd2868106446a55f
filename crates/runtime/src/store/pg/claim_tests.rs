//! Claims among nodes on one database (`claims.rs`): refused at once while another node holds
//! one, free once dropped or once the holder's session ends, and a node whose claims session
//! was lost claims again on a new one without a stale release letting go of a new claim.

use super::test_support::{end_sessions_holding_locks, two_nodes};
use super::*;

/// Whether `node` gets the claim `name` now (letting it go at once).
fn free(node: &PgBackend, name: &str) -> bool {
    node.claim(name).unwrap().is_some()
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
