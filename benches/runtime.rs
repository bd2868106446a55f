//! Runtime throughput on the mode-B flow (`scenarios/zendesk_handoff.scn`): 10,000
//! conversations of two messages each ("Hi", then a valid email), 256 at a time, on sled in
//! a temporary directory. Measured with group commit and with a flush per message, beside
//! raw sled doing the same reads and writes (counted from the engine's run) with the same
//! flush policy: the physical limit of this machine.
//!
//! Run: `cargo bench --bench runtime` (release build). Prints a table.
#![expect(
    clippy::print_stdout,
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a benchmark reports, and stops on a broken setup"
)]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "rates and averages"
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use scenarist::runtime::durability::Durability;
use scenarist::runtime::engine::{Engine, EngineOptions, Inbound};
use scenarist::runtime::runner::BuiltinActions;
use scenarist::runtime::{Clock, FlushPolicy, SystemClock};
use scenarist::store::{Backend, KvStore, SledBackend, Store, StoreError, TreeName};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONVERSATIONS: usize = 10_000;
const CLIENTS: usize = 256;
const SCENARIO: &str = include_str!("../scenarios/zendesk_handoff.scn");

/// Counts what the engine asks of the backend.
struct Counting {
    inner: SledBackend,
    gets: AtomicU64,
    inserts: AtomicU64,
    inserted_bytes: AtomicU64,
    removes: AtomicU64,
}

impl Backend for Counting {
    fn get(&self, tree: TreeName, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.gets.fetch_add(1, Ordering::Relaxed);
        self.inner.get(tree, key)
    }
    fn insert(&self, tree: TreeName, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.inserts.fetch_add(1, Ordering::Relaxed);
        self.inserted_bytes
            .fetch_add(value.len() as u64, Ordering::Relaxed);
        self.inner.insert(tree, key, value)
    }
    fn remove(&self, tree: TreeName, key: &[u8]) -> Result<(), StoreError> {
        self.removes.fetch_add(1, Ordering::Relaxed);
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
        self.inner.flush()
    }
    fn is_empty(&self) -> Result<bool, StoreError> {
        self.inner.is_empty()
    }
}

/// Per message, on average.
#[derive(Clone, Copy, Debug)]
struct Profile {
    gets: f64,
    inserts: f64,
    value_bytes: usize,
    removes: f64,
}

