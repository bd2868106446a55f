//! A flow on its own, before any scenario includes it: its declarations (C117, C102, C103),
//! the steps its `goto`s name (C101: its own steps and its step parameters), parameters used
//! as the wrong kind (C130) and parameters never used (L217). What depends on the including
//! scenario (fields, types, teams, languages) is checked in each scenario that includes it.

use std::collections::HashMap;

use crate::ast::{Flow, ItemKind, Name, ParamKind, Path, Stmt, StmtKind, VisitMut, walk_stmt_mut};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::source::Span;

pub(super) fn check(flows: &[Flow], out: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, &Name> = HashMap::new();
    for flow in flows {
        if let Some(earlier) = first.get(flow.name.text.as_str()) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateDeclaration,
                    flow.name.span,
                    format!("flow `{}` is declared twice", flow.name.text),
                )
                .with_secondary(earlier.span, "first declared here")
                .with_help("rename one of them; `include` could not tell them apart"),
            );
            continue;
        }
        first.insert(&flow.name.text, &flow.name);
        check_flow(flow, out);
    }
}

fn check_flow(flow: &Flow, out: &mut Vec<Diagnostic>) {
    let mut params: HashMap<&str, &Name> = HashMap::new();
    for param in &flow.params {
        if let Some(earlier) = params.insert(&param.name.text, &param.name) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateDeclaration,
                    param.name.span,
                    format!("parameter `{}` is declared twice", param.name.text),
                )
                .with_secondary(earlier.span, "first declared here")
                .with_help("rename one of them"),
            );
        }
    }
    let mut steps: HashMap<&str, &Name> = HashMap::new();
    let (mut starts, mut descriptions) = (0, 0);
    for item in &flow.items {
        match &item.kind {
            ItemKind::Step(step) => {
                if let Some(earlier) = steps.insert(&step.name.text, &step.name) {
                    out.push(super::steps::duplicate_step(&step.name, earlier));
                }
            }
            ItemKind::Start(_) => starts += 1,
            ItemKind::Description(_) => descriptions += 1,
            _ => {}
        }
        let twice = match &item.kind {
            ItemKind::Start(_) if starts == 2 => Some("start"),
            ItemKind::Description(_) if descriptions == 2 => Some("description"),
            _ => None,
        };
        if let Some(what) = twice {
            out.push(
                Diagnostic::new(
                    Code::DuplicateDeclaration,
                    item.span,
                    format!("`{what}` is declared twice"),
                )
                .with_help(format!("keep one `{what}`")),
            );
        }
    }
    if flow.start().is_none() {
        let first = flow.steps().next().map(|s| s.name.text.as_str());
        out.push(
            Diagnostic::new(
                Code::MissingStart,
                flow.name.span,
                format!("flow `{}` does not say where it starts", flow.name.text),
            )
            .with_label("no `start` in this flow")
            .with_help(match first {
                Some(first) => {
                    format!("add `start {first}` (or another step) at the top of the flow")
                }
                None => "add a step, then `start` with its name".to_owned(),
            }),
        );
    }

    let mut uses = Uses::default();
    for item in &flow.items {
        let mut item = item.clone();
        match &mut item.kind {
            ItemKind::Start(name) => uses.step_ref(name),
            ItemKind::Step(step) => crate::ast::walk_step_mut(&mut uses, step),
            _ => {}
        }
    }
    let kind_of = |name: &str| flow.param(name).map(|p| p.kind);
    let targets: Vec<&str> = steps
        .keys()
        .copied()
        .chain(
            flow.params
                .iter()
                .filter(|p| p.kind == ParamKind::Step)
                .map(|p| p.name.text.as_str()),
        )
        .collect();
    for (name, span) in &uses.steps {
        match kind_of(name) {
            Some(ParamKind::Step) => {}
            Some(ParamKind::Field) => out.push(wrong_kind(name, *span, ParamKind::Field)),
            None if steps.contains_key(name.as_str()) => {}
            None => {
                let help = did_you_mean(name, targets.iter().copied()).unwrap_or_else(|| {
                    format!(
                        "add `step {name} {{ … }}` to the flow, or a parameter `{name}: step` that the including scenario fills in"
                    )
                });
                out.push(
                    Diagnostic::new(
                        Code::UnknownStep,
                        *span,
                        format!("flow `{}` has no step named `{name}`", flow.name.text),
                    )
                    .with_label("unknown step")
                    .with_help(help),
                );
            }
        }
    }
    for (root, span) in &uses.paths {
        if kind_of(root) == Some(ParamKind::Step) {
            out.push(wrong_kind(root, *span, ParamKind::Step));
        }
    }
    for param in &flow.params {
        let mut names = uses.steps.iter().chain(&uses.paths).map(|(n, _)| n);
        if !names.any(|n| *n == param.name.text) {
            out.push(
                Diagnostic::new(
                    Code::UnusedParameter,
                    param.name.span,
                    format!("parameter `{}` is never used", param.name.text),
                )
                .with_help(
                    "use it in the flow's steps, or remove it (and its value from each `include`)",
                ),
            );
        }
    }
}

fn wrong_kind(name: &str, span: Span, declared: ParamKind) -> Diagnostic {
    let (message, help) = match declared {
        ParamKind::Field => (
            format!("`{name}` is a field parameter; a step is needed here"),
            format!("declare it as `{name}: step`, or go to a step"),
        ),
        ParamKind::Step => (
            format!("`{name}` is a step parameter; it cannot be read or saved"),
            format!("declare it as `{name}: field`, or only `goto {name}`"),
        ),
    };
    Diagnostic::new(Code::ParameterKindMismatch, span, message).with_help(help)
}

/// The step names and path roots a flow uses, with where.
#[derive(Default)]
struct Uses {
    steps: Vec<(String, Span)>,
    paths: Vec<(String, Span)>,
}

impl VisitMut for Uses {
    fn step_ref(&mut self, name: &mut Name) {
        self.steps.push((name.text.clone(), name.span));
    }

    fn path(&mut self, path: &mut Path) {
        self.paths.push((path.root().to_owned(), path.span));
    }

    fn stmt(&mut self, stmt: &mut Stmt) {
        if let StmtKind::Set { name, .. } = &stmt.kind {
            self.paths.push((name.text.clone(), name.span));
        }
        walk_stmt_mut(self, stmt);
    }
}
