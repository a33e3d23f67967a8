//! The network under faults and load, through the real binary: raw TCP servers on
//! 127.0.0.1 that misbehave on purpose (refuse, reset, hang, drip, flood headers, send
//! garbage, loop redirects, stream 10 GB) against `httplens run`, each asserting the
//! exit code, the one-sentence message and a time bound; then load: 1,000 sequential
//! requests from one file and 100 concurrent LSP sends, watching descriptors and memory.
//! Figures are printed as `FIGURE ...` lines (`--nocapture`) for docs/reliability.md.

// Descriptors and memory are read from /proc.
#![cfg(target_os = "linux")]

#[path = "support/hardening.rs"]
mod hardening;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hardening::{Ran, RawLsp, Ws, file_uri, run_bounded, signal};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a misbehaving server saw.
#[derive(Default)]
struct Stats {
    accepted: AtomicUsize,
    open: AtomicUsize,
    max_open: AtomicUsize,
    requests: AtomicUsize,
    served: AtomicU64,
}

struct Peer {
    port: u16,
    stats: Arc<Stats>,
}

/// A raw TCP server on 127.0.0.1 (own runtime on a thread, alive for the test
/// process); `behave` runs once per accepted connection.
fn serve<F, Fut>(behave: F) -> Peer
where
    F: Fn(TcpStream, Arc<Stats>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    assert!(listener.local_addr().unwrap().ip().is_loopback());
    let stats = Arc::new(Stats::default());
    let st = stats.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            let behave = Arc::new(behave);
            loop {
                let Ok((s, _)) = l.accept().await else {
                    continue;
                };
                let _ = s.set_nodelay(true);
                st.accepted.fetch_add(1, Ordering::SeqCst);
                let now = st.open.fetch_add(1, Ordering::SeqCst) + 1;
                st.max_open.fetch_max(now, Ordering::SeqCst);
                let (behave, st) = (behave.clone(), st.clone());
                tokio::spawn(async move {
                    behave(s, st.clone()).await;
                    st.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
    });
    Peer { port, stats }
}

/// Reads one request head (the requests here carry no body); None at EOF.
async fn read_head(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).await.ok()?;
        if n == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Some(head)
}

fn path_of(head: &[u8]) -> String {
    String::from_utf8_lossy(head)
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string()
}

/// Writes `file` into a fresh workspace and runs `httplens run --format json` on it.
fn run_file(ws: &Ws, file: &str, extra: &[&str], limit: Duration) -> Ran {
    let p = ws.write("t.http", file);
    let mut args = vec!["run", p.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    run_bounded(ws.command(&args), limit, |_, _| {})
}

/// The single request's outcome: exit 1, no status, and one sentence naming the host.
fn assert_one_error(case: &str, r: &Ran, port: u16, bound: Duration, wants: &str) -> String {
    assert!(!r.killed, "{case}: still running after the limit: {r:?}");
    assert_eq!(r.code, Some(1), "{case}: {r:?}");
    let items = r.json();
    assert_eq!(items.len(), 1, "{case}: {items:?}");
    assert_eq!(items[0]["status"], Value::Null, "{case}: {items:?}");
    let msg = items[0]["error"].as_str().unwrap_or("").to_string();
    assert!(msg.contains(wants), "{case}: `{msg}` lacks `{wants}`");
    assert!(
        msg.contains(&format!("127.0.0.1:{port}"))
            || msg.contains("redirect")
            || msg.contains("cancelled"),
        "{case}: the message names no host: {msg}"
    );
    assert!(!msg.contains('\n'), "{case}: not one line: {msg}");
    assert!(!r.stderr.contains("panicked"), "{case}: {}", r.stderr);
    assert!(
        r.elapsed < bound,
        "{case}: took {:?}, bound {bound:?}",
        r.elapsed
    );
    eprintln!(
        "FIGURE fault={case} exit={:?} elapsed_ms={} peak_rss_kb={} message={msg:?}",
        r.code,
        r.elapsed.as_millis(),
        r.peak_rss_kb()
    );
    msg
}

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn connection_refused() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let ws = Ws::new();
    let r = run_file(&ws, &format!("GET http://127.0.0.1:{port}/\n"), &[], LIMIT);
    assert_one_error(
        "refused",
        &r,
        port,
        Duration::from_secs(5),
        "connection refused",
    );
}

