//! The stdio transport, in place of tower-lsp-server's own ([`serve`]): that one treats
//! the first undecodable frame (bad JSON, JSON that is no JSON-RPC message, a missing
//! or non-numeric `Content-Length`) as the end of input and stops the whole session,
//! and its codec keeps a buffer as big as the biggest message. Here frames are read and
//! checked, then handed to tower-lsp's service: a bad one is answered with the JSON-RPC
//! error (-32700 parse error, -32600 invalid request) and dropped, and the session goes
//! on; header lines are bytes of at most 8 KiB (not UTF-8 or longer: the frame is
//! dropped), and a frame over 64 MiB is skipped, answered by its `id` when one is near
//! its start. Every read and write goes in pieces of at most 64 KiB. End of input is
//! reported, so the server can stop promptly even with work in flight. Frames to write
//! wait in a channel of 16 (a client that does not read holds answers back), and when
//! writing fails the session ends.
//!
//! On the way out, big answers skip tower-lsp's serialization: a handler registers a
//! [`Json`] (what writes the answer, piece by piece) in [`Splices`] and returns a
//! one-lens placeholder naming it ([`Splices::placeholder`]); the writer writes the
//! JSON in the placeholder's place. tower-lsp would otherwise turn every answer into a
//! `serde_json::Value` and then into text: for the 10,001 lenses of a 10,000-request
//! file, 2 MB of JSON built whole on every ask.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt, future, stream};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower_lsp_server::ClientSocket;
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_lsp_server::ls_types::{CodeLens, Command};
use tower_service::Service;

/// Frames larger than this are read and thrown away without being buffered (one with
/// an `id` near its start is answered with an error).
const MAX_FRAME: usize = 64 * 1024 * 1024;

/// A header line longer than this is a bad header (its bytes are not kept).
const MAX_HEADER_LINE: usize = 8 * 1024;

/// Frames waiting for the writer: beyond this, whoever sends waits (a client that does
/// not read its input holds the server's answers back instead of piling them up).
const OUTPUT_FRAMES: usize = 16;

/// The command of a placeholder lens: never a real command (not in `ext::COMMANDS`),
/// never seen by a client.
pub const SPLICE_COMMAND: &str = "httplens.internal.splice";

/// Server frames up to this size are checked for a placeholder (one is ~150 bytes).
const MAX_PLACEHOLDER: usize = 512;

/// Registered answers not yet written, oldest first. An entry is taken when its
/// placeholder goes out; the bound only matters if a placeholder never does (a
/// request cancelled between registering and answering), so memory cannot grow.
const MAX_PENDING_SPLICES: usize = 16;

/// A JSON value the writer writes in pieces (items), so that it is never held whole:
/// kept lenses are written from their compact form on each ask.
pub trait Json: Send + Sync {
    /// The length in bytes of the whole JSON (the frame's `Content-Length` counts it
    /// before it is written: it must be exact).
    fn len(&self) -> usize;
    /// How many items it is written in (at least one).
    fn items(&self) -> usize;
    /// Appends item `i` (of `0..items()`) to `out`; the items in order are the JSON.
    fn write_item(&self, i: usize, out: &mut Vec<u8>);
}

/// JSON already written.
impl Json for Vec<u8> {
    fn len(&self) -> usize {
        self.len()
    }
    fn items(&self) -> usize {
        self.len().div_ceil(PIECE).max(1)
    }
    fn write_item(&self, i: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(self.chunks(PIECE).nth(i).unwrap_or_default());
    }
}

/// JSON answers waiting for their placeholder to reach the writer.
#[derive(Default)]
pub struct Splices {
    next: AtomicU64,
    pending: Mutex<VecDeque<(u64, Arc<dyn Json>)>>,
}

impl std::fmt::Debug for Splices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pending = self.pending.lock().map_or(0, |p| p.len());
        f.debug_struct("Splices")
            .field("pending", &pending)
            .finish()
    }
}

impl Splices {
    /// Registers `json` (a whole JSON value: the `result` of an answer) and returns
    /// the placeholder result a handler answers with instead.
    pub fn placeholder(&self, json: Arc<dyn Json>) -> Vec<CodeLens> {
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

    fn take(&self, key: u64) -> Option<Arc<dyn Json>> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let at = pending.iter().position(|(k, _)| *k == key)?;
        pending.remove(at).map(|(_, json)| json)
    }
}

