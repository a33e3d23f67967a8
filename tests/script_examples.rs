//! The documented script examples of the tools users come from, run by `httplens run`
//! against a real HTTP server on 127.0.0.1: the JetBrains HTTP Client reference's
//! response-handling and pre-request examples, kulala.nvim's script pages and httpyac's
//! JavaScript expressions. Each checks what reached the server or what the run reports.

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

/// The echoed request's JSON (method, path, query, headers, body) from `run`'s output:
/// the body of the exchange whose request line names `marker`.
fn echoed(stdout: &str, marker: &str) -> serde_json::Value {
    let at = stdout
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in {stdout}"));
    let rest = &stdout[at..];
    let start = rest.find("\n{").expect("an echoed JSON body") + 1;
    let mut de =
        serde_json::Deserializer::from_str(&rest[start..]).into_iter::<serde_json::Value>();
    de.next().unwrap().unwrap()
}

/// JetBrains reference, "Response handling examples": checking the status and the
/// content type in `client.test`, and reading a header.
#[tokio::test]
async fn jetbrains_response_handling_examples() {
    let s = server::start().await;
    let ws = workspace(&[(
        "api.http",
        r#"### status
GET {{base}}/echo

> {%
    client.test("Request executed successfully", function() {
        client.assert(response.status === 200, "Response status is not 200");
    });
%}

### content type
GET {{base}}/echo

> {%
    client.test("Response content-type is json", function() {
        var type = response.contentType.mimeType;
        client.assert(type === "application/json", "Expected 'application/json' but received '" + type + "'");
    });
    client.test("Headers option exists", function() {
        client.assert(response.body.hasOwnProperty("headers"), "Cannot find 'headers' option in response");
    });
    client.global.set("ct", response.headers.valueOf("content-type"));
%}

### not found
GET {{base}}/status/404

> {%
    client.test("Request executed successfully", function() {
        client.assert(response.status === 200, "Response status is not 200");
    });
    client.test("Response content-type is json", function() {
        var type = response.contentType.mimeType;
        client.assert(type === "application/json", "Expected 'application/json' but received '" + type + "'");
    });
%}

### header kept
GET {{base}}/echo
X-Ct: {{ct}}
"#,
    )]);
    let r = run(&ws, &["api.http", "--var", &base(&s)]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    for passed in [
        "# passed (line 4): client.test \"Request executed successfully\"",
        "# passed (line 13): client.test \"Response content-type is json\"",
        "client.test \"Headers option exists\"",
    ] {
        assert!(r.stdout.contains(passed), "{passed}\n{}", r.stdout);
    }
    assert!(
        r.stdout.contains(
            "# FAILED (line 27): client.test \"Request executed successfully\": Response status is not 200"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("Expected 'application/json' but received 'text/plain'"),
        "{}",
        r.stdout
    );
    let last = echoed(&r.stdout, "### header kept");
    assert_eq!(last["headers"]["x-ct"], "application/json", "{last}");
}

/// JetBrains reference, pre-request scripts: `request.variables.set` feeds the
/// request's own variables, `$random.uuid` is a fresh UUID, and the HMAC signature
/// example signs the substituted body with a secret from the environment.
#[tokio::test]
async fn jetbrains_pre_request_examples() {
    let s = server::start().await;
    let ws = workspace(&[
        (
            "api.http",
            r#"### sign
< {%
    request.variables.set("firstname", "John");
    request.variables.set("id", $random.uuid);
    const signature = crypto.hmac.sha256()
        .withTextSecret(request.environment.get("secret"))
        .updateWithText(request.body.tryGetSubstituted())
        .digest().toHex();
    request.variables.set("signature", signature);
    const hash = crypto.sha256().updateWithText("abc").digest().toBase64();
    request.variables.set("hash", hash);
%}
POST {{base}}/echo?id={{id}}
X-Signature: {{signature}}
X-Hash: {{hash}}
Content-Type: text/plain

The quick brown fox jumps over the lazy dog

### from a file
< ./pre.js
POST {{base}}/echo
Content-Type: application/json

{"name": "{{firstname}}", "n": {{n}}}
"#,
        ),
        (
            "pre.js",
            "request.variables.set(\"firstname\", \"Jane\");\nrequest.variables.set(\"n\", $random.integer(5, 6));\n",
        ),
        ("http-client.env.json", r#"{"dev": {"secret": "key"}}"#),
    ]);
    let r = run(&ws, &["api.http", "--env", "dev", "--var", &base(&s)]).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let first = echoed(&r.stdout, "/echo?id=");
    // RFC 4231-style check value: HMAC-SHA256("key", "The quick brown fox...").
    assert_eq!(
        first["headers"]["x-signature"],
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
        "{first}"
    );
    // SHA-256("abc"), base64.
    assert_eq!(
        first["headers"]["x-hash"], "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
        "{first}"
    );
    let id = first["query"].as_str().unwrap().trim_start_matches("id=");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let second = echoed(&r.stdout, "### from a file");
    assert_eq!(second["body"], r#"{"name": "Jane", "n": 5}"#, "{second}");
}

/// kulala.nvim's documented scripts: a pre-request script that reads a file with
/// `require('fs')` is refused with a clear error (the sandbox has no modules) and the
/// run goes on; the post-request example keeps a response value in `client.global`
/// for the next request.
#[tokio::test]
async fn kulala_script_examples() {
    let s = server::start().await;
    let ws = workspace(&[(
        "api.http",
        r#"# @name REQUEST_ONE
< {%
  var fs = require('fs');
  var TOKEN = fs.readFileSync('TOKEN.txt', 'utf8').trim();
  request.variables.set('GORILLA', TOKEN);
%}
POST {{base}}/echo
Content-Type: application/json

{"token": "{{GORILLA}}"}

###

# @name REQUEST_TWO
POST {{base}}/echo
Content-Type: application/json

{"gorilla": "banana"}

> {%
  var body = JSON.parse(response.body.body);
  client.global.set("GORILLA_TOKEN", body.gorilla);
%}

> {%
  var fs = require('fs');
%}

###

# @name REQUEST_THREE
POST {{base}}/echo
Content-Type: application/json

{"gorilla": "{{GORILLA_TOKEN}}"}
"#,
    )]);
    let r = run(&ws, &["api.http", "--var", &base(&s)]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    // REQUEST_ONE is not sent with `{{GORILLA}}` as written, and the error names the
    // script's failure first: that is why `GORILLA` was never set.
    assert!(r.stdout.contains("line 10: `GORILLA`"), "{}", r.stdout);
    let why = r
        .stdout
        .find("script: api.http:3:12: require is not available")
        .unwrap_or_else(|| panic!("no pre-request script error:\n{}", r.stdout));
    assert!(
        why < r.stdout.find("line 10: `GORILLA`").unwrap(),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("script: api.http:26:12: require is not available"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    let third = echoed(&r.stdout, "### REQUEST_THREE");
    assert_eq!(third["body"], r#"{"gorilla": "banana"}"#, "{third}");
}

/// httpyac's documented JavaScript expressions in `{{ }}`: arithmetic over file
/// variables, a template string, and a value a JetBrains-style handler set.
#[tokio::test]
async fn httpyac_expression_examples() {
    let s = server::start().await;
    let ws = workspace(&[(
        "api.http",
        r#"@page = 3
@user = jane

### first
GET {{base}}/echo

> {%
  client.global.set("count", "4");
%}

### second
GET {{base}}/echo?page={{ page * 2 }}
X-User: {{ `user-${user}`.toUpperCase() }}
X-Count: {{ Number(count) + 1 }}
"#,
    )]);
    let r = run(&ws, &["api.http", "--var", &base(&s)]).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let second = echoed(&r.stdout, "### second");
    assert_eq!(second["query"], "page=6", "{second}");
    assert_eq!(second["headers"]["x-user"], "USER-JANE", "{second}");
    assert_eq!(second["headers"]["x-count"], "5", "{second}");
}
