//! `textDocument/codeLens`: request lenses in request files, the way back in response
//! documents. A request file's lenses are kept, as the JSON of the answer, per document
//! version and workspace state, so asking again (editors do, on scroll and focus) costs
//! writing those bytes: the answer is a placeholder the transport replaces with them
//! (`stdio::Splices`), never rebuilt or re-serialized.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;
use tower_lsp_server::ls_types::{CodeLens, Command, Uri};

use crate::ide::lenses::{self, LensAction};
use crate::lsp::server::Server;
use crate::lsp::{convert, ext, responses, workspace};

/// What a request file's lenses were computed from: the document version, the
/// workspace load (its generation), the profiles' states and, when a lens shows a time
/// left, the second it was computed at.
#[derive(Debug, PartialEq)]
pub struct LensKey {
    version: i32,
    workspace: u64,
    profiles: Vec<crate::ide::ProfileState>,
    now: i64,
}

/// The last lenses per document URI, as the JSON array a client receives.
pub type LensCache = Mutex<HashMap<String, (LensKey, Arc<[u8]>)>>;

/// The lenses as the JSON array a client receives: exactly the bytes tower-lsp would
/// write for them (checked in `stdio`'s tests), without the
/// `serde_json::Value` in between.
pub fn to_json(lenses: &[CodeLens]) -> Arc<[u8]> {
    let mut out = Vec::with_capacity(lenses.len() * 200);
    // Writing typed values into memory cannot fail.
    if serde_json::to_writer(&mut out, lenses).is_err() {
        out = b"[]".to_vec();
    }
    Arc::from(out)
}

pub async fn code_lens(server: &Server, uri: &Uri) -> Option<Vec<CodeLens>> {
    let doc = server.session.get(uri)?;
    if doc.is_response {
        return Some(compute(server, uri, &doc, None).await);
    }
    let cached = workspace::cached(server, &doc);
    let profiles = match &cached {
        Some(c) => c.profile_states(server).await,
        None => Vec::new(),
    };
    let now = chrono::Utc::now().timestamp();
    let timed = profiles
        .iter()
        .any(|p| p.signed_in && p.expires_at.is_some());
    let key = LensKey {
        version: doc.version,
        workspace: cached.as_ref().map_or(0, |c| c.generation),
        profiles,
        now: if timed { now } else { 0 },
    };
    let lock = || server.lens_cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((k, json)) = lock().get(uri.as_str())
        && *k == key
    {
        return Some(server.splices.placeholder(json.clone()));
    }
    let view = match &cached {
        Some(c) => {
            let mut v = c.view.clone();
            v.profiles = key.profiles.clone();
            v
        }
        None => workspace::env_view(server, &doc),
    };
    let json = to_json(&compute(server, uri, &doc, Some(view)).await);
    lock().insert(uri.as_str().to_string(), (key, json.clone()));
    Some(server.splices.placeholder(json))
}

/// The lenses of a response document (`view: None`) or of a request file.
async fn compute(
    server: &Server,
    uri: &Uri,
    doc: &crate::lsp::session::Document,
    view: Option<crate::ide::EnvView>,
) -> Vec<CodeLens> {
    let enc = server.session.encoding();
    let a = &doc.analysis;
    let found = if doc.is_response {
        let origin = responses::origin_of(server, doc);
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
        let view = view.unwrap_or_default();
        let now = chrono::Utc::now().timestamp();
        lenses::request_lenses(a, view.selected.as_deref(), &|id| view.profile(id), now)
            .into_iter()
            .map(|l| (l, None))
            .collect()
    };
    found
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
        .collect()
}
