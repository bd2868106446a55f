//! Every name a parse declares or uses, with its span: steps (declared and referred to by
//! `goto`, `->`, `start`, `entry`, hooks, `then`, `on error`, `escape` and the step arguments of
//! an `include`), variables (written by `set`, `save` and `call … as`, read in expressions
//! and texts), contact fields, actions, includes and flows. Built by walking a copy of the
//! tree with the AST's own `VisitMut` (which reaches every step reference and path), so a
//! construct the language adds is seen as soon as the visitor sees it. Navigation, hover and
//! completion answer from it.

use scenarist_lang::ast::{
    Flow, Item, ItemKind, Name, ParamKind, Path, Stmt, StmtKind, VisitMut, walk_items_mut,
    walk_stmt_mut,
};
use scenarist_lang::builtins;
use scenarist_lang::source::Span;
use scenarist_lang::syntax::Parsed;

/// Where a name lives: the scenario (0) or a flow of the file (its index + 1). Steps and
/// variables of one do not meet those of another.
pub(crate) type Container = usize;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    StepDecl,
    StepRef,
    /// `set x =`, `save x`, `call … as x`; `action` is the call's action, if any.
    VarWrite {
        action: Option<String>,
    },
    VarRead,
    /// `contact.email`: the field's name (the occurrence spans the field's segment).
    ContactField,
    /// The action of a `call`.
    Action,
    /// The name an `include` goes by (its alias, or the flow's name without one).
    IncludeName {
        flow: String,
    },
    /// The flow an `include` names.
    IncludeFlow,
    /// A flow declared in this file.
    FlowDecl,
}

#[derive(Clone, Debug)]
pub(crate) struct Occurrence {
    pub(crate) kind: Kind,
    pub(crate) name: String,
    pub(crate) span: Span,
    pub(crate) container: Container,
}

#[derive(Debug, Default)]
pub(crate) struct Names {
    pub(crate) all: Vec<Occurrence>,
    /// The span of each container (the scenario's, then each flow's).
    pub(crate) containers: Vec<Span>,
}

impl Names {
    pub(crate) fn of(parsed: &Parsed) -> Self {
        let mut names = Names::default();
        match &parsed.scenario {
            Some(scenario) => {
                names.containers.push(scenario.span);
                names.items(0, scenario.items.clone(), &[]);
            }
            None => names.containers.push(Span::default()),
        }
        for (i, flow) in parsed.flows.iter().enumerate() {
            names.containers.push(flow.span);
            names.flow(i + 1, flow);
        }
        names.all.sort_by_key(|o| (o.span.start, o.span.end));
        names
    }

    fn flow(&mut self, container: Container, flow: &Flow) {
        self.push(container, Kind::FlowDecl, &flow.name);
        let step_params: Vec<String> = flow
            .params
            .iter()
            .filter(|p| p.kind == ParamKind::Step)
            .map(|p| p.name.text.clone())
            .collect();
        self.items(container, flow.items.clone(), &step_params);
    }

    fn items(&mut self, container: Container, mut items: Vec<Item>, step_params: &[String]) {
        for item in &items {
            match &item.kind {
                ItemKind::Step(step) => self.push(container, Kind::StepDecl, &step.name),
                ItemKind::Include(include) => {
                    self.push(container, Kind::IncludeFlow, &include.flow);
                    if let Some(alias) = &include.alias {
                        let flow = include.flow.text.clone();
                        self.push(container, Kind::IncludeName { flow }, alias);
                    }
                    // `next: handoff`: a one-word argument names a step (or a variable).
                    for arg in &include.args {
                        if let [only] = arg.value.segments.as_slice() {
                            self.push(container, Kind::StepRef, only);
                        }
                    }
                }
                _ => {}
            }
        }
        let mut collector = Collector {
            container,
            found: Vec::new(),
            step_params,
        };
        walk_items_mut(&mut collector, &mut items);
        self.all.extend(collector.found);
    }

    fn push(&mut self, container: Container, kind: Kind, name: &Name) {
        self.all.push(Occurrence {
            kind,
            name: name.text.clone(),
            span: name.span,
            container,
        });
    }

