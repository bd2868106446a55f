//! Control flow over the step graph: which step leads to which and why, whether a step can
//! fall off its end, which statements can never run, and definite assignment (which
//! variables are surely set at each read). The graph is also what `scenarist graph` draws.
//!
//! Definite assignment is the classic forward "must" analysis: a step's entry set is the
//! intersection of the sets on all edges into it, computed to a fixpoint with a worklist;
//! the start step enters with nothing set. A step no edge reaches keeps no entry set: it is
//! unreachable, and its reads are not judged (L201 reports the step instead).

use std::collections::HashMap;

use super::typing::validator_type;
use super::varset::{VarIndex, VarSet, saved_variable};
use crate::ast::{
    Ask, BinaryOp, Block, Call, Expr, ExprKind, If, Jump, JumpKind, Message, Name, Path, Scenario,
    Step, Stmt, StmtKind, TestOp, Text, TextPart,
};
use crate::source::Span;
use crate::types::Type;

/// Where an edge leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Step(usize),
    Handoff,
    End,
    /// A step name that does not exist (reported by the checker as C101).
    Unknown,
}

/// Why control moves along an edge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    Goto,
    Choice(String),
    /// After this many invalid answers.
    Attempts(u32),
    /// After this long without an answer (as written, e.g. `15m`).
    Timeout(String),
    /// The named action failed.
    OnError(String),
    /// A free answer matched this `when` pattern (as written, `/refund/i`).
    When(String),
    /// An answer was one of the scenario's `escape` words.
    Escape,
}

#[derive(Clone, Debug)]
pub struct Edge {
    pub from: usize,
    pub to: Target,
    pub cause: Cause,
    /// Whether the contact is waited for on the way (an `ask` was passed or this edge is
    /// an answer, a retry bound or a timeout).
    pub waits: bool,
    pub span: Span,
}

/// The result of the analysis.
#[derive(Debug, Default)]
pub struct StepGraph<'a> {
    /// Steps in source order; a duplicated name keeps its first step only.
    pub steps: Vec<&'a Step>,
    pub index: HashMap<&'a str, usize>,
    pub start: Option<usize>,
    /// Where a conversation may also begin running: `entry` steps and hooks' steps.
    pub entries: Vec<usize>,
    pub edges: Vec<Edge>,
    /// Per step, whether the start reaches it.
    pub reachable: Vec<bool>,
    /// Steps that can reach their closing brace.
    pub falls_off: Vec<usize>,
    /// The first statement of each run of statements that can never run.
    pub dead: Vec<Span>,
    /// Reads of a variable on a path where it may be unset: (span, name).
    pub unset_reads: Vec<(Span, String)>,
    /// The type of `answer` at each place it is read, by the read's start offset.
    pub answer_types: HashMap<u32, Type>,
    /// Teams routed to and contact fields saved in reachable code.
    pub routed_teams: Vec<String>,
    pub saved_fields: Vec<String>,
    /// Where the scenario's `escape` words lead: an edge from every question.
    pub escape: Option<&'a Jump>,
}

impl<'a> StepGraph<'a> {
    pub fn build(scenario: &'a Scenario) -> Self {
        let vars = VarIndex::collect(scenario);
        let mut graph = StepGraph {
            escape: scenario.escape().map(|escape| &escape.target),
            ..StepGraph::default()
        };
        for step in scenario.steps() {
            if !graph.index.contains_key(step.name.text.as_str()) {
                graph.index.insert(&step.name.text, graph.steps.len());
                graph.steps.push(step);
            }
        }
        graph.start = scenario
            .start()
            .and_then(|name| graph.index.get(name.text.as_str()).copied());
        graph.entries = scenario
            .other_beginnings()
            .filter_map(|name| graph.index.get(name.text.as_str()).copied())
            .collect();
        let entry = graph.entry_sets(&vars);
        graph.reachable = entry.iter().map(Option::is_some).collect();
        for (i, step) in graph.steps.iter().enumerate() {
            let judged = entry[i].is_some();
            let set = entry[i].clone().unwrap_or_else(|| vars.empty_set());
            let mut walker = Walker::new(&graph.index, &vars, i, judged);
            walker.escape = graph.escape;
            if walker.block(&step.body, State::entry(set)).is_some() {
                graph.falls_off.push(i);
            }
            graph
                .edges
                .extend(walker.edges.into_iter().map(|(edge, _)| edge));
            graph.dead.extend(walker.dead);
            graph.unset_reads.extend(walker.unset_reads);
            graph.answer_types.extend(walker.answer_types);
            graph.routed_teams.extend(walker.routed_teams);
            graph.saved_fields.extend(walker.saved_fields);
        }
        graph
    }

