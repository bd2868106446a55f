//! The checks of writes and computed values, on small scenarios against the example config.

use crate::config::Workspace;
use crate::diagnostic::Code;
use crate::source::SourceFile;
use crate::syntax::parse;

/// The codes and messages of a step body's findings.
fn findings(body: &str) -> Vec<(Code, String)> {
    let source = format!("scenario s {{\n  start a\n  step a {{\n{body}\n    end\n  }}\n}}\n");
    let parsed = parse(&SourceFile::new("t.scn", source.as_str())).unwrap();
    let workspace = Workspace::default_workspace().unwrap();
    super::check(&parsed, &workspace)
        .into_iter()
        .map(|d| (d.code, d.message))
        .collect()
}

fn codes(body: &str) -> Vec<Code> {
    findings(body).into_iter().map(|(code, _)| code).collect()
}

#[test]
fn declared_contact_fields_and_the_tickets_values_can_be_set() {
    let clean = r#"
    set contact.language = "fr"
    set contact.order_number = upper(trim(" a-12 "))
    set contact.vip = true
    set ticket.priority = "urgent"
    set ticket.tags = ["order", lower(contact.name)]
    set ticket.group_id = 360001
    set ticket.fields.order_number = contact.order_number"#;
    assert_eq!(findings(clean), []);
}

