//! String literals for the formatter, printed from their decoded parts.
//!
//! `"…"` texts escape what the grammar needs (`\\`, `\"`, `\{`) and every control
//! character (`\n`, `\t`, `\u{…}`), so they stay on one line.
//!
//! `"""` texts are printed so that the `"""` rule of `syntax/text.rs` gives back the same
//! text: the opening quotes end their line, each content line is indented one level deeper
//! than the line the text starts on (empty lines get no indentation), and the closing
//! quotes stand alone on a last line with that same indentation. The parser drops the line
//! break after the opening quotes and the one before the closing quotes, and removes the
//! closing quotes' indentation from every line, which is exactly what was added. A text
//! ending with a line break therefore ends with an empty content line. `\\`, `{` and the
//! first quote of any `"""` are escaped; so are control characters other than the line
//! break, and whitespace at the end of a content line, which would otherwise be trailing
//! whitespace in the file.

use std::fmt::Write as _;

use super::expr::expr;
use super::printer::indentation;
use crate::ast::{Quotes, Text, TextPart};

/// `text` printed for a line at `indent`.
pub(crate) fn text(text: &Text, indent: usize) -> String {
    let mut out = String::new();
    match text.quotes {
        Quotes::Line => line(&mut out, text, indent),
        Quotes::Triple => triple(&mut out, text, indent),
    }
    out
}

fn line(out: &mut String, text: &Text, indent: usize) {
    out.push('"');
    for part in &text.parts {
        match part {
            TextPart::Literal(literal) => {
                for c in literal.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '"' => out.push_str("\\\""),
                        '{' => out.push_str("\\{"),
                        '\n' => out.push_str("\\n"),
                        '\t' => out.push_str("\\t"),
                        c if c.is_control() => unicode_escape(out, c),
                        c => out.push(c),
                    }
                }
            }
            TextPart::Interpolation(value) => interpolation(out, value, indent),
        }
    }
    out.push('"');
}

fn triple(out: &mut String, text: &Text, indent: usize) {
    let pad = indentation(indent + 1);
    out.push_str("\"\"\"\n");
    let mut at_line_start = true;
    let last = text.parts.len().saturating_sub(1);
    for (index, part) in text.parts.iter().enumerate() {
        match part {
            TextPart::Literal(literal) => {
                let mut segments = literal.split('\n').peekable();
                let mut first = true;
                while let Some(segment) = segments.next() {
                    if !first {
                        out.push('\n');
                        at_line_start = true;
                    }
                    first = false;
                    if segment.is_empty() {
                        continue;
                    }
                    if at_line_start {
                        out.push_str(&pad);
                        at_line_start = false;
                    }
                    let ends_line = segments.peek().is_some() || index == last;
                    triple_segment(out, segment, ends_line);
                }
            }
            TextPart::Interpolation(value) => {
                if at_line_start {
                    out.push_str(&pad);
                    at_line_start = false;
                }
                interpolation(out, value, indent);
            }
        }
    }
    if !text.parts.is_empty() {
        out.push('\n');
    }
    out.push_str(&pad);
    out.push_str("\"\"\"");
}

/// One line's worth of literal text inside `"""`; `ends_line` when a line break or the
/// closing quotes follow it.
fn triple_segment(out: &mut String, segment: &str, ends_line: bool) {
    let chars: Vec<char> = segment.chars().collect();
    for (index, &c) in chars.iter().enumerate() {
        let starts_triple_quote =
            chars.get(index + 1) == Some(&'"') && chars.get(index + 2) == Some(&'"');
        match c {
            '\\' => out.push_str("\\\\"),
            '{' => out.push_str("\\{"),
            '"' if starts_triple_quote => out.push_str("\\\""),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => unicode_escape(out, c),
            c if ends_line && index + 1 == chars.len() && c.is_whitespace() => {
                unicode_escape(out, c);
            }
            c => out.push(c),
        }
    }
}

fn interpolation(out: &mut String, value: &crate::ast::Expr, indent: usize) {
    out.push('{');
    out.push_str(&expr(value, indent));
    out.push('}');
}

fn unicode_escape(out: &mut String, c: char) {
    // Writing to a String cannot fail.
    let _ = write!(out, "\\u{{{:X}}}", u32::from(c));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    fn literal(quotes: Quotes, value: &str) -> Text {
        Text {
            parts: vec![TextPart::Literal(value.to_owned())],
            quotes,
            span: Span::default(),
        }
    }

    #[test]
    fn line_strings_escape_what_the_grammar_needs() {
        let value = literal(Quotes::Line, "a\"b\\c{d}\n\t\r😀é");
        assert_eq!(text(&value, 0), r#""a\"b\\c\{d}\n\t\u{D}😀é""#);
    }

    #[test]
    fn triple_strings_indent_their_lines() {
        let value = literal(Quotes::Triple, "one\n  two\n\nthree");
        assert_eq!(
            text(&value, 1),
            "\"\"\"\n    one\n      two\n\n    three\n    \"\"\""
        );
    }

    #[test]
    fn triple_strings_escape_quotes_braces_and_trailing_blanks() {
        let value = literal(Quotes::Triple, "say \"\"\"\"{x}  \n \t");
        assert_eq!(
            text(&value, 0),
            "\"\"\"\n  say \\\"\\\"\"\"\\{x} \\u{20}\n   \\t\n  \"\"\""
        );
    }

    #[test]
    fn empty_triple_string() {
        let mut empty = literal(Quotes::Triple, "");
        empty.parts.clear();
        assert_eq!(text(&empty, 0), "\"\"\"\n  \"\"\"");
    }
}
