//! `include`: a scenario's includes replaced by the steps of the flows they name, so that
//! the checker, the graph, coverage and the runtime all see one scenario. Each included step
//! is renamed `ALIAS.STEP` (a `.` cannot be written in a step's name, so it never clashes
//! with the scenario's own steps); a step parameter becomes the step the include gives, a
//! field parameter the field or variable it gives; `goto ALIAS` enters the flow's start.
//!
//! The included steps keep the spans of the flow's text: a file that includes flows from
//! other files is checked as a bundle (`library`), which maps each finding back to its file.

use std::collections::{HashMap, HashSet};

use crate::ast::{
    Block, Expr, ExprKind, Flow, Include, Item, ItemKind, Name, ParamKind, Path, Scenario, Step,
    Stmt, StmtKind, VisitMut, walk_expr_mut, walk_items_mut, walk_step_mut, walk_stmt_mut,
};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::source::Span;

/// A scenario with its includes expanded, and what was wrong with them.
#[derive(Debug)]
pub struct Expansion {
    pub scenario: Scenario,
    pub sites: Vec<Site>,
    pub diagnostics: Vec<Diagnostic>,
}

/// One `include`, as the checker reports about it.
#[derive(Clone, Debug)]
pub struct Site {
    /// The name the scenario goes to (`capture`).
    pub alias: String,
    pub flow: String,
    /// The expanded name of the flow's start step (`capture.ask_email`), if it has one.
    pub start: Option<String>,
    /// The whole `include` declaration.
    pub span: Span,
    /// The alias (or the flow's name when there is no alias).
    pub name_span: Span,
    /// False when the include does not fit its flow and stands for it as one empty step.
    pub expanded: bool,
}

impl Site {
    /// Whether `step` (an expanded name) is one of this include's steps (or its stand-in,
    /// when the include does not fit its flow).
    pub fn owns(&self, step: &str) -> bool {
        step.strip_prefix(self.alias.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    }
}

/// The name of step `step` of the flow included as `alias`.
pub fn step_name(alias: &str, step: &str) -> String {
    format!("{alias}.{step}")
}

/// Expands the includes of `scenario` with `flows` (the flows its bundle declares).
pub fn expand(scenario: &Scenario, flows: &[Flow]) -> Expansion {
    let mut diagnostics = Vec::new();
    let own_steps: HashSet<&str> = scenario.steps().map(|s| s.name.text.as_str()).collect();
    let mut sites = Vec::new();
    let mut starts: HashMap<String, String> = HashMap::new();
    let mut items = Vec::with_capacity(scenario.items.len());
    for item in &scenario.items {
        let ItemKind::Include(include) = &item.kind else {
            items.push(item.clone());
            continue;
        };
        let alias = include.name();
        if own_steps.contains(alias.text.as_str()) || starts.contains_key(&alias.text) {
            diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateDeclaration,
                    alias.span,
                    format!(
                        "`{}` already names a step or an include of this scenario",
                        alias.text
                    ),
                )
                .with_help("give the include another name with `as NAME`"),
            );
            continue;
        }
        let flow = flows.iter().find(|f| f.name.text == include.flow.text);
        if flow.is_none() {
            diagnostics.push(unknown_flow(include, flows));
        }
        let before = diagnostics.len();
        let args = flow.map(|flow| arguments(include, flow, item.span, &mut diagnostics));
        let (Some(flow), Some(args)) = (flow, args.filter(|_| diagnostics.len() == before)) else {
            // Expanded once the include fits its flow; until then a stand-in step, so that
            // `goto ALIAS` and the flow's steps are not reported as well.
            items.push(stand_in(&alias.text, item.span));
            starts.insert(alias.text.clone(), alias.text.clone());
            sites.push(Site {
                alias: alias.text.clone(),
                flow: include.flow.text.clone(),
                start: Some(alias.text.clone()),
                span: item.span,
                name_span: alias.span,
                expanded: false,
            });
            continue;
        };
        let start = flow
            .start()
            .or_else(|| flow.steps().next().map(|s| &s.name))
            .map(|s| step_name(&alias.text, &s.text));
        starts.insert(
            alias.text.clone(),
            start.clone().unwrap_or_else(|| alias.text.clone()),
        );
        sites.push(Site {
            alias: alias.text.clone(),
            flow: flow.name.text.clone(),
            start,
            span: item.span,
            name_span: alias.span,
            expanded: true,
        });
        let mut filler = Filler {
            alias: &alias.text,
            flow,
            args: &args,
        };
        for step in flow.steps() {
            let mut step = step.clone();
            step.name.text = step_name(&alias.text, &step.name.text);
            walk_step_mut(&mut filler, &mut step);
            items.push(Item {
                span: step.span,
                kind: ItemKind::Step(step),
            });
        }
    }
    // `goto capture` enters the flow included as `capture`.
    walk_items_mut(&mut Entrances { starts: &starts }, &mut items);
    Expansion {
        scenario: Scenario {
            name: scenario.name.clone(),
            items,
            span: scenario.span,
        },
        sites,
        diagnostics,
    }
}

