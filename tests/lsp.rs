//! The language server, driven over stdio as an editor drives it: the real binary, a
//! small JSON-RPC client (`support/lsp_client.rs`), real files in temp folders, and a
//! real HTTP server on 127.0.0.1 for sends.

#[path = "support/lsp_client.rs"]
mod lsp_client;

use lsp_client::{LspClient, Options, file_uri};
use serde_json::{Value, json};

/// A temp workspace with its own cache/config folders, and the env for the server.
struct Ws {
    dir: tempfile::TempDir,
}

impl Ws {
    fn new() -> Ws {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proj/.git")).unwrap();
        Ws { dir }
    }
    fn root(&self) -> std::path::PathBuf {
        self.dir.path().join("proj")
    }
    fn write(&self, rel: &str, text: &str) -> String {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        file_uri(&p)
    }
    fn env(&self) -> Vec<(String, String)> {
        vec![
            (
                "HTTPLENS_CACHE_DIR".into(),
                self.dir.path().join("cache").to_string_lossy().into(),
            ),
            (
                "HTTPLENS_CONFIG_DIR".into(),
                self.dir.path().join("config").to_string_lossy().into(),
            ),
            ("HTTPLENS_TOKEN_STORE".into(), "memory".into()),
            ("HTTPLENS_LSP_TEST_HOOKS".into(), "1".into()),
        ]
    }
    fn start(&self, utf8: bool) -> (LspClient, Value) {
        let root = self.root();
        LspClient::start(&Options {
            utf8,
            root: Some(&root),
            env: self.env(),
            ..Default::default()
        })
    }
}

fn pos(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

fn lens_titles(lenses: &Value) -> Vec<String> {
    lenses
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["command"]["title"].as_str().unwrap().to_string())
        .collect()
}

const BASIC: &str = "@host = http://127.0.0.1:9\n\n### list users\nGET {{host}}/users\nAccept: application/json\n\n### create\n# @name create\nPOST {{host}}/users\nContent-Type: application/json\n\n{\"name\": \"x\"}\n";

#[test]
fn initialize_negotiates_the_position_encoding() {
    let ws = Ws::new();
    let (c, init) = ws.start(true);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    assert_eq!(
        init["capabilities"]["textDocumentSync"]["change"], 2,
        "incremental sync"
    );
    assert_eq!(init["serverInfo"]["name"], "httplens");
    let cmds = init["capabilities"]["executeCommandProvider"]["commands"]
        .as_array()
        .unwrap();
    assert!(cmds.contains(&json!("httplens.send")));
    assert!(c.shutdown().success());

    let (c, init) = ws.start(false);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16");
    assert!(c.shutdown().success());
}

#[test]
fn lenses_symbols_and_folding_of_a_request_file() {
    let ws = Ws::new();
    let uri = ws.write("api.http", BASIC);
    let (mut c, _) = ws.start(false);
    c.open(&uri, BASIC);
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    let titles = lens_titles(&lenses);
    assert_eq!(titles, vec!["env: none", "Send request", "Send request"]);
    let sends: Vec<&Value> = lenses
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["command"]["command"] == "httplens.send")
        .collect();
    assert_eq!(sends[0]["range"]["start"]["line"], 3);
    assert_eq!(
        sends[0]["command"]["arguments"][0],
        json!({"uri": uri, "line": 3})
    );
    assert_eq!(sends[1]["range"]["start"]["line"], 8);

    let symbols = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["host", "list users", "create"]);

    let folds = c.request(
        "textDocument/foldingRange",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(
        folds
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["startLine"] == 6 && f["endLine"] == 11),
        "{folds}"
    );
    c.shutdown();
}

