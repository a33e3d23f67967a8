//! `textDocument/codeLens`: request lenses in request files, the way back in response
//! documents. A request file's lenses are kept, as the JSON of the answer, per document
//! version and workspace state, so asking again (editors do, on scroll and focus) costs
//! writing those bytes: the answer is a placeholder the transport replaces with them
//! (`stdio::Splices`), never rebuilt or re-serialized.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tower_lsp_server::ls_types::{CodeLens, Command, Range, Uri};

use crate::ide::Analysis;
use crate::ide::lenses::{self, Lens, LensAction};
use crate::lsp::server::Server;
use crate::lsp::{convert, ext, responses, workspace};
use crate::text::PositionEncoding;

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

/// The lenses as the JSON array tower-lsp would write for them, without the
/// `serde_json::Value` in between: the reference the direct writer is tested against
/// (and `stdio`'s tests check it against tower-lsp's own serialization).
#[cfg(test)]
pub fn to_json(lenses: &[CodeLens]) -> Arc<[u8]> {
    let mut out = Vec::with_capacity(lenses.len() * 200);
    // Writing typed values into memory cannot fail.
    if serde_json::to_writer(&mut out, lenses).is_err() {
        out = b"[]".to_vec();
    }
    Arc::from(out)
}

/// A lens as found by `ide`, with the origin of a response document.
type Found = (Lens, Option<(Uri, u32)>);

/// The one argument of a lens's command. Both ways out are built from it: a
/// `CodeLens` (its `Value` keeps these fields in this order) and the JSON written
/// directly for kept lenses ([`write_json`]), so the two cannot drift apart.
#[derive(Serialize)]
#[serde(untagged)]
enum Args<'a> {
    Send {
        uri: Option<&'a Uri>,
        line: u32,
    },
    Profile {
        profile: &'a str,
        uri: &'a Uri,
    },
    Uri {
        uri: &'a Uri,
    },
    Response {
        #[serde(rename = "responseUri")]
        response_uri: &'a Uri,
    },
}

fn command_of<'a>((lens, origin): &'a Found, uri: &'a Uri) -> (&'static str, Args<'a>) {
    match &lens.action {
        LensAction::Send { line } => (
            ext::SEND,
            Args::Send {
                uri: Some(uri),
                line: *line,
            },
        ),
        LensAction::SignIn { profile } => (ext::SIGN_IN, Args::Profile { profile, uri }),
        LensAction::SignOut { profile } => (ext::SIGN_OUT, Args::Profile { profile, uri }),
        LensAction::SelectEnvironment => (ext::SELECT_ENVIRONMENT, Args::Uri { uri }),
        // Only offered when the origin is known.
        LensAction::SendAgain => (
            ext::SEND,
            Args::Send {
                uri: origin.as_ref().map(|(u, _)| u),
                line: origin.as_ref().map_or(0, |(_, l)| *l),
            },
        ),
        LensAction::OpenRequest => (ext::OPEN_REQUEST, Args::Response { response_uri: uri }),
        LensAction::CompareWithPrevious => (
            ext::COMPARE_WITH_PREVIOUS,
            Args::Response { response_uri: uri },
        ),
    }
}

/// `CodeLens` as it serializes (`command` and `arguments` present, `data` absent).
#[derive(Serialize)]
struct LensOut<'a> {
    range: Range,
    command: CommandOut<'a>,
}

#[derive(Serialize)]
struct CommandOut<'a> {
    title: &'a str,
    command: &'static str,
    arguments: [Args<'a>; 1],
}

/// The JSON array of the lenses, written straight from them: no `CodeLens`, no
/// `Value` per argument (a request file's lenses are rebuilt after every edit).
fn write_json(found: &[Found], uri: &Uri, a: &Analysis, enc: PositionEncoding) -> Arc<[u8]> {
    let out: Vec<LensOut<'_>> = found
        .iter()
        .map(|f| {
            let (command, args) = command_of(f, uri);
            LensOut {
                range: convert::range(a, f.0.range, enc),
                command: CommandOut {
                    title: &f.0.title,
                    command,
                    arguments: [args],
                },
            }
        })
        .collect();
    let mut json = Vec::with_capacity(found.len() * 200);
    // Writing typed values into memory cannot fail.
    if serde_json::to_writer(&mut json, &out).is_err() {
        json = b"[]".to_vec();
    }
    Arc::from(json)
}

