//! The engine on real sled directories: idempotency, ordering, timers across restarts,
//! scenario versions, the outbox, quarantine and the stop-on-storage-failure rule.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use scenarist::runtime::engine::{Engine, EngineError, EngineOptions, Inbound};
use scenarist::runtime::runner::{ActionFuture, ActionResult, ActionRunner, BuiltinActions};
use scenarist::runtime::state::{Author, Effect, Input, Status};
use scenarist::runtime::value::Value;
use scenarist::runtime::{Clock, FlushPolicy, ManualClock};
use scenarist::store::{Backend, KvStore, MemoryBackend, SledBackend, Store, StoreError, TreeName};

use crate::support::tempdir;

const START: i64 = 1_795_860_000_000;

const ECHO: &str = r#"
scenario echo {
  start listen
  entry bye
  step listen {
    ask "Say something." {
      save said
      timeout 10m then goto bye
    }
    say "You said: {said}"
    goto listen
  }
  step bye {
    say "Bye!"
    end
  }
}
"#;

fn sled_store(dir: &Path) -> Arc<dyn Store> {
    Arc::new(KvStore::new(SledBackend::open(dir).unwrap()))
}

fn engine(
    store: Arc<dyn Store>,
    clock: &Arc<ManualClock>,
    flush: FlushPolicy,
    scenarios: &[&str],
) -> Engine {
    engine_with(store, clock, flush, scenarios, Arc::new(BuiltinActions))
}

fn engine_with(
    store: Arc<dyn Store>,
    clock: &Arc<ManualClock>,
    flush: FlushPolicy,
    scenarios: &[&str],
    actions: Arc<dyn ActionRunner>,
) -> Engine {
    let first = scenarios.first().map(|s| scenario_name(s));
    let options = EngineOptions {
        flush,
        default_scenario: first,
        ..EngineOptions::default()
    };
    let engine = Engine::new(store, Arc::clone(clock) as Arc<dyn Clock>, actions, options);
    for source in scenarios {
        engine.publish(source).unwrap();
    }
    engine
}

fn scenario_name(source: &str) -> String {
    source
        .split_whitespace()
        .skip_while(|w| *w != "scenario")
        .nth(1)
        .unwrap()
        .to_owned()
}

fn message(conversation: &str, id: &str, text: &str) -> Inbound {
    crate::support::inbound("facebook:acme", conversation, id, text)
}

fn texts(outcome: &scenarist::runtime::Outcome) -> Vec<&str> {
    outcome.replies.iter().map(|r| r.text.as_str()).collect()
}

