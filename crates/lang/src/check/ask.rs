//! The options of `ask`: unknown validator (C118), an option given twice (C117), options
//! that contradict each other (C120), a saved answer whose type does not fit its field
//! (C111) or a target the scenario may not write (C119), a missing retry bound (L202) or
//! timeout (L203), and choices that repeat (L209).

use std::collections::HashMap;

use super::typing::{Typer, article, validator_type};
use super::varset::RESERVED_ROOTS;
use crate::ast::{Ask, AskOptionKind, Message, Name, Path, Scenario, StmtKind, Validator};
use crate::builtins::NamedValidator;
use crate::config::BUILTIN_CONTACT_FIELDS;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::source::Span;
use crate::types::Type;

pub(super) fn check(scenario: &Scenario, typer: &mut Typer<'_>, out: &mut Vec<Diagnostic>) {
    super::answers::computed_answers(scenario, out);
    if let Some(escape) = scenario.escape() {
        super::answers::duplicate_escape_words(escape, out);
    }
    scenario.for_each_statement(&mut |stmt| {
        if let StmtKind::Ask(ask) = &stmt.kind {
            check_ask(ask, stmt.span, typer, out);
            if let Some(escape) = scenario.escape() {
                super::answers::escape_hides_answers(escape, ask, out);
            }
        }
    });
}

fn check_ask(ask: &Ask, span: Span, typer: &mut Typer<'_>, out: &mut Vec<Diagnostic>) {
    let ask_keyword = Span::new(span.start as usize, span.start as usize + 3);
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for option in &ask.options {
        let name = match &option.kind {
            AskOptionKind::Expect(_) => "expect",
            AskOptionKind::Save(_) => "save",
            AskOptionKind::Invalid(_) => "invalid",
            AskOptionKind::Attempts { .. } => "attempts",
            AskOptionKind::Timeout { .. } => "timeout",
            AskOptionKind::Choice { .. } | AskOptionKind::When { .. } => continue,
        };
        if let Some(first) = seen.get(name) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateDeclaration,
                    option.span,
                    format!("this `ask` has `{name}` twice"),
                )
                .with_secondary(*first, "first given here")
                .with_help(format!("keep one `{name}`")),
            );
        } else {
            seen.insert(name, option.span);
        }
    }

    let validator = ask.validator();
    if let Some(name) = validator.and_then(Validator::name) {
        if NamedValidator::named(&name.text).is_none() {
            let help = did_you_mean(&name.text, NamedValidator::names()).unwrap_or_else(|| {
                let names: Vec<&str> = NamedValidator::names().collect();
                format!("the validators are {}, or a `/regex/`", and_list(&names))
            });
            out.push(
                Diagnostic::new(
                    Code::UnknownValidator,
                    name.span,
                    format!("there is no validator named `{}`", name.text),
                )
                .with_label("unknown validator")
                .with_help(help),
            );
        }
    }
    let choices: Vec<_> = ask.choices().collect();
    let expects_choice = matches!(validator.and_then(Validator::name), Some(n) if NamedValidator::named(&n.text) == Some(NamedValidator::Choice));
    let checks_answers = (validator.is_some()
        && !matches!(validator.and_then(Validator::name), Some(n) if NamedValidator::named(&n.text) == Some(NamedValidator::Text)))
        || !choices.is_empty();
    conflicts(ask, &choices, expects_choice, checks_answers, out);

    if let Some(path) = ask.save() {
        check_save(path, validator, !choices.is_empty(), typer, out);
    }
    if checks_answers && ask.attempts().is_none() {
        out.push(
            Diagnostic::new(
                Code::AskWithoutAttempts,
                ask_keyword,
                "this question has no limit on invalid answers",
            )
            .with_label("a contact who keeps answering wrongly is asked again forever")
            .with_help("add `attempts 3 then goto STEP` (or `then handoff advisor`)"),
        );
    }
    if ask.timeout().is_none() {
        out.push(
            Diagnostic::new(
                Code::AskWithoutTimeout,
                ask_keyword,
                "this question waits forever for an answer",
            )
            .with_label("a contact who goes silent keeps the conversation open")
            .with_help("add `timeout 15m then goto STEP` (or `then handoff advisor`)"),
        );
    }
    duplicate_choices(&choices, out);
    if let Some(Validator::Ranged(name, range)) = validator {
        super::answers::check_range(name, range, out);
    }
    if let Some(Validator::Regional(name, region)) = validator {
        super::answers::check_region(name, region, out);
    }
    super::answers::duplicate_values(ask, out);
    super::answers::shadowed_patterns(ask, out);
}

/// L209: two choices with the same text, in the default language or in any translation (a
/// contact writing in a language may answer with its label or the default's).
fn duplicate_choices(choices: &[(&Message, Option<&Name>)], out: &mut Vec<Diagnostic>) {
    let mut languages: Vec<&str> = Vec::new();
    for (label, _) in choices {
        for translation in &label.translations {
            if !languages.contains(&translation.language.text.as_str()) {
                languages.push(&translation.language.text);
            }
        }
    }
    // The default labels alone, then each language's labels with the default ones.
    for language in std::iter::once(None).chain(languages.into_iter().map(Some)) {
        // Each label seen: its choice, its place, and whether it is a translation.
        let mut seen: HashMap<String, (usize, Span, bool)> = HashMap::new();
        for (index, (label, _)) in choices.iter().enumerate() {
            let translated = language.and_then(|l| label.translation(l));
            let texts = std::iter::once((&label.text, false)).chain(translated.map(|t| (t, true)));
            for (text, translation) in texts {
                let Some(literal) = text.as_literal() else {
                    continue;
                };
                let key = literal.trim().to_lowercase();
                match seen.get(&key) {
                    // Two default labels are compared once, in the first pass.
                    Some(&(first_index, first, first_translation))
                        if first_index != index
                            && (language.is_none() || translation || first_translation) =>
                    {
                        let within = language.map_or_else(String::new, |l| format!(" in `{l}`"));
                        out.push(
                            Diagnostic::new(
                                Code::DuplicateChoice,
                                text.span,
                                format!("the choice \"{literal}\" is offered twice{within}"),
                            )
                            .with_secondary(first, "first offered here")
                            .with_help(if language.is_some() {
                                "answers are matched without regard to case, in the conversation's language and the default one; give each choice its own text"
                            } else {
                                "answers are matched without regard to case; give each choice its own text"
                            }),
                        );
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(key, (index, text.span, translation));
                    }
                }
            }
        }
    }
}