#[test]
fn incremental_edits_with_emoji_cjk_and_crlf() {
    let ws = Ws::new();
    for utf8 in [false, true] {
        let text = "# 😀 中文\r\nGET http://127.0.0.1:9/a\r\n";
        let uri = ws.write("e.http", text);
        let (mut c, _) = ws.start(utf8);
        c.open(&uri, text);
        // Insert "### 名前 😀\r\n" at the start of line 1, then a request after the emoji on line 0.
        c.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": 2},
                "contentChanges": [
                    {"range": {"start": pos(1, 0), "end": pos(1, 0)}, "text": "### 名前 😀\r\n"},
                ]
            }),
        );
        // Replace "中文" (after "# 😀 ") with "x": UTF-16 col 5..7, UTF-8 col 7..13.
        let (s, e) = if utf8 { (7, 13) } else { (5, 7) };
        c.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": 3},
                "contentChanges": [
                    {"range": {"start": pos(0, s), "end": pos(0, e)}, "text": "x"},
                ]
            }),
        );
        let _ = c.diagnostics(&uri, 3);
        let symbols = c.request(
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": uri}}),
        );
        let s0 = &symbols[0];
        assert_eq!(s0["name"], "名前 😀", "utf8={utf8}: {symbols}");
        assert_eq!(s0["selectionRange"]["start"]["line"], 2);
        // The comment line now reads "# 😀 x": its fold/lens positions are whole lines,
        // so check the edit through a hover-free route: the env lens stays on line 0 and
        // the send lens moved to line 2.
        let lenses = c.request(
            "textDocument/codeLens",
            json!({"textDocument": {"uri": uri}}),
        );
        let send = lenses
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["command"]["command"] == "httplens.send")
            .unwrap();
        assert_eq!(send["range"]["start"]["line"], 2);
        // End of the request line: "GET http://127.0.0.1:9/a" is 24 units either way.
        assert_eq!(send["range"]["end"]["character"], 24);
        c.shutdown();
    }
}

#[test]
fn a_panicking_handler_fails_one_request_only() {
    let ws = Ws::new();
    let uri = ws.write("api.http", BASIC);
    let (mut c, _) = ws.start(false);
    c.open(&uri, BASIC);
    let r = c.execute("httplens.debugPanic", json!({}));
    assert!(r.get("error").is_some(), "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("keeps running")
    );
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(lens_titles(&lenses).len(), 3);
    assert!(c.shutdown().success());
}

/// A real HTTP server on 127.0.0.1 (axum, own runtime on a thread): `/users` answers
/// JSON, `/echo` echoes the body and the `X-Api-Key` header, `/hang` never answers.
fn start_http() -> u16 {
    use axum::Router;
    use axum::routing::{get, post};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = Router::new()
                .route(
                    "/users",
                    get(|| async { axum::Json(json!([{"id": 1, "name": "jane"}])) }),
                )
                .route(
                    "/echo",
                    post(|headers: axum::http::HeaderMap, body: String| async move {
                        let key = headers
                            .get("x-api-key")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        format!("key={key} body={body}")
                    }),
                )
                .route(
                    "/hang",
                    get(|| async {
                        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                        "late"
                    }),
                );
            axum::serve(l, app).await.unwrap();
        });
    });
    port
}

#[test]
fn diagnostics_carry_the_document_version() {
    let ws = Ws::new();
    let text = "GET http://127.0.0.1:9/{{nowhere}}\n\n{\"a\": 1}\n";
    let uri = ws.write("d.http", text);
    let (mut c, _) = ws.start(false);
    c.open(&uri, text);
    let d = c.diagnostics(&uri, 1);
    assert!(
        d.iter()
            .any(|x| x["severity"] == 1 && x["message"].as_str().unwrap().contains("nowhere")),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|x| x["severity"] == 4 && x["code"] == "body-on-get"),
        "{d:?}"
    );
    // Fix the variable: version 2 has no error left.
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"text": "@nowhere = x\nGET http://127.0.0.1:9/{{nowhere}}\n"}]
        }),
    );
    let d = c.diagnostics(&uri, 2);
    assert!(d.iter().all(|x| x["severity"] != 1), "{d:?}");
    c.shutdown();
}

