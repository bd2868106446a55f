//! The operations besides a step, with two nodes (two engines, each with its own connections)
//! on one PostgreSQL database: erasure, retention and the quarantine hold with the other
//! node's steps as they do with this node's.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::engine::testing::{echo_engine, inbound};
use crate::engine::{Engine, EngineError};
use crate::hook::AfterInput;
use crate::retention::{Retention, Sweeper};
use crate::state::{Contact, Conversation, Effect, Input};
use crate::store::{KvStore, PgBackend, Store, TreeName, scratch_database, test_database_url};

/// Two stores on one new database, as two nodes open it.
fn two_stores() -> (Arc<dyn Store>, Arc<dyn Store>) {
    let url = scratch_database(&test_database_url().unwrap_or_else(|why| panic!("{why}")))
        .unwrap_or_else(|e| panic!("cannot create a test database: {e}"));
    let open = || -> Arc<dyn Store> {
        Arc::new(KvStore::new(
            PgBackend::open(&url, 2).unwrap_or_else(|e| panic!("{e}")),
        ))
    };
    (open(), open())
}

/// A hook that stops a step whose input says `pause` between its reads and its commit
/// (holding the conversation's locks) until the test lets it go.
#[derive(Debug)]
struct Pause {
    entered: Mutex<Sender<()>>,
    go: Mutex<Receiver<()>>,
}

impl AfterInput for Pause {
    fn after_input(
        &self,
        _account: &str,
        _conversation: &mut Conversation,
        _contact: &mut Contact,
        input: &Input,
        _finished: Option<&Effect>,
        _now: i64,
    ) {
        if matches!(input, Input::Contact { text, .. } if text == "pause") {
            let _ = self.entered.lock().unwrap().send(());
            let _ = self.go.lock().unwrap().recv();
        }
    }
}

/// Makes `engine` pause steps that say `pause`: answers (entered, go).
fn pausing(engine: &Engine) -> (Receiver<()>, Sender<()>) {
    let (entered, entered_rx) = channel();
    let (go, go_rx) = channel();
    let hook = Arc::new(Pause {
        entered: Mutex::new(entered),
        go: Mutex::new(go_rx),
    });
    engine.reconfigure(|options| options.after_input = Some(hook));
    (entered_rx, go)
}

/// Runs a paused step of conversation `c1` on `node` and waits until it is inside it.
async fn paused_step(
    node: &Engine,
    entered: Receiver<()>,
) -> tokio::task::JoinHandle<Result<crate::engine::Outcome, EngineError>> {
    let step = tokio::spawn({
        let node = node.clone();
        async move { node.handle(inbound("m-paused", "pause")).await }
    });
    tokio::task::spawn_blocking(move || entered.recv())
        .await
        .unwrap()
        .expect("the step reached its pause");
    step
}

/// Gives `task` the chance to finish (a bounded wait for something that must not happen).
async fn still_waiting<T>(task: &tokio::task::JoinHandle<T>) -> bool {
    for _ in 0..50 {
        if task.is_finished() {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(4)).await;
    }
    !task.is_finished()
}

/// An erasure on one node while a step of the contact's conversation runs on the other: it
/// waits for the step, and removes what the step committed; nothing is written back after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_erasure_waits_for_a_step_of_the_contact_on_another_node() {
    let (store_a, store_b) = two_stores();
    let (a, b) = (echo_engine(store_a), echo_engine(Arc::clone(&store_b)));
    a.handle(inbound("m1", "my secret")).await.unwrap();
    b.handle(inbound("m2", "more")).await.unwrap();
    let (entered, go) = pausing(&b);
    let step = paused_step(&b, entered).await;

    let erasing = tokio::spawn({
        let a = a.clone();
        async move { a.erase_contact("facebook:acme", "u1").await }
    });
    assert!(
        still_waiting(&erasing).await,
        "the erasure ran while a step of the contact's conversation was under way on the other node"
    );
    go.send(()).unwrap();
    step.await.unwrap().unwrap();
    let erased = erasing.await.unwrap().unwrap().unwrap();
    assert_eq!(erased.removed.turns, 3, "{erased:?}");
    assert_eq!(store_b.conversation("c1").unwrap(), None);
    assert_eq!(store_b.contact("facebook:acme", "u1").unwrap(), None);
}

