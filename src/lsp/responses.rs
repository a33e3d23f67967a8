//! The server's response documents: which request each came from (the history's
//! origin record), and the previous response to the same request.

use std::path::{Path, PathBuf};

use tower_lsp_server::ls_types::Uri;

use super::server::Server;
use super::session::{Document, path_to_uri};
use crate::exec::history;

/// Where a response document came from: the request file and its request line
/// (0-based) now, found by `# @name` when the request has one (it may have moved since),
/// else by the recorded line.
pub fn origin_of(server: &Server, doc: &Document) -> Option<(Uri, u32)> {
    let origin = history::document_origin(doc.path.as_deref()?)?;
    let uri = path_to_uri(&origin.file)?;
    let recorded = origin.line.saturating_sub(1);
    let line = match (&origin.name, server.session.get(&uri)) {
        (Some(name), Some(req_doc)) => {
            let a = &req_doc.analysis;
            a.file()
                .blocks
                .iter()
                .find(|b| b.request_name() == Some(name.as_str()))
                .and_then(|b| b.request.as_ref())
                .map(|r| a.index.line_of(r.line_range.start as usize))
                .unwrap_or(recorded)
        }
        _ => recorded,
    };
    Some((uri, line))
}

/// The response before this one to the same request.
pub fn previous_of(path: &Path) -> Option<PathBuf> {
    history::previous_document(path)
}
