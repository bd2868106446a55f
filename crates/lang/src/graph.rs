//! The step graph of a scenario as Graphviz DOT or a Mermaid flowchart, for authors to see
//! their flow. Nodes are steps (the start one marked), plus "handoff advisor" and "end";
//! edges carry their cause: goto, a choice's text, invalid after N attempts, a timeout, or
//! an action's failure, preceded by the conditions of the `if`s they are inside (`if x > 3`,
//! `else if …`, `else`). The edges come from the checker's flow analysis (`check::flow`), so
//! the picture and the lint agree.

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::ast::{Block, Hook, Name, Scenario, StmtKind};
use crate::check::flow::{Cause, Edge, StepGraph, Target};
use crate::include::Site;
use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

pub fn render(scenario: &Scenario, format: GraphFormat) -> String {
    render_with(scenario, &[], format)
}

/// Draws a parsed file's scenario with its includes expanded, each included flow in a box
/// of its own; `None` for a file of flows alone.
pub fn render_parsed(parsed: &crate::syntax::Parsed, format: GraphFormat) -> Option<String> {
    let expansion = crate::include::expand(parsed.scenario.as_ref()?, &parsed.flows);
    Some(render_with(&expansion.scenario, &expansion.sites, format))
}

fn render_with(scenario: &Scenario, sites: &[Site], format: GraphFormat) -> String {
    let graph = StepGraph::build(scenario);
    let edges = distinct_edges(&graph, &guards(scenario));
    match format {
        GraphFormat::Dot => dot(scenario, &graph, &edges, sites),
        GraphFormat::Mermaid => mermaid(scenario, &graph, &edges, sites),
    }
}

/// The include that owns step `name`, if any.
fn site_of(sites: &[Site], name: &str) -> Option<usize> {
    sites.iter().position(|site| site.owns(name))
}

fn cluster_label(site: &Site) -> String {
    format!("{}: flow {}", site.alias, site.flow)
}

/// An edge to draw and its label; `None` for a plain `handoff advisor` or `end` outside any
/// `if` (the node says it all).
type Drawn<'g> = (&'g Edge, Option<String>);

/// The same label between the same steps is drawn once.
fn distinct_edges<'g>(graph: &'g StepGraph<'_>, guards: &[(Span, String)]) -> Vec<Drawn<'g>> {
    let mut seen = HashSet::new();
    graph
        .edges
        .iter()
        .map(|e| (e, edge_label(e, guards)))
        .filter(|(e, label)| seen.insert((e.from, format!("{:?}", e.to), label.clone())))
        .collect()
}