#[test]
fn completion_hover_and_definition() {
    let ws = Ws::new();
    ws.write(
        "http-client.env.json",
        r#"{"dev": {"base": "http://127.0.0.1:9"}}"#,
    );
    let text = "@id = 42\n\n### one\n# @name login\nGET {{base}}/u/{{id}}\nAccept: application/json\n\n###\nGET {{login.response.body.$.token}}\n";
    let uri = ws.write("c.http", text);
    let (mut c, _) = ws.start(false);
    c.open(&uri, text);
    let at = |l, ch| json!({"textDocument": {"uri": uri}, "position": pos(l, ch)});
    // Variables inside braces: file, env, system and request variables.
    let items = c.request("textDocument/completion", at(4, 6));
    let labels: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect();
    for want in ["id", "base", "$guid", "login.response.body.$"] {
        assert!(labels.contains(&want.to_string()), "{want} in {labels:?}");
    }
    // Header names on a header line, methods at a request line start.
    let items = c.request("textDocument/completion", at(5, 2));
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["label"] == "Accept")
    );
    let items = c.request("textDocument/completion", at(5, 8));
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["label"] == "application/json"),
        "{items}"
    );
    let items = c.request("textDocument/completion", at(3, 4));
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["label"] == "no-redirect"),
        "{items}"
    );
    // Hover: the env value and where it comes from; the file variable.
    let h = c.request("textDocument/hover", at(4, 7));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(v.contains("http://127.0.0.1:9") && v.contains("dev"), "{v}");
    let h = c.request("textDocument/hover", at(4, 20));
    assert!(
        h["contents"]["value"].as_str().unwrap().contains("42"),
        "{h}"
    );
    // Definition: file variable -> its line; env var -> the env file; request name -> # @name.
    let d = c.request("textDocument/definition", at(4, 20));
    assert_eq!(d["range"]["start"]["line"], 0);
    let d = c.request("textDocument/definition", at(4, 7));
    assert!(
        d["uri"].as_str().unwrap().ends_with("http-client.env.json"),
        "{d}"
    );
    assert_eq!(d["range"]["start"]["line"], 0);
    let d = c.request("textDocument/definition", at(8, 8));
    assert_eq!(d["range"]["start"]["line"], 3);
    c.shutdown();
}

#[test]
fn state_and_environment_selection() {
    let ws = Ws::new();
    ws.write(
        "http-client.env.json",
        r#"{"dev": {"h": "a"}, "prod": {"h": "b"}}"#,
    );
    let uri = ws.write("s.http", BASIC);
    let (mut c, _) = ws.start(false);
    c.open(&uri, BASIC);
    let st = c.request("httplens/state", json!({"uri": uri}));
    assert_eq!(st["environments"], json!(["dev", "prod"]));
    assert_eq!(st["environment"], Value::Null);
    assert_eq!(st["tokenStore"], "memory");
    assert_eq!(st["version"], env!("CARGO_PKG_VERSION"));
    // Without a name the server asks; the fake editor picks "prod".
    *c.picker.lock().unwrap() = Some("prod".into());
    let r = c.execute("httplens.selectEnvironment", json!({"uri": uri}));
    assert_eq!(r["result"]["environment"], "prod", "{r}");
    c.wait_for(|m| m["method"] == "httplens/stateChanged" && m["params"]["uri"] == uri);
    assert!(
        c.server_requests
            .lock()
            .unwrap()
            .iter()
            .any(|m| m["method"] == "workspace/codeLens/refresh")
    );
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(lens_titles(&lenses)[0], "env: prod");
    c.shutdown();
    // Remembered per workspace root, across server restarts.
    let (mut c, _) = ws.start(false);
    c.open(&uri, BASIC);
    let st = c.request("httplens/state", json!({"uri": uri}));
    assert_eq!(st["environment"], "prod");
    let r = c.execute(
        "httplens.selectEnvironment",
        json!({"uri": uri, "name": "nope"}),
    );
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no environment"),
        "{r}"
    );
    c.shutdown();
}

