//! The scenario's languages: every text written in each declared language (C135), no
//! translation in a language the scenario does not declare (C136), the same placeholders in
//! every translation of a text (C137), `language from` naming a declared text field of the
//! contact (C138), and several languages with no way to choose one (L215). A language
//! declared twice, or a text translated twice into one language, is C117.

use std::collections::BTreeSet;

use crate::ast::{AskOptionKind, ItemKind, Message, Name, Path, Scenario, StmtKind, Text, Visit};
use crate::builtins;
use crate::config::Workspace;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::types::FieldType;

pub(super) fn check(scenario: &Scenario, workspace: &Workspace, out: &mut Vec<Diagnostic>) {
    let languages = scenario.languages();
    declarations(scenario, languages, workspace, out);
    let mut declared: Vec<&str> = Vec::new();
    for language in languages {
        if !declared.contains(&language.text.as_str()) {
            declared.push(&language.text);
        }
    }
    scenario.for_each_statement(&mut |stmt| {
        let mut message = |message: &Message| self::message(message, &declared, out);
        match &stmt.kind {
            StmtKind::Say(text) => message(text),
            StmtKind::SayOneOf(variants) => variants.iter().for_each(message),
            StmtKind::Rich(rich) => rich.messages().into_iter().for_each(message),
            StmtKind::Ask(ask) => {
                message(&ask.prompt);
                for option in &ask.options {
                    if let AskOptionKind::Invalid(text)
                    | AskOptionKind::Choice { label: text, .. } = &option.kind
                    {
                        message(text);
                    }
                }
            }
            _ => {}
        }
    });
}

/// `languages` (each once) and `language from`.
fn declarations(
    scenario: &Scenario,
    languages: &[Name],
    workspace: &Workspace,
    out: &mut Vec<Diagnostic>,
) {
    for (index, language) in languages.iter().enumerate() {
        if let Some(first) = languages[..index]
            .iter()
            .find(|l| l.text.eq_ignore_ascii_case(&language.text))
        {
            out.push(
                Diagnostic::new(
                    Code::DuplicateDeclaration,
                    language.span,
                    format!("the language `{}` is declared twice", language.text),
                )
                .with_secondary(first.span, "first declared here")
                .with_help("name each language once; the first one is the default"),
            );
        }
    }
    let from = scenario.items.iter().find_map(|item| match &item.kind {
        ItemKind::LanguageFrom(path) => Some((path, item.span)),
        _ => None,
    });
    let Some((path, item_span)) = from else {
        if let (Some(default), true) = (languages.first(), languages.len() > 1) {
            out.push(
                Diagnostic::new(
                    Code::LanguageNeverChosen,
                    default.span,
                    format!(
                        "every conversation will be in `{}`: nothing says where a conversation's language comes from",
                        default.text
                    ),
                )
                .with_label("the default language")
                .with_help("add `language from contact.FIELD` with a text field of the contact that holds the language, such as `language from contact.language`"),
            );
        }
        return;
    };
    let invalid = |message: String, help: String| {
        Diagnostic::new(Code::InvalidLanguageSource, path.span, message).with_help(help)
    };
    if languages.is_empty() {
        out.push(
            invalid(
                "`language from` without `languages`: there is no language to choose".to_owned(),
                "declare the languages first, the default one first, such as `languages fr, en`"
                    .to_owned(),
            )
            .with_secondary(item_span, "this declaration"),
        );
        return;
    }
    let field = match path.segments.as_slice() {
        [root, field] if root.text == builtins::CONTACT => field,
        _ => {
            out.push(invalid(
                format!("`{}` is not a field of the contact", path.dotted()),
                "the language comes from a text field of the contact, such as `language from contact.language`; declare it in `contact_fields` with the type `text`".to_owned(),
            ));
            return;
        }
    };
    if builtins::contact::FIELDS.contains(&field.text.as_str()) {
        out.push(invalid(
            format!("`contact.{}` does not hold a language", field.text),
            "declare a text field for the language in `contact_fields`, such as `language: text`, and name it here".to_owned(),
        ));
        return;
    }
    match workspace.field_type(&field.text) {
        Some(FieldType::Text) => {}
        Some(other) => out.push(invalid(
            format!(
                "the contact field `{}` is of type {}, not text",
                field.text,
                other.as_str()
            ),
            format!(
                "a language is a text such as `fr` or `en`: give `{}` the type `text` in {}, or name a text field",
                field.text,
                workspace.file.name()
            ),
        )),
        None => {
            let help = did_you_mean(&field.text, workspace.field_names()).unwrap_or_else(|| {
                format!(
                    "add `{}: text` to `contact_fields` in {}",
                    field.text,
                    workspace.file.name()
                )
            });
            out.push(invalid(
                format!("the config declares no contact field `{}`", field.text),
                help,
            ));
        }
    }
}

