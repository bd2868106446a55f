//! The step graph of a scenario as Graphviz DOT or a Mermaid flowchart, for authors to see
//! their flow. Nodes are steps (the start one marked), plus "handoff advisor" and "end";
//! edges carry their cause: goto, a choice's text, invalid after N attempts, a timeout, or
//! an action's failure. The edges come from the checker's flow analysis (`check::flow`), so
//! the picture and the lint agree.

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::ast::{Hook, Name, Scenario};
use crate::check::flow::{Cause, Edge, StepGraph, Target};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

pub fn render(scenario: &Scenario, format: GraphFormat) -> String {
    let graph = StepGraph::build(scenario);
    let edges = distinct_edges(&graph);
    match format {
        GraphFormat::Dot => dot(scenario, &graph, &edges),
        GraphFormat::Mermaid => mermaid(scenario, &graph, &edges),
    }
}

/// The same cause between the same steps is drawn once (two `goto route` in an if/else).
fn distinct_edges<'g>(graph: &'g StepGraph<'_>) -> Vec<&'g Edge> {
    let mut seen = HashSet::new();
    graph
        .edges
        .iter()
        .filter(|e| seen.insert((e.from, format!("{:?}", e.to), label(&e.cause))))
        .collect()
}

fn label(cause: &Cause) -> String {
    match cause {
        Cause::Goto => "goto".to_owned(),
        Cause::Choice(text) => format!("choice \"{text}\""),
        Cause::Attempts(n) => format!(
            "invalid after {n} attempt{}",
            if *n == 1 { "" } else { "s" }
        ),
        Cause::Timeout(duration) => format!("timeout {duration}"),
        Cause::OnError(action) => format!("on error ({action})"),
        Cause::When(pattern) => format!("when {pattern}"),
        Cause::Escape => "escape".to_owned(),
    }
}

/// Where else a conversation begins running besides the start: (node id, node label, step
/// index) for each `entry` step (an advisor's tool hands the conversation back there) and each
/// hook (`on close goto survey`).
fn other_beginnings(
    scenario: &Scenario,
    graph: &StepGraph<'_>,
) -> Vec<(&'static str, &'static str, usize)> {
    let mut found = Vec::new();
    let index = |name: &Name| graph.index.get(name.text.as_str()).copied();
    for step in scenario.entries().filter_map(index) {
        found.push(("entry", "advisor returns", step));
    }
    for hook in Hook::ALL {
        if let Some(step) = scenario.hook(hook).and_then(index) {
            let (id, label) = match hook {
                Hook::Close => ("on_close", "on close"),
                Hook::Resume => ("on_resume", "on resume"),
            };
            found.push((id, label, step));
        }
    }
    found
}

/// A plain `handoff advisor` or `end`: the node says it all, the edge needs no label.
fn stops(edge: &Edge) -> bool {
    edge.cause == Cause::Goto && matches!(edge.to, Target::Handoff | Target::End)
}

