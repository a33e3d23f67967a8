//! The language server under abuse, as the real binary over stdio: thousands of seeded
//! random edits (emoji, CJK, CRLF, several changes per notification) checked against
//! positions computed here independently; requests fired concurrently, cancelled and
//! answered out of order; a 10,000-request file; malformed JSON-RPC (bad JSON, wrong
//! or absurd Content-Length, unknown methods, wrong parameter types); a client that
//! disappears; and memory over a soak. Figures are printed as `FIGURE ...` lines.

// Descriptors and memory are read from /proc.
#![cfg(target_os = "linux")]

#[path = "support/hardening.rs"]
mod hardening;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use hardening::{RawLsp, Ws, file_uri, frame, sample};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const SHORT: Duration = Duration::from_secs(10);

/// LSP position of byte offset `off`, computed here (not with the crate's LineIndex):
/// lines end at `\n`; columns in UTF-8 bytes or UTF-16 units.
fn pos_of(text: &str, off: usize, utf8: bool) -> (u64, u64) {
    let before = &text[..off];
    let line = before.matches('\n').count() as u64;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let seg = &text[start..off];
    let col = if utf8 {
        seg.len()
    } else {
        seg.encode_utf16().count()
    };
    (line, col as u64)
}

fn lsp_pos(text: &str, off: usize, utf8: bool) -> Value {
    let (line, character) = pos_of(text, off, utf8);
    json!({"line": line, "character": character})
}

/// Offsets an edit may start or end at: char boundaries, never between `\r` and `\n`
/// (LSP cannot address that point: a column past the line's end means its end).
fn boundaries(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    text.char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .filter(|&i| !(i > 0 && b[i - 1] == b'\r' && b.get(i) == Some(&b'\n')))
        .collect()
}

const PIECES: &[&str] = &[
    "x",
    "😀",
    "👩‍👩‍👧",
    "中文",
    "名前",
    "\r\n",
    "\n",
    "### t 😀\n",
    "### 标题\r\n",
    "GET http://127.0.0.1:9/p\n",
    "POST http://127.0.0.1:9/中\r\nContent-Type: application/json\r\n\r\n{\"a\": \"😀\"}\r\n",
    "{{v}}",
    "@v = 1\n",
    " ",
    "é",
    "\n\n",
    "# @name n\n",
    "> {% client.test(\"t\", () => {}); %}\n",
];

/// One random edit of `text`: (start, end, insert) in byte offsets.
fn random_edit(rng: &mut StdRng, text: &str) -> (usize, usize, &'static str) {
    let bounds = boundaries(text);
    let i = rng.random_range(0..bounds.len());
    let span = if rng.random_bool(0.5) {
        0
    } else {
        rng.random_range(0..12)
    };
    let j = (i + span).min(bounds.len() - 1);
    let insert = if rng.random_bool(0.3) && text.len() > 60 {
        ""
    } else {
        PIECES[rng.random_range(0..PIECES.len())]
    };
    (bounds[i], bounds[j], insert)
}

/// A symbol's name and selection range (start and end as line, column).
type Outline = (String, (u64, u64), (u64, u64));

/// The server's outline must equal the one computed from the client's copy of the
/// text: names and selection ranges (positions computed here, not by the crate).
fn assert_in_sync(c: &mut RawLsp, uri: &str, text: &str, utf8: bool, step: usize) {
    let r = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let got: Vec<Outline> = r["result"]
        .as_array()
        .unwrap_or_else(|| panic!("step {step}: no symbols: {r}"))
        .iter()
        .map(|s| {
            let p = |v: &Value| {
                (
                    v["line"].as_u64().unwrap(),
                    v["character"].as_u64().unwrap(),
                )
            };
            (
                s["name"].as_str().unwrap().to_string(),
                p(&s["selectionRange"]["start"]),
                p(&s["selectionRange"]["end"]),
            )
        })
        .collect();
    let analysis = httplens::ide::Analysis::new(text.to_string());
    let want: Vec<Outline> = httplens::ide::symbols::symbols(&analysis)
        .into_iter()
        .map(|s| {
            (
                s.name,
                pos_of(text, s.selection.start as usize, utf8),
                pos_of(text, s.selection.end as usize, utf8),
            )
        })
        .collect();
    assert_eq!(got, want, "step {step} (utf8={utf8}): outline differs");
}

