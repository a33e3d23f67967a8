//! The stdio transport, in place of tower-lsp-server's own ([`serve`]): that one treats
//! the first undecodable frame (bad JSON, JSON that is no JSON-RPC message, a missing
//! or non-numeric `Content-Length`) as the end of input and stops the whole session,
//! and its codec keeps a buffer as big as the biggest message. Here frames are read and
//! checked, then routed: a bad one is answered with the JSON-RPC error (-32700 parse
//! error, -32600 invalid request) and dropped, and the session goes on; header lines are
//! bytes of at most 8 KiB (not UTF-8 or longer: the frame is dropped), and a frame over
//! 64 MiB is skipped, answered by its `id` when one is near its start. Every read and
//! write goes in pieces of at most 64 KiB. End of input is reported, so the server can
//! stop promptly even with work in flight. Frames to write wait in a channel of 16 (a
//! client that does not read holds answers back), and when writing fails the session
//! ends.
//!
//! The transport owns the loop: it routes each request by method ([`Route`]). Most go to
//! tower-lsp's service; `textDocument/codeLens` is answered here, from the lens producer
//! (`handlers::lenses::code_lens`), whose kept lenses are written as the result
//! ([`Json`], piece by piece) in the envelope tower-lsp writes: tower-lsp would turn
//! every answer into a `serde_json::Value` and then into text, for the 10,001 lenses of
//! a 10,000-request file 2 MB of JSON built whole on every ask. What tower-lsp does for
//! a request it answers, the route does too: started in arrival order with the others,
//! `ServerNotInitialized` before `initialize` and `InvalidRequest` after `shutdown`,
//! `InvalidParams`, a panic answered as an internal error, and `$/cancelRequest` for its
//! id answered `RequestCancelled` (-32800).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, Mutex};

use futures_util::future::{self, AbortHandle, Either};
use futures_util::{SinkExt, StreamExt, stream};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower_lsp_server::ClientSocket;
use tower_lsp_server::jsonrpc::{self, ErrorCode, FromParams, Id, Request, Response};
use tower_lsp_server::ls_types::notification::{Cancel, Notification};
use tower_lsp_server::ls_types::request::{CodeLensRequest, Request as _};
use tower_lsp_server::ls_types::{CancelParams, CodeLensParams};
use tower_service::Service;

use super::server::Server;
use super::session::{self, Lifecycle};
use super::{guard, handlers, memory};

/// Frames larger than this are read and thrown away without being buffered (one with
/// an `id` near its start is answered with an error).
const MAX_FRAME: usize = 64 * 1024 * 1024;

/// A header line longer than this is a bad header (its bytes are not kept).
const MAX_HEADER_LINE: usize = 8 * 1024;

/// Frames waiting for the writer: beyond this, whoever sends waits (a client that does
/// not read its input holds the server's answers back instead of piling them up).
const OUTPUT_FRAMES: usize = 16;

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

/// Where a message from the client goes: the routing table. The few requests the
/// transport answers itself are matched by method; everything else is tower-lsp's.
enum Route {
    /// `textDocument/codeLens` with an id: [`lenses`], written from the kept lenses.
    Lenses { id: Id, params: Option<Value> },
    /// `$/cancelRequest` of a request answered here and still running (any other goes
    /// to tower-lsp, which cancels its own or ignores it).
    Cancel(Id),
    /// Everything else: tower-lsp's service.
    Service(Request),
}

fn route(request: Request, running: &Running) -> Route {
    match request.method() {
        CodeLensRequest::METHOD if request.id().is_some() => {
            let (_, id, params) = request.into_parts();
            Route::Lenses {
                id: id.unwrap_or_default(),
                params,
            }
        }
        Cancel::METHOD => {
            let id = request
                .params()
                .and_then(|p| serde_json::from_value::<CancelParams>(p.clone()).ok())
                .map(|p| Id::from(p.id));
            match id {
                Some(id) if running.contains(&id) => Route::Cancel(id),
                _ => Route::Service(request),
            }
        }
        _ => Route::Service(request),
    }
}

/// What a request answered by the transport results in: JSON to write, `null`, or an
/// error.
type Answer = jsonrpc::Result<Option<Arc<dyn Json>>>;

