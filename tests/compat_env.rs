//! Compatibility of variables and environments with what users already have (issue
//! 15): nested env values, `"$schema"` in env files, `.env` values as variables, the
//! process-environment fallback and the masking of both, each checked with what
//! reaches a real local server.

#[path = "support/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use httplens::env::Workspace;
use httplens::exec::{Engine, EngineConfig, FileInput, NoTokenSource, Silent};
use tokio_util::sync::CancellationToken;

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    file: PathBuf,
    cache: PathBuf,
}

/// A workspace with `api.http` and the given extra files (name, text).
fn fixture(http: &str, files: &[(&str, &str)]) -> Fixture {
    httplens::process::install_crypto_provider();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let file = dir.join("api.http");
    std::fs::write(&file, http).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    Fixture {
        cache: tmp.path().join("cache"),
        dir,
        file,
        _tmp: tmp,
    }
}

const ENV_PUBLIC: &str = r#"{
  "$schema": "https://example.invalid/http-client.env.schema.json",
  "$kulalaShared": {
    "$kulalaDefaultHeaders": {"X-Shared-Default": "shared", "X-Env-Default": "from-shared", "Accept": "text/plain"},
    "KULALA_SHARED_VAR": "kulala-shared"
  },
  "dev": {
    "$kulalaDefaultHeaders": {"X-Env-Default": "{{SHADOW}}-dev"},
    "deep": {"nested": {"var": "deep-public", "other": "kept"}},
    "SHADOW": "from-env-file"
  }
}"#;

// Comments, as JetBrains and Visual Studio accept in env files (corpus 071).
const ENV_PRIVATE: &str = r#"{
  // "deep": "commented out"
  "dev": {"deep": {"nested": {"var": "deep-private-value"}}} /* block */
}"#;

const DOTENV: &str = "API_TOKEN=dotenv-secret-123\nSHADOW=from-dotenv\nORDER=dotenv-beats-file\n";

const HTTP: &str = r#"@ORDER = file-default
@FILEONLY = file-only

###
GET {{base}}/echo
Accept: application/json
X-Kulala-Shared: {{KULALA_SHARED_VAR}}
X-Deep: {{deep.nested.var}}
X-Other: {{deep.nested.other}}
X-Dot: {{API_TOKEN}}
X-Dollar: {{$dotenv API_TOKEN}}
X-Shadow: {{SHADOW}}
X-Order: {{ORDER}}
X-File: {{FILEONLY}}
X-Proc: {{HTTPLENS_COMPAT_PROC}}
X-Date: {{$date}}
"#;

#[tokio::test]
async fn env_files_dotenv_and_process_env_reach_the_server_and_are_masked() {
    let s = server::start().await;
    let f = fixture(
        HTTP,
        &[
            ("http-client.env.json", ENV_PUBLIC),
            ("http-client.private.env.json", ENV_PRIVATE),
            (".env", DOTENV),
        ],
    );
    let text = std::fs::read_to_string(&f.file).unwrap();
    let parsed = httplens::syntax::parse(&text);
    let mut ws = Workspace::load(&f.file, &[], Some("dev")).unwrap();
    assert!(
        ws.diagnostics.is_empty(),
        "\"$schema\" is not an error: {:?}",
        ws.diagnostics
    );
    ws.process_env = Some(BTreeMap::from([(
        "HTTPLENS_COMPAT_PROC".to_string(),
        "process-value-456".to_string(),
    )]));
    let overrides = BTreeMap::from([("base".to_string(), s.url(""))]);
    let input = FileInput {
        workspace: &ws,
        file: &parsed.file,
        text: &text,
        overrides: &overrides,
    };
    let mut c = EngineConfig::new(f.dir.clone());
    c.cache = f.cache.clone();
    let e = Engine::new(c, Arc::new(NoTokenSource("no sign-in in tests".into())));
    let out = e
        .send_block(&input, 1, &CancellationToken::new(), &Silent)
        .await;
    let sent = out.last().unwrap().result.as_ref().expect("sent");
    let j: serde_json::Value = serde_json::from_slice(sent.response.body.bytes()).unwrap();
    let h = &j["headers"];
    // Nested values by their dotted path; the private leaf wins, the public sibling stays.
    assert_eq!(h["x-deep"], "deep-private-value");
    assert_eq!(h["x-other"], "kept");
    // `.env` values are variables by themselves, `$dotenv` keeps working.
    assert_eq!(h["x-dot"], "dotenv-secret-123");
    assert_eq!(h["x-dollar"], "dotenv-secret-123");
    // Precedence: env files > .env > file variables > process environment.
    assert_eq!(h["x-shadow"], "from-env-file");
    assert_eq!(h["x-order"], "dotenv-beats-file");
    assert_eq!(h["x-file"], "file-only");
    assert_eq!(h["x-proc"], "process-value-456");
    // kulala's `$kulalaShared` and `$kulalaDefaultHeaders`: the environment's over the
    // shared ones, the request's own header over both; values are templates.
    assert_eq!(h["x-kulala-shared"], "kulala-shared");
    assert_eq!(h["x-shared-default"], "shared");
    assert_eq!(h["x-env-default"], "from-env-file-dev");
    assert_eq!(h["accept"], "application/json");
    // kulala's `{{$date}}`: today's local date.
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let date = h["x-date"].as_str().unwrap();
    assert!(
        date == today || date < today.as_str(),
        "{date} (today {today})"
    );
    assert_eq!(date.len(), 10);
    // The response document echoes every value: .env, process and private values are
    // masked, public ones are not.
    let doc = &sent.document;
    for secret in [
        "dotenv-secret-123",
        "process-value-456",
        "deep-private-value",
    ] {
        assert!(!doc.contains(secret), "{secret} leaked into:\n{doc}");
    }
    assert!(doc.contains("from-env-file"), "{doc}");
}