#[tokio::test]
async fn a_message_seen_before_returns_its_first_answer_and_changes_nothing() {
    let dir = tempdir();
    let clock = Arc::new(ManualClock::new(START));
    let engine = engine(
        sled_store(&dir),
        &clock,
        FlushPolicy::GroupCommit { interval_ms: 2 },
        &[ECHO],
    );
    engine.handle(message("c1", "m1", "hi")).await.unwrap();
    let first = engine.handle(message("c1", "m2", "apples")).await.unwrap();
    assert_eq!(texts(&first), ["You said: apples", "Say something."]);
    let state = engine.conversation("c1").unwrap().unwrap();

    let again = engine.handle(message("c1", "m2", "apples")).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.replies, first.replies);
    assert_eq!(
        engine.conversation("c1").unwrap().unwrap(),
        state,
        "nothing changed"
    );

    // Beyond the record's recent window, the long-term index still knows the message.
    for i in 0..40 {
        engine
            .handle(message("c1", &format!("n{i}"), "more"))
            .await
            .unwrap();
    }
    let old = engine.handle(message("c1", "m2", "apples")).await.unwrap();
    assert!(old.duplicate);
    assert_eq!(old.replies, first.replies);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_messages_of_one_conversation_are_applied_one_at_a_time_none_lost() {
    let dir = tempdir();
    let clock = Arc::new(ManualClock::new(START));
    let engine = engine(
        sled_store(&dir),
        &clock,
        FlushPolicy::GroupCommit { interval_ms: 1 },
        &[ECHO],
    );
    engine.handle(message("c1", "m0", "hi")).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..50 {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            engine
                .handle(message(
                    "c1",
                    &format!("m{}", i % 25 + 1),
                    &format!("word {}", i % 25 + 1),
                ))
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let conversation = engine.conversation("c1").unwrap().unwrap();
    let history = engine.history(&conversation).unwrap();
    // 25 distinct messages (each sent twice) + the first: 26 turns, sequence numbers 1..=26.
    let seqs: Vec<u64> = history.iter().map(|t| t.seq).collect();
    assert_eq!(seqs, (1..=26).collect::<Vec<_>>());
    let mut ids: Vec<String> = history
        .iter()
        .filter_map(|t| t.message_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 26, "every message applied exactly once");
    for turn in &history[1..] {
        let said = &turn.messages[0].text;
        assert_eq!(
            turn.messages[1].text,
            format!("You said: {said}"),
            "each reply answers its own message"
        );
    }
}

#[tokio::test]
async fn conversations_survive_a_restart_and_overdue_timers_fire_once() {
    let dir = tempdir();
    let clock = Arc::new(ManualClock::new(START));
    {
        let engine = engine(sled_store(&dir), &clock, FlushPolicy::EveryMessage, &[ECHO]);
        engine.handle(message("c1", "m1", "hi")).await.unwrap();
        engine.handle(message("c2", "m1", "hi")).await.unwrap();
    }
    // Down for an hour: both timeouts became due meanwhile.
    clock.advance(60 * 60 * 1000);
    let engine = engine(sled_store(&dir), &clock, FlushPolicy::EveryMessage, &[ECHO]);
    assert_eq!(engine.run_due().await.unwrap(), 2);
    for id in ["c1", "c2"] {
        let conversation = engine.conversation(id).unwrap().unwrap();
        assert_eq!(conversation.status, Status::Ended);
        let byes = engine
            .history(&conversation)
            .unwrap()
            .iter()
            .flat_map(scenarist::runtime::state::Turn::replies)
            .filter(|m| m.text == "Bye!")
            .count();
        assert_eq!(byes, 1, "{id}");
    }
    assert_eq!(engine.run_due().await.unwrap(), 0, "nothing fires twice");
}

#[tokio::test]
async fn a_waiting_conversation_resumes_at_the_same_question_after_a_restart() {
    let dir = tempdir();
    let clock = Arc::new(ManualClock::new(START));
    {
        let engine = engine(sled_store(&dir), &clock, FlushPolicy::EveryMessage, &[ECHO]);
        engine.handle(message("c1", "m1", "hi")).await.unwrap();
    }
    let engine = engine(sled_store(&dir), &clock, FlushPolicy::EveryMessage, &[ECHO]);
    let outcome = engine.handle(message("c1", "m2", "pears")).await.unwrap();
    assert_eq!(texts(&outcome), ["You said: pears", "Say something."]);
}

#[tokio::test]
async fn a_conversation_stays_on_its_version_new_ones_get_the_newest() {
    let dir = tempdir();
    let clock = Arc::new(ManualClock::new(START));
    let v2 = ECHO.replace("You said:", "Noted:");
    {
        let engine = engine(sled_store(&dir), &clock, FlushPolicy::EveryMessage, &[ECHO]);
        engine.handle(message("old", "m1", "hi")).await.unwrap();
    }
    // Restart with only the new version on disk: the old version comes from the store.
    let engine = engine(sled_store(&dir), &clock, FlushPolicy::EveryMessage, &[&v2]);
    assert_eq!(
        texts(&engine.handle(message("old", "m2", "a")).await.unwrap())[0],
        "You said: a"
    );
    engine.handle(message("new", "m1", "hi")).await.unwrap();
    assert_eq!(
        texts(&engine.handle(message("new", "m2", "a")).await.unwrap())[0],
        "Noted: a"
    );
    let old = engine.conversation("old").unwrap().unwrap();
    let new = engine.conversation("new").unwrap().unwrap();
    assert_ne!(old.version, new.version);
}

const SYNC: &str = r#"
scenario sync {
  start a
  step a {
    call zendesk.create_ticket(requester: user, subject: "Chat") as ticket { on error goto failed }
    say "Ticket {ticket.id}."
    end
  }
  step failed { say "Could not create the ticket." handoff advisor }
}
"#;

#[tokio::test]
async fn zendesk_actions_without_a_connector_take_the_on_error_path() {
    let clock = Arc::new(ManualClock::new(START));
    let store: Arc<dyn Store> = Arc::new(KvStore::new(MemoryBackend::default()));
    let engine = engine(store, &clock, FlushPolicy::EveryMessage, &[SYNC]);
    let outcome = engine.handle(message("c1", "m1", "hi")).await.unwrap();
    assert!(outcome.replies.is_empty(), "the call waits in the outbox");
    assert_eq!(engine.conversation("c1").unwrap().unwrap().pending.len(), 1);
    engine.settle(8).await.unwrap();
    let conversation = engine.conversation("c1").unwrap().unwrap();
    assert!(conversation.pending.is_empty());
    assert_eq!(conversation.status, Status::WithAdvisor);
    let history = engine.history(&conversation).unwrap();
    let messages: Vec<&str> = history
        .iter()
        .flat_map(|t| &t.messages)
        .map(|m| m.text.as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("Zendesk is not configured")),
        "{messages:?}"
    );
    assert!(messages.contains(&"Could not create the ticket."));
}