    /// The entry set of every step reached from the start or an entry point (`None`: never
    /// reached). A conversation handed back at an entry point may have set nothing yet.
    fn entry_sets(&self, vars: &VarIndex) -> Vec<Option<VarSet>> {
        let mut entry: Vec<Option<VarSet>> = vec![None; self.steps.len()];
        let Some(start) = self.start else {
            return entry;
        };
        let mut work = vec![start];
        work.extend(&self.entries);
        for root in &work {
            entry[*root] = Some(vars.empty_set());
        }
        while let Some(i) = work.pop() {
            let Some(set) = entry[i].clone() else {
                continue;
            };
            let mut walker = Walker::new(&self.index, vars, i, false);
            walker.escape = self.escape;
            walker.block(&self.steps[i].body, State::entry(set));
            for (edge, assigned) in walker.edges {
                let Target::Step(to) = edge.to else { continue };
                let changed = match &mut entry[to] {
                    slot @ None => {
                        *slot = Some(assigned);
                        true
                    }
                    Some(current) => {
                        let before = current.clone();
                        current.intersect(&assigned);
                        *current != before
                    }
                };
                if changed {
                    work.push(to);
                }
            }
        }
        entry
    }

    pub fn target(&self, name: &Name) -> Target {
        self.index
            .get(name.text.as_str())
            .map_or(Target::Unknown, |i| Target::Step(*i))
    }
}

#[derive(Clone, Debug)]
struct State {
    assigned: VarSet,
    waited: bool,
    /// The type of `answer` here: what the last question's validator lets through.
    answer: Type,
}

impl State {
    fn entry(assigned: VarSet) -> Self {
        Self {
            assigned,
            waited: false,
            answer: Type::Unknown,
        }
    }

    /// Where two paths meet: set only what both set; waited only if both waited.
    fn meet(mut self, other: &State) -> State {
        self.assigned.intersect(&other.assigned);
        self.waited &= other.waited;
        self.answer = self.answer.join(other.answer);
        self
    }
}

/// Walks one step's statements, following every path.
struct Walker<'g> {
    index: &'g HashMap<&'g str, usize>,
    vars: &'g VarIndex,
    from: usize,
    /// Whether reads are judged and facts recorded (reachable steps, final pass).
    judged: bool,
    edges: Vec<(Edge, VarSet)>,
    dead: Vec<Span>,
    unset_reads: Vec<(Span, String)>,
    answer_types: HashMap<u32, Type>,
    routed_teams: Vec<String>,
    saved_fields: Vec<String>,
    escape: Option<&'g Jump>,
}

impl<'g> Walker<'g> {
    fn new(
        index: &'g HashMap<&'g str, usize>,
        vars: &'g VarIndex,
        from: usize,
        judged: bool,
    ) -> Self {
        Self {
            index,
            vars,
            from,
            judged,
            edges: Vec::new(),
            dead: Vec::new(),
            unset_reads: Vec::new(),
            answer_types: HashMap::new(),
            routed_teams: Vec::new(),
            saved_fields: Vec::new(),
            escape: None,
        }
    }

    /// Walks a block; returns the state at its end if control can get there.
    fn block(&mut self, block: &Block, state: State) -> Option<State> {
        let mut state = Some(state);
        for stmt in &block.statements {
            let Some(current) = state else {
                self.dead.push(stmt.span);
                return None;
            };
            state = self.stmt(stmt, current);
        }
        state
    }

