//! Group commit on PostgreSQL: steps committed in one statement are each whole, and a step
//! the server refuses fails alone.

use std::sync::mpsc::Receiver;

use super::*;
use crate::store::backend::{Backend, TreeName};
use crate::store::pg::test_support::raw_sql;
use crate::store::pg::{PgBackend, test_backend};

fn insert(tree: TreeName, key: &[u8], value: &[u8]) -> Write {
    Write::Insert {
        tree,
        key: key.to_vec(),
        value: value.to_vec(),
    }
}

fn remove(tree: TreeName, key: &[u8]) -> Write {
    Write::Remove {
        tree,
        key: key.to_vec(),
    }
}

/// A step put straight in the waiting batch, and where its answer comes.
fn wait(backend: &PgBackend, writes: Vec<Write>) -> Receiver<Result<(), StoreError>> {
    wait_fenced(backend, writes, Vec::new())
}

/// The same, fenced by locks given as (key, server process id).
fn wait_fenced(
    backend: &PgBackend,
    writes: Vec<Write>,
    fence: Vec<(i64, i32)>,
) -> Receiver<Result<(), StoreError>> {
    let (reply, answer) = mpsc::sync_channel(1);
    lock(&backend.commits.waiting).push(Step {
        writes,
        fence,
        reply,
    });
    answer
}

/// Has one job commit every step waiting (as one statement, unless they share a key).
fn commit_now(backend: &PgBackend) {
    let waiting = Arc::clone(&backend.commits.waiting);
    backend
        .pool
        .run(move |connection| commit_waiting(connection, &waiting))
        .unwrap();
}

/// A lock held now, as the fence of a step that took it: (key, session).
fn held_fence(held: &crate::store::Held) -> Vec<(i64, i32)> {
    held.lock()
        .and_then(|lock| lock.as_any().downcast_ref::<super::super::locks::PgHeld>())
        .map(|lock| lock.taken().to_vec())
        .unwrap()
}

#[test]
fn a_step_of_a_batch_whose_lock_was_lost_is_refused_alone() {
    let backend = test_backend();
    let held = backend.hold("conversation\0a").unwrap();
    let fence = held_fence(&held);
    // The same lock, as if taken by a session that has ended since (no such server process).
    let lost_fence = vec![(fence[0].0, 0)];
    let kept = wait_fenced(
        &backend,
        vec![insert(TreeName::Conversations, b"a", b"record")],
        fence,
    );
    let lost = wait_fenced(
        &backend,
        vec![
            insert(TreeName::Conversations, b"b", b"record"),
            remove(TreeName::Due, b"b-due"),
        ],
        lost_fence,
    );
    let unfenced = wait(&backend, vec![insert(TreeName::Scenarios, b"v1", b"s")]);
    backend.insert(TreeName::Due, b"b-due", b"x").unwrap();
    commit_now(&backend);

    kept.recv().unwrap().unwrap();
    unfenced.recv().unwrap().unwrap();
    let error = lost.recv().unwrap().unwrap_err();
    assert!(error.is_transient(), "{error}");
    assert!(error.to_string().contains("lock was lost"), "{error}");
    let get = |tree, key: &[u8]| backend.get(tree, key).unwrap();
    assert_eq!(get(TreeName::Conversations, b"a"), Some(b"record".to_vec()));
    assert_eq!(get(TreeName::Scenarios, b"v1"), Some(b"s".to_vec()));
    // Nothing of the step that lost its lock: no write, no removal.
    assert_eq!(get(TreeName::Conversations, b"b"), None);
    assert_eq!(get(TreeName::Due, b"b-due"), Some(b"x".to_vec()));
}

#[test]
fn steps_sharing_a_key_commit_one_by_one_so_a_lost_lock_drops_only_its_own() {
    let backend = test_backend();
    let held = backend.hold("conversation\0a").unwrap();
    let fence = held_fence(&held);
    let lost_fence = vec![(fence[0].0, 0)];
    // Both steps write the same `seen` key; the later one has lost its lock.
    let first = wait_fenced(
        &backend,
        vec![insert(TreeName::Seen, b"m-1", b"first")],
        fence,
    );
    let second = wait_fenced(
        &backend,
        vec![insert(TreeName::Seen, b"m-1", b"second")],
        lost_fence,
    );
    commit_now(&backend);
    first.recv().unwrap().unwrap();
    assert!(second.recv().unwrap().is_err());
    assert_eq!(
        backend.get(TreeName::Seen, b"m-1").unwrap(),
        Some(b"first".to_vec()),
        "the first step's write, not dropped with the second's"
    );
}

#[test]
fn a_keys_last_write_is_the_one_kept_and_rows_go_in_key_order() {
    let writes = [
        insert(TreeName::Due, b"d", b"1"),
        remove(TreeName::Due, b"d"),
        remove(TreeName::History, b"h"),
        insert(TreeName::History, b"h", b"2"),
        insert(TreeName::Conversations, b"c", b"1"),
        insert(TreeName::Conversations, b"c", b"3"),
    ];
    let rows: Vec<_> = rows(&writes).into_iter().collect();
    assert_eq!(
        rows,
        vec![
            ((1, &b"c"[..]), Some(&b"3"[..])),
            ((2, &b"h"[..]), Some(&b"2"[..])),
            ((5, &b"d"[..]), None),
        ]
    );
}

