//! Two engines on one PostgreSQL database, as two nodes (the test server: these tests fail,
//! never skip, without it): a conversation's effect runs on one node at a time and is taken
//! over by the other once the first node's claims session ends; a timer both nodes find due
//! at once applies once; a step whose lock session ends before its commit is refused and its
//! resend runs once (the fence itself is tested in `store/pg/fence_tests.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::clock::{Clock, ManualClock};
use crate::engine::{Engine, EngineError, EngineOptions, Inbound};
use crate::hook::AfterInput;
use crate::runner::{ActionFuture, ActionResult, ActionRunner};
use crate::state::{Contact, Conversation, Effect, Input, Turn};
use crate::store::{KvStore, PgBackend, Store, scratch_database, test_database_url};
use crate::value::Value;

const TICKET: &str = r#"
scenario ticket {
  start a
  step a {
    call zendesk.create_ticket(requester: user, subject: "Chat") as ticket { on error goto failed }
    say "Ticket {ticket.id}."
    end
  }
  step failed { say "Could not create the ticket." handoff advisor }
}
"#;

const WAITING: &str = r#"
scenario waiting {
  start listen
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

/// Counts its runs; a hanging one never answers (a Zendesk call in flight when its node dies).
struct Runner {
    runs: AtomicUsize,
    hangs: bool,
    started: tokio::sync::Notify,
}

impl Runner {
    fn new(hangs: bool) -> Arc<Self> {
        Arc::new(Self {
            runs: AtomicUsize::new(0),
            hangs,
            started: tokio::sync::Notify::new(),
        })
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

impl ActionRunner for Runner {
    fn run<'a>(&'a self, _effect: &'a Effect) -> ActionFuture<'a> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        self.started.notify_one();
        if self.hangs {
            return Box::pin(std::future::pending());
        }
        let ticket = BTreeMap::from([("id".to_owned(), Value::Number(7.0))]);
        Box::pin(std::future::ready(ActionResult::Done(Some(Value::Record(
            ticket,
        )))))
    }
}

/// A new database on the test server: its URL.
fn database() -> String {
    let server = test_database_url().unwrap_or_else(|why| panic!("{why}"));
    scratch_database(&server).unwrap_or_else(|e| panic!("cannot create a test database: {e}"))
}

/// A node: an engine on its own connections to the database at `url`, running `scenario`.
fn node(url: &str, clock: &Arc<ManualClock>, actions: Arc<Runner>, scenario: &str) -> Engine {
    node_with(url, clock, actions, scenario, None)
}

/// [`node`] with a hook run in each step before its commit.
fn node_with(
    url: &str,
    clock: &Arc<ManualClock>,
    actions: Arc<Runner>,
    scenario: &str,
    after_input: Option<Arc<dyn AfterInput>>,
) -> Engine {
    let backend = PgBackend::open(url, 2).unwrap_or_else(|e| panic!("cannot open {e}"));
    let store: Arc<dyn Store> = Arc::new(KvStore::new(backend));
    let name = scenario
        .split_whitespace()
        .nth(1)
        .map(str::to_owned)
        .unwrap_or_default();
    let options = EngineOptions {
        default_scenario: Some(name),
        after_input,
        ..EngineOptions::default()
    };
    let engine = Engine::new(store, Arc::clone(clock) as Arc<dyn Clock>, actions, options);
    engine.publish(scenario).unwrap();
    engine
}

fn inbound(conversation: &str, id: &str) -> Inbound {
    Inbound {
        account: "facebook:acme".into(),
        conversation: conversation.into(),
        message_id: id.into(),
        contact_id: format!("u-{conversation}"),
        contact_name: "Ada".into(),
        fields: BTreeMap::new(),
        text: "hi".into(),
    }
}

fn bot_texts(history: &[Turn]) -> Vec<String> {
    history
        .iter()
        .flat_map(Turn::replies)
        .map(|m| m.text.clone())
        .collect()
}

/// Ends, as a dying node's would, the sessions of the database at `url` that hold advisory
/// locks (waiting until they are gone); how many there were. Blocks: the sync client runs a
/// runtime of its own, so it runs on a thread of its own.
fn end_sessions_holding_locks_now(url: &str) -> i64 {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let row = client
            .query_one(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) FROM \
                 (SELECT DISTINCT pid FROM pg_locks WHERE locktype = 'advisory' \
                  AND database = (SELECT oid FROM pg_database \
                                  WHERE datname = current_database())) AS holders",
                &[],
            )
            .unwrap();
        row.get(0)
    })
    .join()
    .unwrap()
}