#[test]
fn reset_in_the_middle_of_the_body() {
    let peer = serve(|mut s, _| async move {
        if read_head(&mut s).await.is_some() {
            let _ = s
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                .await;
            let _ = s.write_all(&[b'x'; 5000]).await;
            let _ = s.flush().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            // SO_LINGER 0: close() sends RST, not FIN (a zero linger never blocks,
            // which is what the deprecation warns about).
            #[allow(deprecated)]
            let _ = s.set_linger(Some(Duration::ZERO));
            drop(s);
        }
    });
    let ws = Ws::new();
    let r = run_file(
        &ws,
        &format!("GET http://127.0.0.1:{}/\n", peer.port),
        &[],
        LIMIT,
    );
    assert_one_error(
        "reset-mid-body",
        &r,
        peer.port,
        Duration::from_secs(5),
        "closed or reset",
    );
}

#[test]
fn closed_before_the_headers() {
    let peer = serve(|mut s, _| async move {
        let _ = read_head(&mut s).await;
        drop(s);
    });
    let ws = Ws::new();
    let r = run_file(
        &ws,
        &format!("GET http://127.0.0.1:{}/\n", peer.port),
        &[],
        LIMIT,
    );
    assert_one_error(
        "closed-before-headers",
        &r,
        peer.port,
        Duration::from_secs(5),
        "closed or reset",
    );
}

/// Accepts, reads the request, never answers (the connection stays open).
fn silent_peer() -> Peer {
    serve(|mut s, _| async move {
        let _ = read_head(&mut s).await;
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(s);
    })
}

#[test]
fn silent_server_ends_at_the_request_timeout() {
    let peer = silent_peer();
    let ws = Ws::new();
    let r = run_file(
        &ws,
        &format!("# @timeout 1 s\nGET http://127.0.0.1:{}/\n", peer.port),
        &[],
        LIMIT,
    );
    let msg = assert_one_error(
        "silent+timeout-1s",
        &r,
        peer.port,
        Duration::from_secs(4),
        "no complete response",
    );
    assert!(msg.contains("within 1"), "{msg}");
    assert!(r.elapsed >= Duration::from_millis(950), "{:?}", r.elapsed);
}

/// Without `@timeout` `run` has no read time limit (only connecting is limited, to
/// 30 s): it waits until interrupted, and Ctrl-C ends it at once with one sentence.
#[test]
fn silent_server_without_timeout_waits_until_interrupted() {
    let peer = silent_peer();
    let ws = Ws::new();
    let p = ws.write("t.http", &format!("GET http://127.0.0.1:{}/\n", peer.port));
    let mut sent_at = None;
    let r = run_bounded(
        ws.command(&["run", p.to_str().unwrap(), "--format", "json"]),
        Duration::from_secs(30),
        |pid, s| {
            if sent_at.is_none() && s.at > Duration::from_secs(3) {
                signal(pid, "INT");
                sent_at = Some(s.at);
            }
        },
    );
    let sent_at = sent_at.expect("the run ended before 3 s: is there a default timeout now?");
    let after_signal = r.elapsed - sent_at;
    assert!(
        after_signal < Duration::from_secs(2),
        "took {after_signal:?} after SIGINT"
    );
    assert_eq!(peer.stats.accepted.load(Ordering::SeqCst), 1);
    let msg = assert_one_error(
        "silent+default-timeout+SIGINT",
        &r,
        peer.port,
        Duration::from_secs(10),
        "cancelled",
    );
    eprintln!(
        "FIGURE default-timeout: still waiting at {sent_at:?}; exit {after_signal:?} after SIGINT: {msg}"
    );
}

