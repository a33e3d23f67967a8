//! `textDocument/definition`: variables to their `@x =` line or env file key, request
//! names to their `# @name` line.

use tower_lsp_server::ls_types::{
    GotoDefinitionResponse, Location, Range, TextDocumentPositionParams,
};

use crate::ide::Analysis;
use crate::ide::definition::{self, Target};
use crate::lsp::server::Server;
use crate::lsp::{convert, env_state, session};

pub fn definition(
    server: &Server,
    p: TextDocumentPositionParams,
) -> Option<GotoDefinitionResponse> {
    let doc = server.session.get(&p.text_document.uri)?;
    if doc.is_response {
        return None;
    }
    let enc = server.session.encoding();
    let a = &doc.analysis;
    let offset = convert::to_offset(a, p.position, enc);
    let view = env_state::env_view(server, &doc);
    let loc = match definition::definition(a, &view, offset)? {
        Target::Here(r) => Location::new(doc.uri.clone(), convert::range(a, r, enc)),
        Target::Elsewhere(l) => {
            let uri = session::path_to_uri(&l.path)?;
            // The other file is read from disk for its line index.
            let range = match std::fs::read_to_string(&l.path) {
                Ok(text) => {
                    let other = Analysis::without_tree(text);
                    convert::range(&other, l.range, enc)
                }
                Err(_) => Range::default(),
            };
            Location::new(uri, range)
        }
    };
    Some(GotoDefinitionResponse::Scalar(loc))
}
