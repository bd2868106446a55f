//! Strings → `ast::Text`: escapes decoded, `{…}` interpolations lowered, and for `"""`
//! strings the indentation removed. The rule for `"""` follows Swift's: a line break right
//! after the opening quotes and the one before the closing quotes are not part of the
//! text, and the closing quotes' indentation is removed from every line. The formatter
//! relies on this to re-indent multi-line texts without changing them.

use pest::iterators::Pair;

use super::cursor::{Children, exact, internal, span_of};
use super::grammar::Rule;
use super::lower::{Lowered, Lowerer};
use crate::ast::{Quotes, Text, TextPart};
use crate::diagnostic::{Code, Diagnostic};

/// A piece of a string as written.
enum Piece<'i> {
    Raw(&'i str),
    Escaped(char),
    Interpolation(crate::ast::Expr),
    /// Raw text after indentation removal.
    Owned(String),
}

impl Lowerer {
    pub(crate) fn lower_string(&mut self, pair: Pair<'_, Rule>) -> Lowered<Text> {
        debug_assert_eq!(pair.as_rule(), Rule::string);
        let span = span_of(&pair);
        let mut outer = Children::of(pair);
        let string = outer.any_child()?;
        outer.finish()?;
        let quotes = match string.as_rule() {
            Rule::line_string => Quotes::Line,
            Rule::triple_string => Quotes::Triple,
            other => return Err(internal(span, &format!("string: unexpected {other:?}"))),
        };
        let mut pieces = Vec::new();
        for piece in Children::of(string) {
            pieces.push(match piece.as_rule() {
                Rule::line_text | Rule::triple_text => Piece::Raw(piece.as_str()),
                Rule::escape => Piece::Escaped(self.decode_escape(&piece)),
                Rule::interp => {
                    let mut children = Children::of(piece);
                    let expr = self.lower_expr(children.child(Rule::expr)?)?;
                    children.finish()?;
                    Piece::Interpolation(expr)
                }
                other => {
                    return Err(internal(
                        span,
                        &format!("string part: unexpected {other:?}"),
                    ));
                }
            });
        }
        if quotes == Quotes::Triple {
            dedent(&mut pieces);
        }
        Ok(Text {
            parts: merge(pieces),
            quotes,
            span,
        })
    }

    fn decode_escape(&mut self, pair: &Pair<'_, Rule>) -> char {
        let text = pair.as_str();
        match text.as_bytes().get(1) {
            Some(b'n') => '\n',
            Some(b't') => '\t',
            Some(b'u') => {
                let hex = text.trim_start_matches("\\u{").trim_end_matches('}');
                u32::from_str_radix(hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or_else(|| {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::InvalidLiteral,
                                span_of(pair),
                                format!("`{text}` is not a Unicode character"),
                            )
                            .with_help("use a code point up to 10FFFF, outside D800–DFFF"),
                        );
                        char::REPLACEMENT_CHARACTER
                    })
            }
            // The grammar allows only \" \\ \{ \} besides the above: the char itself.
            _ => text.chars().nth(1).unwrap_or('\\'),
        }
    }
}

/// Applies the `"""` indentation rule in place (see the module doc).
fn dedent(pieces: &mut [Piece<'_>]) {
    let mut indent = "";
    if let Some(Piece::Raw(last)) = pieces.last_mut() {
        let trimmed = last.trim_end_matches([' ', '\t']);
        if let Some(before_break) = trimmed.strip_suffix('\n') {
            indent = &last[trimmed.len()..];
            *last = before_break.strip_suffix('\r').unwrap_or(before_break);
        }
    }
    let mut at_line_start = false;
    if let Some(Piece::Raw(first)) = pieces.first_mut() {
        let trimmed = first.trim_start_matches([' ', '\t']);
        if let Some(rest) = trimmed
            .strip_prefix("\r\n")
            .or_else(|| trimmed.strip_prefix('\n'))
        {
            *first = rest;
            at_line_start = true;
        }
    }
    for piece in pieces.iter_mut() {
        match piece {
            Piece::Raw(raw) => {
                let mut out = String::new();
                for (i, line) in raw.split('\n').enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    let line_start = i > 0 || at_line_start;
                    out.push_str(if line_start {
                        strip_indent(line, indent)
                    } else {
                        line
                    });
                }
                at_line_start = raw.ends_with('\n');
                *piece = Piece::Owned(out);
            }
            Piece::Escaped(_) | Piece::Interpolation(_) | Piece::Owned(_) => at_line_start = false,
        }
    }
}

/// Removes as much of `indent` from the front of `line` as the line has.
fn strip_indent<'a>(line: &'a str, indent: &str) -> &'a str {
    let common = line
        .char_indices()
        .zip(indent.chars())
        .take_while(|((_, a), b)| a == b)
        .last()
        .map_or(0, |((i, c), _)| i + c.len_utf8());
    &line[common..]
}

/// Joins neighbouring literal pieces; drops empty ones.
fn merge(pieces: Vec<Piece<'_>>) -> Vec<TextPart> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    for piece in pieces {
        match piece {
            Piece::Raw(raw) => literal.push_str(raw),
            Piece::Owned(text) => literal.push_str(&text),
            Piece::Escaped(c) => literal.push(c),
            Piece::Interpolation(expr) => {
                if !literal.is_empty() {
                    parts.push(exact_literal(std::mem::take(&mut literal)));
                }
                parts.push(TextPart::Interpolation(expr));
            }
        }
    }
    if !literal.is_empty() {
        parts.push(exact_literal(literal));
    }
    exact(parts)
}

/// A literal built piece by piece, in an allocation of exactly its length (see `exact`).
fn exact_literal(literal: String) -> TextPart {
    if literal.len() == literal.capacity() {
        TextPart::Literal(literal)
    } else {
        TextPart::Literal(literal.as_str().to_owned())
    }
}