/// Requests fired at random points while editing, never awaited one by one.
fn fire_random_request(c: &mut RawLsp, rng: &mut StdRng, uri: &str, text: &str, utf8: bool) -> i64 {
    let bounds = boundaries(text);
    let at = lsp_pos(text, bounds[rng.random_range(0..bounds.len())], utf8);
    let doc = json!({"uri": uri});
    match rng.random_range(0..5) {
        0 => c.request_async(
            "textDocument/hover",
            json!({"textDocument": doc, "position": at}),
        ),
        1 => c.request_async(
            "textDocument/completion",
            json!({"textDocument": doc, "position": at}),
        ),
        2 => c.request_async("textDocument/codeLens", json!({"textDocument": doc})),
        3 => c.request_async("textDocument/foldingRange", json!({"textDocument": doc})),
        _ => c.request_async(
            "textDocument/definition",
            json!({"textDocument": doc, "position": at}),
        ),
    }
}

fn random_edits(utf8: bool, seed: u64, edits: usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let ws = Ws::new();
    let mut text = String::from(
        "@host = http://127.0.0.1:9\r\n\r\n### a 😀\r\nGET {{host}}/a\r\n\r\n### 中文 b\nPOST {{host}}/b\n\n{}\n",
    );
    let path = ws.write("r.http", &text);
    let uri = file_uri(&path);
    let mut c = RawLsp::start(&ws, utf8);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "http", "version": 1, "text": text}}),
    );
    let start = Instant::now();
    let mut version = 1;
    let mut fired = Vec::new();
    let mut step = 0;
    while step < edits {
        // 1 to 3 changes in one notification; each is relative to the text after the
        // previous one, as the protocol says.
        let n = rng.random_range(1..=3);
        let mut changes = Vec::new();
        for _ in 0..n {
            let (a, b, insert) = random_edit(&mut rng, &text);
            changes.push(json!({
                "range": {"start": lsp_pos(&text, a, utf8), "end": lsp_pos(&text, b, utf8)},
                "text": insert
            }));
            text.replace_range(a..b, insert);
            step += 1;
        }
        version += 1;
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}),
        );
        if rng.random_bool(0.1) {
            fired.push(fire_random_request(&mut c, &mut rng, &uri, &text, utf8));
        }
        if version % 400 == 0 {
            assert_in_sync(&mut c, &uri, &text, utf8, step);
        }
    }
    assert_in_sync(&mut c, &uri, &text, utf8, step);
    for id in &fired {
        let r = c.response(*id, SHORT);
        assert!(r.get("error").is_none(), "request {id} failed: {r}");
    }
    let s = sample(c.pid(), start.elapsed()).unwrap();
    eprintln!(
        "FIGURE lsp=random-edits utf8={utf8} edits={step} notifications={} concurrent_requests={} elapsed_ms={} final_len={} peak_rss_kb={}",
        version - 1,
        fired.len(),
        start.elapsed().as_millis(),
        text.len(),
        s.hwm_kb
    );
    assert!(c.shutdown().success());
}

#[test]
fn random_edits_utf16_stay_in_sync() {
    random_edits(false, 0xabcd_0001, 2000);
}

#[test]
fn random_edits_utf8_stay_in_sync() {
    random_edits(true, 0xabcd_0002, 2000);
}

