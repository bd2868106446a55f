//! No silent traps in the authoring tools (issue 12 §5): what used to pass or mislead
//! quietly now fails or says so — `scenarist test`'s checks and diffs, counts in summaries.

use crate::support::{root, scenarist, stdout, tempdir};

const SCENARIO: &str = r#"scenario traps {
  start welcome
  entry survey

  step welcome {
    set priority = "high"
    set count = 3
    set tags = ["a", "b"]
    set vip = true
    ask "Your order number?" {
      save contact.order_number
      timeout 15m then end
    }
    say "Noted "
    say "Line one\nLine two"
    handoff advisor
  }

  step survey {
    end
  }

  step welcome2 {
    goto welcome
  }
}
"#;

/// Writes the scenario and a test file with `tests` (YAML) beside it; runs `scenarist test`.
fn run(tests: &str) -> (Option<i32>, String) {
    let dir = tempdir();
    std::fs::write(dir.join("traps.scn"), SCENARIO).unwrap();
    let path = dir.join("traps.test.yaml");
    std::fs::write(&path, format!("scenario: traps.scn\ntests:\n{tests}")).unwrap();
    let output = scenarist(&["test", path.to_str().unwrap()]);
    (output.status.code(), stdout(&output))
}

#[test]
fn the_scenario_under_test_passes_as_written() {
    let (code, text) = run(r#"
  - name: as written
    contact: { fields: { vip: true } }
    transcript:
      - contact: Hi
        bot: [Your order number?]
      - contact: AB123456
        bot: ["Noted ", "Line one\nLine two"]
        fields: { order_number: AB123456 }
        variables: { priority: high, count: 3, tags: [a, b], vip: true }
      - advisor: Hello
      - return_to_bot: survey
"#);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("1 passed, 0 failed, in 1 file."), "{text}");
}

#[test]
fn a_return_to_a_step_that_does_not_exist_fails_the_test() {
    let (code, text) = run(r"
  - name: back to a missing step
    transcript:
      - contact: Hi
      - advisor: Hello
      - return_to_bot: survay
");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("✗ back to a missing step"), "{text}");
    assert!(
        text.contains("at entry 3 (return_to_bot: \"survay\")"),
        "{text}"
    );
    assert!(
        text.contains("the scenario `traps` has no step `survay`; did you mean `survey`?"),
        "{text}"
    );
    let (code, text) = run(r"
  - name: back to a step that is not an entry point
    transcript:
      - contact: Hi
      - advisor: Hello
      - return_to_bot: welcome2
");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("`welcome2` is not an entry point of the scenario `traps`, so an advisor cannot return there; its entry points are welcome, survey"),
        "{text}"
    );
}

#[test]
fn an_undeclared_contact_field_is_an_error_with_a_did_you_mean() {
    let (code, text) = run(r"
  - name: starts with a misspelt field
    contact: { fields: { emial: ada@example.com } }
    transcript:
      - contact: Hi
");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("`contact: {fields: …}` names the contact field `emial`, which the config does not declare; did you mean `email`?"),
        "{text}"
    );
    let (code, text) = run(r"
  - name: expects a misspelt field
    transcript:
      - contact: Hi
      - contact: AB123456
        fields: { order_numbr: AB123456 }
");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("`fields:` names the contact field `order_numbr`, which the config does not declare; did you mean `order_number`?"),
        "{text}"
    );
}

#[test]
fn values_in_diffs_are_written_as_in_a_scenario() {
    let (code, text) = run(r"
  - name: wrong values
    transcript:
      - contact: Hi
      - contact: AB123456
        variables: { priority: low, count: 4, tags: [a], vip: false }
");
    assert_eq!(code, Some(1), "{text}");
    for (expected, actual) in [
        ("\"low\"", "\"high\""),
        ("4", "3"),
        ("[\"a\"]", "[\"a\", \"b\"]"),
        ("false", "true"),
    ] {
        assert!(
            text.contains(&format!("- {expected}\n")),
            "{expected}: {text}"
        );
        assert!(text.contains(&format!("+ {actual}\n")), "{actual}: {text}");
    }
    for debug in ["Number(", "Text(", "List(", "Bool("] {
        assert!(!text.contains(debug), "{text}");
    }
}

#[test]
fn whitespace_differences_are_made_visible() {
    let (code, text) = run(r"
  - name: spaces and lines
    transcript:
      - contact: Hi
      - contact: AB123456
        bot: [Noted, Line one, Line two]
");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("- Noted\n"), "{text}");
    assert!(
        text.contains("+ Noted·\n"),
        "a trailing space shows: {text}"
    );
    assert!(
        text.contains("+ Line one⏎Line two\n"),
        "one message over two lines is not two messages: {text}"
    );
}

#[test]
fn counts_are_singular_for_one() {
    let dir = tempdir();
    let file = dir.join("one.scn");
    std::fs::copy(root().join("scenarios/order_status.scn"), &file).unwrap();
    let file = file.to_str().unwrap();
    let lint = stdout(&scenarist(&["lint", file]));
    assert!(
        lint.contains("1 file checked: no problems found."),
        "{lint}"
    );
    let fmt = stdout(&scenarist(&["fmt", "--check", file]));
    assert!(
        fmt.contains("1 file checked: 0 would be reformatted"),
        "{fmt}"
    );
    let (_, test) = run(r"
  - name: one point of coverage is enough to count
    transcript:
      - contact: Hi
");
    assert!(test.contains("1 passed, 0 failed, in 1 file."), "{test}");
}

/// The quick start's first screen: `serve --dev` on the example workspace warns of nothing
/// (its second Zendesk organization used to be an OAuth one never connected). The copy only
/// moves the sandboxes to free ports, so that tests running alongside cannot collide.
#[test]
fn serve_dev_on_the_example_workspace_starts_without_a_warning() {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    let dir = tempdir();
    let scenarios = dir.join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, scenarios.join(path.file_name().unwrap())).unwrap();
        }
    }
    let config = scenarios.join("scenarist.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("127.0.0.1:8788"),
        "the example's sandbox moved"
    );
    let text = text
        .replace("127.0.0.1:8788", "127.0.0.1:0")
        .replace("127.0.0.1:8789", "127.0.0.1:0");
    std::fs::write(&config, text).unwrap();
    let log = dir.join("serve.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_scenarist"))
        .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env_remove("SCENARIST_API_TOKEN")
        .env_remove("SCENARIST_LOG")
        .env_remove("SCENARIST_CONFIG")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut screen = String::new();
    for line in std::io::BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        screen.push_str(&line);
        screen.push('\n');
        if line.starts_with("Ctrl-C stops it") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(screen.contains("Ctrl-C stops it"), "{screen}\n{log}");
    assert!(
        !log.contains("WARN") && !log.to_lowercase().contains("warning"),
        "{log}"
    );
    assert!(
        screen.contains("Zendesk sandbox `acme_shop`"),
        "both organizations are sandboxes: {screen}"
    );
}

/// A transcript test names files to read: they stay in the test file's folder (a test file
/// from a pull request must not make CI print `/etc/shadow`), symbolic links followed.
#[test]
fn a_test_file_cannot_make_the_harness_read_outside_its_folder() {
    let dir = crate::support::tempdir();
    let inner = dir.join("inner");
    std::fs::create_dir(&inner).unwrap();
    std::fs::write(
        dir.join("secret.scn"),
        "scenario secret {\n  start a\n  step a {\n    say \"TOP SECRET TEXT\"\n    end\n  }\n}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.join("secret.scn"), inner.join("link.scn")).unwrap();
    let test = |scenario: &str, config: &str| {
        std::fs::write(
            inner.join("t.test.yaml"),
            format!(
                "scenario: {scenario}\n{config}tests:\n  - name: x\n    transcript:\n      - contact: hi\n"
            ),
        )
        .unwrap();
        crate::support::scenarist(&["test", inner.to_str().unwrap()])
    };
    for (scenario, config, key) in [
        ("../secret.scn", "", "scenario"),
        ("link.scn", "", "scenario"),
        ("link.scn", "config: ../../etc/passwd\n", "config"),
    ] {
        let output = test(scenario, config);
        let shown = crate::support::stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{shown}");
        assert!(shown.contains(&format!("`{key}: ")), "{shown}");
        assert!(
            shown.contains("leads outside the test file's folder"),
            "{shown}"
        );
        assert!(!shown.contains("TOP SECRET"), "{shown}");
        assert!(!shown.contains("root:"), "{shown}");
    }
}