#[test]
fn send_writes_a_response_document_and_shows_it() {
    let port = start_http();
    let ws = Ws::new();
    ws.write(
        "http-client.env.json",
        &format!(r#"{{"dev": {{"host": "http://127.0.0.1:{port}"}}}}"#),
    );
    let text = "### users\n# @name users\nGET {{host}}/users\n\n### again\nGET {{host}}/users?first={{users.response.body.$[0].name}}\n";
    let uri = ws.write("send.http", text);
    let (mut c, _) = ws.start(false);
    c.open(&uri, text);
    let id = c.request_async("workspace/executeCommand", json!({"command": "httplens.send", "arguments": [{"uri": uri, "line": 2}], "workDoneToken": "tok-1"}));
    let r = c.response(id);
    let res = &r["result"];
    assert_eq!(res["status"], 200, "{r}");
    let resp_uri = res["responseUri"].as_str().unwrap().to_string();
    assert!(resp_uri.contains("/cache/responses/"), "{resp_uri}");
    let shown =
        c.server_requests.lock().unwrap().iter().any(|m| {
            m["method"] == "window/showDocument" && m["params"]["uri"] == resp_uri.as_str()
        });
    assert!(shown, "showDocument for the response");
    c.wait_for(|m| {
        m["method"] == "$/progress"
            && m["params"]["token"] == "tok-1"
            && m["params"]["value"]["kind"] == "begin"
    });
    c.wait_for(|m| {
        m["method"] == "$/progress"
            && m["params"]["token"] == "tok-1"
            && m["params"]["value"]["kind"] == "end"
    });
    let path = resp_uri.trim_start_matches("file://");
    let doc = std::fs::read_to_string(path).unwrap();
    assert!(doc.starts_with("HTTP/1.1 200"), "{doc}");
    assert!(doc.contains("jane"));
    // The response document: no request diagnostics, lenses back to the request.
    c.open(&resp_uri, &doc);
    let d = c.diagnostics(&resp_uri, 1);
    assert!(d.is_empty());
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": resp_uri}}),
    );
    assert_eq!(lens_titles(&lenses), vec!["Send again", "Open request"]);
    assert_eq!(lenses[0]["command"]["arguments"][0]["line"], 2);
    // The chained request reads the first response (sent once, kept for the session).
    let r = c.execute("httplens.send", json!({"uri": uri, "line": 5}));
    assert_eq!(r["result"]["status"], 200, "{r}");
    // A second response to the first request: "Compare with previous" appears.
    let r = c.execute("httplens.send", json!({"uri": uri, "line": 0}));
    let second = r["result"]["responseUri"].as_str().unwrap().to_string();
    let text2 = std::fs::read_to_string(second.trim_start_matches("file://")).unwrap();
    c.open(&second, &text2);
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": second}}),
    );
    assert!(
        lens_titles(&lenses).contains(&"Compare with previous".to_string()),
        "{lenses}"
    );
    let r = c.execute(
        "httplens.compareWithPrevious",
        json!({"responseUri": second}),
    );
    assert!(
        r["result"]["path"].as_str().unwrap() != second.trim_start_matches("file://"),
        "{r}"
    );
    let r = c.execute("httplens.openRequest", json!({"responseUri": second}));
    assert_eq!(r["result"]["line"], 2, "{r}");
    // A failure is one sentence, shown and returned.
    let bad = "GET http://127.0.0.1:1/\n";
    let bad_uri = ws.write("bad.http", bad);
    c.open(&bad_uri, bad);
    let r = c.execute("httplens.send", json!({"uri": bad_uri, "line": 0}));
    let msg = r["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("refused"), "{msg}");
    c.wait_for(|m| m["method"] == "window/showMessage" && m["params"]["message"] == msg.as_str());
    c.shutdown();
}

