//! The locks two nodes on one database share (`locks.rs`): a second holder waits for the
//! first, a guard holds further names, and a session that ends lets its locks go.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::test_support::two_nodes;
use super::*;

/// Takes `name` on `node` in a thread that writes `"granted"` to `events` once it has it.
/// (The caller keeps `node`: a store dropped while a guard lives waits for the guard.)
fn wait_for(
    node: &Arc<PgBackend>,
    name: &'static str,
    events: &Arc<Mutex<Vec<&'static str>>>,
) -> std::thread::JoinHandle<Held> {
    let events = Arc::clone(events);
    let node = Arc::clone(node);
    std::thread::spawn(move || {
        let held = node.hold(name).unwrap();
        events.lock().unwrap().push("granted");
        held
    })
}

#[test]
fn a_second_node_waits_until_the_first_lets_go() {
    let (first, second) = two_nodes();
    assert!(first.shared());
    let events = Arc::new(Mutex::new(Vec::new()));
    let held = first.hold("conversation\0c1").unwrap();
    // Another name is free meanwhile.
    drop(second.hold("conversation\0c2").unwrap());
    let second = Arc::new(second);
    let waiting = wait_for(&second, "conversation\0c1", &events);
    std::thread::sleep(Duration::from_millis(200));
    events.lock().unwrap().push("released");
    drop(held);
    drop(waiting.join().unwrap());
    assert_eq!(*events.lock().unwrap(), ["released", "granted"]);
}

#[test]
fn a_guard_holds_the_names_it_takes_too_until_it_drops() {
    let (first, second) = two_nodes();
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut held = first.hold("conversation\0c1").unwrap();
    held.also("contact\0acme\0u1").unwrap();
    // The same name again on the same guard does not wait for itself.
    held.also("contact\0acme\0u1").unwrap();
    let second = Arc::new(second);
    let waiting = wait_for(&second, "contact\0acme\0u1", &events);
    std::thread::sleep(Duration::from_millis(200));
    events.lock().unwrap().push("released");
    drop(held);
    drop(waiting.join().unwrap());
    assert_eq!(*events.lock().unwrap(), ["released", "granted"]);
}

#[test]
fn a_lock_of_a_session_that_ends_is_let_go() {
    let (first, second) = two_nodes();
    // `held` is never dropped before the session ends: as a node that dies holding it.
    let held = first.hold("conversation\0c1").unwrap();
    second
        .pool
        .call(|connection| {
            connection
                .client()
                .map_err(PgError::into_store)?
                .batch_execute(
                    // Only this test's database: other tests run beside it.
                    "SELECT pg_terminate_backend(pid) FROM pg_locks \
                     WHERE locktype = 'advisory' AND pid <> pg_backend_pid() \
                     AND database = (SELECT oid FROM pg_database \
                                     WHERE datname = current_database())",
                )
                .map_err(|e| storage(&e))
        })
        .unwrap();
    drop(second.hold("conversation\0c1").unwrap());
    // The first node's guard can still be dropped; its next lock opens a new session.
    drop(held);
    drop(first.hold("conversation\0c1").unwrap());
}

/// A sweep that judged a value removes or rewrites it only if no step wrote it meanwhile.
#[test]
fn swap_if_changes_a_value_only_while_it_is_the_one_expected() {
    let (first, second) = two_nodes();
    first.insert(TreeName::Seen, b"m1", b"old").unwrap();
    // Another node wrote it after the sweep read it.
    second.insert(TreeName::Seen, b"m1", b"new").unwrap();
    assert!(!first.swap_if(TreeName::Seen, b"m1", b"old", None).unwrap());
    assert!(
        !first
            .swap_if(TreeName::Seen, b"m1", b"old", Some(b"dated"))
            .unwrap()
    );
    assert_eq!(
        second.get(TreeName::Seen, b"m1").unwrap().as_deref(),
        Some(&b"new"[..])
    );
    assert!(
        first
            .swap_if(TreeName::Seen, b"m1", b"new", Some(b"dated"))
            .unwrap()
    );
    assert_eq!(
        second.get(TreeName::Seen, b"m1").unwrap().as_deref(),
        Some(&b"dated"[..])
    );
    assert!(
        first
            .swap_if(TreeName::Seen, b"m1", b"dated", None)
            .unwrap()
    );
    assert_eq!(second.get(TreeName::Seen, b"m1").unwrap(), None);
    assert!(
        !first
            .swap_if(TreeName::Seen, b"absent", b"x", None)
            .unwrap()
    );
}
