//! Findings as the protocol shows them: a range in UTF-16 positions, the severity, the
//! code's id (`C101`), the message with the help under it (what `lint` prints as `help:`),
//! secondary labels as related information, and — when the help is a did-you-mean — the
//! suggested word in `data`, which the quick fix (`quickfix`) turns into an edit.

use lsp_types::{
    Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Url,
};
use scenarist_lang::diagnostic::{self, Severity};
use scenarist_lang::source::Span;

use crate::position::LineIndex;

/// The suggestion of a help text written by `diagnostic::did_you_mean`.
pub(crate) fn suggestion(help: &str) -> Option<&str> {
    let rest = help.split("did you mean `").nth(1)?;
    let (word, _) = rest.split_once("`?")?;
    (!word.is_empty()).then_some(word)
}

/// One finding in the protocol's terms (positions in `text`, the document it is in).
pub(crate) fn to_lsp(
    found: &diagnostic::Diagnostic,
    text: &str,
    index: &LineIndex,
    uri: &Url,
) -> Diagnostic {
    let range = index.range(text, found.primary.span);
    let mut message = found.message.clone();
    if let Some(label) = &found.primary.message {
        message = format!("{message} ({label})");
    }
    if let Some(help) = &found.help {
        message = format!("{message}\nhelp: {help}");
    }
    let related: Vec<DiagnosticRelatedInformation> = found
        .secondary
        .iter()
        .map(|label| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), index.range(text, label.span)),
            message: label.message.clone().unwrap_or_default(),
        })
        .collect();
    let data = found
        .help
        .as_deref()
        .and_then(suggestion)
        .map(|word| serde_json::json!({ "suggestion": word }));
    Diagnostic {
        range,
        severity: Some(match found.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(found.code.id().to_owned())),
        code_description: None,
        source: Some("scenarist".to_owned()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data,
    }
}

/// The edit a suggestion makes to the text under `span`: the word replaced, a quoted text's
/// inside replaced, or the last segment of a dotted path replaced.
pub(crate) fn fix(text: &str, span: Span, word: &str) -> Option<(Span, String)> {
    let under = text.get(span.range())?;
    if under.len() >= 2 && under.starts_with('"') && under.ends_with('"') {
        return Some((
            Span::new(span.start as usize + 1, span.end as usize - 1),
            word.to_owned(),
        ));
    }
    if !word.contains('.')
        && let Some(dot) = under.rfind('.')
    {
        return Some((
            Span::new(span.start as usize + dot + 1, span.end as usize),
            word.to_owned(),
        ));
    }
    (!under.is_empty()).then(|| (span, word.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_read_from_the_help() {
        assert_eq!(suggestion("did you mean `welcome`?"), Some("welcome"));
        assert_eq!(suggestion("declare it under `contact_fields`"), None);
    }

    #[test]
    fn fixes_replace_the_misspelt_part() {
        let text = "contact.emial \"Zendsk\" welcom";
        assert_eq!(
            fix(text, Span::new(0, 13), "email"),
            Some((Span::new(8, 13), "email".into()))
        );
        assert_eq!(
            fix(text, Span::new(14, 22), "Zendesk"),
            Some((Span::new(15, 21), "Zendesk".into()))
        );
        assert_eq!(
            fix(text, Span::new(23, 29), "welcome"),
            Some((Span::new(23, 29), "welcome".into()))
        );
    }
}