/// Edits no client should send: ranges past the end, start after end, a column
/// inside a surrogate pair or a UTF-8 sequence, versions going backwards, changes to
/// documents that are not open. The server clamps, keeps running, and a full-text
/// change brings it back in sync.
#[test]
fn nonsense_edits_are_clamped_not_fatal() {
    for utf8 in [false, true] {
        let ws = Ws::new();
        let text = "### 😀 a\nGET http://127.0.0.1:9/a\n";
        let uri = file_uri(&ws.write("n.http", text));
        let mut c = RawLsp::start(&ws, utf8);
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "http", "version": 5, "text": text}}),
        );
        let p = |l: u64, ch: u64| json!({"line": l, "character": ch});
        let ranges = [
            (p(99, 0), p(120, 5)),
            (p(1, 30), p(0, 2)),
            (p(0, 5), p(0, 6)),
            (p(0, u32::MAX as u64), p(u32::MAX as u64, u32::MAX as u64)),
            (p(0, 0), p(0, 0)),
        ];
        for (i, (s, e)) in ranges.into_iter().enumerate() {
            c.notify(
                "textDocument/didChange",
                json!({
                    "textDocument": {"uri": uri, "version": 4 - i as i64},
                    "contentChanges": [{"range": {"start": s, "end": e}, "text": "中"}]
                }),
            );
        }
        c.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": "file:///nowhere/x.http", "version": 2},
                "contentChanges": [{"range": {"start": p(0, 0), "end": p(0, 0)}, "text": "x"}]
            }),
        );
        let fresh = "### b 中\r\nGET http://127.0.0.1:9/b\r\n";
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 100}, "contentChanges": [{"text": fresh}]}),
        );
        assert!(
            c.diagnostics(&uri, 100, SHORT).is_some(),
            "no diagnostics after the full-text change"
        );
        assert_in_sync(&mut c, &uri, fresh, utf8, 0);
        // Requests about a document that is not open are answered, not fatal.
        for m in [
            "textDocument/codeLens",
            "textDocument/documentSymbol",
            "textDocument/foldingRange",
        ] {
            let r = c.request(
                m,
                json!({"textDocument": {"uri": "file:///nowhere/y.http"}}),
            );
            assert!(r.get("result").is_some() || r.get("error").is_some(), "{r}");
        }
        assert!(c.shutdown().success());
    }
}

/// 600 requests in flight at once, a third of them cancelled, mixed with edits: every
/// id is answered exactly once (a result, or the cancellation error), none other.
#[test]
fn concurrent_and_cancelled_requests_are_each_answered_once() {
    let mut rng = StdRng::seed_from_u64(7);
    let ws = Ws::new();
    let mut text = String::new();
    for i in 0..50 {
        text.push_str(&format!("### r{i} 😀\nGET http://127.0.0.1:9/{i}\n\n"));
    }
    let uri = file_uri(&ws.write("c.http", &text));
    let mut c = RawLsp::start(&ws, false);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "http", "version": 1, "text": text}}),
    );
    let start = Instant::now();
    let mut ids = Vec::new();
    let mut cancelled = HashSet::new();
    let mut version = 1;
    for k in 0..600 {
        ids.push(fire_random_request(&mut c, &mut rng, &uri, &text, false));
        if k % 3 == 0 {
            let victim = ids[rng.random_range(0..ids.len())];
            c.notify("$/cancelRequest", json!({"id": victim}));
            cancelled.insert(victim);
        }
        if k % 20 == 0 {
            let (a, b, insert) = random_edit(&mut rng, &text);
            let change = json!({"range": {"start": lsp_pos(&text, a, false), "end": lsp_pos(&text, b, false)}, "text": insert});
            text.replace_range(a..b, insert);
            version += 1;
            c.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
            );
        }
    }
    // A cancel for an id that never existed is ignored.
    c.notify("$/cancelRequest", json!({"id": 999_999}));
    let mut errors = 0;
    for id in &ids {
        let r = c.response(*id, SHORT);
        if let Some(e) = r.get("error") {
            assert!(
                cancelled.contains(id) && e["code"] == -32800,
                "request {id} failed: {r}"
            );
            errors += 1;
        }
    }
    // Nothing answered twice: no further response with any of these ids.
    let dup = c.wait_for(
        |m| m.get("method").is_none() && m["id"].as_i64().is_some_and(|i| ids.contains(&i)),
        Duration::from_millis(300),
    );
    assert!(dup.is_none(), "answered twice: {dup:?}");
    assert_in_sync(&mut c, &uri, &text, false, 600);
    eprintln!(
        "FIGURE lsp=concurrent requests={} cancel_sent={} cancelled_answers={errors} elapsed_ms={}",
        ids.len(),
        cancelled.len(),
        start.elapsed().as_millis()
    );
    assert!(c.shutdown().success());
}

