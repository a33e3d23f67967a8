//! `textDocument/codeAction`: the edits of `ide::actions` as quick refactors.

use std::collections::HashMap;

use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, TextEdit, WorkspaceEdit,
};

use crate::ide::actions;
use crate::lsp::convert;
use crate::lsp::server::Server;
use crate::text::TextRange;

pub fn code_action(server: &Server, p: &CodeActionParams) -> Option<Vec<CodeActionOrCommand>> {
    let doc = server.session.get(&p.text_document.uri)?;
    if doc.is_response {
        return None;
    }
    let enc = server.session.encoding();
    let a = &doc.analysis;
    let start = convert::to_offset(a, p.range.start, enc);
    let end = convert::to_offset(a, p.range.end, enc).max(start);
    let found = actions::actions(a, TextRange::new(start, end));
    Some(
        found
            .into_iter()
            .map(|act| {
                let edit = TextEdit {
                    range: convert::range(a, act.range, enc),
                    new_text: act.new_text,
                };
                CodeActionOrCommand::CodeAction(CodeAction {
                    title: act.title,
                    kind: Some(CodeActionKind::REFACTOR_REWRITE),
                    edit: Some(WorkspaceEdit {
                        changes: Some(HashMap::from([(p.text_document.uri.clone(), vec![edit])])),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
            })
            .collect(),
    )
}