#[test]
fn a_send_to_a_hanging_server_is_cancelled() {
    let port = start_http();
    let ws = Ws::new();
    let text = format!("GET http://127.0.0.1:{port}/hang\n");
    let uri = ws.write("hang.http", &text);
    let (mut c, _) = ws.start(false);
    c.open(&uri, &text);
    // $/cancelRequest.
    let id = c.request_async(
        "workspace/executeCommand",
        json!({"command": "httplens.send", "arguments": [{"uri": uri, "line": 0}]}),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    c.notify("$/cancelRequest", json!({"id": id}));
    let r = c.response(id);
    assert_eq!(r["error"]["code"], -32800, "{r}");
    // window/workDoneProgress/cancel on the client's token.
    let id = c.request_async("workspace/executeCommand", json!({"command": "httplens.send", "arguments": [{"uri": uri, "line": 0}], "workDoneToken": "hang-2"}));
    c.wait_for(|m| m["method"] == "$/progress" && m["params"]["token"] == "hang-2");
    c.notify("window/workDoneProgress/cancel", json!({"token": "hang-2"}));
    let r = c.response(id);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cancelled"),
        "{r}"
    );
    // Still answering.
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(lens_titles(&lenses).len(), 2);
    c.shutdown();
}

#[test]
fn a_private_secret_never_leaves_the_server_unless_revealed() {
    const SENTINEL: &str = "SENTINEL-7f3a9c-private-value";
    let port = start_http();
    let ws = Ws::new();
    ws.write(
        "http-client.env.json",
        &format!(r#"{{"dev": {{"host": "http://127.0.0.1:{port}"}}}}"#),
    );
    ws.write(
        "http-client.private.env.json",
        &format!(r#"{{"dev": {{"apiKey": "{SENTINEL}"}}}}"#),
    );
    let text = "POST {{host}}/echo\nX-Api-Key: {{apiKey}}\n\nsecret={{apiKey}}\n";
    let uri = ws.write("leak.http", text);
    let (mut c, _) = ws.start(false);
    c.open(&uri, text);
    let _ = c.diagnostics(&uri, 1);
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos(1, 14)}),
    );
    assert!(
        h["contents"]["value"].as_str().unwrap().contains("***"),
        "{h}"
    );
    c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": pos(1, 15)}),
    );
    c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    c.request("httplens/state", json!({"uri": uri}));
    let r = c.execute("httplens.send", json!({"uri": uri, "line": 0}));
    let resp = r["result"]["responseUri"].as_str().unwrap().to_string();
    let doc = std::fs::read_to_string(resp.trim_start_matches("file://")).unwrap();
    assert!(doc.contains("key=***") && !doc.contains(SENTINEL), "{doc}");
    let r = c.execute("httplens.copyAsCurl", json!({"uri": uri, "line": 0}));
    assert!(r["result"].as_str().unwrap().contains("***"), "{r}");
    assert!(
        !c.all_output().contains(SENTINEL),
        "the sentinel leaked into the protocol"
    );
    let r = c.execute(
        "httplens.copyAsCurl",
        json!({"uri": uri, "line": 0, "reveal": true}),
    );
    assert!(r["result"].as_str().unwrap().contains(SENTINEL), "{r}");
    c.shutdown();
}

/// UTF-16 position of byte offset `off` in `text` (test-side, independent of the
/// server's LineIndex).
fn utf16_pos(text: &str, off: usize) -> Value {
    let before = &text[..off];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let ch: usize = text[line_start..off].chars().map(char::len_utf16).sum();
    pos(line as u32, ch as u32)
}

