//! Variables: one that is set but never read (L204), and `set` of a name the runtime owns
//! (C119).

use std::collections::{HashMap, HashSet};

use super::varset::{RESERVED_ROOTS, saved_variable};
use crate::ast::{
    AskOptionKind, Name, Path, Scenario, Stmt, StmtKind, Visit, walk_message, walk_stmt,
};
use crate::diagnostic::{Code, Diagnostic};

pub(super) fn check(scenario: &Scenario, out: &mut Vec<Diagnostic>) {
    let mut uses = Uses::default();
    for step in scenario.steps() {
        for stmt in &step.body.statements {
            uses.visit_stmt(stmt);
        }
    }
    for name in &uses.reserved_sets {
        out.push(
            Diagnostic::new(
                Code::ReadOnlyTarget,
                name.span,
                format!("`{}` is a name the runtime owns", name.text),
            )
            .with_help("choose another name for the variable"),
        );
    }
    let mut assigned: Vec<(&String, &Name)> =
        uses.first_assignment.iter().map(|(k, v)| (k, *v)).collect();
    assigned.sort_by_key(|(_, name)| name.span.start);
    for (var, name) in assigned {
        if !uses.read.contains(var.as_str()) {
            out.push(
                Diagnostic::new(
                    Code::UnusedVariable,
                    name.span,
                    format!("`{var}` is set but never read"),
                )
                .with_label("set here")
                .with_help("use it in a message or a condition, or remove it"),
            );
        }
    }
}

#[derive(Default)]
struct Uses<'a> {
    first_assignment: HashMap<String, &'a Name>,
    read: HashSet<&'a str>,
    reserved_sets: Vec<&'a Name>,
}

impl<'a> Uses<'a> {
    fn assign(&mut self, name: &'a Name) {
        if RESERVED_ROOTS.contains(&name.text.as_str()) {
            return;
        }
        self.first_assignment
            .entry(name.text.clone())
            .or_insert(name);
    }
}

impl<'a> Visit<'a> for Uses<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match &stmt.kind {
            StmtKind::Set { name, .. } => {
                if RESERVED_ROOTS.contains(&name.text.as_str()) {
                    self.reserved_sets.push(name);
                }
                self.assign(name);
            }
            StmtKind::Call(call) => {
                if let Some(name) = &call.result {
                    self.assign(name);
                }
            }
            StmtKind::Ask(ask) => {
                for option in &ask.options {
                    if let AskOptionKind::Save(path) = &option.kind {
                        if saved_variable(path).is_some() {
                            if let Some(name) = path.segments.first() {
                                self.assign(name);
                            }
                        }
                    }
                }
                // Reads inside the ask's texts.
                walk_message(self, &ask.prompt);
                for option in &ask.options {
                    if let AskOptionKind::Invalid(message)
                    | AskOptionKind::Choice { label: message, .. } = &option.kind
                    {
                        walk_message(self, message);
                    }
                }
                return;
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_path(&mut self, path: &'a Path) {
        self.read.insert(path.root());
    }
}
