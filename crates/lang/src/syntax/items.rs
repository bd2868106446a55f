//! Parsing a file item by item: each item of the scenario (a step, an `include`, …) and each
//! flow is parsed with its own grammar rule and lowered at once, so pest's token queue (two
//! 40-byte tokens for every keyword, name and piece of text) only ever holds one item, never
//! the whole file.
//!
//! The result is the whole-file parse's: the rules are the same, pest skips the same spaces
//! and comments between items as `skip_trivia` does, and each item is parsed on the rest of
//! the file, so its look-aheads see the same text. Anything unexpected (a syntax error, a
//! number out of range, a file of no items) returns `None`, and the caller parses the whole
//! file again, so that errors read exactly as they always have.

use pest::Parser as _;
use pest::iterators::Pair;

use super::cursor::{exact, with_input_offset};
use super::grammar::{Rule, ScenarioParser};
use super::lower::{Lowerer, name};
use crate::ast::{Flow, Scenario};
use crate::source::Span;

/// The file's scenario and flows, or `None` when the whole file must be parsed instead.
pub(crate) fn parse_items(
    text: &str,
    lowerer: &mut Lowerer,
) -> Option<(Option<Scenario>, Vec<Flow>)> {
    let mut at = skip_trivia(text, 0);
    let scenario = if parse_at(text, at, Rule::kw_scenario).is_some() {
        let (scenario, end) = parse_scenario(text, at, lowerer)?;
        at = skip_trivia(text, end);
        Some(scenario)
    } else {
        None
    };
    let mut flows = Vec::new();
    while at < text.len() {
        let pair = parse_at(text, at, Rule::flow_decl)?;
        let end = at + pair.as_span().end();
        flows.push(with_input_offset(at, || lowerer.lower_flow(pair)).ok()?);
        at = skip_trivia(text, end);
    }
    // A file of nothing but spaces and comments is an error the whole-file parse words.
    (scenario.is_some() || !flows.is_empty()).then_some((scenario, exact(flows)))
}

/// `scenario NAME { ITEM… }` from `start`, and where it ends.
fn parse_scenario(text: &str, start: usize, lowerer: &mut Lowerer) -> Option<(Scenario, usize)> {
    let keyword = parse_at(text, start, Rule::kw_scenario)?;
    let at = skip_trivia(text, start + keyword.as_span().end());
    let name_pair = parse_at(text, at, Rule::scenario_name)?;
    let scenario_name = with_input_offset(at, || name(&name_pair));
    let at = skip_trivia(text, at + name_pair.as_span().end());
    if text.as_bytes().get(at) != Some(&b'{') {
        return None;
    }
    let mut at = skip_trivia(text, at + 1);
    let mut items = Vec::new();
    loop {
        if text.as_bytes().get(at) == Some(&b'}') {
            let span = Span::new(start, at + 1);
            return Some((
                Scenario {
                    name: scenario_name,
                    items: exact(items),
                    span,
                },
                at + 1,
            ));
        }
        let pair = parse_at(text, at, Rule::scenario_item)?;
        let end = at + pair.as_span().end();
        items.push(with_input_offset(at, || lowerer.lower_item(pair)).ok()?);
        at = skip_trivia(text, end);
    }
}

/// The first pair `rule` matches at `at`, parsed on the rest of the file.
fn parse_at(text: &str, at: usize, rule: Rule) -> Option<Pair<'_, Rule>> {
    ScenarioParser::parse(rule, text.get(at..)?).ok()?.next()
}