/// Succeeds on the third attempt; counts attempts.
struct Flaky {
    calls: AtomicUsize,
}

impl ActionRunner for Flaky {
    fn run<'a>(&'a self, _effect: &'a Effect) -> ActionFuture<'a> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let result = if n < 2 {
            ActionResult::Retry {
                after_ms: 0,
                error: format!("HTTP 503 (attempt {})", n + 1),
            }
        } else {
            ActionResult::Done(Some(Value::Record(BTreeMap::from([(
                "id".to_owned(),
                Value::Number(42.0),
            )]))))
        };
        Box::pin(std::future::ready(result))
    }
}

#[tokio::test]
async fn retryable_failures_are_rescheduled_in_the_store_and_retried() {
    let dir = tempdir();
    let clock = Arc::new(ManualClock::new(START));
    let flaky = Arc::new(Flaky {
        calls: AtomicUsize::new(0),
    });
    let engine = engine_with(
        sled_store(&dir),
        &clock,
        FlushPolicy::EveryMessage,
        &[SYNC],
        flaky.clone(),
    );
    engine.handle(message("c1", "m1", "hi")).await.unwrap();
    engine.run_due().await.unwrap();
    let effect = engine.conversation("c1").unwrap().unwrap().pending[0].clone();
    assert_eq!(effect.attempts, 1);
    assert_eq!(effect.last_error.as_deref(), Some("HTTP 503 (attempt 1)"));
    assert!(
        effect.next_attempt_at > START,
        "backoff before the next attempt"
    );
    assert_eq!(engine.run_due().await.unwrap(), 0, "not due yet");
    for _ in 0..2 {
        clock.advance(10 * 60 * 1000);
        engine.run_due().await.unwrap();
    }
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
    let conversation = engine.conversation("c1").unwrap().unwrap();
    let last = engine.history(&conversation).unwrap().pop().unwrap();
    assert_eq!(last.replies().next().unwrap().text, "Ticket 42.");
}