fn unknown_flow(include: &Include, flows: &[Flow]) -> Diagnostic {
    let help = did_you_mean(
        &include.flow.text,
        flows.iter().map(|f| f.name.text.as_str()),
    )
    .unwrap_or_else(|| {
        "declare it as `flow NAME(…) { … }` in a `.scn` file of the scenarios folder".to_owned()
    });
    Diagnostic::new(
        Code::UnknownFlow,
        include.flow.span,
        format!("no flow named `{}` is declared", include.flow.text),
    )
    .with_label("included here")
    .with_help(help)
}

fn stand_in(name: &str, span: Span) -> Item {
    let end = Stmt {
        kind: StmtKind::End,
        span,
    };
    Item {
        span,
        kind: ItemKind::Step(Step {
            name: Name {
                text: name.to_owned(),
                span,
            },
            body: Block {
                statements: vec![end],
                span,
            },
            span,
        }),
    }
}

/// The include's arguments by parameter name, after reporting the ones that do not fit.
fn arguments<'a>(
    include: &'a Include,
    flow: &Flow,
    span: Span,
    diagnostics: &mut Vec<Diagnostic>,
) -> HashMap<&'a str, &'a Path> {
    let mut args: HashMap<&str, &Path> = HashMap::new();
    for arg in &include.args {
        let Some(param) = flow.param(&arg.name.text) else {
            let names = flow.params.iter().map(|p| p.name.text.as_str());
            let help = did_you_mean(&arg.name.text, names.clone()).unwrap_or_else(|| {
                let all: Vec<String> = names.map(|n| format!("`{n}`")).collect();
                if all.is_empty() {
                    format!("flow `{}` takes no parameters", flow.name.text)
                } else {
                    format!("flow `{}` takes {}", flow.name.text, all.join(", "))
                }
            });
            diagnostics.push(
                Diagnostic::new(
                    Code::UnknownFlowParameter,
                    arg.name.span,
                    format!(
                        "flow `{}` has no parameter `{}`",
                        flow.name.text, arg.name.text
                    ),
                )
                .with_help(help),
            );
            continue;
        };
        if args.contains_key(arg.name.text.as_str()) {
            diagnostics.push(
                Diagnostic::new(
                    Code::DuplicateDeclaration,
                    arg.name.span,
                    format!("`{}` is given twice", arg.name.text),
                )
                .with_help("give each parameter once"),
            );
            continue;
        }
        if param.kind == ParamKind::Step && arg.value.segments.len() != 1 {
            diagnostics.push(
                Diagnostic::new(
                    Code::ParameterKindMismatch,
                    arg.value.span,
                    format!(
                        "`{}` is a step parameter of flow `{}`; `{}` is not a step's name",
                        arg.name.text,
                        flow.name.text,
                        arg.value.dotted()
                    ),
                )
                .with_help("give the name of a step of this scenario"),
            );
            continue;
        }
        args.insert(arg.name.text.as_str(), &arg.value);
    }
    let missing: Vec<String> = flow
        .params
        .iter()
        .filter(|p| !args.contains_key(p.name.text.as_str()))
        .filter(|p| !include.args.iter().any(|a| a.name.text == p.name.text))
        .map(|p| format!("`{}: {}`", p.name.text, p.kind.word()))
        .collect();
    if !missing.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                Code::MissingFlowArgument,
                include.flow.span,
                format!("flow `{}` needs {} too", flow.name.text, missing.join(", ")),
            )
            .with_secondary(span, "in this include")
            .with_help("give every parameter of the flow a value"),
        );
    }
    args
}

