//! Step names and scenario declarations: unknown step (C101), duplicate step (C102),
//! missing start (C103), `start`, `description`, `languages` or `language from` declared
//! twice (C117).

use std::collections::HashMap;

use super::flow::StepGraph;
use crate::ast::{AskOptionKind, Hook, ItemKind, Jump, JumpKind, Name, Scenario, Stmt, StmtKind};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};

pub(super) fn check(scenario: &Scenario, graph: &StepGraph<'_>, out: &mut Vec<Diagnostic>) {
    let mut first_step: HashMap<&str, &Name> = HashMap::new();
    let mut first_start = None;
    let mut first_description = None;
    let mut first_languages = None;
    let mut first_language_from = None;
    let (mut first_close, mut first_resume) = (None, None);
    let mut first_escape = None;
    for item in &scenario.items {
        match &item.kind {
            ItemKind::Step(step) => {
                if let Some(first) = first_step.get(step.name.text.as_str()) {
                    out.push(duplicate_step(&step.name, first));
                } else {
                    first_step.insert(&step.name.text, &step.name);
                }
            }
            ItemKind::Start(_) => duplicate(&mut first_start, item.span, "start", out),
            ItemKind::Description(_) => {
                duplicate(&mut first_description, item.span, "description", out);
            }
            ItemKind::Languages(_) => duplicate(&mut first_languages, item.span, "languages", out),
            ItemKind::Entry(_) | ItemKind::Include(_) => {}
            ItemKind::Hook { event, .. } => {
                let first = match event {
                    Hook::Close => &mut first_close,
                    Hook::Resume => &mut first_resume,
                };
                duplicate(first, item.span, &format!("on {}", event.word()), out);
            }
            ItemKind::LanguageFrom(_) => {
                duplicate(&mut first_language_from, item.span, "language from", out);
            }
            ItemKind::Escape(_) => duplicate(&mut first_escape, item.span, "escape", out),
        }
    }

    let step_names: Vec<&str> = graph.steps.iter().map(|s| s.name.text.as_str()).collect();
    match scenario.start() {
        None => out.push(
            Diagnostic::new(
                Code::MissingStart,
                scenario.name.span,
                format!(
                    "scenario `{}` does not say where it starts",
                    scenario.name.text
                ),
            )
            .with_label("no `start` in this scenario")
            .with_help(match step_names.first() {
                Some(first) => {
                    format!("add `start {first}` (or another step) at the top of the scenario")
                }
                None => "add a step, then `start` with its name".to_owned(),
            }),
        ),
        Some(name) => unknown(name, &step_names, out),
    }
    for name in scenario
        .other_beginnings()
        .chain(scenario.escape().and_then(|escape| goto(&escape.target)))
    {
        unknown(name, &step_names, out);
    }
    scenario.for_each_statement(&mut |stmt| {
        for name in targets(stmt) {
            unknown(name, &step_names, out);
        }
    });
}

/// C102 for `second`, a step named like `first`.
pub(super) fn duplicate_step(second: &Name, first: &Name) -> Diagnostic {
    Diagnostic::new(
        Code::DuplicateStep,
        second.span,
        format!("there is already a step named `{}`", second.text),
    )
    .with_label("second step with this name")
    .with_secondary(first.span, "first defined here")
    .with_help("rename one of them; `goto` could not tell them apart")
}

fn duplicate(
    first: &mut Option<crate::source::Span>,
    span: crate::source::Span,
    what: &str,
    out: &mut Vec<Diagnostic>,
) {
    match first {
        Some(first) => out.push(
            Diagnostic::new(
                Code::DuplicateDeclaration,
                span,
                format!("`{what}` is declared twice"),
            )
            .with_secondary(*first, "first declared here")
            .with_help(format!("keep one `{what}`")),
        ),
        None => *first = Some(span),
    }
}

fn unknown(name: &Name, steps: &[&str], out: &mut Vec<Diagnostic>) {
    if steps.contains(&name.text.as_str()) {
        return;
    }
    let help = did_you_mean(&name.text, steps.iter().copied())
        .unwrap_or_else(|| format!("add `step {} {{ … }}` or name an existing step", name.text));
    out.push(
        Diagnostic::new(
            Code::UnknownStep,
            name.span,
            format!("there is no step named `{}`", name.text),
        )
        .with_label("unknown step")
        .with_help(help),
    );
}

fn goto(jump: &Jump) -> Option<&Name> {
    match &jump.kind {
        JumpKind::Goto(name) => Some(name),
        JumpKind::Handoff | JumpKind::End => None,
    }
}

/// The step names a statement jumps to (not those of nested statements).
fn targets(stmt: &Stmt) -> Vec<&Name> {
    match &stmt.kind {
        StmtKind::Goto(name) => vec![name],
        StmtKind::Ask(ask) => ask
            .options
            .iter()
            .filter_map(|option| match &option.kind {
                AskOptionKind::Attempts { then, .. } | AskOptionKind::Timeout { then, .. } => {
                    goto(then)
                }
                AskOptionKind::Choice { target, .. } => target.as_ref(),
                AskOptionKind::When { target, .. } => Some(target),
                _ => None,
            })
            .collect(),
        StmtKind::Call(call) => call.on_error.as_ref().and_then(goto).into_iter().collect(),
        StmtKind::If(_)
        | StmtKind::Say(_)
        | StmtKind::SayOneOf(_)
        | StmtKind::Rich(_)
        | StmtKind::Set { .. }
        | StmtKind::SetField { .. }
        | StmtKind::RouteTeam(_)
        | StmtKind::Handoff
        | StmtKind::End => Vec::new(),
    }
}
