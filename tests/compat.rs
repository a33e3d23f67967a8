//! Compatibility with the collections users bring from REST Client, the JetBrains
//! client, httpyac, kulala.nvim and rest.nvim (issue 15): each case is a `.http` file
//! sent by the real engine to the real local server, checked by what arrived there.

#[path = "support/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use httplens::env::Workspace;
use httplens::exec::{Engine, EngineConfig, FileInput, NoTokenSource, Outcome, Silent};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// A temp workspace (its own root) holding `files`; the request file is `api.http`.
struct Ws {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

fn ws(files: &[(&str, &str)]) -> Ws {
    httplens::process::install_crypto_provider();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    for (p, c) in files {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, c).unwrap();
    }
    Ws { dir, _tmp: tmp }
}

impl Ws {
    fn file(&self) -> PathBuf {
        self.dir.join("api.http")
    }
}

/// Sends every request of `api.http` (with `base` set to the server) and returns the
/// outcomes; `process_env` stands for the process environment.
async fn send_all(
    w: &Ws,
    env: Option<&str>,
    base: &str,
    process_env: &[(&str, &str)],
) -> Vec<Outcome> {
    let file = w.file();
    let text = std::fs::read_to_string(&file).unwrap();
    let parsed = httplens::syntax::parse(&text);
    let mut workspace = Workspace::load(&file, &[], env).unwrap();
    workspace.process_env = Some(
        process_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let overrides = BTreeMap::from([("base".to_string(), base.to_string())]);
    let input = FileInput {
        workspace: &workspace,
        file: &parsed.file,
        text: &text,
        overrides: &overrides,
    };
    let mut c = EngineConfig::new(w.dir.clone());
    c.cache = w.dir.join(".cache");
    let e = Engine::new(c, Arc::new(NoTokenSource("no sign-in in tests".into())));
    e.send_all(&input, &CancellationToken::new(), &Silent).await
}

/// What the echo server saw for one outcome.
fn echoed(o: &Outcome) -> Value {
    let sent = o
        .result
        .as_ref()
        .unwrap_or_else(|e| panic!("line {}: {e}", o.line));
    serde_json::from_slice(sent.response.body.bytes()).expect("the echo's JSON")
}

fn header<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v["headers"][name].as_str()
}

/// `httplens show` as a process in `dir`: (stdout, stderr, exit code).
fn show(dir: &Path, args: &[&str]) -> (String, String, i32) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_httplens"))
        .current_dir(dir)
        .arg("show")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[tokio::test]