/// One message: its translations against the declared languages, and their placeholders.
fn message(message: &Message, declared: &[&str], out: &mut Vec<Diagnostic>) {
    let default = declared.first().copied();
    let mut seen: Vec<&Name> = Vec::new();
    for translation in &message.translations {
        let language = &translation.language;
        if let Some(first) = seen.iter().find(|l| l.text == language.text) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateDeclaration,
                    language.span,
                    format!("this text is translated twice into `{}`", language.text),
                )
                .with_secondary(first.span, "first translation")
                .with_help("keep one translation per language"),
            );
            continue;
        }
        seen.push(language);
        if default == Some(language.text.as_str()) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateDeclaration,
                    language.span,
                    format!(
                        "`{}` is the default language: the text before is already in `{}`",
                        language.text, language.text
                    ),
                )
                .with_secondary(message.text.span, "the text in the default language")
                .with_help("keep one of the two texts; the first text of a message is in the default language"),
            );
        } else if !declared.contains(&language.text.as_str()) {
            let help = if declared.is_empty() {
                format!(
                    "declare the scenario's languages at its top, the default first, such as `languages fr, {}`",
                    language.text
                )
            } else {
                did_you_mean(&language.text, declared.iter().copied()).unwrap_or_else(|| {
                    format!(
                        "add `{}` to `languages {}`, or remove this translation",
                        language.text,
                        declared.join(", ")
                    )
                })
            };
            out.push(
                Diagnostic::new(
                    Code::UndeclaredLanguage,
                    language.span,
                    format!(
                        "the scenario does not declare the language `{}`",
                        language.text
                    ),
                )
                .with_label("not in `languages`")
                .with_help(help),
            );
        } else {
            placeholders(&message.text, &translation.text, &language.text, out);
        }
    }
    for language in declared.iter().skip(1) {
        if message.translation(language).is_none() {
            out.push(
                Diagnostic::new(
                    Code::MissingTranslation,
                    message.text.span,
                    format!("this text has no `{language}` translation"),
                )
                .with_label(format!("missing in `{language}`"))
                .with_help(format!(
                    "write it in `{language}` after the text: `{language} \"…\"`"
                )),
            );
        }
    }
}

/// The values a text's placeholders show: the names they read (`{contact.first_name or
/// "there"}` shows `contact.first_name`; its fallback text may differ between languages).
fn shown(text: &Text) -> BTreeSet<String> {
    struct Names(BTreeSet<String>);
    impl Visit<'_> for Names {
        fn visit_path(&mut self, path: &Path) {
            self.0.insert(path.dotted());
        }
    }
    let mut names = Names(BTreeSet::new());
    names.visit_text(text);
    names.0
}

/// C137: the values a translation shows against those the default text shows.
fn placeholders(default: &Text, translation: &Text, language: &str, out: &mut Vec<Diagnostic>) {
    let expected = shown(default);
    let written = shown(translation);
    for missing in expected.difference(&written) {
        out.push(
            Diagnostic::new(
                Code::PlaceholderMismatch,
                translation.span,
                format!("the `{language}` text leaves out `{{{missing}}}`"),
            )
            .with_label(format!("no `{{{missing}}}` here"))
            .with_secondary(default.span, "the default text shows it")
            .with_help(format!(
                "show `{{{missing}}}` in the `{language}` text too, so every contact gets the same information"
            )),
        );
    }
    for extra in written.difference(&expected) {
        out.push(
            Diagnostic::new(
                Code::PlaceholderMismatch,
                translation.span,
                format!(
                    "the `{language}` text shows `{{{extra}}}`, which the default text does not"
                ),
            )
            .with_secondary(default.span, "the default text")
            .with_help(format!(
                "show `{{{extra}}}` in every language's text, or in none"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Workspace;
    use crate::lint::lint_source;

    /// The codes found in a scenario, with their line and column.
    fn codes(text: &str) -> Vec<(String, usize, usize)> {
        let workspace = Workspace::default_workspace().unwrap();
        let report = lint_source("t.scn", text.as_bytes().to_vec(), &workspace);
        report
            .diagnostics
            .iter()
            .map(|d| {
                let at = report.file.line_column(d.primary.span.start as usize);
                (d.code.id().to_owned(), at.line, at.column)
            })
            .collect()
    }

    fn scenario(header: &str, body: &str) -> String {
        format!("scenario t {{\n{header}\n  start a\n  step a {{\n{body}\n    end\n  }}\n}}\n")
    }

    const BOTH: &str = "  languages fr, en\n  language from contact.language";

    #[test]
    fn a_translated_fallback_shows_the_same_value() {
        let body = "    say \"Bonjour {contact.first_name or \"à vous\"} ({conversation.language})\"\n      en \"Hello {contact.first_name or \"there\"} ({conversation.language})\"";
        assert_eq!(codes(&scenario(BOTH, body)), []);
    }

    #[test]
    fn a_translation_needs_declared_languages() {
        let text = scenario("", "    say \"Bonjour\" en \"Hello\"");
        assert_eq!(codes(&text), [("C136".to_owned(), 5, 19)]);
        let text = scenario("  language from contact.language", "    say \"Bonjour\"");
        assert_eq!(codes(&text), [("C138".to_owned(), 2, 17)]);
    }

    #[test]
    fn a_default_label_equal_to_another_choices_translation_is_a_duplicate() {
        let body = "    ask \"Q\" en \"Q\" {\n      choice \"A\" en \"B\" -> a\n      choice \"B\" en \"C\" -> a\n      attempts 2 then end\n      timeout 1m then end\n    }";
        let found = codes(&scenario(BOTH, body));
        let duplicates: Vec<_> = found.iter().filter(|(code, _, _)| code == "L209").collect();
        assert_eq!(duplicates, [&("L209".to_owned(), 8, 14)], "{found:?}");
    }

    #[test]
    fn the_language_field_must_be_a_declared_text_field_of_the_contact() {
        for from in ["contact.vip", "contact.name", "topic", "contact.nope"] {
            let text = scenario(
                &format!("  languages fr, en\n  language from {from}"),
                "    say \"Bonjour\" en \"Hello\"",
            );
            let found = codes(&text);
            assert!(
                found.iter().any(|(code, _, _)| code == "C138"),
                "{from}: {found:?}"
            );
        }
    }
}
