//! AST → diagnostics: everything that makes a parsed scenario wrong or risky, judged
//! against the workspace config (fields, teams, channels, accounts) and the action
//! registry. Every finding is collected, so one run reports them all.
//!
//! The checks, one file per concern: `steps` (names and declarations), `flow` (the step
//! graph and definite assignment) with `flow_rules` (what it finds), `typing` (names and
//! types of expressions), `ask`, `call`, `messages` (teams and channel limits),
//! `variables` (unused and read-only), `sync` (mode-B duties), `languages` (translations).

mod answers;
mod ask;
mod call;
pub mod flow;
mod flow_rules;
mod flows;
mod functions;
mod languages;
mod messages;
mod rich;
mod steps;
mod sync;
mod typing;
mod variables;
mod varset;
mod writes;

pub use flow::StepGraph;

use std::collections::HashSet;

use crate::ast::{AskOptionKind, Message, Scenario, StmtKind, Validator};
use crate::config::Workspace;
use crate::diagnostic::{Code, Diagnostic};
use crate::include::{self, Site};
use crate::source::Span;
use crate::syntax::Parsed;
use typing::Typer;

/// Checks a parsed file: its flows on their own, and its scenario with the flows it
/// includes (from `parsed.flows`) expanded; returns every finding, lowering's included.
pub fn check(parsed: &Parsed, workspace: &Workspace) -> Vec<Diagnostic> {
    let mut diagnostics = parsed.diagnostics.clone();
    flows::check(&parsed.flows, &mut diagnostics);
    if let Some(scenario) = &parsed.scenario {
        // Most scenarios include nothing: checked as they are, without a copy.
        if scenario.includes().next().is_none() {
            diagnostics.extend(check_scenario(scenario, &[], workspace));
            return diagnostics;
        }
        let expansion = include::expand(scenario, &parsed.flows);
        diagnostics.extend(expansion.diagnostics);
        // A flow's own mistakes are reported once, by `flows`, not again in the expansion.
        let known: HashSet<(Code, Span)> = diagnostics
            .iter()
            .map(|d| (d.code, d.primary.span))
            .collect();
        let found = check_scenario(&expansion.scenario, &expansion.sites, workspace);
        diagnostics.extend(
            found
                .into_iter()
                .filter(|d| !known.contains(&(d.code, d.primary.span))),
        );
    }
    diagnostics
}

/// The checks of flows on their own (a file of flows is checked with nothing else).
pub fn check_flows(flows: &[crate::ast::Flow], out: &mut Vec<Diagnostic>) {
    flows::check(flows, out);
}

/// Checks a scenario whose includes are expanded.
fn check_scenario(scenario: &Scenario, sites: &[Site], workspace: &Workspace) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let graph = StepGraph::build(scenario);
    let mut typer = Typer::new(scenario, workspace, &graph.answer_types);
    type_everything(scenario, &mut typer);

    steps::check(scenario, &graph, &mut diagnostics);
    flow_rules::check(&graph, &typer, sites, &mut diagnostics);
    ask::check(scenario, &mut typer, &mut diagnostics);
    call::check(scenario, &mut typer, &mut diagnostics);
    messages::check(scenario, workspace, &mut diagnostics);
    rich::check(scenario, workspace, &mut diagnostics);
    languages::check(scenario, workspace, &mut diagnostics);
    variables::check(scenario, &mut diagnostics);
    sync::check(scenario, &graph, workspace, &mut diagnostics);
    diagnostics.append(&mut typer.diagnostics);
    diagnostics
}

/// Resolves every expression once, so each unknown name or type error is reported once.
/// (Call arguments are typed against their parameters in `call`.)
fn type_everything(scenario: &Scenario, typer: &mut Typer<'_>) {
    scenario.for_each_statement(&mut |stmt| match &stmt.kind {
        StmtKind::Say(message) => message.texts().for_each(|text| typer.check_text(text)),
        StmtKind::SayOneOf(variants) => variants
            .iter()
            .flat_map(Message::texts)
            .for_each(|text| typer.check_text(text)),
        StmtKind::Rich(rich) => {
            let messages = rich.messages();
            let texts = messages.iter().flat_map(|m| m.texts());
            texts
                .chain(rich.urls())
                .for_each(|text| typer.check_text(text));
        }
        StmtKind::RouteTeam(text) => typer.check_text(text),
        StmtKind::Set { value, .. } => {
            typer.type_of(value);
        }
        StmtKind::SetField { target, value } => typer.check_set_field(target, value),
        StmtKind::If(if_stmt) => {
            for branch in &if_stmt.branches {
                let ty = typer.type_of(&branch.condition);
                typer.expect_condition(&branch.condition, ty, "an `if` needs a condition");
            }
        }
        StmtKind::Ask(ask) => {
            ask.prompt.texts().for_each(|text| typer.check_text(text));
            for option in &ask.options {
                match &option.kind {
                    AskOptionKind::Invalid(message)
                    | AskOptionKind::Choice { label: message, .. } => {
                        message.texts().for_each(|text| typer.check_text(text));
                    }
                    AskOptionKind::Expect(Validator::Regex(regex))
                    | AskOptionKind::When { regex, .. } => typer.check_regex(regex),
                    AskOptionKind::Expect(Validator::OneOf(texts)) => {
                        for text in texts {
                            typer.check_text(text);
                        }
                    }
                    _ => {}
                }
            }
        }
        StmtKind::Call(_) | StmtKind::Goto(_) | StmtKind::Handoff | StmtKind::End => {}
    });
}

#[cfg(test)]
mod tests;