/// A file of `n` requests: opening (to the first diagnostics), the outline, lenses,
/// folding and typing `typed` characters at its end stay within `bound` each.
fn huge_file(n: usize, typed: i64, bound: Duration) {
    let ws = Ws::new();
    let mut text = String::from("@host = http://127.0.0.1:9\n\n");
    for i in 0..n {
        text.push_str(&format!(
            "### request {i}\n# @name r{i}\nPOST {{{{host}}}}/items/{i}?q=中文\nContent-Type: application/json\nX-Trace: 😀-{i}\n\n{{\"id\": {i}, \"name\": \"item {i}\"}}\n\n"
        ));
    }
    let uri = file_uri(&ws.write("huge.http", &text));
    let mut c = RawLsp::start(&ws, false);
    let t = Instant::now();
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "http", "version": 1, "text": text}}),
    );
    // Wait longer than the bound so that the figure is known even when it is missed
    // (`HTTPLENS_HUGE_WAIT` seconds, for measuring a slow build).
    let wait = std::env::var("HTTPLENS_HUGE_WAIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(bound * 3, Duration::from_secs);
    let d = c
        .diagnostics(&uri, 1, wait)
        .unwrap_or_else(|| panic!("no diagnostics for {n} requests within {wait:?}"));
    let open = t.elapsed();
    eprintln!(
        "FIGURE lsp=huge-file requests={n} open_to_diagnostics_ms={}",
        open.as_millis()
    );
    assert_eq!(
        d["params"]["diagnostics"].as_array().unwrap().len(),
        0,
        "{d}"
    );
    let timed = |c: &mut RawLsp, m: &str| {
        let t = Instant::now();
        let r = c.request(m, json!({"textDocument": {"uri": uri}}));
        (r["result"].as_array().map_or(0, |a| a.len()), t.elapsed())
    };
    let (symbols, sym_t) = timed(&mut c, "textDocument/documentSymbol");
    let (lenses, lens_t) = timed(&mut c, "textDocument/codeLens");
    let (folds, fold_t) = timed(&mut c, "textDocument/foldingRange");
    assert!(symbols >= n, "{symbols} symbols");
    assert!(lenses > n, "{lenses} lenses");
    assert!(folds >= n, "{folds} folding ranges");
    // Typing at the end, one notification per character, then a hover.
    let last_line = text.matches('\n').count();
    let t = Instant::now();
    for k in 0..typed {
        c.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": 2 + k},
                "contentChanges": [{"range": {"start": {"line": last_line, "character": k}, "end": {"line": last_line, "character": k}}, "text": "x"}]
            }),
        );
    }
    assert!(
        c.diagnostics(&uri, 1 + typed, wait).is_some(),
        "no diagnostics after typing {typed} characters within {bound:?}"
    );
    let typing = t.elapsed();
    let hover = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 4, "character": 8}}),
    );
    assert!(hover.get("error").is_none(), "{hover}");
    let rss = sample(c.pid(), t.elapsed()).unwrap();
    eprintln!(
        "FIGURE lsp=huge-file requests={n} size_kb={} open_ms={} symbols_ms={} lenses_ms={} folding_ms={} typing_{typed}_chars_ms={} peak_rss_kb={}",
        text.len() / 1024,
        open.as_millis(),
        sym_t.as_millis(),
        lens_t.as_millis(),
        fold_t.as_millis(),
        typing.as_millis(),
        rss.hwm_kb
    );
    for (what, took) in [
        ("open", open),
        ("symbols", sym_t),
        ("lenses", lens_t),
        ("folding", fold_t),
        ("typing", typing),
    ] {
        assert!(took < bound, "{what} took {took:?}");
    }
    assert!(c.shutdown().success());
}

/// The brief's 10,000 requests (1.4 MB). Before the per-block line index was
/// removed from diagnostics, opening it took 239 s (quadratic); now well under 1 s.
#[test]
fn a_file_of_ten_thousand_requests() {
    huge_file(10_000, 5, Duration::from_secs(20));
}

/// A request after abuse is answered (a result or an error: either proves the server
/// still reads frames in order and answers).
fn assert_alive(c: &mut RawLsp, what: &str) {
    let id = c.request_async(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": "file:///nowhere/alive.http"}}),
    );
    let r = c
        .wait_for(
            |m| m.get("id") == Some(&json!(id)) && m.get("method").is_none(),
            SHORT,
        )
        .unwrap_or_else(|| panic!("no answer after {what}"));
    assert!(
        r.get("result").is_some() || r.get("error").is_some(),
        "after {what}: {r}"
    );
}

