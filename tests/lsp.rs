//! The language server, driven over stdio as an editor drives it: the real binary, a
//! small JSON-RPC client (`support/lsp_client.rs`), real files in temp folders, and a
//! real HTTP server on 127.0.0.1 for sends.

#[path = "support/demo_stack.rs"]
mod demo_stack;
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

/// The response document a `httplens.send` answer names.
fn response_doc(answer: &Value) -> String {
    let uri = answer["result"]["responseUri"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"));
    std::fs::read_to_string(uri.trim_start_matches("file://")).unwrap()
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
        json!({"uri": uri, "line": 3, "version": 1})
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
fn hover_shows_dotenv_and_the_precedence_with_values_masked() {
    let ws = Ws::new();
    ws.write(
        "http-client.env.json",
        r#"{"$schema": "x", "dev": {"deep": {"nested": {"var": "deep-value"}}}}"#,
    );
    ws.write(".env", "DOT_TOKEN=dot-secret-value\n");
    let text = "GET http://127.0.0.1:9/{{DOT_TOKEN}}\nX-Deep: {{deep.nested.var}}\n";
    let uri = ws.write("d.http", text);
    let (mut c, _) = ws.start(false);
    c.open(&uri, text);
    let at = |l, ch| json!({"textDocument": {"uri": uri}, "position": pos(l, ch)});
    let h = c.request("textDocument/hover", at(0, 26));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(v.contains(".env") && v.contains("***"), "{v}");
    assert!(!v.contains("dot-secret-value"), "{v}");
    assert!(v.contains("Precedence, highest first"), "{v}");
    assert!(v.find("`.env`") > v.find("the environment"), "{v}");
    // No unknown-variable for a .env name (nor for `"$schema"`).
    let d = c.diagnostics(&uri, 1);
    assert!(d.iter().all(|x| x["severity"] != 1), "{d:?}");
    c.shutdown();
}

/// A pasted curl command gets a "Convert curl command to request" quick action whose
/// edit, applied, leaves the request in this file's own syntax; the command itself is
/// already a request (a lens, no error) before it is converted.
/// Lenses carry the document version their lines were counted in; a command made for
/// another version is refused (the line may point elsewhere now), with the same sentence
/// as a `window/showMessage` and the error, and a command without a version (what the
/// `{uri, line}` of `docs/lsp-extensions.md` allows any client to send) acts on the text as it is.
#[test]
fn a_command_from_a_lens_of_an_older_version_is_refused() {
    let ws = Ws::new();
    let text = "GET http://127.0.0.1:9/a\n\n###\nGET http://127.0.0.1:9/b\n";
    let uri = ws.write("r.http", text);
    let (mut c, _) = ws.start(false);
    c.open(&uri, text);
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    let send: Vec<&Value> = lenses
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["command"])
        .filter(|cmd| cmd["command"] == "httplens.send")
        .collect();
    let arg = send[1]["arguments"][0].clone();
    assert_eq!(arg, json!({"uri": uri, "line": 3, "version": 1}));
    // The same argument, to copy the request: fine while the text is that version.
    let curl = |c: &mut LspClient, arg: &Value| c.execute("httplens.copyAsCurl", arg.clone());
    let r = curl(&mut c, &arg);
    assert!(r["result"].as_str().unwrap().contains("/b"), "{r}");
    // A request inserted above: line 3 is now another request's.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": {"start": pos(0, 0), "end": pos(0, 0)},
                "text": "GET http://127.0.0.1:9/c\n\n###\n"}]}),
    );
    let stale = "The file changed since this lens was made; try again.";
    for command in ["httplens.copyAsCurl", "httplens.send"] {
        let r = c.execute(command, arg.clone());
        assert_eq!(r["error"]["message"], stale, "{r}");
        assert_eq!(r["error"]["code"], -32803, "{r}");
    }
    c.wait_for(|m| m["method"] == "window/showMessage" && m["params"]["message"] == stale);
    let r = curl(&mut c, &json!({"uri": uri, "line": 3}));
    assert!(r["result"].as_str().unwrap().contains("/a"), "{r}");
    let r = curl(&mut c, &json!({"uri": uri, "line": 6, "version": 2}));
    assert!(r["result"].as_str().unwrap().contains("/b"), "{r}");
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(
        lenses
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["command"]["command"] == "httplens.send")
            .all(|l| l["command"]["arguments"][0]["version"] == 2),
        "{lenses}"
    );
    c.shutdown();
}

