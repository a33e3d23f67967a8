//! JetBrains-style scripts (response handlers and pre-request scripts) run by
//! `httplens run` against a real HTTP server on 127.0.0.1: token chaining through
//! `client.global`, `client.test` results as assertions (exit code, JUnit), logs,
//! errors with their position, the sandbox's limits, and tokens kept from scripts.

#[path = "support/server.rs"]
mod server;

use std::path::PathBuf;

const BIN: &str = env!("CARGO_BIN_EXE_httplens");

struct Ws {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

fn workspace(files: &[(&str, &str)]) -> Ws {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    Ws { _tmp: tmp, dir }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn run(ws: &Ws, args: &[&str]) -> Run {
    let out = tokio::process::Command::new(BIN)
        .arg("run")
        .args(args)
        .current_dir(&ws.dir)
        .env("HTTPLENS_CACHE_DIR", ws.dir.join(".cache"))
        .env("HTTPLENS_CONFIG_DIR", ws.dir.join(".config"))
        .env_remove("HTTPLENS_BROWSER")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("run httplens");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn base(s: &server::TestServer) -> String {
    format!("base={}", s.url(""))
}

/// The JetBrains reference's chaining example: a login handler keeps the token in
/// `client.global`, the next request sends it.
#[tokio::test]
async fn a_token_set_by_a_handler_reaches_the_next_request() {
    let s = server::start().await;
    let ws = workspace(&[(
        "api.http",
        "### login\nPOST {{base}}/login\n\n> {%\n  client.global.set(\"auth_token\", response.body.token);\n  client.test(\"logged in\", function () {\n    client.assert(response.status === 200, \"status \" + response.status);\n    client.assert(response.contentType.mimeType === \"application/json\");\n  });\n  client.log(\"user\", response.body.user.id);\n%}\n\n### me\nGET {{base}}/protected\nAuthorization: Bearer {{auth_token}}\n\n> {%\n  client.test(\"the token worked\", function () {\n    client.assert(response.body.ok === true, \"not ok\");\n  });\n%}\n",
    )]);
    let r = run(&ws, &["api.http", "--var", &base(&s)]).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("# passed (line 4): client.test \"logged in\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("client.test \"the token worked\""),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("# log: user 7"), "{}", r.stdout);
    assert!(r.stderr.contains("login (line 2): user 7"), "{}", r.stderr);
    assert_eq!(
        s.counters
            .protected
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

/// A pre-request script computes a value the request is built from; it sees the
/// request as written and substituted.
#[tokio::test]
async fn a_pre_request_script_sets_request_variables() {
    let s = server::start().await;
    let ws = workspace(&[
        (
            "api.http",
            "### sign\n< {%\n  var body = request.body.tryGetSubstituted();\n  request.variables.set(\"sig\", crypto.hmac.sha256().withTextSecret(request.environment.get(\"key\")).updateWithText(body).digest().toHex());\n  request.variables.set(\"method\", request.method);\n  client.global.set(\"seen\", request.url.tryGetSubstituted());\n%}\nPOST {{base}}/echo\nX-Sig: {{sig}}\nX-Method: {{method}}\n\nhello {{who}}\n\n###\nGET {{base}}/echo?seen={{seen}}\n",
        ),
        (
            "http-client.env.json",
            r#"{"dev": {"key": "k1", "who": "world"}}"#,
        ),
    ]);
    let r = run(
        &ws,
        &[
            "api.http",
            "--env",
            "dev",
            "--var",
            &base(&s),
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let out: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let first: serde_json::Value = serde_json::from_str(out[0]["body"].as_str().unwrap()).unwrap();
    // HMAC-SHA256("k1", "hello world"), computed independently.
    let want = {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"k1");
        ring::hmac::sign(&key, b"hello world")
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(first["headers"]["x-sig"], want.as_str());
    assert_eq!(first["headers"]["x-method"], "POST");
    let second: serde_json::Value = serde_json::from_str(out[1]["body"].as_str().unwrap()).unwrap();
    assert!(
        second["query"].as_str().unwrap().contains("echo"),
        "{second}"
    );
}

/// A failing `client.test` fails the run (exit 1) and is a JUnit failure; a script
/// error names the file, line and column, and the response is still shown.
#[tokio::test]
async fn failed_tests_and_script_errors_fail_the_run_and_reach_junit() {
    let s = server::start().await;
    let ws = workspace(&[
        (
            "api.http",
            "### check\nGET {{base}}/status/404\n\n> {%\n  client.test(\"is ok\", function () {\n    client.assert(response.status === 200, \"expected 200, got \" + response.status);\n  });\n%}\n\n### broken\nGET {{base}}/echo\n\n> {%\n  var x = 1;\n  x.y.z = 2;\n%}\n\n### from a file\nGET {{base}}/echo\n\n> ./handler.js\n",
        ),
        (
            "handler.js",
            "client.log('in a file');\nundefinedFunction();\n",
        ),
    ]);
    let junit = ws.dir.join("report.xml");
    let r = run(
        &ws,
        &[
            "api.http",
            "--var",
            &base(&s),
            "--junit",
            junit.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("# FAILED (line 4): client.test \"is ok\": expected 200, got 404"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "# FAILED (line 13): script: api.http:15:3: cannot set property 'z' of undefined"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("script: ./handler.js:2:1: undefinedFunction is not defined"),
        "{}",
        r.stdout
    );
    // The responses are still shown.
    assert!(r.stdout.contains("HTTP/1.1 404"), "{}", r.stdout);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("is ok"), "{xml}");
    assert!(xml.contains("expected 200, got 404"), "{xml}");
    assert!(xml.contains("<failure"), "{xml}");
}

/// A runaway loop, a 1 GB allocation and `require("fs")` each end with a clear error at
/// the script, and the next request still works.
#[tokio::test]
async fn the_sandbox_stops_runaway_scripts_and_goes_on() {
    let s = server::start().await;
    let ws = workspace(&[(
        "api.http",
        "### loop\nGET {{base}}/echo\n\n> {% while (true) {} %}\n\n### alloc\nGET {{base}}/echo\n\n> {% var a = new ArrayBuffer(1024 * 1024 * 1024); %}\n\n### fs\nGET {{base}}/echo\n\n> {% require(\"fs\").readFileSync(\"/etc/passwd\") %}\n\n### after\nGET {{base}}/count\n\n> {% client.test(\"still works\", function () { client.assert(response.body.n === 1); }); %}\n",
    )]);
    let r = run(&ws, &["api.http", "--var", &base(&s)]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("ran longer than 2 s and was stopped"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("more than 64 MB of memory"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("script: api.http:14:5: require is not available"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("# passed (line 19): client.test \"still works\""),
        "{}",
        r.stdout
    );
}

/// `$auth.token` values are never readable by a script: the request a handler sees
/// has them masked, and a script that copies the header keeps only the mask.
#[tokio::test]
async fn a_script_cannot_read_a_token() {
    let s = server::start().await;
    let ws = workspace(&[(
        "api.http",
        "### me\nGET {{base}}/protected\nAuthorization: Bearer {{token}}\n\n> {%\n  var h = request.headers.findByName(\"Authorization\");\n  client.global.set(\"copied\", h ? h.getRawValue() : \"none\");\n  client.global.set(\"echoed\", response.body.echo);\n%}\n\n###\nPOST {{base}}/echo\n\n{{copied}}|{{echoed}}\n",
    )]);
    std::fs::write(
        ws.dir.join("http-client.private.env.json"),
        format!(r#"{{"dev": {{"token": "{}"}}}}"#, server::GOOD_TOKEN),
    )
    .unwrap();
    std::fs::write(ws.dir.join("http-client.env.json"), r#"{"dev": {}}"#).unwrap();
    let r = run(
        &ws,
        &[
            "api.http",
            "--env",
            "dev",
            "--var",
            &base(&s),
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let out: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let echoed: serde_json::Value = serde_json::from_str(out[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(echoed["body"], "Bearer ***|Bearer ***", "{echoed}");
    assert!(!r.stdout.contains(server::GOOD_TOKEN));
    assert!(!r.stderr.contains(server::GOOD_TOKEN));
}

/// Every corpus file with scripts resolves (dry run, in each of its environments)
/// with no "unknown variable" error for a name one of its scripts sets.
#[test]
fn corpus_files_know_the_names_their_scripts_set() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/http");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "the corpus folder {} is missing ({e}); it is needed for this test",
            dir.display()
        )
    }) {
        let sub = entry.unwrap().path();
        for f in std::fs::read_dir(&sub).into_iter().flatten() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "http" || e == "rest") {
                files.push(f);
            }
        }
    }
    files.sort();
    let mut with_setters = 0;
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let parsed = httplens::syntax::parse(&text);
        let set: Vec<String> = parsed
            .file
            .blocks
            .iter()
            .filter_map(|b| b.request.as_ref())
            .flat_map(|r| r.handlers.iter())
            .filter_map(|h| match &h.kind {
                httplens::syntax::HandlerKind::Script(code) => Some(code),
                _ => None,
            })
            .flat_map(|code| httplens::syntax::script_set_names(code).map(str::to_string))
            .collect();
        if set.is_empty() {
            continue;
        }
        with_setters += 1;
        let Ok(plain) = httplens::env::Workspace::load(&f, &[], None) else {
            continue;
        };
        let mut envs: Vec<Option<String>> = vec![None];
        envs.extend(plain.environments.names().into_iter().map(Some));
        for env in envs {
            let Ok(ws) = httplens::env::Workspace::load(&f, &[], env.as_deref()) else {
                continue;
            };
            let ctx = httplens::env::ResolveContext::dry_run(&ws);
            for b in 0..parsed.file.blocks.len() {
                let (_, diags) = httplens::request::build(&parsed.file, &text, b, &ctx);
                for d in diags {
                    let named = set.iter().find(|n| d.message.contains(&format!("`{n}`")));
                    assert!(
                        !(d.code == "unknown-variable" && named.is_some()),
                        "{} ({env:?}): {}",
                        f.display(),
                        d.message
                    );
                }
            }
        }
    }
    assert!(
        with_setters >= 10,
        "only {with_setters} corpus files set variables in scripts"
    );
}

/// httpyac's `{{ expression }}`: JavaScript with the variables in scope, on the wire;
/// one that fails is an error at send, never sent as written.
#[tokio::test]
async fn httpyac_expressions_are_evaluated_with_the_variables() {
    let s = server::start().await;
    let ws = workspace(&[(
        "api.http",
        "@page = 4\n\n### list\nGET {{base}}/echo?next={{ page * 2 }}&name={{ 'x'.toUpperCase() + page }}\nX-Sum: {{ [1, 2, 3].reduce((a, b) => a + b, 0) }}\n\n### broken\nGET {{base}}/echo?x={{ nope() }}\n",
    )]);
    let r = run(&ws, &["api.http", "--var", &base(&s), "--format", "json"]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let out: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let first: serde_json::Value = serde_json::from_str(out[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(first["query"], "next=8&name=X4", "{first}");
    assert_eq!(first["headers"]["x-sum"], "6", "{first}");
    let err = out[1]["error"].as_str().unwrap_or_default();
    assert!(
        err.contains("the expression `nope()` failed: nope is not defined"),
        "{}",
        r.stdout
    );
}
