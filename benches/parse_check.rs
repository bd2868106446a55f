//! Parse + check throughput on a generated scenario of about 10,000 lines.
//! Run: `cargo bench --bench parse_check`; criterion prints the time per run and MiB/s.
#![expect(
    clippy::print_stdout,
    clippy::expect_used,
    reason = "a benchmark reports, and stops on a broken setup"
)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use scenarist::check::check;
use scenarist::config::Workspace;
use scenarist::source::SourceFile;
use scenarist::syntax::parse;

/// The same scenario in two languages: every text followed by its English translation.
fn bilingual(steps: usize) -> String {
    let text = generate(steps).replacen(
        "  start step_0\n",
        "  languages fr, en\n  language from contact.language\n  start step_0\n",
        1,
    );
    let mut out = String::with_capacity(text.len() * 2);
    for line in text.lines() {
        out.push_str(line);
        out.push('\n');
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let text_of = ["say ", "invalid "]
            .iter()
            .find_map(|keyword| trimmed.strip_prefix(keyword));
        if let Some(text) = text_of {
            let _ = writeln!(out, "{indent}  en {text}");
        }
    }
    out.replace(
        "ask \"Your order number?\" {",
        "ask \"Your order number?\"\n      en \"Your order number?\" {",
    )
}

#[path = "support/generated.rs"]
mod generated;
use generated::generate;

fn bench(c: &mut Criterion) {
    let workspace = Workspace::default_workspace().expect("the default config is valid");
    let text = generate(455);
    let file = SourceFile::new("generated.scn", text.clone());
    let parsed = parse(&file).expect("the generated scenario parses");
    let findings = check(&parsed, &workspace);
    assert!(
        findings.is_empty(),
        "the generated scenario is not clean: {findings:?}"
    );
    println!(
        "generated scenario: {} lines, {} bytes",
        file.line_count(),
        text.len()
    );

    let mut group = c.benchmark_group("lint");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse", |b| b.iter(|| parse(black_box(&file))));
    group.bench_function("parse+check", |b| {
        b.iter(|| {
            let parsed = parse(black_box(&file)).expect("parses");
            check(&parsed, &workspace)
        });
    });
    group.finish();

    // Translations: the same flow with every text in two languages.
    let text = bilingual(455);
    let file = SourceFile::new("bilingual.scn", text.clone());
    let parsed = parse(&file).expect("the bilingual scenario parses");
    let findings = check(&parsed, &workspace);
    assert!(
        findings.is_empty(),
        "the bilingual scenario is not clean: {findings:?}"
    );
    let mut group = c.benchmark_group("lint_bilingual");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse+check", |b| {
        b.iter(|| {
            let parsed = parse(black_box(&file)).expect("parses");
            check(&parsed, &workspace)
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
