//! Data that ends: the retention sweeper on a sled store with a clock the tests move. It
//! removes exactly what is past retention (an active conversation, one with an advisor, a
//! recently ended one and a version in use all stay), races with messages for the same
//! conversation safely, ages out `seen` entries, and `serve` runs it.

use std::path::Path;
use std::sync::Arc;

use scenarist::runtime::engine::{Engine, EngineOptions, Inbound};
use scenarist::runtime::retention::{Retention, Sweeper};
use scenarist::runtime::runner::BuiltinActions;
use scenarist::runtime::state::{Status, id_hash};
use scenarist::runtime::{Clock, FlushPolicy, ManualClock};
use scenarist::store::{KvStore, SledBackend, Store};
use serde_json::json;

use crate::service::{Server, contact_texts};
use crate::support::{root, tempdir};

const START: i64 = 1_795_860_000_000;
const DAY: i64 = 86_400_000;

/// "bye" ends the conversation, "advisor" hands it off, anything else waits for more.
const DESK: &str = r#"
scenario desk {
  start listen
  step listen {
    ask "Say something." {
      save said
    }
    if said == "bye" {
      say "Bye!"
      end
    }
    if said == "advisor" {
      handoff advisor
    }
    goto listen
  }
}
"#;

fn store(dir: &Path) -> Arc<dyn Store> {
    Arc::new(KvStore::new(SledBackend::open(dir).unwrap()))
}

fn engine(store: Arc<dyn Store>, clock: &Arc<ManualClock>) -> Engine {
    let options = EngineOptions {
        flush: FlushPolicy::EveryMessage,
        default_scenario: Some("desk".into()),
        ..EngineOptions::default()
    };
    let engine = Engine::new(
        store,
        Arc::clone(clock) as Arc<dyn Clock>,
        Arc::new(BuiltinActions),
        options,
    );
    engine.publish(DESK).unwrap();
    engine
}

fn message(conversation: &str, id: &str, text: &str) -> Inbound {
    Inbound {
        account: "facebook:acme".into(),
        conversation: conversation.into(),
        message_id: id.into(),
        contact_id: format!("u-{conversation}"),
        contact_name: "Ada".into(),
        text: text.into(),
        ..Inbound::default()
    }
}

async fn say(engine: &Engine, conversation: &str, texts: &[&str]) {
    for (i, text) in texts.iter().enumerate() {
        engine
            .handle(message(conversation, &format!("{conversation}-{i}"), text))
            .await
            .unwrap();
    }
}

fn retention(ended: i64, seen: i64, versions: i64) -> Retention {
    Retention {
        ended: Some(ended),
        seen: Some(seen),
        versions: Some(versions),
    }
}