#[test]
fn show_resolves_dotenv_and_the_real_process_environment_and_masks_them() {
    let f = fixture(
        "GET http://127.0.0.1:9/x?a={{API_TOKEN}}\nX-Proc: {{HTTPLENS_COMPAT_REAL_PROC}}\nX-Deep: {{deep.nested.var}}\n",
        &[("http-client.env.json", ENV_PUBLIC), (".env", DOTENV)],
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_httplens"))
        .args(["show", f.file.to_str().unwrap(), "--env", "dev"])
        .env("HTTPLENS_CACHE_DIR", &f.cache)
        .env("HTTPLENS_COMPAT_REAL_PROC", "real-process-789")
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("X-Deep: deep-public"), "{stdout}");
    assert!(stdout.contains("X-Proc: "), "{stdout}");
    assert!(!stdout.contains("real-process-789"), "{stdout}");
    assert!(!stdout.contains("dotenv-secret-123"), "{stdout}");

    // A name defined nowhere, not even in the process environment, is still an error.
    let f = fixture("GET http://127.0.0.1:9/{{HTTPLENS_COMPAT_NOWHERE}}\n", &[]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_httplens"))
        .args(["run", f.file.to_str().unwrap(), "--no-history"])
        .env("HTTPLENS_CACHE_DIR", &f.cache)
        .env_remove("HTTPLENS_COMPAT_NOWHERE")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success());
    assert!(
        all.contains("unknown variable `HTTPLENS_COMPAT_NOWHERE`"),
        "{all}"
    );
}

const REFS: &str = r#"### first
GET {{base}}/repeated

### echoed
GET {{base}}/echo?id={{first.response.headers.X-Multi[1]}}
X-All: {{first.response.headers.X-Multi}}
X-Session: {{first.response.cookies.session.value}}
X-Session-Path: {{first.response.cookies.session.Path}}
X-Theme: {{first.response.cookies.theme}}

### missing index
GET {{base}}/echo?x={{first.response.headers.X-Multi[5]}}

### missing cookie
GET {{base}}/echo?x={{first.response.cookies.nope.value}}
"#;

#[tokio::test]
async fn titles_name_requests_and_header_indexes_and_cookies_resolve() {
    let s = server::start().await;
    let f = fixture(REFS, &[]);
    let text = std::fs::read_to_string(&f.file).unwrap();
    let parsed = httplens::syntax::parse(&text);
    let ws = Workspace::load(&f.file, &[], None).unwrap();
    let overrides = BTreeMap::from([("base".to_string(), s.url(""))]);
    let input = FileInput {
        workspace: &ws,
        file: &parsed.file,
        text: &text,
        overrides: &overrides,
    };
    let mut c = EngineConfig::new(f.dir.clone());
    c.cache = f.cache.clone();
    let e = Engine::new(c, Arc::new(NoTokenSource("no sign-in in tests".into())));
    // `### first` names the request (kulala): sending `echoed` sends `first` first.
    let echoed = httplens::request::find_request(&parsed.file, "echoed").unwrap();
    let out = e
        .send_block(&input, echoed, &CancellationToken::new(), &Silent)
        .await;
    assert_eq!(out.len(), 2, "the titled dependency is sent first");
    let sent = out.last().unwrap().result.as_ref().expect("sent");
    let j: serde_json::Value = serde_json::from_slice(sent.response.body.bytes()).unwrap();
    assert_eq!(
        j["query"], "id=second",
        "headers.NAME[1] is the second value"
    );
    let h = &j["headers"];
    assert_eq!(h["x-all"], "first, second");
    assert_eq!(h["x-session"], "s3ss10n-v4lue");
    assert_eq!(h["x-session-path"], "/api");
    assert_eq!(h["x-theme"], "dark");

    // An index or a cookie that is not there is an error: nothing is sent.
    for name in ["missing index", "missing cookie"] {
        let b = parsed
            .file
            .blocks
            .iter()
            .position(|b| b.title() == Some(name))
            .unwrap();
        let out = e
            .send_block(&input, b, &CancellationToken::new(), &Silent)
            .await;
        let err = out.last().unwrap().result.as_ref().unwrap_err();
        assert!(
            err.contains("there is no `[5]`") || err.contains("no cookie `nope`"),
            "{err}"
        );
    }
}