/// The answer to `textDocument/codeLens`: what tower-lsp's routing would check, then the
/// lens producer inside the panic boundary. Reads the document when first polled, so
/// after the edits that came before it.
async fn lenses(server: &Server, params: Option<Value>) -> Answer {
    match session::read(&server.session.lifecycle) {
        Lifecycle::Starting => {
            return Err(jsonrpc::Error {
                code: ErrorCode::ServerError(-32002),
                message: "Server not initialized".into(),
                data: None,
            });
        }
        Lifecycle::ShutDown => return Err(jsonrpc::Error::invalid_request()),
        Lifecycle::Running => {}
    }
    let (params,) = <(CodeLensParams,)>::from_params(params)?;
    guard::request(CodeLensRequest::METHOD, async {
        let kept = handlers::lenses::code_lens(server, &params.text_document.uri).await;
        memory::touched();
        Ok(kept.map(|k| k as Arc<dyn Json>))
    })
    .await
}

/// The requests the transport answers itself that are not answered yet, by id, to
/// cancel them.
#[derive(Default)]
struct Running(Mutex<HashMap<Id, AbortHandle>>);

impl Running {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Id, AbortHandle>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn contains(&self, id: &Id) -> bool {
        self.lock().contains_key(id)
    }

    /// Answers `id` with `answer`, or with `RequestCancelled` once [`Running::cancel`]ed
    /// before it is done (like tower-lsp's own requests). A request with the id of one
    /// still running is an invalid request (as in tower-lsp).
    fn run<'a>(
        &'a self,
        id: Id,
        answer: impl Future<Output = Answer> + 'a,
    ) -> impl Future<Output = Option<Frame>> + 'a {
        let (answer, abort) = future::abortable(answer);
        let fresh = match self.lock().entry(id.clone()) {
            Entry::Vacant(e) => {
                e.insert(abort);
                true
            }
            Entry::Occupied(_) => false,
        };
        async move {
            if !fresh {
                let error = jsonrpc::Error::invalid_request();
                return Some(Frame::answer(&Response::from_error(id, error)));
            }
            let done = answer.await;
            if done.is_ok() {
                // Still its entry: another request with this id was refused while it
                // ran. (A cancel took the entry already.)
                self.lock().remove(&id);
            }
            Some(match done {
                Ok(Ok(json)) => Frame::result(&id, json),
                Ok(Err(error)) => Frame::answer(&Response::from_error(id, error)),
                Err(future::Aborted) => {
                    let error = jsonrpc::Error::request_cancelled();
                    Frame::answer(&Response::from_error(id, error))
                }
            })
        }
    }

    fn cancel(&self, id: &Id) {
        if let Some(abort) = self.lock().remove(id) {
            abort.abort();
        }
    }

    fn cancel_all(&self) {
        for (_, abort) in self.lock().drain() {
            abort.abort();
        }
    }
}