/// The error response with this id (or with a null id, for frames without one).
fn error_for(c: &mut RawLsp, id: Value, what: &str) -> Value {
    let r = c
        .wait_for(
            |m| m.get("method").is_none() && m["id"] == id && m.get("error").is_some(),
            SHORT,
        )
        .unwrap_or_else(|| panic!("no error response to {what}"));
    eprintln!("FIGURE lsp=invalid case={what:?} answer={}", r["error"]);
    r["error"].clone()
}

#[test]
fn wrong_methods_params_and_commands_are_answered() {
    let ws = Ws::new();
    let mut c = RawLsp::start(&ws, false);
    // Unknown methods: a request gets -32601, a notification nothing.
    c.send(&json!({"jsonrpc": "2.0", "id": "u1", "method": "no/such/method", "params": {}}));
    assert_eq!(
        error_for(&mut c, json!("u1"), "unknown method")["code"],
        -32601
    );
    c.send(&json!({"jsonrpc": "2.0", "method": "no/such/notification", "params": {}}));
    assert_alive(&mut c, "unknown notification");
    // Wrong parameter types.
    c.send(&json!({"jsonrpc": "2.0", "id": "p1", "method": "textDocument/hover", "params": {"textDocument": 5, "position": "here"}}));
    assert_eq!(
        error_for(&mut c, json!("p1"), "hover with wrong types")["code"],
        -32602
    );
    c.send(
        &json!({"jsonrpc": "2.0", "id": "p2", "method": "textDocument/codeLens", "params": null}),
    );
    error_for(&mut c, json!("p2"), "codeLens without params");
    c.send(&json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": []}}));
    c.send(&json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"contentChanges": 1}}));
    assert_alive(&mut c, "notifications with wrong types");
    // Commands with wrong arguments: one sentence each, no panic.
    for (i, args) in [
        json!([]),
        json!(["a string"]),
        json!([{"uri": 5, "line": "x"}]),
        json!([{"uri": "file:///nowhere.http", "line": -1}]),
        json!([{"uri": "not a uri", "line": 0}]),
    ]
    .into_iter()
    .enumerate()
    {
        for cmd in ["httplens.send", "httplens.copyAsCurl", "httplens.signIn"] {
            let id = format!("c{i}{cmd}");
            c.send(&json!({"jsonrpc": "2.0", "id": id, "method": "workspace/executeCommand", "params": {"command": cmd, "arguments": args}}));
            let e = error_for(&mut c, json!(id), &format!("{cmd} {args}"));
            let msg = e["message"].as_str().unwrap_or("");
            assert!(!msg.is_empty() && !msg.contains('\n'), "{cmd} {args}: {e}");
            assert!(!msg.contains("panicked"), "{cmd} {args}: {e}");
        }
    }
    c.send(&json!({"jsonrpc": "2.0", "id": "x1", "method": "workspace/executeCommand", "params": {"command": "httplens.noSuchCommand", "arguments": [{}]}}));
    error_for(&mut c, json!("x1"), "unknown command");
    // A frame with a Content-Type header besides its Content-Length.
    c.write_raw(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n");
    c.write_raw(&frame(
        &serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": "h1", "method": "textDocument/foldingRange", "params": {"textDocument": {"uri": "file:///x.http"}}}))
            .unwrap(),
    ));
    let r = c
        .wait_for(|m| m["id"] == "h1" && m.get("method").is_none(), SHORT)
        .expect("no answer to a frame with a Content-Type header");
    assert!(r.get("result").is_some(), "{r}");
    assert!(c.shutdown().success());
}