#[tokio::test]
async fn a_corrupt_conversation_is_quarantined_and_others_go_on() {
    let clock = Arc::new(ManualClock::new(START));
    let store = Arc::new(KvStore::new(MemoryBackend::default()));
    let engine = engine(store.clone(), &clock, FlushPolicy::EveryMessage, &[ECHO]);
    engine.handle(message("bad", "m1", "hi")).await.unwrap();
    engine.handle(message("good", "m1", "hi")).await.unwrap();
    let key = b"bad".to_vec();
    let mut bytes = store
        .backend()
        .get(TreeName::Conversations, &key)
        .unwrap()
        .unwrap();
    bytes[6] ^= 0xff;
    store
        .backend()
        .insert(TreeName::Conversations, &key, &bytes)
        .unwrap();

    let error = engine.conversation("bad").unwrap_err();
    assert!(matches!(error, EngineError::Quarantined(..)), "{error}");
    assert!(
        engine.failure().is_none(),
        "reading it does not stop intake"
    );
    let error = engine.handle(message("bad", "m2", "hi")).await.unwrap_err();
    assert!(matches!(error, EngineError::Quarantined(..)), "{error}");
    assert!(
        store
            .quarantined("bad")
            .unwrap()
            .unwrap()
            .contains("checksum")
    );
    assert!(matches!(
        engine.handle(message("bad", "m3", "hi")).await,
        Err(EngineError::Quarantined(..))
    ));
    assert!(engine.handle(message("good", "m2", "fine")).await.is_ok());
}

/// A backend that fails every write after the first `limit` ones.
struct Failing {
    inner: MemoryBackend,
    writes: AtomicUsize,
    limit: usize,
}