#[test]
fn a_pasted_curl_command_converts_to_a_request() {
    let ws = Ws::new();
    let text = "### paste\ncurl -X POST 'http://127.0.0.1:9/items' \\\n  -H 'Content-Type: application/json' \\\n  -d '{\"a\":1}'\n";
    let uri = ws.write("p.http", text);
    let (mut c, init) = ws.start(false);
    assert!(
        init["capabilities"]["codeActionProvider"].is_object(),
        "{init}"
    );
    c.open(&uri, text);
    let d = c.diagnostics(&uri, 1);
    assert!(d.iter().all(|x| x["severity"] != 1), "{d:?}");
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(
        lens_titles(&lenses).iter().any(|t| t.contains("Send")),
        "{lenses}"
    );
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": pos(2, 3), "end": pos(2, 3)},
               "context": {"diagnostics": []}}),
    );
    let actions = r.as_array().expect("actions");
    assert_eq!(actions.len(), 1, "{r}");
    assert_eq!(actions[0]["title"], "Convert curl command to request");
    assert_eq!(actions[0]["kind"], "refactor.rewrite");
    let edits = &actions[0]["edit"]["changes"][&uri];
    assert_eq!(edits.as_array().unwrap().len(), 1, "{r}");
    assert_eq!(edits[0]["range"]["start"], pos(1, 0));
    assert_eq!(edits[0]["range"]["end"], pos(3, 14));
    assert_eq!(
        edits[0]["newText"],
        "POST http://127.0.0.1:9/items\nContent-Type: application/json\n\n{\n  \"a\": 1\n}"
    );
    // Nothing is offered on a plain request.
    let plain = "GET http://127.0.0.1:9/a\n";
    let uri2 = ws.write("q.http", plain);
    c.open(&uri2, plain);
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri2}, "range": {"start": pos(0, 2), "end": pos(0, 2)},
               "context": {"diagnostics": []}}),
    );
    assert_eq!(r, json!([]));
    c.shutdown();
}