/// Handlers running at once: sends wait on the network, so allow many, so that a few
/// hanging ones never hold up lenses, hovers or the `$/cancelRequest` that would stop
/// them.
const CONCURRENCY: usize = 64;

/// Messages read but not yet started wait here (then reading waits).
const QUEUE: usize = 100;

/// Reads and writes go in pieces of at most this size: tokio's stdin and stdout copy
/// each read or write through a buffer of their own that keeps its largest size, and a
/// 1.6 MB `didOpen` or a 2 MB lens answer would otherwise keep megabytes resident.
const PIECE: usize = 64 * 1024;

/// Where frames to write go (see [`write_output`]). Bounded: sending waits while the
/// writer is [`OUTPUT_FRAMES`] behind, and fails once the writer has stopped.
pub type Output = mpsc::Sender<Frame>;

/// Serves `service` on `input` and the channel of [`write_output`] until the input
/// ends, the client says `exit` or the output cannot be written, then until every
/// started handler is done. Cancels `closed` at the end of input and when writing
/// failed (either way the client is gone). What tower-lsp's own transport does, with three
/// differences: malformed frames are answered and skipped instead of ending the
/// session, placeholder answers are spliced ([`Splices`]), and no buffer keeps the
/// size of the largest message (tower-lsp's codec kept one as big as the biggest
/// `didOpen`).
pub async fn serve<R, S>(
    input: R,
    output: Output,
    mut service: S,
    socket: ClientSocket,
    splices: &Splices,
    closed: CancellationToken,
) where
    R: AsyncRead + Unpin,
    S: Service<Request, Response = Option<Response>>,
    S::Error: std::fmt::Display,
{
    let (client_requests, mut client_responses) = socket.split();
    let (client_requests, client_abort) = stream::abortable(client_requests);
    let (tasks_tx, tasks_rx) = mpsc::channel::<S::Future>(QUEUE);

    // Handlers run in one task, started in the order their messages came (tower-lsp
    // handlers apply edits before their first `.await`, which keeps edits in order).
    let run_tasks = async {
        stream::unfold(tasks_rx, |mut rx| async move {
            rx.recv().await.map(|f| (f, rx))
        })
        .buffer_unordered(CONCURRENCY)
        .for_each(|done| async {
            match done {
                Ok(Some(response)) => {
                    let _ = output.send(answer_frame(&response, splices)).await;
                }
                Ok(None) => {}
                Err(e) => tracing::error!("{e}"),
            }
        })
        .await;
        // Every handler is done: nothing more will ask the client anything.
        client_abort.abort();
    };
    let to_client = client_requests.for_each(|request| {
        let frame = Frame::message(&request);
        let output = &output;
        async move {
            if let Some(frame) = frame {
                let _ = output.send(frame).await;
            }
        }
    });
    let read_input = async {
        let mut frames = Frames::new(input);
        loop {
            let incoming = tokio::select! {
                incoming = frames.next() => incoming,
                // The writer stopped (stdout failed): nothing read from now on could be
                // answered, so the session ends here, as if the client had gone.
                () = output.closed() => {
                    tracing::error!("cannot write to the client any more: ending the session");
                    closed.cancel();
                    break;
                }
            };
            let Some(incoming) = incoming else { break };
            match incoming {
                Incoming::Request(request) => {
                    if let Err(e) = future::poll_fn(|cx| service.poll_ready(cx)).await {
                        tracing::error!("{e}");
                        break;
                    }
                    let exit = request.method() == "exit";
                    if tasks_tx.send(service.call(request)).await.is_err() || exit {
                        break;
                    }
                }
                Incoming::Response(response) => {
                    if client_responses.send(response).await.is_err() {
                        break;
                    }
                }
                Incoming::Invalid(body) => {
                    if output.send(Frame::plain(body)).await.is_err() {
                        closed.cancel();
                        break;
                    }
                }
            }
        }
        if frames.ended {
            closed.cancel();
        }
        drop(tasks_tx);
    };
    tokio::join!(run_tasks, to_client, read_input);
}

