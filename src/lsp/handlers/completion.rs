//! `textDocument/completion`.

use tower_lsp_server::ls_types::{
    CompletionItem, CompletionItemKind, CompletionResponse, CompletionTextEdit, InsertTextFormat,
    TextDocumentPositionParams, TextEdit,
};

use crate::ide::completion::{self, ItemKind};
use crate::lsp::server::Server;
use crate::lsp::{convert, env_state};

pub async fn completion(
    server: &Server,
    p: TextDocumentPositionParams,
) -> Option<CompletionResponse> {
    let doc = server.session.get(&p.text_document.uri)?;
    if doc.is_response {
        return None;
    }
    let enc = server.session.encoding();
    let a = &doc.analysis;
    let offset = convert::to_offset(a, p.position, enc);
    let view = env_state::env_view_with_profiles(server, &doc).await;
    let items = completion::complete(a, offset, &view)
        .into_iter()
        .map(|i| CompletionItem {
            label: i.label,
            kind: Some(match i.kind {
                ItemKind::Method => CompletionItemKind::KEYWORD,
                ItemKind::Header => CompletionItemKind::FIELD,
                ItemKind::Value => CompletionItemKind::VALUE,
                ItemKind::Variable => CompletionItemKind::VARIABLE,
                ItemKind::SystemVariable => CompletionItemKind::FUNCTION,
                ItemKind::RequestVariable => CompletionItemKind::REFERENCE,
                ItemKind::Profile => CompletionItemKind::MODULE,
                ItemKind::Metadata => CompletionItemKind::PROPERTY,
                ItemKind::ScriptMember => CompletionItemKind::METHOD,
                ItemKind::Path => CompletionItemKind::FILE,
                ItemKind::Parameter => CompletionItemKind::FIELD,
                ItemKind::Snippet => CompletionItemKind::SNIPPET,
                ItemKind::Property => CompletionItemKind::PROPERTY,
            }),
            insert_text_format: matches!(i.kind, ItemKind::Path | ItemKind::Snippet)
                .then_some(InsertTextFormat::SNIPPET),
            detail: i.detail,
            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                range: convert::range(a, i.replace, enc),
                new_text: i.insert,
            })),
            ..Default::default()
        })
        .collect();
    Some(CompletionResponse::Array(items))
}