    /// The container whose span holds `offset` (the scenario when none does).
    pub(crate) fn container_at(&self, offset: usize) -> Container {
        self.containers
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, span)| span.start as usize <= offset && offset <= span.end as usize)
            .map_or(0, |(i, _)| i)
    }

    /// The occurrence under `offset` (its end included, where a cursor after a word stands).
    pub(crate) fn at(&self, offset: usize) -> Option<&Occurrence> {
        self.all
            .iter()
            .filter(|o| o.span.start as usize <= offset && offset <= o.span.end as usize)
            .min_by_key(|o| o.span.len())
    }

    /// The declared steps of a container, in source order.
    pub(crate) fn steps(&self, container: Container) -> impl Iterator<Item = &Occurrence> {
        self.all
            .iter()
            .filter(move |o| o.container == container && o.kind == Kind::StepDecl)
    }

    pub(crate) fn step_decl(&self, container: Container, name: &str) -> Option<&Occurrence> {
        self.steps(container).find(|o| o.name == name)
    }

    /// Every place step `name` of `container` is declared or referred to.
    pub(crate) fn step_occurrences(&self, container: Container, name: &str) -> Vec<&Occurrence> {
        self.all
            .iter()
            .filter(|o| o.container == container && o.name == name)
            .filter(|o| matches!(o.kind, Kind::StepDecl | Kind::StepRef))
            .collect()
    }

    /// Every place variable `name` of `container` is written or read.
    pub(crate) fn variable_occurrences(
        &self,
        container: Container,
        name: &str,
    ) -> Vec<&Occurrence> {
        self.all
            .iter()
            .filter(|o| o.container == container && o.name == name)
            .filter(|o| matches!(o.kind, Kind::VarWrite { .. } | Kind::VarRead))
            .collect()
    }

    /// Where an include's name is declared and where steps go to it.
    pub(crate) fn include_occurrences(&self, container: Container, name: &str) -> Vec<&Occurrence> {
        self.all
            .iter()
            .filter(|o| o.container == container && o.name == name)
            .filter(|o| matches!(o.kind, Kind::IncludeName { .. } | Kind::StepRef))
            .collect()
    }

    /// The include going by `name` in `container`: its flow.
    pub(crate) fn include_named(&self, container: Container, name: &str) -> Option<&str> {
        self.all.iter().find_map(|o| match &o.kind {
            Kind::IncludeName { flow } if o.container == container && o.name == name => {
                Some(flow.as_str())
            }
            _ => None,
        })
    }
}

/// Collects step references and paths from a copy of the items.
struct Collector<'p> {
    container: Container,
    found: Vec<Occurrence>,
    /// A flow's step parameters: `goto done` goes to the including scenario's step.
    step_params: &'p [String],
}

impl Collector<'_> {
    fn push(&mut self, kind: Kind, name: &Name) {
        self.found.push(Occurrence {
            kind,
            name: name.text.clone(),
            span: name.span,
            container: self.container,
        });
    }
}

impl VisitMut for Collector<'_> {
    fn step_ref(&mut self, name: &mut Name) {
        if !self.step_params.contains(&name.text) {
            self.push(Kind::StepRef, name);
        }
    }

    fn path(&mut self, path: &mut Path) {
        let [root, rest @ ..] = path.segments.as_slice() else {
            return;
        };
        if root.text == builtins::CONTACT {
            if let Some(field) = rest.first() {
                self.push(Kind::ContactField, field);
            }
        } else if !builtins::RESERVED_ROOTS.contains(&root.text.as_str())
            && root.text != builtins::TICKET
        {
            self.push(Kind::VarRead, root);
        }
    }

    fn stmt(&mut self, stmt: &mut Stmt) {
        match &stmt.kind {
            StmtKind::Set { name, .. } => self.push(Kind::VarWrite { action: None }, name),
            StmtKind::Call(call) => {
                self.push(Kind::Action, &call.action);
                if let Some(result) = &call.result {
                    let action = Some(call.action.text.clone());
                    self.push(Kind::VarWrite { action }, result);
                }
            }
            StmtKind::Ask(ask) => {
                if let Some(path) = ask.save()
                    && let [only] = path.segments.as_slice()
                {
                    self.push(Kind::VarWrite { action: None }, only);
                }
            }
            _ => {}
        }
        walk_stmt_mut(self, stmt);
    }
}
