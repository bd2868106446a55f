//! What an `ask` accepts beyond its validator: a range that cannot hold an answer (C140),
//! choices that save the same value or a `one of` that lists an answer twice (C141), and
//! `when` patterns an earlier one hides (L220), answers the `escape` words take (L221), and
//! answers written with a `{…}` value (C142: the runtime compares written-out texts only).

use std::collections::HashMap;

use crate::answers::normalize;
use crate::ast::{Ask, AskOptionKind, Escape, Name, Range, Text, Validator};
use crate::builtins::NamedValidator;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

/// C140: `expect number 5..1`, `expect integer 1.2..1.8`, `expect email 1..5`.
pub(super) fn check_range(name: &Name, range: &Range, out: &mut Vec<Diagnostic>) {
    let (low, high) = (range.low.value, range.high.value);
    let problem = match NamedValidator::named(&name.text) {
        Some(NamedValidator::Number | NamedValidator::Integer) if low > high => {
            format!(
                "the range {}..{} is inverted",
                range.low.text, range.high.text
            )
        }
        Some(NamedValidator::Integer) if low.ceil() > high.floor() => format!(
            "no whole number lies in {}..{}",
            range.low.text, range.high.text
        ),
        // Unknown validators are reported by the caller.
        None | Some(NamedValidator::Number | NamedValidator::Integer) => return,
        Some(other) => format!("`expect {}` cannot have a range", other.name()),
    };
    out.push(
        Diagnostic::new(Code::InvalidRange, range.span, problem)
            .with_label("no answer could ever fit")
            .with_help("write the lowest accepted value first, such as `expect integer 1..5`; only `number` and `integer` take a range"),
    );
}

/// C132: `expect phone ZZ` (no such country), `expect email FR` (only `phone` takes one).
pub(super) fn check_region(name: &Name, region: &Name, out: &mut Vec<Diagnostic>) {
    let problem = match NamedValidator::named(&name.text) {
        Some(NamedValidator::Phone) if crate::answers::is_region(&region.text) => return,
        Some(NamedValidator::Phone) => format!("`{}` is not a country's code", region.text),
        // Unknown validators are reported by the caller.
        None => return,
        Some(other) => format!("`expect {}` does not take a country", other.name()),
    };
    out.push(
        Diagnostic::new(Code::InvalidRegion, region.span, problem)
            .with_help("only `phone` takes a country, as its two-letter ISO 3166 code: `expect phone FR`, `expect phone GB`"),
    );
}

/// C141: two choices saving the same value, or an answer listed twice in `one of`.
pub(super) fn duplicate_values(ask: &Ask, out: &mut Vec<Diagnostic>) {
    let mut given = Vec::new();
    for option in &ask.options {
        match &option.kind {
            AskOptionKind::Choice {
                value: Some(value), ..
            } => given.push((value, "value")),
            AskOptionKind::Expect(Validator::OneOf(texts)) => {
                given.extend(texts.iter().map(|text| (text, "answer")));
            }
            _ => {}
        }
    }
    repeated(given, out);
}

/// C141: an escape word listed twice (compared as answers are).
pub(super) fn duplicate_escape_words(escape: &Escape, out: &mut Vec<Diagnostic>) {
    repeated(escape.words.iter().map(|word| (word, "escape word")), out);
}

/// Reports each text that repeats an earlier one, compared as answers are.
fn repeated<'a>(
    texts: impl IntoIterator<Item = (&'a Text, &'static str)>,
    out: &mut Vec<Diagnostic>,
) {
    let mut seen: HashMap<String, Span> = HashMap::new();
    for (text, what) in texts {
        let Some(literal) = text.as_literal() else {
            continue;
        };
        let key = normalize(&literal);
        if let Some(first) = seen.get(&key) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateChoiceValue,
                    text.span,
                    format!("the {what} \"{literal}\" is given twice"),
                )
                .with_secondary(*first, "first given here")
                .with_help("answers are compared trimmed, ignoring case and accents; give each its own value"),
            );
        } else {
            seen.insert(key, text.span);
        }
    }
}