/// Past the spaces and comments pest's implicit `WHITESPACE` skips.
fn skip_trivia(text: &str, mut at: usize) -> usize {
    let bytes = text.as_bytes();
    loop {
        match bytes.get(at) {
            Some(b' ' | b'\t' | b'\r' | b'\n') => at += 1,
            Some(b'#') => {
                at = bytes[at..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(bytes.len(), |n| at + n);
            }
            Some(_) if bytes[at..].starts_with("\u{FEFF}".as_bytes()) => at += 3,
            _ => return at,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use pest::Parser as _;
    use pest::iterators::Pair;

    use super::parse_items;
    use crate::source::SourceFile;
    use crate::syntax::cursor::{content_end, span_of};
    use crate::syntax::grammar::{Rule, ScenarioParser};
    use crate::syntax::lower::Lowerer;
    use crate::syntax::{parse, parse_whole_file, prescan};

    /// The whole-file parse, as `parse` did it before items were parsed one at a time.
    fn whole_file(text: &str) -> String {
        let result = prescan::prescan(text).and_then(|trivia| {
            let mut lowerer = Lowerer::new();
            let found = parse_whole_file(text, &trivia, &mut lowerer)?;
            Ok((found, trivia.comments, lowerer.diagnostics))
        });
        format!("{result:#?}")
    }

    fn item_by_item(text: &str) -> Option<String> {
        let mut lowerer = Lowerer::new();
        let found = parse_items(text, &mut lowerer)?;
        let trivia = prescan::prescan(text).ok()?;
        let result: Result<_, ()> = Ok((found, trivia.comments, lowerer.diagnostics));
        Some(format!("{result:#?}"))
    }

    /// `parse` gives what the whole-file parse gives (AST with every span, comments,
    /// diagnostics, or the same error); and the item-by-item path, when it answers, agrees.
    fn assert_same(name: &str, text: &str) -> bool {
        let expected = whole_file(text);
        let parsed = parse(&SourceFile::new(name, text.to_owned()))
            .map(|p| ((p.scenario, p.flows), p.comments, p.diagnostics));
        assert_eq!(format!("{parsed:#?}"), expected, "{name}: parse differs");
        match item_by_item(text) {
            Some(items) => {
                assert_eq!(items, expected, "{name}: the item-by-item parse differs");
                true
            }
            None => false,
        }
    }

    fn scn_files(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                scn_files(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "scn") {
                found.push(path);
            }
        }
    }

    fn repository_files() -> Vec<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut paths = Vec::new();
        scn_files(&root.join("scenarios"), &mut paths);
        scn_files(&root.join("tests/fixtures"), &mut paths);
        paths.sort();
        assert!(
            paths.len() > 50,
            "the scenarios and fixtures were not found"
        );
        paths
            .into_iter()
            .filter_map(|path| {
                let text = std::fs::read_to_string(&path).ok()?;
                Some((path.display().to_string(), text))
            })
            .collect()
    }

    #[test]
    fn every_scenario_and_fixture_parses_item_by_item_as_a_whole() {
        let mut item_by_item = 0;
        let files = repository_files();
        for (name, text) in &files {
            if assert_same(name, text) {
                item_by_item += 1;
            }
        }
        // Most files parse cleanly, so most must have taken the item-by-item path.
        assert!(
            item_by_item * 4 > files.len() * 3,
            "only {item_by_item} of {} files parsed item by item",
            files.len()
        );
    }

    /// `span_of` takes the pair's own end unless its text ends in what may be trailing spaces
    /// or comments: check that on every pair of every file, against the children's end.
    #[test]
    fn every_span_ends_with_its_last_child() {
        fn walk(pair: Pair<'_, Rule>, checked: &mut usize) {
            let span = span_of(&pair);
            assert_eq!(span.end as usize, content_end(&pair), "{pair:?}");
            *checked += 1;
            for child in pair.into_inner() {
                walk(child, checked);
            }
        }
        let mut checked = 0;
        for (_, text) in repository_files() {
            if let Ok(pairs) = ScenarioParser::parse(Rule::file, &text) {
                for pair in pairs {
                    walk(pair, &mut checked);
                }
            }
        }
        assert!(checked > 5_000, "only {checked} pairs checked");
    }

    #[test]
    fn layouts_between_items_parse_the_same_both_ways() {
        let cases = [
            "\u{FEFF}# head\nscenario s { # after brace\n start a # c\n\n step a { end }# x\n}\n",
            "scenario s{start a step a{end}}",
            "scenario s {\r\n  start a\r\n  step a {\r\n    end\r\n  }\r\n}\r\n# tail",
            "scenario s {\n  include f(done: a) as g\n  start a\n  step a { end }\n}\nflow f(done: step) {\n  start b\n  step b { goto done }\n}\n",
            "flow f(done: step) { start b step b { goto done } }\n\n# only flows\nflow g() { start c step c { end } }",
            "scenario s {\n  entry a, b\n  on close goto a\n  languages fr, en\n  language from contact.language\n  escape \"agent\" -> handoff advisor\n  description \"d\"\n  start a\n  step a { end }\n  step b { end }\n}\n",
        ];
        for (index, text) in cases.iter().enumerate() {
            assert!(
                assert_same(&format!("case {index}"), text),
                "case {index} fell back"
            );
        }
    }

    #[test]
    fn errors_fall_back_to_the_whole_file_parse_and_read_the_same() {
        let cases = [
            "  # nothing\n",
            "scenario s {\n  start a\n  step a { end }\n",
            "scenario s {\n  start a\n  step a { end }\n}\nstep b { end }\n",
            "scenario s {\n  start a\n  step a { say }\n}\n",
            "scenario s {\n  start a\n  step a { end }\n}}",
            "scenario s {\n  start a\n  step a { attempts }\n  step b { set x = 99999999999999999999 }\n}\n",
            "scenario s {\n  start a\n  step a { set x = 99999999999999999999 }\n  step b { say }\n}\n",
            "scenario true { }",
            "flow f( { }",
        ];
        for (index, text) in cases.iter().enumerate() {
            assert!(
                !assert_same(&format!("case {index}"), text),
                "case {index} was accepted item by item"
            );
        }
        // Every prefix of a real scenario: a cut anywhere is an error, or a file that still
        // parses, the same both ways.
        for (name, text) in repository_files()
            .iter()
            .filter(|(name, _)| name.contains("scenarios"))
        {
            // (An empty file is refused before either parse.)
            let cuts = (0..text.len())
                .step_by(41)
                .filter(|cut| text.is_char_boundary(*cut));
            for cut in cuts.filter(|cut| !text[..*cut].trim().is_empty()) {
                assert_same(&format!("{name} cut at {cut}"), &text[..cut]);
            }
        }
    }
}
