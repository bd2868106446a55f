//! Completion. What is offered depends on the words before the cursor on its line, read from
//! the current text (so it works in a line that does not parse yet); the names offered come
//! from the last good parse (steps, variables, includes), the document's config (contact
//! fields, teams, schedules, declared actions) and the language's registries (actions,
//! validators, functions). Nothing here re-checks the document.

use std::fmt::Write as _;

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionResponse, CompletionTextEdit, Documentation,
    InsertTextFormat, MarkupContent, MarkupKind, Position, Range, TextEdit,
};
use scenarist_lang::builtins::{self, NamedValidator, functions};
use scenarist_lang::config::{BUILTIN_CONTACT_FIELDS, FieldSpec, Workspace};
use scenarist_lang::source::SourceFile;
use scenarist_lang::syntax;

use crate::document::Document;
use crate::names::{Kind, Names};

/// Language codes offered after `languages` (any BCP 47 tag is accepted; these are common).
const LANGUAGES: &[&str] = &[
    "en", "fr", "de", "es", "it", "nl", "pt", "pt-BR", "pl", "sv", "da", "fi", "nb", "cs", "ja",
    "zh", "ko", "ar", "tr", "ru",
];

/// The words a statement starts with.
const STATEMENTS: &[&str] = &[
    "say",
    "ask",
    "if",
    "set",
    "goto",
    "route team",
    "handoff advisor",
    "end",
    "call",
    "link",
    "image",
    "card",
];

pub(crate) fn complete(doc: &Document, position: Position) -> CompletionResponse {
    let offset = doc.index.offset(&doc.text, position);
    let line_start = doc.text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let before_cursor = &doc.text[line_start..offset];
    let word_len = before_cursor
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .map(char::len_utf8)
        .sum::<usize>();
    let word_start = offset - word_len;
    let replace = Range::new(doc.index.position(&doc.text, word_start), position);
    let context = Context {
        doc,
        offset,
        replace,
    };
    let before = &before_cursor[..before_cursor.len() - word_len];
    CompletionResponse::Array(context.items(before))
}

/// Whether the end of `line` is inside a `"…"` text but not in one of its `{…}` placeholders.
fn in_text(line: &str) -> bool {
    let mut inside = false;
    let mut placeholder = 0usize;
    let mut escaped = false;
    for c in line.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if inside => escaped = true,
            '"' if placeholder == 0 => inside = !inside,
            '{' if inside => placeholder += 1,
            '}' if inside => placeholder = placeholder.saturating_sub(1),
            _ => {}
        }
    }
    inside && placeholder == 0
}

struct Context<'a> {
    doc: &'a Document,
    offset: usize,
    replace: Range,
}