/// With no Secret Service (no session bus here), the keychain falls back to the kernel
/// keyring: `httplens/state` says `keyutils` and the user is told once with
/// `window/showMessage` (the CLI's stderr notice is only a log line in an editor).
#[test]
fn the_keyring_fallback_is_told_to_the_editor_user_once() {
    let ws = Ws::new();
    ws.write(
        "http-client.env.json",
        r#"{"dev": {"Security": {"Auth": {"p": {"Type": "OAuth2", "Grant Type": "Client Credentials", "Token URL": "http://127.0.0.1:9/token", "Client ID": "a", "Client Secret": "b"}}}}}"#,
    );
    let text = "GET http://127.0.0.1:9/a\n";
    let uri = ws.write("k.http", text);
    let root = ws.root();
    let mut env: Vec<(String, String)> = ws
        .env()
        .into_iter()
        .filter(|(k, _)| k != "HTTPLENS_TOKEN_STORE")
        .collect();
    env.push(("HTTPLENS_TOKEN_STORE".into(), "keychain".into()));
    env.push((
        "DBUS_SESSION_BUS_ADDRESS".into(),
        "unix:path=/nonexistent/httplens-test-bus".into(),
    ));
    let (mut c, _) = LspClient::start(&Options {
        root: Some(&root),
        env,
        ..Default::default()
    });
    c.open(&uri, text);
    let state = c.request("httplens/state", json!({"uri": uri}));
    assert_eq!(
        state["tokenStore"], "keyutils",
        "this test needs the kernel keyring (keyctl) and no Secret Service: {state}"
    );
    let told = c.wait_for(|m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|t| t.contains("kernel keyring"))
    });
    assert_eq!(told["params"]["type"], 2, "a warning: {told}");
    // Once: asking again says nothing more.
    c.request("httplens/state", json!({"uri": uri}));
    let again = c.try_wait_for(
        &|m: &Value| {
            m["method"] == "window/showMessage"
                && m["params"]["message"]
                    .as_str()
                    .is_some_and(|t| t.contains("kernel keyring"))
        },
        std::time::Duration::from_millis(500),
    );
    assert!(again.is_none(), "told twice: {again:?}");
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
    // The server says which document is a response and where responses live: the
    // clients ask instead of testing paths and first lines themselves.
    let st = c.request("httplens/state", json!({"uri": resp_uri}));
    assert_eq!(st["isResponse"], true, "{st}");
    let dir = st["responsesDir"].as_str().unwrap();
    assert!(
        path.starts_with(&format!("{dir}/")),
        "{path} is not under {dir}"
    );
    assert_eq!(
        c.request("httplens/state", json!({"uri": uri}))["isResponse"],
        false
    );
    // A copy of a response kept beside the requests is still one (its status line).
    let copy_uri = ws.write("kept-response.http", &doc);
    c.open(&copy_uri, &doc);
    assert_eq!(
        c.request("httplens/state", json!({"uri": copy_uri}))["isResponse"],
        true
    );
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
    // A plain path (docs/lsp-extensions.md), to an earlier document of the same request.
    let prev = r["result"].as_str().unwrap_or_else(|| panic!("{r}"));
    assert!(prev != second.trim_start_matches("file://"), "{r}");
    assert!(
        std::fs::read_to_string(prev)
            .unwrap()
            .starts_with("HTTP/1.1 200")
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
    // Copy as Python requests / JavaScript fetch: masked the same way.
    for (language, start) in [
        ("python", "import requests\n"),
        ("javascript", "const response = await fetch("),
    ] {
        let r = c.execute(
            "httplens.copyAsCode",
            json!({"uri": uri, "line": 0, "language": language}),
        );
        let code = r["result"].as_str().unwrap_or_else(|| panic!("{r}"));
        assert!(code.starts_with(start), "{code}");
        assert!(code.contains("\"X-Api-Key\": \"***\""), "{code}");
        assert!(code.contains("secret=***"), "{code}");
    }
    assert!(
        !c.all_output().contains(SENTINEL),
        "the sentinel leaked into the protocol"
    );
    let r = c.execute(
        "httplens.copyAsCode",
        json!({"uri": uri, "line": 0, "language": "python", "reveal": true}),
    );
    assert!(r["result"].as_str().unwrap().contains(SENTINEL), "{r}");
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

/// A token store that cannot be opened leaves the profiles listed, each with the
/// reason in its summary (before, they vanished from `httplens/state`).
#[test]
fn an_unusable_token_store_is_said_in_each_profile_summary() {
    let ws = Ws::new();
    ws.write(
        "http-client.env.json",
        r#"{"dev": {"Security": {"Auth": {"shop": {"Type": "OAuth2", "Grant Type": "Client Credentials", "Token URL": "http://127.0.0.1:9/token", "Client ID": "cli", "Client Secret": "x-secret"}}}}}"#,
    );
    let text = "GET http://127.0.0.1:9/me\nAuthorization: Bearer {{$auth.token(\"shop\")}}\n";
    let uri = ws.write("auth.http", text);
    let root = ws.root();
    let mut env: Vec<(String, String)> = ws
        .env()
        .into_iter()
        .filter(|(k, _)| k != "HTTPLENS_TOKEN_STORE")
        .collect();
    env.push(("HTTPLENS_TOKEN_STORE".into(), "vault".into()));
    let (mut c, _) = LspClient::start(&Options {
        root: Some(&root),
        env,
        ..Default::default()
    });
    c.open(&uri, text);
    let st = c.request("httplens/state", json!({"uri": uri}));
    assert_eq!(st["tokenStore"], "unavailable", "{st}");
    assert_eq!(st["profiles"][0]["id"], "shop", "{st}");
    assert_eq!(st["profiles"][0]["signedIn"], false, "{st}");
    let summary = st["profiles"][0]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("state unknown: ") && summary.contains("vault"),
        "{summary}"
    );
    c.shutdown();
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
    assert_eq!(st["profiles"][0]["summary"], "not signed in", "{st}");
    assert_eq!(st["isResponse"], false, "{st}");
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

#[test]
fn send_all_goes_through_the_engine_with_outputs_notes_and_progress() {
    let port = start_http();
    let ws = Ws::new();
    ws.write(
        "http-client.env.json",
        &format!(r#"{{"dev": {{"host": "http://127.0.0.1:{port}"}}}}"#),
    );
    let text = "### users\n# @name users\nGET {{host}}/users\n\n>>! ./out/users.json\n\n### careful\n# @note this deletes everything\nGET {{host}}/users?who={{users.response.body.$[0].name}}\n";
    let uri = ws.write("all.http", text);
    let (mut c, _) = ws.start(false);
    c.open(&uri, text);
    // The editor dismisses the @note question: the first is sent, the second is not.
    *c.picker.lock().unwrap() = None;
    let id = c.request_async(
        "workspace/executeCommand",
        json!({"command": "httplens.sendAll", "arguments": [{"uri": uri}], "workDoneToken": "all-1"}),
    );
    let r = c.response(id);
    let res = r["result"].as_array().unwrap_or_else(|| panic!("{r}"));
    assert_eq!(res.len(), 2, "{r}");
    assert_eq!(res[0]["status"], 200, "{r}");
    assert!(res[1]["status"].is_null(), "{r}");
    assert!(
        res[1]["error"].as_str().unwrap().contains("declined"),
        "{r}"
    );
    // `>>` wrote the body beside the request file, as `run` does.
    let out = std::fs::read_to_string(ws.root().join("out/users.json")).unwrap();
    assert!(out.contains("jane"), "{out}");
    let asked = c.server_requests.lock().unwrap().iter().any(|m| {
        m["method"] == "window/showMessageRequest"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|s| s.contains("this deletes everything"))
    });
    assert!(asked, "the @note was asked with window/showMessageRequest");
    // One line about them all, as an error: one request got no response.
    let summary = c.wait_for(|m| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|s| s.starts_with("Sent 2 requests"))
    });
    let message = summary["params"]["message"].as_str().unwrap();
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(
        lines[0],
        "Sent 2 requests: 1 answered (200), 1 not (careful (line 9): Not sent: the request asks for confirmation (# @note) and it was declined).",
        "{message}"
    );
    // Then one line per request: the answered one names its response document (the
    // path on disk the result's `responseUri` points at), the other why it got none.
    assert_eq!(lines.len(), 3, "{message}");
    assert_eq!(res[0]["label"], "users (line 3)", "{r}");
    assert_eq!(res[1]["label"], "careful (line 9)", "{r}");
    let uri0 = res[0]["responseUri"].as_str().unwrap();
    let path0 = uri0.strip_prefix("file://").unwrap();
    assert!(
        lines[1].starts_with("- users (line 3): 200 in ")
            && lines[1].ends_with(&format!(", {path0}")),
        "{message}"
    );
    assert!(std::path::Path::new(path0).is_file(), "{path0}");
    assert_eq!(
        lines[2],
        "- careful (line 9): no response (Not sent: the request asks for confirmation (# @note) and it was declined)",
        "{message}"
    );
    assert_eq!(summary["params"]["type"], 1, "an error");
    // Progress reports name each request.
    c.wait_for(|m| {
        m["method"] == "$/progress"
            && m["params"]["token"] == "all-1"
            && m["params"]["value"]["message"]
                .as_str()
                .is_some_and(|s| s.starts_with("2/2"))
    });
    // Confirmed this time; the dependency's response is kept for the session.
    *c.picker.lock().unwrap() = Some("Send".into());
    let r = c.execute("httplens.send", json!({"uri": uri, "line": 8}));
    assert_eq!(r["result"]["status"], 200, "{r}");
    let doc = response_doc(&r);
    assert!(doc.contains("who=jane"), "{doc}");
    c.shutdown();
}

