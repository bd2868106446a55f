//! The line printer under `fmt`: it assembles output lines and re-attaches comments.
//!
//! The tree walk (`fmt/mod.rs`) prints one line at a time, in source order, and tells the
//! printer which source bytes each line stands for: `start_node` gets the offset where the
//! line's node begins, `close` the offset where the line's code ends. From those offsets
//! alone the printer places every comment of the trivia table:
//!
//! - a comment that starts before a line's node and was not printed yet goes on a line of
//!   its own just before it (this also catches comments from *inside* a construct printed
//!   on one line, such as joined call arguments: they land right after that construct);
//! - the first comment after a line's code, with only spaces between them in the source,
//!   stays at the end of that line;
//! - whatever is left when the file is done goes at the bottom.
//!
//! Each comment is printed once (an `emitted` flag per comment), and `finish` prints every
//! comment still pending, so none can be lost or duplicated whatever the tree walk does.

use crate::source::Span;

/// Spaces per indentation level.
const INDENT: usize = 2;

/// How blank lines before a node (and the comments before it) are decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Blank {
    /// One blank line where the author had one or more.
    Keep,
    /// Always one blank line before the node's first line or first comment (steps).
    Always,
    /// Never a blank line (call arguments).
    Never,
}

pub(crate) struct Printer<'a> {
    src: &'a str,
    /// The comments in source order.
    comments: Vec<Span>,
    emitted: Vec<bool>,
    /// Every comment before this index has been printed.
    cursor: usize,
    out: String,
    /// The line being built, without its indentation.
    line: String,
    indent: usize,
    /// The last finished line opens a block: no blank line may follow it.
    after_open: bool,
}

impl<'a> Printer<'a> {
    pub(crate) fn new(src: &'a str, comments: &[Span]) -> Self {
        let mut comments = comments.to_vec();
        comments.sort_by_key(|span| span.start);
        Self {
            src,
            emitted: vec![false; comments.len()],
            comments,
            cursor: 0,
            out: String::new(),
            line: String::new(),
            indent: 0,
            after_open: false,
        }
    }

    /// Prints the comments not printed yet and returns the text, ending in one newline.
    pub(crate) fn finish(mut self) -> String {
        self.flush_comments(usize::MAX, 0, Blank::Keep);
        let kept = self.out.trim_end_matches('\n').len();
        self.out.truncate(kept);
        self.out.push('\n');
        self.out
    }

    /// Begins the line of a node that starts at source offset `pos`, after the comments
    /// that precede it.
    pub(crate) fn start_node(&mut self, pos: usize, indent: usize, blank: Blank) {
        let had_comments = self.flush_comments(pos, indent, blank);
        let wanted = match blank {
            Blank::Always => !had_comments || self.blank_before(pos),
            Blank::Keep => self.blank_before(pos),
            Blank::Never => false,
        };
        if wanted {
            self.blank_line();
        }
        self.open(indent);
    }

    /// Prints, each on its own line, the pending comments that start before `pos`.
    /// Returns whether there was any.
    pub(crate) fn flush_comments(&mut self, pos: usize, indent: usize, blank: Blank) -> bool {
        let mut printed = false;
        for index in self.cursor..self.comments.len() {
            let span = self.comments[index];
            if span.start as usize >= pos {
                break;
            }
            if self.emitted[index] {
                continue;
            }
            let wanted = match blank {
                Blank::Always => !printed || self.blank_before(span.start as usize),
                Blank::Keep => self.blank_before(span.start as usize),
                Blank::Never => false,
            };
            if wanted {
                self.blank_line();
            }
            self.pad(indent);
            let text = self.comment_text(span);
            self.out.push_str(text);
            self.out.push('\n');
            self.emitted[index] = true;
            self.after_open = false;
            printed = true;
        }
        while self.emitted.get(self.cursor) == Some(&true) {
            self.cursor += 1;
        }
        printed
    }

    /// Begins a line without looking for comments (a closing `}` after its comments).
    pub(crate) fn open(&mut self, indent: usize) {
        self.indent = indent;
        self.line.clear();
    }

    /// The line being built, without its indentation.
    pub(crate) fn line_so_far(&self) -> &str {
        &self.line
    }

    pub(crate) fn push(&mut self, text: &str) {
        self.line.push_str(text);
    }

    /// Ends the current line, whose code ends at source offset `src_end`; a comment that
    /// follows that code on the same source line stays at the end of the printed line.
    pub(crate) fn close(&mut self, src_end: usize) {
        self.pad(self.indent);
        let line = std::mem::take(&mut self.line);
        self.out.push_str(&line);
        self.after_open = line.ends_with('{');
        if let Some(index) = self.trailing_comment(src_end) {
            self.out.push(' ');
            let text = self.comment_text(self.comments[index]);
            self.out.push_str(text);
            self.emitted[index] = true;
        }
        self.out.push('\n');
    }

