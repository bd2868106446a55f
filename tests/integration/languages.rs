//! Scenarios in several languages through the command line: transcripts and coverage per
//! language, `chat --lang`, and the graph in the default language.

use crate::runtime_cli::run_with_input;
use crate::support::{root, scenarist, stderr, stdout, tempdir};

/// The bilingual example's transcripts, in a temporary folder, without the tests whose name
/// contains `drop`.
fn bilingual_tests_without(drop: &str) -> std::path::PathBuf {
    let dir = tempdir();
    let original = std::fs::read_to_string(root().join("scenarios/bilingual.test.yaml")).unwrap();
    // Beside the test file: a test file reads only from its own folder.
    std::fs::copy(
        root().join("scenarios/bilingual.scn"),
        dir.join("bilingual.scn"),
    )
    .unwrap();
    let mut kept = String::new();
    for (index, test) in original.split("\n  - name: ").enumerate() {
        if index == 0 {
            kept.push_str(test);
        } else if !test.starts_with(drop) {
            kept.push_str("\n  - name: ");
            kept.push_str(test);
        }
    }
    let path = dir.join("bilingual.test.yaml");
    std::fs::write(&path, kept).unwrap();
    path
}

#[test]
fn coverage_counts_each_text_bearing_point_once_per_language() {
    let all = bilingual_tests_without("(none)");
    let output = scenarist(&["test", "--coverage", all.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("(100%)"), "{text}");

    let path = bilingual_tests_without("no answer to the order number in English");
    let output = scenarist(&["test", "--coverage", path.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("the question in step `order` never timed out in `en`"),
        "{text}"
    );
    assert!(
        !text.contains("never timed out in `fr`"),
        "French still covers it: {text}"
    );
}

#[test]
fn a_test_in_a_language_the_scenario_does_not_speak_fails() {
    let dir = tempdir();
    let path = dir.join("de.test.yaml");
    std::fs::copy(
        root().join("scenarios/bilingual.scn"),
        dir.join("bilingual.scn"),
    )
    .unwrap();
    std::fs::write(
        &path,
        "scenario: bilingual.scn\ntests:\n  - name: german\n    language: de\n    transcript:\n      - contact: Hallo\n",
    )
    .unwrap();
    let output = scenarist(&["test", path.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("is not written in `de`; its languages are fr, en"),
        "{text}"
    );
}

#[test]
fn chat_lang_runs_the_conversation_in_that_language() {
    let data = tempdir().join("chat");
    let data = data.to_str().unwrap();
    let args = [
        "chat",
        "--data",
        data,
        "--lang",
        "en",
        "scenarios/bilingual.scn",
    ];
    let output = run_with_input(&args, "Hi\ntalk to someone\n");
    let text = stdout(&output);
    assert!(output.status.success(), "{text}{}", stderr(&output));
    assert!(text.contains("bot: Hello Ada!"), "{text}");
    assert!(text.contains("How can I help you?"), "{text}");
    assert!(
        text.contains("bot: An advisor will reply here, in English."),
        "{text}"
    );

    let french = tempdir().join("chat");
    let args = [
        "chat",
        "--data",
        french.to_str().unwrap(),
        "scenarios/bilingual.scn",
    ];
    let text = stdout(&run_with_input(&args, "Bonjour\n"));
    assert!(
        text.contains("bot: Bonjour Ada !"),
        "without --lang: {text}"
    );
}

#[test]
fn chat_lang_refuses_a_language_the_scenario_does_not_speak() {
    let data = tempdir().join("chat");
    let data = data.to_str().unwrap();
    for (file, expected) in [
        ("scenarios/bilingual.scn", "its languages are fr, en"),
        ("scenarios/order_status.scn", "declares no languages"),
    ] {
        let args = ["chat", "--data", data, "--lang", "de", file];
        let output = run_with_input(&args, "Hi\n");
        assert_eq!(output.status.code(), Some(2), "{file}");
        assert!(
            stderr(&output).contains(expected),
            "{file}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn the_graph_names_choices_in_the_default_language() {
    let output = scenarist(&["graph", "scenarios/bilingual.scn"]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("choice #quot;Suivre ma commande#quot;"),
        "{text}"
    );
    assert!(!text.contains("Track my order"), "{text}");
}