struct Run {
    messages: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.elapsed.as_secs_f64()
    }
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        sorted
            .get(((sorted.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or_default()
    }
}

fn inbound(conversation: usize, message: usize, text: &str) -> Inbound {
    Inbound {
        account: "facebook:acme".into(),
        conversation: format!("c{conversation}"),
        message_id: format!("c{conversation}-m{message}"),
        contact_id: format!("u{conversation}"),
        contact_name: "Ada Lovelace".into(),
        fields: BTreeMap::new(),
        text: text.into(),
    }
}

async fn engine_run(flush: FlushPolicy) -> (Run, Profile) {
    let dir = tempdir("engine");
    let backend = Counting {
        inner: SledBackend::open(&dir).unwrap(),
        gets: AtomicU64::new(0),
        inserts: AtomicU64::new(0),
        inserted_bytes: AtomicU64::new(0),
        removes: AtomicU64::new(0),
    };
    let store = Arc::new(KvStore::new(backend));
    let options = EngineOptions {
        flush,
        default_scenario: Some("zendesk_handoff".into()),
        ..EngineOptions::default()
    };
    let engine = Engine::new(
        store.clone(),
        Arc::new(SystemClock) as Arc<dyn Clock>,
        Arc::new(BuiltinActions),
        options,
    );
    engine.publish(SCENARIO).unwrap();
    let counters = |s: &KvStore<Counting>| {
        let b = s.backend_ref();
        (
            b.gets.load(Ordering::Relaxed),
            b.inserts.load(Ordering::Relaxed),
            b.inserted_bytes.load(Ordering::Relaxed),
            b.removes.load(Ordering::Relaxed),
        )
    };
    let before = counters(&store);
    let driver = engine.clone();
    let run = drive(move |conversation, message, text| {
        let engine = driver.clone();
        async move {
            let outcome = engine
                .handle(inbound(conversation, message, text))
                .await
                .expect("the engine answers");
            assert!(!outcome.replies.is_empty());
        }
    })
    .await;
    let after = counters(&store);
    let messages = run.messages as f64;
    let inserts = (after.1 - before.1) as f64;
    let profile = Profile {
        gets: (after.0 - before.0) as f64 / messages,
        inserts: inserts / messages,
        value_bytes: ((after.2 - before.2) as f64 / inserts) as usize,
        removes: (after.3 - before.3) as f64 / messages,
    };
    let conversation = engine.conversation("c0").unwrap().unwrap();
    assert_eq!(
        conversation.team.as_deref(),
        Some("Zendesk"),
        "the flow ran to its end"
    );
    drop(engine);
    let _ = std::fs::remove_dir_all(&dir);
    (run, profile)
}

/// Raw sled: per message, the engine's number of gets, inserts (of its average size) and
/// removes on the same kinds of keys, then the same durability wait.
async fn raw_run(flush: FlushPolicy, profile: Profile) -> Run {
    let dir = tempdir("raw");
    let store: Arc<dyn Store> = Arc::new(KvStore::new(SledBackend::open(&dir).unwrap()));
    let durability = Durability::start(Arc::clone(&store), flush);
    let value = vec![7u8; profile.value_bytes];
    let carry = Arc::new(std::sync::Mutex::new((0.0f64, 0.0f64, 0.0f64)));
    let run = drive(move |conversation, message, _| {
        let (store, durability, value, carry) = (
            Arc::clone(&store),
            Arc::clone(&durability),
            value.clone(),
            Arc::clone(&carry),
        );
        async move {
            // Fractional averages are spread over messages, so the totals match the engine's.
            let (gets, inserts, removes) = {
                let mut c = carry.lock().unwrap();
                c.0 += profile.gets;
                c.1 += profile.inserts;
                c.2 += profile.removes;
                let whole = (c.0.floor(), c.1.floor(), c.2.floor());
                c.0 -= whole.0;
                c.1 -= whole.1;
                c.2 -= whole.2;
                (whole.0 as usize, whole.1 as usize, whole.2 as usize)
            };
            let backend = store.backend();
            let key = format!("c{conversation}").into_bytes();
            for _ in 0..gets {
                backend.get(TreeName::Conversations, &key).unwrap();
            }
            for i in 0..inserts {
                // The engine's mix, most frequent first: the turn and the record every time,
                // then the contact, a due entry, the contact's index, a `seen` entry.
                let tree = [
                    TreeName::History,
                    TreeName::Conversations,
                    TreeName::Contacts,
                    TreeName::Due,
                    TreeName::ContactConversations,
                    TreeName::Seen,
                ][i % 6];
                let key = format!("c{conversation}-{message}-{i}").into_bytes();
                backend.insert(tree, &key, &value).unwrap();
            }
            for i in 0..removes {
                backend
                    .remove(
                        TreeName::Due,
                        format!("c{conversation}-{message}-{i}").as_bytes(),
                    )
                    .unwrap();
            }
            durability.wait().await.unwrap();
        }
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    run
}

/// `CLIENTS` tasks, each taking conversations in turn and sending their two messages.
async fn drive<F, Fut>(send: F) -> Run
where
    F: Fn(usize, usize, &'static str) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let (next, send) = (Arc::clone(&next), send.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let conversation = next.fetch_add(1, Ordering::Relaxed) as usize;
                if conversation >= CONVERSATIONS {
                    return latencies;
                }
                for (message, text) in [(1, "Hi"), (2, "ada@example.com")] {
                    let begun = Instant::now();
                    send(conversation, message, text).await;
                    latencies.push(begun.elapsed());
                }
            }
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    Run {
        messages: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    }
}

fn tempdir(what: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("scenarist-bench-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The engine alone: the memory store, no flush — what the engine's own work costs.
async fn engine_only() -> Run {
    let store = Arc::new(KvStore::new(scenarist::store::MemoryBackend::default()));
    let flush = FlushPolicy::GroupCommit { interval_ms: 0 };
    let options = EngineOptions {
        flush,
        default_scenario: Some("zendesk_handoff".into()),
        ..EngineOptions::default()
    };
    let engine = Engine::new(
        store,
        Arc::new(SystemClock) as Arc<dyn Clock>,
        Arc::new(BuiltinActions),
        options,
    );
    engine.publish(SCENARIO).unwrap();
    drive(move |conversation, message, text| {
        let engine = engine.clone();
        async move {
            engine
                .handle(inbound(conversation, message, text))
                .await
                .expect("the engine answers");
        }
    })
    .await
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "mode-B flow: {CONVERSATIONS} conversations x 2 messages, {CLIENTS} concurrent clients, sled 0.34.7\n"
    );
    let alone = runtime.block_on(engine_only());
    // For a profiler: the engine's own work, nothing else.
    if std::env::var_os("BENCH_ALONE_ONLY").is_some() {
        println!("engine alone: {:.1} µs per message", 2e6 / alone.rate());
        return;
    }
    if std::env::var_os("BENCH_ENGINE_ONLY").is_some() {
        let (run, _) = runtime.block_on(engine_run(FlushPolicy::GroupCommit { interval_ms: 2 }));
        println!("engine on sled, group commit: {:.0} msg/s", run.rate());
        return;
    }
    println!(
        "engine alone (memory store, no flush): {:.0} msg/s, {:.1} µs of engine work per message\n",
        alone.rate(),
        2e6 / alone.rate()
    );
    println!(
        "| flush policy | engine msg/s | raw sled msg/s | engine / raw | engine p50 / p99 latency |"
    );
    println!("|---|---|---|---|---|");
    for (name, flush) in [
        (
            "group commit (2 ms)",
            FlushPolicy::GroupCommit { interval_ms: 2 },
        ),
        ("flush per message", FlushPolicy::EveryMessage),
    ] {
        let (engine, profile) = runtime.block_on(engine_run(flush));
        let raw = runtime.block_on(raw_run(flush, profile));
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} % (goal ≥ 90 %) | {:.1} ms / {:.1} ms |",
            engine.rate(),
            raw.rate(),
            100.0 * engine.rate() / raw.rate(),
            engine.percentile(0.5).as_secs_f64() * 1000.0,
            engine.percentile(0.99).as_secs_f64() * 1000.0,
        );
        println!(
            "|   (per message: {:.2} gets, {:.2} inserts of ~{} B, {:.2} removes; goal ≤ 1 get, ≤ 2 inserts) | | | | |",
            profile.gets, profile.inserts, profile.value_bytes, profile.removes
        );
    }
}