async fn graphql_is_detected_and_named_operations_get_operation_name() {
    let s = server::start().await;
    let w = ws(&[(
        "api.http",
        "POST {{base}}/echo/graphql\n\nquery Hero($id: ID) {\n  hero(id: $id) { name }\n}\n\n{\"id\": 7}\n\n\
         ###\nPOST {{base}}/echo/graphql\n\n{\n  hero { name }\n}\n\n\
         ###\nPOST {{base}}/echo/graphql\n\nmutation { like }\n\n\
         ###\nPOST {{base}}/echo/raw\nContent-Type: text/plain\n\nquery is a word here\n",
    )]);
    let out = send_all(&w, None, &s.url(""), &[]).await;
    assert_eq!(out.len(), 4);
    let named = echoed(&out[0]);
    assert_eq!(header(&named, "content-type"), Some("application/json"));
    let body: Value = serde_json::from_str(named["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "query": "query Hero($id: ID) {\n  hero(id: $id) { name }\n}",
            "operationName": "Hero",
            "variables": {"id": 7}
        })
    );
    // A plain JSON body is not GraphQL.
    assert_eq!(echoed(&out[1])["body"], "{\n  hero { name }\n}");
    let anon = echoed(&out[2]);
    let body: Value = serde_json::from_str(anon["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, serde_json::json!({"query": "mutation { like }"}));
    // An explicit non-JSON Content-Type keeps the body as written.
    assert_eq!(echoed(&out[3])["body"], "query is a word here");
}

#[tokio::test]
async fn form_bodies_over_several_lines_drop_the_spaces_around_separators() {
    let s = server::start().await;
    let w = ws(&[(
        "api.http",
        "POST {{base}}/echo/form\nContent-Type: application/x-www-form-urlencoded\n\nfoo = a &\nbar = b\n&baz=c d\n",
    )]);
    let out = send_all(&w, None, &s.url(""), &[]).await;
    assert_eq!(echoed(&out[0])["body"], "foo=a&bar=b&baz=c d");
}

#[tokio::test]
async fn repeated_cookie_lines_arrive_as_one_header() {
    let s = server::start().await;
    let w = ws(&[(
        "api.http",
        "GET {{base}}/echo/c\nCookie: a=1\nX-Other: x\ncookie: b=2;\nCookie: c=3\n",
    )]);
    let out = send_all(&w, None, &s.url(""), &[]).await;
    assert_eq!(header(&echoed(&out[0]), "cookie"), Some("a=1; b=2; c=3"));
}

#[tokio::test]
async fn query_characters_rfc_3986_forbids_are_percent_encoded_and_show_prints_the_same() {
    let s = server::start().await;
    let w = ws(&[(
        "api.http",
        "GET {{base}}/echo/q?filter={\"a\":[1]}&name=a b|c&ok=%41~x:y/z?@!$'()*+,;=\n",
    )]);
    let out = send_all(&w, None, &s.url(""), &[]).await;
    let want = "filter=%7B%22a%22:%5B1%5D%7D&name=a%20b%7Cc&ok=%41~x:y/z?@!$%27()*+,;=";
    assert_eq!(echoed(&out[0])["query"], want);
    let shown = "GET http://h.test/echo/q?filter={\"a\":[1]}&name=a b|c&ok=%41~x:y/z?@!$'()*+,;=\n";
    std::fs::write(w.dir.join("show.http"), shown).unwrap();
    let (stdout, stderr, code) = show(&w.dir, &["show.http"]);
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
    assert!(
        stdout.contains(&format!("GET http://h.test/echo/q?{want}\n")),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_body_file_gets_a_content_type_from_its_extension_unless_one_is_written() {
    let s = server::start().await;
    let w = ws(&[
        ("a.json", "{\"a\":1}"),
        ("b.xml", "<b/>"),
        ("c.txt", "plain"),
        ("d.bin", "raw"),
        (
            "api.http",
            "POST {{base}}/echo/1\n\n< ./a.json\n\n###\nPOST {{base}}/echo/2\n\n<@ ./b.xml\n\n\
             ###\nPOST {{base}}/echo/3\n\n< ./c.txt\n\n###\nPOST {{base}}/echo/4\n\n< ./d.bin\n\n\
             ###\nPOST {{base}}/echo/5\nContent-Type: text/x-mine\n\n< ./a.json\n",
        ),
    ]);
    let out = send_all(&w, None, &s.url(""), &[]).await;
    let types: Vec<Option<String>> = out
        .iter()
        .map(|o| header(&echoed(o), "content-type").map(str::to_string))
        .collect();
    assert_eq!(
        types,
        vec![
            Some("application/json".into()),
            Some("application/xml".into()),
            Some("text/plain".into()),
            None,
            Some("text/x-mine".into()),
        ]
    );
    assert_eq!(echoed(&out[0])["body"], "{\"a\":1}");
}

#[tokio::test]
async fn a_uniformly_indented_file_parses_and_escaped_braces_are_sent_literally() {
    let s = server::start().await;
    let w = ws(&[(
        "api.http",
        "    ### First\n    # @name first\n    POST {{base}}/echo/a\n    Content-Type: application/json\n\n    \
         {\"a\": \"\\{\\{x\\}\\}\"}\n\n    ?? status == 200\n\n    ### Second\n    GET {{base}}/echo/b\n      ?x=1\n    \
         ?? status == 200\n    GET {{base}}/echo/c\n",
    )]);
    let out = send_all(&w, None, &s.url(""), &[]).await;
    let seen: Vec<(String, Value)> = out
        .iter()
        .map(|o| {
            let e = echoed(o);
            (e["path"].as_str().unwrap().to_string(), e["query"].clone())
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("/echo/a".to_string(), Value::Null),
            ("/echo/b".to_string(), Value::from("x=1")),
            ("/echo/c".to_string(), Value::Null),
        ]
    );
    assert_eq!(out[0].name.as_deref(), Some("first"));
    assert!(out[0].passed() && out[1].passed());
    assert_eq!(
        echoed(&out[0])["body"].as_str().unwrap().trim(),
        "{\"a\": \"{{x}}\"}"
    );
}

#[tokio::test]
async fn a_commented_out_request_line_is_a_diagnostic_never_a_request_made_of_a_header() {
    let s = server::start().await;
    let text = "#POST {{base}}/echo/x\nContent-Type: application/json\n\n{\"a\": 1}\n\n###\nGET {{base}}/echo/next\n";
    let parsed = httplens::syntax::parse(text);
    let errors: Vec<(u32, &str)> = parsed
        .errors
        .iter()
        .filter(|d| d.severity == httplens::syntax::Severity::Error)
        .map(|d| (d.range.start, d.message.as_str()))
        .collect();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, 22, "at the header line");
    assert!(errors[0].1.contains("commented out"), "{errors:?}");
    let w = ws(&[("api.http", text)]);
    let out = send_all(&w, None, &s.url(""), &[]).await;
    assert_eq!(out.len(), 1, "only the real request is sent");
    assert_eq!(echoed(&out[0])["path"], "/echo/next");
}

/// The JSON body the echo server received.
fn sent_json(o: &Outcome) -> Value {
    serde_json::from_str(echoed(o)["body"].as_str().unwrap()).expect("a JSON body")
}

#[tokio::test]
async fn graphql_fragments_before_the_request_line_and_gql_files_are_sent_as_httpyac_does() {
    let s = server::start().await;
    let w = ws(&[
        (
            "q/hero.gql",
            "query HeroFromFile($id: ID) {\n  hero(id: $id) { ...Names }\n}\n",
        ),
        (
            "q/names.gql",
            "fragment Names on Hero {\n  name\n  ...Ids\n}\n",
        ),
        (
            "api.http",
            "fragment Parts on Repo {\n  description\n  forkCount\n}\n\n\
             fragment Unused on Repo {\n  id\n}\n\n\
             POST {{base}}/echo/graphql\n\nquery Repo($n: String!) {\n  repository(name: $n) { ...Parts }\n}\n\n{\"n\": \"x\"}\n\n\
             ###\ngql Names < ./q/names.gql\nfragment Ids on Hero { id }\n\n\
             POST {{base}}/echo/graphql\n\ngql HeroFromFile < ./q/hero.gql\n\n{\"id\": 3}\n",
        ),
    ]);
    let out = send_all(&w, None, &s.url(""), &[]).await;
    assert_eq!(out.len(), 2, "fragments are no requests");
    assert_eq!(
        sent_json(&out[0]),
        serde_json::json!({
            "query": "query Repo($n: String!) {\n  repository(name: $n) { ...Parts }\n}\nfragment Parts on Repo {\n  description\n  forkCount\n}",
            "operationName": "Repo",
            "variables": {"n": "x"}
        })
    );
    assert_eq!(
        sent_json(&out[1]),
        serde_json::json!({
            "query": "query HeroFromFile($id: ID) {\n  hero(id: $id) { ...Names }\n}\nfragment Names on Hero {\n  name\n  ...Ids\n}\nfragment Ids on Hero { id }",
            "operationName": "HeroFromFile",
            "variables": {"id": 3}
        })
    );
}

#[tokio::test]
async fn a_request_line_after_a_blank_line_in_a_body_starts_the_next_request() {
    let s = server::start().await;
    // httpyac's own examples write no `###` between GraphQL requests.
    let w = ws(&[(
        "api.http",
        "POST {{base}}/echo/one\n\n\nquery A {\n  a\n}\n\n{\"x\": 1}\n\n\nPOST {{base}}/echo/two\n\nquery B { b }\n",
    )]);
    let out = send_all(&w, None, &s.url(""), &[]).await;
    assert_eq!(out.len(), 2);
    assert_eq!(
        sent_json(&out[0]),
        serde_json::json!({"query": "query A {\n  a\n}", "operationName": "A", "variables": {"x": 1}})
    );
    assert_eq!(echoed(&out[1])["path"], "/echo/two");
    assert_eq!(sent_json(&out[1])["operationName"], "B");
}

/// A one-shot HTTP/1.1 server that answers with the request head it read, as is (the
/// echo server's router cannot route the asterisk form).
async fn head_echo() -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client closed before the end of the head");
            head.extend_from_slice(&buf[..n]);
        }
        let reply = format!(
            "HTTP/1.1 204 No Content\r\nAllow: GET, OPTIONS\r\nX-Head: {}\r\n\r\n",
            String::from_utf8_lossy(&head)
                .trim_end()
                .replace("\r\n", " | ")
        );
        sock.write_all(reply.as_bytes()).await.unwrap();
    });
    (addr, task)
}