#[test]
fn prompt_variables_are_asked_from_the_editor_and_a_secret_one_is_masked() {
    let port = start_http();
    let ws = Ws::new();
    ws.write(
        "http-client.env.json",
        &format!(r#"{{"dev": {{"host": "http://127.0.0.1:{port}"}}}}"#),
    );
    let text = "### login
# @prompt who the user to log in as
# @prompt password
POST {{host}}/echo

who={{who}} pw={{password}}
";
    let uri = ws.write("prompt.http", text);
    let root = ws.root();
    let opts = |prompt| Options {
        root: Some(&root),
        env: ws.env(),
        prompt,
        ..Default::default()
    };

    // A client that cannot ask: nothing is sent, and the message says what to do.
    let (mut c, _) = LspClient::start(&opts(false));
    c.open(&uri, text);
    let r = c.execute("httplens.send", json!({"uri": uri, "line": 3}));
    let err = r["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(err.contains("`who`") && err.contains("--var who="), "{err}");
    c.shutdown();

    let (mut c, _) = LspClient::start(&opts(true));
    c.open(&uri, text);
    // Dismissing the second question sends nothing.
    c.prompter
        .lock()
        .unwrap()
        .insert("who".into(), "jane".into());
    let r = c.execute("httplens.send", json!({"uri": uri, "line": 3}));
    let err = r["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{r}"));
    assert!(err.contains("no value was given for `password`"), "{err}");
    // Both answered: sent with the values, the secret one masked in the document.
    c.prompter
        .lock()
        .unwrap()
        .insert("password".into(), "s3cr3t-typed".into());
    let r = c.execute("httplens.send", json!({"uri": uri, "line": 3}));
    assert_eq!(r["result"]["status"], 200, "{r}");
    let doc = response_doc(&r);
    assert!(doc.contains("body=who=jane pw=***"), "{doc}");
    assert!(!doc.contains("s3cr3t-typed"), "{doc}");
    let asked: Vec<Value> = c
        .server_requests
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m["method"] == "httplens/prompt")
        .map(|m| m["params"].clone())
        .collect();
    assert_eq!(
        asked[..2],
        [
            json!({"name": "who", "description": "the user to log in as", "secret": false}),
            json!({"name": "password", "description": "", "secret": true}),
        ]
    );
    // The editor knows them: hover says they are asked for, completion offers them.
    let at = |l, ch| json!({"textDocument": {"uri": uri}, "position": pos(l, ch)});
    let h = c.request("textDocument/hover", at(5, 7));
    assert_eq!(
        h["contents"]["value"],
        "`who` is asked for before sending (`# @prompt`: the user to log in as)."
    );
    let h = c.request("textDocument/hover", at(5, 19));
    assert_eq!(
        h["contents"]["value"],
        "`password` is asked for before sending (`# @prompt`) (typed without echo, masked in what is shown)."
    );
    let items = c.request("textDocument/completion", at(5, 6));
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["label"] == "who" && i["detail"] == "asked for before sending (# @prompt)"),
        "{items}"
    );
    assert!(
        !c.all_output().contains("s3cr3t-typed"),
        "the typed secret never comes back from the server"
    );
    c.shutdown();
}

