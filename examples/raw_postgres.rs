//! The ceiling for `scripts/bench-postgres`: PostgreSQL alone doing what `scenarist serve`
//! asks of it for each message of that benchmark's load, from one program, with no HTTP and
//! no engine. Each client (a thread with its connection, statements prepared once) loops over
//! the same statements the engine sends for a message of an existing conversation, counted
//! from the server's statement log (docs/performance.md#postgresql):
//!
//! - `pg_advisory_lock` of the conversation, then of its contact (the node locks);
//! - two reads: the conversation's record, then its contact's;
//! - the step's three writes (the turn and the record, and the question's timer entry
//!   written on "Hi", removed on "No, thanks"), committed durably (`synchronous_commit` on)
//!   as the engine commits them: `unnest` one statement (`store/pg/commits.rs`, fenced by
//!   the two locks as the engine's is),
//!   `transaction` a transaction of one statement per row (the engine before it);
//! - `pg_advisory_unlock_all`.
//!
//! Ten round trips a message with `transaction`, six with `unnest`.
//!
//! Usage: `raw_postgres URL [CLIENTS=64] [SECONDS=15] [CONVERSATIONS=10000] [WRITES=unnest]`;
//! prints `RESULT msg/s p50_ms p99_ms 0 errors 0 0 messages` (the line the wrk script prints).
#![expect(
    clippy::print_stdout,
    reason = "prints its figures for the bench script"
)]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    reason = "rates and percentiles"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use postgres::{Client, NoTls, Statement};

const LOCK: &str = "SELECT pg_advisory_lock($1)";
const UNLOCK: &str = "SELECT pg_advisory_unlock_all()";
const GET: &str = "SELECT value FROM scenarist_kv WHERE tree = $1 AND key = $2";
const UPSERT: &str = "INSERT INTO scenarist_kv (tree, key, value) VALUES ($1, $2, $3) \
                      ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value";
const DELETE: &str = "DELETE FROM scenarist_kv WHERE tree = $1 AND key = $2";
/// The engine's statement for a step's writes, fenced by its locks (`store/pg/commits.rs`).
use scenarist::store::COMMIT_STATEMENT as APPLY;
const TABLE: &str = "CREATE TABLE IF NOT EXISTS scenarist_kv (tree smallint NOT NULL, \
                     key bytea NOT NULL, value bytea NOT NULL, PRIMARY KEY (tree, key))";

/// Trees as the engine numbers them (`store/pg/mod.rs`).
const CONVERSATIONS_TREE: i16 = 1;
const HISTORY: i16 = 2;
const CONTACTS: i16 = 3;
const DUE: i16 = 5;

#[derive(Clone, Copy, PartialEq)]
enum Writes {
    Unnest,
    Transaction,
}

struct Prepared {
    lock: Statement,
    unlock: Statement,
    get: Statement,
    upsert: Statement,
    delete: Statement,
    apply: Statement,
    /// This connection's server process id: the session its locks are held by.
    session: i32,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args.first().context(
        "usage: raw_postgres URL [CLIENTS] [SECONDS] [CONVERSATIONS] [unnest|transaction]",
    )?;
    let number = |i: usize, default: u64| -> anyhow::Result<u64> {
        args.get(i).map_or(Ok(default), |text| {
            text.parse()
                .with_context(|| format!("argument {i} is not a number: {text}"))
        })
    };
    let clients = number(1, 64)?.max(1);
    let seconds = number(2, 15)?;
    let conversations = number(3, 10_000)?.max(1);
    let writes = match args.get(4).map_or("unnest", String::as_str) {
        "unnest" => Writes::Unnest,
        "transaction" => Writes::Transaction,
        other => bail!("WRITES is {other}: write unnest or transaction"),
    };
    Client::connect(url, NoTls)?.batch_execute(TABLE)?;

    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|n| {
            let (url, stop) = (url.clone(), Arc::clone(&stop));
            std::thread::spawn(move || client(&url, n, clients, conversations, writes, &stop))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for worker in workers {
        let mine = worker
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))??;
        latencies.extend(mine);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(i).map_or(0.0, |us| f64::from(*us) / 1000.0)
    };
    println!(
        "RESULT {:.1} {:.3} {:.3} 0 0 0 0 {}",
        latencies.len() as f64 / elapsed,
        percentile(0.5),
        percentile(0.99),
        latencies.len()
    );
    Ok(())
}

