//! `textDocument/codeLens`: request lenses in request files, the way back in response
//! documents. The transport answers this request itself (`stdio`'s routing): it asks
//! [`code_lens`] and writes the [`KeptLenses`] it gets as the answer, piece by piece
//! (`stdio::Json`), never through tower-lsp's `serde_json::Value` and never held whole.
//! A request file's lenses are kept per document version and workspace state, so asking
//! again (editors do, on scroll and focus) costs writing their JSON.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
#[cfg(test)]
use tower_lsp_server::ls_types::{CodeLens, Command};
use tower_lsp_server::ls_types::{Range, Uri};

use crate::ide::lenses::{self, Lens, LensAction};
use crate::ide::{Analysis, EnvView, SignInView};
use crate::lsp::server::Server;
use crate::lsp::session::Document;
use crate::lsp::{convert, env_state, ext, responses, stdio};
use crate::text::PositionEncoding;

/// What a request file's lenses were computed from: the document version, the
/// workspace load (its generation), the profiles' states and, when a lens shows a time
/// left, the second it was computed at.
#[derive(Debug, PartialEq)]
pub struct LensKey {
    version: i32,
    workspace: u64,
    profiles: Vec<SignInView>,
    now: i64,
}

/// The last lenses per document URI.
pub type LensCache = Mutex<HashMap<String, (LensKey, Arc<KeptLenses>)>>;

/// The lenses as the JSON array tower-lsp would write for them, without the
/// `serde_json::Value` in between: the reference the direct writer is tested against
/// (and `stdio`'s tests check it against tower-lsp's own serialization).
#[cfg(test)]
pub fn to_json(lenses: &[CodeLens]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lenses.len() * 200);
    // Writing typed values into memory cannot fail.
    if serde_json::to_writer(&mut out, lenses).is_err() {
        out = b"[]".to_vec();
    }
    out
}

/// A lens as found by `ide`, with the origin of a response document.
type Found = (Lens, Option<(Uri, u32)>);