#[test]
fn auth_profile_and_env_file_problems_are_diagnostics_and_stdio_is_accepted() {
    let ws = Ws::new();
    // `shop` lacks its Token URL; `nope` is not defined at all.
    let env_uri = ws.write(
        "http-client.env.json",
        "{\n  \"dev\": {\n    \"Security\": {\"Auth\": {\n      \"shop\": {\"Type\": \"OAuth2\", \"Grant Type\": \"Client Credentials\", \"Client ID\": \"cli\", \"Client Secret\": \"x\"}\n    }}\n  }\n}\n",
    );
    let text = "GET http://127.0.0.1:9/a\nAuthorization: Bearer {{$auth.token(\"shop\")}}\n\n###\nGET http://127.0.0.1:9/b\nAuthorization: Bearer {{$auth.token(\"shop\")}}\nX-Other: {{$auth.token(\"nope\")}}\n";
    let uri = ws.write("p.http", text);
    let root = ws.root();
    // `--stdio` (what many clients append) is accepted and ignored; "" settings are unset.
    let (mut c, _) = LspClient::start(&Options {
        root: Some(&root),
        env: ws.env(),
        args: vec!["--stdio".into()],
        init_options: json!({"environment": "", "tokenStore": ""}),
        ..Default::default()
    });
    c.open(&uri, text);
    let st = c.request("httplens/state", json!({"uri": uri}));
    assert_eq!(st["tokenStore"], "memory", "{st}");
    assert_eq!(st["environment"], "dev", "{st}");
    let d = c.diagnostics(&uri, 1);
    let missing: Vec<&Value> = d
        .iter()
        .filter(|x| x["code"] == "auth-profile" && x["severity"] == 1)
        .collect();
    assert_eq!(missing.len(), 2, "an error at each use of shop: {d:?}");
    assert!(
        missing
            .iter()
            .all(|x| x["message"].as_str().unwrap().contains("Token URL")),
        "{d:?}"
    );
    assert_eq!(missing[0]["range"]["start"]["line"], 1);
    assert_eq!(missing[1]["range"]["start"]["line"], 5);
    assert!(
        d.iter().any(|x| x["severity"] == 1
            && x["range"]["start"]["line"] == 6
            && x["message"].as_str().unwrap().contains("nope")),
        "{d:?}"
    );
    // ... and on the env file, at the profile's key.
    let m = c.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == env_uri.as_str()
    });
    let ed = m["params"]["diagnostics"].as_array().unwrap();
    assert_eq!(ed.len(), 1, "{m}");
    assert_eq!(ed[0]["range"]["start"]["line"], 3, "{m}");
    assert!(ed[0]["message"].as_str().unwrap().contains("Token URL"));
    // A malformed private env file: a diagnostic on that file's URI.
    let private_uri = ws.write("http-client.private.env.json", "{\"dev\": {\"k\": 1,}\n");
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": private_uri, "type": 1}]}),
    );
    let m = c.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == private_uri.as_str()
    });
    let pd = m["params"]["diagnostics"].as_array().unwrap();
    assert!(
        pd.iter().any(|x| x["severity"] == 1
            && x["message"].as_str().unwrap().contains("JSON")
            && x["range"]["start"]["line"] == 0),
        "{m}"
    );
    c.shutdown();
    // `httplens show` reports the same profile errors.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_httplens"))
        .args(["show", "--env", "dev"])
        .arg(ws.root().join("p.http"))
        .envs(ws.env())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("Token URL").count(), 2, "{err}");
    assert!(err.contains("p.http:2:23: error"), "{err}");
}

