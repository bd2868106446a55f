//! The helper of `scripts/bench-lint`: writes the benchmarks' generated scenario
//! (benches/support/generated.rs, the one `cargo bench --bench parse_check` uses), and times
//! parse and check apart on a file, in process, which `scenarist lint` alone cannot show.
//!
//! Usage: `cargo run --release -p scenarist-lang --example lint_bench -- generate STEPS > FILE`
//!        `cargo run --release -p scenarist-lang --example lint_bench -- split FILE RUNS`
//! `split` prints one line per phase: `parse SECONDS` and `check SECONDS`, the best of RUNS.
#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark helper prints its figures and its usage"
)]

use std::hint::black_box;
use std::io::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use scenarist_lang::check::check;
use scenarist_lang::config::Workspace;
use scenarist_lang::syntax::{parse, read_source};

#[path = "../../../benches/support/generated.rs"]
mod generated;

const USAGE: &str = "usage: lint_bench generate STEPS > FILE | lint_bench split FILE RUNS";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["generate", steps] => generate(steps),
        ["split", file, runs] => split(file, runs),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("lint_bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn generate(steps: &str) -> Result<(), String> {
    let steps: usize = steps
        .parse()
        .map_err(|_| format!("STEPS must be a whole number, not {steps:?}"))?;
    std::io::stdout()
        .write_all(generated::generate(steps).as_bytes())
        .map_err(|e| format!("cannot write the scenario: {e}"))
}

/// The best parse time and the best check time over `runs` runs (best: the machine is shared,
/// noise only ever adds time).
fn split(path: &str, runs: &str) -> Result<(), String> {
    let runs: usize = runs
        .parse()
        .map_err(|_| format!("RUNS must be a whole number, not {runs:?}"))?;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let (file, problem) = read_source(path, bytes);
    if let Some(problem) = problem {
        return Err(format!("{path}: {}", problem.message));
    }
    let workspace = Workspace::default_workspace().map_err(|e| format!("{e:?}"))?;
    let (mut best_parse, mut best_check) = (Duration::MAX, Duration::MAX);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let parsed = parse(black_box(&file)).map_err(|e| format!("{path}: {}", e.message))?;
        best_parse = best_parse.min(started.elapsed());
        let started = Instant::now();
        let findings = check(black_box(&parsed), &workspace);
        best_check = best_check.min(started.elapsed());
        if !findings.is_empty() {
            return Err(format!(
                "{path} is not lint-clean: {} findings",
                findings.len()
            ));
        }
    }
    println!("parse {:.6}", best_parse.as_secs_f64());
    println!("check {:.6}", best_check.as_secs_f64());
    Ok(())
}
