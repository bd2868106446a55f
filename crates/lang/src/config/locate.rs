//! Where a config finding is: `serde_yaml`'s own errors in plain words with their position,
//! and the position of a key found again in the text for the checks made after reading.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{SourceFile, Span};

/// `serde_yaml`'s error in plain words: its " at line L column C" goes (the frame shows where),
/// a "while parsing a flow sequence at line L column C" becomes a second label there, and
/// Rust type names become words.
pub(super) fn yaml_error(file: &SourceFile, error: &serde_yaml::Error) -> Diagnostic {
    let offset = error.location().map_or(0, |l| l.index());
    let full = error.to_string();
    let (main, context) = match full.split_once(", while parsing ") {
        Some((main, context)) => (main, Some(context)),
        None => (full.as_str(), None),
    };
    let main = main.split(" at line ").next().unwrap_or(main);
    let mut message = main.to_owned();
    for (rust, words) in [
        ("expected u32", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected a boolean", "expected true or false"),
    ] {
        message = message.replace(rust, words);
    }
    let mut diagnostic = Diagnostic::new(Code::ConfigSyntax, Span::new(offset, offset + 1), message)
        .with_help("see schemas/scenarist.schema.json or the example scenarios/scenarist.yaml for the expected shape");
    if let Some((what, line, column)) = context.and_then(parse_context) {
        let at = file.offset_of(line, column);
        let what = what
            .replace("flow sequence", "list `[…]`")
            .replace("flow mapping", "map `{…}`");
        diagnostic = diagnostic.with_secondary(
            Span::new(at, at + 1),
            format!("the {what} that starts here"),
        );
    }
    diagnostic
}

/// "a flow sequence at line 3 column 8" → ("a flow sequence", 3, 8).
pub(super) fn parse_context(context: &str) -> Option<(String, usize, usize)> {
    let (what, position) = context.split_once(" at line ")?;
    let (line, column) = position.split_once(" column ")?;
    let what = what.trim_start_matches("a ").trim_start_matches("an ");
    Some((
        what.to_owned(),
        line.trim().parse().ok()?,
        column.trim().parse().ok()?,
    ))
}

/// Finds the span of the key at `path` (e.g. `["accounts", "facebook:acme", "channel"]`) by
/// looking for each key in turn after the previous one. Falls back to the deepest key found,
/// then to the start of the file. Enough for the block and flow styles configs use.
pub fn locate(text: &str, path: &[&str]) -> Span {
    let mut from = 0;
    let mut found = Span::at(0);
    for key in path {
        let Some(offset) = find_key(text, key, from) else {
            break;
        };
        found = Span::new(offset, offset + key.len());
        from = offset + key.len();
    }
    found
}

fn find_key(text: &str, key: &str, from: usize) -> Option<usize> {
    let rest = text.get(from..)?;
    let mut search = 0;
    while let Some(i) = rest.get(search..)?.find(key) {
        let start = from + search + i;
        let after = text.get(start + key.len()..).unwrap_or("");
        let before = text.get(..start).and_then(|b| b.chars().next_back());
        let quoted = after.starts_with('"') || after.starts_with('\'');
        let after = if quoted { &after[1..] } else { after };
        let boundary = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if boundary && after.trim_start_matches([' ', '\t']).starts_with(':') {
            return Some(start);
        }
        search += i + key.len();
    }
    None
}
