//! The stdio transport, hardened. tower-lsp-server treats the first undecodable frame
//! (bad JSON, JSON that is no JSON-RPC message, a missing or non-numeric
//! `Content-Length`) as the end of input and stops the whole session. So frames are
//! checked before tower-lsp sees them: a bad one is answered here with the JSON-RPC
//! error (-32700 parse error, -32600 invalid request) and dropped, and the session
//! goes on. The answers are merged into stdout between the server's own frames. End of
//! input is reported, so the server can stop promptly even with work in flight.
//!
//! On the way out, big answers kept as JSON bytes skip tower-lsp's serialization: a
//! handler registers the bytes in [`Splices`] and returns a one-lens placeholder
//! naming them ([`Splices::placeholder`]); [`merge_output`] writes the bytes in the
//! placeholder's place. tower-lsp would otherwise turn every answer into a
//! `serde_json::Value` and then into text: for the 10,001 lenses of a 10,000-request
//! file, 2 MB of JSON rebuilt on every ask.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower_lsp_server::ls_types::{CodeLens, Command};

/// Frames larger than this are read and thrown away without being buffered.
const MAX_FRAME: usize = 64 * 1024 * 1024;

/// The command of a placeholder lens: never a real command (not in `ext::COMMANDS`),
/// never seen by a client.
pub const SPLICE_COMMAND: &str = "httplens.internal.splice";

/// Server frames up to this size are checked for a placeholder (one is ~150 bytes).
const MAX_PLACEHOLDER: usize = 512;

/// Registered answers not yet written, oldest first. An entry is taken when its
/// placeholder goes out; the bound only matters if a placeholder never does (a
/// request cancelled between registering and answering), so memory cannot grow.
const MAX_PENDING_SPLICES: usize = 16;

/// JSON answers waiting for their placeholder to reach [`merge_output`].
#[derive(Debug, Default)]
pub struct Splices {
    next: AtomicU64,
    pending: Mutex<VecDeque<(u64, Arc<[u8]>)>>,
}

impl Splices {
    /// Registers `json` (a whole JSON value: the `result` of an answer) and returns
    /// the placeholder result a handler answers with instead.
    pub fn placeholder(&self, json: Arc<[u8]>) -> Vec<CodeLens> {
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            if pending.len() >= MAX_PENDING_SPLICES {
                pending.pop_front();
            }
            pending.push_back((key, json));
        }
        vec![CodeLens {
            range: Default::default(),
            command: Some(Command {
                title: String::new(),
                command: SPLICE_COMMAND.to_string(),
                arguments: Some(vec![serde_json::Value::from(key)]),
            }),
            data: None,
        }]
    }

    fn take(&self, key: u64) -> Option<Arc<[u8]>> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let at = pending.iter().position(|(k, _)| *k == key)?;
        pending.remove(at).map(|(_, json)| json)
    }
}

/// Copies well-formed frames from `input` to `output` until `input` ends, then cancels
/// `closed`. Malformed frames are skipped; those with a body get an error answer
/// through `answers` (a JSON-RPC message body, framed by [`merge_output`]).
pub async fn filter_frames<R, W>(
    input: R,
    mut output: W,
    answers: mpsc::UnboundedSender<Vec<u8>>,
    closed: CancellationToken,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let mut line = String::new();
    'frames: loop {
        // Headers up to an empty line.
        let mut length: Option<usize> = None;
        let mut bad_header = false;
        let mut saw_header = false;
        loop {
            line.clear();
            match input.read_line(&mut line).await {
                Ok(0) | Err(_) => break 'frames,
                Ok(_) => {}
            }
            let l = line.trim_end_matches(['\r', '\n']);
            if l.is_empty() {
                if saw_header {
                    break;
                }
                continue; // stray blank line between frames
            }
            saw_header = true;
            // Bytes left over from a frame whose Content-Length was too short run into
            // the next header: resynchronise on the header name.
            let l = match l.to_ascii_lowercase().find("content-length:") {
                Some(at) if at > 0 => &l[at..],
                _ => l,
            };
            match l.split_once(':') {
                Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                    match value.trim().parse::<usize>() {
                        Ok(n) => length = Some(n),
                        Err(_) => bad_header = true,
                    }
                }
                Some(_) => {} // Content-Type and friends
                None => bad_header = true,
            }
        }
        let Some(n) = length.filter(|_| !bad_header) else {
            tracing::warn!("dropped a message with a missing or malformed Content-Length header");
            continue;
        };
        if n > MAX_FRAME {
            tracing::warn!("dropped a {n}-byte message (over {MAX_FRAME} bytes)");
            let mut rest = (&mut input).take(n as u64);
            if tokio::io::copy(&mut rest, &mut tokio::io::sink())
                .await
                .is_err()
            {
                break;
            }
            continue;
        }
        let mut body = vec![0u8; n];
        if input.read_exact(&mut body).await.is_err() {
            break;
        }
        if let Err((code, message, id)) = check_message(&body) {
            tracing::warn!("dropped an invalid message ({n} bytes): {message}");
            let answer = serde_json::json!({
                "jsonrpc": "2.0",
                "id": id,
                "error": {"code": code, "message": message},
            });
            let _ = answers.send(answer.to_string().into_bytes());
            continue;
        }
        let header = format!("Content-Length: {n}\r\n\r\n");
        if output.write_all(header.as_bytes()).await.is_err()
            || output.write_all(&body).await.is_err()
            || output.flush().await.is_err()
        {
            break;
        }
    }
    let _ = output.shutdown().await;
    closed.cancel();
}

