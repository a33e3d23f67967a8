//! Conversions between the core's byte ranges and LSP positions, through the
//! document's `LineIndex` and the negotiated encoding. The only place that does this.

use tower_lsp_server::ls_types::{Position, Range};

use crate::ide::Analysis;
use crate::text::{self, LineIndex, PositionEncoding, TextRange};

pub fn offset(idx: &LineIndex, text: &str, pos: Position, enc: PositionEncoding) -> usize {
    idx.offset(
        text,
        text::Position {
            line: pos.line,
            character: pos.character,
        },
        enc,
    )
}

pub fn position(a: &Analysis, offset: usize, enc: PositionEncoding) -> Position {
    let p = a.index.position(&a.text, offset, enc);
    Position::new(p.line, p.character)
}

pub fn range(a: &Analysis, r: TextRange, enc: PositionEncoding) -> Range {
    Range::new(
        position(a, r.start as usize, enc),
        position(a, r.end as usize, enc),
    )
}

pub fn to_offset(a: &Analysis, pos: Position, enc: PositionEncoding) -> usize {
    offset(&a.index, &a.text, pos, enc)
}
