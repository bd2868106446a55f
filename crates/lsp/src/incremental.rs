//! Re-parsing only the step an edit falls in. pest parses a 10,000-line scenario in about
//! 90 ms (docs/performance.md), too slow to answer each keystroke within 50 ms, but a step
//! parses in well under a millisecond. When the text changed only inside one step's braces
//! (found by comparing the old and new texts: their common prefix and suffix), that step's
//! new text is parsed alone inside a stand-in `scenario` and its spans are moved to where it
//! stands; every span after it moves by the length the edit added. Anything else — an edit
//! between steps, in a header, across two steps, or a step that no longer parses on its own —
//! answers `None`, and the caller parses the whole file, so the result is always the one a
//! full parse gives (the unit tests compare both on random edits).

use scenarist_lang::ast::{Flow, Item, ItemKind, Scenario, VisitMut, walk_items_mut};
use scenarist_lang::source::{SourceFile, Span};
use scenarist_lang::syntax::{self, Parsed};

/// The stand-in scenario a step is parsed in; its text before the step.
const WRAPPER_HEAD: &str = "scenario lsp_chunk {\n";
const WRAPPER_TAIL: &str = "\n}\n";

/// The parse of `new`, from the parse of `old_text` when only one step's inside changed.
pub(crate) fn reparse(old_text: &str, old: &Parsed, new: &SourceFile) -> Option<Parsed> {
    let new_text = new.text();
    let prefix = common_prefix(old_text, new_text);
    let room = old_text.len().min(new_text.len()) - prefix;
    let suffix = common_suffix(old_text, new_text).min(room);
    let old_end = old_text.len() - suffix;
    let delta = i64::try_from(new_text.len()).ok()? - i64::try_from(old_text.len()).ok()?;
    let (container, index) = step_around(old, prefix, old_end)?;
    let old_item = item(old, container, index)?;
    let step_span = old_item.span;
    let chunk_end = usize::try_from(i64::from(step_span.end) + delta).ok()?;
    let chunk = new_text.get(step_span.start as usize..chunk_end)?;
    let (mut new_item, mut chunk_parsed) = parse_step(chunk)?;
    let to_place = i64::from(step_span.start) - i64::try_from(WRAPPER_HEAD.len()).ok()?;
    let mut place = Shift::all(to_place);
    walk_items_mut(&mut place, std::slice::from_mut(&mut new_item));
    if new_item.span != Span::new(step_span.start as usize, chunk_end) {
        return None;
    }
    let mut after = Shift::after(step_span.end, delta);
    let mut scenario = old.scenario.clone();
    if let Some(scenario) = &mut scenario {
        after.scenario(scenario);
    }
    let mut flows = old.flows.clone();
    for flow in &mut flows {
        after.flow(flow);
    }
    let target = match container {
        Container::Scenario => scenario.as_mut().map(|s| &mut s.items),
        Container::Flow(f) => flows.get_mut(f).map(|f| &mut f.items),
    }?;
    *target.get_mut(index)? = new_item;
    let mut comments = moved(&old.comments, step_span, delta, |s| *s);
    for comment in &mut chunk_parsed.comments {
        place.span(comment);
    }
    comments.extend(chunk_parsed.comments);
    comments.sort();
    let mut diagnostics: Vec<_> = old
        .diagnostics
        .iter()
        .filter(|d| !inside(d.primary.span, step_span))
        .cloned()
        .collect();
    for diagnostic in &mut diagnostics {
        after.span(&mut diagnostic.primary.span);
        diagnostic
            .secondary
            .iter_mut()
            .for_each(|l| after.span(&mut l.span));
    }
    for mut diagnostic in chunk_parsed.diagnostics {
        place.span(&mut diagnostic.primary.span);
        diagnostic
            .secondary
            .iter_mut()
            .for_each(|l| place.span(&mut l.span));
        diagnostics.push(diagnostic);
    }
    Some(Parsed {
        scenario,
        flows,
        comments,
        diagnostics,
    })
}

fn common_prefix(a: &str, b: &str) -> usize {
    let mut n = a
        .as_bytes()
        .iter()
        .zip(b.as_bytes())
        .take_while(|(x, y)| x == y)
        .count();
    while !(a.is_char_boundary(n) && b.is_char_boundary(n)) {
        n -= 1;
    }
    n
}