#[test]
fn a_step_inserting_then_removing_a_key_leaves_it_removed_as_in_order() {
    let backend = test_backend();
    backend.insert(TreeName::Due, b"old", b"x").unwrap();
    backend
        .apply(vec![
            insert(TreeName::Due, b"new", b"1"),
            remove(TreeName::Due, b"new"),
            remove(TreeName::Due, b"old"),
            insert(TreeName::Due, b"old", b"2"),
            insert(TreeName::Conversations, b"c", b"r"),
        ])
        .unwrap();
    assert_eq!(backend.get(TreeName::Due, b"new").unwrap(), None);
    assert_eq!(
        backend.get(TreeName::Due, b"old").unwrap(),
        Some(b"2".to_vec())
    );
    assert_eq!(
        backend.get(TreeName::Conversations, b"c").unwrap(),
        Some(b"r".to_vec())
    );
}

#[test]
fn a_batch_the_server_refuses_fails_only_the_step_it_refuses() {
    let backend = test_backend();
    backend.insert(TreeName::Due, b"c-due", b"x").unwrap();
    // The server refuses any value "poison": one write of the second step.
    raw_sql(
        &backend,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'the test refuses poison'; END $$; \
         CREATE TRIGGER refuse_poison BEFORE INSERT OR UPDATE ON scenarist_kv \
         FOR EACH ROW WHEN (NEW.value = convert_to('poison', 'UTF8')) EXECUTE FUNCTION refuse();",
    );
    let first = wait(
        &backend,
        vec![
            insert(TreeName::History, b"a-1", b"turn"),
            insert(TreeName::Conversations, b"a", b"record"),
        ],
    );
    let refused = wait(
        &backend,
        vec![
            insert(TreeName::History, b"b-1", b"turn"),
            insert(TreeName::Conversations, b"b", b"poison"),
        ],
    );
    let third = wait(
        &backend,
        vec![
            remove(TreeName::Due, b"c-due"),
            insert(TreeName::Conversations, b"c", b"record"),
        ],
    );
    // One job takes the three: one statement, which the server refuses.
    let waiting = Arc::clone(&backend.commits.waiting);
    backend
        .pool
        .run(move |connection| commit_waiting(connection, &waiting))
        .unwrap();

    first.recv().unwrap().unwrap();
    third.recv().unwrap().unwrap();
    let error = refused.recv().unwrap().unwrap_err();
    assert!(error.to_string().contains("refuses poison"), "{error}");
    let get = |tree, key: &[u8]| backend.get(tree, key).unwrap();
    assert_eq!(get(TreeName::History, b"a-1"), Some(b"turn".to_vec()));
    assert_eq!(get(TreeName::Conversations, b"a"), Some(b"record".to_vec()));
    assert_eq!(get(TreeName::Conversations, b"c"), Some(b"record".to_vec()));
    assert_eq!(get(TreeName::Due, b"c-due"), None);
    // Nothing of the refused step.
    assert_eq!(get(TreeName::History, b"b-1"), None);
    assert_eq!(get(TreeName::Conversations, b"b"), None);
}

#[test]
fn steps_from_many_threads_at_once_are_each_committed_whole() {
    let backend = Arc::new(test_backend());
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let backend = Arc::clone(&backend);
            std::thread::spawn(move || {
                for step in 0..20_u8 {
                    let record = format!("c-{thread}");
                    let mut writes = vec![
                        insert(
                            TreeName::History,
                            format!("{record}-{step}").as_bytes(),
                            &[step],
                        ),
                        insert(TreeName::Conversations, record.as_bytes(), &[step]),
                    ];
                    if step > 0 {
                        // The step before's due entry goes; this step's comes.
                        writes.push(remove(
                            TreeName::Due,
                            format!("{record}-{}", step - 1).as_bytes(),
                        ));
                    }
                    writes.push(insert(
                        TreeName::Due,
                        format!("{record}-{step}").as_bytes(),
                        b"due",
                    ));
                    backend.apply(writes).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    for thread in 0..8 {
        let record = format!("c-{thread}");
        assert_eq!(
            backend
                .get(TreeName::Conversations, record.as_bytes())
                .unwrap(),
            Some(vec![19])
        );
        let turns = backend
            .scan_prefix(TreeName::History, format!("{record}-").as_bytes())
            .unwrap();
        assert_eq!(turns.len(), 20, "every step's turn");
        let due = backend
            .scan_prefix(TreeName::Due, format!("{record}-").as_bytes())
            .unwrap();
        assert_eq!(
            due,
            vec![(format!("{record}-19").into_bytes(), b"due".to_vec())]
        );
    }
}
