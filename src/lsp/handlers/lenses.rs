//! `textDocument/codeLens`: request lenses in request files, the way back in response
//! documents.

use serde_json::json;
use tower_lsp_server::ls_types::{CodeLens, Command, Uri};

use crate::ide::lenses::{self, LensAction};
use crate::lsp::server::Server;
use crate::lsp::{convert, ext, responses, workspace};

pub async fn code_lens(server: &Server, uri: &Uri) -> Option<Vec<CodeLens>> {
    let doc = server.session.get(uri)?;
    let enc = server.session.encoding();
    let a = &doc.analysis;
    let found = if doc.is_response {
        let origin = responses::origin_of(server, &doc);
        let has_previous = doc
            .path
            .as_deref()
            .and_then(responses::previous_of)
            .is_some();
        lenses::response_lenses(origin.is_some(), has_previous)
            .into_iter()
            .map(|l| (l, origin.clone()))
            .collect::<Vec<_>>()
    } else {
        let view = workspace::env_view_with_profiles(server, &doc).await;
        let now = chrono::Utc::now().timestamp();
        lenses::request_lenses(a, view.selected.as_deref(), &|id| view.profile(id), now)
            .into_iter()
            .map(|l| (l, None))
            .collect()
    };
    let out = found
        .into_iter()
        .map(|(lens, origin)| {
            let (command, args) = match &lens.action {
                LensAction::Send { line } => (ext::SEND, json!({"uri": uri, "line": line})),
                LensAction::SignIn { profile } => {
                    (ext::SIGN_IN, json!({"profile": profile, "uri": uri}))
                }
                LensAction::SignOut { profile } => {
                    (ext::SIGN_OUT, json!({"profile": profile, "uri": uri}))
                }
                LensAction::SelectEnvironment => (ext::SELECT_ENVIRONMENT, json!({"uri": uri})),
                LensAction::SendAgain => {
                    // Only offered when the origin is known.
                    let (u, line) = match origin {
                        Some((u, l)) => (Some(u), l),
                        None => (None, 0),
                    };
                    (ext::SEND, json!({"uri": u, "line": line}))
                }
                LensAction::OpenRequest => (ext::OPEN_REQUEST, json!({"responseUri": uri})),
                LensAction::CompareWithPrevious => {
                    (ext::COMPARE_WITH_PREVIOUS, json!({"responseUri": uri}))
                }
            };
            CodeLens {
                range: convert::range(a, lens.range, enc),
                command: Some(Command {
                    title: lens.title,
                    command: command.to_string(),
                    arguments: Some(vec![args]),
                }),
                data: None,
            }
        })
        .collect();
    Some(out)
}
