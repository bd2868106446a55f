//! Re-parsing only the items an edit touched. pest parses a 10,000-line scenario in about
//! 70 ms (release), too slow to answer each keystroke within 50 ms, but a step parses in well
//! under a millisecond. The old and new texts are compared (their common prefix and suffix);
//! when the change lies inside the braces of the scenario or of a flow, the items it touches
//! — a step being edited, a `start` line, a step being typed between two others — are parsed
//! again alone, between the container's own header (`scenario shop {`) and a closing brace,
//! their spans moved to where they stand, and every span after them shifted by the length the
//! edit added. Anything else — an edit in a header or outside every container, text that no
//! longer parses on its own — answers `None`, and the caller parses the whole file, so the
//! result is always the one a full parse gives (the unit tests compare both on random edits).

use scenarist_lang::ast::{Flow, Scenario, VisitMut, walk_items_mut};
use scenarist_lang::source::{SourceFile, Span};
use scenarist_lang::syntax::{self, Parsed};

/// The parse of `new`, from the parse of `old_text` when the change stayed inside a
/// container's braces.
pub(crate) fn reparse(old_text: &str, old: &Parsed, new: &SourceFile) -> Option<Parsed> {
    let new_text = new.text();
    if old_text == new_text {
        // Back to the last text that parsed (a mistake typed, then undone).
        return Some(Parsed {
            scenario: old.scenario.clone(),
            flows: old.flows.clone(),
            comments: old.comments.clone(),
            diagnostics: old.diagnostics.clone(),
        });
    }
    let prefix = common_prefix(old_text, new_text);
    let room = old_text.len().min(new_text.len()) - prefix;
    let suffix = common_suffix(old_text, new_text).min(room);
    let old_end = old_text.len() - suffix;
    let delta = i64::try_from(new_text.len()).ok()? - i64::try_from(old_text.len()).ok()?;
    let (which, frame) = container_around(old, old_text, prefix, old_end)?;
    let items = match which {
        Container::Scenario => &old.scenario.as_ref()?.items,
        Container::Flow(f) => &old.flows.get(f)?.items,
    };
    // The items wholly before the change and wholly after it stay; the others are re-parsed
    // with the text between their neighbours.
    let first = items
        .iter()
        .take_while(|i| (i.span.end as usize) < prefix)
        .count();
    let after = items
        .iter()
        .rev()
        .take_while(|i| i.span.start as usize > old_end)
        .count();
    let last = items.len().checked_sub(after)?.max(first);
    let chunk_start = if first > 0 {
        items[first - 1].span.end as usize
    } else {
        frame.open + 1
    };
    let chunk_end = items
        .get(last)
        .map_or(frame.close, |i| i.span.start as usize);
    let new_chunk_end = usize::try_from(i64::try_from(chunk_end).ok()? + delta).ok()?;
    let chunk = new_text.get(chunk_start..new_chunk_end)?;
    let header = old_text.get(frame.start..=frame.open)?;
    let mut chunk_parsed = parse_chunk(header, chunk, which)?;
    let mut place =
        Shift::all(i64::try_from(chunk_start).ok()? - i64::try_from(header.len()).ok()?);
    let mut new_items = match which {
        Container::Scenario => chunk_parsed.scenario.take()?.items,
        Container::Flow(_) => chunk_parsed.flows.pop()?.items,
    };
    walk_items_mut(&mut place, &mut new_items);
    let region = Span::new(chunk_start, chunk_end);
    let placed = Span::new(chunk_start, new_chunk_end);
    if new_items.iter().any(|i| !inside(i.span, placed)) {
        return None;
    }
    let mut moved_after = Shift::after(region.end, delta);
    let mut scenario = old.scenario.clone();
    if let Some(scenario) = &mut scenario {
        moved_after.scenario(scenario);
    }
    let mut flows = old.flows.clone();
    for flow in &mut flows {
        moved_after.flow(flow);
    }
    let target = match which {
        Container::Scenario => scenario.as_mut().map(|s| &mut s.items),
        Container::Flow(f) => flows.get_mut(f).map(|f| &mut f.items),
    }?;
    target.splice(first..last, new_items);
    let mut comments = moved(&old.comments, region, delta);
    for comment in &mut chunk_parsed.comments {
        place.span(comment);
    }
    comments.extend(
        chunk_parsed
            .comments
            .into_iter()
            .filter(|c| inside(*c, placed)),
    );
    comments.sort();
    let mut diagnostics: Vec<_> = old
        .diagnostics
        .iter()
        .filter(|d| !inside(d.primary.span, region))
        .cloned()
        .collect();
    for diagnostic in &mut diagnostics {
        moved_after.span(&mut diagnostic.primary.span);
        diagnostic
            .secondary
            .iter_mut()
            .for_each(|l| moved_after.span(&mut l.span));
    }
    for mut diagnostic in chunk_parsed.diagnostics {
        place.span(&mut diagnostic.primary.span);
        diagnostic
            .secondary
            .iter_mut()
            .for_each(|l| place.span(&mut l.span));
        if inside(diagnostic.primary.span, placed) {
            diagnostics.push(diagnostic);
        }
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

/// Where a container's text starts, and its braces.
struct Frame {
    start: usize,
    open: usize,
    close: usize,
}

/// The container whose braces hold the old range `start..end` (after `{`, up to `}`).
fn container_around(
    parsed: &Parsed,
    text: &str,
    start: usize,
    end: usize,
) -> Option<(Container, Frame)> {
    let frame = |span: Span, header_end: Span| -> Option<Frame> {
        let after = header_end.end as usize;
        let open = after + text.get(after..)?.find('{')?;
        let close = (span.end as usize).checked_sub(1)?;
        (open < start && end <= close && text.get(close..=close) == Some("}")).then_some(Frame {
            start: span.start as usize,
            open,
            close,
        })
    };
    if let Some(scenario) = &parsed.scenario
        && let Some(found) = frame(scenario.span, scenario.name.span)
    {
        return Some((Container::Scenario, found));
    }
    parsed.flows.iter().enumerate().find_map(|(f, flow)| {
        frame(flow.span, flow.params_span).map(|found| (Container::Flow(f), found))
    })
}

/// `chunk` parsed between the container's header and a closing brace (spans relative to
/// that text).
fn parse_chunk(header: &str, chunk: &str, which: Container) -> Option<Parsed> {
    let text = format!("{header}{chunk}}}");
    let parsed = syntax::parse(&SourceFile::new("chunk.scn", text)).ok()?;
    let expected = match which {
        Container::Scenario => parsed.scenario.is_some() && parsed.flows.is_empty(),
        Container::Flow(_) => parsed.scenario.is_none() && parsed.flows.len() == 1,
    };
    expected.then_some(parsed)
}

fn inside(span: Span, outer: Span) -> bool {
    outer.start <= span.start && span.end <= outer.end
}

/// The spans outside `region`, those after it moved by `delta`.
fn moved(spans: &[Span], region: Span, delta: i64) -> Vec<Span> {
    let mut after = Shift::after(region.end, delta);
    spans
        .iter()
        .filter(|span| !inside(**span, region))
        .map(|span| {
            let mut span = *span;
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
