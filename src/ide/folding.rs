//! Folding ranges: request blocks, bodies, and runs of comment lines.

use super::Analysis;
use crate::syntax::ast::{Line, LineKind};
use crate::text::TextRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldKind {
    Region,
    Comment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fold {
    /// From the first folded line's start to the last folded line's end.
    pub range: TextRange,
    pub kind: FoldKind,
}

pub fn folding_ranges(a: &Analysis) -> Vec<Fold> {
    let mut out = Vec::new();
    let spans_lines =
        |r: TextRange| a.index.line_of(r.start as usize) < a.index.line_of(r.end as usize);
    for block in &a.file().blocks {
        // The block, up to its last non-blank line.
        let first = block.lines.first();
        let last = block.lines.iter().rev().find(|l| l.kind != LineKind::Blank);
        if let (Some(f), Some(l)) = (first, last) {
            let r = TextRange::new(f.range.start as usize, l.range.end as usize);
            if spans_lines(r) {
                out.push(Fold {
                    range: r,
                    kind: FoldKind::Region,
                });
            }
        }
        if let Some(body) = block.request.as_ref().and_then(|r| r.body.as_ref())
            && spans_lines(body.range)
        {
            out.push(Fold {
                range: body.range,
                kind: FoldKind::Region,
            });
        }
        // Runs of two or more comment lines.
        let mut run: Option<(TextRange, usize)> = None;
        for line in block.lines.iter().chain(std::iter::once(&Line {
            range: TextRange::empty(0),
            kind: LineKind::Blank,
        })) {
            if line.kind == LineKind::Comment {
                run = Some(match run {
                    Some((r, n)) => (r.cover(line.range), n + 1),
                    None => (line.range, 1),
                });
            } else if let Some((r, n)) = run.take()
                && n >= 2
            {
                out.push(Fold {
                    range: r,
                    kind: FoldKind::Comment,
                });
            }
        }
    }
    out
}
