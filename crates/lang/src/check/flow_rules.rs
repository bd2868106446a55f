//! What the flow analysis finds: a step that falls off its end (C113), statements that
//! never run (L208), a variable read where it may be unset (C110), unreachable steps
//! (L201) and loops that never wait for the contact (C114).

use super::flow::{Cause, StepGraph, Target};
use super::typing::Typer;
use crate::diagnostic::{Code, Diagnostic};
use crate::include::Site;
use crate::source::Span;

pub(super) fn check(
    graph: &StepGraph<'_>,
    typer: &Typer<'_>,
    sites: &[Site],
    out: &mut Vec<Diagnostic>,
) {
    for &i in &graph.falls_off {
        let step = graph.steps[i];
        let close = Span::new(step.body.span.end as usize - 1, step.body.span.end as usize);
        out.push(
            Diagnostic::new(Code::FallsOffEnd, close, format!("step `{}` can reach its end without saying where to go", step.name.text))
                .with_label("the conversation would stop here without an answer")
                .with_secondary(step.name.span, "in this step")
                .with_help("end every path with `goto STEP`, `handoff advisor` or `end`; an `if` without `else` lets the other case through"),
        );
    }
    for &span in &graph.dead {
        out.push(
            Diagnostic::new(
                Code::UnreachableStatement,
                span,
                "this statement never runs",
            )
            .with_label("it comes after a `goto`, `handoff advisor` or `end`")
            .with_help("move it before the jump, or remove it"),
        );
    }
    for (span, name) in &graph.unset_reads {
        // `answer` is always a variable; other names must exist (else C109 reports them).
        if name != crate::builtins::ANSWER && !typer.is_variable(name) {
            continue;
        }
        let help = if name == crate::builtins::ANSWER {
            "`answer` holds the reply to the last `ask`; read it after an `ask` on every path"
                .to_owned()
        } else {
            format!(
                "set `{name}` on every path that leads here, test it with `if {name} is set {{ … }}`, or give a fallback: `{{{name} or \"…\"}}`"
            )
        };
        out.push(
            Diagnostic::new(
                Code::PossiblyUnsetVariable,
                *span,
                format!("`{name}` may not be set here"),
            )
            .with_label("some path reaches this point without setting it")
            .with_help(help),
        );
    }
    if graph.start.is_some() {
        unreachable(graph, sites, out);
    }
    cycles(graph, out);
}

/// L201 for each step no path reaches; for an included flow that is never entered, once at
/// its `include` rather than once per step of the flow.
fn unreachable(graph: &StepGraph<'_>, sites: &[Site], out: &mut Vec<Diagnostic>) {
    let reached = |name: &str| {
        graph
            .steps
            .iter()
            .zip(&graph.reachable)
            .any(|(step, reached)| *reached && step.name.text == name)
    };
    let unentered: Vec<&Site> = sites
        .iter()
        .filter(|site| site.start.as_deref().is_some_and(|start| !reached(start)))
        .collect();
    for site in &unentered {
        out.push(
            Diagnostic::new(
                Code::UnreachableStep,
                site.name_span,
                format!("`{}` (flow `{}`) is never entered", site.alias, site.flow),
            )
            .with_label("no path from the start leads here")
            .with_help(format!(
                "`goto {}` from a reachable step, or remove the `include`",
                site.alias
            )),
        );
    }
    // Where an include stands for its flow, which steps the flow reaches is not known yet.
    if sites.iter().all(|site| site.expanded) {
        for (i, step) in graph.steps.iter().enumerate() {
            if !graph.reachable[i] && !unentered.iter().any(|site| site.owns(&step.name.text)) {
                out.push(
                    Diagnostic::new(
                        Code::UnreachableStep,
                        step.name.span,
                        format!("step `{}` is never reached", step.name.text),
                    )
                    .with_label("no path from the start leads here")
                    .with_help(format!(
                        "`goto {}` from a reachable step, or remove it",
                        step.name.text
                    )),
                );
            }
        }
    }
}

