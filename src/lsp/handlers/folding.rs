//! `textDocument/foldingRange`: blocks, bodies, comment runs (whole lines).

use tower_lsp_server::ls_types::{FoldingRange, FoldingRangeKind, Uri};

use crate::ide::folding::{self, FoldKind};
use crate::lsp::server::Server;

pub fn folding_range(server: &Server, uri: &Uri) -> Option<Vec<FoldingRange>> {
    let doc = server.session.get(uri)?;
    let a = &doc.analysis;
    let out = folding::folding_ranges(a)
        .into_iter()
        .map(|f| FoldingRange {
            start_line: a.index.line_of(f.range.start as usize),
            end_line: a.index.line_of(f.range.end as usize),
            start_character: None,
            end_character: None,
            kind: Some(match f.kind {
                FoldKind::Region => FoldingRangeKind::Region,
                FoldKind::Comment => FoldingRangeKind::Comment,
            }),
            collapsed_text: None,
        })
        .collect();
    Some(out)
}