const XPATH: &str = r#"# @name replies
GET {{base}}/repeated

###
GET {{base}}/echo?id={{replies.response.body.//reply[2]/@id}}
X-Text: {{replies.response.body.//reply[1]/text}}
X-Count: {{replies.response.body.count(//reply)}}

###
GET {{base}}/echo?x={{replies.response.body.//nothing/@id}}
"#;

#[tokio::test]
async fn xpath_on_xml_responses_resolves_and_no_match_is_an_error() {
    let s = server::start().await;
    let f = fixture(XPATH, &[]);
    let text = std::fs::read_to_string(&f.file).unwrap();
    let parsed = httplens::syntax::parse(&text);
    let ws = Workspace::load(&f.file, &[], None).unwrap();
    let overrides = BTreeMap::from([("base".to_string(), s.url(""))]);
    let input = FileInput {
        workspace: &ws,
        file: &parsed.file,
        text: &text,
        overrides: &overrides,
    };
    let mut c = EngineConfig::new(f.dir.clone());
    c.cache = f.cache.clone();
    let e = Engine::new(c, Arc::new(NoTokenSource("no sign-in in tests".into())));
    let all = e.send_all(&input, &CancellationToken::new(), &Silent).await;
    assert_eq!(all.len(), 3);
    let sent = all[1].result.as_ref().expect("sent");
    let j: serde_json::Value = serde_json::from_slice(sent.response.body.bytes()).unwrap();
    assert_eq!(j["query"], "id=r-2");
    assert_eq!(j["headers"]["x-text"], "hello");
    assert_eq!(j["headers"]["x-count"], "2");
    let err = all[2].result.as_ref().unwrap_err();
    assert!(
        err.contains("//nothing/@id") && err.contains("matched nothing"),
        "{err}"
    );
}

/// docs/syntax.md: `#` and `//` lines inside a body are body text (REST Client drops
/// them; httplens never changes a payload silently).
#[tokio::test]
async fn comment_like_lines_in_a_body_reach_the_server() {
    let s = server::start().await;
    let f = fixture(
        "POST {{base}}/echo\nContent-Type: text/yaml\n\n# a YAML comment\nkey: value\n// kept too\n",
        &[],
    );
    let text = std::fs::read_to_string(&f.file).unwrap();
    let parsed = httplens::syntax::parse(&text);
    let ws = Workspace::load(&f.file, &[], None).unwrap();
    let overrides = BTreeMap::from([("base".to_string(), s.url(""))]);
    let input = FileInput {
        workspace: &ws,
        file: &parsed.file,
        text: &text,
        overrides: &overrides,
    };
    let mut c = EngineConfig::new(f.dir.clone());
    c.cache = f.cache.clone();
    let e = Engine::new(c, Arc::new(NoTokenSource("no sign-in in tests".into())));
    let out = e
        .send_block(&input, 0, &CancellationToken::new(), &Silent)
        .await;
    let sent = out.last().unwrap().result.as_ref().expect("sent");
    let j: serde_json::Value = serde_json::from_slice(sent.response.body.bytes()).unwrap();
    assert_eq!(j["body"], "# a YAML comment\nkey: value\n// kept too");
}

/// `show` over every file of the real-world corpus (`../shared/corpus/http`, read in
/// place): it never crashes, and the env files the peers read (JSON with comments
/// included, corpus 071) never give an error.
#[test]
fn show_over_the_corpus_reads_every_env_file_the_peers_read() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/http");
    let folders = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus {} is needed here: {e}", dir.display()));
    let cache = tempfile::tempdir().unwrap();
    let mut files = 0;
    for folder in folders.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
        for file in std::fs::read_dir(&folder)
            .unwrap()
            .flatten()
            .map(|e| e.path())
        {
            let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "http" | "rest") {
                continue;
            }
            files += 1;
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_httplens"))
                .arg("show")
                .arg(&file)
                .env("HTTPLENS_CACHE_DIR", cache.path())
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{}: {:?}\n{stderr}",
                file.display(),
                out.status
            );
            for line in stderr.lines().filter(|l| l.contains(": error: ")) {
                assert!(
                    !line.contains(".env.json:") && !line.contains("/.env:"),
                    "{}: an env file a peer reads gives an error: {line}",
                    file.display()
                );
            }
        }
    }
    assert!(files >= 80, "only {files} corpus files found");
}