/// Finds the strongly connected components of the graph of edges that do not wait for the
/// contact (Tarjan's algorithm, iterative so that no scenario can overflow the stack) and
/// reports one loop in each component that has one.
fn cycles(graph: &StepGraph<'_>, out: &mut Vec<Diagnostic>) {
    let n = graph.steps.len();
    let mut successors: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (e, edge) in graph.edges.iter().enumerate() {
        if let (Target::Step(to), false) = (edge.to, edge.waits) {
            successors[edge.from].push((to, e));
        }
    }
    for component in strongly_connected(&successors) {
        let looping = component.len() > 1
            || successors[component[0]]
                .iter()
                .any(|(to, _)| *to == component[0]);
        if !looping {
            continue;
        }
        let Some(cycle) = find_cycle(&successors, &component) else {
            continue;
        };
        let names: Vec<&str> = cycle
            .iter()
            .map(|e| graph.steps[graph.edges[*e].from].name.text.as_str())
            .collect();
        let first = &graph.edges[cycle[0]];
        let mut diagnostic = Diagnostic::new(
            Code::InputFreeCycle,
            first.span,
            format!("these steps loop forever without waiting for the contact: {} → {}", names.join(" → "), names[0]),
        )
        .with_label(cause_words(&first.cause))
        .with_help("put an `ask` on the loop so each round waits for an answer, or make one path leave the loop with `handoff advisor` or `end`");
        for e in &cycle[1..] {
            let edge = &graph.edges[*e];
            diagnostic = diagnostic.with_secondary(edge.span, cause_words(&edge.cause));
        }
        out.push(diagnostic);
    }
}

fn cause_words(cause: &Cause) -> String {
    match cause {
        Cause::OnError(action) => format!("goes back if `{action}` fails"),
        _ => "goes round without an answer from the contact".to_owned(),
    }
}

/// Tarjan's SCC algorithm with an explicit stack. Components come out in reverse
/// topological order; each lists its nodes.
fn strongly_connected(successors: &[Vec<(usize, usize)>]) -> Vec<Vec<usize>> {
    let n = successors.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut counter = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next successor position)
        let mut call: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut next)) = call.last_mut() {
            if let Some(&(to, _)) = successors[node].get(*next) {
                *next += 1;
                if index[to] == usize::MAX {
                    index[to] = counter;
                    low[to] = counter;
                    counter += 1;
                    stack.push(to);
                    on_stack[to] = true;
                    call.push((to, 0));
                } else if on_stack[to] {
                    low[node] = low[node].min(index[to]);
                }
                continue;
            }
            call.pop();
            if let Some(&(parent, _)) = call.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                component.sort_unstable();
                components.push(component);
            }
        }
    }
    components.sort();
    components
}

/// One cycle through the component's first node, as a list of edge indices (BFS, so the
/// shortest one).
fn find_cycle(successors: &[Vec<(usize, usize)>], component: &[usize]) -> Option<Vec<usize>> {
    let start = *component.first()?;
    let mut came_by: Vec<Option<usize>> = vec![None; successors.len()];
    let mut parent: Vec<usize> = vec![usize::MAX; successors.len()];
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &(to, edge) in &successors[node] {
            if component.binary_search(&to).is_err() {
                continue;
            }
            if to == start {
                let mut cycle = vec![edge];
                let mut at = node;
                while at != start {
                    cycle.push(came_by[at]?);
                    at = parent[at];
                }
                cycle.reverse();
                return Some(cycle);
            }
            if came_by[to].is_none() {
                came_by[to] = Some(edge);
                parent[to] = node;
                queue.push_back(to);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{find_cycle, strongly_connected};

    #[test]
    fn components_and_cycles() {
        // 0 → 1 → 2 → 0, 2 → 3, 3 → 3
        let successors = vec![
            vec![(1, 10)],
            vec![(2, 11)],
            vec![(0, 12), (3, 13)],
            vec![(3, 14)],
        ];
        let components = strongly_connected(&successors);
        assert_eq!(components, vec![vec![0, 1, 2], vec![3]]);
        assert_eq!(find_cycle(&successors, &[0, 1, 2]), Some(vec![10, 11, 12]));
        assert_eq!(find_cycle(&successors, &[3]), Some(vec![14]));
    }
}