fn common_suffix(a: &str, b: &str) -> usize {
    let mut n = a
        .as_bytes()
        .iter()
        .rev()
        .zip(b.as_bytes().iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    while !(a.is_char_boundary(a.len() - n) && b.is_char_boundary(b.len() - n)) {
        n -= 1;
    }
    n
}

#[derive(Clone, Copy)]
enum Container {
    Scenario,
    Flow(usize),
}

/// The step whose braces hold the old range `start..end` strictly inside.
fn step_around(parsed: &Parsed, start: usize, end: usize) -> Option<(Container, usize)> {
    let inside_braces = |item: &Item| match &item.kind {
        ItemKind::Step(step) => {
            (step.body.span.start as usize) < start && end < step.body.span.end as usize
        }
        _ => false,
    };
    if let Some(scenario) = &parsed.scenario
        && let Some(index) = scenario.items.iter().position(inside_braces)
    {
        return Some((Container::Scenario, index));
    }
    parsed.flows.iter().enumerate().find_map(|(f, flow)| {
        flow.items
            .iter()
            .position(inside_braces)
            .map(|index| (Container::Flow(f), index))
    })
}

fn item(parsed: &Parsed, container: Container, index: usize) -> Option<&Item> {
    match container {
        Container::Scenario => parsed.scenario.as_ref()?.items.get(index),
        Container::Flow(f) => parsed.flows.get(f)?.items.get(index),
    }
}

/// The step of `chunk` parsed alone (spans relative to the stand-in's text), with the
/// stand-in's comments and findings.
fn parse_step(chunk: &str) -> Option<(Item, Parsed)> {
    let text = format!("{WRAPPER_HEAD}{chunk}{WRAPPER_TAIL}");
    let mut parsed = syntax::parse(&SourceFile::new("chunk.scn", text)).ok()?;
    if !parsed.flows.is_empty() {
        return None;
    }
    let scenario = parsed.scenario.as_mut()?;
    if scenario.items.len() != 1 || !matches!(scenario.items[0].kind, ItemKind::Step(_)) {
        return None;
    }
    let item = scenario.items.pop()?;
    Some((item, parsed))
}

fn inside(span: Span, outer: Span) -> bool {
    outer.start <= span.start && span.end <= outer.end
}

/// The spans outside `step` of `spans`, those after it moved by `delta`.
fn moved<T>(spans: &[T], step: Span, delta: i64, span_of: impl Fn(&T) -> Span) -> Vec<Span> {
    let mut after = Shift::after(step.end, delta);
    spans
        .iter()
        .map(span_of)
        .filter(|span| !inside(*span, step))
        .map(|mut span| {
            after.span(&mut span);
            span
        })
        .collect()
}

/// Moves spans: every one (`all`), or those at or after an offset (`after`; a span that
/// holds the offset, such as the scenario's, grows or shrinks at its end).
struct Shift {
    from: u32,
    delta: i64,
}

impl Shift {
    fn all(delta: i64) -> Self {
        Self { from: 0, delta }
    }

    fn after(from: u32, delta: i64) -> Self {
        Self { from, delta }
    }

    fn moved(&self, offset: u32) -> u32 {
        u32::try_from((i64::from(offset) + self.delta).max(0)).unwrap_or(u32::MAX)
    }

    fn scenario(&mut self, scenario: &mut Scenario) {
        self.span(&mut scenario.span);
        self.span(&mut scenario.name.span);
        walk_items_mut(self, &mut scenario.items);
    }

    fn flow(&mut self, flow: &mut Flow) {
        self.span(&mut flow.span);
        self.span(&mut flow.name.span);
        self.span(&mut flow.params_span);
        for param in &mut flow.params {
            self.span(&mut param.span);
            self.span(&mut param.name.span);
        }
        walk_items_mut(self, &mut flow.items);
    }
}

impl VisitMut for Shift {
    fn span(&mut self, span: &mut Span) {
        if span.start >= self.from {
            span.start = self.moved(span.start);
            span.end = self.moved(span.end);
        } else if span.end >= self.from && self.from > 0 {
            span.end = self.moved(span.end);
        }
    }
}

#[cfg(test)]
mod tests;