/// Is `body` a JSON-RPC message tower-lsp can decode? Else the error code, message
/// and the id to answer with.
fn check_message(body: &[u8]) -> Result<(), (i64, &'static str, serde_json::Value)> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
        (
            -32700,
            "Parse error: the message is not valid JSON",
            serde_json::Value::Null,
        )
    })?;
    let id = v.get("id").cloned().unwrap_or(serde_json::Value::Null);
    let ok = v.is_object()
        && v.get("jsonrpc").and_then(|j| j.as_str()) == Some("2.0")
        && (v.get("method").is_some_and(|m| m.is_string())
            || (v.get("id").is_some() && (v.get("result").is_some() || v.get("error").is_some())))
        && v.get("id")
            .is_none_or(|i| i.is_string() || i.is_i64() || i.is_u64() || i.is_null());
    if ok {
        Ok(())
    } else {
        Err((-32600, "Invalid Request: not a JSON-RPC 2.0 message", id))
    }
}

/// Writes the server's frames (read from `from_server`) and the filter's answers to
/// `stdout`, each frame whole (one lock around each write), until the server's side
/// ends. A placeholder answer is replaced by its registered JSON (see [`Splices`]).
pub async fn merge_output<R, W>(
    from_server: R,
    mut answers: mpsc::UnboundedReceiver<Vec<u8>>,
    stdout: W,
    splices: Arc<Splices>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let stdout = std::sync::Arc::new(tokio::sync::Mutex::new(stdout));
    let answer_out = stdout.clone();
    let answering = tokio::spawn(async move {
        while let Some(body) = answers.recv().await {
            let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
            frame.extend_from_slice(&body);
            let mut out = answer_out.lock().await;
            if out.write_all(&frame).await.is_err() || out.flush().await.is_err() {
                break;
            }
        }
    });
    let mut from_server = BufReader::with_capacity(64 * 1024, from_server);
    while let Some((frame, body_at)) = read_frame(&mut from_server).await {
        let spliced = splice(&frame[body_at..], &splices);
        let mut out = stdout.lock().await;
        let written = match &spliced {
            Some(s) => s.write_to(&mut *out).await,
            None => out.write_all(&frame).await,
        };
        if written.is_err() || out.flush().await.is_err() {
            break;
        }
    }
    answering.abort();
}

