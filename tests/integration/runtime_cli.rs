//! The runtime's commands as people and scripts use them: `test`, `chat` (scripted, and
//! resumed after a restart), `pipe`, and `store export|import`.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::support::{root, scenarist, stderr, stdout, tempdir};

pub(crate) fn run_with_input(args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scenarist"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_shipped_transcripts_pass_with_full_coverage() {
    let output = scenarist(&["test", "--coverage", "scenarios/"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("0 failed, in 8 files."), "{text}");
    assert_eq!(text.matches("(100%)").count(), 8, "{text}");
}

#[test]
fn a_wrong_expectation_fails_with_a_diff() {
    let dir = tempdir();
    let original =
        std::fs::read_to_string(root().join("scenarios/zendesk_handoff.test.yaml")).unwrap();
    // Beside the test file: a test file reads only from its own folder.
    std::fs::copy(
        root().join("scenarios/zendesk_handoff.scn"),
        dir.join("zendesk_handoff.scn"),
    )
    .unwrap();
    let wrong = original.replacen(
        "- Thank you, I saved ada@example.com.",
        "- Thanks, saved.",
        1,
    );
    let path = dir.join("wrong.test.yaml");
    std::fs::write(&path, wrong).unwrap();
    let output = scenarist(&["test", path.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("✗ a new contact gives a valid email and is handed to the Zendesk team"),
        "{text}"
    );
    assert!(
        text.contains("at entry 2 (contact: \"ada@example.com\")"),
        "{text}"
    );
    assert!(
        text.contains("- Thanks, saved.") && text.contains("+ Thank you, I saved ada@example.com."),
        "{text}"
    );
    assert!(text.contains("5 passed, 1 failed"), "{text}");
}

#[test]
fn broken_test_files_and_scenarios_are_reported() {
    let dir = tempdir();
    std::fs::write(dir.join("bad.test.yaml"), "scenario: x.scn\ntests: [\n").unwrap();
    std::fs::write(
        dir.join("broken.scn"),
        "scenario broken { start a step a { goto nowhere } }",
    )
    .unwrap();
    std::fs::write(
        dir.join("broken.test.yaml"),
        "scenario: broken.scn\ntests: []\n",
    )
    .unwrap();
    let output = scenarist(&["test", dir.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("not a valid test file"), "{text}");
    assert!(
        text.contains("the scenario has errors") && text.contains("C101"),
        "{text}"
    );
    assert_eq!(scenarist(&["test", "no/such/dir"]).status.code(), Some(2));
}

#[test]
fn chat_is_scriptable_and_resumes_after_a_restart() {
    let data = tempdir().join("chat");
    let data = data.to_str().unwrap();
    let args = ["chat", "--data", data, "scenarios/zendesk_handoff.scn"];
    let first = run_with_input(&args, "Hi\nnot an email\n/quit\n");
    let text = stdout(&first);
    assert!(first.status.success(), "{text}");
    assert!(text.contains("bot: What is your email address?"), "{text}");
    assert!(
        text.contains("bot: \"not an email\" does not look like an email address."),
        "{text}"
    );
    assert!(
        !text.contains("you>"),
        "no prompt when stdin is not a terminal"
    );

    let second = run_with_input(&args, "ada@example.com\n/history\n");
    let text = stdout(&second);
    assert!(
        text.contains("Resuming the conversation: waiting for your answer in step `ask_email`."),
        "{text}"
    );
    assert!(
        text.contains("bot: Thank you, I saved ada@example.com."),
        "{text}"
    );
    assert!(
        text.contains("you: Hi") && text.contains("(routed to team Zendesk)"),
        "history: {text}"
    );

    let third = run_with_input(&args, "/return ask_email\n/wait 15m\n");
    let text = stdout(&third);
    assert!(text.contains("(15m later)"), "{text}");
    assert!(
        text.contains("bot: An advisor will answer you here in a moment."),
        "the timeout fired: {text}"
    );
}

/// The quick start: the example config's `acme` is a sandbox, so a chat on `facebook:acme`
/// gets a real ticket over HTTP, kept in the data directory across restarts.
#[test]
fn chat_on_the_example_config_creates_its_ticket_in_the_sandbox_and_keeps_it() {
    let dir = tempdir().join("chat");
    let data = dir.to_str().unwrap();
    let args = [
        "chat",
        "--data",
        data,
        "--account",
        "facebook:acme",
        "scenarios/zendesk_handoff.scn",
    ];
    let first = run_with_input(&args, "Hi\nada@example.com\n");
    let text = stdout(&first);
    assert!(first.status.success(), "{text}");
    assert!(
        text.contains("Zendesk sandbox `acme` at http://127.0.0.1:"),
        "{text}"
    );
    assert!(text.contains("(Zendesk: ticket #4001 created"), "{text}");

    let second = run_with_input(&args, "Still there?\n/ticket\n");
    let text = stdout(&second);
    assert!(
        text.contains("ticket #4001 (new) Conversation with Ada Lovelace on facebook:acme"),
        "the restarted sandbox still has the ticket: {text}"
    );
    assert!(
        text.contains("      Still there?"),
        "the new message is a comment: {text}"
    );

    let saved: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("zendesk-sandbox-acme.json")).unwrap(),
    )
    .unwrap();
    let tickets = saved["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 1, "one ticket across both runs");
    assert_eq!(tickets[0]["external_id"], "scenarist-chat:zendesk_handoff");
    assert_eq!(tickets[0]["comments"].as_array().unwrap().len(), 2);
}

#[test]
fn pipe_answers_each_line_and_store_export_import_round_trips() {
    let dir = tempdir();
    let data = dir.join("data");
    let messages = [
        r#"{"account":"facebook:acme","conversation":"c1","message_id":"m1","contact":{"id":"u1","name":"Ada"},"text":"Hi"}"#,
        r#"{"account":"facebook:acme","conversation":"c1","message_id":"m2","contact":{"id":"u1","name":"Ada"},"text":"ada@example.com"}"#,
        r#"{"account":"nope:x","conversation":"c2","message_id":"m1","contact":{"id":"u2"},"text":"Hi"}"#,
    ];
    let output = run_with_input(
        &["pipe", "--data", data.to_str().unwrap(), "scenarios/"],
        &(messages.join("\n") + "\n"),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 3);
    let second = answers
        .iter()
        .find(|a| a["message_id"] == "m2" && a["conversation"] == "c1")
        .unwrap();
    assert_eq!(second["team"], "Zendesk");
    assert_eq!(second["status"], "with_advisor");
    assert!(answers.iter().any(|a| {
        a["error"]
            .as_str()
            .is_some_and(|e| e.contains("no scenario runs on account `nope:x`"))
    }));

    let backup = dir.join("backup.jsonl");
    // A link planted where the old writer put its `.partial` file is not written through.
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "untouched").unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("backup.partial")).unwrap();
    let export = scenarist(&[
        "store",
        "export",
        "--data",
        data.to_str().unwrap(),
        "--output",
        backup.to_str().unwrap(),
    ]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&backup).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "a backup holds every contact's data");
    let restored = dir.join("restored");
    let import = scenarist(&[
        "store",
        "import",
        "--data",
        restored.to_str().unwrap(),
        backup.to_str().unwrap(),
    ]);
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let again = scenarist(&["store", "export", "--data", restored.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(&backup).unwrap(),
        stdout(&again),
        "the restored store exports the same records"
    );
    let twice = scenarist(&[
        "store",
        "import",
        "--data",
        restored.to_str().unwrap(),
        backup.to_str().unwrap(),
    ]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("not empty"));

    // A mistyped folder is an error, not a new empty store and an empty backup.
    let typo = dir.join("restord");
    let missing = scenarist(&["store", "export", "--data", typo.to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains("there is no store in"),
        "{}",
        stderr(&missing)
    );
    assert!(stdout(&missing).is_empty());
    assert!(!typo.exists(), "no store is created by an export");
}

/// One rule for the data directory: without `--data`, every command keeps its state in the
/// config's `data_dir`, relative to the config's folder (not the current one).
#[test]
fn commands_without_data_use_the_configs_data_dir() {
    let dir = tempdir();
    let workspace = dir.join("workspace");
    std::fs::create_dir(&workspace).unwrap();
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, workspace.join(path.file_name().unwrap())).unwrap();
    }
    let config = workspace.join("scenarist.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("data_dir: ../scenarist-data", "data_dir: state"),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let message = r#"{"account":"facebook:acme","conversation":"c1","message_id":"m1","contact":{"id":"u1","name":"Ada"},"text":"Hi"}"#;
    let piped = run_with_input(
        &["pipe", "--config", config, workspace.to_str().unwrap()],
        &format!("{message}\n"),
    );
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    assert!(
        workspace.join("state").join("db").exists(),
        "pipe kept its state elsewhere than the config's data_dir"
    );
    let export = scenarist(&["store", "export", "--config", config]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    assert!(
        stdout(&export).contains("\"c1\""),
        "the export read another store: {}",
        stdout(&export)
    );
    let listed = scenarist(&["outbox", "list", "--config", config]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let shown = scenarist(&["contact", "show", "--config", config, "facebook:acme", "u1"]);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
}

/// `chat --at` sets the clock (opening hours are tried at any time of day) and `--field`
/// gives the contact fields a channel would.
#[test]
fn chat_starts_at_a_chosen_time_with_the_contacts_fields() {
    let data = tempdir().join("chat");
    let data = data.to_str().unwrap();
    let args = [
        "chat",
        "--data",
        data,
        "--at",
        "2026-12-05T19:30:00+01:00",
        "--field",
        "phone=+33 6 12 34 56 78",
        "scenarios/after_hours.scn",
    ];
    let output = run_with_input(&args, "Hello\ncall me back\n");
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("we open again Monday at 09:00"), "{text}");
    assert!(
        text.contains("We will call you back at +33 6 12 34 56 78 Monday at 09:00."),
        "{text}"
    );

    let open = tempdir().join("chat");
    let open = open.to_str().unwrap();
    let output = run_with_input(
        &[
            "chat",
            "--data",
            open,
            "--at",
            "2026-12-07T10:00:00+01:00",
            "scenarios/after_hours.scn",
        ],
        "Hello\n",
    );
    assert!(
        stdout(&output).contains("An advisor will answer you in a moment."),
        "{}",
        stdout(&output)
    );

    let wrong = run_with_input(
        &[
            "chat",
            "--data",
            open,
            "--field",
            "phnoe=1",
            "scenarios/after_hours.scn",
        ],
        "",
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        stdout(&wrong).contains("did you mean `phone`?"),
        "{}",
        stdout(&wrong)
    );
    let late = run_with_input(
        &[
            "chat",
            "--data",
            open,
            "--at",
            "saturday",
            "scenarios/after_hours.scn",
        ],
        "",
    );
    assert_eq!(late.status.code(), Some(2));
    assert!(
        stdout(&late).contains("is not a time with its offset"),
        "{}",
        stdout(&late)
    );
}

/// A transcript sees the same variant of `say one of` on every run (the harness's
/// conversation id is fixed), and expects rich messages in their one-line form.
#[test]
fn transcripts_see_a_fixed_variant_and_rich_messages() {
    let dir = tempdir();
    std::fs::write(
        dir.join("rich.scn"),
        r#"scenario rich {
  start welcome

  step welcome {
    say one of "Hello!", "Hi there!", "Welcome!", "Good day!"
    link "Track it" "https://acme.example/t/{contact.order_number}"
    image "https://acme.example/map.png" "Map"
    end
  }
}
"#,
    )
    .unwrap();
    let test = |greeting: &str| {
        format!(
            r#"scenario: rich.scn
tests:
  - name: greeted
    contact: {{ fields: {{ order_number: AB 1 }} }}
    transcript:
      - contact: hi
        bot:
          - "{greeting}"
          - "link: Track it -> https://acme.example/t/AB%201"
          - "image: Map -> https://acme.example/map.png"
"#
        )
    };
    // FNV-1a of "transcript", the step and the index, modulo 4, is 1: "Hi there!".
    let path = dir.join("rich.test.yaml");
    std::fs::write(&path, test("Hi there!")).unwrap();
    for _ in 0..2 {
        let output = scenarist(&["test", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    }
    std::fs::write(&path, test("Hello!")).unwrap();
    let output = scenarist(&["test", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("+ Hi there!"),
        "{}",
        stdout(&output)
    );
}