/// Broken frames: the server answers a parse error (or skips to the next frame) and
/// keeps serving, as JSON-RPC servers must. Today the first broken frame ends the
/// session: tower-lsp-server 0.23's read loop (`transport.rs`, `while let Some(msg) =
/// framed_stdin.next()`) treats the `None` that tokio-util 0.7 `FramedRead` yields
/// after a decode error as end of input, so `serve` returns and `httplens lsp` exits
/// with status 0, silently.
#[test]
fn malformed_frames_do_not_end_the_session() {
    let ws = Ws::new();
    let mut c = RawLsp::start(&ws, false);
    // Bad JSON in a correct frame.
    c.write_raw(&frame(b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": "));
    let e = error_for(&mut c, Value::Null, "bad JSON");
    assert_eq!(e["code"], -32700);
    assert_alive(&mut c, "bad JSON");
    // JSON that is not a message.
    c.write_raw(&frame(b"[1, 2, 3]"));
    c.write_raw(&frame(b"42"));
    assert_alive(&mut c, "non-object JSON");
    c.write_raw(b"Content-Length: abc\r\n\r\n{}");
    assert_alive(&mut c, "a non-numeric Content-Length");
    // A Content-Length shorter than the body: the rest is garbage before the next
    // frame; the server must find the next frame.
    let body = br#"{"jsonrpc": "2.0", "method": "initialized", "params": {}}"#;
    let mut short = format!("Content-Length: {}\r\n\r\n", body.len() - 10).into_bytes();
    short.extend_from_slice(body);
    c.write_raw(&short);
    assert_alive(&mut c, "a short Content-Length");
    // Header lines that are not UTF-8, or far too long: that frame is dropped.
    c.write_raw(b"Content-Length: 2\r\nX-Odd: \xff\xfe\r\n\r\n{}");
    assert_alive(&mut c, "a header line that is not UTF-8");
    let mut long = vec![b'a'; 100_000];
    long.extend_from_slice(b"\r\n\r\n");
    c.write_raw(&long);
    assert_alive(&mut c, "a 100 kB header line");
    // An oversized request is answered by its id (the rest of it is read and dropped).
    let n = 64 * 1024 * 1024 + 16;
    let mut big =
        br#"{"jsonrpc": "2.0", "id": 9001, "method": "textDocument/hover", "params": {"x": ""#
            .to_vec();
    big.resize(n - 3, b'x');
    big.extend_from_slice(br#""}}"#);
    c.write_raw(&frame(&big));
    drop(big);
    let e = error_for(&mut c, json!(9001), "an oversized request");
    assert_eq!(e["code"], -32600);
    assert_alive(&mut c, "an oversized request");
    assert!(c.shutdown().success());
}

/// The client stops reading (its end of the server's stdout is closed): the server's
/// next write fails and the session ends, instead of a server that reads requests it
/// can never answer.
#[test]
fn a_write_failure_ends_the_session() {
    use std::io::Write;
    let ws = Ws::new();
    let mut child = ws
        .command(&["lsp"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    let init =
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}});
    stdin
        .write_all(&frame(&serde_json::to_vec(&init).unwrap()))
        .unwrap();
    stdin.flush().unwrap();
    // Stdin stays open: only the failed write can end the session.
    let t = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if t.elapsed() > SHORT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = child.kill();
    assert!(
        status.is_some(),
        "the server kept running with nobody reading its output"
    );
    eprintln!(
        "FIGURE lsp=exit-after-write-failure ms={}",
        t.elapsed().as_millis()
    );
    drop(stdin);
}

/// An absurd Content-Length must not make the server reserve that much memory, and a
/// client that hangs up in the middle of it still ends the server.
#[test]
fn an_absurd_content_length_neither_allocates_nor_hangs() {
    let ws = Ws::new();
    let mut c = RawLsp::start(&ws, false);
    assert_alive(&mut c, "start");
    let before = sample(c.pid(), Duration::ZERO).unwrap();
    let read_before = hardening::chars_read(c.pid()).unwrap();
    let huge = b"Content-Length: 1000000000000\r\n\r\n{\"jsonrpc\": \"2.0\"}";
    c.write_raw(huge);
    // Once the server has read it all, it is inside the huge body (waiting for more).
    assert!(
        hardening::wait_until(SHORT, || hardening::chars_read(c.pid())
            .is_some_and(|n| n >= read_before + huge.len() as u64)),
        "the server did not read the frame"
    );
    let after = sample(c.pid(), Duration::ZERO).expect("the server died on a huge Content-Length");
    eprintln!(
        "FIGURE lsp=huge-content-length rss_kb {}->{}",
        before.rss_kb, after.rss_kb
    );
    assert!(
        after.hwm_kb < before.hwm_kb + 64 * 1024,
        "{before:?} -> {after:?}"
    );
    c.close_stdin();
    let t = Instant::now();
    let status = c.wait_exit(Duration::from_secs(5));
    assert!(
        status.is_some(),
        "the server kept running after stdin closed"
    );
    eprintln!(
        "FIGURE lsp=exit-after-huge-length ms={} status={status:?}",
        t.elapsed().as_millis()
    );
}

