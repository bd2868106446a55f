//! Text → AST. The only module that names pest (STYLE C1). The pipeline: bytes are checked
//! for size and encoding (`read_source`), a lexical pre-pass bounds nesting and collects
//! comments (`prescan`), pest parses (item by item, `items`, so that its tokens never hold
//! the whole file; the whole file again when that fails), errors are rewritten into plain
//! words (`error`), and pairs are lowered into the owned, spanned AST (`lower`, `expr`,
//! `text`).

mod cursor;
mod error;
mod expr;
mod grammar;
mod items;
mod lower;
mod prescan;
mod text;

use pest::Parser as _;

pub use expr::MAX_EXPR_DEPTH;
pub use prescan::MAX_DEPTH;

use crate::ast::{Flow, Scenario};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{SourceFile, Span};
use grammar::{Rule, ScenarioParser};

/// The largest scenario file accepted, in bytes (the largest real one is a few KB).
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// A parsed file: its scenario (a file of shared flows has none) and its flows, with the
/// comments the formatter needs.
#[derive(Debug)]
pub struct Parsed {
    pub scenario: Option<Scenario>,
    pub flows: Vec<Flow>,
    /// Spans of `# …` comments, in source order.
    pub comments: Vec<Span>,
    /// Findings that did not stop the parse (e.g. a number out of range).
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one scenario file. `Err` holds the syntax error that stopped the parse.
pub fn parse(file: &SourceFile) -> Result<Parsed, Diagnostic> {
    let text = file.text();
    if text.trim().is_empty() {
        return Err(
            Diagnostic::new(Code::SyntaxError, Span::at(0), "the file is empty")
                .with_label("a scenario was expected here")
                .with_help("a scenario file starts with `scenario NAME {` and holds its steps; a file of shared flows holds `flow NAME(…) {` blocks"),
        );
    }
    let trivia = prescan::prescan(text)?;
    let mut lowerer = lower::Lowerer::new();
    // Item by item keeps memory to one item's tokens; the whole file words any error.
    let (scenario, flows) = if let Some(found) = items::parse_items(text, &mut lowerer) {
        found
    } else {
        lowerer = lower::Lowerer::new();
        parse_whole_file(text, &trivia, &mut lowerer)?
    };
    Ok(Parsed {
        scenario,
        flows,
        comments: trivia.comments,
        diagnostics: lowerer.diagnostics,
    })
}

/// The whole file in one pest parse: the way errors are found and worded.
fn parse_whole_file(
    text: &str,
    trivia: &prescan::Trivia,
    lowerer: &mut lower::Lowerer,
) -> Result<(Option<Scenario>, Vec<Flow>), Diagnostic> {
    let mut pairs = ScenarioParser::parse(Rule::file, text)
        .map_err(|e| error::from_pest(&e, text, &trivia.braces))?;
    let file_pair = pairs
        .next()
        .ok_or_else(|| cursor::internal(Span::at(0), "the parser returned nothing"))?;
    lowerer.lower_file(file_pair)
}

/// Whether the file's first word (after spaces and comments) is the keyword `scenario`. Such a
/// file is a scenario if it parses at all, and never a file of shared flows (the grammar's
/// `file` rule), so the library can pass it by without parsing it: `lint` then parses each
/// scenario once, not once more as a possible library file.
pub fn declares_scenario(text: &str) -> bool {
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\r', '\n', '\u{FEFF}']);
        match rest.strip_prefix('#') {
            Some(comment) => rest = comment.find('\n').map_or("", |end| &comment[end..]),
            None => break,
        }
    }
    ScenarioParser::parse(Rule::kw_scenario, rest).is_ok()
}

/// A duration as written in scenarios (`15m`, `1h30m`, `45s`, `2d`), in seconds.
pub fn parse_duration_text(text: &str) -> Option<u64> {
    let text = text.trim();
    let well_formed = text.ends_with(['s', 'm', 'h', 'd'])
        && text.starts_with(|c: char| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, 's' | 'm' | 'h' | 'd'));
    if well_formed {
        lower::parse_duration(text)
    } else {
        None
    }
}

/// Turns the bytes of a file into a `SourceFile`, with a diagnostic when they cannot be a
/// scenario (too large, not UTF-8, binary). The returned file is always renderable: invalid
/// bytes are replaced so that the diagnostic can show where they are.
pub fn read_source(name: &str, bytes: Vec<u8>) -> (SourceFile, Option<Diagnostic>) {
    if bytes.len() > MAX_FILE_BYTES {
        let preview = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
        let file = SourceFile::new(name, preview);
        let diagnostic = Diagnostic::new(
            Code::FileTooLarge,
            Span::at(0),
            format!(
                "this file is {} bytes; scenarios may be at most {MAX_FILE_BYTES} bytes",
                bytes.len()
            ),
        )
        .with_help(
            "split the scenario into several files, or check that this is a scenario at all",
        );
        return (file, Some(diagnostic));
    }
    if let Some(nul) = bytes.iter().position(|b| *b == 0) {
        let file = SourceFile::new(name, String::from_utf8_lossy(&bytes).into_owned());
        let diagnostic = Diagnostic::new(
            Code::NotUtf8,
            Span::at(char_boundary_offset(&bytes, nul)),
            "this is a binary file, not a scenario",
        )
        .with_label("a zero byte here")
        .with_help("scenario files are UTF-8 text ending in `.scn`");
        return (file, Some(diagnostic));
    }
    match String::from_utf8(bytes) {
        Ok(text) => (SourceFile::new(name, text), None),
        Err(error) => {
            let offset = error.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            let diagnostic = Diagnostic::new(
                Code::NotUtf8,
                Span::new(offset, offset + '\u{FFFD}'.len_utf8()),
                "this file is not valid UTF-8 text",
            )
            .with_label("the first invalid byte is here")
            .with_help("save the file as UTF-8 (most editors offer it under \"encoding\")");
            (SourceFile::new(name, text), Some(diagnostic))
        }
    }
}

/// The offset of `index` in the lossy-decoded text: the same as long as the bytes before
/// it are valid UTF-8, which is checked; otherwise the start of the file.
fn char_boundary_offset(bytes: &[u8], index: usize) -> usize {
    if std::str::from_utf8(&bytes[..index]).is_ok() {
        index
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::declares_scenario;

    #[test]
    fn a_scenario_is_known_by_its_first_word() {
        assert!(declares_scenario("scenario demo {\n}\n"));
        assert!(declares_scenario(
            "\u{FEFF}# a comment\n  # another\n\tscenario demo {"
        ));
        // Only the first word counts, and only as a whole word.
        assert!(declares_scenario("scenario{"));
        assert!(!declares_scenario("scenarios demo {"));
        assert!(!declares_scenario("scenario_x"));
        assert!(!declares_scenario("flow f() { }\nscenario demo { }"));
        assert!(!declares_scenario("# scenario demo {"));
        assert!(!declares_scenario(""));
    }
}
