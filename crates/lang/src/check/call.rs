//! `call` statements against the action registry: unknown action (C104), missing (C105),
//! unknown (C106), mistyped (C107) or repeated (C117) arguments, a fallible action without
//! `on error` (C116), and an `as` name that is reserved or names no result (C119, C121).
//! Built-in actions and those the workspace declares under `apis:` are found by one lookup
//! (`Workspace::action`) and checked alike.

use std::collections::HashMap;

use super::typing::{Typer, article};
use super::varset::RESERVED_ROOTS;
use crate::ast::{Call, Scenario, StmtKind};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::source::Span;
use crate::types::Type;

pub(super) fn check(scenario: &Scenario, typer: &mut Typer<'_>, out: &mut Vec<Diagnostic>) {
    scenario.for_each_statement(&mut |stmt| {
        if let StmtKind::Call(call) = &stmt.kind {
            check_call(call, stmt.span, typer, out);
        }
    });
}

fn check_call(call: &Call, span: Span, typer: &mut Typer<'_>, out: &mut Vec<Diagnostic>) {
    if let Some(name) = &call.result {
        if RESERVED_ROOTS.contains(&name.text.as_str()) {
            out.push(
                Diagnostic::new(
                    Code::ReadOnlyTarget,
                    name.span,
                    format!("`{}` is a name the runtime owns", name.text),
                )
                .with_help("name the result differently, such as `as ticket`"),
            );
        }
    }
    let Some(action) = typer.workspace.action(&call.action.text) else {
        let names = typer.workspace.action_names();
        let help = did_you_mean(&call.action.text, names.iter().map(String::as_str))
            .unwrap_or_else(|| format!("the actions are {}", names.join(", ")));
        out.push(
            Diagnostic::new(
                Code::UnknownAction,
                call.action.span,
                format!("there is no action named `{}`", call.action.text),
            )
            .with_label("unknown action")
            .with_help(help),
        );
        // Still type the arguments, so their own mistakes are reported.
        for argument in &call.arguments {
            typer.type_of(&argument.value);
        }
        return;
    };

    let mut given: HashMap<&str, Span> = HashMap::new();
    for argument in &call.arguments {
        let name = argument.name.text.as_str();
        let ty = typer.type_of(&argument.value);
        if let Some(first) = given.get(name) {
            out.push(
                Diagnostic::new(
                    Code::DuplicateDeclaration,
                    argument.name.span,
                    format!("`{name}` is given twice"),
                )
                .with_secondary(*first, "first given here")
                .with_help(format!("keep one `{name}:`")),
            );
            continue;
        }
        given.insert(name, argument.name.span);
        let Some(param) = action.param(name) else {
            let help =
                did_you_mean(name, action.params.iter().map(|p| &*p.name)).unwrap_or_else(|| {
                    let names: Vec<&str> = action.params.iter().map(|p| &*p.name).collect();
                    format!("`{}` takes {}", action.name, names.join(", "))
                });
            out.push(
                Diagnostic::new(
                    Code::UnknownArgument,
                    argument.name.span,
                    format!("`{}` takes no argument `{name}`", action.name),
                )
                .with_label("unknown argument")
                .with_help(help),
            );
            continue;
        };
        if !ty.fits(param.ty) {
            out.push(
                Diagnostic::new(
                    Code::MistypedArgument,
                    argument.value.span,
                    format!(
                        "`{name}` must be {}, but this is {}",
                        article(param.ty),
                        article(ty)
                    ),
                )
                .with_label(format!("{} here", article(ty)))
                .with_help(type_help(param.ty)),
            );
        }
    }
    let missing: Vec<&str> = action
        .params
        .iter()
        .filter(|p| p.required && !given.contains_key(&*p.name))
        .map(|p| &*p.name)
        .collect();
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let example = missing
            .iter()
            .map(|m| format!("{m}: …"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(
            Diagnostic::new(
                Code::MissingArgument,
                call.action.span,
                format!("`{}` needs {list}", action.name),
            )
            .with_label(if missing.len() == 1 {
                "missing argument"
            } else {
                "missing arguments"
            })
            .with_help(format!("add {example}")),
        );
    }
    if action.fallible && call.on_error.is_none() {
        let keyword = Span::new(span.start as usize, span.start as usize + 4);
        out.push(
            Diagnostic::new(
                Code::MissingOnError,
                keyword,
                format!(
                    "`{}` can fail, and this call does not say what happens then",
                    action.name
                ),
            )
            .with_secondary(
                call.action.span,
                format!(
                    "calls {}, which may be down or refuse the request",
                    action.remote
                ),
            )
            .with_help(
                "add `{ on error goto STEP }` after the call (or `on error handoff advisor`)",
            ),
        );
    }
    if let (Some(name), None) = (&call.result, action.result) {
        out.push(
            Diagnostic::new(
                Code::TypeMismatch,
                name.span,
                format!("`{}` gives no result to name", action.name),
            )
            .with_help(format!("remove `as {}`", name.text)),
        );
    }
}

fn type_help(expected: Type) -> String {
    match expected {
        Type::Email => "pass a field of type email (such as `contact.email`) or an answer checked with `expect email`".to_owned(),
        Type::Phone => "pass a field of type phone or an answer checked with `expect phone`".to_owned(),
        Type::Record(record) => format!("pass the result of an earlier call, such as `call … as user`, which is a {}", record.name),
        Type::TextList => "write a list of texts, such as `[\"chat\", \"bot\"]`".to_owned(),
        other => format!("pass {}", article(other)),
    }
}