async fn end_sessions_holding_locks(url: &str) -> i64 {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || end_sessions_holding_locks_now(&url))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_effect_runs_on_one_node_at_a_time_and_is_taken_over_when_its_node_dies() {
    let url = database();
    let clock = Arc::new(ManualClock::new(1_000));
    let (hanging, working) = (Runner::new(true), Runner::new(false));
    let first = node(&url, &clock, Arc::clone(&hanging), TICKET);
    let second = node(&url, &clock, Arc::clone(&working), TICKET);
    first.handle(inbound("c1", "m1")).await.unwrap();

    // The first node claims the effect and its call hangs.
    let in_flight = {
        let first = first.clone();
        tokio::spawn(async move { first.run_due().await })
    };
    hanging.started.notified().await;
    // The second finds it due but claimed: it leaves it, and its entry, alone.
    assert_eq!(second.run_due().await.unwrap(), 1);
    assert_eq!(working.runs(), 0, "the effect ran on two nodes at once");
    assert_eq!(second.run_due().await.unwrap(), 1, "its due entry stays");
    assert_eq!(working.runs(), 0);

    // The first node dies: the server ends its claims session, and the claim with it.
    assert_eq!(end_sessions_holding_locks(&url).await, 1);
    assert_eq!(second.run_due().await.unwrap(), 1);
    assert_eq!(working.runs(), 1, "the second node took the effect over");
    let conversation = second.conversation("c1").unwrap().unwrap();
    assert!(
        conversation.pending.is_empty(),
        "{:?}",
        conversation.pending
    );
    let history = second.history(&conversation).unwrap();
    assert_eq!(bot_texts(&history), ["Ticket 7."]);
    assert_eq!(second.run_due().await.unwrap(), 0, "nothing left due");
    in_flight.abort();
    assert_eq!(hanging.runs(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timer_both_nodes_find_due_at_once_applies_once() {
    const CONVERSATIONS: usize = 12;
    let url = database();
    let clock = Arc::new(ManualClock::new(1_000));
    let first = node(&url, &clock, Runner::new(false), WAITING);
    let second = node(&url, &clock, Runner::new(false), WAITING);
    for c in 0..CONVERSATIONS {
        let on = if c % 2 == 0 { &first } else { &second };
        on.handle(inbound(&format!("c{c}"), "m1")).await.unwrap();
    }
    clock.advance(10 * 60 * 1000);
    // Half the timers fired by both nodes at the very same time, as two schedulers that both
    // found them due would: one applies it, the other finds it no longer armed.
    for c in 0..CONVERSATIONS / 2 {
        let id = format!("c{c}");
        let timer = first.conversation(&id).unwrap().unwrap().timer.unwrap();
        let input = || Input::Timer { id: timer.id };
        let (a, b) = tokio::join!(first.apply(&id, input()), second.apply(&id, input()));
        let applied = [a.unwrap(), b.unwrap()].iter().flatten().count();
        assert_eq!(
            applied, 1,
            "conversation {id}: the timer applied {applied} times"
        );
    }
    // The rest through both schedulers' due index at once.
    let (a, b) = tokio::join!(first.run_due(), second.run_due());
    assert!(a.unwrap() + b.unwrap() >= CONVERSATIONS / 2);
    for c in 0..CONVERSATIONS {
        let conversation = first.conversation(&format!("c{c}")).unwrap().unwrap();
        let history = first.history(&conversation).unwrap();
        assert_eq!(
            bot_texts(&history),
            ["Say something.", "Bye!"],
            "conversation c{c}: the timeout once"
        );
        assert!(conversation.timer.is_none());
    }
    assert_eq!(first.run_due().await.unwrap(), 0);
}

/// Loses the step's lock connection in mid-step, on the message `cut`: after the step ran,
/// before its commit.
#[derive(Debug)]
struct LoseLocks {
    url: String,
    ended: AtomicUsize,
}

impl AfterInput for LoseLocks {
    fn after_input(
        &self,
        _account: &str,
        _conversation: &mut Conversation,
        _contact: &mut Contact,
        input: &Input,
        _finished: Option<&Effect>,
        _now: i64,
    ) {
        // Once: the resend goes through.
        if matches!(input, Input::Contact { text, .. } if text == "cut")
            && self.ended.load(Ordering::SeqCst) == 0
        {
            let ended = end_sessions_holding_locks_now(&self.url);
            self.ended
                .fetch_add(usize::try_from(ended).unwrap(), Ordering::SeqCst);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_whose_lock_was_lost_before_its_commit_commits_nothing() {
    let url = database();
    let clock = Arc::new(ManualClock::new(1_000));
    let hook = Arc::new(LoseLocks {
        url: url.clone(),
        ended: AtomicUsize::new(0),
    });
    let engine = node_with(
        &url,
        &clock,
        Runner::new(false),
        WAITING,
        Some(hook.clone()),
    );
    engine.handle(inbound("c1", "m1")).await.unwrap();
    let before = engine.conversation("c1").unwrap().unwrap();

    let mut cut = inbound("c1", "m2");
    cut.text = "cut".into();
    let refused = engine.handle(cut).await;
    assert_eq!(
        hook.ended.load(Ordering::SeqCst),
        1,
        "the step's lock session"
    );
    assert!(
        matches!(refused, Err(EngineError::Unreachable(_))),
        "a step without its lock was acknowledged: {refused:?}"
    );
    let after = engine.conversation("c1").unwrap().unwrap();
    assert_eq!(
        after.last_seq, before.last_seq,
        "nothing of the step was written"
    );
    let history = engine.history(&after).unwrap();
    assert!(
        history
            .iter()
            .all(|turn| turn.message_id.as_deref() != Some("m2")),
        "{history:?}"
    );
    // Refused as an outage, not a failure for good: the resend runs it, once.
    assert_eq!(engine.failure(), None);
    let mut again = inbound("c1", "m2");
    again.text = "cut".into();
    let outcome = engine.handle(again).await.unwrap();
    assert!(!outcome.duplicate);
    let after = engine.conversation("c1").unwrap().unwrap();
    assert_eq!(after.last_seq, before.last_seq + 1);
}