/// If `body` is a placeholder answer whose JSON is registered: the frame to write
/// instead, in pieces (header and envelope around the shared JSON, never copied). The
/// envelope is the one tower-lsp writes (`jsonrpc`, `result`, `id`, no spaces), so a
/// client sees the very bytes it would have seen without the splice.
fn splice(body: &[u8], splices: &Splices) -> Option<Spliced> {
    const MARKER: &[u8] = SPLICE_COMMAND.as_bytes();
    if body.len() > MAX_PLACEHOLDER || !body.windows(MARKER.len()).any(|w| w == MARKER) {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let msg = v.as_object()?;
    // Exactly an answer (no `method`, no `error`) whose result is one placeholder lens.
    if msg.len() != 3 || msg.get("jsonrpc")?.as_str()? != "2.0" {
        return None;
    }
    let id = msg.get("id")?;
    if !(id.is_i64() || id.is_u64() || id.is_string()) {
        return None;
    }
    let [lens] = msg.get("result")?.as_array()?.as_slice() else {
        return None;
    };
    let command = lens.get("command")?;
    if command.get("command")?.as_str()? != SPLICE_COMMAND || command.get("title")? != "" {
        return None;
    }
    let [key] = command.get("arguments")?.as_array()?.as_slice() else {
        return None;
    };
    let Some(json) = splices.take(key.as_u64()?) else {
        tracing::error!("an answer's registered JSON is gone; answering with no lenses");
        let body = format!(r#"{{"jsonrpc":"2.0","result":null,"id":{id}}}"#).into_bytes();
        let header = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        return Some(Spliced {
            start: header,
            json: Arc::from(body),
            tail: Vec::new(),
        });
    };
    let head = br#"{"jsonrpc":"2.0","result":"#.to_vec();
    let tail = format!(r#","id":{id}}}"#).into_bytes();
    let len = head.len() + json.len() + tail.len();
    let mut start = format!("Content-Length: {len}\r\n\r\n").into_bytes();
    start.extend_from_slice(&head);
    Some(Spliced { start, json, tail })
}

/// A frame in three pieces: header and start of the envelope, the shared JSON, the end.
struct Spliced {
    start: Vec<u8>,
    json: Arc<[u8]>,
    tail: Vec<u8>,
}

impl Spliced {
    async fn write_to<W: AsyncWrite + Unpin>(&self, out: &mut W) -> std::io::Result<()> {
        out.write_all(&self.start).await?;
        out.write_all(&self.json).await?;
        out.write_all(&self.tail).await
    }

    #[cfg(test)]
    fn bytes(&self) -> Vec<u8> {
        [&self.start[..], &self.json[..], &self.tail[..]].concat()
    }
}

/// One whole frame (headers and body) as written by tower-lsp, and where its body
/// starts; `None` at the end.
async fn read_frame<R: AsyncBufReadExt + Unpin>(r: &mut R) -> Option<(Vec<u8>, usize)> {
    let mut frame = Vec::new();
    let mut length = None;
    loop {
        let start = frame.len();
        let n = r.read_until(b'\n', &mut frame).await.ok()?;
        if n == 0 {
            return None;
        }
        let line = String::from_utf8_lossy(&frame[start..]);
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let n = length?;
    let start = frame.len();
    frame.resize(start + n, 0);
    r.read_exact(&mut frame[start..]).await.ok()?;
    Some((frame, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run(input: &[u8]) -> (String, bool, Vec<i64>) {
        let (w, mut r) = tokio::io::duplex(1 << 20);
        let closed = CancellationToken::new();
        let (tx, mut rx) = mpsc::unbounded_channel();
        filter_frames(input, w, tx, closed.clone()).await;
        let mut out = String::new();
        r.read_to_string(&mut out).await.unwrap();
        let mut codes = Vec::new();
        while let Ok(a) = rx.try_recv() {
            let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
            codes.push(v["error"]["code"].as_i64().unwrap());
        }
        (out, closed.is_cancelled(), codes)
    }

    #[tokio::test]
    async fn good_frames_pass_bad_ones_are_dropped() {
        let input = b"Content-Length: 2\r\n\r\n{}\
Content-Length: 7\r\n\r\n[1,2,3]\
Content-Length: 5\r\n\r\n{oops\
Content-Length: abc\r\n\r\n\
Content-Type: x\r\nContent-Length: 30\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"x\"}";
        let (out, closed, codes) = run(input).await;
        assert_eq!(codes, [-32600, -32600, -32700], "answers to the bad frames");
        assert_eq!(
            out,
            "Content-Length: 30\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"x\"}"
        );
        assert!(closed, "end of input is reported");
    }

    #[tokio::test]
    async fn a_huge_announced_length_is_not_buffered() {
        let (out, closed, _) = run(b"Content-Length: 1000000000000\r\n\r\n{}").await;
        assert_eq!(out, "");
        assert!(closed);
    }

    /// What tower-lsp writes for a successful answer: its own serialization.
    fn tower_frame(id: tower_lsp_server::jsonrpc::Id, result: serde_json::Value) -> Vec<u8> {
        let body = serde_json::to_string(&tower_lsp_server::jsonrpc::Response::from_ok(id, result))
            .unwrap();
        format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    fn some_lenses() -> Vec<CodeLens> {
        let uri: tower_lsp_server::ls_types::Uri = "file:///tmp/a%20b/api.http".parse().unwrap();
        (0..3)
            .map(|i| CodeLens {
                range: tower_lsp_server::ls_types::Range::new(
                    tower_lsp_server::ls_types::Position::new(i, 0),
                    tower_lsp_server::ls_types::Position::new(i, 7),
                ),
                command: Some(Command {
                    title: format!("Send \"r{i}\" ▶ {}", SPLICE_COMMAND),
                    command: "httplens.send".into(),
                    arguments: Some(vec![serde_json::json!({"uri": uri, "line": i})]),
                }),
                data: None,
            })
            .collect()
    }

    async fn merged(frames: &[Vec<u8>], splices: Arc<Splices>) -> Vec<u8> {
        let input: Vec<u8> = frames.concat();
        let (_tx, rx) = mpsc::unbounded_channel();
        let (w, mut r) = tokio::io::duplex(1 << 20);
        merge_output(&input[..], rx, w, splices).await;
        let mut out = Vec::new();
        r.read_to_end(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn a_placeholder_becomes_the_registered_json_byte_for_byte() {
        use tower_lsp_server::jsonrpc::Id;
        let lenses = some_lenses();
        let splices = Arc::new(Splices::default());
        let json = crate::lsp::handlers::lenses::to_json(&lenses);
        let placeholder = splices.placeholder(json);
        let placeholder = serde_json::to_value(&placeholder).unwrap();
        // Other frames around it, one of them a hover whose text holds the marker.
        let hover = tower_frame(
            Id::Number(3),
            serde_json::json!({"contents": format!("see {SPLICE_COMMAND} [0]")}),
        );
        let note = br#"{"jsonrpc":"2.0","method":"x/y","params":{"a":1}}"#;
        let note = [
            format!("Content-Length: {}\r\n\r\n", note.len()).as_bytes(),
            note,
        ]
        .concat();
        let out = merged(
            &[
                hover.clone(),
                tower_frame(Id::Number(4), placeholder.clone()),
                note.clone(),
                tower_frame(Id::String("s\"1".into()), placeholder.clone()),
            ],
            splices.clone(),
        )
        .await;
        // What the client would have received without the splice.
        let real = serde_json::to_value(&lenses).unwrap();
        let expected = [
            hover,
            tower_frame(Id::Number(4), real),
            note,
            // The key was used: a second placeholder with it gets no lenses.
            tower_frame(Id::String("s\"1".into()), serde_json::Value::Null),
        ]
        .concat();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            String::from_utf8(expected).unwrap()
        );
        assert!(
            splices.pending.lock().unwrap().is_empty(),
            "the entry was removed"
        );
    }

    #[test]
    fn only_an_exact_placeholder_answer_is_spliced() {
        let splices = Splices::default();
        let placeholder = splices.placeholder(Arc::from(&b"[1]"[..]));
        let result = serde_json::to_value(&placeholder).unwrap();
        let key = result[0]["command"]["arguments"][0].clone();
        let answer = |result: serde_json::Value| {
            serde_json::to_vec(&serde_json::json!({"jsonrpc": "2.0", "result": result, "id": 1}))
                .unwrap()
        };
        // The marker in a string, in a notification, with extra members, with a title,
        // two lenses: all left alone.
        let lookalikes = [
            answer(
                serde_json::json!([{"command": {"title": "", "command": "x", "arguments": [SPLICE_COMMAND]}}]),
            ),
            serde_json::to_vec(
                &serde_json::json!({"jsonrpc": "2.0", "method": "m", "params": result}),
            )
            .unwrap(),
            serde_json::to_vec(
                &serde_json::json!({"jsonrpc": "2.0", "result": result, "id": 1, "x": 1}),
            )
            .unwrap(),
            answer(
                serde_json::json!([{"command": {"title": "t", "command": SPLICE_COMMAND, "arguments": [key]}}]),
            ),
            answer(serde_json::json!([result[0], result[0]])),
        ];
        for body in &lookalikes {
            assert!(
                splice(body, &splices).is_none(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // A placeholder whose key is unknown never reaches the client: no lenses instead.
        let unknown = answer(
            serde_json::json!([{"command": {"title": "", "command": SPLICE_COMMAND, "arguments": [key.as_u64().unwrap() + 1]}}]),
        );
        assert_eq!(
            splice(&unknown, &splices).expect("answered").bytes(),
            b"Content-Length: 38\r\n\r\n{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":1}"
        );
        let spliced = splice(&answer(result), &splices).expect("the real placeholder");
        assert_eq!(
            spliced.bytes(),
            b"Content-Length: 37\r\n\r\n{\"jsonrpc\":\"2.0\",\"result\":[1],\"id\":1}"
        );
    }

    #[test]
    fn unanswered_placeholders_do_not_pile_up() {
        let splices = Splices::default();
        for _ in 0..100 {
            splices.placeholder(Arc::from(&b"[]"[..]));
        }
        assert_eq!(splices.pending.lock().unwrap().len(), MAX_PENDING_SPLICES);
    }
}
