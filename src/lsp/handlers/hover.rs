//! `textDocument/hover` over `{{ }}` references.

use tower_lsp_server::ls_types::{
    Hover, HoverContents, MarkupContent, MarkupKind, TextDocumentPositionParams,
};

use crate::ide::hover;
use crate::lsp::server::Server;
use crate::lsp::{convert, env_state};

pub async fn hover(server: &Server, p: TextDocumentPositionParams) -> Option<Hover> {
    let doc = server.session.get(&p.text_document.uri)?;
    if doc.is_response {
        return None;
    }
    let enc = server.session.encoding();
    let a = &doc.analysis;
    let offset = convert::to_offset(a, p.position, enc);
    let view = env_state::env_view_with_profiles(server, &doc).await;
    let h = hover::hover(a, &view, offset, chrono::Utc::now().timestamp())?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: h.markdown,
        }),
        range: Some(convert::range(a, h.range, enc)),
    })
}