#[test]
fn writing_what_cannot_be_written_says_why() {
    assert_eq!(codes(r#"    set contact.id = "x""#), [Code::ReadOnlyTarget]);
    assert_eq!(
        codes(r#"    set conversation.id = "x""#),
        [Code::ReadOnlyTarget]
    );
    let found = findings(r#"    set contact.langage = "fr""#);
    assert_eq!(found[0].0, Code::UnknownField);
    let found = findings(r#"    set ticket.prority = "high""#);
    assert_eq!(found[0].0, Code::UnknownField);
    assert_eq!(
        codes(r#"    set ticket.fields.nope = "x""#),
        [Code::UnknownField]
    );
    // An email is checked when typed: a plain text does not become one.
    let found = findings(r#"    set contact.email = "ada@example.com""#);
    assert_eq!(found[0].0, Code::TypeMismatch, "{found:?}");
    assert!(found[0].1.contains("an email"), "{found:?}");
    assert_eq!(
        codes(r#"    set contact.vip = "yes""#),
        [Code::TypeMismatch]
    );
    assert_eq!(
        codes(r#"    set ticket.tags = "order""#),
        [Code::TypeMismatch]
    );
    assert_eq!(
        codes(r#"    set ticket.priority = "asap""#),
        [Code::InvalidValue]
    );
}

#[test]
fn arithmetic_and_functions_are_typed() {
    assert_eq!(codes("    set n = 1 + 2 * 3\n    say \"{n}\""), []);
    let found = findings("    set n = contact.name + 1\n    say \"{n}\"");
    assert_eq!(found[0].0, Code::TypeMismatch);
    assert!(
        found[0].1.contains("`+` computes with numbers"),
        "{found:?}"
    );
    assert_eq!(
        codes("    say \"{lowercase(contact.name)}\""),
        [Code::UnknownFunction]
    );
    assert_eq!(codes("    say \"{round(1)}\""), [Code::FunctionArguments]);
    assert_eq!(codes("    say \"{round(\"1\", 2)}\""), [Code::TypeMismatch]);
    assert_eq!(
        codes("    if contains(contact.name, \"a\") { say \"a\" }"),
        []
    );
    assert_eq!(
        codes("    if length(contact.name) { say \"a\" }"),
        [Code::TypeMismatch]
    );
}

#[test]
fn schedules_are_names_of_the_config() {
    assert_eq!(
        codes("    if open support { say \"{next_open(support)}\" }"),
        []
    );
    assert_eq!(
        codes("    if open suport { say \"a\" }"),
        [Code::UnknownSchedule]
    );
    assert_eq!(
        codes("    say \"{next_open(\"support\")}\""),
        [Code::FunctionArguments]
    );
    assert_eq!(
        codes("    if weekday(support) == \"sunday\" and hour(support) < 9 { say \"a\" }"),
        []
    );
    assert_eq!(
        codes("    if today(support) >= \"2026-12-24\" { say \"a\" }"),
        []
    );
    // A schedule's name is not a variable read.
    assert_eq!(
        codes("    say \"{next_open(nope)}\""),
        [Code::UnknownSchedule]
    );
}

#[test]
fn a_bad_pattern_used_twice_is_reported_at_each_place() {
    let source = "scenario s {\n  start a\n  step a {\n    if contact.name matches /(/ { say \"x\" }\n    if contact.name matches /(/ { say \"y\" }\n    end\n  }\n}\n";
    let parsed = parse(&SourceFile::new("t.scn", source)).unwrap();
    let workspace = Workspace::default_workspace().unwrap();
    let spans: Vec<_> = super::check(&parsed, &workspace)
        .into_iter()
        .filter(|d| d.code == Code::InvalidRegex)
        .map(|d| d.primary.span)
        .collect();
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert_ne!(spans[0], spans[1], "each occurrence at its own place");
}

#[test]
fn entry_points_and_hooks_are_roots_of_the_flow() {
    let check = |source: &str| -> Vec<Code> {
        let parsed = parse(&SourceFile::new("t.scn", source)).unwrap();
        super::check(&parsed, &Workspace::default_workspace().unwrap())
            .into_iter()
            .map(|d| d.code)
            .collect()
    };
    // A survey reached only by an advisor's return or by closing is not "never reached".
    let clean = "scenario s {\n  start a\n  entry survey\n  on close goto thanks\n  on resume goto a\n  step a {\n    end\n  }\n  step survey {\n    end\n  }\n  step thanks {\n    end\n  }\n}\n";
    assert_eq!(check(clean), []);
    let unknown = "scenario s {\n  start a\n  entry survy\n  on close goto nowhere\n  step a {\n    end\n  }\n  step survey {\n    end\n  }\n}\n";
    let codes = check(unknown);
    assert_eq!(
        codes.iter().filter(|c| **c == Code::UnknownStep).count(),
        2,
        "{codes:?}"
    );
    let twice = "scenario s {\n  start a\n  on close goto a\n  on close goto a\n  step a {\n    end\n  }\n}\n";
    assert_eq!(check(twice), [Code::DuplicateDeclaration]);
    // A variable set before the handoff may be unset when an advisor hands back at an entry.
    let unset = "scenario s {\n  start a\n  entry b\n  step a {\n    set topic = \"x\"\n    goto b\n  }\n  step b {\n    say \"{topic}\"\n    end\n  }\n}\n";
    assert_eq!(check(unset), [Code::PossiblyUnsetVariable]);
}

/// An `ask` with these options and the bounds every checked `ask` needs.
fn ask_codes(options: &str) -> Vec<Code> {
    codes(&format!(
        "    ask \"Q\" {{\n      {options}\n      attempts 2 then end\n      timeout 1h then end\n    }}"
    ))
}

#[test]
fn ranges_that_hold_no_answer_are_errors() {
    assert_eq!(ask_codes("expect integer 1..5"), []);
    assert_eq!(ask_codes("expect number 0.5..0.5"), []);
    assert_eq!(ask_codes("expect number 5..1"), [Code::InvalidRange]);
    assert_eq!(ask_codes("expect integer 1.2..1.8"), [Code::InvalidRange]);
    assert_eq!(ask_codes("expect email 1..5"), [Code::InvalidRange]);
    assert_eq!(ask_codes("expect nombre 1..5"), [Code::UnknownValidator]);
}

#[test]
fn repeated_values_and_answers_are_errors_compared_as_answers_are() {
    assert_eq!(
        ask_codes(r#"choice "A" = "fr" choice "B" = "FR ""#),
        [Code::DuplicateChoiceValue]
    );
    assert_eq!(
        ask_codes(r#"expect one of "Oui", "non", "oui""#),
        [Code::DuplicateChoiceValue]
    );
    assert_eq!(ask_codes(r#"choice "A" = "fr" choice "B" = "en""#), []);
}

#[test]
fn a_pattern_after_the_same_or_a_catch_all_one_is_shadowed() {
    let asked = |options: &str| {
        codes(&format!(
            "    ask \"Q\" {{\n      {options}\n      timeout 1h then end\n    }}"
        ))
    };
    assert_eq!(asked("when /a/ -> a when /b/i -> a"), []);
    assert_eq!(
        asked("when /a/ -> a when /a/ -> a"),
        [Code::ShadowedPattern]
    );
    assert_eq!(
        asked("when /x*/ -> a when /b/ -> a"),
        [Code::ShadowedPattern]
    );
    assert_eq!(asked("when /^$/ -> a when /b/ -> a"), []);
    assert_eq!(asked("when /(/ -> a"), [Code::InvalidRegex]);
}

#[test]
fn the_escape_target_must_exist_and_the_escape_is_declared_once() {
    let check = |items: &str| {
        let source = format!("scenario s {{\n  {items}\n  start a\n  step a {{ end }}\n}}\n");
        let parsed = parse(&SourceFile::new("t.scn", source.as_str())).unwrap();
        let workspace = Workspace::default_workspace().unwrap();
        super::check(&parsed, &workspace)
            .into_iter()
            .map(|d| d.code)
            .collect::<Vec<_>>()
    };
    assert_eq!(check(r#"escape "agent" -> a"#), []);
    assert_eq!(check(r#"escape "agent" -> handoff advisor"#), []);
    assert_eq!(check(r#"escape "agent" -> nowhere"#), [Code::UnknownStep]);
    assert_eq!(
        check(r#"escape "agent" -> a escape "human" -> a"#),
        [Code::DuplicateDeclaration]
    );
}

#[test]
fn a_choice_taken_by_the_escape_words_is_reported() {
    let check = |options: &str| {
        let source = format!(
            "scenario s {{\n  escape \"agent\" -> handoff advisor\n  start a\n  step a {{\n    ask \"Q\" {{ {options} attempts 2 then end timeout 1h then end }}\n    end\n  }}\n}}\n"
        );
        let parsed = parse(&SourceFile::new("t.scn", source.as_str())).unwrap();
        let workspace = Workspace::default_workspace().unwrap();
        super::check(&parsed, &workspace)
            .into_iter()
            .map(|d| d.code)
            .collect::<Vec<_>>()
    };
    assert_eq!(check(r#"choice "Other""#), []);
    assert_eq!(check(r#"choice " AGÉNT ""#), [Code::EscapeHidesAnswer]);
    assert_eq!(
        check(r#"expect one of "yes", "Agent""#),
        [Code::EscapeHidesAnswer]
    );
}

#[test]
fn a_choice_value_is_a_text_for_the_field_it_is_saved_into() {
    let options = r#"choice "Yes" = "1" choice "No" = "0""#;
    assert_eq!(ask_codes(&format!("{options} save contact.language")), []);
    assert_eq!(
        ask_codes(&format!("{options} save contact.vip")),
        [Code::ValidatorTypeMismatch]
    );
}

#[test]
fn answers_to_compare_with_are_written_out() {
    assert_eq!(
        ask_codes(r#"choice "A" = "{contact.name}" choice "B""#),
        [Code::ComputedAnswer]
    );
    assert_eq!(
        ask_codes(r#"expect one of "yes", "{contact.name}""#),
        [Code::ComputedAnswer]
    );
}

#[test]
fn links_and_images_with_http_urls_are_clean_everywhere() {
    let clean = r#"
    say one of "Hello!", "Hi {contact.first_name or "there"}!"
    link "Track it" "https://acme.example/t/{contact.order_number}"
    link "Help" "HTTP://acme.example/help?x=1"
    image "https://acme.example/map.png" "Map of the shop""#;
    assert_eq!(findings(clean), []);
}

#[test]
fn a_url_must_be_http_or_https_written_out() {
    for bad in [
        "javascript:alert(1)",
        "acme.example/t",
        "https://",
        "{contact.order_number}",
        "ftp://acme.example/file",
    ] {
        let found = findings(&format!("    link \"Go\" \"{bad}\""));
        assert_eq!(
            found.iter().map(|f| f.0).collect::<Vec<_>>(),
            [Code::InvalidUrl],
            "{bad}: {found:?}"
        );
    }
    assert_eq!(codes(r#"    image "mailto:a@b.c" "A""#), [Code::InvalidUrl]);
}

#[test]
fn a_card_is_reported_only_for_channels_that_cannot_show_it() {
    // Unattached: checked against every channel; instagram and whatsapp show no cards.
    let found = findings(r#"    card "Order" { link "Track" "https://acme.example/t" }"#);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Code::UnsupportedRichMessage);
    assert!(found[0].1.contains("instagram, whatsapp"), "{found:?}");
    // `after_hours` runs on webchat only, which shows cards.
    let source = "scenario after_hours {\n  start a\n  step a {\n    card \"Order\" { text \"Shipped\" image \"https://acme.example/p.png\" \"Parcel\" }\n    end\n  }\n}\n";
    let parsed = parse(&SourceFile::new("t.scn", source)).unwrap();
    let workspace = Workspace::default_workspace().unwrap();
    let codes: Vec<Code> = super::check(&parsed, &workspace)
        .into_iter()
        .map(|d| d.code)
        .collect();
    assert_eq!(codes, []);
}

#[test]
fn variants_and_labels_are_messages_for_limits_and_placeholders() {
    assert_eq!(
        codes(r#"    say one of "Hello!", "Hi {nobody}!""#),
        [Code::UnknownVariable]
    );
    let long = "x".repeat(30);
    assert_eq!(
        codes(&format!("    link \"{long}\" \"https://acme.example\"")),
        [Code::MessageTooLong]
    );
    let very_long = "x".repeat(1001);
    assert_eq!(
        codes(&format!("    say one of \"Hi\", \"{very_long}\"")),
        [Code::MessageTooLong]
    );
    assert_eq!(
        codes(r#"    say one of "Hi", " Hi ""#),
        [Code::DuplicateVariant]
    );
}

#[test]
fn an_escape_word_listed_twice_is_reported() {
    let source = "scenario s {\n  start a\n  escape \"agent\", \"Agent \" -> handoff advisor\n  step a {\n    end\n  }\n}\n";
    let parsed = parse(&SourceFile::new("t.scn", source)).unwrap();
    let found: Vec<_> = super::check(&parsed, &Workspace::default_workspace().unwrap())
        .into_iter()
        .map(|d| (d.code, d.message))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Code::DuplicateChoiceValue);
    assert!(found[0].1.contains("escape word"), "{found:?}");
}
