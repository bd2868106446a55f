//! Which variables are certainly set at a place of a scenario, asked of the checker itself: a
//! copy of the scenario gets, at that place, a statement reading every variable, and the
//! checker's own flow analysis (`check::StepGraph`, the one behind C110
//! possibly-unset-variable) says which of those reads may find the variable unset. The rest
//! are set on every path that reaches the place: completion offers them first.

use std::collections::HashSet;

use scenarist_lang::ast::{
    Block, Expr, ExprKind, ItemKind, Message, Name, Path, Quotes, Scenario, Stmt, StmtKind, Text,
    TextPart,
};
use scenarist_lang::check::StepGraph;
use scenarist_lang::source::Span;

/// The variables of `candidates` set on every path to `offset`; `None` when the place is not
/// in a step the start reaches (the analysis says nothing there).
pub(crate) fn definitely_set(
    scenario: &Scenario,
    offset: usize,
    candidates: &[String],
) -> Option<HashSet<String>> {
    let mut copy = scenario.clone();
    // Spans no real node has, to tell the probe's reads from the scenario's.
    let marker = |i: usize| Span::at(u32::MAX as usize - 1 - i);
    let probe = Stmt {
        kind: StmtKind::Say(Message {
            text: Text {
                parts: candidates
                    .iter()
                    .enumerate()
                    .map(|(i, name)| TextPart::Interpolation(read(name, marker(i))))
                    .collect(),
                quotes: Quotes::Line,
                span: marker(candidates.len()),
            },
            translations: Vec::new(),
        }),
        span: marker(candidates.len() + 1),
    };
    let step_name = copy
        .items
        .iter_mut()
        .find_map(|item| match &mut item.kind {
            ItemKind::Step(step) if contains(step.body.span, offset) => {
                insert(&mut step.body, offset, probe.clone());
                Some(step.name.text.clone())
            }
            _ => None,
        })?;
    let graph = StepGraph::build(&copy);
    let index = *graph.index.get(step_name.as_str())?;
    if !graph.reachable.get(index).copied().unwrap_or(false) {
        return None;
    }
    let unset: HashSet<&str> = graph
        .unset_reads
        .iter()
        .filter(|(span, _)| span.start >= marker(candidates.len()).start)
        .map(|(_, name)| name.as_str())
        .collect();
    Some(
        candidates
            .iter()
            .filter(|name| !unset.contains(name.as_str()))
            .cloned()
            .collect(),
    )
}

fn read(name: &str, span: Span) -> Expr {
    let name = Name {
        text: name.to_owned(),
        span,
    };
    Expr {
        kind: ExprKind::Path(Path {
            segments: vec![name],
            span,
        }),
        span,
    }
}

fn contains(span: Span, offset: usize) -> bool {
    (span.start as usize) < offset && offset < span.end as usize
}

/// Puts `stmt` in the innermost block around `offset`, before the statements after it.
fn insert(block: &mut Block, offset: usize, stmt: Stmt) {
    for existing in &mut block.statements {
        if let StmtKind::If(if_stmt) = &mut existing.kind {
            let inner = if_stmt
                .branches
                .iter_mut()
                .map(|b| &mut b.body)
                .chain(if_stmt.otherwise.as_mut())
                .find(|b| contains(b.span, offset));
            if let Some(inner) = inner {
                insert(inner, offset, stmt);
                return;
            }
        }
    }
    // Before the statement the cursor is in or before: what it sets is not set yet.
    let at = block
        .statements
        .iter()
        .position(|s| s.span.end as usize >= offset)
        .unwrap_or(block.statements.len());
    block.statements.insert(at, stmt);
}

#[cfg(test)]
mod tests {
    use super::*;
    use scenarist_lang::source::SourceFile;
    use scenarist_lang::syntax;

    #[test]
    fn a_variable_set_on_one_branch_only_is_not_certain() {
        let text = "scenario s {\n  start a\n  step a {\n    set x = 1\n    if contact.vip is set {\n      set y = 2\n    }\n    say \"here\"\n    end\n  }\n}\n";
        let parsed = syntax::parse(&SourceFile::new("s.scn", text)).unwrap();
        let scenario = parsed.scenario.unwrap();
        let names = ["x".to_owned(), "y".to_owned()];
        let here = text.find("say \"here\"").unwrap();
        let set = definitely_set(&scenario, here, &names).unwrap();
        assert_eq!(set, HashSet::from(["x".to_owned()]));
        let before = text.find("set x").unwrap();
        assert!(
            definitely_set(&scenario, before, &names)
                .unwrap()
                .is_empty()
        );
    }
}
