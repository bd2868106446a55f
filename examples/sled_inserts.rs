//! What one sled 0.34 insert costs, by the shape of its key: the floor under the store work
//! of a message (`scripts/bench-sled-inserts` runs this under callgrind and prints
//! instructions per insert).
//!
//! Modes, each `INSERTS` inserts of a 110-byte value into one tree of a fresh store, spread
//! over 10,000 conversations as `serve`'s load is, with a flush every 256 inserts:
//! - `overwrite`: one key per conversation, written again and again (the conversation record);
//! - `spread`: a new key per insert, next to its conversation's earlier ones (a history turn);
//! - `append`: a new key per insert, always the largest (time-ordered keys).
//!
//! Run from the repository's root:
//! `cargo run --release --example sled_inserts -- MODE [INSERTS=100000]`
#![expect(clippy::print_stdout, reason = "a benchmark tool reports")]

use std::time::Instant;

use anyhow::{Context as _, bail};

const CONVERSATIONS: usize = 10_000;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("spread", String::as_str);
    let inserts: usize = match args.get(2) {
        Some(text) => text.parse().context("INSERTS is a number")?,
        None => 100_000,
    };
    if !["overwrite", "spread", "append"].contains(&mode) {
        bail!("MODE is one of overwrite, spread, append, not `{mode}`");
    }
    let dir = std::env::temp_dir().join(format!("scenarist-sled-inserts-{}", std::process::id()));
    let db = sled::Config::new()
        .path(&dir)
        .cache_capacity(32 << 20)
        .flush_every_ms(None)
        .open()?;
    let tree = db.open_tree("t")?;
    let value = [7u8; 110];
    let started = Instant::now();
    for i in 0..inserts {
        let conversation = format!("webchat:acme:conversation-{:06}", i % CONVERSATIONS);
        let mut key = match mode {
            "append" => Vec::new(),
            _ => conversation.into_bytes(),
        };
        match mode {
            "spread" => key.extend_from_slice(&((i / CONVERSATIONS) as u64).to_be_bytes()),
            "append" => key.extend_from_slice(&(i as u64).to_be_bytes()),
            _ => {}
        }
        tree.insert(key, &value[..])?;
        if i % 256 == 255 {
            db.flush()?;
        }
    }
    db.flush()?;
    let elapsed = started.elapsed();
    println!(
        "{mode}: {inserts} inserts in {:.2} s, {:.1} µs each (wall clock, flushes included)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / f64::from(u32::try_from(inserts).unwrap_or(u32::MAX))
    );
    drop(tree);
    drop(db);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
