//! The document's shape: its symbols (the scenario, its steps and includes; each flow and its
//! steps), the ranges an editor can fold (steps, flows, multi-line statements and blocks) and
//! its formatting (`fmt::format`, the formatter `scenarist fmt` runs).

use lsp_types::{
    DocumentSymbol, DocumentSymbolResponse, FoldingRange, FoldingRangeKind, SymbolKind, TextEdit,
};
use scenarist_lang::ast::{Item, ItemKind, Stmt, StmtKind, for_each_in};
use scenarist_lang::fmt;
use scenarist_lang::source::{SourceFile, Span};
use scenarist_lang::syntax;

use crate::document::Document;

/// One edit replacing the whole text with its formatted form; none when it is formatted
/// already, `None` when the text does not parse (there is nothing to format from).
pub(crate) fn format(doc: &Document) -> Option<Vec<TextEdit>> {
    let file = SourceFile::new(doc.name.as_str(), doc.text.as_str());
    let parsed = syntax::parse(&file).ok()?;
    let formatted = fmt::format(&parsed, &file);
    if formatted == doc.text {
        return Some(Vec::new());
    }
    let whole = doc.index.range(&doc.text, Span::new(0, doc.text.len()));
    Some(vec![TextEdit::new(whole, formatted)])
}

#[expect(
    deprecated,
    reason = "DocumentSymbol's `deprecated` field must still be written"
)]
fn symbol(
    doc: &Document,
    name: &str,
    detail: Option<String>,
    kind: SymbolKind,
    span: Span,
    name_span: Span,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    DocumentSymbol {
        name: if name.is_empty() {
            "?".to_owned()
        } else {
            name.to_owned()
        },
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: doc.index.range(&doc.text, span),
        selection_range: doc.index.range(&doc.text, name_span),
        children: (!children.is_empty()).then_some(children),
    }
}

pub(crate) fn symbols(doc: &Document) -> DocumentSymbolResponse {
    let mut out = Vec::new();
    if let Some(good) = doc.fresh() {
        let parsed = &good.parsed;
        if let Some(scenario) = &parsed.scenario {
            let children = items(doc, &scenario.items);
            out.push(symbol(
                doc,
                &scenario.name.text,
                Some("scenario".to_owned()),
                SymbolKind::MODULE,
                scenario.span,
                scenario.name.span,
                children,
            ));
        }
        for flow in &parsed.flows {
            let params: Vec<String> = flow
                .params
                .iter()
                .map(|p| format!("{}: {}", p.name.text, p.kind.word()))
                .collect();
            let children = items(doc, &flow.items);
            out.push(symbol(
                doc,
                &flow.name.text,
                Some(format!("flow({})", params.join(", "))),
                SymbolKind::NAMESPACE,
                flow.span,
                flow.name.span,
                children,
            ));
        }
    }
    DocumentSymbolResponse::Nested(out)
}

fn items(doc: &Document, items: &[Item]) -> Vec<DocumentSymbol> {
    items
        .iter()
        .filter_map(|item| match &item.kind {
            ItemKind::Step(step) => Some(symbol(
                doc,
                &step.name.text,
                Some("step".to_owned()),
                SymbolKind::FUNCTION,
                step.span,
                step.name.span,
                Vec::new(),
            )),
            ItemKind::Include(include) => Some(symbol(
                doc,
                &include.name().text,
                Some(format!("include {}", include.flow.text)),
                SymbolKind::MODULE,
                item.span,
                include.name().span,
                Vec::new(),
            )),
            _ => None,
        })
        .collect()
}

pub(crate) fn folding(doc: &Document) -> Vec<FoldingRange> {
    let mut spans = Vec::new();
    if let Some(good) = doc.fresh() {
        let parsed = &good.parsed;
        if let Some(scenario) = &parsed.scenario {
            spans.push(scenario.span);
            fold_items(&scenario.items, &mut spans);
        }
        for flow in &parsed.flows {
            spans.push(flow.span);
            fold_items(&flow.items, &mut spans);
        }
    }
    let mut ranges: Vec<FoldingRange> = spans
        .into_iter()
        .filter_map(|span| {
            let range = doc.index.range(&doc.text, span);
            (range.end.line > range.start.line).then_some(FoldingRange {
                start_line: range.start.line,
                start_character: None,
                end_line: range.end.line,
                end_character: None,
                kind: Some(FoldingRangeKind::Region),
                collapsed_text: None,
            })
        })
        .collect();
    ranges.dedup_by_key(|r| (r.start_line, r.end_line));
    ranges
}

fn fold_items(items: &[Item], spans: &mut Vec<Span>) {
    for item in items {
        if let ItemKind::Step(step) = &item.kind {
            spans.push(step.span);
            for_each_in(&step.body.statements, &mut |stmt: &Stmt| {
                fold_stmt(stmt, spans);
            });
        }
    }
}

fn fold_stmt(stmt: &Stmt, spans: &mut Vec<Span>) {
    match &stmt.kind {
        StmtKind::If(if_stmt) => {
            spans.extend(if_stmt.branches.iter().map(|b| b.body.span));
            spans.extend(if_stmt.otherwise.as_ref().map(|b| b.span));
        }
        _ => spans.push(stmt.span),
    }
}