/// C142: every text an answer is compared with or saved as must be written out.
pub(super) fn computed_answers(scenario: &crate::ast::Scenario, out: &mut Vec<Diagnostic>) {
    let mut texts: Vec<&Text> = scenario
        .escape()
        .map(|escape| escape.words.iter().collect())
        .unwrap_or_default();
    scenario.for_each_statement(&mut |stmt| {
        if let crate::ast::StmtKind::Ask(ask) = &stmt.kind {
            for option in &ask.options {
                match &option.kind {
                    AskOptionKind::Choice {
                        value: Some(value), ..
                    } => texts.push(value),
                    AskOptionKind::Expect(Validator::OneOf(answers)) => texts.extend(answers),
                    _ => {}
                }
            }
        }
    });
    for text in texts.into_iter().filter(|t| t.as_literal().is_none()) {
        out.push(
            Diagnostic::new(
                Code::ComputedAnswer,
                text.span,
                "an answer to compare with must be written out",
            )
            .with_label("this text holds a `{…}` value")
            .with_help("write the text as it is, without `{…}`; decide on computed values with `if` after the `ask`"),
        );
    }
}

/// L221: a choice label (in any language) or a `one of` answer that is an `escape` word: the
/// escape is tried first, so the answer always leaves the question.
pub(super) fn escape_hides_answers(escape: &Escape, ask: &Ask, out: &mut Vec<Diagnostic>) {
    let words: Vec<(String, Span)> = escape
        .words
        .iter()
        .filter_map(|word| word.as_literal().map(|w| (normalize(&w), word.span)))
        .collect();
    let mut answers: Vec<&Text> = Vec::new();
    for option in &ask.options {
        match &option.kind {
            AskOptionKind::Choice { label, .. } => answers.extend(label.texts()),
            AskOptionKind::Expect(Validator::OneOf(texts)) => answers.extend(texts),
            _ => {}
        }
    }
    for text in answers {
        let Some(literal) = text.as_literal() else {
            continue;
        };
        let key = normalize(&literal);
        if let Some((_, word)) = words.iter().find(|(w, _)| *w == key) {
            out.push(
                Diagnostic::new(
                    Code::EscapeHidesAnswer,
                    text.span,
                    format!("\"{literal}\" is also an `escape` word: it can never be picked"),
                )
                .with_secondary(*word, "the escape takes this answer first")
                .with_help("rename the choice, or remove the word from `escape` if the choice should handle it"),
            );
        }
    }
}

/// L220: a `when` pattern after an identical one, or after one that matches every answer
/// (it matches both the empty text and an ordinary sentence, such as `/.*/`).
pub(super) fn shadowed_patterns(ask: &Ask, out: &mut Vec<Diagnostic>) {
    let mut earlier: Vec<(String, Span, bool)> = Vec::new();
    for (regex, _) in ask.patterns() {
        let key = format!("{}/{}", regex.flags, regex.pattern);
        let hiding = earlier
            .iter()
            .find(|(other, _, catch_all)| *catch_all || *other == key);
        if let Some((other, span, _)) = hiding {
            let why = if *other == key {
                "the same pattern comes earlier"
            } else {
                "an earlier pattern matches every answer"
            };
            out.push(
                Diagnostic::new(
                    Code::ShadowedPattern,
                    regex.span,
                    "this pattern can never be chosen",
                )
                .with_label(why)
                .with_secondary(*span, "this one is tried first")
                .with_help("patterns are tried in order and the first match wins; remove this one or move it before the broader one"),
            );
        }
        let catch_all = regex::RegexBuilder::new(&regex.pattern)
            .case_insensitive(regex.flags.contains('i'))
            .size_limit(1 << 20)
            .build()
            .is_ok_and(|r| r.is_match("") && r.is_match("Where is my order? 42"));
        earlier.push((key, regex.span, catch_all));
    }
}