/// Retention on one node while a message revives the expired conversation on the other: the
/// removal waits for the step, then finds the conversation no longer expired and keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retiring_a_conversation_waits_for_its_step_on_another_node() {
    let (store_a, store_b) = two_stores();
    let (a, b) = (echo_engine(store_a), echo_engine(Arc::clone(&store_b)));
    a.handle(inbound("m1", "hello")).await.unwrap();
    a.apply("c1", Input::Close).await.unwrap();
    let ended_at = store_b.conversation("c1").unwrap().unwrap().updated_at;
    let (entered, go) = pausing(&b);
    let step = paused_step(&b, entered).await;

    let retiring = tokio::spawn({
        let a = a.clone();
        async move { a.retire("c1", ended_at).await }
    });
    assert!(
        still_waiting(&retiring).await,
        "the conversation was removed while a step of it was under way on the other node"
    );
    go.send(()).unwrap();
    step.await.unwrap().unwrap();
    assert_eq!(
        retiring.await.unwrap().unwrap(),
        None,
        "kept: it is running again"
    );
    let history = store_b.history("c1", u64::MAX).unwrap();
    assert!(format!("{history:?}").contains("pause"), "{history:?}");
}

/// One node sweeps at a time: while another holds the round, a sweep skips it and removes
/// nothing; once the round is free, it sweeps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_sweeps_at_a_time() {
    let (store_a, store_b) = two_stores();
    let b = echo_engine(Arc::clone(&store_b));
    b.handle(inbound("m1", "hello")).await.unwrap();
    b.apply("c1", Input::Close).await.unwrap();
    let retention = Retention {
        ended: Some(0),
        seen: Some(0),
        versions: None,
    };
    let mut sweeper = Sweeper::new(b.clone(), retention);

    let round = store_a.backend().claim("retention").unwrap();
    assert!(round.as_ref().is_some_and(crate::store::Claim::is_holding));
    let skipped = sweeper.sweep().await.unwrap();
    assert!(skipped.skipped, "{skipped:?}");
    drop(round);
    assert!(
        store_b.conversation("c1").unwrap().is_some(),
        "nothing removed while skipped"
    );

    // The round's connection lets go once its thread sees the drop: soon, not at once.
    let mut swept = sweeper.sweep().await.unwrap();
    for _ in 0..500 {
        if !swept.skipped {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        swept = sweeper.sweep().await.unwrap();
    }
    assert!(!swept.skipped, "the round was never let go");
    assert_eq!(swept.conversations, 1, "{swept:?}");
    assert_eq!(store_a.conversation("c1").unwrap(), None);
}

/// A conversation found corrupt on one node is refused on the other, which sees the same
/// record and the same quarantine list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_quarantined_on_one_node_is_refused_on_the_other() {
    let (store_a, store_b) = two_stores();
    let (a, b) = (
        echo_engine(Arc::clone(&store_a)),
        echo_engine(Arc::clone(&store_b)),
    );
    a.handle(inbound("m1", "hello")).await.unwrap();
    let records = store_a
        .backend()
        .scan_prefix(TreeName::Conversations, &[])
        .unwrap();
    let (key, mut bytes) = records.into_iter().next().expect("the record of c1");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    store_a
        .backend()
        .insert(TreeName::Conversations, &key, &bytes)
        .unwrap();

    let first = a.handle(inbound("m2", "again")).await;
    assert!(
        matches!(first, Err(EngineError::Quarantined(..))),
        "{first:?}"
    );
    let listed = store_b.quarantine_list().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let second = b.handle(inbound("m3", "on the other node")).await;
    assert!(
        matches!(second, Err(EngineError::Quarantined(..))),
        "{second:?}"
    );
    // Dropped through the other node, it is gone for both.
    assert!(b.drop_quarantined("c1").await.unwrap().is_some());
    assert!(store_a.quarantine_list().unwrap().is_empty());
    let fresh = a.handle(inbound("m4", "new start")).await.unwrap();
    assert_eq!(fresh.seq, 1, "{fresh:?}");
}

/// The same for a command beside the nodes (`scenarist contact erase` on PostgreSQL): it
/// holds the locks a step holds, so it waits for the step under way and erases its turn too.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_erasure_beside_the_nodes_waits_for_a_step_under_way() {
    let (store_a, store_b) = two_stores();
    let b = echo_engine(Arc::clone(&store_b));
    b.handle(inbound("m1", "my secret")).await.unwrap();
    let (entered, go) = pausing(&b);
    let step = paused_step(&b, entered).await;

    let erasing = tokio::task::spawn_blocking(move || {
        crate::engine::beside::erase_contact(store_a.as_ref(), "facebook:acme", "u1")
    });
    assert!(
        still_waiting(&erasing).await,
        "the command erased while a step of the contact's conversation was under way"
    );
    go.send(()).unwrap();
    step.await.unwrap().unwrap();
    let erased = erasing.await.unwrap().unwrap();
    assert_eq!(erased.removed.turns, 2, "{erased:?}");
    assert_eq!(store_b.conversation("c1").unwrap(), None);
}