/// The one argument of a lens's command: the command's own struct (`ext.rs`), which
/// `commands.rs` reads back. Both ways out are built from it: the JSON written directly
/// for kept lenses ([`KeptLenses`]) and, in tests, a `CodeLens` (its `Value` keeps these
/// fields in this order), so the two cannot drift apart.
#[derive(Serialize)]
#[serde(untagged)]
enum Args<'a> {
    Send(ext::SendArgs<'a>),
    Profile(ext::ProfileArgs<'a>),
    SelectEnvironment(ext::SelectEnvironmentArgs<'a>),
    Response(ext::ResponseArgs<'a>),
}

/// The command and argument of a lens of `uri` at `version` (`None`: a response
/// document, whose lenses act on other documents or none).
fn command_of<'a>(
    (lens, origin): &'a Found,
    uri: &'a Uri,
    version: Option<i32>,
) -> (&'static str, Args<'a>) {
    let profile = |profile: &'a str| {
        Args::Profile(ext::ProfileArgs {
            profile: Cow::Borrowed(profile),
            uri: Cow::Borrowed(uri),
        })
    };
    let response = || {
        Args::Response(ext::ResponseArgs {
            response_uri: Cow::Borrowed(uri),
        })
    };
    match &lens.action {
        LensAction::Send { line } => (
            ext::SEND,
            Args::Send(ext::SendArgs {
                uri: Cow::Borrowed(uri),
                line: *line,
                version,
            }),
        ),
        LensAction::SignIn { profile: p } => (ext::SIGN_IN, profile(p)),
        LensAction::SignOut { profile: p } => (ext::SIGN_OUT, profile(p)),
        LensAction::SelectEnvironment => (
            ext::SELECT_ENVIRONMENT,
            Args::SelectEnvironment(ext::SelectEnvironmentArgs {
                uri: Cow::Borrowed(uri),
                name: None,
            }),
        ),
        // Offered only when the origin is known (else this sends the response document,
        // which has no request to send). The request file's version is not known here.
        LensAction::SendAgain => (
            ext::SEND,
            Args::Send(ext::SendArgs {
                uri: Cow::Borrowed(origin.as_ref().map_or(uri, |(u, _)| u)),
                line: origin.as_ref().map_or(0, |(_, l)| *l),
                version: None,
            }),
        ),
        LensAction::OpenRequest => (ext::OPEN_REQUEST, response()),
        LensAction::CompareWithPrevious => (ext::COMPARE_WITH_PREVIOUS, response()),
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

/// A request file's lenses between asks (and a response document's, for one ask),
/// written as the JSON array a client receives on each ask (`stdio::Json`): a `Send
/// request` lens is its range and line (20 bytes, where its JSON is ~200), any other lens
/// its JSON. For 10,000 requests: 0.2 MB kept instead of 2 MB, and no 2 MB answer built
/// whole.
pub struct KeptLenses {
    uri: Uri,
    /// The document version the lenses were made for (`None`: a response document).
    version: Option<i32>,
    lenses: Vec<Kept>,
    /// The length of the JSON array.
    len: usize,
}

enum Kept {
    Send { range: Range, line: u32 },
    Json(Box<[u8]>),
}

const SEND_TITLE: &str = "Send request";

impl KeptLenses {
    fn new(
        found: &[Found],
        uri: &Uri,
        version: Option<i32>,
        a: &Analysis,
        enc: PositionEncoding,
    ) -> KeptLenses {
        let mut scratch = Vec::new();
        let lenses = found
            .iter()
            .map(|f| match f {
                (
                    Lens {
                        range,
                        title,
                        action: LensAction::Send { line },
                    },
                    None,
                ) if title == SEND_TITLE => Kept::Send {
                    range: convert::range(a, *range, enc),
                    line: *line,
                },
                _ => {
                    scratch.clear();
                    let (command, args) = command_of(f, uri, version);
                    write_lens(
                        &mut scratch,
                        convert::range(a, f.0.range, enc),
                        &f.0.title,
                        command,
                        args,
                    );
                    Kept::Json(scratch.as_slice().into())
                }
            })
            .collect();
        let mut kept = KeptLenses {
            uri: uri.clone(),
            version,
            lenses,
            len: 0,
        };
        // The frame's length goes out before the JSON: counted without writing it. A
        // `Send` lens is the JSON of one with every number 0 (but the version, the same
        // in all), plus the digits its numbers have beyond one each (serde_json writes
        // integers plainly).
        scratch.clear();
        let zero = Range::default();
        kept.write_send(&mut scratch, zero, 0);
        let send_zero = scratch.len();
        let lens_bytes: usize = kept
            .lenses
            .iter()
            .map(|k| match k {
                Kept::Send { range, line } => {
                    let numbers = [
                        range.start.line,
                        range.start.character,
                        range.end.line,
                        range.end.character,
                        *line,
                    ];
                    send_zero + numbers.iter().map(|&n| digits(n) - 1).sum::<usize>()
                }
                Kept::Json(json) => json.len(),
            })
            .sum();
        // `[`, a `,` between lenses, `]`; `[]` for none.
        kept.len = lens_bytes + kept.lenses.len().max(1) + 1;
        kept
    }

    fn write_send(&self, out: &mut Vec<u8>, range: Range, line: u32) {
        let args = Args::Send(ext::SendArgs {
            uri: Cow::Borrowed(&self.uri),
            line,
            version: self.version,
        });
        write_lens(out, range, SEND_TITLE, ext::SEND, args);
    }
}

/// How many decimal digits `n` is written with.
fn digits(n: u32) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

impl stdio::Json for KeptLenses {
    fn len(&self) -> usize {
        self.len
    }
    fn items(&self) -> usize {
        self.lenses.len().max(1)
    }
    fn write_item(&self, i: usize, out: &mut Vec<u8>) {
        if self.lenses.is_empty() {
            out.extend_from_slice(b"[]");
            return;
        }
        out.push(if i == 0 { b'[' } else { b',' });
        match &self.lenses[i] {
            Kept::Send { range, line } => self.write_send(out, *range, *line),
            Kept::Json(json) => out.extend_from_slice(json),
        }
        if i + 1 == self.lenses.len() {
            out.push(b']');
        }
    }
}

/// One lens's JSON as tower-lsp writes a `CodeLens`, straight from its parts: no
/// `CodeLens`, no `Value` per argument.
fn write_lens(out: &mut Vec<u8>, range: Range, title: &str, command: &'static str, args: Args<'_>) {
    let lens = LensOut {
        range,
        command: CommandOut {
            title,
            command,
            arguments: [args],
        },
    };
    // Writing typed values into memory cannot fail.
    if serde_json::to_writer(&mut *out, &lens).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// The lenses as `CodeLens`es: what the answer would be through tower-lsp, the
/// reference the written JSON is tested against.
#[cfg(test)]
fn to_proto(
    found: &[Found],
    uri: &Uri,
    version: Option<i32>,
    a: &Analysis,
    enc: PositionEncoding,
) -> Vec<CodeLens> {
    found
        .iter()
        .map(|f| {
            let (command, args) = command_of(f, uri, version);
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

/// The lenses of `uri` (`None` when it is not open: the answer is `null`), as of the
/// document version current when this is first polled: the transport starts it in the
/// order the request came, after the edits before it.
pub async fn code_lens(server: &Server, uri: &Uri) -> Option<Arc<KeptLenses>> {
    let doc = server.session.get(uri)?;
    let enc = server.session.encoding();
    if doc.is_response {
        let found = found(server, &doc, None);
        return Some(Arc::new(KeptLenses::new(
            &found,
            uri,
            None,
            &doc.analysis,
            enc,
        )));
    }
    let cached = env_state::cached(server, &doc);
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
    if let Some((k, kept)) = lock().get(uri.as_str())
        && *k == key
    {
        return Some(kept.clone());
    }
    let view = match &cached {
        Some(c) => {
            let mut v = c.view.clone();
            v.profiles = key.profiles.clone();
            v
        }
        None => env_state::env_view(server, &doc),
    };
    let kept = Arc::new(KeptLenses::new(
        &found(server, &doc, Some(view)),
        uri,
        Some(doc.version),
        &doc.analysis,
        enc,
    ));
    lock().insert(uri.as_str().to_string(), (key, kept.clone()));
    Some(kept)
}

/// The lenses of a response document (`view: None`) or of a request file.
fn found(server: &Server, doc: &Document, view: Option<EnvView>) -> Vec<Found> {
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
    use crate::lsp::stdio::Json;
    use crate::text::TextRange;

    #[test]
    fn digits_of_numbers() {
        for (n, d) in [(0, 1), (9, 1), (10, 2), (99, 2), (100, 3), (u32::MAX, 10)] {
            assert_eq!(digits(n), d, "{n}");
            assert_eq!(digits(n), n.to_string().len());
        }
    }

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
            range: TextRange::new(start, start + 3),
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
            (lens(20, "Send request", LensAction::Send { line: 2 }), None),
            (
                lens(20, "Send request", LensAction::Send { line: 1_000_009 }),
                None,
            ),
        ];
        let encodings = [PositionEncoding::Utf8, PositionEncoding::Utf16];
        let versions = [None, Some(7), Some(1_000_003)];
        let cases = encodings.iter().flat_map(|&e| versions.map(|v| (e, v)));
        for (enc, version) in cases {
            let proto = to_proto(&found, &uri, version, &a, enc);
            let through_value =
                serde_json::to_string(&serde_json::to_value(&proto).unwrap()).unwrap();
            assert_eq!(to_json(&proto), through_value.as_bytes());
            // Every prefix of the list too: one lens, none, the last one a `Send`.
            for n in 0..=found.len() {
                let kept = KeptLenses::new(&found[..n], &uri, version, &a, enc);
                let mut written = Vec::new();
                for i in 0..Json::items(&kept) {
                    kept.write_item(i, &mut written);
                }
                let expected = to_json(&to_proto(&found[..n], &uri, version, &a, enc));
                assert_eq!(
                    std::str::from_utf8(&written).unwrap(),
                    std::str::from_utf8(&expected).unwrap()
                );
                assert_eq!(Json::len(&kept), written.len(), "the announced length");
            }
        }
        // A request file's `Send request` lens names the version it was made for, and
        // reads back as the command's own argument.
        let kept = KeptLenses::new(&found[1..2], &uri, Some(42), &a, PositionEncoding::Utf8);
        let mut written = Vec::new();
        kept.write_item(0, &mut written);
        let lenses: serde_json::Value = serde_json::from_slice(&written).unwrap();
        let args: ext::SendArgs<'_> =
            serde_json::from_value(lenses[0]["command"]["arguments"][0].clone()).unwrap();
        assert_eq!(
            (args.uri.as_ref(), args.line, args.version),
            (&uri, 0, Some(42))
        );
    }
}