/// Reads one line (up to `\n`) into `line` without its terminator, keeping at most
/// [`MAX_HEADER_LINE`] bytes. `None` at the end of input; `Some(false)` when the line
/// was too long (its bytes are dropped).
async fn read_header_line<R: AsyncRead + Unpin>(
    input: &mut BufReader<R>,
    line: &mut Vec<u8>,
) -> Option<bool> {
    line.clear();
    let mut fits = true;
    let mut any = false;
    loop {
        let available = input.fill_buf().await.ok()?;
        if available.is_empty() {
            return any.then_some(fits);
        }
        any = true;
        let (take, done) = match memchr::memchr(b'\n', available) {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if fits && line.len() + take <= MAX_HEADER_LINE + 2 {
            line.extend_from_slice(&available[..take]);
        } else {
            fits = false;
            line.clear();
        }
        input.consume(take);
        if done {
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            return Some(fits);
        }
    }
}

/// The `id` of a JSON-RPC message from the first bytes of its body (an oversized
/// frame is not read whole): a number or string value of a top-level `"id"` key that
/// comes before the end of `head`.
fn id_near_start(head: &[u8]) -> Option<serde_json::Value> {
    let mut depth = 0usize;
    let mut i = 0;
    let mut last_key: Option<(usize, usize)> = None;
    while i < head.len() {
        match head[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < head.len() && head[i] != b'"' {
                    i += if head[i] == b'\\' { 2 } else { 1 };
                }
                let end = i.min(head.len());
                // A key when a `:` follows.
                let mut j = end + 1;
                while j < head.len() && head[j].is_ascii_whitespace() {
                    j += 1;
                }
                last_key = (depth == 1 && head.get(j) == Some(&b':')).then_some((start, end));
                if last_key.is_some() {
                    i = j;
                }
            }
            _ => {}
        }
        if let Some((ks, ke)) = last_key
            && &head[ks..ke] == b"id"
        {
            // The value after the `:`.
            let rest = &head[i + 1..];
            let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
            let mut de =
                serde_json::Deserializer::from_slice(rest).into_iter::<serde_json::Value>();
            return match de.next() {
                Some(Ok(v)) if v.is_string() || v.is_i64() || v.is_u64() => Some(v),
                _ => None,
            };
        }
        i += 1;
    }
    None
}

/// One frame read from the client.
enum Incoming {
    Request(Request),
    Response(Response),
    /// A malformed frame's error answer (a JSON-RPC message body).
    Invalid(Vec<u8>),
}

/// The frames of the client's input, each checked (see the module comment).
struct Frames<R> {
    input: BufReader<R>,
    line: Vec<u8>,
    /// The input ended (or failed).
    ended: bool,
}

impl<R: AsyncRead + Unpin> Frames<R> {
    fn new(input: R) -> Self {
        Frames {
            input: BufReader::with_capacity(PIECE, input),
            line: Vec::new(),
            ended: false,
        }
    }

    /// The next frame with a body; `None` at the end of input.
    async fn next(&mut self) -> Option<Incoming> {
        let next = self.read().await;
        self.ended = next.is_none();
        next
    }