fn script(path: &std::path::Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn sign_in_from_the_editor_then_a_signed_send_and_a_pasted_redirect() {
    let (_rt, provider, api) = demo_stack::start_ims_and_api();
    let ws = Ws::new();
    ws.write(
        "http-client.env.json",
        &httplens::demo::scaffold::env_json(&provider, &api).to_string(),
    );
    ws.write(
        "http-client.private.env.json",
        &httplens::demo::scaffold::private_env_json().to_string(),
    );
    let text = "### me\n# @name me\nGET {{baseUrl}}/V1/customers/me\nAuthorization: Bearer {{$auth.token(\"demo\")}}\nx-api-key: {{clientId}}\n";
    let uri = ws.write("me.http", text);
    let browser = ws.dir.path().join("browser.sh");
    script(
        &browser,
        "exec curl -sSL --noproxy '*' --max-time 15 -o /dev/null \"$1\"",
    );
    let mut env = ws.env();
    env.push(("HTTPLENS_TOKEN_STORE".into(), "file".into()));
    env.push(("HTTPLENS_BROWSER".into(), browser.to_string_lossy().into()));
    let root = ws.root();
    let (mut c, _) = LspClient::start(&Options {
        root: Some(&root),
        env: env.clone(),
        ..Default::default()
    });
    c.open(&uri, text);
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    assert!(
        lens_titles(&lenses).contains(&"demo: sign in".to_string()),
        "{lenses}"
    );
    let r = c.execute("httplens.signIn", json!({"profile": "demo", "uri": uri}));
    assert_eq!(r["result"]["account"], "demo.user@example.test", "{r}");
    assert!(r["result"]["expiresAt"].as_i64().unwrap() > 0, "{r}");
    c.wait_for(|m| m["method"] == "httplens/stateChanged" && m["params"]["uri"] == uri.as_str());
    let lenses = c.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    let titles = lens_titles(&lenses);
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("demo: signed in as demo.user@example.test")),
        "{titles:?}"
    );
    let st = c.request("httplens/state", json!({"uri": uri}));
    assert_eq!(st["profiles"][0]["signedIn"], true, "{st}");
    let summary = st["profiles"][0]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("signed in as demo.user@example.test, ") && summary.ends_with(" left"),
        "{summary}"
    );
    // A signed request to the protected endpoint.
    let r = c.execute("httplens.send", json!({"uri": uri, "line": 2}));
    assert_eq!(r["result"]["status"], 200, "{r}");
    let doc = response_doc(&r);
    assert!(doc.contains("demo.user@example.test"), "{doc}");
    // Sign out, then sign in with a browser that never comes back: the pasted
    // redirect URL completes it.
    let tokens_file = ws.dir.path().join("config/tokens.json");
    let mut secrets = stored_secrets(&tokens_file);
    assert!(
        secrets.len() >= 2,
        "a real access and refresh token: {secrets:?}"
    );
    let r = c.execute("httplens.signOut", json!({"profile": "demo", "uri": uri}));
    assert_eq!(r["result"], Value::Null, "{r}");
    let all = c.all_output();
    for s in &secrets {
        assert!(
            !all.contains(s.as_str()),
            "a token leaked into the protocol"
        );
    }
    c.shutdown();

    let seen = ws.dir.path().join("authorize-url.txt");
    script(
        &ws.dir.path().join("browser.sh"),
        &format!("printf '%s' \"$1\" > '{}'", seen.display()),
    );
    let (mut c, _) = LspClient::start(&Options {
        root: Some(&root),
        env,
        ..Default::default()
    });
    c.open(&uri, text);
    let id = c.request_async(
        "workspace/executeCommand",
        json!({"command": "httplens.signIn", "arguments": [{"profile": "demo", "uri": uri}]}),
    );
    let redirect = redirect_the_browser_ends_on(&seen);
    // While the browser has not come back, the server says so (and said it changed).
    c.wait_for(|m| m["method"] == "httplens/stateChanged" && m["params"]["uri"] == uri.as_str());
    let st = c.request("httplens/state", json!({"uri": uri}));
    assert_eq!(st["profiles"][0]["summary"], "signing in", "{st}");
    let r = c.execute(
        "httplens.completeSignIn",
        json!({"profile": "demo", "redirectUrl": redirect}),
    );
    assert_eq!(r["result"]["profile"], "demo", "{r}");
    let r = c.response(id);
    assert_eq!(r["result"]["account"], "demo.user@example.test", "{r}");
    let r = c.execute("httplens.send", json!({"uri": uri, "line": 2}));
    assert_eq!(r["result"]["status"], 200, "{r}");
    c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos(3, 30)}),
    );
    c.request("httplens/state", json!({"uri": uri}));
    let r = c.execute("httplens.copyAsCurl", json!({"uri": uri, "line": 2}));
    assert!(r["result"].as_str().is_some(), "{r}");
    // A send that needs a sign-in starts one; "Complete sign-in" finishes it too, and
    // the send goes on to its response.
    secrets.extend(stored_secrets(&tokens_file));
    let r = c.execute("httplens.signOut", json!({"profile": "demo", "uri": uri}));
    assert_eq!(r["result"], Value::Null, "{r}");
    std::fs::write(&seen, "").unwrap();
    let id = c.request_async(
        "workspace/executeCommand",
        json!({"command": "httplens.send", "arguments": [{"uri": uri, "line": 2}]}),
    );
    let redirect = redirect_the_browser_ends_on(&seen);
    // While the browser has not come back, the server says so (and said it changed).
    c.wait_for(|m| m["method"] == "httplens/stateChanged" && m["params"]["uri"] == uri.as_str());
    let st = c.request("httplens/state", json!({"uri": uri}));
    assert_eq!(st["profiles"][0]["summary"], "signing in", "{st}");
    let r = c.execute(
        "httplens.completeSignIn",
        json!({"profile": "demo", "redirectUrl": redirect}),
    );
    assert_eq!(r["result"]["profile"], "demo", "{r}");
    let r = c.response(id);
    assert_eq!(r["result"]["status"], 200, "{r}");
    // No token (nor the client secret) ever reached the protocol.
    secrets.extend(stored_secrets(&tokens_file));
    secrets.push(httplens::demo::scaffold::CLIENT_SECRET.to_string());
    assert!(secrets.len() >= 5, "{secrets:?}");
    let all = c.all_output();
    for s in &secrets {
        assert!(
            !all.contains(s.as_str()),
            "a secret leaked into the protocol"
        );
    }
    c.shutdown();
}