impl Context<'_> {
    fn items(&self, before: &str) -> Vec<CompletionItem> {
        let trimmed = before.trim_end();
        let last = trimmed
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("");
        if let Some(team) = before.rfind("route team \"") {
            if !before[team + 12..].contains('"') {
                return self.teams();
            }
        }
        if in_text(before) {
            // Words of a message: nothing to offer.
            return Vec::new();
        }
        if let Some(root) = before.strip_suffix('.') {
            return self.members(root);
        }
        if trimmed.ends_with("next_open(") {
            return self.schedules();
        }
        let statement = trimmed.trim_start();
        match last {
            // A name being declared.
            "step" | "scenario" | "flow" | "as" => return Vec::new(),
            "goto" | "->" | "start" => return self.steps(),
            "call" => return self.actions(),
            "include" => return self.flows(),
            "open" => return self.schedules(),
            "expect" => return self.validators(),
            _ => {}
        }
        if statement.starts_with("entry") && (last == "entry" || trimmed.ends_with(',')) {
            return self.steps();
        }
        if statement.starts_with("languages") && (last == "languages" || trimmed.ends_with(',')) {
            return self.simple(
                LANGUAGES.iter().copied(),
                CompletionItemKind::CONSTANT,
                "language",
            );
        }
        if trimmed.ends_with('"') && before.ends_with(char::is_whitespace) {
            return self.translations();
        }
        if statement.is_empty() {
            return self.simple(
                STATEMENTS.iter().copied(),
                CompletionItemKind::KEYWORD,
                "statement",
            );
        }
        let mut items = self.variables();
        items.extend(self.simple(
            [
                builtins::CONTACT,
                builtins::CONVERSATION,
                builtins::ANSWER,
                builtins::TICKET,
            ],
            CompletionItemKind::MODULE,
            "built in",
        ));
        items.extend(self.functions());
        items
    }

    fn names(&self) -> Option<&Names> {
        self.doc.good.as_ref().map(crate::document::Good::names)
    }

    fn workspace(&self) -> Option<&Workspace> {
        self.doc.workspace.as_deref()
    }

    fn item(&self, label: &str, kind: CompletionItemKind, detail: &str) -> CompletionItem {
        CompletionItem {
            label: label.to_owned(),
            kind: Some(kind),
            detail: (!detail.is_empty()).then(|| detail.to_owned()),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
                self.replace,
                label.to_owned(),
            ))),
            ..CompletionItem::default()
        }
    }

    fn snippet(
        &self,
        label: &str,
        snippet: String,
        kind: CompletionItemKind,
        detail: &str,
    ) -> CompletionItem {
        CompletionItem {
            insert_text_format: Some(InsertTextFormat::SNIPPET),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit::new(
                self.replace,
                snippet,
            ))),
            ..self.item(label, kind, detail)
        }
    }

    fn simple<'w>(
        &self,
        words: impl IntoIterator<Item = &'w str>,
        kind: CompletionItemKind,
        detail: &str,
    ) -> Vec<CompletionItem> {
        words
            .into_iter()
            .map(|word| self.item(word, kind, detail))
            .collect()
    }

    /// The steps of the scenario or flow the cursor is in, and the includes' names.
    fn steps(&self) -> Vec<CompletionItem> {
        let Some(names) = self.names() else {
            return Vec::new();
        };
        let container = names.container_at(self.offset);
        let mut items: Vec<CompletionItem> = Vec::new();
        for occurrence in &names.all {
            if occurrence.container != container || items.iter().any(|i| i.label == occurrence.name)
            {
                continue;
            }
            match &occurrence.kind {
                Kind::StepDecl => {
                    items.push(self.item(&occurrence.name, CompletionItemKind::FUNCTION, "step"));
                }
                Kind::IncludeName { flow } => items.push(self.item(
                    &occurrence.name,
                    CompletionItemKind::MODULE,
                    &format!("the start of flow `{flow}`"),
                )),
                _ => {}
            }
        }
        if let Some(flow) = container
            .checked_sub(1)
            .and_then(|i| self.parsed_flows().get(i).cloned())
        {
            for param in flow
                .params
                .iter()
                .filter(|p| p.kind == scenarist_lang::ast::ParamKind::Step)
            {
                items.push(self.item(
                    &param.name.text,
                    CompletionItemKind::VARIABLE,
                    "step parameter",
                ));
            }
        }
        items
    }

    fn parsed_flows(&self) -> Vec<scenarist_lang::ast::Flow> {
        self.doc
            .good
            .as_ref()
            .map(|good| good.parsed.flows.clone())
            .unwrap_or_default()
    }

    /// Variables of the container: those set on every path to the cursor first (asked of
    /// the checker's flow analysis, `scope`), else those set earlier in the same step.
    fn variables(&self) -> Vec<CompletionItem> {
        let Some(names) = self.names() else {
            return Vec::new();
        };
        let container = names.container_at(self.offset);
        let mut found: Vec<(&str, Option<&str>, bool)> = Vec::new();
        let step = names
            .steps(container)
            .filter(|s| (s.span.start as usize) < self.offset)
            .last()
            .map_or(0, |s| s.span.start as usize);
        for occurrence in &names.all {
            let Kind::VarWrite { action } = &occurrence.kind else {
                continue;
            };
            if occurrence.container != container {
                continue;
            }
            let start = occurrence.span.start as usize;
            let earlier = step <= start && start < self.offset;
            match found.iter_mut().find(|(name, ..)| *name == occurrence.name) {
                Some(entry) => entry.2 |= earlier,
                None => found.push((&occurrence.name, action.as_deref(), earlier)),
            }
        }
        let candidates: Vec<String> = found.iter().map(|(name, ..)| (*name).to_owned()).collect();
        let certain = self
            .doc
            .fresh()
            .filter(|_| container == 0)
            .and_then(|good| good.parsed.scenario.as_ref())
            .and_then(|scenario| crate::scope::definitely_set(scenario, self.offset, &candidates));
        found
            .into_iter()
            .map(|(name, action, earlier)| {
                let first = certain.as_ref().map_or(earlier, |set| set.contains(name));
                let mut detail =
                    action.map_or_else(|| "variable".to_owned(), |a| format!("result of `{a}`"));
                if certain.as_ref().is_some_and(|set| set.contains(name)) {
                    detail.push_str(", set on every path here");
                }
                let mut item = self.item(name, CompletionItemKind::VARIABLE, &detail);
                item.sort_text = Some(format!("{}{name}", u8::from(!first)));
                item
            })
            .collect()
    }

    /// After `contact.`, `conversation.`, `ticket.` or a call's result.
    fn members(&self, before_dot: &str) -> Vec<CompletionItem> {
        let root: String = before_dot
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        match root.as_str() {
            builtins::CONTACT => self.contact_fields(),
            builtins::CONVERSATION => self.simple(
                builtins::conversation::FIELDS.iter().copied(),
                CompletionItemKind::FIELD,
                "conversation",
            ),
            builtins::TICKET => self.simple(
                builtins::ticket::ALL.iter().copied(),
                CompletionItemKind::FIELD,
                "ticket",
            ),
            variable => self.result_fields(variable),
        }
    }

    fn contact_fields(&self) -> Vec<CompletionItem> {
        let mut items = self.simple(
            BUILTIN_CONTACT_FIELDS.iter().copied(),
            CompletionItemKind::FIELD,
            "text (built in)",
        );
        if let Some(workspace) = self.workspace() {
            for (name, spec) in &workspace.config.contact_fields {
                let mut item = self.item(name, CompletionItemKind::FIELD, spec.kind().as_str());
                if let FieldSpec::Full(detail) = spec
                    && let Some(description) = &detail.description
                {
                    item.documentation = Some(Documentation::String(description.clone()));
                }
                items.push(item);
            }
        }
        items
    }

    /// The fields of the record a `call … as NAME` gave.
    fn result_fields(&self, variable: &str) -> Vec<CompletionItem> {
        let (Some(names), Some(workspace)) = (self.names(), self.workspace()) else {
            return Vec::new();
        };
        let action = names.all.iter().find_map(|o| match &o.kind {
            Kind::VarWrite {
                action: Some(action),
            } if o.name == variable => Some(action.clone()),
            _ => None,
        });
        let Some(record) = action
            .and_then(|a| workspace.action(&a))
            .and_then(|a| a.result)
        else {
            return Vec::new();
        };
        record
            .fields
            .iter()
            .map(|(name, ty)| self.item(name, CompletionItemKind::FIELD, &ty.to_string()))
            .collect()
    }

    fn teams(&self) -> Vec<CompletionItem> {
        let teams = self
            .workspace()
            .map(|w| w.config.teams.clone())
            .unwrap_or_default();
        self.simple(
            teams.iter().map(String::as_str),
            CompletionItemKind::ENUM_MEMBER,
            "team",
        )
    }

    fn schedules(&self) -> Vec<CompletionItem> {
        let names: Vec<String> = self
            .workspace()
            .map(|w| w.config.schedules.keys().cloned().collect())
            .unwrap_or_default();
        self.simple(
            names.iter().map(String::as_str),
            CompletionItemKind::ENUM_MEMBER,
            "schedule",
        )
    }

    fn validators(&self) -> Vec<CompletionItem> {
        self.simple(
            NamedValidator::names(),
            CompletionItemKind::ENUM_MEMBER,
            "validator",
        )
    }

    /// After a message's text: the scenario's other languages.
    fn translations(&self) -> Vec<CompletionItem> {
        let languages: Vec<String> = self
            .doc
            .good
            .as_ref()
            .and_then(|good| good.parsed.scenario.as_ref())
            .map(|s| {
                s.languages()
                    .iter()
                    .skip(1)
                    .map(|l| l.text.clone())
                    .collect()
            })
            .unwrap_or_default();
        self.simple(
            languages.iter().map(String::as_str),
            CompletionItemKind::CONSTANT,
            "translation",
        )
    }

    fn functions(&self) -> Vec<CompletionItem> {
        functions::FUNCTIONS
            .iter()
            .map(|f| {
                let args: Vec<String> = (1..=f.params.len()).map(|i| format!("${i}")).collect();
                let mut item = self.snippet(
                    f.name,
                    format!("{}({})", f.name, args.join(", ")),
                    CompletionItemKind::FUNCTION,
                    &format!("function → {}", f.result),
                );
                item.documentation = Some(Documentation::String(f.summary.to_owned()));
                item.sort_text = Some(format!("2{}", f.name));
                item
            })
            .collect()
    }

    /// Every action the document's config allows, with its required parameters to fill in.
    fn actions(&self) -> Vec<CompletionItem> {
        let Some(workspace) = self.workspace() else {
            return Vec::new();
        };
        workspace
            .action_names()
            .iter()
            .filter_map(|name| workspace.action(name))
            .map(|action| {
                let mut fields = Vec::new();
                for param in action.params.iter().filter(|p| p.required) {
                    fields.push(format!("{}: ${}", param.name, fields.len() + 1));
                }
                let mut snippet = format!("{}({})", action.name, fields.join(", "));
                let mut next = fields.len() + 1;
                if action.result.is_some() {
                    let _ = write!(snippet, " as ${{{next}:result}}");
                    next += 1;
                }
                if action.fallible {
                    let _ = write!(snippet, " {{ on error goto ${next} }}");
                }
                let mut item = self.snippet(
                    &action.name,
                    snippet,
                    CompletionItemKind::METHOD,
                    &action.summary,
                );
                item.documentation = Some(Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: crate::hover::signature(&action),
                }));
                item
            })
            .collect()
    }

    /// The flows of the document's folder and of the document, with their parameters.
    fn flows(&self) -> Vec<CompletionItem> {
        let mut flows = self.parsed_flows();
        for (name, file) in self.doc.library.flows() {
            if flows.iter().any(|f| f.name.text == name) {
                continue;
            }
            if let Ok(parsed) = syntax::parse(&SourceFile::new(file.name(), file.text())) {
                flows.extend(parsed.flows.into_iter().filter(|f| f.name.text == name));
            }
        }
        flows
            .iter()
            .map(|flow| {
                let args: Vec<String> = flow
                    .params
                    .iter()
                    .enumerate()
                    .map(|(i, p)| format!("{}: ${}", p.name.text, i + 1))
                    .collect();
                let alias = flow.params.len() + 1;
                let snippet = format!(
                    "{}({}) as ${{{alias}:{}}}",
                    flow.name.text,
                    args.join(", "),
                    flow.name.text
                );
                let params: Vec<String> = flow
                    .params
                    .iter()
                    .map(|p| format!("{}: {}", p.name.text, p.kind.word()))
                    .collect();
                self.snippet(
                    &flow.name.text,
                    snippet,
                    CompletionItemKind::MODULE,
                    &format!("flow({})", params.join(", ")),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::in_text;

    #[test]
    fn texts_are_told_from_their_placeholders() {
        assert!(in_text("    say \"Hello "));
        assert!(!in_text("    say \"Hello {contact."));
        assert!(in_text("    say \"Hello {name}, \\\" "));
        assert!(!in_text("    say \"Hello\" "));
        assert!(!in_text("    goto "));
    }
}