/// Renames a flow's steps and fills in its parameters.
struct Filler<'a> {
    alias: &'a str,
    flow: &'a Flow,
    args: &'a HashMap<&'a str, &'a Path>,
}

impl Filler<'_> {
    fn arg(&self, name: &str, kind: ParamKind) -> Option<&Path> {
        let param = self.flow.param(name)?;
        (param.kind == kind).then(|| self.args.get(name).copied())?
    }
}

impl VisitMut for Filler<'_> {
    fn step_ref(&mut self, name: &mut Name) {
        match self.arg(&name.text, ParamKind::Step) {
            Some(step) => name.clone_from(&step.segments[0]),
            // The flow's own steps, and names it does not declare (reported in the flow).
            None => name.text = step_name(self.alias, &name.text),
        }
    }

    fn path(&mut self, path: &mut Path) {
        if let Some(arg) = self.arg(path.root(), ParamKind::Field) {
            let rest = path.segments.split_off(1);
            path.segments.clone_from(&arg.segments);
            path.segments.extend(rest);
            path.span = arg.span;
        }
    }

    fn stmt(&mut self, stmt: &mut Stmt) {
        // `set save_to = …` sets what the include gives: a variable or a field.
        if let StmtKind::Set { name, value } = &mut stmt.kind
            && let Some(arg) = self.arg(&name.text, ParamKind::Field).cloned()
        {
            walk_expr_mut(self, value);
            let value = std::mem::replace(
                value,
                Expr {
                    kind: ExprKind::Bool(false),
                    span: Span::default(),
                },
            );
            stmt.kind = match <[Name; 1]>::try_from(arg.segments.clone()) {
                Ok([name]) => StmtKind::Set { name, value },
                Err(_) => StmtKind::SetField { target: arg, value },
            };
            return;
        }
        walk_stmt_mut(self, stmt);
    }
}

/// Points `goto ALIAS` at the start of the flow included as `ALIAS`.
struct Entrances<'a> {
    starts: &'a HashMap<String, String>,
}

impl VisitMut for Entrances<'_> {
    fn step_ref(&mut self, name: &mut Name) {
        if let Some(start) = self.starts.get(&name.text) {
            name.text.clone_from(start);
        }
    }
}

