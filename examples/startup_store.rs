//! Builds a data directory of many stored conversations, quickly, for `scripts/bench-startup`.
//!
//! A few thousand seed conversations run through the real engine on the built-in workspace
//! (account `webchat:acme`, scenario `after_hours`), so records, turns, contacts, `seen`
//! entries, due entries and the contact index are what `serve` writes: most say "Hi" then
//! "No, thanks" (the conversation ends, as most stored ones have), `WAITING_PERCENT` say only
//! "Hi" (waiting for an answer, a timeout armed: an idle conversation). Each seed is then
//! copied under new conversation, contact and message ids through `Store::commit`, one commit
//! per turn as the engine would write it, until there are `CONVERSATIONS` in all. The engine's
//! start-up pass (`Engine::rearm`) runs once on the empty store first, as `serve` does.
//!
//! Prints, for an idle (waiting) seed, the bytes it holds besides its history (summed keys
//! and values as stored: record, due entries, contact, contact index, seen), then progress.
//!
//! Run from the repository's root:
//! `cargo run --release --example startup_store -- DATA_DIR [CONVERSATIONS=1000000]
//! [WAITING_PERCENT=10] [SEEDS=2000]`
#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark tool reports"
)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use scenarist::config::Workspace;
use scenarist::runtime::engine::{Engine, Inbound};
use scenarist::runtime::runner::BuiltinActions;
use scenarist::runtime::state::{Contact, Conversation, Status, Turn, id_hash};
use scenarist::runtime::{Clock, SystemClock};
use scenarist::store::{Commit, Due, KvStore, Seen, SledBackend, Store, footprint};

const ACCOUNT: &str = "webchat:acme";
/// Seeds run through the engine this many at a time.
const CONCURRENCY: usize = 64;

struct Args {
    data: PathBuf,
    conversations: usize,
    waiting_percent: usize,
    seeds: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut args = std::env::args().skip(1);
    let data = args
        .next()
        .context("usage: startup_store DATA_DIR [CONVERSATIONS] [WAITING_PERCENT] [SEEDS]")?;
    let number = |text: Option<String>, default: usize, what: &str| -> anyhow::Result<usize> {
        text.map_or(Ok(default), |t| {
            t.parse()
                .with_context(|| format!("{what} must be a whole number, not `{t}`"))
        })
    };
    let conversations = number(args.next(), 1_000_000, "CONVERSATIONS")?;
    let waiting_percent = number(args.next(), 10, "WAITING_PERCENT")?;
    let seeds = number(args.next(), 2_000, "SEEDS")?
        .min(conversations)
        .max(1);
    if waiting_percent > 100 {
        bail!("WAITING_PERCENT is at most 100, not {waiting_percent}");
    }
    Ok(Args {
        data: PathBuf::from(data),
        conversations,
        waiting_percent,
        seeds,
    })
}

fn inbound(conversation: &str, contact: &str, message: &str, text: &str) -> Inbound {
    Inbound {
        account: ACCOUNT.into(),
        conversation: conversation.into(),
        message_id: message.into(),
        contact_id: contact.into(),
        contact_name: "Ada Lovelace".into(),
        fields: BTreeMap::new(),
        text: text.into(),
    }
}

/// A seed: waiting ones say "Hi", the others "Hi" then "No, thanks".
fn texts(seed: usize, args: &Args) -> &'static [&'static str] {
    if seed * 100 < args.waiting_percent * args.seeds {
        &["Hi"]
    } else {
        &["Hi", "No, thanks"]
    }
}

async fn seed(engine: &Engine, args: &Args) -> anyhow::Result<()> {
    let mut next = 0;
    while next < args.seeds {
        let mut batch = tokio::task::JoinSet::new();
        for seed in next..(next + CONCURRENCY).min(args.seeds) {
            let engine = engine.clone();
            let texts = texts(seed, args);
            batch.spawn(async move {
                let id = format!("seed-{seed}");
                for (n, text) in texts.iter().enumerate() {
                    engine
                        .handle(inbound(
                            &id,
                            &format!("u-{id}"),
                            &format!("m-{id}-{n}"),
                            text,
                        ))
                        .await
                        .map_err(|e| anyhow::anyhow!("seed {id}: {e}"))?;
                }
                anyhow::Ok(())
            });
        }
        while let Some(done) = batch.join_next().await {
            done??;
        }
        next += CONCURRENCY;
    }
    Ok(())
}

/// One seed's stored state, read back to be copied.
struct Template {
    record: Conversation,
    contact: Contact,
    turns: Vec<Turn>,
}

fn template(store: &dyn Store, id: &str) -> anyhow::Result<Template> {
    let record = store
        .conversation(id)?
        .with_context(|| format!("seed {id} has no record"))?;
    let contact = store
        .contact(&record.account, &record.contact)?
        .with_context(|| format!("seed {id} has no contact"))?;
    let turns = store.history(id, record.last_seq)?;
    Ok(Template {
        record,
        contact,
        turns,
    })
}