/// The browser stub wrote the authorize URL to `seen`; the provider approves and
/// redirects, and the redirect is not followed (the user copies it from the address
/// bar instead): the URL to paste.
fn redirect_the_browser_ends_on(seen: &std::path::Path) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read_to_string(seen).unwrap_or_default().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the browser was not opened"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let authorize = std::fs::read_to_string(seen).unwrap();
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "--noproxy",
            "*",
            "-o",
            "/dev/null",
            "-w",
            "%{redirect_url}",
        ])
        .arg(&authorize)
        .output()
        .expect("curl");
    let redirect = String::from_utf8(out.stdout).unwrap();
    assert!(redirect.contains("code="), "{redirect}");
    redirect
}

/// Every token in the file store.
fn stored_secrets(file: &std::path::Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Vec::new();
    };
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for (_, e) in v.as_object().unwrap() {
        // Entries may hold the token JSON as a string.
        let e: Value = match e.as_str() {
            Some(s) => serde_json::from_str(s).unwrap_or(Value::Null),
            None => e.clone(),
        };
        for k in ["access_token", "refresh_token", "id_token"] {
            if let Some(s) = e[k].as_str() {
                out.push(s.to_string());
            }
        }
    }
    out
}

/// The server keeps the loaded workspace (env files, `.env`) and the lenses between
/// requests; a change on disk must still show, even without any notification.
#[test]
fn env_files_changed_on_disk_reach_lenses_and_diagnostics() {
    let ws = Ws::new();
    ws.write(
        "http-client.env.json",
        r#"{"dev": {"host": "127.0.0.1:9"}}"#,
    );
    let text = "GET http://{{host}}/{{token}}\n";
    let uri = ws.write("c.http", text);
    let (mut c, _) = ws.start(false);
    c.open(&uri, text);
    let d = c.diagnostics(&uri, 1);
    assert!(
        d.iter()
            .any(|x| x["severity"] == 1 && x["message"].as_str().unwrap().contains("token")),
        "{d:?}"
    );
    let lens = |c: &mut LspClient| {
        lens_titles(&c.request(
            "textDocument/codeLens",
            json!({"textDocument": {"uri": uri}}),
        ))
    };
    assert_eq!(lens(&mut c)[0], "env: dev");
    assert_eq!(lens(&mut c)[0], "env: dev", "asked twice, same answer");
    // The env file is rewritten behind the server's back: `prod` (the only one, so
    // selected) defines `token` too.
    ws.write(
        "http-client.env.json",
        r#"{"prod": {"host": "127.0.0.1:8", "token": "t"}}"#,
    );
    // Same document version: the lenses see the change.
    assert_eq!(lens(&mut c)[0], "env: prod");
    // An edit re-resolves against the new file: no unknown variable left.
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": {"start": pos(1, 0), "end": pos(1, 0)}, "text": "\n"}]
        }),
    );
    let d = c.diagnostics(&uri, 2);
    assert!(d.iter().all(|x| x["severity"] != 1), "{d:?}");
    // A `.env` appearing is seen too: `{{$dotenv X}}` resolves once it exists, even
    // when the edit is in another request (the first one's text did not change).
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 3},
            "contentChanges": [{"text": "GET http://{{host}}/{{$dotenv X}}\n\n###\nGET http://{{host}}/b\n"}]
        }),
    );
    let before = c.diagnostics(&uri, 3);
    ws.write(".env", "X=1\n");
    c.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": 4},
            "contentChanges": [{"range": {"start": pos(3, 21), "end": pos(3, 21)}, "text": "c"}]
        }),
    );
    let after = c.diagnostics(&uri, 4);
    assert!(
        before
            .iter()
            .any(|x| x["message"].as_str().unwrap().contains('X')),
        "{before:?}"
    );
    assert!(
        after
            .iter()
            .all(|x| !x["message"].as_str().unwrap().contains('X')),
        "{after:?}"
    );
    c.shutdown();
}

