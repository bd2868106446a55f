//! `scenarist contact export|erase` on a data directory `pipe` wrote: the export holds the
//! contact and its conversation's texts, the erasure removes them and says so, and both run
//! again without an error (nothing stored, nothing to erase).

use serde_json::Value;

use crate::runtime_cli::run_with_input;
use crate::support::{scenarist, stdout, tempdir};

#[test]
fn a_contact_is_exported_then_erased_on_a_stopped_service() {
    let data = tempdir().join("data");
    let data = data.to_str().unwrap();
    let config = "scenarios/scenarist.yaml";
    let messages = [
        r#"{"account":"facebook:acme","conversation":"c1","message_id":"m1","contact":{"id":"u1","name":"Ada"},"text":"Hello from Ada"}"#,
        r#"{"account":"facebook:acme","conversation":"c2","message_id":"m1","contact":{"id":"u2","name":"Bob"},"text":"Hello from Bob"}"#,
    ];
    let piped = run_with_input(
        &["pipe", "--config", config, "--data", data, "scenarios/"],
        &format!("{}\n", messages.join("\n")),
    );
    assert!(
        piped.status.success(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );

    let contact = |command: &str, id: &str| {
        scenarist(&[
            "contact",
            command,
            "--config",
            config,
            "--data",
            data,
            "facebook:acme",
            id,
        ])
    };
    let exported = contact("export", "u1");
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let document: Value = serde_json::from_str(&stdout(&exported)).unwrap();
    assert_eq!(document["contact"]["name"], "Ada", "{document}");
    assert_eq!(
        document["conversations"][0]["record"]["id"], "c1",
        "{document}"
    );
    assert!(
        document.to_string().contains("Hello from Ada"),
        "{document}"
    );
    assert!(
        !document.to_string().contains("Bob"),
        "another contact's data: {document}"
    );

    let erased = contact("erase", "u1");
    let said = stdout(&erased);
    assert!(erased.status.success(), "{said}");
    assert!(said.contains("Erased u1 on facebook:acme"), "{said}");
    assert!(said.contains("conversation c1"), "{said}");

    let again = contact("export", "u1");
    assert_eq!(again.status.code(), Some(2), "{}", stdout(&again));
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing is stored"));
    let twice = contact("erase", "u1");
    assert!(twice.status.success());
    assert!(
        stdout(&twice).contains("nothing to erase"),
        "{}",
        stdout(&twice)
    );
    // The other contact is untouched.
    let other = contact("export", "u2");
    assert!(
        stdout(&other).contains("Hello from Bob"),
        "{}",
        stdout(&other)
    );
}
