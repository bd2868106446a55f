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

/// A lint-clean scenario of `steps` steps, using every construct (since language v2 also values
/// written with `set`, arithmetic, functions, opening hours and a declared HTTP action).
fn generate(steps: usize) -> String {
    let mut text = String::from(
        "# Generated for the parse+check benchmark.\nscenario generated {\n  description \"A long generated flow\"\n  start step_0\n",
    );
    for i in 0..steps {
        let next = if i + 1 == steps {
            "handoff advisor".to_owned()
        } else {
            format!("goto step_{}", i + 1)
        };
        let _ = write!(
            text,
            "\n  step step_{i} {{\n    say \"Hello {{contact.first_name or \"there\"}}, this is step {i}.\"\n    ask \"Your order number?\" {{\n      expect /^[A-Z]{{2}}[0-9]{{6}}$/\n      save order_{i}\n      invalid \"\\\"{{answer}}\\\" is not an order number.\"\n      attempts 3 then goto step_{i}_help\n      timeout 15m then handoff advisor\n    }}\n    if order_{i} matches /^FR/ and contact.vip is set {{\n      say \"Merci, {{order_{i}}}!\"\n    }} else {{\n      route team \"Orders\"\n    }}\n    set total_{i} = length(order_{i}) * 2 + 1\n    set contact.language = lower(trim(\"FR \"))\n    set ticket.priority = \"high\"\n    set ticket.fields.order_number = upper(order_{i})\n    if open support and total_{i} > 3 {{\n      say \"Open {{next_open(support)}}: {{format_number(total_{i}, 2)}}.\"\n    }}\n    call oms.get_order(number: order_{i}) as found_{i} {{ on error goto step_{i}_help }}\n    say \"Status: {{found_{i}.status}}\"\n    {next}\n  }}\n\n  step step_{i}_help {{\n    say \"An advisor will help you with step {i}.\"\n    handoff advisor\n  }}\n"
        );
    }
    text.push_str("}\n");
    text
}

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