/// The editor goes away without `shutdown`: stdin closes; the idle server exits at
/// once.
#[test]
fn the_idle_server_exits_when_the_client_disappears() {
    let ws = Ws::new();
    let mut c = RawLsp::start(&ws, false);
    assert_alive(&mut c, "start");
    c.close_stdin();
    let t = Instant::now();
    let s = c
        .wait_exit(Duration::from_secs(5))
        .expect("the idle server did not exit after stdin closed");
    let idle = t.elapsed();
    eprintln!(
        "FIGURE lsp=stdin-closed idle exit_ms={} status={s:?}",
        idle.as_millis()
    );

    assert!(idle < Duration::from_secs(2));
}

/// The same with a send in flight to a peer that accepts and never answers (no
/// `@timeout`, no `timeoutSeconds`): the server must not outlive its client. Today it
/// does, indefinitely: tower-lsp's `serve` drains in-flight requests before returning
/// after end of input, and the send has no time limit, so `run_stdio`
/// (src/lsp/mod.rs) never gets to `shutdown_background`.
#[test]
fn a_server_with_a_send_in_flight_exits_when_the_client_disappears() {
    // With a send in flight (the peer accepts and never answers).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept() {
            let _ = tx.send(());
            held.push(s);
        }
    });
    let ws = Ws::new();
    let text = format!("GET http://127.0.0.1:{port}/hang\n");
    let uri = file_uri(&ws.write("h.http", &text));
    let mut c = RawLsp::start(&ws, false);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "http", "version": 1, "text": text}}),
    );
    c.request_async(
        "workspace/executeCommand",
        json!({"command": "httplens.send", "arguments": [{"uri": uri, "line": 0}]}),
    );
    rx.recv_timeout(SHORT)
        .expect("the send never reached the peer");
    c.close_stdin();
    let t = Instant::now();
    let s = c
        .wait_exit(Duration::from_secs(5))
        .expect("the server with a send in flight did not exit after stdin closed");
    eprintln!(
        "FIGURE lsp=stdin-closed send-in-flight exit_ms={} status={s:?}",
        t.elapsed().as_millis()
    );
}

/// `n` sends waiting on a peer that never answers must not stall the editor: lenses
/// are still answered, and each send stops on `$/cancelRequest`.
fn hanging_sends(n: usize) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept() {
            held.push(s);
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let ws = Ws::new();
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!("### r{i}\nGET http://127.0.0.1:{port}/{i}\n\n"));
    }
    let uri = file_uri(&ws.write("b.http", &text));
    let mut c = RawLsp::start(&ws, false);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "http", "version": 1, "text": text}}),
    );
    let sends: Vec<i64> = (0..n)
        .map(|i| {
            c.request_async(
                "workspace/executeCommand",
                json!({"command": "httplens.send", "arguments": [{"uri": uri, "line": i * 3 + 1}]}),
            )
        })
        .collect();
    // Every send is connected and waiting for its answer.
    assert!(
        hardening::wait_until(SHORT, || accepted.load(std::sync::atomic::Ordering::SeqCst)
            >= n),
        "only {} of {n} sends reached the peer",
        accepted.load(std::sync::atomic::Ordering::SeqCst)
    );
    let t = Instant::now();
    let id = c.request_async(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    let answered = c.wait_for(
        |m| m.get("id") == Some(&json!(id)) && m.get("method").is_none(),
        Duration::from_secs(5),
    );
    let waited = t.elapsed();
    eprintln!(
        "FIGURE lsp=hanging-sends n={n} codeLens_answered={} after_ms={}",
        answered.is_some(),
        waited.as_millis()
    );
    assert!(
        answered.is_some(),
        "codeLens was not answered within 5 s while {n} sends hang"
    );
    for id in &sends {
        c.notify("$/cancelRequest", json!({"id": id}));
    }
    for id in &sends {
        let r = c.response(*id, SHORT);
        assert!(r.get("error").is_some(), "a cancelled send answered {r}");
    }
    assert!(c.shutdown().success());
}

