//! `textDocument/documentSymbol`: requests and file variables, as a flat outline.

use tower_lsp_server::ls_types::{DocumentSymbol, DocumentSymbolResponse, SymbolKind, Uri};

use crate::ide::symbols;
use crate::lsp::convert;
use crate::lsp::server::Server;

pub fn document_symbol(server: &Server, uri: &Uri) -> Option<DocumentSymbolResponse> {
    let doc = server.session.get(uri)?;
    let enc = server.session.encoding();
    let a = &doc.analysis;
    #[allow(deprecated)]
    let out = symbols::symbols(a)
        .into_iter()
        .map(|s| DocumentSymbol {
            name: s.name,
            detail: s.detail,
            kind: match s.kind {
                symbols::SymbolKind::Request => SymbolKind::FUNCTION,
                symbols::SymbolKind::Variable => SymbolKind::VARIABLE,
            },
            tags: None,
            deprecated: None,
            range: convert::range(a, s.range, enc),
            selection_range: convert::range(a, s.selection, enc),
            children: None,
        })
        .collect();
    Some(DocumentSymbolResponse::Nested(out))
}
