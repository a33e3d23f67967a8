//! Byte ranges, the line index, and conversion between byte offsets and positions:
//! LSP-style (UTF-8 or UTF-16 code units, zero-based) and the `line:col` people read
//! (one-based, the column in characters). This is the only place that counts lines and
//! columns; everything else keeps byte offsets and asks here.

use std::ops::Range;

/// A half-open byte range `[start, end)` into a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct TextRange {
    pub start: u32,
    pub end: u32,
}

impl TextRange {
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end, "range start {start} after end {end}");
        TextRange {
            start: start as u32,
            end: end as u32,
        }
    }
    pub fn empty(at: usize) -> Self {
        Self::new(at, at)
    }
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
    pub fn contains(self, offset: usize) -> bool {
        (self.start as usize) <= offset && offset < self.end as usize
    }
    /// Like `contains`, but the end offset counts too (a cursor right after the text).
    pub fn contains_inclusive(self, offset: usize) -> bool {
        (self.start as usize) <= offset && offset <= self.end as usize
    }
    pub fn cover(self, other: TextRange) -> TextRange {
        TextRange {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
    pub fn shift(self, by: usize) -> TextRange {
        TextRange::new(self.start as usize + by, self.end as usize + by)
    }
    pub fn as_range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
    /// The text this range covers; empty when the range does not fit `text`.
    pub fn slice(self, text: &str) -> &str {
        text.get(self.as_range()).unwrap_or("")
    }
}

impl From<Range<usize>> for TextRange {
    fn from(r: Range<usize>) -> Self {
        TextRange::new(r.start, r.end)
    }
}

/// How a client counts columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PositionEncoding {
    Utf8,
    #[default]
    Utf16,
}

/// A zero-based line and column, the column counted in the chosen encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

/// A one-based line and column as compilers and editors print them (`path:3:7:`): the
/// column counted in characters, a byte order mark at the start of the text not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

impl LineCol {
    /// Where `inner`, a position inside a text embedded at `self` (a script inside a
    /// request file), is in the outer text: its first line continues the outer line.
    pub fn nested(self, inner: LineCol) -> LineCol {
        if inner.line <= 1 {
            LineCol {
                line: self.line,
                col: self.col + inner.col.saturating_sub(1),
            }
        } else {
            LineCol {
                line: self.line + inner.line - 1,
                col: inner.col,
            }
        }
    }
}

impl std::fmt::Display for LineCol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// How many lines `text` ends (its `\n`s): for counting from a known line onwards
/// without an index of the whole text (a block knows its first line).
pub fn newlines(text: &str) -> usize {
    text.as_bytes().iter().filter(|&&b| b == b'\n').count()
}

/// The one-based line and column of `offset` counted from `anchor`, an offset known to
/// start line `anchor_line` (zero-based): the cost is the distance, not the text.
/// `offset` is clamped to the text and to a character boundary, and not before `anchor`.
pub fn line_col_from(text: &str, anchor: usize, anchor_line: u32, offset: usize) -> LineCol {
    let anchor = floor_char_boundary(text, anchor);
    let offset = floor_char_boundary(text, offset).max(anchor);
    let between = &text[anchor..offset];
    let line = anchor_line + newlines(between) as u32;
    let line_start = between.rfind('\n').map_or(anchor, |i| anchor + i + 1);
    let mut before = &text[line_start..offset];
    if line_start == 0 {
        before = before.strip_prefix('\u{feff}').unwrap_or(before);
    }
    LineCol {
        line: line + 1,
        col: before.chars().count() as u32 + 1,
    }
}

/// The offset of a one-based line and column counted in bytes, as JSON readers report
/// them (`serde_json`'s "line 3 column 12"; column 0 is the line start): clamped to the
/// line and to a character boundary.
pub fn offset_of_line_byte_col(text: &str, line: usize, col: usize) -> usize {
    let idx = LineIndex::new(text);
    let pos = Position {
        line: line.saturating_sub(1) as u32,
        character: col.saturating_sub(1) as u32,
    };
    idx.offset(text, pos, PositionEncoding::Utf8)
}