    async fn read(&mut self) -> Option<Incoming> {
        let input = &mut self.input;
        let raw = &mut self.line;
        loop {
            // Headers up to an empty line.
            let mut length: Option<usize> = None;
            let mut bad_header = false;
            let mut saw_header = false;
            loop {
                let fits = read_header_line(input, raw).await?;
                // A line too long, or not UTF-8: a bad header (the frame is dropped,
                // the session goes on).
                let Some(l) = fits.then(|| std::str::from_utf8(raw).ok()).flatten() else {
                    saw_header = true;
                    bad_header = true;
                    continue;
                };
                if l.is_empty() {
                    if saw_header {
                        break;
                    }
                    continue; // stray blank line between frames
                }
                saw_header = true;
                // Bytes left over from a frame whose Content-Length was too short run
                // into the next header: resynchronise on the header name.
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
            let Some(n) = length else {
                tracing::warn!(
                    "dropped a message with a missing or malformed Content-Length header"
                );
                continue;
            };
            if bad_header {
                // The length is known: skip exactly this frame's body.
                tracing::warn!("dropped a {n}-byte message with a malformed header");
                let mut rest = (&mut *input).take(n as u64);
                tokio::io::copy(&mut rest, &mut tokio::io::sink())
                    .await
                    .ok()?;
                continue;
            }
            if n > MAX_FRAME {
                tracing::warn!("dropped a {n}-byte message (over {MAX_FRAME} bytes)");
                // Its start, to answer a request by its id.
                let mut head = vec![0u8; 4096.min(n)];
                input.read_exact(&mut head).await.ok()?;
                let mut rest = (&mut *input).take((n - head.len()) as u64);
                let id = id_near_start(&head);
                let answer = id.map(|id| {
                    serde_json::json!({
                        "jsonrpc": "2.0",
                        "id": id,
                        "error": {
                            "code": -32600,
                            "message": format!("Invalid Request: the message is {n} bytes, over the limit of {MAX_FRAME} bytes"),
                        },
                    })
                });
                tokio::io::copy(&mut rest, &mut tokio::io::sink())
                    .await
                    .ok()?;
                match answer {
                    Some(a) => return Some(Incoming::Invalid(a.to_string().into_bytes())),
                    None => continue,
                }
            }
            let mut body = vec![0u8; n];
            for piece in body.chunks_mut(PIECE) {
                input.read_exact(piece).await.ok()?;
            }
            return Some(decode(&body));
        }
    }
}

/// The message in `body`, or the error answer to a malformed one.
fn decode(body: &[u8]) -> Incoming {
    let message = check_message(body).and_then(|v| {
        let id = v.get("id").cloned().unwrap_or_default();
        let message = if v.get("method").is_some() {
            serde_json::from_value(v).map(Incoming::Request)
        } else {
            serde_json::from_value(v).map(Incoming::Response)
        };
        message.map_err(|_| (-32600, INVALID, id))
    });
    message.unwrap_or_else(|(code, message, id)| {
        tracing::warn!(
            "dropped an invalid message ({} bytes): {message}",
            body.len()
        );
        let answer = serde_json::json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": code, "message": message},
        });
        Incoming::Invalid(answer.to_string().into_bytes())
    })
}

const INVALID: &str = "Invalid Request: not a JSON-RPC 2.0 message";

/// The JSON of `body` if it is a JSON-RPC message; else the error code, message and
/// the id to answer with.
#[allow(clippy::result_large_err)]
fn check_message(body: &[u8]) -> Result<serde_json::Value, (i64, &'static str, serde_json::Value)> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
        (
            -32700,
            "Parse error: the message is not valid JSON",
            serde_json::Value::Null,
        )
    })?;
    let ok = v.is_object()
        && v.get("jsonrpc").and_then(|j| j.as_str()) == Some("2.0")
        && (v.get("method").is_some_and(|m| m.is_string())
            || (v.get("id").is_some() && (v.get("result").is_some() || v.get("error").is_some())))
        && v.get("id")
            .is_none_or(|i| i.is_string() || i.is_i64() || i.is_u64() || i.is_null());
    if ok {
        Ok(v)
    } else {
        let id = v.get("id").cloned().unwrap_or(serde_json::Value::Null);
        Err((-32600, INVALID, id))
    }
}

/// Writes each frame sent to the returned channel to `stdout`, whole and in order,
/// until every sender is gone or `stdout` fails.
pub fn write_output<W>(mut stdout: W) -> (Output, impl Future<Output = ()>)
where
    W: AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::channel::<Frame>(OUTPUT_FRAMES);
    let writing = async move {
        while let Some(frame) = rx.recv().await {
            if frame.write_to(&mut stdout).await.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
    };
    (tx, writing)
}