#[tokio::test]
async fn options_asterisk_form_with_a_host_header_goes_on_the_wire_as_written() {
    let (addr, task) = head_echo().await;
    let w = ws(&[(
        "api.http",
        &format!("OPTIONS * HTTP/1.1\nHost: {addr}\nX-Why: probe\n"),
    )]);
    let out = send_all(&w, None, "unused", &[]).await;
    let sent = out[0].result.as_ref().expect("sent");
    task.await.unwrap();
    assert_eq!(sent.response.status, 204);
    let head = sent.response.header("x-head").unwrap();
    assert!(head.starts_with("OPTIONS * HTTP/1.1 | "), "{head}");
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains(&format!("host: {addr}")), "{head}");
    assert!(lower.contains("x-why: probe"), "{head}");
    // `show` prints the asterisk form too.
    let (stdout, stderr, code) = show(&w.dir, &["api.http"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert!(stdout.contains("OPTIONS *\n"), "{stdout}");
}

/// httpyac collections draw `---` rules between sections; after a request's
/// assertions such a line is a comment, not an error, and sends nothing. In a body
/// (a YAML document) it stays body text.
#[tokio::test]
async fn dash_rules_between_requests_are_comments() {
    let s = server::start().await;
    let w = ws(&[(
        "api.http",
        "GET {{base}}/echo/one\n?? status == 200\n\n---\n\n# the second\nGET {{base}}/echo/two\n?? status == 200\n\n---\n\n\
         ###\nPOST {{base}}/echo/yaml\nContent-Type: application/yaml\n\n---\na: 1\n",
    )]);
    let out = send_all(&w, None, &s.url(""), &[]).await;
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(out.iter().all(|o| o.passed()), "{out:?}");
    assert_eq!(echoed(&out[0])["path"], "/echo/one");
    assert_eq!(echoed(&out[0])["body"], "");
    assert_eq!(echoed(&out[1])["path"], "/echo/two");
    assert_eq!(echoed(&out[2])["body"], "---\na: 1");
}

/// Lua scripts (kulala's `-- lua` marker, rest.nvim's unmarked ones) are named as
/// such at the script, in the editor's checks and when sent; nothing pretends they ran.
#[tokio::test]
async fn lua_scripts_are_reported_as_lua_not_as_javascript_errors() {
    let s = server::start().await;
    let w = ws(&[(
        "api.http",
        "GET {{base}}/echo/a\n\n> {%\nlocal body = vim.json.decode(response.body)\nclient.global.set(\"id\", body.id)\n%}\n\n\
         ###\nGET {{base}}/echo/b\n\n> {%\n  -- lua\n  client.global.set('x', 1)\n%}\n",
    )]);
    let (_, err, code) = show(&w.dir, &["api.http"]);
    assert_eq!(code, 1, "{err}");
    let lua: Vec<&str> = err.lines().filter(|l| l.contains("Lua script")).collect();
    assert_eq!(lua.len(), 2, "{err}");
    // At the script's start (right after `{%`).
    assert!(lua[0].starts_with("api.http:3:5: error: script: "), "{err}");
    assert!(!err.contains("expecting"), "{err}");
    let out = send_all(&w, None, &s.url(""), &[]).await;
    for o in &out {
        let sent = o.result.as_ref().expect("the request is still sent");
        let failed: Vec<_> = sent.assertions.iter().filter(|a| !a.passed).collect();
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert!(
            failed[0]
                .reason
                .as_deref()
                .unwrap_or("")
                .contains("Lua script"),
            "{failed:?}"
        );
    }
}

/// REST Client's `curl` request lines are sent as the request curl would send:
/// method, URL (variables substituted), headers, `-u`, `-b`, data joined with `&`,
/// `--json`, `-G`, and `-F` multipart with a file part. A command that cannot be read
/// is an error at the option, and nothing is sent for it.
#[tokio::test]
async fn curl_request_lines_are_sent_as_curl_would_send_them() {
    let s = server::start().await;
    let w = ws(&[
        ("up.txt", "file content"),
        (
            "api.http",
            "@who = jane\n\n\
             ### put\n\
             curl -X PUT '{{base}}/echo/put?u={{who}}' \\\n  -H 'X-A: 1' -H \"X-B: two words\" \\\n  -u me:pw -b 'k=v' \\\n  -d a=1 -d 'b={{who}}'\n\n\
             ### json\n\
             curl {{base}}/echo/json --json '{\n  \"n\": 1\n}'\n?? status == 200\n\n\
             ### get\n\
             curl -sSL --compressed -G {{base}}/echo/get -d q=x --data-urlencode 'n=a b'\n\n\
             ### form\n\
             curl {{base}}/echo/form -F name={{who}} -F f=@up.txt\n\n\
             ### file, pasted with its pipe\n\
             curl -s {{base}}/echo/file --data-binary @up.txt -H 'X-C: {{who}}' | jq .\n\n\
             ### bad\n\
             curl --proxy p {{base}}/echo/bad\n",
        ),
    ]);
    let out = send_all(&w, None, &s.url(""), &[]).await;
    assert_eq!(out.len(), 5, "{out:?}");
    let put = echoed(&out[0]);
    assert_eq!(put["method"], "PUT");
    assert_eq!(put["path"], "/echo/put");
    assert_eq!(put["query"], "u=jane");
    assert_eq!(header(&put, "x-a"), Some("1"));
    assert_eq!(header(&put, "x-b"), Some("two words"));
    // base64("me:pw")
    assert_eq!(header(&put, "authorization"), Some("Basic bWU6cHc="));
    assert_eq!(header(&put, "cookie"), Some("k=v"));
    assert_eq!(
        header(&put, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(put["body"], "a=1&b=jane");
    let json = echoed(&out[1]);
    assert_eq!(json["method"], "POST");
    assert_eq!(header(&json, "content-type"), Some("application/json"));
    assert_eq!(header(&json, "accept"), Some("application/json"));
    assert_eq!(json["body"], "{\n  \"n\": 1\n}");
    assert!(out[1].passed());
    let get = echoed(&out[2]);
    assert_eq!(get["method"], "GET");
    assert_eq!(get["query"], "q=x&n=a%20b");
    assert_eq!(get["body"], "");
    let form = echoed(&out[3]);
    assert_eq!(
        header(&form, "content-type"),
        Some("multipart/form-data; boundary=----httplens-curl-form")
    );
    let body = form["body"].as_str().unwrap();
    assert!(
        body.contains("name=\"name\"\r\n\r\njane\r\n")
            && body.contains("name=\"f\"; filename=\"up.txt\"\r\n\r\nfile content\r\n")
            && body.ends_with("------httplens-curl-form--\r\n"),
        "{body:?}"
    );
    // `-d @file` is a form as far as curl is concerned, whatever the file is; the pipe
    // after the command is not part of it.
    let file = echoed(&out[4]);
    assert_eq!(file["method"], "POST");
    assert_eq!(file["path"], "/echo/file");
    assert_eq!(
        header(&file, "content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(header(&file, "x-c"), Some("jane"));
    assert_eq!(file["body"], "file content");
    let (_, err, code) = show(&w.dir, &["api.http"]);
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "api.http:25:6: error: This curl command cannot be read: the curl option `--proxy`"
        ),
        "{err}"
    );
}

/// httpyac corners from the corpus: `# @ref` naming a block of variables only, and
/// `{{$global.NAME}}` reading what a handler put in `client.global`; `$input` says
/// what to write instead.
#[tokio::test]
async fn httpyac_ref_to_variables_and_global_variables() {
    let s = server::start().await;
    let w = ws(&[(
        "api.http",
        "###\n# @name variables\n@path = /echo/ref\n\n\
         ### login\nPOST {{base}}/echo/login\n\n> {%\n  client.global.set(\"accessToken\", \"tok-\" + response.status);\n%}\n\n\
         ### uses\n# @ref variables\nGET {{base}}{{path}}\nAuthorization: Bearer {{$global.accessToken}}\n",
    )]);
    let (_, err, code) = show(&w.dir, &["api.http"]);
    assert!(!err.contains("no request named"), "{err}");
    assert!(!err.contains("accessToken"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.contains("error")).count(),
        2,
        "only `base` is unknown here: {err}"
    );
    assert_eq!(code, 1);
    let out = send_all(&w, None, &s.url(""), &[]).await;
    assert_eq!(out.len(), 2, "{out:?}");
    let used = echoed(&out[1]);
    assert_eq!(used["path"], "/echo/ref");
    assert_eq!(header(&used, "authorization"), Some("Bearer tok-200"));

    // Never set: an error that says how to set it, and nothing is sent.
    let w = ws(&[(
        "api.http",
        "GET {{base}}/echo/x\nAuthorization: Bearer {{$global.nope}}\n\n###\nGET {{base}}/echo/{{$input id $value: 1}}\n",
    )]);
    let out = send_all(&w, None, &s.url(""), &[]).await;
    let e0 = out[0].result.as_ref().unwrap_err();
    assert!(e0.contains("client.global.set(\"nope\""), "{e0}");
    let e1 = out[1].result.as_ref().unwrap_err();
    assert!(e1.contains("# @prompt"), "{e1}");
}
