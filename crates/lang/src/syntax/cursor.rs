//! `Children`: the only way lowering reaches a pair's children (STYLE C5). Keywords and
//! punctuation are skipped; a child of the wrong rule, a missing child or a leftover child
//! is an internal error (a grammar/lowering mismatch, our bug), never a panic.

use std::cell::Cell;
use std::iter::Peekable;

use pest::iterators::{Pair, Pairs};

use super::grammar::{Rule, is_token};
use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

pub(crate) struct Children<'i> {
    parent: Rule,
    span: Span,
    pairs: Peekable<Pairs<'i, Rule>>,
}

impl<'i> Children<'i> {
    pub(crate) fn of(pair: Pair<'i, Rule>) -> Self {
        let parent = pair.as_rule();
        let span = span_of(&pair);
        Self {
            parent,
            span,
            pairs: pair.into_inner().peekable(),
        }
    }

    fn skip_tokens(&mut self) {
        while self.pairs.peek().is_some_and(|p| is_token(p.as_rule())) {
            self.pairs.next();
        }
    }

    /// The next child, which must be of `rule`.
    pub(crate) fn child(&mut self, rule: Rule) -> Result<Pair<'i, Rule>, Diagnostic> {
        match self.next() {
            Some(pair) if pair.as_rule() == rule => Ok(pair),
            Some(pair) => Err(internal(
                span_of(&pair),
                &format!(
                    "{:?}: expected {rule:?}, found {:?}",
                    self.parent,
                    pair.as_rule()
                ),
            )),
            None => Err(internal(
                self.span,
                &format!("{:?}: missing {rule:?}", self.parent),
            )),
        }
    }

    /// The next child if it is of `rule`.
    pub(crate) fn optional(&mut self, rule: Rule) -> Option<Pair<'i, Rule>> {
        self.skip_tokens();
        if self.pairs.peek().is_some_and(|p| p.as_rule() == rule) {
            self.pairs.next()
        } else {
            None
        }
    }

    /// The next child whatever its rule.
    pub(crate) fn next(&mut self) -> Option<Pair<'i, Rule>> {
        self.skip_tokens();
        self.pairs.next()
    }

    /// The next child, which must exist.
    pub(crate) fn any_child(&mut self) -> Result<Pair<'i, Rule>, Diagnostic> {
        let (parent, span) = (self.parent, self.span);
        self.next()
            .ok_or_else(|| internal(span, &format!("{parent:?}: missing a child")))
    }

    /// Fails if children are left over.
    pub(crate) fn finish(mut self) -> Result<(), Diagnostic> {
        match self.next() {
            None => Ok(()),
            Some(pair) => Err(internal(
                span_of(&pair),
                &format!("{:?}: unexpected {:?}", self.parent, pair.as_rule()),
            )),
        }
    }
}

impl<'i> Iterator for Children<'i> {
    type Item = Pair<'i, Rule>;

    fn next(&mut self) -> Option<Self::Item> {
        Children::next(self)
    }
}

/// The pair's span without the spaces and comments pest's implicit whitespace adds at the
/// end of a rule that ends in an optional or repeated part: it ends where its last child
/// ends (every keyword and punctuation mark is a child, so nothing meaningful is cut).
/// Offsets are the file's, also when pest was given only the rest of the file from an item
/// on (`items`).
pub(crate) fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let offset = INPUT_OFFSET.get();
    let raw = pair.as_span();
    // Trailing spaces end in a space, tab or line break (a comment before them ends at a line
    // break, or at the end of the input); a pair that ends otherwise ends with its content.
    let may_trail = raw.end() == pair.get_input().len()
        || raw
            .as_str()
            .as_bytes()
            .last()
            .is_some_and(|byte| matches!(byte, b' ' | b'\t' | b'\r' | b'\n' | 0x80..));
    let end = if may_trail {
        content_end(pair)
    } else {
        raw.end()
    };
    Span::new(offset + raw.start(), offset + end)
}

pub(super) fn content_end(pair: &Pair<'_, Rule>) -> usize {
    match pair.clone().into_inner().next_back() {
        Some(last) => content_end(&last),
        None => pair.as_span().end(),
    }
}

thread_local! {
    /// Where the text pest was given starts in the file: 0 for a whole-file parse, the
    /// item's offset while `items` lowers an item parsed on its own. A thread-local rather
    /// than a parameter so that every lowering function keeps computing spans with `span_of`.
    static INPUT_OFFSET: Cell<usize> = const { Cell::new(0) };
}

/// Runs `lower` with spans shifted by `offset`, restoring the previous offset after it.
pub(crate) fn with_input_offset<T>(offset: usize, lower: impl FnOnce() -> T) -> T {
    struct Restore(usize);
    impl Drop for Restore {
        fn drop(&mut self) {
            INPUT_OFFSET.set(self.0);
        }
    }
    let _restore = Restore(INPUT_OFFSET.replace(offset));
    lower()
}

/// `items` in an allocation of exactly its length. Lowering learns how many children a pair
/// has only by reading them, so its vectors grow by doubling, and the AST of a whole file is
/// kept for the check: the spare capacity was a third of its memory. A new allocation rather
/// than `shrink_to_fit`, which allocators may answer by keeping the block (mimalloc keeps one
/// that shrinks by less than half).
pub(crate) fn exact<T>(items: Vec<T>) -> Vec<T> {
    if items.len() == items.capacity() {
        return items;
    }
    let mut out = Vec::with_capacity(items.len());
    out.extend(items);
    out
}

/// A grammar/lowering mismatch: our bug, reported with the input that triggers it.
pub(crate) fn internal(span: Span, detail: &str) -> Diagnostic {
    Diagnostic::new(
        Code::Internal,
        span,
        format!("internal error while reading this: {detail}"),
    )
    .with_help("this is a bug in Scenarist; please report it with the file that triggers it")
}
