//! The `scenarist` binary as CI uses it: exit codes, every output format (SARIF and JSON
//! validated against their schemas), `--explain`, colours, and usage errors.

use scenarist::diagnostic::Code;

use crate::support::{assert_valid, expectations, fixtures, scenarist, stderr, stdout, tempdir};

#[test]
fn clean_scenarios_exit_zero() {
    let output = scenarist(&["lint", "scenarios/"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("no problems found"),
        "{}",
        stdout(&output)
    );
}

/// Acceptance: every invalid fixture makes `lint` fail with its code at its line and column.
#[test]
fn every_fixture_fails_with_its_code_line_and_column() {
    for path in fixtures("tests/fixtures/lint", "scn") {
        let path = path.to_str().unwrap();
        let output = scenarist(&["lint", "--deny-warnings", "--format", "github", path]);
        assert_eq!(output.status.code(), Some(1), "{path}: {}", stdout(&output));
        let text = std::fs::read(path).unwrap();
        for (code, line, column) in expectations(&String::from_utf8_lossy(&text)) {
            let needle = format!("line={line},col={column},");
            let found = stdout(&output)
                .lines()
                .any(|l| l.contains(&needle) && l.contains(&format!("title={code} ")));
            assert!(
                found,
                "{path}: no {code} at {line}:{column} in\n{}",
                stdout(&output)
            );
        }
    }
}

#[test]
fn warnings_alone_exit_zero_unless_denied() {
    let path = "tests/fixtures/lint/L204_unused_variable.scn";
    assert_eq!(scenarist(&["lint", path]).status.code(), Some(0));
    assert_eq!(
        scenarist(&["lint", "--deny-warnings", path]).status.code(),
        Some(1)
    );
}

#[test]
fn several_errors_of_one_file_are_reported_in_one_run() {
    let dir = tempdir();
    let path = dir.join("many.scn");
    std::fs::write(&path, "scenario many {\n  start a\n  step a {\n    goto nowhere\n  }\n  step a {\n    goto elsewhere\n  }\n}\n").unwrap();
    let output = scenarist(&["lint", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["C101", "C102", "C101"]);
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let output = scenarist(&[
        "lint",
        "--format",
        "sarif",
        "tests/fixtures/lint/",
        "scenarios/",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let log: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_valid("tests/schemas/sarif-schema-2.1.0.json", &log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= fixtures("tests/fixtures/lint", "scn").len());
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), Code::ALL.len());
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
}

#[test]
fn json_output_matches_its_schema() {
    let output = scenarist(&[
        "lint",
        "--format",
        "json",
        "tests/fixtures/lint/",
        "scenarios/",
    ]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_valid("schemas/lint-report.schema.json", &report);
    assert!(report["summary"]["errors"].as_u64().unwrap() > 10);
}

#[test]
fn explain_documents_every_code() {
    for code in Code::ALL {
        let output = scenarist(&["lint", "--explain", code.id()]);
        assert_eq!(output.status.code(), Some(0), "{}", code.id());
        let text = stdout(&output);
        assert!(
            text.starts_with(&format!("{} {}", code.id(), code.name())),
            "{text}"
        );
        assert!(
            text.contains("## Why it matters") && text.contains("## Fix"),
            "{}: {text}",
            code.id()
        );
    }
    let by_name = scenarist(&["lint", "--explain", "unknown-step"]);
    assert!(stdout(&by_name).starts_with("C101 unknown-step"));
    let unknown = scenarist(&["lint", "--explain", "X999"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("unknown code `X999`"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn usage_and_io_failures_exit_two() {
    assert_eq!(scenarist(&["lint"]).status.code(), Some(2));
    assert_eq!(
        scenarist(&["lint", "--format", "xml", "scenarios/"])
            .status
            .code(),
        Some(2)
    );
    let missing = scenarist(&["lint", "no/such/dir"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no/such/dir"),
        "{}",
        stderr(&missing)
    );
    assert_eq!(
        scenarist(&["lint", "--config", "no/such.yaml", "scenarios/"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_broken_config_is_reported_like_a_lint_error() {
    for path in fixtures("tests/fixtures/config", "yaml") {
        let path = path.to_str().unwrap();
        let output = scenarist(&[
            "lint",
            "--config",
            path,
            "--format",
            "github",
            "scenarios/zendesk_handoff.scn",
        ]);
        let text = std::fs::read_to_string(path).unwrap();
        // A config that only warns (`W406`) loads: the scenario is then linted against it,
        // and its own findings decide the exit status.
        let errors = expectations(&text).iter().any(|(code, ..)| {
            Code::lookup(code)
                .is_some_and(|c| c.severity() == scenarist::diagnostic::Severity::Error)
        });
        if errors {
            assert_eq!(output.status.code(), Some(1), "{path}");
        }
        for (code, line, column) in expectations(&text) {
            let needle = format!("file={path},line={line},col={column},");
            assert!(
                stdout(&output).contains(&needle) && stdout(&output).contains(&code),
                "{path}: {}",
                stdout(&output)
            );
        }
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let path = "tests/fixtures/lint/C101_unknown_step.scn";
    let plain = scenarist(&["lint", path]);
    assert!(
        !stdout(&plain).contains('\u{1b}'),
        "piped output must not be coloured"
    );
    let forced = scenarist(&["lint", "--color", "always", path]);
    assert!(stdout(&forced).contains('\u{1b}'), "--color always colours");
}

#[test]
fn graph_renders_with_graphviz() {
    let output = scenarist(&["graph", "--format", "dot", "scenarios/zendesk_handoff.scn"]);
    assert_eq!(output.status.code(), Some(0));
    let mut dot = std::process::Command::new("dot")
        .arg("-Tsvg")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("Graphviz `dot` is needed for this test (apt-get install graphviz; .ci/run installs it)");
    std::io::Write::write_all(dot.stdin.as_mut().unwrap(), &output.stdout).unwrap();
    let svg = dot.wait_with_output().unwrap();
    assert!(
        svg.status.success(),
        "{}",
        String::from_utf8_lossy(&svg.stderr)
    );
    let svg = String::from_utf8_lossy(&svg.stdout);
    assert!(
        svg.contains("<svg") && svg.contains("ask_email") && svg.contains("timeout 15m"),
        "{svg}"
    );
}

#[test]
fn graph_of_a_broken_file_explains_and_fails() {
    let output = scenarist(&["graph", "tests/fixtures/lint/P002_unterminated_string.scn"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("P002"), "{}", stderr(&output));
}

#[test]
fn the_example_config_matches_its_schema() {
    let text =
        std::fs::read_to_string(crate::support::root().join("scenarios/scenarist.yaml")).unwrap();
    let config: serde_json::Value = serde_yaml::from_str(&text).unwrap();
    assert_valid("schemas/scenarist.schema.json", &config);
}

/// `scenarist … | head`: a command whose reader is gone stops quietly (exit 0, no panic
/// report). The pipe's read end is closed before the command starts, so every write fails.
#[test]
fn every_command_stops_quietly_when_its_output_is_no_longer_read() {
    let data = crate::support::tempdir();
    let chat_data = data.join("chat");
    let commands: Vec<(Vec<&str>, &str)> = vec![
        (vec!["lint", "--explain", "C101"], ""),
        (vec!["lint", "--format", "json", "scenarios/"], ""),
        (vec!["test", "--coverage", "scenarios/"], ""),
        (vec!["graph", "scenarios/ticket_sync.scn"], ""),
        (vec!["fmt", "--check", "scenarios/"], ""),
        (
            vec![
                "chat",
                "--data",
                chat_data.to_str().unwrap(),
                "scenarios/zendesk_handoff.scn",
            ],
            "hi\nada@example.com\n/history\n",
        ),
    ];
    for (args, input) in commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scenarist"))
            .args(&args)
            .current_dir(crate::support::root())
            .env("NO_COLOR", "1")
            .env_remove("SCENARIST_CONFIG")
            .stdin(std::process::Stdio::piped())
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // The command may stop before it reads everything: a failed write is fine.
        let _ = std::io::Write::write_all(&mut stdin, input.as_bytes());
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