    fn stmt(&mut self, stmt: &Stmt, mut state: State) -> Option<State> {
        match &stmt.kind {
            StmtKind::Say(message) => {
                self.read_message(message, &state);
                Some(state)
            }
            StmtKind::SayOneOf(variants) => {
                for message in variants {
                    self.read_message(message, &state);
                }
                Some(state)
            }
            StmtKind::Rich(rich) => {
                for message in rich.messages() {
                    self.read_message(message, &state);
                }
                for url in rich.urls() {
                    self.read_text(url, &state);
                }
                Some(state)
            }
            StmtKind::RouteTeam(text) => {
                self.read_text(text, &state);
                if self.judged {
                    self.routed_teams.extend(text.as_literal());
                }
                Some(state)
            }
            StmtKind::Set { name, value } => {
                self.read_expr(value, &state);
                self.assign(&mut state, &name.text);
                Some(state)
            }
            StmtKind::SetField { value, .. } => {
                self.read_expr(value, &state);
                Some(state)
            }
            StmtKind::Goto(name) => {
                self.edge(self.target(name), Cause::Goto, false, stmt.span, &state);
                None
            }
            StmtKind::Handoff => {
                self.edge(Target::Handoff, Cause::Goto, false, stmt.span, &state);
                None
            }
            StmtKind::End => {
                self.edge(Target::End, Cause::Goto, false, stmt.span, &state);
                None
            }
            StmtKind::If(if_stmt) => self.if_stmt(if_stmt, &state),
            StmtKind::Ask(ask) => self.ask(ask, state),
            StmtKind::Call(call) => Some(self.call(call, state)),
        }
    }

    fn if_stmt(&mut self, if_stmt: &If, state: &State) -> Option<State> {
        let mut out: Option<State> = None;
        let mut join = |s: Option<State>| {
            if let Some(s) = s {
                out = Some(match out.take() {
                    None => s,
                    Some(o) => o.meet(&s),
                });
            }
        };
        // `rest` is the state when every condition so far was false.
        let mut rest = state.clone();
        for branch in &if_stmt.branches {
            self.read_expr(&branch.condition, &rest);
            let mut inside = rest.clone();
            for name in proven_set(&branch.condition, true) {
                self.assign(&mut inside, name);
            }
            join(self.block(&branch.body, inside));
            for name in proven_set(&branch.condition, false) {
                self.assign(&mut rest, name);
            }
        }
        match &if_stmt.otherwise {
            Some(block) => join(self.block(block, rest)),
            None => join(Some(rest)),
        }
        out
    }

    fn ask(&mut self, ask: &Ask, mut state: State) -> Option<State> {
        self.read_message(&ask.prompt, &state);
        let mut answered = state.clone();
        self.assign(&mut answered, crate::builtins::ANSWER);
        // In the `invalid` message the answer is the rejected text.
        answered.answer = Type::Text;
        if let Some(message) = ask.invalid() {
            self.read_message(message, &answered);
        }
        answered.answer = validator_type(ask.validator());
        let mut saved = answered.clone();
        if let Some(path) = ask.save() {
            match saved_variable(path) {
                Some(name) => self.assign(&mut saved, name),
                None if self.judged && path.root() == crate::builtins::CONTACT => {
                    self.saved_fields.push(
                        path.segments
                            .get(1)
                            .map(|n| n.text.clone())
                            .unwrap_or_default(),
                    );
                }
                None => {}
            }
        }
        let mut all_choices_jump = true;
        let mut any_choice = false;
        for (label, target) in ask.choices() {
            any_choice = true;
            self.read_message(label, &state);
            match target {
                Some(name) => {
                    let cause =
                        Cause::Choice(label.text.as_literal().unwrap_or_else(|| "…".into()));
                    self.edge(self.target(name), cause, true, name.span, &saved);
                }
                None => all_choices_jump = false,
            }
        }
        // A pattern's answer is the text as typed, whatever the validator.
        let mut matched = answered.clone();
        matched.answer = Type::Text;
        for (regex, target) in ask.patterns() {
            let cause = Cause::When(format!("/{}/{}", regex.pattern, regex.flags));
            self.edge(self.target(target), cause, true, target.span, &matched);
        }
        if let Some(escape) = self.escape {
            self.jump(escape, Cause::Escape, true, &state);
        }
        if let Some((count, then)) = ask.attempts() {
            self.jump(then, Cause::Attempts(count.value), true, &answered);
        }
        if let Some((duration, then)) = ask.timeout() {
            self.jump(then, Cause::Timeout(duration.text.clone()), true, &state);
        }
        if any_choice && all_choices_jump {
            return None;
        }
        state = saved;
        state.waited = true;
        Some(state)
    }

    fn call(&mut self, call: &Call, mut state: State) -> State {
        for argument in &call.arguments {
            self.read_expr(&argument.value, &state);
        }
        if let Some(jump) = &call.on_error {
            self.jump(
                jump,
                Cause::OnError(call.action.text.clone()),
                state.waited,
                &state,
            );
        }
        if let Some(name) = &call.result {
            self.assign(&mut state, &name.text);
        }
        state
    }