/// One client's loop: the latency of each message, in microseconds.
fn client(
    url: &str,
    n: u64,
    clients: u64,
    conversations: u64,
    writes: Writes,
    stop: &AtomicBool,
) -> anyhow::Result<Vec<u32>> {
    let mut db = Client::connect(url, NoTls)?;
    db.batch_execute("SET synchronous_commit = on")?;
    let prepared = Prepared {
        lock: db.prepare(LOCK)?,
        unlock: db.prepare(UNLOCK)?,
        get: db.prepare(GET)?,
        upsert: db.prepare(UPSERT)?,
        delete: db.prepare(DELETE)?,
        apply: db.prepare(APPLY)?,
        session: db.query_one("SELECT pg_backend_pid()", &[])?.try_get(0)?,
    };
    let mut latencies = Vec::new();
    let mut message = n;
    while !stop.load(Ordering::Relaxed) {
        let begun = Instant::now();
        one_message(&mut db, &prepared, message, conversations, writes)?;
        latencies.push(u32::try_from(begun.elapsed().as_micros()).unwrap_or(u32::MAX));
        message += clients;
    }
    Ok(latencies)
}

fn one_message(
    db: &mut Client,
    prepared: &Prepared,
    message: u64,
    conversations: u64,
    writes: Writes,
) -> anyhow::Result<()> {
    let conversation = message % conversations;
    let seq = message / conversations;
    let record = format!("c-{conversation}").into_bytes();
    let contact = format!("webchat:acme\0u-{conversation}").into_bytes();
    let record_key = record.clone();
    db.execute(&prepared.lock, &[&lock_key(&record)])?;
    db.query_opt(&prepared.get, &[&CONVERSATIONS_TREE, &record])?;
    db.execute(&prepared.lock, &[&lock_key(&contact)])?;
    db.query_opt(&prepared.get, &[&CONTACTS, &contact])?;
    let mut turn = record.clone();
    turn.extend_from_slice(&seq.to_be_bytes());
    let mut due = b"due\0".to_vec();
    due.extend_from_slice(&record);
    // "Hi" asks a question (its timer's due entry is written), "No, thanks" ends the
    // conversation (the entry is removed); values about the sizes the engine writes.
    let hi = seq % 2 == 0;
    let upserts: Vec<(i16, Vec<u8>, Vec<u8>)> = [
        Some((HISTORY, turn, vec![7; 190])),
        hi.then(|| (DUE, due.clone(), vec![7; 17])),
        Some((CONVERSATIONS_TREE, record, vec![7; 140])),
    ]
    .into_iter()
    .flatten()
    .collect();
    let removed: Vec<(i16, Vec<u8>)> = if hi { vec![] } else { vec![(DUE, due)] };
    match writes {
        Writes::Unnest => {
            let trees: Vec<i16> = upserts.iter().map(|row| row.0).collect();
            let keys: Vec<&[u8]> = upserts.iter().map(|row| row.1.as_slice()).collect();
            let values: Vec<&[u8]> = upserts.iter().map(|row| row.2.as_slice()).collect();
            let gone_trees: Vec<i16> = removed.iter().map(|row| row.0).collect();
            let gone_keys: Vec<&[u8]> = removed.iter().map(|row| row.1.as_slice()).collect();
            // One step (number 0), fenced by its two locks, as the engine's commit is.
            let put_steps = vec![0_i32; upserts.len()];
            let gone_steps = vec![0_i32; removed.len()];
            let fenced = [0_i32, 0];
            let sessions = [prepared.session, prepared.session];
            let held = [lock_key(&record_key), lock_key(&contact)];
            db.query(
                &prepared.apply,
                &[
                    &trees,
                    &keys,
                    &values,
                    &gone_trees,
                    &gone_keys,
                    &fenced.as_slice(),
                    &sessions.as_slice(),
                    &held.as_slice(),
                    &gone_steps,
                    &put_steps,
                ],
            )?;
        }
        Writes::Transaction => {
            let mut transaction = db.transaction()?;
            for (tree, key, value) in &upserts {
                transaction.execute(&prepared.upsert, &[tree, key, value])?;
            }
            for (tree, key) in &removed {
                transaction.execute(&prepared.delete, &[tree, key])?;
            }
            transaction.commit()?;
        }
    }
    db.execute(&prepared.unlock, &[])?;
    Ok(())
}

/// An advisory lock's number for a name (FNV-1a; the engine hashes its own way).
fn lock_key(text: &[u8]) -> i64 {
    let hash = text.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    i64::from_ne_bytes(hash.to_ne_bytes())
}