#[tokio::test]
async fn the_sweeper_removes_exactly_what_is_past_retention() {
    let dir = tempdir();
    let clock = Arc::new(ManualClock::new(START));
    let store = store(&dir);
    let engine = engine(Arc::clone(&store), &clock);
    // An older version nothing runs on, published before the current one.
    let unused = engine
        .publish(&DESK.replace("Say something.", "Say anything."))
        .unwrap()
        .version
        .clone();
    let pinned = engine.publish(DESK).unwrap().version.clone();
    // 34 messages: the first two leave the record's window of 32 for the `seen` index.
    let mut old_texts = vec!["hi"; 33];
    old_texts.push("bye");
    say(&engine, "old-ended", &old_texts).await;
    say(&engine, "active", &["hi"]).await;
    say(&engine, "handed", &["hi", "advisor"]).await;
    clock.advance(10 * DAY);
    say(&engine, "recent-ended", &["hi", "bye"]).await;
    // A newer version: `pinned` is no longer the newest, but conversations still run on it.
    engine
        .publish(&DESK.replace("Say something.", "Tell me."))
        .unwrap();

    let mut sweeper = Sweeper::new(engine.clone(), retention(7 * DAY, 365 * DAY, DAY));
    let swept = sweeper.sweep().await.unwrap();
    assert_eq!(
        (swept.conversations, swept.turns, swept.seen),
        (1, 34, 2),
        "{swept:?}"
    );
    assert_eq!(store.conversation("old-ended").unwrap(), None);
    assert!(store.history("old-ended", u64::MAX).unwrap().is_empty());
    assert_eq!(
        store.seen_in("old-ended", id_hash("old-ended-0")).unwrap(),
        None
    );
    for kept in ["active", "handed", "recent-ended"] {
        let conversation = store.conversation(kept).unwrap().unwrap();
        assert_eq!(
            store.history(kept, conversation.last_seq).unwrap().len() as u64,
            conversation.last_seq,
            "{kept}"
        );
    }
    assert_eq!(
        store.conversation("handed").unwrap().unwrap().status,
        Status::WithAdvisor
    );
    // A version is removed only once it stayed unused for its retention.
    assert_eq!(swept.versions, 0);
    clock.advance(2 * DAY);
    let swept = sweeper.sweep().await.unwrap();
    assert_eq!((swept.conversations, swept.versions), (0, 1), "{swept:?}");
    assert_eq!(store.scenario(&unused).unwrap(), None);
    assert!(store.scenario(&pinned).unwrap().is_some());
    // The removed conversation's id starts a new conversation.
    let outcome = engine
        .handle(message("old-ended", "again-1", "hi"))
        .await
        .unwrap();
    assert_eq!((outcome.seq, outcome.duplicate), (1, false));
    // The recently ended one goes once it too is past retention.
    clock.advance(7 * DAY);
    let swept = sweeper.sweep().await.unwrap();
    assert_eq!(swept.conversations, 1, "{swept:?}");
    assert_eq!(store.conversation("recent-ended").unwrap(), None);
    assert!(store.conversation("active").unwrap().is_some());
}

#[tokio::test]
async fn seen_entries_past_their_window_go_and_recent_ones_still_recognise_repeats() {
    let dir = tempdir();
    let clock = Arc::new(ManualClock::new(START));
    let store = store(&dir);
    let engine = engine(Arc::clone(&store), &clock);
    // More messages than the record's recent window holds, so repeats need the `seen` index.
    for i in 0..40 {
        engine
            .handle(message("long", &format!("m{i}"), "hi"))
            .await
            .unwrap();
    }
    clock.advance(20 * DAY);
    for i in 40..80 {
        engine
            .handle(message("long", &format!("m{i}"), "hi"))
            .await
            .unwrap();
    }
    clock.advance(DAY);
    let swept = Sweeper::new(engine.clone(), retention(DAY, 7 * DAY, DAY))
        .sweep()
        .await
        .unwrap();
    // An id enters the index when it leaves the record's window of 32, dated then: m0–m7
    // left on the first day (and go), m8–m47 twenty days later (and stay).
    assert_eq!((swept.seen, swept.conversations), (8, 0), "{swept:?}");
    let repeat = engine.handle(message("long", "m41", "hi")).await.unwrap();
    assert!(repeat.duplicate, "a repeat within the window is recognised");
    let late = engine.handle(message("long", "m1", "hi")).await.unwrap();
    assert!(!late.duplicate, "past the window, a repeat runs as new");
}

/// A message that took its place in the conversation's line before the sweep's removal is
/// applied first; the sweep then finds the conversation changed and keeps it.
#[tokio::test]
async fn a_message_ahead_of_the_sweep_is_applied_and_the_conversation_kept() {
    let dir = tempdir();
    let clock = Arc::new(ManualClock::new(START));
    let engine = engine(store(&dir), &clock);
    say(&engine, "c", &["hi", "bye"]).await;
    clock.advance(10 * DAY);
    let place = engine.place("c");
    let retire = tokio::spawn({
        let engine = engine.clone();
        async move { engine.retire("c", START + DAY).await }
    });
    // The sweep's removal now waits behind the message's place.
    tokio::task::yield_now().await;
    assert!(!retire.is_finished());
    let outcome = engine
        .handle_at(place, message("c", "late", "hello again"))
        .await
        .unwrap();
    assert_eq!(outcome.seq, 3);
    assert_eq!(retire.await.unwrap().unwrap(), None, "kept");
    let conversation = engine.conversation("c").unwrap().unwrap();
    assert_eq!(engine.history(&conversation).unwrap().len(), 3);
}