    fn jump(&mut self, jump: &Jump, cause: Cause, waits: bool, state: &State) {
        let to = match &jump.kind {
            JumpKind::Goto(name) => self.target(name),
            JumpKind::Handoff => Target::Handoff,
            JumpKind::End => Target::End,
        };
        self.edge(to, cause, waits, jump.span, state);
    }

    fn target(&self, name: &Name) -> Target {
        self.index
            .get(name.text.as_str())
            .map_or(Target::Unknown, |i| Target::Step(*i))
    }

    fn edge(&mut self, to: Target, cause: Cause, waits: bool, span: Span, state: &State) {
        let edge = Edge {
            from: self.from,
            to,
            cause,
            waits: waits || state.waited,
            span,
        };
        self.edges.push((edge, state.assigned.clone()));
    }

    fn assign(&self, state: &mut State, name: &str) {
        if let Some(bit) = self.vars.bit(name) {
            state.assigned.insert(bit);
        }
    }

    fn read_message(&mut self, message: &Message, state: &State) {
        for text in message.texts() {
            self.read_text(text, state);
        }
    }

    fn read_text(&mut self, text: &Text, state: &State) {
        for part in &text.parts {
            if let TextPart::Interpolation(expr) = part {
                self.read_expr(expr, state);
            }
        }
    }

    /// Judges the variable reads of `expr`. Reads that test whether a value is there
    /// (`x is set`, the left side of `x or fallback`) are not reads that need it set.
    fn read_expr(&mut self, expr: &Expr, state: &State) {
        if !self.judged {
            return;
        }
        match &expr.kind {
            ExprKind::Path(path) => self.read_path(path, state),
            ExprKind::Text(text) => self.read_text(text, state),
            ExprKind::List(items) => items.iter().for_each(|item| self.read_expr(item, state)),
            ExprKind::Paren(inner)
            | ExprKind::Not(inner)
            | ExprKind::Matches { operand: inner, .. } => {
                self.read_expr(inner, state);
            }
            ExprKind::Test { operand, .. } => {
                if !is_bare_path(operand) {
                    self.read_expr(operand, state);
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let fallback = *op == BinaryOp::Or && is_bare_path(lhs);
                if !fallback {
                    self.read_expr(lhs, state);
                }
                self.read_expr(rhs, state);
            }
            ExprKind::Call { function, args } => {
                for (index, arg) in args.iter().enumerate() {
                    if !crate::builtins::functions::is_schedule_arg(&function.text, index) {
                        self.read_expr(arg, state);
                    }
                }
            }
            ExprKind::Number(_) | ExprKind::Bool(_) | ExprKind::Open(_) => {}
        }
    }

    fn read_path(&mut self, path: &Path, state: &State) {
        let root = path.root();
        if root == crate::builtins::ANSWER {
            self.answer_types.insert(path.span.start, state.answer);
        }
        if let Some(bit) = self.vars.bit(root) {
            if !state.assigned.contains(bit) {
                self.unset_reads.push((path.span, root.to_owned()));
            }
        }
    }
}

/// Variables a condition proves set when it evaluates to `holds`: `x is set` when true,
/// `x is not set` when false, through `not`, parentheses, `and` (true) and `or` (false).
fn proven_set(condition: &Expr, holds: bool) -> Vec<&str> {
    match &condition.kind {
        ExprKind::Test { op, operand } => {
            let proves = match op {
                TestOp::IsSet | TestOp::IsNotEmpty => holds,
                TestOp::IsNotSet | TestOp::IsEmpty => !holds,
            };
            match &operand.kind {
                ExprKind::Path(path) if proves && path.segments.len() == 1 => vec![path.root()],
                _ => Vec::new(),
            }
        }
        ExprKind::Not(inner) => proven_set(inner, !holds),
        ExprKind::Paren(inner) => proven_set(inner, holds),
        ExprKind::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
        } if holds => {
            let mut names = proven_set(lhs, true);
            names.extend(proven_set(rhs, true));
            names
        }
        ExprKind::Binary {
            op: BinaryOp::Or,
            lhs,
            rhs,
        } if !holds => {
            let mut names = proven_set(lhs, false);
            names.extend(proven_set(rhs, false));
            names
        }
        _ => Vec::new(),
    }
}

/// `x` or `(x)`: a bare name, whose absence a test or a fallback handles.
fn is_bare_path(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Path(_) => true,
        ExprKind::Paren(inner) => is_bare_path(inner),
        _ => false,
    }
}