/// The frame of a server answer: a placeholder's registered JSON in its place.
fn answer_frame(response: &Response, splices: &Splices) -> Frame {
    match serde_json::to_vec(response) {
        Ok(body) => splice(&body, splices).unwrap_or_else(|| Frame::plain(body)),
        Err(e) => {
            // Not reachable with serde_json's `Value`s; answer rather than leave the
            // client waiting.
            tracing::error!("cannot write an answer: {e}");
            let id = serde_json::to_string(response.id()).unwrap_or_else(|_| "null".into());
            Frame::plain(
                format!(r#"{{"jsonrpc":"2.0","error":{{"code":-32603,"message":"Internal error"}},"id":{id}}}"#)
                    .into_bytes(),
            )
        }
    }
}

/// If `body` is a placeholder answer whose JSON is registered: the frame to write
/// instead, in pieces (header and envelope around the shared JSON, never copied). The
/// envelope is the one tower-lsp writes (`jsonrpc`, `result`, `id`, no spaces), so a
/// client sees the very bytes it would have seen without the splice.
fn splice(body: &[u8], splices: &Splices) -> Option<Frame> {
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
        return Some(Frame::plain(body));
    };
    let head = br#"{"jsonrpc":"2.0","result":"#.to_vec();
    let tail = format!(r#","id":{id}}}"#).into_bytes();
    let len = head.len() + json.len() + tail.len();
    let mut start = format!("Content-Length: {len}\r\n\r\n").into_bytes();
    start.extend_from_slice(&head);
    Some(Frame {
        start,
        json: Some(json),
        tail,
    })
}

/// A frame to write, in three pieces: header and start of the envelope, a registered
/// JSON answer (only for a splice), the end of the envelope.
pub struct Frame {
    start: Vec<u8>,
    json: Option<Arc<dyn Json>>,
    tail: Vec<u8>,
}

impl Frame {
    /// The frame of a whole message body.
    fn plain(body: Vec<u8>) -> Frame {
        let mut start = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        start.extend_from_slice(&body);
        Frame {
            start,
            json: None,
            tail: Vec::new(),
        }
    }

    /// The frame of a message the server sends on its own (a request or notification).
    fn message(request: &Request) -> Option<Frame> {
        match serde_json::to_vec(request) {
            Ok(body) => Some(Frame::plain(body)),
            Err(e) => {
                tracing::error!("cannot write a message to the client: {e}");
                None
            }
        }
    }

    async fn write_to<W: AsyncWrite + Unpin>(&self, out: &mut W) -> std::io::Result<()> {
        for piece in self.start.chunks(PIECE) {
            out.write_all(piece).await?;
        }
        if let Some(json) = &self.json {
            let mut buf = Vec::with_capacity(PIECE + 4096);
            let mut written = 0;
            for i in 0..json.items() {
                json.write_item(i, &mut buf);
                if buf.len() >= PIECE {
                    out.write_all(&buf).await?;
                    written += buf.len();
                    buf.clear();
                }
            }
            out.write_all(&buf).await?;
            written += buf.len();
            if written != json.len() {
                // The client would lose track of where frames start: nothing after this
                // can be read. A bug in a `Json`; its tests check the length.
                tracing::error!("an answer was {written} bytes, announced {}", json.len());
                return Err(std::io::Error::other("answer of the wrong length"));
            }
        }
        for piece in self.tail.chunks(PIECE) {
            out.write_all(piece).await?;
        }
        Ok(())
    }

    #[cfg(test)]
    fn bytes(&self) -> Vec<u8> {
        let mut out = self.start.clone();
        if let Some(json) = &self.json {
            for i in 0..json.items() {
                json.write_item(i, &mut out);
            }
        }
        out.extend_from_slice(&self.tail);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The methods of the requests read from `input`, the error codes of the answers
    /// to malformed frames, and whether the end of input was seen.
    async fn run(input: &[u8]) -> (Vec<String>, Vec<i64>, bool) {
        let mut frames = Frames::new(input);
        let (mut methods, mut codes) = (Vec::new(), Vec::new());
        while let Some(incoming) = frames.next().await {
            match incoming {
                Incoming::Request(r) => methods.push(r.method().to_string()),
                Incoming::Response(r) => methods.push(format!("answer {}", r.id())),
                Incoming::Invalid(a) => {
                    let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
                    codes.push(v["error"]["code"].as_i64().unwrap());
                }
            }
        }
        (methods, codes, frames.ended)
    }

    #[tokio::test]
    async fn good_frames_pass_bad_ones_are_answered_and_skipped() {
        let frame = |body: &str| format!("Content-Length: {}\r\n\r\n{body}", body.len());
        let input = [
            frame("{}"),
            frame("[1,2,3]"),
            frame("{oops"),
            "Content-Length: abc\r\n\r\n".into(),
            format!(
                "Content-Type: x\r\n{}",
                frame(r#"{"jsonrpc":"2.0","method":"x"}"#)
            ),
            frame(r#"{"jsonrpc":"2.0","result":null,"id":7}"#),
            // Params the method cannot take are the service's to answer (-32602).
            frame(r#"{"jsonrpc":"2.0","method":"y","params":7}"#),
            frame(r#"{"jsonrpc":"1.0","method":"z"}"#),
        ]
        .concat();
        let input = input.as_bytes();
        let (methods, codes, ended) = run(input).await;
        assert_eq!(
            codes,
            [-32600, -32600, -32700, -32600],
            "answers to the bad frames"
        );
        assert_eq!(methods, ["x", "answer 7", "y"]);
        assert!(ended, "end of input is reported");
    }

    #[tokio::test]
    async fn a_huge_announced_length_is_not_buffered() {
        let (methods, codes, ended) = run(b"Content-Length: 1000000000000\r\n\r\n{}").await;
        assert!(methods.is_empty() && codes.is_empty());
        assert!(ended);
    }

    #[tokio::test]
    async fn a_body_bigger_than_a_read_piece_arrives_whole() {
        let text = "é".repeat(PIECE * 2);
        let body = serde_json::to_vec(&serde_json::json!(
            {"jsonrpc": "2.0", "method": "m", "params": {"text": text}}
        ))
        .unwrap();
        let input = [
            format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
            &body,
        ]
        .concat();
        let mut frames = Frames::new(&input[..]);
        let Some(Incoming::Request(r)) = frames.next().await else {
            panic!("no request read");
        };
        assert_eq!(r.params().unwrap()["text"], text.as_str());
        assert!(frames.next().await.is_none());
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

    /// What the writer puts on stdout for these frames.
    async fn written(frames: Vec<Frame>) -> Vec<u8> {
        let (w, mut r) = tokio::io::duplex(1 << 20);
        let (tx, writing) = write_output(w);
        let send = async move {
            for f in frames {
                tx.send(f).await.unwrap();
            }
        };
        let read = async {
            let mut out = Vec::new();
            r.read_to_end(&mut out).await.unwrap();
            out
        };
        let ((), (), out) = tokio::join!(send, writing, read);
        out
    }

    #[tokio::test]
    async fn a_placeholder_becomes_the_registered_json_byte_for_byte() {
        use tower_lsp_server::jsonrpc::Id;
        let lenses = some_lenses();
        let splices = Arc::new(Splices::default());
        let json = crate::lsp::handlers::lenses::to_json(&lenses);
        let placeholder = splices.placeholder(Arc::new(json));
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
        let answer = |id, result| answer_frame(&Response::from_ok(id, result), &splices);
        let out = written(vec![
            answer(
                Id::Number(3),
                serde_json::json!({"contents": format!("see {SPLICE_COMMAND} [0]")}),
            ),
            answer(Id::Number(4), placeholder.clone()),
            Frame::message(
                &serde_json::from_value(serde_json::json!(
                    {"jsonrpc": "2.0", "method": "x/y", "params": {"a": 1}}
                ))
                .unwrap(),
            )
            .unwrap(),
            answer(Id::String("s\"1".into()), placeholder.clone()),
        ])
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
        let placeholder = splices.placeholder(Arc::new(b"[1]".to_vec()));
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

    #[tokio::test]
    async fn an_answer_of_many_pieces_is_written_whole() {
        use tower_lsp_server::jsonrpc::Id;
        let splices = Splices::default();
        let big = format!("[{}1]", "1,".repeat(PIECE));
        let placeholder = splices.placeholder(Arc::new(big.clone().into_bytes()));
        let frame = answer_frame(
            &Response::from_ok(Id::Number(9), serde_json::to_value(&placeholder).unwrap()),
            &splices,
        );
        let out = written(vec![frame]).await;
        let body = format!(r#"{{"jsonrpc":"2.0","result":{big},"id":9}}"#);
        let expected = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        assert!(out == expected.as_bytes(), "the frame differs");
    }

    #[test]
    fn unanswered_placeholders_do_not_pile_up() {
        let splices = Splices::default();
        for _ in 0..100 {
            splices.placeholder(Arc::new(b"[]".to_vec()));
        }
        assert_eq!(splices.pending.lock().unwrap().len(), MAX_PENDING_SPLICES);
    }

    #[tokio::test]
    async fn non_utf8_and_overlong_header_lines_drop_one_frame_not_the_session() {
        let good = |m: &str| {
            let body = format!(r#"{{"jsonrpc":"2.0","method":"{m}"}}"#);
            format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
        };
        let mut input = Vec::new();
        // A header line with bytes that are not UTF-8, in a frame with a length.
        input.extend_from_slice(b"Content-Length: 2\r\nX-Odd: \xff\xfe\r\n\r\n{}");
        input.extend(good("a"));
        // A header line far over the limit (and not UTF-8 either).
        input.extend(std::iter::repeat_n(0xffu8, 3 * MAX_HEADER_LINE));
        input.extend_from_slice(b"\r\n\r\n");
        input.extend(good("b"));
        let (methods, codes, ended) = run(&input).await;
        assert_eq!(methods, ["a", "b"]);
        assert!(codes.is_empty(), "{codes:?}");
        assert!(ended);
    }

    #[tokio::test]
    async fn an_oversized_request_is_answered_by_its_id() {
        let n = MAX_FRAME + 10;
        let mut body = br#"{"jsonrpc": "2.0", "id": 41, "method": "textDocument/didOpen", "params": {"text": ""#.to_vec();
        body.resize(n - 3, b'x');
        body.extend_from_slice(br#""}}"#);
        let mut input = format!("Content-Length: {n}\r\n\r\n").into_bytes();
        input.extend_from_slice(&body);
        let mut frames = Frames::new(&input[..]);
        let Some(Incoming::Invalid(answer)) = frames.next().await else {
            panic!("no answer to the oversized request");
        };
        let v: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        assert_eq!(v["id"], 41);
        assert_eq!(v["error"]["code"], -32600);
        assert!(frames.next().await.is_none());
    }

    #[test]
    fn ids_are_found_only_at_the_top_level() {
        assert_eq!(
            id_near_start(br#"{"jsonrpc":"2.0","id":7,"method":"x"#),
            Some(7.into())
        );
        assert_eq!(id_near_start(br#"{"id" : "a\"b","#), Some("a\"b".into()));
        assert_eq!(id_near_start(br#"{"params":{"id":3},"method":"x""#), None);
        assert_eq!(id_near_start(br#"{"method":"id","params":{"#), None);
        assert_eq!(id_near_start(br#"{"id":{"#), None);
    }

    /// A writer that never takes a byte: the client stopped reading.
    struct Stuck;
    impl AsyncWrite for Stuck {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            _: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::task::Poll::Pending
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Pending
        }
        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Pending
        }
    }

    /// A writer that fails at once (a closed pipe).
    struct Broken;
    impl AsyncWrite for Broken {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            _: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::task::Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()))
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_client_that_does_not_read_holds_answers_back() {
        let (output, writing) = write_output(Stuck);
        let _writer = tokio::spawn(writing);
        let frame = || Frame::plain(vec![b'x'; 1000]);
        // The writer holds one frame (stuck in it), the channel the next ones.
        for i in 0..=OUTPUT_FRAMES {
            tokio::time::timeout(Duration::from_secs(5), output.send(frame()))
                .await
                .unwrap_or_else(|_| panic!("send {i} waited"))
                .unwrap();
        }
        let more = tokio::time::timeout(Duration::from_millis(200), output.send(frame())).await;
        assert!(
            more.is_err(),
            "an unread client still takes frames without limit"
        );
    }

    #[tokio::test]
    async fn a_write_failure_closes_the_output() {
        let (output, writing) = write_output(Broken);
        let writer = tokio::spawn(writing);
        let _ = output.send(Frame::plain(b"{}".to_vec())).await;
        tokio::time::timeout(Duration::from_secs(5), output.closed())
            .await
            .expect("the output stays open after the writer failed");
        writer.await.unwrap();
        assert!(output.send(Frame::plain(b"{}".to_vec())).await.is_err());
    }
}