/// The scenario a file (a bundle, see `library`) runs: parsed, its includes expanded. `Err`
/// holds the first reason it cannot run: a syntax error, no scenario in the file, or an
/// `include` that does not fit its flow (the checker reports all of them first).
pub fn runnable(file: &crate::source::SourceFile) -> Result<Scenario, Diagnostic> {
    let parsed = crate::syntax::parse(file)?;
    let Some(scenario) = &parsed.scenario else {
        return Err(Diagnostic::new(
            Code::SyntaxError,
            Span::at(0),
            "this file declares flows but no scenario",
        )
        .with_help("run the scenario that includes these flows"));
    };
    let expansion = expand(scenario, &parsed.flows);
    match expansion.diagnostics.into_iter().find(Diagnostic::is_error) {
        Some(error) => Err(error),
        None => Ok(expansion.scenario),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{AskOptionKind, ExprKind, TextPart};
    use crate::source::SourceFile;

    fn expanded(text: &str) -> Expansion {
        let parsed = crate::syntax::parse(&SourceFile::new("t.scn", text)).unwrap();
        expand(parsed.scenario.as_ref().unwrap(), &parsed.flows)
    }

    const FLOW: &str = r#"
flow f(target: field, counter: field, next: step) {
  start ask
  step ask {
    ask "Q" { expect email save target attempts 2 then goto next }
    set counter = counter + 1
    say "Saved {target}"
    goto again
  }
  step again { goto next }
}"#;

    fn scenario(include: &str) -> String {
        format!(
            "scenario s {{\n  start a\n  {include}\n  step a {{ set n = 0 goto cap }}\n  step b {{ end }}\n}}\n{FLOW}"
        )
    }

    #[test]
    fn steps_are_renamed_and_parameters_filled_in() {
        let expansion = expanded(&scenario(
            "include f(target: contact.email, counter: n, next: b) as cap",
        ));
        assert!(
            expansion.diagnostics.is_empty(),
            "{:?}",
            expansion.diagnostics
        );
        let names: Vec<&str> = expansion
            .scenario
            .steps()
            .map(|s| s.name.text.as_str())
            .collect();
        assert_eq!(names, ["cap.ask", "cap.again", "a", "b"]);
        // `goto cap` enters the flow's start.
        let a = expansion.scenario.step("a").unwrap();
        assert!(matches!(&a.body.statements[1].kind, StmtKind::Goto(n) if n.text == "cap.ask"));
        let ask = expansion.scenario.step("cap.ask").unwrap();
        let StmtKind::Ask(question) = &ask.body.statements[0].kind else {
            panic!()
        };
        let saves: Vec<String> = question
            .options
            .iter()
            .filter_map(|o| match &o.kind {
                AskOptionKind::Save(path) => Some(path.dotted()),
                _ => None,
            })
            .collect();
        assert_eq!(saves, ["contact.email"]);
        // `set counter = counter + 1` sets and reads the variable `n`.
        let StmtKind::Set { name, value } = &ask.body.statements[1].kind else {
            panic!()
        };
        assert_eq!(name.text, "n");
        let ExprKind::Binary { lhs, .. } = &value.kind else {
            panic!()
        };
        assert!(matches!(&lhs.kind, ExprKind::Path(p) if p.dotted() == "n"));
        // `{target}` reads the field.
        let StmtKind::Say(message) = &ask.body.statements[2].kind else {
            panic!()
        };
        assert!(message.text.parts.iter().any(|part| matches!(part,
            TextPart::Interpolation(e) if matches!(&e.kind, ExprKind::Path(p) if p.dotted() == "contact.email"))));
        // The flow's own step is renamed; its step parameter is the scenario's step.
        let again = expansion.scenario.step("cap.again").unwrap();
        assert!(matches!(&again.body.statements[0].kind, StmtKind::Goto(n) if n.text == "b"));
    }

    #[test]
    fn a_field_parameter_given_a_contact_field_is_set_as_a_field() {
        let expansion = expanded(&scenario(
            "include f(target: contact.email, counter: contact.name, next: b) as cap",
        ));
        let ask = expansion.scenario.step("cap.ask").unwrap();
        assert!(matches!(&ask.body.statements[1].kind,
            StmtKind::SetField { target, .. } if target.dotted() == "contact.name"));
    }

    #[test]
    fn an_include_that_does_not_fit_stands_for_its_flow_as_one_step() {
        let expansion = expanded(&scenario("include f(target: contact.email) as cap"));
        let codes: Vec<&str> = expansion.diagnostics.iter().map(|d| d.code.id()).collect();
        assert_eq!(codes, ["C129"]);
        let names: Vec<&str> = expansion
            .scenario
            .steps()
            .map(|s| s.name.text.as_str())
            .collect();
        assert_eq!(names, ["cap", "a", "b"]);
        assert!(!expansion.sites[0].expanded);
    }

    #[test]
    fn an_alias_that_names_a_step_is_refused() {
        let expansion = expanded(&scenario(
            "include f(target: contact.email, counter: n, next: b) as a",
        ));
        let codes: Vec<&str> = expansion.diagnostics.iter().map(|d| d.code.id()).collect();
        assert_eq!(codes, ["C117"]);
    }

    #[test]
    fn runnable_refuses_a_file_of_flows() {
        let error = runnable(&SourceFile::new("f.scn", FLOW)).unwrap_err();
        assert!(error.message.contains("no scenario"), "{}", error.message);
    }
}