impl Backend for Failing {
    fn get(&self, tree: TreeName, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(tree, key)
    }
    fn insert(&self, tree: TreeName, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        if self.writes.fetch_add(1, Ordering::SeqCst) >= self.limit {
            return Err(StoreError::from(&std::io::Error::from_raw_os_error(28)));
        }
        self.inner.insert(tree, key, value)
    }
    fn remove(&self, tree: TreeName, key: &[u8]) -> Result<(), StoreError> {
        self.inner.remove(tree, key)
    }
    fn scan_prefix(
        &self,
        tree: TreeName,
        prefix: &[u8],
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        self.inner.scan_prefix(tree, prefix)
    }
    fn scan_below(
        &self,
        tree: TreeName,
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>, StoreError> {
        self.inner.scan_below(tree, end, limit)
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
    fn is_empty(&self) -> Result<bool, StoreError> {
        self.inner.is_empty()
    }
}

#[tokio::test]
async fn a_storage_failure_stops_intake_instead_of_retrying() {
    let clock = Arc::new(ManualClock::new(START));
    let failing = Failing {
        inner: MemoryBackend::default(),
        writes: AtomicUsize::new(0),
        limit: 8,
    };
    let engine = engine(
        Arc::new(KvStore::new(failing)),
        &clock,
        FlushPolicy::EveryMessage,
        &[ECHO],
    );
    let mut results = Vec::new();
    for i in 0..5 {
        results.push(engine.handle(message("c1", &format!("m{i}"), "hi")).await);
    }
    let failed = results
        .iter()
        .position(Result::is_err)
        .expect("the disk filled up");
    assert!(
        results[failed..]
            .iter()
            .all(|r| matches!(r, Err(EngineError::Unavailable(_))))
    );
    assert!(engine.failure().unwrap().contains("the disk is full"));
    // Other conversations are refused too: the process must be restarted.
    assert!(matches!(
        engine.handle(message("c2", "m1", "hi")).await,
        Err(EngineError::Unavailable(_))
    ));
}

#[tokio::test]
async fn handoff_return_to_bot_and_advisor_messages_go_through_the_same_path() {
    let clock = Arc::new(ManualClock::new(START));
    let store: Arc<dyn Store> = Arc::new(KvStore::new(MemoryBackend::default()));
    let engine = engine(store, &clock, FlushPolicy::EveryMessage, &[ECHO]);
    engine.handle(message("c1", "m1", "hi")).await.unwrap();
    let advisor = Input::Advisor {
        message_id: "a1".into(),
        advisor_id: "g".into(),
        advisor_name: "Grace".into(),
        text: "Grace here".into(),
    };
    engine.apply("c1", advisor).await.unwrap();
    assert!(
        engine
            .handle(message("c1", "m2", "thanks"))
            .await
            .unwrap()
            .replies
            .is_empty(),
        "the bot is silent"
    );
    let back = engine
        .apply(
            "c1",
            Input::ReturnToBot {
                step: Some("bye".into()),
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(texts(&back), ["Bye!"]);
    let conversation = engine.conversation("c1").unwrap().unwrap();
    let authors: Vec<Author> = engine
        .history(&conversation)
        .unwrap()
        .iter()
        .flat_map(|t| t.messages.clone())
        .map(|m| m.author)
        .collect();
    assert!(authors.contains(&Author::Advisor {
        id: "g".into(),
        name: "Grace".into()
    }));
    assert!(matches!(
        engine.apply("nope", Input::Close).await,
        Err(EngineError::UnknownConversation(_))
    ));
}

#[tokio::test]
async fn contact_fields_outlive_conversations_and_channel_fields_are_kept() {
    let clock = Arc::new(ManualClock::new(START));
    let store: Arc<dyn Store> = Arc::new(KvStore::new(MemoryBackend::default()));
    let handoff =
        std::fs::read_to_string(crate::support::root().join("scenarios/zendesk_handoff.scn"))
            .unwrap();
    let engine = engine(store, &clock, FlushPolicy::EveryMessage, &[&handoff]);
    let mut first = message("c1", "m1", "Hi");
    first.contact_id = "ada".into();
    assert_eq!(
        texts(&engine.handle(first).await.unwrap()).last().copied(),
        Some("What is your email address?")
    );
    let mut answer = message("c1", "m2", "ada@example.com");
    answer.contact_id = "ada".into();
    engine.handle(answer).await.unwrap();

    // The same person comes back in a new conversation: the email is known.
    let mut again = message("c2", "m1", "Hello again");
    again.contact_id = "ada".into();
    let outcome = engine.handle(again).await.unwrap();
    assert!(
        !texts(&outcome).contains(&"What is your email address?"),
        "{outcome:?}"
    );
    assert_eq!(outcome.team.as_deref(), Some("Zendesk"));

    // A channel that knows the email passes it along; it is kept on the contact.
    let mut known = message("c3", "m1", "Hi");
    known.contact_id = "grace".into();
    known
        .fields
        .insert("email".into(), Value::Text("grace@example.com".into()));
    engine.handle(known).await.unwrap();
    let grace = engine.contact("facebook:acme", "grace").unwrap().unwrap();
    assert_eq!(
        grace.fields.get("email"),
        Some(&Value::Text("grace@example.com".into()))
    );
}

/// An advisor linking a contact while its messages run: both writes survive, every time
/// (the engine takes the contact's turn for each; without it a message's commit could
/// write back the record it read before the link).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_link_made_while_messages_run_is_never_lost() {
    let clock = Arc::new(ManualClock::new(START));
    let store = Arc::new(KvStore::new(MemoryBackend::default()));
    let engine = engine(store.clone(), &clock, FlushPolicy::EveryMessage, &[ECHO]);
    engine.handle(message("c", "m-first", "hi")).await.unwrap();
    for i in 0..200_u64 {
        let mut inbound = message("c", &format!("m{i}"), "hi");
        inbound
            .fields
            .insert("order".into(), Value::Text(i.to_string()));
        let contact = inbound.contact_id.clone();
        let talking = {
            let engine = engine.clone();
            tokio::spawn(async move { engine.handle(inbound).await })
        };
        let linking = {
            let engine = engine.clone();
            tokio::spawn(async move {
                engine
                    .update_contact("facebook:acme", &contact, |c| {
                        c.zendesk.insert("acme".into(), i)
                    })
                    .await
            })
        };
        talking.await.unwrap().unwrap();
        linking.await.unwrap().unwrap().unwrap();
        let stored = store
            .contact("facebook:acme", "contact-c")
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.zendesk.get("acme"),
            Some(&i),
            "round {i}: the link was lost"
        );
        assert_eq!(
            stored.fields.get("order"),
            Some(&Value::Text(i.to_string())),
            "round {i}: the message's field was lost"
        );
    }
}

/// A step writes its due entries before its record (the commit point). A scheduler that sees
/// the entry in between must not take it for stale: it waits for the step, then runs the
/// effect. (Found by the crash test: an effect left pending for good, its entry dropped.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_effect_seen_due_before_its_record_is_written_still_runs() {
    let (store, engine) = sync_engine();
    engine.handle(message("c1", "m1", "hi")).await.unwrap();
    // Back to the moment inside the step: its due entry written, its record not yet.
    let record = store
        .backend()
        .get(TreeName::Conversations, b"c1")
        .unwrap()
        .unwrap();
    let step = engine.place("c1");
    step.turn().await;
    store
        .backend()
        .remove(TreeName::Conversations, b"c1")
        .unwrap();
    let scheduler = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.run_due().await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    store
        .backend()
        .insert(TreeName::Conversations, b"c1", &record)
        .unwrap();
    drop(step);
    scheduler.await.unwrap().unwrap();
    let conversation = engine.conversation("c1").unwrap().unwrap();
    assert!(
        conversation.pending.is_empty(),
        "the effect ran: {:?}",
        conversation.pending
    );
}

/// Data written while the scheduler could drop an effect's due entry: `rearm` at start
/// re-creates what the records call for, and only that.
#[tokio::test]
async fn rearm_restores_a_lost_due_entry_once() {
    let (store, engine) = sync_engine();
    engine.handle(message("c1", "m1", "hi")).await.unwrap();
    engine.handle(message("c2", "m1", "hi")).await.unwrap();
    let lost = store.due(i64::MAX, 10).unwrap();
    assert_eq!(lost.len(), 2, "one effect each");
    store.remove_due(&lost[0]).unwrap();
    assert_eq!(engine.rearm().unwrap(), 1);
    assert_eq!(engine.rearm().unwrap(), 0, "nothing missing any more");
    engine.settle(8).await.unwrap();
    for id in ["c1", "c2"] {
        assert!(
            engine.conversation(id).unwrap().unwrap().pending.is_empty(),
            "{id}"
        );
    }
}

/// Start-up reads the records once per store: after the first `rearm` the index is trusted
/// (a store this version wrote keeps it a superset of the records), so a later start does
/// not look for an entry in the records, and counts the outbox from the index's effects.
#[tokio::test]
async fn rearm_reads_the_records_once_per_store() {
    let (store, engine) = sync_engine();
    engine.handle(message("c1", "m1", "hi")).await.unwrap();
    assert!(!store.due_index_complete().unwrap());
    assert_eq!(engine.rearm().unwrap(), 0);
    assert!(store.due_index_complete().unwrap(), "marked after one pass");
    assert_eq!(store.conversations_with_effects().unwrap(), ["c1"]);
    let lost = store.due(i64::MAX, 10).unwrap();
    store.remove_due(&lost[0]).unwrap();
    assert_eq!(engine.rearm().unwrap(), 0, "the records are not read again");
    assert!(store.conversations_with_effects().unwrap().is_empty());
}

/// The `SYNC` scenario on a memory store, its actions the built-in ones.
fn sync_engine() -> (Arc<KvStore<MemoryBackend>>, Engine) {
    let clock = Arc::new(ManualClock::new(START));
    let store = Arc::new(KvStore::new(MemoryBackend::default()));
    let engine = engine_with(
        store.clone(),
        &clock,
        FlushPolicy::EveryMessage,
        &[SYNC],
        Arc::new(BuiltinActions),
    );
    (store, engine)
}
