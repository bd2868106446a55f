//! A cheap lexical pass that runs before pest: it bounds nesting depth (pest recurses once
//! per nesting level and overflows the stack on deep input, pest#1129) and collects the
//! comments for the formatter (pest's implicit COMMENT is silent, STYLE §3 pitfall 8).
//!
//! It understands just enough of the lexical structure to not be fooled: strings (with
//! `{…}` interpolation, which nests), regex literals and comments. It never fails on
//! malformed input; the parser reports those mistakes with better words.

use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

/// The deepest nesting of blocks, parentheses, lists, strings and interpolations accepted.
/// Real scenarios stay under 10; the limit keeps pest far from the stack's end.
pub const MAX_DEPTH: usize = 40;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    Brace,
    Paren,
    Bracket,
    Interpolation,
    LineString,
    TripleString,
}

/// What the pass found: the comments, in source order.
#[derive(Debug, Default)]
pub(crate) struct Trivia {
    /// Each comment's span, from `#` to the end of its line (newline excluded).
    pub(crate) comments: Vec<Span>,
}

pub(crate) fn prescan(text: &str) -> Result<Trivia, Diagnostic> {
    let bytes = text.as_bytes();
    let mut trivia = Trivia::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let in_string = matches!(stack.last(), Some(Frame::LineString | Frame::TripleString));
        let byte = bytes[i];
        if in_string {
            i = scan_string_byte(bytes, i, &mut stack);
            continue;
        }
        match byte {
            b'#' => {
                let end = line_end(bytes, i);
                trivia.comments.push(Span::new(i, end));
                i = end;
                continue;
            }
            b'/' => {
                i = skip_regex(bytes, i);
                continue;
            }
            b'"' => {
                if bytes[i..].starts_with(b"\"\"\"") {
                    stack.push(Frame::TripleString);
                    i += 3;
                } else {
                    stack.push(Frame::LineString);
                    i += 1;
                }
            }
            b'{' => {
                stack.push(Frame::Brace);
                i += 1;
            }
            b'(' => {
                stack.push(Frame::Paren);
                i += 1;
            }
            b'[' => {
                stack.push(Frame::Bracket);
                i += 1;
            }
            b'}' => {
                if matches!(stack.last(), Some(Frame::Brace | Frame::Interpolation)) {
                    stack.pop();
                }
                i += 1;
            }
            b')' => {
                if stack.last() == Some(&Frame::Paren) {
                    stack.pop();
                }
                i += 1;
            }
            b']' => {
                if stack.last() == Some(&Frame::Bracket) {
                    stack.pop();
                }
                i += 1;
            }
            _ => i += 1,
        }
        if stack.len() > MAX_DEPTH {
            return Err(too_deep(i.saturating_sub(1)));
        }
    }
    Ok(trivia)
}

/// Advances over one lexical element inside a string; pushes or pops frames as needed.
fn scan_string_byte(bytes: &[u8], i: usize, stack: &mut Vec<Frame>) -> usize {
    let triple = stack.last() == Some(&Frame::TripleString);
    match bytes[i] {
        b'\\' => i + 2,
        b'"' if triple => {
            if bytes[i..].starts_with(b"\"\"\"") {
                stack.pop();
                i + 3
            } else {
                i + 1
            }
        }
        b'"' => {
            stack.pop();
            i + 1
        }
        // A one-line string ends at the line break (the parser reports it unterminated).
        b'\n' if !triple => {
            stack.pop();
            i + 1
        }
        b'{' => {
            stack.push(Frame::Interpolation);
            i + 1
        }
        _ => i + 1,
    }
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |n| from + n)
}

/// Skips `/pattern/flags`; a regex never spans lines.
fn skip_regex(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'/' => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn too_deep(offset: usize) -> Diagnostic {
    Diagnostic::new(
        Code::NestingTooDeep,
        Span::new(offset, offset + 1),
        format!("this is nested more than {MAX_DEPTH} levels deep"),
    )
    .with_label(format!("level {} starts here", MAX_DEPTH + 1))
    .with_help(
        "move the inner part into a step of its own and `goto` it, or close the brackets \
         that were left open",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_outside_strings_and_regexes_are_collected() {
        let text = "say \"a # b\" # one\nexpect /#x/ # two\n# three";
        let trivia = prescan(text).unwrap();
        let found: Vec<&str> = trivia.comments.iter().map(|s| &text[s.range()]).collect();
        assert_eq!(found, ["# one", "# two", "# three"]);
    }

    #[test]
    fn interpolation_nesting_counts() {
        let shallow = format!("say \"{}{}\"", "{".repeat(3), "}".repeat(3));
        assert!(prescan(&shallow).is_ok());
        let deep = "(".repeat(MAX_DEPTH + 1);
        let error = prescan(&deep).unwrap_err();
        assert_eq!(error.code, Code::NestingTooDeep);
        assert_eq!(error.primary.span.start as usize, MAX_DEPTH);
    }

    #[test]
    fn brackets_inside_strings_and_regexes_do_not_count() {
        let text = format!("say \"{}\" expect /{}/", "(".repeat(100), "[".repeat(100));
        assert!(prescan(&text).is_ok());
    }
}