/// The `if` branches of the scenario, outermost first: the span of each guarded block and
/// how it is entered (`if c`, `else if c`, `else`).
fn guards(scenario: &Scenario) -> Vec<(Span, String)> {
    fn walk(block: &Block, out: &mut Vec<(Span, String)>) {
        for stmt in &block.statements {
            if let StmtKind::If(if_stmt) = &stmt.kind {
                for (i, branch) in if_stmt.branches.iter().enumerate() {
                    let keyword = if i == 0 { "if" } else { "else if" };
                    let condition = crate::fmt::expression(&branch.condition);
                    out.push((branch.body.span, format!("{keyword} {condition}")));
                    walk(&branch.body, out);
                }
                if let Some(otherwise) = &if_stmt.otherwise {
                    out.push((otherwise.span, "else".to_owned()));
                    walk(otherwise, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    for step in scenario.steps() {
        walk(&step.body, &mut out);
    }
    out
}

/// The edge's label: the conditions it is under, then its cause.
fn edge_label(edge: &Edge, guards: &[(Span, String)]) -> Option<String> {
    let conditions: Vec<&str> = guards
        .iter()
        .filter(|(span, _)| span.start <= edge.span.start && edge.span.end <= span.end)
        .map(|(_, condition)| condition.as_str())
        .collect();
    let plain = edge.cause == Cause::Goto;
    match (conditions.is_empty(), plain) {
        (true, true) if matches!(edge.to, Target::Handoff | Target::End) => None,
        (true, _) => Some(label(&edge.cause)),
        (false, true) => Some(conditions.join(", ")),
        (false, false) => Some(format!("{}: {}", conditions.join(", "), label(&edge.cause))),
    }
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

fn dot(scenario: &Scenario, graph: &StepGraph<'_>, edges: &[Drawn<'_>], sites: &[Site]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", dot_id(&scenario.name.text));
    out.push_str("  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("  __start [shape=point, width=0.15];\n");
    for step in graph
        .steps
        .iter()
        .filter(|s| site_of(sites, &s.name.text).is_none())
    {
        let _ = writeln!(out, "  {};", dot_id(&step.name.text));
    }
    for (i, site) in sites.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph \"cluster_{i}\" {{\n    label={};\n    style=dashed;",
            dot_string(&cluster_label(site))
        );
        for step in graph
            .steps
            .iter()
            .filter(|s| site_of(sites, &s.name.text) == Some(i))
        {
            let _ = writeln!(out, "    {};", dot_id(&step.name.text));
        }
        out.push_str("  }\n");
    }
    let uses = |target: Target| edges.iter().any(|(e, _)| e.to == target);
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
    for (i, (edge, label)) in edges.iter().enumerate() {
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
        match label {
            None => {
                let _ = writeln!(out, "  {from} -> {to};");
            }
            Some(label) => {
                let _ = writeln!(
                    out,
                    "  {from} -> {to} [label={}{style}];",
                    dot_string(label)
                );
            }
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

fn mermaid(
    scenario: &Scenario,
    graph: &StepGraph<'_>,
    edges: &[Drawn<'_>],
    sites: &[Site],
) -> String {
    let mut out = String::from("flowchart TD\n");
    out.push_str("  start([start])\n");
    for (i, step) in graph.steps.iter().enumerate() {
        if site_of(sites, &step.name.text).is_none() {
            let _ = writeln!(out, "  s{i}[\"{}\"]", mermaid_text(&step.name.text));
        }
    }
    for (c, site) in sites.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph flow{c}[\"{}\"]",
            mermaid_text(&cluster_label(site))
        );
        for (i, step) in graph.steps.iter().enumerate() {
            if site_of(sites, &step.name.text) == Some(c) {
                let _ = writeln!(out, "    s{i}[\"{}\"]", mermaid_text(&step.name.text));
            }
        }
        out.push_str("  end\n");
    }
    if edges.iter().any(|(e, _)| e.to == Target::Handoff) {
        out.push_str("  handoff([\"handoff advisor\"])\n");
    }
    if edges.iter().any(|(e, _)| e.to == Target::End) {
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
    for (i, (edge, label)) in edges.iter().enumerate() {
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
        match label {
            None => {
                let _ = writeln!(out, "  s{} --> {to}", edge.from);
            }
            Some(label) => {
                let _ = writeln!(
                    out,
                    "  s{} {arrow}|\"{}\"| {to}",
                    edge.from,
                    mermaid_text(label)
                );
            }
        }
    }
    out
}

/// Mermaid's quoted text takes entity codes for what it would read as markup: `#` itself,
/// quotes, angle brackets (`if n > 3`) and `|`, which would end an edge's label (a `when /a|b/`
/// pattern).
fn mermaid_text(text: &str) -> String {
    text.replace('#', "#35;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
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
            .unwrap()
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

    #[test]
    fn edges_out_of_an_if_carry_its_condition() {
        let s = scenario(
            "scenario s { start a\n step a { set n = 4\n if n > 3 { goto b } else if name == \"x\\\"y\" { handoff advisor } else { if n == 1 { end }\n goto b } }\n step b { ask \"q?\" { choice \"ok\" -> a } } }",
        );
        let dot = render(&s, GraphFormat::Dot);
        assert!(dot.contains(r#""a" -> "b" [label="if n > 3"];"#), "{dot}");
        assert!(
            dot.contains(r#""a" -> __handoff [label="else if name == \"x\\\"y\""];"#),
            "{dot}"
        );
        assert!(
            dot.contains(r#""a" -> __end [label="else, if n == 1"];"#),
            "{dot}"
        );
        assert!(dot.contains(r#""a" -> "b" [label="else"];"#), "{dot}");
        let mermaid = render(&s, GraphFormat::Mermaid);
        assert!(mermaid.contains("s0 -->|\"if n #gt; 3\"| s1"), "{mermaid}");
        assert!(
            mermaid.contains("s0 -->|\"else if name == #quot;x\\#quot;y#quot;\"| handoff"),
            "{mermaid}"
        );
        assert!(
            mermaid.contains("s0 -->|\"else, if n == 1\"| finish"),
            "{mermaid}"
        );
    }
}
