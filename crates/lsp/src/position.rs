//! Byte offsets (the AST's spans) ↔ LSP positions (a 0-based line and a column counted in
//! UTF-16 code units, the protocol's default encoding and the only one every client speaks).
//! Every conversion clamps: a position past the end of a line or of the text, or one that
//! falls between the two halves of a surrogate pair, lands on the nearest character boundary
//! before it, so no client input can make an offset that slices a `str` badly.

use lsp_types::{Position, Range};
use scenarist_lang::source::Span;

/// Where each line starts in a text.
#[derive(Clone, Debug)]
pub(crate) struct LineIndex {
    /// Byte offset of each line's first character; the first is 0.
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { starts }
    }

    /// The byte offset of `position` in `text` (the text this index was built from).
    pub(crate) fn offset(&self, text: &str, position: Position) -> usize {
        let line = position.line as usize;
        let Some(&start) = self.starts.get(line) else {
            return text.len();
        };
        let end = self.starts.get(line + 1).map_or(text.len(), |&next| next);
        let line_text = text.get(start..end).unwrap_or("");
        let line_text = line_text.strip_suffix('\n').unwrap_or(line_text);
        let line_text = line_text.strip_suffix('\r').unwrap_or(line_text);
        let wanted = position.character as usize;
        let mut units = 0;
        for (index, c) in line_text.char_indices() {
            let next = units + c.len_utf16();
            if next > wanted {
                return start + index;
            }
            units = next;
        }
        start + line_text.len()
    }

    /// The position of byte `offset` of `text` (clamped, and moved back to a character
    /// boundary when it is inside one).
    pub(crate) fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let character: usize = text
            .get(start..offset)
            .map_or(0, |prefix| prefix.chars().map(char::len_utf16).sum());
        Position::new(to_u32(line), to_u32(character))
    }

    pub(crate) fn range(&self, text: &str, span: Span) -> Range {
        Range::new(
            self.position(text, span.start as usize),
            self.position(text, span.end as usize),
        )
    }

    /// The byte range of `range`, start before end.
    pub(crate) fn span(&self, text: &str, range: Range) -> std::ops::Range<usize> {
        let start = self.offset(text, range.start);
        let end = self.offset(text, range.end);
        start.min(end)..start.max(end)
    }
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        // "é" is 2 bytes and 1 unit; "😀" is 4 bytes and 2 units.
        let text = "ab\né😀x\r\nlast";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, Position::new(1, 0)), 3);
        assert_eq!(index.offset(text, Position::new(1, 1)), 5);
        assert_eq!(index.offset(text, Position::new(1, 3)), 9);
        // Between the surrogates of 😀: back to its start.
        assert_eq!(index.offset(text, Position::new(1, 2)), 5);
        // Past the end of the line: before its line break.
        assert_eq!(index.offset(text, Position::new(1, 99)), 10);
        assert_eq!(index.offset(text, Position::new(9, 0)), text.len());
        assert_eq!(index.position(text, 9), Position::new(1, 3));
        assert_eq!(index.position(text, 6), Position::new(1, 1));
        assert_eq!(index.position(text, 999), Position::new(2, 4));
    }
}
