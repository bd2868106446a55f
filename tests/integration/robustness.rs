//! No input makes the parser or checker panic or hang: deep nesting, huge files, invalid
//! UTF-8, binary and empty files each get a diagnostic; random and mutated inputs always
//! get an answer. Each case runs on a thread with a 2 MiB stack (what a tokio worker has)
//! and a deadline, so a stack overflow or a hang fails the test instead of the run.

use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use scenarist::diagnostic::{Code, FileReport};
use scenarist::lint::lint_source;
use scenarist::syntax::{MAX_DEPTH, MAX_FILE_BYTES};

use crate::support::{default_workspace, fixtures, root, scenarist, tempdir};

/// Lints `bytes` on a 2 MiB-stack thread; panics if that takes more than `seconds`.
fn lint_bounded(bytes: Vec<u8>, seconds: u64) -> FileReport {
    let (send, receive) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let report = lint_source("input.scn", bytes, &default_workspace());
            let _ = send.send(report);
        })
        .unwrap();
    match receive.recv_timeout(Duration::from_secs(seconds)) {
        Ok(report) => report,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("lint took more than {seconds}s"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("lint panicked or overflowed its stack")
        }
    }
}

fn codes(report: &FileReport) -> Vec<Code> {
    report.diagnostics.iter().map(|d| d.code).collect()
}

fn nested(open: &str, close: &str, depth: usize, inner: &str) -> String {
    format!(
        "scenario deep {{\n  start a\n  step a {{\n    {}{inner}{}\n    end\n  }}\n}}\n",
        open.repeat(depth),
        close.repeat(depth)
    )
}

#[test]
fn fifty_thousand_deep_nesting_is_refused_with_a_diagnostic() {
    let cases = [
        nested("if x { ", "} ", 50_000, "end"),
        nested("set y = (", ")", 50_000, "1"),
        nested("set y = [", "]", 50_000, "1"),
        nested("say \"{", "}\"", 50_000, "\"x"),
        format!("scenario s {{ {} }}", "{".repeat(50_000)),
    ];
    for case in cases {
        let report = lint_bounded(case.into_bytes(), 20);
        assert_eq!(codes(&report), [Code::NestingTooDeep]);
    }
}

#[test]
fn nesting_up_to_the_limit_parses_on_a_small_stack() {
    // Each `if` block opens one level; the step and scenario braces take two.
    let ifs = nested("if contact.vip { ", "} ", MAX_DEPTH - 2, "end");
    let parens = nested("say \"{", "}\"", (MAX_DEPTH - 2) / 2, "contact.name");
    for case in [ifs, parens] {
        let report = lint_bounded(case.into_bytes(), 20);
        assert!(
            !codes(&report).contains(&Code::NestingTooDeep),
            "{:?}",
            report.diagnostics
        );
    }
}

#[test]
fn long_operator_chains_are_bounded() {
    let chain = vec!["contact.vip"; 20_000].join(" or ");
    let report = lint_bounded(nested("if ", " { end }", 1, &chain).into_bytes(), 20);
    assert_eq!(codes(&report), [Code::NestingTooDeep]);
    let nots = nested("if not not ", " { end }", 1, "contact.vip");
    assert_eq!(
        codes(&lint_bounded(nots.into_bytes(), 10)),
        [Code::SyntaxError]
    );
}

#[test]
fn a_ten_megabyte_file_is_refused() {
    let big = "say \"padding\"\n"
        .repeat(10 * 1024 * 1024 / 14)
        .into_bytes();
    assert!(big.len() > MAX_FILE_BYTES);
    assert_eq!(codes(&lint_bounded(big, 20)), [Code::FileTooLarge]);
}

#[test]
fn invalid_utf8_binary_and_empty_files_get_diagnostics() {
    let latin1 = b"scenario s {\n  step a { say \"caf\xe9\" }\n}\n".to_vec();
    let report = lint_bounded(latin1, 10);
    assert_eq!(codes(&report), [Code::NotUtf8]);
    let at = report
        .file
        .line_column(report.diagnostics[0].primary.span.start as usize);
    assert_eq!((at.line, at.column), (2, 20));

    let binary: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert_eq!(codes(&lint_bounded(binary, 10)), [Code::NotUtf8]);

    for empty in ["", "\n\n  \t\n"] {
        let report = lint_bounded(empty.as_bytes().to_vec(), 10);
        assert_eq!(codes(&report), [Code::SyntaxError]);
        assert!(report.diagnostics[0].message.contains("empty"));
    }
}

/// The acceptance cases through the real binary: a diagnostic and a non-zero exit each.
#[test]
fn the_binary_survives_hostile_files() {
    let dir = tempdir();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "deep.scn",
            nested("(", ")", 50_000, "x").into_bytes(),
            "P003",
        ),
        ("big.scn", vec![b'#'; 10 * 1024 * 1024], "P005"),
        (
            "latin1.scn",
            b"scenario s { step a { say \"\xe9\" } }".to_vec(),
            "P004",
        ),
        ("empty.scn", Vec::new(), "P001"),
        (
            "binary.scn",
            (0..=255u8).cycle().take(10_000).collect(),
            "P004",
        ),
    ];
    for (name, bytes, code) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let output = scenarist(&["lint", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1), "{name}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains(code),
            "{name}: no {code}"
        );
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mut files = fixtures("scenarios", "scn");
    files.extend(fixtures("tests/fixtures/lint", "scn"));
    files
        .iter()
        .map(|p| std::fs::read(root().join(p)).unwrap())
        .collect()
}

/// Pieces of the language, to build mutations that get past the first token.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\"",
    "\"\"\"",
    "\\",
    "#",
    "/",
    "->",
    ",",
    ":",
    "=",
    "==",
    " or ",
    " and ",
    " not ",
    " is set",
    " matches /a/",
    "goto ",
    "ask ",
    "say ",
    "step x ",
    "if ",
    "else ",
    "call zendesk.create_ticket(",
    "{contact.email}",
    "\n",
    "é",
    "😀",
    "15m",
    "attempts 3 then ",
    "timeout 1h then ",
    "choice \"a\" -> ",
    "save contact.email",
    "expect ",
];

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, usize),
    Delete(usize, usize),
    Byte(usize, u8),
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len().max(1);
        match *edit {
            Edit::Insert(at, token) => {
                let at = at % len;
                let token = TOKENS[token % TOKENS.len()].as_bytes();
                bytes.splice(
                    at.min(bytes.len())..at.min(bytes.len()),
                    token.iter().copied(),
                );
            }
            Edit::Delete(at, n) => {
                let start = (at % len).min(bytes.len());
                let end = (start + n % 16).min(bytes.len());
                bytes.drain(start..end);
            }
            Edit::Byte(at, byte) => {
                if let Some(b) = bytes.get_mut(at % len) {
                    *b = byte;
                }
            }
        }
    }
    bytes
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(a, t)| Edit::Insert(a, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Byte(a, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_always_get_an_answer(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        lint_bounded(bytes, 10);
    }

    #[test]
    fn mutated_scenarios_always_get_an_answer(seed in any::<usize>(), edits in proptest::collection::vec(edit(), 1..8)) {
        let seeds = seeds();
        let input = apply(seeds[seed % seeds.len()].clone(), &edits);
        let report = lint_bounded(input, 10);
        // Every diagnostic points inside the file it reports on.
        for diagnostic in &report.diagnostics {
            prop_assert!(diagnostic.primary.span.end as usize <= report.file.text().len());
            prop_assert!(diagnostic.code != Code::Internal, "internal error: {:?}", diagnostic);
        }
    }
}