fn conflicts(
    ask: &Ask,
    choices: &[(&Message, Option<&Name>)],
    expects_choice: bool,
    checks_answers: bool,
    out: &mut Vec<Diagnostic>,
) {
    let conflict = |span: Span, message: &str, help: &str| {
        Diagnostic::new(Code::ConflictingAskOptions, span, message).with_help(help)
    };
    for option in &ask.options {
        match &option.kind {
            AskOptionKind::Expect(validator) if !choices.is_empty() && !expects_choice => {
                let what = match validator {
                    Validator::Named(name)
                    | Validator::Ranged(name, _)
                    | Validator::Regional(name, _) => format!("`expect {}`", name.text),
                    Validator::Regex(_) => "a `/regex/`".to_owned(),
                    Validator::OneOf(_) => "`expect one of`".to_owned(),
                };
                out.push(conflict(
                    option.span,
                    &format!("{what} contradicts the choices of this question"),
                    "with choices, the answer must be one of them: remove the `expect` line",
                ));
            }
            AskOptionKind::Expect(Validator::Named(name))
                if name.text == "choice" && choices.is_empty() =>
            {
                out.push(conflict(
                    option.span,
                    "`expect choice` but no choice is offered",
                    "add `choice \"…\" -> STEP` lines, or remove `expect choice`",
                ));
            }
            AskOptionKind::Invalid(_) if !checks_answers => {
                out.push(conflict(option.span, "this `invalid` message is never shown", "every answer is accepted without a validator; add `expect …` or choices, or remove `invalid`"));
            }
            AskOptionKind::Attempts { .. } if !checks_answers => {
                out.push(conflict(option.span, "`attempts` can never run out", "every answer is accepted without a validator; add `expect …` or choices, or remove `attempts`"));
            }
            AskOptionKind::Attempts { count, .. } if count.value == 0 => {
                out.push(conflict(
                    count.span,
                    "`attempts 0` would give up before asking",
                    "allow at least one answer: `attempts 1` or more",
                ));
            }
            AskOptionKind::Timeout { duration, .. } if duration.seconds == 0 => {
                out.push(conflict(
                    duration.span,
                    "a timeout of zero fires before the contact can answer",
                    "give the contact time, such as `timeout 15m`",
                ));
            }
            _ => {}
        }
    }
}

fn check_save(
    path: &Path,
    validator: Option<&Validator>,
    has_choices: bool,
    typer: &mut Typer<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let produced = validator_type(validator);
    match path.root() {
        crate::builtins::CONTACT if path.segments.len() == 2 => {
            let field = path.segments[1].text.as_str();
            if BUILTIN_CONTACT_FIELDS.contains(&field) {
                out.push(read_only(
                    path,
                    &format!("`contact.{field}` comes from the channel and cannot be saved"),
                ));
                return;
            }
            let Some(field_type) = typer.workspace.field_type(field).map(Type::from) else {
                // Unknown field: reported once by the typer.
                typer.path_type(path);
                return;
            };
            if !produced.fits(field_type) {
                let wanted = field_type.to_string();
                let holds = format!("`contact.{field}` holds {}", article(field_type));
                let message = match (validator, has_choices) {
                    (Some(_), _) => format!("{holds}, but this answer is {}", article(produced)),
                    (None, true) => {
                        format!("{holds}, but this answer is one of the choices, a text")
                    }
                    (None, false) => format!("{holds}, but this answer is not checked"),
                };
                let help = if field_type == Type::Bool {
                    "a true/false field cannot be filled from a typed answer; offer choices and decide with `if answer == \"Yes\"`, or declare the field as text".to_owned()
                } else {
                    format!(
                        "validate the answer with `expect {wanted}`, or save it into a field of type {produced}"
                    )
                };
                out.push(
                    Diagnostic::new(Code::ValidatorTypeMismatch, path.span, message)
                        .with_label(format!("saves into a field of type {wanted}"))
                        .with_help(help),
                );
            }
        }
        crate::builtins::CONTACT => {
            typer.path_type(path);
        }
        root if RESERVED_ROOTS.contains(&root) => {
            out.push(read_only(
                path,
                &format!(
                    "`{}` is set by the runtime and cannot be saved",
                    path.dotted()
                ),
            ));
        }
        _ if path.segments.len() > 1 => {
            out.push(read_only(path, "an answer can be saved into a contact field or a variable, not into a field of a result"));
        }
        _ => {}
    }
}

fn read_only(path: &Path, message: &str) -> Diagnostic {
    Diagnostic::new(Code::ReadOnlyTarget, path.span, message).with_help(
        "save into a declared contact field (`contact.email`) or a variable (`save topic`)",
    )
}

/// `a, b and c`.
fn and_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
