//! A cheap lexical pass that runs before pest: it bounds nesting depth (pest recurses once
//! per nesting level and overflows the stack on deep input, pest#1129) and collects the
//! comments for the formatter (they are part of pest's silent WHITESPACE, STYLE §3 pitfall 8).
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
    /// Each block's `{` and the `}` that closes it, if any, in the order they open: a
    /// parse error that expected a `}` names the `{` left open (`error::unclosed`).
    pub(crate) braces: Vec<(usize, Option<usize>)>,
}

/// The open constructs, innermost last, with where each was opened.
#[derive(Default)]
struct Stack {
    frames: Vec<(Frame, usize)>,
    /// How many `LineString` frames are open: a line break closes none of them legally.
    line_strings: usize,
}

impl Stack {
    fn top(&self) -> Option<Frame> {
        self.frames.last().map(|(frame, _)| *frame)
    }

    fn push(&mut self, frame: Frame, offset: usize) -> Result<(), Diagnostic> {
        self.frames.push((frame, offset));
        if frame == Frame::LineString {
            self.line_strings += 1;
        }
        if self.frames.len() > MAX_DEPTH {
            Err(too_deep(offset))
        } else {
            Ok(())
        }
    }

    fn pop_if(&mut self, accept: impl Fn(Frame) -> bool) {
        if self.top().is_some_and(accept) {
            if self.top() == Some(Frame::LineString) {
                self.line_strings -= 1;
            }
            self.frames.pop();
        }
    }
}

pub(crate) fn prescan(text: &str) -> Result<Trivia, Diagnostic> {
    let bytes = text.as_bytes();
    let mut trivia = Trivia::default();
    let mut stack = Stack::default();
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if let Some(Frame::LineString | Frame::TripleString) = stack.top() {
            i = scan_string_byte(bytes, i, &mut stack)?;
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
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                stack.push(Frame::TripleString, i)?;
                i += 3;
                continue;
            }
            b'"' => stack.push(Frame::LineString, i)?,
            b'{' => {
                stack.push(Frame::Brace, i)?;
                trivia.braces.push((i, None));
            }
            b'(' => stack.push(Frame::Paren, i)?,
            b'[' => stack.push(Frame::Bracket, i)?,
            b'}' => {
                if stack.top() == Some(Frame::Brace) {
                    // The innermost block still open is the last one without its `}`.
                    if let Some(open) = trivia.braces.iter_mut().rev().find(|b| b.1.is_none()) {
                        open.1 = Some(i);
                    }
                }
                stack.pop_if(|f| matches!(f, Frame::Brace | Frame::Interpolation));
            }
            b')' => stack.pop_if(|f| f == Frame::Paren),
            b']' => stack.pop_if(|f| f == Frame::Bracket),
            // Code inside a one-line text's `{…}` is part of that line: the parser and this
            // pass must agree on it, or nesting could be undercounted.
            b'\n' if stack.line_strings > 0 => return Err(open_interpolation(&stack, i)),
            _ => {}
        }
        i += 1;
    }
    Ok(trivia)
}

/// Advances over one lexical element inside a string; pushes or pops frames as needed.
fn scan_string_byte(bytes: &[u8], i: usize, stack: &mut Stack) -> Result<usize, Diagnostic> {
    let triple = stack.top() == Some(Frame::TripleString);
    Ok(match bytes[i] {
        b'\\' => i + 2,
        b'"' if triple => {
            if bytes[i..].starts_with(b"\"\"\"") {
                stack.pop_if(|f| f == Frame::TripleString);
                i + 3
            } else {
                i + 1
            }
        }
        // A one-line text ends at its closing quote, or at the line break (the parser then
        // reports it unterminated).
        b'"' | b'\n' if !triple => {
            stack.pop_if(|f| f == Frame::LineString);
            i + 1
        }
        b'{' => {
            stack.push(Frame::Interpolation, i)?;
            i + 1
        }
        _ => i + 1,
    })
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

fn open_interpolation(stack: &Stack, newline: usize) -> Diagnostic {
    let opened = stack
        .frames
        .iter()
        .rev()
        .find(|(frame, _)| *frame == Frame::Interpolation)
        .map_or(newline, |(_, offset)| *offset);
    Diagnostic::new(
        Code::UnterminatedString,
        Span::at(newline),
        "this text in quotes is not closed before the end of the line",
    )
    .with_label("the line ends inside the text")
    .with_secondary(Span::new(opened, opened + 1), "this `{` is still open")
    .with_help(
        "close the `{…}` and the text on the same line; inside `{…}` write quotes without a \
         backslash (`{contact.first_name or \"there\"}`), and write `\\{` for a literal brace",
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
    fn an_interpolation_left_open_at_the_end_of_a_line_is_not_mistaken_for_nesting() {
        // `\"` inside `{…}` is not an escape: the `{` stays open on every line.
        let line = "say \"Hi {contact.name or \\\"there\\\"}!\"\n";
        let error = prescan(&line.repeat(100)).unwrap_err();
        assert_eq!(error.code, Code::UnterminatedString);
        assert_eq!(error.primary.span.start as usize, line.len() - 1);
        assert_eq!(error.secondary[0].span.start, 8);
    }

    #[test]
    fn brackets_inside_strings_and_regexes_do_not_count() {
        let text = format!("say \"{}\" expect /{}/", "(".repeat(100), "[".repeat(100));
        assert!(prescan(&text).is_ok());
    }
}