/// The offset of a one-based line and column counted in characters (a script engine's
/// error position inside the script's text): clamped to the line and the text.
pub fn offset_of_line_col(text: &str, at: LineCol) -> usize {
    let idx = LineIndex::new(text);
    let range = idx.line_range(at.line.saturating_sub(1), text);
    let line = range.slice(text);
    let skip = at.col.saturating_sub(1) as usize;
    range.start as usize + line.char_indices().nth(skip).map_or(line.len(), |(i, _)| i)
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Line starts of a text, for offset <-> position conversion.
/// A line ends at `\n`; a `\r` before it belongs to the line terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    line_starts: Vec<u32>,
    len: u32,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = Vec::with_capacity(text.len() / 32 + 1);
        line_starts.push(0);
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i as u32 + 1);
            }
        }
        LineIndex {
            line_starts,
            len: text.len() as u32,
        }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Zero-based line that holds `offset` (clamped to the text).
    pub fn line_of(&self, offset: usize) -> u32 {
        let offset = (offset as u32).min(self.len);
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i as u32,
            Err(i) => (i - 1) as u32,
        }
    }

    /// Byte offset where `line` starts (clamped to the end of the text).
    pub fn line_start(&self, line: u32) -> usize {
        self.line_starts
            .get(line as usize)
            .copied()
            .unwrap_or(self.len) as usize
    }

    /// Byte range of `line` without its terminator (`\n` or `\r\n`).
    pub fn line_range(&self, line: u32, text: &str) -> TextRange {
        let start = self.line_start(line);
        let mut end = self.line_start(line + 1);
        let bytes = text.as_bytes();
        if end > start && bytes.get(end - 1) == Some(&b'\n') {
            end -= 1;
            if end > start && bytes.get(end - 1) == Some(&b'\r') {
                end -= 1;
            }
        }
        TextRange::new(start, end.max(start))
    }

    /// The position of a byte offset. Offsets inside a character or past the end are
    /// clamped to the nearest earlier character boundary / the end.
    pub fn position(&self, text: &str, offset: usize, enc: PositionEncoding) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_of(offset);
        let start = self.line_start(line);
        let prefix = &text[start..offset];
        let character = match enc {
            PositionEncoding::Utf8 => prefix.len(),
            PositionEncoding::Utf16 => prefix.encode_utf16().count(),
        } as u32;
        Position { line, character }
    }

    /// The byte offset of a position. A column past the end of its line clamps to the
    /// line end (before the terminator); a line past the end clamps to the text end;
    /// a column inside a character clamps to that character's start.
    pub fn offset(&self, text: &str, pos: Position, enc: PositionEncoding) -> usize {
        if pos.line as usize >= self.line_starts.len() {
            return text.len();
        }
        let range = self.line_range(pos.line, text);
        let line = range.slice(text);
        let want = pos.character as usize;
        match enc {
            PositionEncoding::Utf8 => {
                let mut col = want.min(line.len());
                while !line.is_char_boundary(col) {
                    col -= 1;
                }
                range.start as usize + col
            }
            PositionEncoding::Utf16 => {
                let mut units = 0usize;
                for (i, ch) in line.char_indices() {
                    let next = units + ch.len_utf16();
                    if next > want {
                        return range.start as usize + i;
                    }
                    units = next;
                }
                range.end as usize
            }
        }
    }

    /// The one-based `line:col` people read (column in characters, a leading byte
    /// order mark not counted) of a byte offset, clamped like [`LineIndex::position`].
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset);
        let line = self.line_of(offset);
        line_col_from(text, self.line_start(line), line, offset)
    }

    pub fn range_to_positions(
        &self,
        text: &str,
        range: TextRange,
        enc: PositionEncoding,
    ) -> (Position, Position) {
        (
            self.position(text, range.start as usize, enc),
            self.position(text, range.end as usize, enc),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_lines_and_ranges() {
        let text = "GET /a\r\nHost: x\r\n\r\nbody";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_count(), 4);
        assert_eq!(idx.line_range(0, text).slice(text), "GET /a");
        assert_eq!(idx.line_range(1, text).slice(text), "Host: x");
        assert_eq!(idx.line_range(2, text).slice(text), "");
        assert_eq!(idx.line_range(3, text).slice(text), "body");
        // Column past the end of a CRLF line clamps before the \r.
        let off = idx.offset(
            text,
            Position {
                line: 0,
                character: 99,
            },
            PositionEncoding::Utf16,
        );
        assert_eq!(off, 6);
    }

    #[test]
    fn utf16_and_utf8_columns() {
        let text = "a😀é\n中b";
        let idx = LineIndex::new(text);
        // 'é' starts after 'a' (1 byte) and the emoji (4 bytes, 2 UTF-16 units).
        let e = text.find('é').unwrap();
        assert_eq!(
            idx.position(text, e, PositionEncoding::Utf16),
            Position {
                line: 0,
                character: 3
            }
        );
        assert_eq!(
            idx.position(text, e, PositionEncoding::Utf8),
            Position {
                line: 0,
                character: 5
            }
        );
        let b = text.find('b').unwrap();
        assert_eq!(
            idx.position(text, b, PositionEncoding::Utf16),
            Position {
                line: 1,
                character: 1
            }
        );
        assert_eq!(
            idx.offset(
                text,
                Position {
                    line: 1,
                    character: 1
                },
                PositionEncoding::Utf16
            ),
            b
        );
        assert_eq!(
            idx.offset(
                text,
                Position {
                    line: 1,
                    character: 3
                },
                PositionEncoding::Utf8
            ),
            b
        );
        // Inside the surrogate pair: clamps to the emoji's start.
        assert_eq!(
            idx.offset(
                text,
                Position {
                    line: 0,
                    character: 2
                },
                PositionEncoding::Utf16
            ),
            1
        );
        // Inside a UTF-8 sequence: clamps to the char start.
        assert_eq!(
            idx.offset(
                text,
                Position {
                    line: 1,
                    character: 1
                },
                PositionEncoding::Utf8
            ),
            text.find('中').unwrap()
        );
    }

    #[test]
    fn round_trip_every_boundary() {
        let text = "x\r\n😀😀\n\nñ中\r\nend";
        let idx = LineIndex::new(text);
        for enc in [PositionEncoding::Utf8, PositionEncoding::Utf16] {
            for (off, _) in text.char_indices().chain([(text.len(), ' ')]) {
                if text[..off].ends_with('\r') {
                    continue; // between \r and \n: not a position a client can name
                }
                let pos = idx.position(text, off, enc);
                assert_eq!(idx.offset(text, pos, enc), off, "{enc:?} at {off}");
            }
        }
    }

    fn line_cols(text: &str) -> Vec<String> {
        let idx = LineIndex::new(text);
        text.char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .map(|off| idx.line_col(text, off).to_string())
            .collect()
    }

    #[test]
    fn line_col_counts_characters_one_based() {
        // Multi-byte characters are one column each; the last line has no newline.
        assert_eq!(
            line_cols("é😀\n中b"),
            ["1:1", "1:2", "1:3", "2:1", "2:2", "2:3"]
        );
        // CRLF: the \r is the line's last column, the next line starts at 1.
        assert_eq!(line_cols("a\r\nb"), ["1:1", "1:2", "1:3", "2:1", "2:2"]);
        // A byte order mark is not a column people see.
        assert_eq!(
            line_cols("\u{feff}ab\n\u{feff}"),
            ["1:1", "1:1", "1:2", "1:3", "2:1", "2:2"]
        );
        // Offsets inside a character or past the end clamp.
        let idx = LineIndex::new("é");
        assert_eq!(idx.line_col("é", 1), LineCol { line: 1, col: 1 });
        assert_eq!(idx.line_col("é", 99), LineCol { line: 1, col: 2 });
        assert_eq!(line_cols(""), ["1:1"]);
    }

    #[test]
    fn positions_inside_an_embedded_text() {
        let at = LineCol { line: 3, col: 5 };
        assert_eq!(at.nested(LineCol { line: 1, col: 1 }), at);
        assert_eq!(
            at.nested(LineCol { line: 1, col: 4 }),
            LineCol { line: 3, col: 8 }
        );
        assert_eq!(
            at.nested(LineCol { line: 2, col: 4 }),
            LineCol { line: 4, col: 4 }
        );
    }

    #[test]
    fn counting_from_an_anchor_equals_the_index() {
        let text = "x\r\n😀😀\n\nñ中\r\nend";
        let idx = LineIndex::new(text);
        let anchor = text.find('ñ').unwrap();
        let anchor_line = idx.line_of(anchor);
        for (off, _) in text[anchor..].char_indices() {
            let off = anchor + off;
            assert_eq!(
                line_col_from(text, anchor, anchor_line, off),
                idx.line_col(text, off)
            );
        }
        assert_eq!(newlines(text), 4);
    }

    #[test]
    fn offsets_of_reported_line_cols() {
        let text = "{\n  \"é\": 1,,\n}";
        // serde_json counts the column in bytes: `,,` is at byte column 10 of line 2.
        let at = offset_of_line_byte_col(text, 2, 11);
        assert_eq!(&text[at..at + 1], ",");
        assert_eq!(idx_line_col(text, at), "2:10");
        // Past the line or the text clamps; column 0 is the line start.
        assert_eq!(
            offset_of_line_byte_col(text, 2, 99),
            text.find(",\n}").unwrap() + 1
        );
        assert_eq!(offset_of_line_byte_col(text, 9, 1), text.len());
        assert_eq!(offset_of_line_byte_col(text, 2, 0), 2);
        // A script engine counts characters.
        let at = offset_of_line_col(text, LineCol { line: 2, col: 4 });
        assert_eq!(&text[at..at + 2], "é");
        assert_eq!(
            offset_of_line_col(text, LineCol { line: 2, col: 99 }),
            text.find("\n}").unwrap()
        );
    }

    fn idx_line_col(text: &str, off: usize) -> String {
        LineIndex::new(text).line_col(text, off).to_string()
    }
}