#[test]
fn endless_slow_body_ends_at_the_timeout() {
    let peer = serve(|mut s, st| async move {
        if read_head(&mut s).await.is_none() {
            return;
        }
        let _ = s
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
            .await;
        // One byte per 100 ms, forever.
        loop {
            if s.write_all(b"1\r\nx\r\n").await.is_err() {
                return;
            }
            st.served.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let ws = Ws::new();
    let r = run_file(
        &ws,
        &format!("# @timeout 2 s\nGET http://127.0.0.1:{}/\n", peer.port),
        &[],
        LIMIT,
    );
    assert_one_error(
        "drip-1B/100ms+timeout-2s",
        &r,
        peer.port,
        Duration::from_secs(5),
        "no complete response",
    );
    let served = peer.stats.served.load(Ordering::SeqCst);
    assert!((10..=40).contains(&served), "bytes dripped: {served}");
}

#[test]
fn a_megabyte_of_response_headers() {
    let peer = serve(|mut s, _| async move {
        if read_head(&mut s).await.is_none() {
            return;
        }
        let mut head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n".to_vec();
        let value = "v".repeat(16 * 1024);
        for i in 0..64 {
            head.extend_from_slice(format!("X-Big-{i}: {value}\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\nok");
        let _ = s.write_all(&head).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let ws = Ws::new();
    let r = run_file(
        &ws,
        &format!("GET http://127.0.0.1:{}/\n", peer.port),
        &[],
        LIMIT,
    );
    assert_one_error(
        "1MB-headers",
        &r,
        peer.port,
        Duration::from_secs(5),
        "the response headers are too large",
    );
}

#[test]
fn invalid_utf8_in_headers_and_body_is_shown_not_fatal() {
    let peer = serve(|mut s, _| async move {
        if read_head(&mut s).await.is_none() {
            return;
        }
        let body: &[u8] = b"ok \xff\xfe\xc3\x28 end";
        let mut msg = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
            body.len()
        )
        .into_bytes();
        msg.extend_from_slice(b"X-Bytes: a\xffb\r\n\r\n");
        msg.extend_from_slice(body);
        let _ = s.write_all(&msg).await;
    });
    let ws = Ws::new();
    let p = ws.write("t.http", &format!("GET http://127.0.0.1:{}/\n", peer.port));
    for format in ["json", "text"] {
        let r = run_bounded(
            ws.command(&["run", p.to_str().unwrap(), "--format", format]),
            LIMIT,
            |_, _| {},
        );
        assert_eq!(r.code, Some(0), "{format}: {r:?}");
        assert!(r.elapsed < Duration::from_secs(5));
        assert!(r.stdout.contains("ok \u{fffd}"), "{format}: {}", r.stdout);
        assert!(r.stdout.contains(" end"), "{format}: {}", r.stdout);
        if format == "json" {
            let items = r.json();
            assert_eq!(items[0]["status"], 200);
            let h = items[0]["headers"].as_array().unwrap();
            assert!(
                h.iter().any(|p| p[0] == "x-bytes" && p[1] == "a\u{fffd}b"),
                "{h:?}"
            );
        }
        eprintln!(
            "FIGURE fault=invalid-utf8 format={format} exit={:?} elapsed_ms={}",
            r.code,
            r.elapsed.as_millis()
        );
    }
}

#[test]
fn redirect_loop_and_endless_redirect_chain() {
    let peer = serve(|mut s, st| async move {
        while let Some(head) = read_head(&mut s).await {
            st.requests.fetch_add(1, Ordering::SeqCst);
            let path = path_of(&head);
            let next = match path.as_str() {
                "/a" => "/b".to_string(),
                "/b" => "/a".to_string(),
                p => {
                    // /n/<k> -> /n/<k+1>, forever.
                    let k: u64 = p
                        .rsplit('/')
                        .next()
                        .and_then(|k| k.parse().ok())
                        .unwrap_or(0);
                    format!("/n/{}", k + 1)
                }
            };
            let msg =
                format!("HTTP/1.1 302 Found\r\nLocation: {next}\r\nContent-Length: 0\r\n\r\n");
            if s.write_all(msg.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    let ws = Ws::new();
    let r = run_file(
        &ws,
        &format!("GET http://127.0.0.1:{}/a\n", peer.port),
        &[],
        LIMIT,
    );
    assert_one_error(
        "redirect-loop",
        &r,
        peer.port,
        Duration::from_secs(5),
        "redirect loop",
    );
    let before = peer.stats.requests.load(Ordering::SeqCst);
    assert!(before <= 3, "requests for the loop: {before}");
    let r = run_file(
        &ws,
        &format!("GET http://127.0.0.1:{}/n/0\n", peer.port),
        &[],
        LIMIT,
    );
    assert_one_error(
        "redirect-chain",
        &r,
        peer.port,
        Duration::from_secs(5),
        "more than 10 redirects",
    );
    let chain = peer.stats.requests.load(Ordering::SeqCst) - before;
    assert!(chain <= 12, "requests for the chain: {chain}");
    eprintln!("FIGURE redirects: loop={before} requests, chain={chain} requests");
}

#[test]
fn http09_and_garbage_answers() {
    let peer = serve(|mut s, _| async move {
        if let Some(head) = read_head(&mut s).await {
            let answer: &[u8] = if path_of(&head) == "/binary" {
                b"\x00\x01\x02\xff\xfe garbage \x1b[31m\r\n\r\n"
            } else {
                b"hello, this is HTTP/0.9 style\n"
            };
            let _ = s.write_all(answer).await;
        }
    });
    let ws = Ws::new();
    for path in ["/", "/binary"] {
        let r = run_file(
            &ws,
            &format!("GET http://127.0.0.1:{}{path}\n", peer.port),
            &[],
            LIMIT,
        );
        let msg = assert_one_error(
            &format!("garbage{path}"),
            &r,
            peer.port,
            Duration::from_secs(5),
            "did not answer with HTTP",
        );
        // The server's bytes are not echoed into the terminal.
        assert!(!msg.contains('\u{1b}') && !msg.contains("garbage"), "{msg}");
    }
}

/// 10 GB announced and served lazily (one 64 KiB buffer, repeated) until the client
/// stops reading at its 3 s timeout: memory stays bounded while the body streams to
/// disk. (What happens to the partial file is checked by the next test.)
#[test]
fn ten_gigabytes_stream_with_bounded_memory() {
    const TEN_GB: u64 = 10 * 1024 * 1024 * 1024;
    let peer = serve(|mut s, st| async move {
        if read_head(&mut s).await.is_none() {
            return;
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {TEN_GB}\r\n\r\n"
        );
        if s.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![b'z'; 64 * 1024];
        let mut sent = 0u64;
        while sent < TEN_GB {
            if s.write_all(&chunk).await.is_err() {
                return;
            }
            sent += chunk.len() as u64;
            st.served.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
    });
    let ws = Ws::new();
    let p = ws.write(
        "t.http",
        &format!("# @timeout 3 s\nGET http://127.0.0.1:{}/\n", peer.port),
    );
    let mut spill_seen = 0u64;
    let cache = ws.cache();
    let r = run_bounded(
        ws.command(&["run", p.to_str().unwrap(), "--format", "json"]),
        LIMIT,
        |_, _| {
            // The partial body on disk while it streams.
            if let Ok(d) = std::fs::read_dir(cache.join("spill")) {
                let size: u64 = d
                    .filter_map(|e| e.ok()?.metadata().ok())
                    .map(|m| m.len())
                    .sum();
                spill_seen = spill_seen.max(size);
            }
        },
    );
    let served = peer.stats.served.load(Ordering::SeqCst);
    let mb = served as f64 / 1048576.0;
    eprintln!(
        "FIGURE fault=10GB-stream served_mb={mb:.0} throughput_mb_s={:.0} peak_rss_kb={} spill_seen_mb={} leftover_spill={:?}",
        mb / r.elapsed.as_secs_f64(),
        r.peak_rss_kb(),
        spill_seen / 1048576,
        ws.spill_files()
    );
    assert_one_error(
        "10GB-stream+timeout-3s",
        &r,
        peer.port,
        Duration::from_secs(8),
        "no complete response",
    );
    assert!(served > 16 * 1024 * 1024, "only {served} bytes were served");
    assert!(
        spill_seen > 1024 * 1024,
        "the body did not spill to disk: {spill_seen}"
    );
    // Bounded: far below what was received (a buffered body would need `served`).
    assert!(
        r.peak_rss_kb() < 96 * 1024,
        "peak RSS {} KiB while receiving {mb:.0} MB",
        r.peak_rss_kb()
    );
}

/// A body that fails after it spilled (8 MiB of an announced 100 MiB, then a reset)
/// must not leave its partial file in `<cache>/spill`: nobody will ever look at it, and
/// a 10 GB download stopped by its timeout leaves gigabytes behind (1.3 GB measured).
#[test]
fn a_failed_large_body_leaves_no_partial_file() {
    let peer = serve(|mut s, _| async move {
        if read_head(&mut s).await.is_none() {
            return;
        }
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n";
        let _ = s.write_all(head.as_bytes()).await;
        let chunk = vec![b'p'; 64 * 1024];
        for _ in 0..128 {
            if s.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = s.flush().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        #[allow(deprecated)]
        let _ = s.set_linger(Some(Duration::ZERO));
    });
    let ws = Ws::new();
    let r = run_file(
        &ws,
        &format!("GET http://127.0.0.1:{}/\n", peer.port),
        &[],
        LIMIT,
    );
    assert_one_error(
        "reset-after-spill",
        &r,
        peer.port,
        Duration::from_secs(5),
        "closed or reset",
    );
    let left = ws.spill_files();
    assert!(
        left.is_empty(),
        "partial bodies left behind: {:?}",
        left.iter()
            .map(|p| (p, p.metadata().map(|m| m.len()).unwrap_or(0)))
            .collect::<Vec<_>>()
    );
}

/// A finished large body (48 MiB) takes the whole path (spill, history document,
/// JSON output of the head) with bounded memory.
#[test]
fn a_large_finished_body_keeps_memory_bounded() {
    const SIZE: u64 = 48 * 1024 * 1024;
    let peer = serve(|mut s, _| async move {
        if read_head(&mut s).await.is_none() {
            return;
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {SIZE}\r\n\r\n"
        );
        let _ = s.write_all(head.as_bytes()).await;
        let chunk = vec![b'a'; 64 * 1024];
        for _ in 0..SIZE / chunk.len() as u64 {
            if s.write_all(&chunk).await.is_err() {
                return;
            }
        }
    });
    let ws = Ws::new();
    let r = run_file(
        &ws,
        &format!("GET http://127.0.0.1:{}/\n", peer.port),
        &[],
        LIMIT,
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    let items = r.json();
    assert_eq!(items[0]["status"], 200);
    eprintln!(
        "FIGURE large-body size_mb=48 elapsed_ms={} peak_rss_kb={}",
        r.elapsed.as_millis(),
        r.peak_rss_kb()
    );
    assert!(r.peak_rss_kb() < 96 * 1024, "peak {} KiB", r.peak_rss_kb());
    assert!(ws.spill_files().is_empty(), "{:?}", ws.spill_files());
}

/// A keep-alive server answering every request with a small JSON body.
fn ok_peer(delay: Duration) -> Peer {
    serve(move |mut s, st| async move {
        while read_head(&mut s).await.is_some() {
            st.requests.fetch_add(1, Ordering::SeqCst);
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let body = r#"{"ok": true, "n": 1}"#;
            // One write: head and body in two small writes would meet Nagle and the
            // peer's delayed ACK (40 ms per request, measuring the server, not us).
            let msg = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if s.write_all(msg.as_bytes()).await.is_err() {
                return;
            }
        }
    })
}

/// 1,000 requests from one file, sent in order by `run`: one kept-alive connection,
/// no descriptor growth in the client, memory that does not grow with the count
/// beyond the outcomes `run` keeps to print.
#[test]
fn a_thousand_sequential_requests() {
    const N: usize = 1000;
    let peer = ok_peer(Duration::ZERO);
    let ws = Ws::new();
    let mut file = String::new();
    for i in 0..N {
        file.push_str(&format!(
            "### r{i}\nGET http://127.0.0.1:{}/item/{i}\n\n",
            peer.port
        ));
    }
    let p = ws.write("t.http", &file);
    let stats = peer.stats.clone();
    let mut marks: Vec<(usize, hardening::Sample)> = Vec::new();
    let r = run_bounded(
        ws.command(&[
            "run",
            p.to_str().unwrap(),
            "--format",
            "json",
            "--no-history",
        ]),
        Duration::from_secs(120),
        |_, s| marks.push((stats.requests.load(Ordering::SeqCst), *s)),
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let items = r.json();
    assert_eq!(items.len(), N);
    assert!(items.iter().all(|i| i["status"] == 200));
    assert_eq!(peer.stats.requests.load(Ordering::SeqCst), N);
    let conns = peer.stats.accepted.load(Ordering::SeqCst);
    // Keep-alive: a handful of connections (2 to 5 seen: the pool sometimes opens a
    // new one before the last is back), never one per request.
    assert!(conns <= 20, "{conns} connections for {N} requests");
    // Descriptors and memory at ~10% vs ~90% of the way.
    let at = |frac: f64| {
        marks
            .iter()
            .find(|(n, _)| *n as f64 >= frac * N as f64)
            .map(|(_, s)| *s)
    };
    let (early, late) = (at(0.1), at(0.9));
    if let (Some(e), Some(l)) = (early, late) {
        assert!(
            l.fds <= e.fds + 2,
            "descriptors grew: {} -> {}",
            e.fds,
            l.fds
        );
        assert!(
            l.rss_kb < e.rss_kb + 32 * 1024,
            "memory grew: {} -> {} KiB",
            e.rss_kb,
            l.rss_kb
        );
        eprintln!(
            "FIGURE load=1000-sequential fds {}->{} rss_kb {}->{}",
            e.fds, l.fds, e.rss_kb, l.rss_kb
        );
    }
    eprintln!(
        "FIGURE load=1000-sequential elapsed_ms={} req_per_s={:.0} connections={conns} peak_rss_kb={} server_open_after={}",
        r.elapsed.as_millis(),
        N as f64 / r.elapsed.as_secs_f64(),
        r.peak_rss_kb(),
        peer.stats.open.load(Ordering::SeqCst)
    );
}

/// `run` sends one request after another (`docs/cli.md`); the way to have 100 requests in flight is 100
/// `httplens.send` commands to the language server at once.
#[test]
fn a_hundred_concurrent_lsp_sends() {
    const N: usize = 100;
    let peer = ok_peer(Duration::from_millis(50));
    let ws = Ws::new();
    let mut text = String::new();
    for i in 0..N {
        text.push_str(&format!(
            "### r{i}\nGET http://127.0.0.1:{}/item/{i}\n\n",
            peer.port
        ));
    }
    let p = ws.write("load.http", &text);
    let uri = file_uri(&p);
    let mut c = RawLsp::start(&ws, false);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "http", "version": 1, "text": text}}),
    );
    let pid = c.pid();
    let before = hardening::sample(pid, Duration::ZERO).unwrap();
    let start = Instant::now();
    let ids: Vec<i64> = (0..N)
        .map(|i| {
            c.request_async(
                "workspace/executeCommand",
                json!({"command": "httplens.send", "arguments": [{"uri": uri, "line": i * 3 + 1}]}),
            )
        })
        .collect();
    let mut peak = before;
    let mut statuses = Vec::new();
    for id in ids {
        let r = c.response(id, Duration::from_secs(60));
        statuses.push(r["result"]["status"].clone());
        if let Some(s) = hardening::sample(pid, start.elapsed())
            && s.hwm_kb > peak.hwm_kb
        {
            peak = s;
        }
    }
    let elapsed = start.elapsed();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "{:?}",
        statuses
            .iter()
            .filter(|s| **s != 200)
            .take(3)
            .collect::<Vec<_>>()
    );
    assert_eq!(peer.stats.requests.load(Ordering::SeqCst), N);
    // Idle again: the descriptors of the finished sends are closed (pooled
    // connections may stay, at most one per concurrent send).
    let max_open = peer.stats.max_open.load(Ordering::SeqCst);
    // Closing is not instant: wait (bounded) for the count to come down.
    hardening::wait_until(Duration::from_secs(5), || {
        hardening::sample(pid, start.elapsed()).is_some_and(|s| s.fds <= before.fds + max_open + 2)
    });
    let after = hardening::sample(pid, start.elapsed()).unwrap();
    assert!(
        after.fds <= before.fds + max_open + 2,
        "descriptors: {} before, {} after, {max_open} connections at most",
        before.fds,
        after.fds
    );
    eprintln!(
        "FIGURE load=100-concurrent-lsp-sends elapsed_ms={} req_per_s={:.0} server_max_concurrent={max_open} connections={} fds {}->{} rss_kb {}->{} peak_rss_kb={}",
        elapsed.as_millis(),
        N as f64 / elapsed.as_secs_f64(),
        peer.stats.accepted.load(Ordering::SeqCst),
        before.fds,
        after.fds,
        before.rss_kb,
        after.rss_kb,
        peak.hwm_kb
    );
    assert!(c.shutdown().success());
}