/// Scripts run when sending from the editor too: a handler's `client.global` value
/// reaches the next request of the session, `client.test` results and logs are in
/// the response document, and a use of the name before it is set is no error.
#[test]
fn editor_sends_run_scripts_and_keep_globals_for_the_session() {
    let port = start_http();
    let ws = Ws::new();
    ws.write(
        "http-client.env.json",
        &format!(r#"{{"dev": {{"host": "http://127.0.0.1:{port}"}}}}"#),
    );
    let text = "### users
GET {{host}}/users

> {%
  client.global.set(\"first\", response.body[0].name);
  client.test(\"has users\", function () { client.assert(response.body.length === 1); });
  client.log(\"first user\", response.body[0].name);
%}

### echo
POST {{host}}/echo

name={{first}}
";
    let uri = ws.write("scripts.http", text);
    let root = ws.root();
    let (mut c, _) = LspClient::start(&Options {
        root: Some(&root),
        env: ws.env(),
        ..Default::default()
    });
    c.open(&uri, text);
    let d = c.wait_for(|m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri.as_str()
    });
    assert_eq!(d["params"]["diagnostics"], json!([]), "{d}");
    let r = c.execute("httplens.send", json!({"uri": uri, "line": 1}));
    assert_eq!(r["result"]["status"], 200, "{r}");
    let doc = response_doc(&r);
    assert!(
        doc.contains("# passed (line 4): client.test \"has users\""),
        "{doc}"
    );
    assert!(doc.contains("# log: first user jane"), "{doc}");
    let r = c.execute("httplens.send", json!({"uri": uri, "line": 10}));
    assert_eq!(r["result"]["status"], 200, "{r}");
    let doc = response_doc(&r);
    assert!(doc.contains("body=name=jane"), "{doc}");
    c.shutdown();
}

/// OpenAPI wiring: a spec named by the environment drives path completion (a snippet),
/// hover on the request line and a warning for an unknown path; a broken spec named by
/// `# @openapi` is one warning on that line.
#[test]
fn openapi_specs_drive_completion_hover_and_diagnostics() {
    let ws = Ws::new();
    ws.write(
        "api/spec.yaml",
        "openapi: 3.0.3\ninfo: {title: Pets, version: '1'}\npaths:\n  /pets/{id}:\n    get:\n      summary: Get a pet\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: integer}}\n      responses:\n        200: {description: the pet}\n",
    );
    ws.write("broken.json", "{\"openapi\": \"3.0.0\", \"paths\": ");
    ws.write(
        "http-client.env.json",
        r#"{"dev": {"base": "http://127.0.0.1:9", "openapi": "./api/spec.yaml"}}"#,
    );
    let text = "# @openapi ./broken.json\n\n###\nGET {{base}}/pets/7\n\n###\nGET {{base}}/nope\n";
    let uri = ws.write("o.http", text);
    let (mut c, _) = ws.start(false);
    c.open(&uri, text);
    let at = |l, ch| json!({"textDocument": {"uri": uri}, "position": pos(l, ch)});
    let items = c.request("textDocument/completion", at(3, 13));
    let pet = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "/pets/{id}")
        .unwrap_or_else(|| panic!("{items}"));
    assert_eq!(pet["insertTextFormat"], 2, "{pet}");
    assert_eq!(pet["textEdit"]["newText"], "/pets/${1:id}", "{pet}");
    assert_eq!(pet["textEdit"]["range"]["start"], pos(3, 12), "{pet}");
    let h = c.request("textDocument/hover", at(3, 1));
    let v = h["contents"]["value"].as_str().unwrap();
    assert!(
        v.contains("Get a pet") && v.contains("`200`: the pet"),
        "{v}"
    );
    let d = c.diagnostics(&uri, 1);
    let unknown: Vec<&Value> = d
        .iter()
        .filter(|x| x["code"] == "openapi-unknown-path")
        .collect();
    assert_eq!(unknown.len(), 1, "{d:?}");
    assert_eq!(unknown[0]["range"]["start"]["line"], 6);
    assert_eq!(unknown[0]["severity"], 2);
    let broken: Vec<&Value> = d.iter().filter(|x| x["code"] == "openapi-spec").collect();
    assert_eq!(broken.len(), 1, "{d:?}");
    assert_eq!(broken[0]["range"]["start"], pos(0, 11));
    assert!(d.iter().all(|x| x["severity"] != 1), "{d:?}");
    c.shutdown();
}
