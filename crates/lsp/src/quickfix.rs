//! Quick fixes: a finding whose help is a did-you-mean (`did you mean `welcome`?`, written by
//! `diagnostic::did_you_mean` across the checker) becomes a code action that puts the
//! suggested word in place of the misspelt one.

use std::collections::HashMap;

use lsp_types::{CodeAction, CodeActionKind, CodeActionOrCommand, Range, TextEdit, WorkspaceEdit};

use crate::diagnostics::{fix, suggestion, to_lsp};
use crate::document::Document;

pub(crate) fn actions(doc: &Document, range: Range) -> Vec<CodeActionOrCommand> {
    let Some(report) = doc.reports.first() else {
        return Vec::new();
    };
    let wanted = doc.index.span(&doc.text, range);
    report
        .diagnostics
        .iter()
        .filter(|d| {
            let span = d.primary.span.range();
            span.start <= wanted.end && wanted.start <= span.end
        })
        .filter_map(|d| {
            let word = suggestion(d.help.as_deref()?)?;
            let (span, new_text) = fix(&doc.text, d.primary.span, word)?;
            let edit = TextEdit::new(doc.index.range(&doc.text, span), new_text);
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Replace with `{word}`"),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![to_lsp(d, &doc.text, &doc.index, &doc.uri)]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(doc.uri.clone(), vec![edit])])),
                    ..WorkspaceEdit::default()
                }),
                is_preferred: Some(true),
                ..CodeAction::default()
            }))
        })
        .collect()
}