    /// Whether a comment not printed yet starts in `start..end`.
    pub(crate) fn has_comment_in(&self, start: usize, end: usize) -> bool {
        (self.cursor..self.comments.len()).any(|index| {
            let at = self.comments[index].start as usize;
            !self.emitted[index] && at >= start && at < end
        })
    }

    /// The offset of the first token at or after `pos`, skipping blanks and comments. The
    /// AST has no span for some punctuation (`{` of an `ask`, `(` of a `call`); this finds it.
    pub(crate) fn next_token(&self, pos: usize) -> usize {
        let Some(rest) = self.src.get(pos..) else {
            return pos;
        };
        let mut in_comment = false;
        for (offset, c) in rest.char_indices() {
            if in_comment {
                in_comment = c != '\n';
            } else if c == '#' {
                in_comment = true;
            } else if !is_blank(c) {
                return pos + offset;
            }
        }
        self.src.len()
    }

    /// Where the code of `span` ends. Spans of rules that end with an optional or repeated
    /// part (`expr`, `ask`, `choice`, `if`, `call`) reach over the blanks and comments
    /// after them, because pest skips trivia before trying that part; this steps back.
    pub(crate) fn code_end(&self, span: Span) -> usize {
        let start = span.start as usize;
        let mut end = span.end as usize;
        loop {
            let code = self.src.get(start..end).unwrap_or("");
            end = start + code.trim_end_matches(is_blank).len();
            let index = self
                .comments
                .partition_point(|comment| (comment.start as usize) < end);
            match index.checked_sub(1).map(|index| self.comments[index]) {
                Some(comment) if comment.start as usize >= start && comment.end as usize >= end => {
                    end = comment.start as usize;
                }
                _ => return end,
            }
        }
    }

    /// The source byte at `pos`, if any.
    pub(crate) fn byte_at(&self, pos: usize) -> Option<u8> {
        self.src.as_bytes().get(pos).copied()
    }

    /// The first comment after `src_end` if only spaces separate it from the code.
    fn trailing_comment(&self, src_end: usize) -> Option<usize> {
        let index = self
            .comments
            .partition_point(|span| (span.start as usize) < src_end);
        let span = self.comments.get(index)?;
        let gap = self.src.get(src_end..span.start as usize)?;
        let same_line = gap.chars().all(|c| c == ' ' || c == '\t');
        (same_line && !self.emitted[index]).then_some(index)
    }

    /// Whether the author left a blank line right before `pos`.
    fn blank_before(&self, pos: usize) -> bool {
        let before = self.src.get(..pos).unwrap_or("");
        let mut breaks = 0;
        for c in before.chars().rev() {
            match c {
                '\n' => breaks += 1,
                c if is_blank(c) => {}
                _ => break,
            }
        }
        breaks >= 2
    }

    /// One blank line, except at the top of the file and right after a `{`.
    fn blank_line(&mut self) {
        if !self.out.is_empty() && !self.after_open && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn pad(&mut self, indent: usize) {
        self.out.extend(std::iter::repeat_n(' ', indent * INDENT));
    }

    fn comment_text(&self, span: Span) -> &'a str {
        self.src.get(span.range()).unwrap_or("#").trim_end()
    }
}

/// The grammar's `WHITESPACE`.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\u{FEFF}')
}

/// Columns a printed line (or lines, for `"""` texts) takes at `indent`: the widest line.
pub(crate) fn width(indent: usize, text: &str) -> usize {
    text.split('\n')
        .enumerate()
        .map(|(index, line)| {
            let pad = if index == 0 { indent * INDENT } else { 0 };
            pad + line.chars().count()
        })
        .max()
        .unwrap_or(0)
}

/// The indentation of a line at `indent` levels, for texts built outside the printer.
pub(crate) fn indentation(indent: usize) -> String {
    " ".repeat(indent * INDENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_and_leading_comments() {
        let src = "a # one\n\n# two\nb";
        let comments = [Span::new(2, 7), Span::new(9, 14)];
        let mut printer = Printer::new(src, &comments);
        printer.start_node(0, 1, Blank::Keep);
        printer.push("a");
        printer.close(1);
        printer.start_node(15, 1, Blank::Keep);
        printer.push("b");
        printer.close(16);
        assert_eq!(printer.finish(), "  a # one\n\n  # two\n  b\n");
    }

    #[test]
    fn next_token_skips_comments() {
        let printer = Printer::new("x # {\n  { y", &[]);
        assert_eq!(printer.next_token(1), 8);
        assert_eq!(printer.byte_at(8), Some(b'{'));
    }

    #[test]
    fn width_counts_characters_of_the_widest_line() {
        assert_eq!(width(1, "é\n12345"), 5);
        assert_eq!(width(2, "abc"), 7);
    }
}