fn dot(scenario: &Scenario, graph: &StepGraph<'_>, edges: &[&Edge]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", dot_id(&scenario.name.text));
    out.push_str("  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("  __start [shape=point, width=0.15];\n");
    for step in &graph.steps {
        let _ = writeln!(out, "  {};", dot_id(&step.name.text));
    }
    let uses = |target: Target| edges.iter().any(|e| e.to == target);
    if uses(Target::Handoff) {
        out.push_str("  __handoff [label=\"handoff advisor\", shape=ellipse, style=filled, fillcolor=\"#dbeafe\"];\n");
    }
    if uses(Target::End) {
        out.push_str("  __end [label=\"end\", shape=doublecircle];\n");
    }
    if let Some(start) = graph.start {
        let _ = writeln!(
            out,
            "  __start -> {};",
            dot_id(&graph.steps[start].name.text)
        );
    }
    let mut declared = HashSet::new();
    for (id, label, step) in other_beginnings(scenario, graph) {
        if declared.insert(id) {
            let _ = writeln!(
                out,
                "  __{id} [label={}, shape=ellipse, style=dashed];",
                dot_string(label)
            );
        }
        let _ = writeln!(
            out,
            "  __{id} -> {} [style=dashed];",
            dot_id(&graph.steps[step].name.text)
        );
    }
    for (i, edge) in edges.iter().enumerate() {
        let to = match edge.to {
            Target::Step(t) => dot_id(&graph.steps[t].name.text),
            Target::Handoff => "__handoff".to_owned(),
            Target::End => "__end".to_owned(),
            Target::Unknown => {
                let id = format!("__unknown{i}");
                let _ = writeln!(
                    out,
                    "  {id} [label=\"unknown step\", color=red, fontcolor=red];"
                );
                id
            }
        };
        let style = match edge.cause {
            Cause::Goto | Cause::Choice(_) | Cause::When(_) => "",
            Cause::Escape => ", style=dashed, color=gray",
            Cause::Attempts(_) => ", style=dashed",
            Cause::Timeout(_) => ", style=dotted",
            Cause::OnError(_) => ", color=red, fontcolor=red",
        };
        let from = dot_id(&graph.steps[edge.from].name.text);
        if stops(edge) {
            let _ = writeln!(out, "  {from} -> {to};");
        } else {
            let _ = writeln!(
                out,
                "  {from} -> {to} [label={}{style}];",
                dot_string(&label(&edge.cause))
            );
        }
    }
    out.push_str("}\n");
    out
}

fn dot_id(name: &str) -> String {
    dot_string(name)
}

fn dot_string(text: &str) -> String {
    format!(
        "\"{}\"",
        text.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

fn mermaid(scenario: &Scenario, graph: &StepGraph<'_>, edges: &[&Edge]) -> String {
    let mut out = String::from("flowchart TD\n");
    out.push_str("  start([start])\n");
    for (i, step) in graph.steps.iter().enumerate() {
        let _ = writeln!(out, "  s{i}[\"{}\"]", mermaid_text(&step.name.text));
    }
    if edges.iter().any(|e| e.to == Target::Handoff) {
        out.push_str("  handoff([\"handoff advisor\"])\n");
    }
    if edges.iter().any(|e| e.to == Target::End) {
        out.push_str("  finish((\"end\"))\n");
    }
    if let Some(start) = graph.start {
        let _ = writeln!(out, "  start --> s{start}");
    }
    let mut declared = HashSet::new();
    for (id, label, step) in other_beginnings(scenario, graph) {
        if declared.insert(id) {
            let _ = writeln!(out, "  {id}([\"{label}\"])");
        }
        let _ = writeln!(out, "  {id} -.-> s{step}");
    }
    for (i, edge) in edges.iter().enumerate() {
        let to = match edge.to {
            Target::Step(t) => format!("s{t}"),
            Target::Handoff => "handoff".to_owned(),
            Target::End => "finish".to_owned(),
            Target::Unknown => {
                let _ = writeln!(out, "  unknown{i}[\"unknown step\"]");
                format!("unknown{i}")
            }
        };
        let arrow = match edge.cause {
            Cause::Goto | Cause::Choice(_) | Cause::When(_) | Cause::OnError(_) => "-->",
            Cause::Attempts(_) | Cause::Timeout(_) | Cause::Escape => "-.->",
        };
        if stops(edge) {
            let _ = writeln!(out, "  s{} --> {to}", edge.from);
        } else {
            let _ = writeln!(
                out,
                "  s{} {arrow}|\"{}\"| {to}",
                edge.from,
                mermaid_text(&label(&edge.cause))
            );
        }
    }
    out
}

/// Mermaid's quoted text takes HTML entities for quotes, and for `|`, which would end an
/// edge's label (a `when /a|b/` pattern).
fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
        .replace('|', "#124;")
        .replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn scenario(text: &str) -> Scenario {
        crate::syntax::parse(&SourceFile::new("t.scn", text))
            .unwrap()
            .scenario
    }

    #[test]
    fn patterns_and_the_escape_are_drawn() {
        let s = scenario(
            "scenario s { escape \"agent\" -> handoff advisor start a\n step a { ask \"q?\" { when /refund|return/i -> b } end }\n step b { end } }",
        );
        let dot = render(&s, GraphFormat::Dot);
        assert!(
            dot.contains(r#""a" -> "b" [label="when /refund|return/i"];"#),
            "{dot}"
        );
        assert!(
            dot.contains(r#""a" -> __handoff [label="escape", style=dashed, color=gray];"#),
            "{dot}"
        );
        let mermaid = render(&s, GraphFormat::Mermaid);
        assert!(mermaid.contains("-.->|\"escape\"|"), "{mermaid}");
        assert!(
            mermaid.contains("-->|\"when /refund#124;return/i\"| s1"),
            "{mermaid}"
        );
    }

    #[test]
    fn edges_carry_their_causes() {
        let s = scenario(
            "scenario s { start a\n step a { ask \"q?\" { choice \"Yes \\\"sure\\\"\" -> b\n attempts 2 then goto b\n timeout 5m then end } }\n step b { handoff advisor } }",
        );
        let dot = render(&s, GraphFormat::Dot);
        assert!(
            dot.contains(r#""a" -> "b" [label="choice \"Yes \"sure\"\""];"#),
            "{dot}"
        );
        assert!(
            dot.contains("\"a\" -> \"b\" [label=\"invalid after 2 attempts\", style=dashed];"),
            "{dot}"
        );
        assert!(
            dot.contains("\"a\" -> __end [label=\"timeout 5m\", style=dotted];"),
            "{dot}"
        );
        assert!(dot.contains("\"b\" -> __handoff;"), "{dot}");
        assert!(dot.contains("__start -> \"a\";"), "{dot}");
        let mermaid = render(&s, GraphFormat::Mermaid);
        assert!(
            mermaid.contains("s0 -.->|\"timeout 5m\"| finish"),
            "{mermaid}"
        );
        assert!(mermaid.contains("choice #quot;Yes"), "{mermaid}");
    }

    #[test]
    fn entry_points_and_hooks_are_drawn_as_beginnings() {
        let s = scenario(
            "scenario s { start a\n entry b\n on close goto c\n step a { handoff advisor }\n step b { end }\n step c { end } }",
        );
        let dot = render(&s, GraphFormat::Dot);
        assert!(dot.contains("__entry -> \"b\" [style=dashed];"), "{dot}");
        assert!(dot.contains("__on_close [label=\"on close\""), "{dot}");
        let mermaid = render(&s, GraphFormat::Mermaid);
        assert!(
            mermaid.contains("entry([\"advisor returns\"])"),
            "{mermaid}"
        );
        assert!(mermaid.contains("on_close -.-> s2"), "{mermaid}");
    }
}
