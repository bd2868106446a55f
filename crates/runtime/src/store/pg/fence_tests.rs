//! A step's commit fenced by its locks (`fence.rs`), on its own: writes applied under live
//! locks are kept; once the session that took a lock has ended, nothing is written and the
//! error is an outage's (the step is refused, its sender resends).

use super::test_support::{end_sessions_holding_locks, two_nodes};
use super::*;

fn put(key: &[u8]) -> Vec<Write> {
    vec![Write::Insert {
        tree: TreeName::Conversations,
        key: key.to_vec(),
        value: b"record".to_vec(),
    }]
}

#[test]
fn writes_under_a_lock_whose_session_ended_are_not_kept() {
    let (first, second) = two_nodes();
    let mut held = first.hold("conversation\0c1").unwrap();
    held.also("contact\0acme\0u1").unwrap();
    first.apply_held(put(b"kept"), &held).unwrap();
    assert!(
        first
            .get(TreeName::Conversations, b"kept")
            .unwrap()
            .is_some()
    );

    // The lock session ends (the other node's call waits until it is gone).
    end_sessions_holding_locks(&second);
    // Another node may hold the conversation now.
    let taken_over = second.hold("conversation\0c1").unwrap();
    let refused = first.apply_held(put(b"lost"), &held).unwrap_err();
    assert!(refused.is_transient(), "{refused}");
    assert!(refused.to_string().contains("lock was lost"), "{refused}");
    assert_eq!(first.get(TreeName::Conversations, b"lost").unwrap(), None);
    drop(taken_over);
    drop(held);
}