#[test]
fn three_hanging_sends_leave_the_server_responsive() {
    hanging_sends(3);
}

/// tower-lsp-server runs at most 4 requests at once (its default
/// `concurrency_level`), and a notification such as `$/cancelRequest` waits in the
/// same queue: with 4 sends stuck on a silent peer (and no default timeout) the server
/// answers nothing, not even the cancel, until a peer answers.
#[test]
fn six_hanging_sends_leave_the_server_responsive() {
    hanging_sends(6);
}

/// Edits, lenses and sends in a loop for `secs` seconds against a local server: RSS
/// after the warm-up must not keep growing (history is pruned, documents replaced).
fn soak(secs: u64) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let mut head = Vec::new();
                loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                    while let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                        head.drain(..i + 4);
                        let body = "{\"items\": [1, 2, 3], \"name\": \"中文 😀\"}";
                        let msg = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if s.write_all(msg.as_bytes()).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    let mut rng = StdRng::seed_from_u64(secs);
    let ws = Ws::new();
    let mut text = String::new();
    for i in 0..20 {
        text.push_str(&format!("### r{i} 😀\nGET http://127.0.0.1:{port}/{i}\n\n"));
    }
    let uri = file_uri(&ws.write("s.http", &text));
    let mut c = RawLsp::start(&ws, false);
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "http", "version": 1, "text": text}}),
    );
    let start = Instant::now();
    let (mut version, mut sends, mut edits) = (1, 0u64, 0u64);
    let mut warm = None;
    let mut last = None;
    while start.elapsed() < Duration::from_secs(secs) {
        // Type a comment line at the end and delete it again: the text stays small.
        for insert in [true, false] {
            let end = text.len();
            let line = format!("# note {edits} 中文 😀\n");
            let (a, b, ins) = if insert {
                (end, end, line.clone())
            } else {
                (end - line.len(), end, String::new())
            };
            let change = json!({"range": {"start": lsp_pos(&text, a, false), "end": lsp_pos(&text, b, false)}, "text": ins});
            text.replace_range(a..b, &ins);
            version += 1;
            edits += 1;
            c.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}),
            );
        }
        let _ = c.request(
            "textDocument/codeLens",
            json!({"textDocument": {"uri": uri}}),
        );
        let line = rng.random_range(0..20) * 3 + 1;
        let r = c.request(
            "workspace/executeCommand",
            json!({"command": "httplens.send", "arguments": [{"uri": uri, "line": line}]}),
        );
        assert_eq!(r["result"]["status"], 200, "{r}");
        sends += 1;
        c.clear_backlog();
        let s = sample(c.pid(), start.elapsed()).unwrap();
        if warm.is_none() && start.elapsed() > Duration::from_secs(secs / 4) {
            warm = Some(s);
        }
        last = Some(s);
    }
    let (warm, last) = (warm.unwrap(), last.unwrap());
    eprintln!(
        "FIGURE lsp=soak secs={secs} sends={sends} edits={edits} rss_kb warm={} end={} peak_kb={} fds warm={} end={}",
        warm.rss_kb, last.rss_kb, last.hwm_kb, warm.fds, last.fds
    );
    assert!(
        last.rss_kb < warm.rss_kb + 24 * 1024,
        "RSS grew from {} to {} KiB",
        warm.rss_kb,
        last.rss_kb
    );
    assert!(
        last.fds <= warm.fds + 4,
        "descriptors {} -> {}",
        warm.fds,
        last.fds
    );
    assert!(c.shutdown().success());
}

#[test]
fn a_short_soak_keeps_memory_flat() {
    soak(12);
}

/// `scripts/soak.sh` runs this; `HTTPLENS_SOAK_SECONDS` sets the length (default 60 s,
/// which is what `scripts/test-all.sh` gets: it runs ignored tests too).
#[test]
#[ignore = "long: run scripts/soak.sh"]
fn a_long_soak_keeps_memory_flat() {
    let secs = std::env::var("HTTPLENS_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    soak(secs);
}