/// The lenses as `CodeLens`es (answered through tower-lsp: response documents).
fn to_proto(found: &[Found], uri: &Uri, a: &Analysis, enc: PositionEncoding) -> Vec<CodeLens> {
    found
        .iter()
        .map(|f| {
            let (command, args) = command_of(f, uri);
            CodeLens {
                range: convert::range(a, f.0.range, enc),
                command: Some(Command {
                    title: f.0.title.clone(),
                    command: command.to_string(),
                    arguments: Some(vec![
                        serde_json::to_value(&args).unwrap_or(serde_json::Value::Null),
                    ]),
                }),
                data: None,
            }
        })
        .collect()
}

pub async fn code_lens(server: &Server, uri: &Uri) -> Option<Vec<CodeLens>> {
    let doc = server.session.get(uri)?;
    let enc = server.session.encoding();
    if doc.is_response {
        return Some(to_proto(
            &found(server, &doc, None),
            uri,
            &doc.analysis,
            enc,
        ));
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
    let json = write_json(&found(server, &doc, Some(view)), uri, &doc.analysis, enc);
    lock().insert(uri.as_str().to_string(), (key, json.clone()));
    Some(server.splices.placeholder(json))
}

/// The lenses of a response document (`view: None`) or of a request file.
fn found(
    server: &Server,
    doc: &crate::lsp::session::Document,
    view: Option<crate::ide::EnvView>,
) -> Vec<Found> {
    let a = &doc.analysis;
    if doc.is_response {
        let origin = responses::origin_of(server, doc);
        let has_previous = doc
            .path
            .as_deref()
            .and_then(responses::previous_of)
            .is_some();
        lenses::response_lenses(origin.is_some(), has_previous)
            .into_iter()
            .map(|l| (l, origin.clone()))
            .collect()
    } else {
        let view = view.unwrap_or_default();
        let now = chrono::Utc::now().timestamp();
        lenses::request_lenses(a, view.selected.as_deref(), &|id| view.profile(id), now)
            .into_iter()
            .map(|l| (l, None))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kept lenses are written directly; they must be the very bytes tower-lsp writes
    /// for the same lenses as `CodeLens`es (which `stdio`'s tests check `to_json`
    /// against), for every kind of lens.
    #[test]
    fn written_json_equals_the_code_lens_serialization() {
        let text = "GET http://h/a\n\n### é \"x\"\nPOST http://h/b\n".to_string();
        let a = Analysis::new(text);
        let uri: Uri = "file:///tmp/a%20b/r%C3%A9.http".parse().unwrap();
        let origin: Uri = "file:///tmp/o.http".parse().unwrap();
        let lens = |start: usize, title: &str, action| Lens {
            range: crate::text::TextRange::new(start, start + 3),
            title: title.into(),
            action,
        };
        let found: Vec<Found> = vec![
            (lens(0, "env: dev", LensAction::SelectEnvironment), None),
            (lens(0, "Send request", LensAction::Send { line: 0 }), None),
            (
                lens(
                    16,
                    "p: sign in \"é\" \\ \u{1}",
                    LensAction::SignIn {
                        profile: "p\"q".into(),
                    },
                ),
                None,
            ),
            (
                lens(
                    16,
                    "p: signed in",
                    LensAction::SignOut {
                        profile: "p".into(),
                    },
                ),
                None,
            ),
            (
                lens(20, "Send again", LensAction::SendAgain),
                Some((origin.clone(), 7)),
            ),
            (lens(20, "Send again", LensAction::SendAgain), None),
            (lens(20, "Open request", LensAction::OpenRequest), None),
            (
                lens(20, "Compare with previous", LensAction::CompareWithPrevious),
                None,
            ),
        ];
        for enc in [PositionEncoding::Utf8, PositionEncoding::Utf16] {
            let written = write_json(&found, &uri, &a, enc);
            let proto = to_proto(&found, &uri, &a, enc);
            let through_value =
                serde_json::to_string(&serde_json::to_value(&proto).unwrap()).unwrap();
            assert_eq!(std::str::from_utf8(&written).unwrap(), through_value);
            assert_eq!(written, to_json(&proto));
        }
    }
}