/// Messages racing removals on two threads: whichever wins, the conversation is whole — the
/// old one with every turn, or a new one with only the new message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_racing_removals_never_land_in_a_half_removed_conversation() {
    let dir = tempdir();
    let clock = Arc::new(ManualClock::new(START));
    let engine = engine(store(&dir), &clock);
    let ids: Vec<String> = (0..40).map(|i| format!("race-{i}")).collect();
    for id in &ids {
        say(&engine, id, &["one", "two", "three", "bye"]).await;
    }
    clock.advance(10 * DAY);
    let (mut removed, mut kept) = (0, 0);
    for id in &ids {
        let retire = tokio::spawn({
            let (engine, id) = (engine.clone(), id.clone());
            async move { engine.retire(&id, START + DAY).await }
        });
        let message = tokio::spawn({
            let (engine, id) = (engine.clone(), id.clone());
            async move { engine.handle(message(&id, "late", "hello")).await }
        });
        let outcome = message.await.unwrap().unwrap();
        let retired = retire.await.unwrap().unwrap();
        let conversation = engine.conversation(id).unwrap().unwrap();
        let history = engine.history(&conversation).unwrap();
        assert_eq!(history.len() as u64, conversation.last_seq, "{id}");
        if retired.is_some() {
            removed += 1;
            assert_eq!(
                (outcome.seq, history.len()),
                (1, 1),
                "{id}: a new conversation"
            );
        } else {
            kept += 1;
            assert_eq!(outcome.seq, 5, "{id}: applied to the old conversation");
        }
    }
    assert_eq!(removed + kept, ids.len());
}

const GOODBYE: &str = r#"
scenario goodbye {
  start welcome
  step welcome {
    say "Hello and goodbye!"
    end
  }
}
"#;

/// The example workspace with `webchat:acme` running the scenario above, and a retention of
/// one second.
fn short_retention_config(dir: &Path) -> std::path::PathBuf {
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "scn") {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(dir.join("goodbye.scn"), GOODBYE).unwrap();
    let example = std::fs::read_to_string(root().join("scenarios/scenarist.yaml")).unwrap();
    let attached = "  webchat:acme:\n    channel: webchat\n    scenario: after_hours\n";
    assert!(
        example.contains(attached),
        "the example's webchat account changed"
    );
    let config = example.replace(
        attached,
        "  webchat:acme:\n    channel: webchat\n    scenario: goodbye\n",
    ) + "\nretention:\n  ended_conversations: 1s\n  seen: 1s\n  scenario_versions: forever\n";
    let path = dir.join("scenarist.yaml");
    std::fs::write(&path, config).unwrap();
    path
}

/// `serve` sweeps in the background: an ended conversation is gone after its (short)
/// retention, counted in `/metrics`, and its id starts anew. Polled, not timed: the deadline
/// only keeps a broken build from hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_removes_ended_conversations_in_the_background() {
    let dir = tempdir();
    let server = Server::start_with(Some(&short_retention_config(&dir)), &dir.join("data"));
    let body = |id: &str| {
        json!({
            "account": "webchat:acme",
            "conversation": "bye-1",
            "message_id": id,
            "contact": { "id": "u-1", "name": "Ada" },
            "text": "Hi",
        })
    };
    let (status, answer) = server.post("/v1/messages", &body("m-1")).await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("ended")),
        "{answer}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (status, _) = server.get("/v1/conversations/bye-1").await;
        if status == 404 {
            break;
        }
        assert_eq!(status, 200);
        assert!(std::time::Instant::now() < deadline, "never removed");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let metrics = server.metrics().await;
    assert!(
        metrics.contains("scenarist_retention_removed_total{kind=\"conversations\"} 1"),
        "{metrics}"
    );
    let (status, answer) = server.post("/v1/messages", &body("m-2")).await;
    assert_eq!(status, 200, "{answer}");
    let (_, conversation) = server.get("/v1/conversations/bye-1").await;
    assert_eq!(
        contact_texts(&conversation),
        ["Hi"],
        "a new conversation: {conversation}"
    );
    let log = std::fs::read_to_string(dir.join("data.log")).unwrap();
    assert!(log.contains("retention sweep removed"), "{log}");
}
