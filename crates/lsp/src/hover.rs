//! Hover: the explanation of a finding's code (its `docs/codes/<ID>.md` page, what
//! `lint --explain` prints) over the finding's span, and over a name what it is: a contact
//! field's type and description, an action's signature and result, a step's first line, a
//! flow's description and parameters.

use std::fmt::Write as _;

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position};
use scenarist_lang::actions::Action;
use scenarist_lang::ast::{ItemKind, StmtKind};
use scenarist_lang::builtins;
use scenarist_lang::config::{FieldSpec, Workspace};

use crate::document::Document;
use crate::names::{Kind, Occurrence};

pub(crate) fn hover(doc: &Document, position: Position) -> Option<Hover> {
    let offset = doc.index.offset(&doc.text, position);
    let mut parts = Vec::new();
    if let Some(good) = doc.fresh()
        && let Some(occurrence) = good.names().at(offset)
    {
        parts.extend(describe(doc, occurrence));
    }
    if let Some(report) = doc.reports.first() {
        for found in &report.diagnostics {
            let span = found.primary.span;
            if span.start as usize <= offset && offset <= span.end as usize {
                parts.push(format!(
                    "**{}** `{}`: {}\n\n{}",
                    found.code.id(),
                    found.code.name(),
                    found.message,
                    found.code.explanation().trim_end()
                ));
            }
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: parts.join("\n\n---\n\n"),
        }),
        range: None,
    })
}

fn describe(doc: &Document, occurrence: &Occurrence) -> Option<String> {
    let workspace = doc.workspace.as_deref()?;
    match &occurrence.kind {
        Kind::ContactField => Some(field(workspace, &occurrence.name)),
        Kind::Action => workspace.action(&occurrence.name).map(|a| signature(&a)),
        Kind::StepDecl | Kind::StepRef => step(doc, occurrence),
        Kind::VarWrite { action } => Some(match action {
            Some(action) => format!("variable `{}`: the result of `{action}`", occurrence.name),
            None => format!("variable `{}`", occurrence.name),
        }),
        Kind::VarRead => Some(format!("variable `{}`", occurrence.name)),
        Kind::IncludeName { flow } => Some(flow_doc(doc, flow)),
        Kind::IncludeFlow | Kind::FlowDecl => Some(flow_doc(doc, &occurrence.name)),
    }
}

fn field(workspace: &Workspace, name: &str) -> String {
    if builtins::contact::FIELDS.contains(&name) {
        return format!("```scn\ncontact.{name}: text\n```\nBuilt in: the runtime fills it in.");
    }
    match workspace.config.contact_fields.get(name) {
        Some(spec) => {
            let mut out = format!("```scn\ncontact.{name}: {}\n```", spec.kind().as_str());
            if let FieldSpec::Full(detail) = spec
                && let Some(description) = &detail.description
            {
                let _ = write!(out, "\n{description}");
            }
            let _ = write!(out, "\n\nDeclared in `{}`.", workspace.file.name());
            out
        }
        None => format!(
            "`contact.{name}` is not declared in `{}`.",
            workspace.file.name()
        ),
    }
}

/// `name(param: type, optional?: type) → result { fields }`, the summary and each
/// parameter's documentation, in Markdown.
pub(crate) fn signature(action: &Action) -> String {
    let params: Vec<String> = action
        .params
        .iter()
        .map(|p| format!("{}{}: {}", p.name, if p.required { "" } else { "?" }, p.ty))
        .collect();
    let mut out = format!("```scn\ncall {}({})", action.name, params.join(", "));
    if let Some(record) = action.result {
        let fields: Vec<String> = record
            .fields
            .iter()
            .map(|(n, t)| format!("{n}: {t}"))
            .collect();
        let _ = write!(
            out,
            " as RESULT\n# RESULT: {} {{ {} }}",
            record.name,
            fields.join(", ")
        );
    }
    out.push_str("\n```\n");
    out.push_str(&action.summary);
    if action.fallible {
        let _ = write!(
            out,
            "\n\nIt can fail ({}): `on error goto STEP` is required.",
            action.remote
        );
    }
    for param in action.params.iter() {
        let _ = write!(out, "\n- `{}`: {}", param.name, param.doc);
    }
    out
}

/// The step's declaration and its first statement's line.
fn step(doc: &Document, occurrence: &Occurrence) -> Option<String> {
    let good = doc.fresh()?;
    let decl = good
        .names()
        .step_decl(occurrence.container, &occurrence.name)?;
    let parsed = &good.parsed;
    let items = match occurrence.container {
        0 => &parsed.scenario.as_ref()?.items,
        n => &parsed.flows.get(n - 1)?.items,
    };
    let step = items.iter().find_map(|item| match &item.kind {
        ItemKind::Step(step) if step.name.span == decl.span => Some(step),
        _ => None,
    })?;
    let first = step.body.statements.first().map_or("", |stmt| {
        let line = doc.index.position(&doc.text, stmt.span.start as usize).line as usize;
        doc.text.lines().nth(line).unwrap_or("").trim()
    });
    let ends = match step.body.statements.last().map(|s| &s.kind) {
        Some(StmtKind::Goto(target)) => format!("\n\nthen goes to `{}`", target.text),
        _ => String::new(),
    };
    Some(format!(
        "```scn\nstep {} {{\n  {first}\n  …\n```{ends}",
        step.name.text
    ))
}

fn flow_doc(doc: &Document, name: &str) -> String {
    let own = doc
        .good
        .as_ref()
        .and_then(|g| g.parsed.flows.iter().find(|f| f.name.text == name).cloned());
    let flow = own.or_else(|| {
        let file = doc.library.file_of(name)?;
        let parsed = scenarist_lang::syntax::parse(file).ok()?;
        parsed.flows.into_iter().find(|f| f.name.text == name)
    });
    let Some(flow) = flow else {
        return format!("flow `{name}` (not found in the scenarios folder)");
    };
    let params: Vec<String> = flow
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name.text, p.kind.word()))
        .collect();
    let mut out = format!(
        "```scn\nflow {}({})\n```",
        flow.name.text,
        params.join(", ")
    );
    let description = flow.items.iter().find_map(|item| match &item.kind {
        ItemKind::Description(text) => text.as_literal(),
        _ => None,
    });
    if let Some(description) = description {
        let _ = write!(out, "\n{description}");
    }
    if let Some(file) = doc.library.file_of(name) {
        let _ = write!(out, "\n\nDeclared in `{}`.", file.name());
    }
    out
}