#[test]
fn thousands_of_random_incremental_edits_keep_the_server_in_sync() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed_1234);
    let ws = Ws::new();
    let mut text = String::from(
        "### a\nGET http://127.0.0.1:9/a\n\n### 😀 b\nPOST http://127.0.0.1:9/b\n\n{}\n",
    );
    let uri = ws.write("r.http", &text);
    let (mut c, _) = ws.start(false);
    c.open(&uri, &text);
    let pieces = [
        "x",
        "😀",
        "中文",
        "\r\n",
        "\n",
        "### t\n",
        "GET http://h/p\n",
        "{{v}}",
        " ",
        "é",
        "\n\n",
        "# @name n\n",
    ];
    let mut version = 1;
    for _ in 0..3000 {
        // Two offsets at char boundaries (never between \r and \n).
        let bounds: Vec<usize> = text
            .char_indices()
            .map(|(i, _)| i)
            .chain([text.len()])
            .filter(|&i| {
                !(i > 0
                    && text.as_bytes()[i - 1] == b'\r'
                    && text.as_bytes().get(i) == Some(&b'\n'))
            })
            .collect();
        let a = bounds[rng.random_range(0..bounds.len())];
        let span = if rng.random_bool(0.5) {
            0
        } else {
            rng.random_range(0..8)
        };
        let b = bounds
            .iter()
            .copied()
            .filter(|&x| x >= a)
            .nth(span)
            .unwrap_or(a);
        let insert = if rng.random_bool(0.3) && text.len() > 40 {
            ""
        } else {
            pieces[rng.random_range(0..pieces.len())]
        };
        let (start, end) = (utf16_pos(&text, a), utf16_pos(&text, b));
        text.replace_range(a..b, insert);
        version += 1;
        c.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": start, "end": end}, "text": insert}]
            }),
        );
    }
    let _ = c.diagnostics(&uri, version);
    // The server's lenses equal what the ide layer computes from the client's text.
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    let got: Vec<(u64, u64)> = lenses
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["command"]["command"] == "httplens.send")
        .map(|l| {
            (
                l["range"]["start"]["line"].as_u64().unwrap(),
                l["range"]["end"]["character"].as_u64().unwrap(),
            )
        })
        .collect();
    let analysis = httplens::ide::Analysis::new(text.clone());
    let want: Vec<(u64, u64)> =
        httplens::ide::lenses::request_lenses(&analysis, None, &|_| Default::default(), 0)
            .into_iter()
            .filter(|l| matches!(l.action, httplens::ide::lenses::LensAction::Send { .. }))
            .map(|l| {
                let p = analysis.index.position(
                    &text,
                    l.range.end as usize,
                    httplens::text::PositionEncoding::Utf16,
                );
                (
                    analysis.index.line_of(l.range.start as usize) as u64,
                    p.character as u64,
                )
            })
            .collect();
    assert!(!want.is_empty(), "the edits left some requests");
    assert_eq!(got, want);
    let symbols = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(
        symbols.as_array().unwrap().len(),
        httplens::ide::symbols::symbols(&analysis).len()
    );
    assert!(c.shutdown().success());
}

#[test]
fn auth_profiles_in_lenses_and_state() {
    let ws = Ws::new();
    ws.write(
        "http-client.env.json",
        r#"{"dev": {"Security": {"Auth": {"shop": {"Type": "OAuth2", "Grant Type": "Client Credentials", "Token URL": "http://127.0.0.1:9/token", "Client ID": "cli", "Client Secret": "x-secret", "Scope": "a b"}}}}}"#,
    );
    let text = "GET http://127.0.0.1:9/me\nAuthorization: Bearer {{$auth.token(\"shop\")}}\n";
    let uri = ws.write("auth.http", text);
    let (mut c, _) = ws.start(false);
    c.open(&uri, text);
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(
        lens_titles(&lenses),
        vec!["env: dev", "Send request", "shop: sign in"]
    );
    assert_eq!(lenses[2]["command"]["command"], "httplens.signIn");
    assert_eq!(lenses[2]["command"]["arguments"][0]["profile"], "shop");
    let st = c.request("httplens/state", json!({"uri": uri}));
    assert_eq!(st["profiles"][0]["id"], "shop", "{st}");
    assert_eq!(st["profiles"][0]["signedIn"], false);
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos(1, 30)}),
    );
    assert!(
        h["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("Not signed in"),
        "{h}"
    );
    let items = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": pos(1, 38)}),
    );
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["label"] == "shop"),
        "{items}"
    );
    // Signing out of a profile that holds no tokens is fine, and announces the change.
    let r = c.execute("httplens.signOut", json!({"profile": "shop", "uri": uri}));
    assert_eq!(r["result"], Value::Null, "{r}");
    c.wait_for(|m| m["method"] == "httplens/stateChanged");
    // Sending needs the token: the token endpoint is down, so one clear sentence.
    let r = c.execute("httplens.send", json!({"uri": uri, "line": 0}));
    assert!(
        r["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.contains("x-secret")),
        "{r}"
    );
    c.shutdown();
}