/// The commits that write `template` again as conversation `id`, one per turn.
fn copy(template: &Template, id: &str) -> Vec<Commit> {
    let contact_id = format!("u-{id}");
    let message = |seq: u64| format!("m-{id}-{seq}");
    let mut record = template.record.clone();
    id.clone_into(&mut record.id);
    contact_id.clone_into(&mut record.contact);
    for (hash, seq) in &mut record.recent {
        *hash = id_hash(&message(*seq));
    }
    for effect in &mut record.pending {
        id.clone_into(&mut effect.conversation);
        effect.id = format!("{id}:{}", effect.created_seq);
    }
    let mut contact = template.contact.clone();
    contact.id = contact_id;
    let last = template.turns.len();
    template
        .turns
        .iter()
        .enumerate()
        .map(|(n, turn)| {
            let mut turn = turn.clone();
            // An id is in the `seen` index only once it has left the record's window.
            let mut seen = None;
            if turn.message_id.is_some() {
                let message_id = message(turn.seq);
                let hash = id_hash(&message_id);
                if !record.recent.contains(&(hash, turn.seq)) {
                    seen = Some((
                        hash,
                        Seen {
                            conversation: id.to_owned(),
                            seq: turn.seq,
                            at: Some(turn.at),
                        },
                    ));
                }
                turn.message_id = Some(message_id);
            }
            let final_turn = n + 1 == last;
            Commit {
                turn: Some(turn),
                contact: final_turn.then(|| contact.clone()),
                seen: seen.into_iter().collect(),
                due: if final_turn {
                    Due::of_record(&record).collect()
                } else {
                    Vec::new()
                },
                undue: Vec::new(),
                conversation: record.clone(),
            }
        })
        .collect()
}

/// The config in `SCENARIST_CONFIG` (scripts/bench-startup's copy, with Support closed so
/// that the conversations wait with a timeout whatever the hour), or the built-in one.
fn workspace() -> anyhow::Result<Workspace> {
    match std::env::var_os("SCENARIST_CONFIG") {
        Some(path) => Workspace::load(std::path::Path::new(&path))?
            .map_err(|(_, problems)| anyhow::anyhow!("the config has problems: {problems:?}")),
        None => Workspace::default_workspace()
            .map_err(|problems| anyhow::anyhow!("the built-in config has problems: {problems:?}")),
    }
}

fn main() -> anyhow::Result<()> {
    let args = args()?;
    let workspace = workspace()?;
    std::fs::create_dir_all(&args.data)?;
    // A large cache: the build writes much; `serve` opens the store with its own.
    let backend = SledBackend::open_with_cache(&args.data, 512 * 1024 * 1024)?;
    let store = Arc::new(KvStore::new(backend));
    let runtime = scenarist::setup::tokio_runtime()?;
    let started = Instant::now();
    // The engine's group commit runs on the runtime.
    let entered = runtime.enter();
    let engine = Engine::new(
        Arc::clone(&store) as Arc<dyn Store>,
        Arc::new(SystemClock) as Arc<dyn Clock>,
        Arc::new(BuiltinActions),
        scenarist::setup::options(&workspace),
    );
    let source = std::fs::read_to_string("scenarios/after_hours.scn")
        .context("run from the repository's root (scenarios/after_hours.scn)")?;
    engine.publish(&source)?;
    engine.rearm()?;
    runtime.block_on(seed(&engine, &args))?;
    let templates = (0..args.seeds)
        .map(|seed| template(store.as_ref(), &format!("seed-{seed}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let waiting = templates
        .iter()
        .position(|t| t.record.status != Status::Ended);
    let ended = templates
        .iter()
        .filter(|t| t.record.status == Status::Ended)
        .count();
    eprintln!(
        "{} seeds through the engine in {:.1} s ({ended} ended, {} waiting)",
        args.seeds,
        started.elapsed().as_secs_f64(),
        args.seeds - ended
    );
    if let Some(seed) = waiting {
        let id = format!("seed-{seed}");
        if let Some(bytes) = footprint(store.as_ref(), &id)? {
            let timer = templates[seed].record.timer.is_some();
            println!(
                "bytes per idle conversation besides its history: {} (goal <= 1024; summed keys + values as stored: record {}, due {}{}, contact {}, contact index {}, seen {})",
                bytes.total(),
                bytes.record,
                bytes.due,
                if timer { " (its timeout)" } else { "" },
                bytes.contact,
                bytes.contact_index,
                bytes.seen
            );
        }
    }
    let copies = args.conversations - args.seeds;
    let copying = Instant::now();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let (store, templates) = (Arc::clone(&store), &templates);
                scope.spawn(move || -> anyhow::Result<()> {
                    for n in (worker..copies).step_by(workers) {
                        let id = format!("r{n:07}");
                        for commit in copy(&templates[n % templates.len()], &id) {
                            store.commit(&commit)?;
                        }
                        if worker == 0 && n % 100_000 < workers && n > 0 {
                            eprintln!("  {n} copies in {:.0} s", copying.elapsed().as_secs_f64());
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("a copying thread panicked"))??;
        }
        Ok(())
    })?;
    store.flush()?;
    eprintln!(
        "{} conversations stored in {:.0} s ({copies} copies in {:.0} s)",
        args.conversations,
        started.elapsed().as_secs_f64(),
        copying.elapsed().as_secs_f64()
    );
    // Closed as `serve` closes its store on a clean stop: sled writes its snapshot, so the
    // first start does not replay the whole log. BENCH_NO_SNAPSHOT=1 leaves the store as a
    // crash would (the first start replays it).
    drop((engine, store, entered));
    drop(runtime);
    if std::env::var_os("BENCH_NO_SNAPSHOT").is_none() {
        let snapshot = Instant::now();
        SledBackend::write_snapshot(&args.data, 32 * 1024 * 1024)?;
        eprintln!(
            "closed with sled's snapshot written in {:.1} s (as serve's clean stop does)",
            snapshot.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