/// Serves `service` on `input` and the channel of [`write_output`] until the input
/// ends, the client says `exit` or the output cannot be written, then until every
/// started handler is done. Cancels `closed` at the end of input and when writing
/// failed (either way the client is gone). What tower-lsp's own transport does, with
/// three differences: malformed frames are answered and skipped instead of ending the
/// session, the requests of [`Route`] are answered here from `server` (the same server
/// as the service's), and no buffer keeps the size of the largest message (tower-lsp's
/// codec kept one as big as the biggest `didOpen`).
pub async fn serve<R, S>(
    input: R,
    output: Output,
    mut service: S,
    socket: ClientSocket,
    server: &Server,
    closed: CancellationToken,
) where
    R: AsyncRead + Unpin,
    S: Service<Request, Response = Option<Response>>,
    S::Error: std::fmt::Display,
{
    let (client_requests, mut client_responses) = socket.split();
    let (client_requests, client_abort) = stream::abortable(client_requests);
    let (tasks_tx, tasks_rx) = mpsc::channel(QUEUE);
    let running = Running::default();

    // Handlers run in one task, started in the order their messages came (tower-lsp
    // handlers apply edits before their first `.await`, which keeps edits in order; the
    // lens answer reads the document when first polled).
    let run_tasks = async {
        stream::unfold(tasks_rx, |mut rx| async move {
            rx.recv().await.map(|f| (f, rx))
        })
        .buffer_unordered(CONCURRENCY)
        .for_each(|frame: Option<Frame>| async {
            if let Some(frame) = frame {
                let _ = output.send(frame).await;
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
                    // tower-lsp's service is ready until it has exited.
                    if let Err(e) = future::poll_fn(|cx| service.poll_ready(cx)).await {
                        tracing::error!("{e}");
                        break;
                    }
                    let exit = request.method() == "exit";
                    let task = match route(request, &running) {
                        Route::Lenses { id, params } => {
                            // Boxed: its state is kilobytes, and every task of
                            // the queue would otherwise be allocated at that size.
                            Either::Left(Box::pin(running.run(id, lenses(server, params))))
                        }
                        Route::Cancel(id) => {
                            running.cancel(&id);
                            continue;
                        }
                        Route::Service(request) => {
                            let answer = service.call(request);
                            Either::Right(async move {
                                match answer.await {
                                    Ok(response) => response.map(|r| Frame::answer(&r)),
                                    Err(e) => {
                                        tracing::error!("{e}");
                                        None
                                    }
                                }
                            })
                        }
                    };
                    if exit {
                        // tower-lsp cancels its requests at `exit`; so does the route.
                        running.cancel_all();
                    }
                    if tasks_tx.send(task).await.is_err() || exit {
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

/// A frame to write, in three pieces: header and start of the envelope, a JSON result
/// written in pieces (only for an answer of [`Route`]), the end of the envelope.
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

    /// The frame of an answer.
    fn answer(response: &Response) -> Frame {
        match serde_json::to_vec(response) {
            Ok(body) => Frame::plain(body),
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

    /// The frame of the answer to `id` whose result is `json` (`None`: `null`), in the
    /// envelope tower-lsp writes (`jsonrpc`, `result`, `id`, no spaces), so a client sees
    /// the very bytes tower-lsp would have written. `json` is shared, never copied: it is
    /// written in pieces.
    fn result(id: &Id, json: Option<Arc<dyn Json>>) -> Frame {
        let Some(json) = json else {
            return Frame::answer(&Response::from_ok(id.clone(), Value::Null));
        };
        let id = serde_json::to_string(id).unwrap_or_else(|_| "null".into());
        let head = br#"{"jsonrpc":"2.0","result":"#;
        let tail = format!(r#","id":{id}}}"#).into_bytes();
        let len = head.len() + json.len() + tail.len();
        let mut start = format!("Content-Length: {len}\r\n\r\n").into_bytes();
        start.extend_from_slice(head);
        Frame {
            start,
            json: Some(json),
            tail,
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp;
    use crate::lsp::handlers::lenses::to_json;
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

    fn some_lenses() -> Vec<tower_lsp_server::ls_types::CodeLens> {
        use tower_lsp_server::ls_types::{CodeLens, Command, Position, Range, Uri};
        let uri: Uri = "file:///tmp/a%20b/api.http".parse().unwrap();
        (0..3)
            .map(|i| CodeLens {
                range: Range::new(Position::new(i, 0), Position::new(i, 7)),
                command: Some(Command {
                    title: format!("Send \"r{i}\" ▶ é"),
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
    async fn a_result_is_written_in_the_envelope_tower_lsp_writes() {
        let lenses = some_lenses();
        let json = to_json(&lenses);
        let real = serde_json::to_value(&lenses).unwrap();
        // Ids of both kinds, one needing escapes; JSON of many pieces; `null`.
        let big = format!("[{}1]", "1,".repeat(PIECE));
        let out = written(vec![
            Frame::result(&Id::Number(4), Some(Arc::new(json.clone()))),
            Frame::result(&Id::String("s\"1".into()), Some(Arc::new(json))),
            Frame::result(&Id::Number(9), Some(Arc::new(big.clone().into_bytes()))),
            Frame::result(&Id::Number(10), None),
        ])
        .await;
        let expected = [
            tower_frame(Id::Number(4), real.clone()),
            tower_frame(Id::String("s\"1".into()), real),
            tower_frame(Id::Number(9), serde_json::from_str(&big).unwrap()),
            tower_frame(Id::Number(10), Value::Null),
        ]
        .concat();
        assert!(out == expected, "the frames differ from tower-lsp's");
    }

    /// A client of the real server (the service and transport `httplens lsp` runs),
    /// in process, over pipes.
    struct Client {
        to_server: tokio::io::DuplexStream,
        from_server: BufReader<tokio::io::DuplexStream>,
    }

    impl Client {
        /// The server runs on a thread of its own, on a runtime like `run_stdio`'s.
        fn start() -> (Client, std::thread::JoinHandle<()>) {
            let (to_server, input) = tokio::io::duplex(1 << 22);
            let (stdout, from_server) = tokio::io::duplex(1 << 16);
            let serving = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let (service, socket, server) = lsp::service();
                    let (output, writing) = write_output(stdout);
                    let serve = serve(
                        input,
                        output,
                        service,
                        socket,
                        &server,
                        CancellationToken::new(),
                    );
                    tokio::join!(serve, writing);
                });
                rt.shutdown_background();
            });
            let client = Client {
                to_server,
                from_server: BufReader::new(from_server),
            };
            (client, serving)
        }

        /// Writes these messages at once (one write: the server reads them together).
        async fn send(&mut self, messages: &[Value]) {
            let mut bytes = Vec::new();
            for m in messages {
                let body = serde_json::to_vec(m).unwrap();
                bytes.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
                );
                bytes.extend_from_slice(&body);
            }
            self.to_server.write_all(&bytes).await.unwrap();
        }

        /// The next frame's body, exactly as written.
        async fn frame(&mut self) -> Vec<u8> {
            let mut length = None;
            loop {
                let mut line = String::new();
                self.from_server.read_line(&mut line).await.unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').expect("a header line");
                assert!(name.eq_ignore_ascii_case("content-length"), "{line}");
                length = Some(value.trim().parse::<usize>().unwrap());
            }
            let mut body = vec![0; length.expect("a Content-Length")];
            self.from_server.read_exact(&mut body).await.unwrap();
            body
        }

        /// Every answer until the one to `last` (server notifications skipped), by id,
        /// as written; fails on a second answer to an id.
        async fn answers_until(&mut self, last: i64) -> HashMap<i64, Vec<u8>> {
            let mut answers = HashMap::new();
            loop {
                let body = tokio::time::timeout(Duration::from_secs(60), self.frame())
                    .await
                    .expect("the server stopped answering");
                let v: Value = serde_json::from_slice(&body).expect("a whole JSON message");
                if v.get("method").is_some() {
                    assert!(v.get("id").is_none(), "the server asked the client: {v}");
                    continue;
                }
                let id = v["id"].as_i64().expect("a numeric id");
                assert!(answers.insert(id, body).is_none(), "{id} answered twice");
                if id == last {
                    return answers;
                }
            }
        }
    }

    fn request(id: i64, method: &str, params: Value) -> Value {
        serde_json::json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
    }

    fn notification(method: &str, params: Value) -> Value {
        serde_json::json!({"jsonrpc": "2.0", "method": method, "params": params})
    }

    fn code_lens(id: i64, uri: &str) -> Value {
        request(
            id,
            "textDocument/codeLens",
            serde_json::json!({"textDocument": {"uri": uri}}),
        )
    }

    fn requests(n: usize) -> String {
        (0..n)
            .map(|i| format!("### r{i}\nPOST http://localhost/items/{i}\nContent-Type: application/json\n\n{{\"n\": {i}}}\n\n"))
            .collect()
    }

    /// The result of an answer, checked to be written exactly as tower-lsp writes it.
    fn result_of(id: i64, body: &[u8]) -> Value {
        let v: Value = serde_json::from_slice(body).unwrap();
        let result = v
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("{}", v["error"]));
        let theirs =
            serde_json::to_vec(&Response::from_ok(Id::Number(id), result.clone())).unwrap();
        assert!(
            body == theirs,
            "answer {id} is not written as tower-lsp writes it"
        );
        result
    }

    /// The `(line, version)` of each `Send request` lens.
    fn sends(lenses: &Value) -> Vec<(u64, u64)> {
        lenses
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["command"]["command"] == "httplens.send")
            .map(|l| {
                let a = &l["command"]["arguments"][0];
                (a["line"].as_u64().unwrap(), a["version"].as_u64().unwrap())
            })
            .collect()
    }

    #[tokio::test]
    async fn lenses_of_a_big_file_arrive_whole_and_in_order_and_cancel_like_any_request() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.http");
        let uri = session::path_to_uri(&path).unwrap();
        let uri = uri.as_str();
        let (mut client, serving) = Client::start();
        // Asked before `initialize`: refused as tower-lsp refuses any request then.
        client.send(&[code_lens(1, uri)]).await;
        let answers = client.answers_until(1).await;
        let v: Value = serde_json::from_slice(&answers[&1]).unwrap();
        assert_eq!(v["error"]["code"], -32002, "{}", v["error"]);

        // 2,000 requests: ~400 KB of lenses, many write pieces. Every message in one
        // write: the lenses of version 1 are asked between the open and an edit that
        // adds a request at the top, then again.
        let n = 2000;
        let v1 = requests(n);
        let v2 = format!("GET http://localhost/first\n\n{v1}");
        // A client waits for the answer to `initialize` (tower-lsp drops what comes
        // before it).
        client
            .send(&[request(
                2,
                "initialize",
                serde_json::json!({"capabilities": {}}),
            )])
            .await;
        client.answers_until(2).await;
        client
            .send(&[
                notification("initialized", serde_json::json!({})),
                notification(
                    "textDocument/didOpen",
                    serde_json::json!({"textDocument": {
                        "uri": uri, "languageId": "http", "version": 1, "text": v1}}),
                ),
                code_lens(3, uri),
                notification(
                    "textDocument/didChange",
                    serde_json::json!({"textDocument": {"uri": uri, "version": 2},
                        "contentChanges": [{"text": v2}]}),
                ),
                code_lens(4, uri),
                // Not a request file that is open: `null`, like before.
                code_lens(5, "file:///nowhere/x.http"),
                request(
                    6,
                    "textDocument/hover",
                    serde_json::json!({
                    "textDocument": {"uri": uri}, "position": {"line": 1, "character": 1}}),
                ),
                // Params that are not a `CodeLensParams`.
                request(7, "textDocument/codeLens", serde_json::json!({"uri": uri})),
            ])
            .await;
        let answers = client.answers_until(7).await;
        assert!(answers.contains_key(&6), "{:?}", answers.keys());
        // Each ask saw the text as of its place among the messages.
        let first = sends(&result_of(3, &answers[&3]));
        assert_eq!(first.len(), n);
        assert!(first.iter().all(|&(_, v)| v == 1), "version 1");
        let second = sends(&result_of(4, &answers[&4]));
        let expected: Vec<_> = std::iter::once((0, 2))
            .chain(first.iter().map(|&(l, _)| (l + 2, 2)))
            .collect();
        assert_eq!(second, expected, "version 2");
        assert_eq!(result_of(5, &answers[&5]), Value::Null);
        let v: Value = serde_json::from_slice(&answers[&7]).unwrap();
        assert_eq!(v["error"]["code"], -32602, "{}", v["error"]);

        // Cancelled in the same write as its request: answered `RequestCancelled`, once;
        // the next ask is answered in full. A cancel for an id answered already, or for
        // one the server never saw, changes nothing.
        client
            .send(&[
                code_lens(8, uri),
                notification("$/cancelRequest", serde_json::json!({"id": 8})),
                notification("$/cancelRequest", serde_json::json!({"id": 3})),
                notification("$/cancelRequest", serde_json::json!({"id": 99})),
                code_lens(9, uri),
            ])
            .await;
        let answers = client.answers_until(9).await;
        let v: Value = serde_json::from_slice(&answers[&8]).unwrap();
        assert_eq!(v["error"]["code"], -32800, "{}", v["error"]);
        assert_eq!(sends(&result_of(9, &answers[&9])), expected);

        // After `shutdown`: refused like any request.
        client
            .send(&[request(10, "shutdown", Value::Null), code_lens(11, uri)])
            .await;
        let answers = client.answers_until(11).await;
        let v: Value = serde_json::from_slice(&answers[&11]).unwrap();
        assert_eq!(v["error"]["code"], -32600, "{}", v["error"]);
        client.send(&[notification("exit", Value::Null)]).await;
        drop(client);
        let stopped = tokio::task::spawn_blocking(move || serving.join());
        tokio::time::timeout(Duration::from_secs(10), stopped)
            .await
            .expect("the server did not stop at `exit`")
            .unwrap()
            .unwrap();
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
