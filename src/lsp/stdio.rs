//! The stdio transport, hardened. tower-lsp-server treats the first undecodable frame
//! (bad JSON, JSON that is no JSON-RPC message, a missing or non-numeric
//! `Content-Length`) as the end of input and stops the whole session. So frames are
//! checked before tower-lsp sees them: a bad one is answered here with the JSON-RPC
//! error (-32700 parse error, -32600 invalid request) and dropped, and the session
//! goes on. The answers are merged into stdout between the server's own frames. End of
//! input is reported, so the server can stop promptly even with work in flight.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Frames larger than this are read and thrown away without being buffered.
const MAX_FRAME: usize = 64 * 1024 * 1024;

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
/// ends.
pub async fn merge_output<R, W>(
    from_server: R,
    mut answers: mpsc::UnboundedReceiver<Vec<u8>>,
    stdout: W,
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
    while let Some(frame) = read_frame(&mut from_server).await {
        let mut out = stdout.lock().await;
        if out.write_all(&frame).await.is_err() || out.flush().await.is_err() {
            break;
        }
    }
    answering.abort();
}

/// One whole frame (headers and body) as written by tower-lsp; `None` at the end.
async fn read_frame<R: AsyncBufReadExt + Unpin>(r: &mut R) -> Option<Vec<u8>> {
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
    Some(frame)
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
}
