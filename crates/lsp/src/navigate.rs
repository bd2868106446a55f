//! Go to definition, find references and rename, from the names of the current text's parse
//! (`names`): steps within their scenario or flow, variables, includes (an include's name
//! leads to its flow's start step, in the flow's own file), contact fields (to their
//! declaration in the config).

use std::collections::HashMap;

use lsp_types::{GotoDefinitionResponse, Location, Position, Range, TextEdit, Url, WorkspaceEdit};
use scenarist_lang::config;
use scenarist_lang::source::{SourceFile, Span};
use scenarist_lang::syntax;

use crate::document::Document;
use crate::names::{Kind, Occurrence};
use crate::position::LineIndex;

pub(crate) fn definition(doc: &Document, position: Position) -> Option<GotoDefinitionResponse> {
    let good = doc.fresh()?;
    let names = good.names();
    let offset = doc.index.offset(&doc.text, position);
    let occurrence = names.at(offset)?;
    let container = occurrence.container;
    let location = match &occurrence.kind {
        Kind::StepRef | Kind::StepDecl => match names.step_decl(container, &occurrence.name) {
            Some(decl) => here(doc, decl.span),
            None => flow_start(doc, names.include_named(container, &occurrence.name)?)?,
        },
        Kind::IncludeName { flow } => flow_start(doc, flow)?,
        Kind::IncludeFlow | Kind::FlowDecl => flow_start(doc, &occurrence.name)?,
        Kind::VarRead | Kind::VarWrite { .. } => {
            let first = names
                .variable_occurrences(container, &occurrence.name)
                .into_iter()
                .find(|o| matches!(o.kind, Kind::VarWrite { .. }))?;
            here(doc, first.span)
        }
        Kind::ContactField => {
            let workspace = doc.workspace.as_deref()?;
            in_file(&workspace.file, &["contact_fields", &occurrence.name])?
        }
        Kind::Action => {
            let workspace = doc.workspace.as_deref()?;
            let (api, action) = occurrence.name.split_once('.')?;
            workspace.config.apis.get(api)?.actions.get(action)?;
            in_file(&workspace.file, &["apis", api, "actions", action])?
        }
    };
    Some(GotoDefinitionResponse::Scalar(location))
}

pub(crate) fn references(doc: &Document, position: Position, declaration: bool) -> Vec<Location> {
    let Some((occurrences, _)) = related(doc, position) else {
        return Vec::new();
    };
    occurrences
        .into_iter()
        .filter(|o| declaration || !is_declaration(o))
        .map(|o| here(doc, o.span))
        .collect()
}

/// The edits that rename the step, variable or include alias under the cursor everywhere in
/// its scenario or flow; `Err` when the new name is not a name or is taken, or the cursor is
/// on none of them.
pub(crate) fn rename(
    doc: &Document,
    position: Position,
    new_name: &str,
) -> Result<Option<WorkspaceEdit>, String> {
    let Some((occurrences, what)) = related(doc, position) else {
        return Ok(None);
    };
    if what == What::Other {
        return Err("only steps, variables and includes' aliases can be renamed".to_owned());
    }
    let mut chars = new_name.chars();
    let is_name = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_name {
        return Err(format!(
            "`{new_name}` is not a name: letters, digits and `_`, not starting with a digit"
        ));
    }
    if let (What::Step | What::Include, Some(first), Some(good)) =
        (what, occurrences.first(), doc.fresh())
        && (good.names().step_decl(first.container, new_name).is_some()
            || good
                .names()
                .include_named(first.container, new_name)
                .is_some())
    {
        return Err(format!(
            "a step or include named `{new_name}` already exists"
        ));
    }
    let mut edits: Vec<TextEdit> = occurrences
        .iter()
        .map(|o| TextEdit::new(range(doc, o.span), new_name.to_owned()))
        .collect();
    edits.dedup_by_key(|e| e.range);
    Ok(Some(WorkspaceEdit {
        changes: Some(HashMap::from([(doc.uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum What {
    Step,
    Variable,
    /// An include's alias and the `goto`s to it.
    Include,
    Other,
}

/// The occurrences of the name under the cursor (declarations first), deduplicated.
fn related(doc: &Document, position: Position) -> Option<(Vec<&Occurrence>, What)> {
    let good = doc.fresh()?;
    let names = good.names();
    let offset = doc.index.offset(&doc.text, position);
    let occurrence = names.at(offset)?;
    let container = occurrence.container;
    let (mut found, what) = match &occurrence.kind {
        Kind::StepRef | Kind::StepDecl
            if names.step_decl(container, &occurrence.name).is_some() =>
        {
            (
                names.step_occurrences(container, &occurrence.name),
                What::Step,
            )
        }
        Kind::StepRef | Kind::IncludeName { .. } => {
            let found = names.include_occurrences(container, &occurrence.name);
            let aliased = found
                .iter()
                .any(|o| matches!(o.kind, Kind::IncludeName { .. }));
            (found, if aliased { What::Include } else { What::Other })
        }
        Kind::VarRead | Kind::VarWrite { .. } => (
            names.variable_occurrences(container, &occurrence.name),
            What::Variable,
        ),
        _ => (
            names
                .all
                .iter()
                .filter(|o| o.kind == occurrence.kind && o.name == occurrence.name)
                .collect(),
            What::Other,
        ),
    };
    found.sort_by_key(|o| (!is_declaration(o), o.span.start));
    found.dedup_by_key(|o| o.span);
    Some((found, what))
}

fn is_declaration(occurrence: &Occurrence) -> bool {
    matches!(
        occurrence.kind,
        Kind::StepDecl | Kind::IncludeName { .. } | Kind::FlowDecl
    )
}

fn range(doc: &Document, span: Span) -> Range {
    doc.index.range(&doc.text, span)
}

fn here(doc: &Document, span: Span) -> Location {
    Location::new(doc.uri.clone(), range(doc, span))
}

/// The start step of flow `name`: declared in the document, else in its folder's library.
fn flow_start(doc: &Document, name: &str) -> Option<Location> {
    if let Some(good) = doc.fresh()
        && let Some(flow) = good.parsed.flows.iter().find(|f| f.name.text == name)
    {
        let target = flow.start().and_then(|start| {
            flow.steps()
                .find(|s| s.name.text == start.text)
                .map(|s| s.name.span)
        });
        return Some(here(doc, target.unwrap_or(flow.name.span)));
    }
    let file = doc.library.file_of(name)?;
    let parsed = syntax::parse(file).ok()?;
    let flow = parsed.flows.iter().find(|f| f.name.text == name)?;
    let target = flow
        .start()
        .and_then(|start| flow.steps().find(|s| s.name.text == start.text))
        .map_or(flow.name.span, |s| s.name.span);
    location_in(file, target)
}

/// A key of a YAML file (the config), found as `config::locate` finds it for its findings.
fn in_file(file: &SourceFile, path: &[&str]) -> Option<Location> {
    location_in(file, config::locate(file.text(), path))
}

fn location_in(file: &SourceFile, span: Span) -> Option<Location> {
    let path = std::fs::canonicalize(file.name()).ok()?;
    let uri = Url::from_file_path(path).ok()?;
    let index = LineIndex::new(file.text());
    Some(Location::new(uri, index.range(file.text(), span)))
}
