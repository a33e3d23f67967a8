//! Resolve tests: env files, variables and their precedence, RequestSpec building, curl,
//! and `httplens show` run as a subprocess. Fixtures live in `tests/fixtures/show/<case>/`
//! and are copied to a temp folder with a `.git` marker, so the workspace root is the
//! copy whatever surrounds the checkout.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use httplens::env::RecordedExchange;
use httplens::env::{ResolveContext, Workspace};
use httplens::request::{self, BodySpec, RequestSpec, curl};
use httplens::secret::Secret;
use httplens::syntax::{self, Diagnostic, Parse, Severity, TokenKind};

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/show")
        .join(case)
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
}

/// A copy of a fixture case in a temp folder that is its own workspace root.
fn workspace_copy(case: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fixture(case), tmp.path());
    std::fs::create_dir_all(tmp.path().join(".git")).unwrap();
    tmp
}

/// A temp workspace holding `files` (path, content).
fn workspace_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join(".git")).unwrap();
    for (p, c) in files {
        let path = tmp.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, c).unwrap();
    }
    tmp
}

struct Loaded {
    text: String,
    parse: Parse,
    ws: Workspace,
}

fn load(file: &Path, root: &Path, env: Option<&str>) -> Loaded {
    let text = std::fs::read_to_string(file).unwrap();
    let parse = syntax::parse_path(file, &text);
    let mut ws = Workspace::load_with_root(file, root, env).unwrap();
    ws.process_env = Some(BTreeMap::new());
    Loaded { text, parse, ws }
}

impl Loaded {
    fn block(&self, name: &str) -> usize {
        self.parse
            .file
            .blocks
            .iter()
            .position(|b| b.request.is_some() && b.name() == Some(name))
            .unwrap_or_else(|| panic!("no request `{name}`"))
    }
    fn build(&self, name: &str, ctx: &ResolveContext<'_>) -> (RequestSpec, Vec<Diagnostic>) {
        let (spec, diags) = request::build(&self.parse.file, &self.text, self.block(name), ctx);
        (spec.expect("a request block gives a spec"), diags)
    }
    fn dry(&self, name: &str) -> (RequestSpec, Vec<Diagnostic>) {
        self.build(name, &ResolveContext::dry_run(&self.ws))
    }
}

fn body_text(spec: &RequestSpec) -> String {
    match &spec.body {
        BodySpec::Bytes(b) => String::from_utf8(b.clone()).unwrap(),
        other => panic!("expected bytes, got {other:?}"),
    }
}

fn errors(diags: &[Diagnostic]) -> Vec<&str> {
    diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.message.as_str())
        .collect()
}

/// Run the binary in `dir`; returns (stdout, stderr, exit code).
fn httplens(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (String, String, i32) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_httplens"));
    cmd.current_dir(dir).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

// ---------------------------------------------------------------------------------
// `show` as a subprocess

#[test]
fn show_jetbrains_json_is_masked() {
    let ws = workspace_copy("jetbrains");
    let (out, err, code) = httplens(
        ws.path(),
        &["show", "api.http", "--env", "dev", "--format", "json"],
        &[],
    );
    assert_eq!(err, "");
    assert_eq!(code, 0);
    for secret in ["pa55-private", "abc-123-token", "client-s3cret"] {
        assert!(!out.contains(secret), "`{secret}` leaked into:\n{out}");
    }
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 10);
    insta::assert_snapshot!("jetbrains_dev_json", out);
}

#[test]
fn show_jetbrains_text_reveal() {
    let ws = workspace_copy("jetbrains");
    let (out, err, code) = httplens(
        ws.path(),
        &["show", "api.http", "--env", "dev", "--reveal"],
        &[],
    );
    assert_eq!((err.as_str(), code), ("", 0));
    assert!(out.contains(r#""password": "pa55-private""#), "{out}");
    assert!(out.contains("X-Session-Token: abc-123-token"));
    // No token in a dry run: the reference stays as written, never a diagnostic.
    assert!(out.contains(r#"Authorization: Bearer {{$auth.token("shop")}}"#));
    insta::assert_snapshot!("jetbrains_dev_text_reveal", out);
}

#[test]
fn show_restclient_settings_dotenv_and_process_env() {
    let ws = workspace_copy("restclient");
    let (out, err, code) = httplens(
        ws.path(),
        &["show", "sub/api.http", "--env", "local", "--format", "json"],
        &[
            ("HTTPLENS_TEST_PLAIN", "from-process"),
            ("API_TOKEN_NAME", "indirect-process"),
        ],
    );
    assert_eq!(err, "");
    assert_eq!(code, 0);
    insta::assert_snapshot!("restclient_local_json", out);
}

#[test]
fn show_errors_report_positions_and_still_print() {
    let ws = workspace_copy("errors");
    let (out, err, code) = httplens(ws.path(), &["show", "api.http", "--env", "dev"], &[]);
    assert_eq!(code, 1);
    // The malformed env file names itself, with line and column from the JSON parser.
    let first = err.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "{}:4:5: error: invalid JSON in the env file",
            ws.path().join("http-client.env.json").display()
        )),
        "{err}"
    );
    // Both requests are still printed, unresolved parts as written.
    assert!(out.contains("GET http://127.0.0.1/{{a}}/{{self}}"), "{out}");
    assert!(
        out.contains("GET http://127.0.0.1/{{nowhere}}?h={{host}}"),
        "{out}"
    );
    let rest: Vec<&str> = err.lines().skip(1).collect();
    insta::assert_snapshot!("errors_stderr", rest.join("\n"));
}

/// Every problem in a file prints as `path:line:col: severity: message`, one-based, the
/// column in characters: multi-byte text, CRLF and a byte order mark included, the
/// same from `show` and `run`.
#[test]
fn problems_print_as_path_line_col_severity_message() {
    let ws = workspace_with(&[
        (
            "http-client.env.json",
            "{\r\n  \"dev\": {\"é\": \"ü\",, }\r\n}",
        ),
        (
            "api.http",
            "\u{feff}GET http://127.0.0.1:9/é/{{nope}}\r\n\r\n###\r\nGET http://127.0.0.1:9/ü\r\n\r\n> {% client.log('ü');\r\n",
        ),
    ]);
    let env_file = ws.path().join("http-client.env.json");
    let env_line = format!(
        "{}:2:20: error: invalid JSON in the env file: key must be a string",
        env_file.display()
    );
    let (_, err, code) = httplens(ws.path(), &["show", "api.http", "--env", "dev"], &[]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            env_line.as_str(),
            "api.http:1:26: error: unknown variable `nope`: not set by --var, the request, the environment `dev` or a file variable above its use",
            "api.http:6:1: error: This script is never closed: end it with `%}` before the next `###`",
        ],
        "{err}"
    );
    let (_, err, _) = httplens(ws.path(), &["run", "api.http", "--env", "dev"], &[]);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.contains(&"api.http:6:1: error: This script is never closed: end it with `%}` before the next `###`"), "{err}");
    assert!(lines.contains(&env_line.as_str()), "{err}");
}

#[test]
fn show_exit_codes_for_usage_errors() {
    let ws = workspace_copy("jetbrains");
    let (out, err, code) = httplens(ws.path(), &["show", "missing.http"], &[]);
    assert_eq!((out.as_str(), code), ("", 2));
    assert!(
        err.starts_with("httplens: cannot read missing.http:"),
        "{err}"
    );
    let (_, err, code) = httplens(ws.path(), &["show", "api.http", "--env", "stage"], &[]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim(),
        "httplens: there is no environment named `stage` (available: dev, prod)"
    );
    // Without an environment, variables only an environment defines are errors that
    // say so; the requests are still printed.
    let (out, err, code) = httplens(ws.path(), &["show", "api.http"], &[]);
    assert_eq!(code, 1);
    assert!(out.contains("### login (line 8)"));
    assert!(
        err.contains(
            "api.http:8:6: error: unknown variable `baseUrl`: only the environments dev, prod define it; select an environment"
        ),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------
// Precedence and variables, through the library

#[test]
fn precedence_override_own_env_file() {
    let ws = workspace_copy("jetbrains");
    let l = load(&ws.path().join("api.http"), ws.path(), Some("dev"));
    // env ($shared pageSize 20) beats the file-level @pageSize = 5.
    let (s, d) = l.dry("Templated file");
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(body_text(&s), "{\"page\": 20, \"user\": \"jane\"}\n");
    // The request's own @pageSize = 50 beats the environment.
    let (s, _) = l.dry("Pinned");
    assert_eq!(
        s.url,
        "http://127.0.0.1:8080/api/v1/users/jane?size=50&q=hello%20jane"
    );
    // --var beats everything.
    let overrides = BTreeMap::from([("pageSize".to_string(), "7".to_string())]);
    let ctx = ResolveContext {
        overrides: &overrides,
        ..ResolveContext::dry_run(&l.ws)
    };
    let (s, _) = l.build("Pinned", &ctx);
    assert!(s.url.contains("size=7&"), "{}", s.url);
    // The private value is a secret of the request.
    let (s, _) = l.dry("login");
    assert!(s.secrets.leaks_into("pa55-private"));
    assert!(!s.secrets.leaks_into("jane"));
}

#[test]
fn file_variables_last_above_use_and_self_reference() {
    let ws = workspace_with(&[
        (
            "http-client.env.json",
            r#"{"dev": {"base": "http://127.0.0.1:1", "a": "{{b}}", "b": "{{a}}"}}"#,
        ),
        (
            "t.http",
            "@v = one\n\n### first\nGET {{base}}/{{v}}\n\n###\n@v = two\n\n### second\nGET {{base}}/{{v}}\n\n### pinned\n@base = {{base}}/v2\nGET {{base}}/x\n\n### envcycle\nGET {{base}}/{{a}}\n",
        ),
    ]);
    let l = load(&ws.path().join("t.http"), ws.path(), Some("dev"));
    assert_eq!(l.dry("first").0.url, "http://127.0.0.1:1/one");
    assert_eq!(l.dry("second").0.url, "http://127.0.0.1:1/two");
    // A request variable may build on the environment's value of the same name.
    let (s, d) = l.dry("pinned");
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(s.url, "http://127.0.0.1:1/v2/x");
    // A cycle through env values is a diagnostic at the use, not a stack overflow.
    let (s, d) = l.dry("envcycle");
    assert_eq!(s.url, "http://127.0.0.1:1/{{a}}");
    assert_eq!(
        errors(&d),
        vec!["variable `a` refers to itself (a -> b -> a)"]
    );
    let at = d[0].range;
    assert_eq!(at.slice(&l.text), "{{a}}");
}

#[test]
fn system_variables_by_pattern() {
    let ws = workspace_with(&[(
        "s.http",
        "### sys\nPOST http://127.0.0.1/\nContent-Type: text/plain\n\n{{$guid}}|{{$uuid}}|{{$randomInt 10 20}}|{{$timestamp}}|{{$timestamp -1 d}}|{{$isoTimestamp}}|{{$datetime iso8601}}|{{$datetime rfc1123}}|{{$datetime \"YYYY-MM-DD\" 1 y}}|{{$localDatetime 'HH:mm'}}|{{$random.integer(3, 4)}}|{{$random.alphabetic(5)}}\n",
    )]);
    let l = load(&ws.path().join("s.http"), ws.path(), None);
    let (s, d) = l.dry("sys");
    assert!(d.is_empty(), "{d:?}");
    let body = body_text(&s);
    let f: Vec<&str> = body.trim_end().split('|').collect();
    assert_eq!(f.len(), 12, "{body}");
    let is_uuid = |s: &str| {
        s.len() == 36
            && s.chars().enumerate().all(|(i, c)| {
                if [8, 13, 18, 23].contains(&i) {
                    c == '-'
                } else {
                    c.is_ascii_hexdigit()
                }
            })
    };
    assert!(is_uuid(f[0]) && is_uuid(f[1]) && f[0] != f[1], "{body}");
    let n: i64 = f[2].parse().unwrap();
    assert!((10..20).contains(&n));
    let now: i64 = f[3].parse().unwrap();
    let yesterday: i64 = f[4].parse().unwrap();
    assert!((now - yesterday - 86_400).abs() <= 1);
    let system_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((system_now - now).abs() < 60);
    let digits = |s: &str, pattern: &str| {
        s.len() == pattern.len()
            && s.chars()
                .zip(pattern.chars())
                .all(|(c, p)| if p == '9' { c.is_ascii_digit() } else { c == p })
    };
    assert!(digits(f[5], "9999-99-99T99:99:99.999Z"), "{}", f[5]);
    assert!(digits(f[6], "9999-99-99T99:99:99.999Z"), "{}", f[6]);
    assert!(f[7].ends_with(" GMT") && f[7].len() == 29, "{}", f[7]);
    assert!(digits(f[8], "9999-99-99"), "{}", f[8]);
    assert!(digits(f[9], "99:99"), "{}", f[9]);
    assert_eq!(f[10], "3");
    assert!(f[11].len() == 5 && f[11].chars().all(|c| c.is_ascii_alphabetic()));
}

#[test]
fn request_variables_and_dependencies() {
    let ws = workspace_with(&[(
        "r.http",
        "### a\n# @name a\nGET http://127.0.0.1/a\n\n### b\n# @name b\n@fromA = {{a.response.body.$.id}}\nGET http://127.0.0.1/b/{{fromA}}\n\n### c\n# @name c\nGET http://127.0.0.1/c?b={{b.response.headers.location}}&a={{a.response.body.*}}&q={{b.request.body.$.q}}\n",
    )]);
    let l = load(&ws.path().join("r.http"), ws.path(), None);
    let dry = ResolveContext::dry_run(&l.ws);
    let c = l.block("c");
    assert_eq!(
        request::dependencies(&l.parse.file, &l.text, c, &dry),
        vec!["a".to_string(), "b".to_string()]
    );
    // Dry run without responses: as written, no diagnostic.
    let (s, d) = l.dry("c");
    assert!(d.is_empty(), "{d:?}");
    assert!(s.url.contains("b={{b.response.headers.location}}"));
    // Sending without them: an error saying what to do.
    let no = HashMap::<String, RecordedExchange>::new();
    let send = ResolveContext {
        exchanges: &no,
        dry_run: false,
        ..ResolveContext::dry_run(&l.ws)
    };
    let (_, d) = l.build("b", &send);
    assert_eq!(
        errors(&d),
        vec!["the response of `a` is not available: send `a` first"]
    );
    // With recorded exchanges.
    let mut ex = HashMap::new();
    ex.insert(
        "a".to_string(),
        RecordedExchange {
            status: 200,
            response_body: r#"{"id": 17, "name": "x"}"#.into(),
            ..Default::default()
        },
    );
    ex.insert(
        "b".to_string(),
        RecordedExchange {
            status: 201,
            request_body: Some(r#"{"q": "query"}"#.into()),
            response_headers: vec![("Location".into(), "/b/17".into())],
            ..Default::default()
        },
    );
    let send = ResolveContext {
        exchanges: &ex,
        dry_run: false,
        ..ResolveContext::dry_run(&l.ws)
    };
    let (s, d) = l.build("c", &send);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        s.url,
        "http://127.0.0.1/c?b=/b/17&a=%7B%22id%22:%2017,%20%22name%22:%20%22x%22%7D&q=query"
    );
    assert_eq!(l.build("b", &send).0.url, "http://127.0.0.1/b/17");
}

#[test]
fn auth_tokens_are_secrets_and_profiles_are_listed() {
    let ws = workspace_copy("jetbrains");
    let l = load(&ws.path().join("api.http"), ws.path(), Some("dev"));
    let b = l.block("Token");
    let dry = ResolveContext::dry_run(&l.ws);
    assert_eq!(
        request::auth_profiles(&l.parse.file, &l.text, b, &dry),
        vec![("shop".to_string(), TokenKind::Access)]
    );
    let auth = l.ws.env.auth.as_ref().unwrap();
    assert_eq!(auth.profiles["shop"]["Client Secret"], "client-s3cret");
    let tokens = HashMap::from([(
        ("shop".to_string(), TokenKind::Access),
        Secret::new("tok-XYZ-123"),
    )]);
    let ctx = ResolveContext {
        tokens: &tokens,
        script: httplens::env::ScriptVars::none(),
        dry_run: false,
        ..ResolveContext::dry_run(&l.ws)
    };
    let (s, d) = l.build("Token", &ctx);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(s.header("Authorization"), Some("Bearer tok-XYZ-123"));
    assert!(s.secrets.leaks_into("tok-XYZ-123"));
    let shown = curl::to_curl(&s, false);
    assert!(
        !shown.contains("tok-XYZ-123") && !shown.contains("abc-123-token"),
        "{shown}"
    );
    assert!(shown.contains("'Authorization: Bearer ***'"));
    assert!(curl::to_curl(&s, true).contains("Bearer tok-XYZ-123"));
    // Sending without a token is an error; an unknown profile is always one.
    let send = ResolveContext {
        dry_run: false,
        ..ResolveContext::dry_run(&l.ws)
    };
    let (_, d) = l.build("Token", &send);
    assert_eq!(
        errors(&d),
        vec!["no token for the auth profile `shop`: sign in with `httplens login shop`"]
    );
    let prod = load(&ws.path().join("api.http"), ws.path(), Some("prod"));
    let (_, d) = prod.dry("Token");
    assert_eq!(
        errors(&d),
        vec!["unknown auth profile `shop`: the environment `prod` has no Security.Auth.shop"]
    );
}

#[test]
fn bodies_shorthands_and_options() {
    let ws = workspace_copy("jetbrains");
    let l = load(&ws.path().join("api.http"), ws.path(), Some("dev"));
    let (s, d) = l.dry("Upload as is");
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        s.body,
        BodySpec::File(ws.path().join("./data/payload.json"))
    );

    let (s, _) = l.dry("Multipart");
    assert_eq!(
        body_text(&s),
        "--XB\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\njane\r\n--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload.txt\"\r\n\r\nhello upload\n\r\n--XB--"
    );

    let (s, _) = l.dry("Form");
    assert_eq!(body_text(&s), "user=jane&page=20&v=v1");

    let (s, _) = l.dry("GraphQL");
    assert_eq!(s.header("X-Request-Type"), None);
    assert_eq!(s.header("Content-Type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_str(&body_text(&s)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"query": "query Orders($first: Int) {\n  orders(first: $first) { id }\n}", "operationName": "Orders", "variables": {"first": 20}})
    );

    let (s, _) = l.dry("Basic");
    assert_eq!(s.url, "http://127.0.0.1:8080/basic");
    // base64("jane:pa55-private")
    assert_eq!(
        s.header("Authorization"),
        Some("Basic amFuZTpwYTU1LXByaXZhdGU=")
    );

    let (s, _) = l.dry("Digest");
    assert_eq!(s.header("Authorization"), None);
    let dg = s.digest.unwrap();
    assert_eq!(
        (dg.user.as_str(), dg.password.as_str()),
        ("jane", "pa55-private")
    );
    assert_eq!(s.url, "http://127.0.0.1:8080/digest");

    let (s, _) = l.dry("Token");
    assert_eq!(s.options.timeout, Some(std::time::Duration::from_secs(5)));
    assert_eq!(
        s.options.connect_timeout,
        Some(std::time::Duration::from_millis(500))
    );
    assert!(!s.options.follow_redirects && !s.options.cookie_jar);
    assert_eq!(s.assertions.len(), 2);
    assert_eq!(s.assertions[1].expected.as_deref(), Some("jane"));
    assert_eq!(s.assertions[1].line, 29);
    let out = s.output.unwrap();
    assert_eq!(out.path, ws.path().join("./out/orders.json"));
    assert!(!out.overwrite);
}

#[test]
fn unknown_variables_say_where_they_looked() {
    let ws = workspace_copy("jetbrains");
    let l = load(&ws.path().join("api.http"), ws.path(), Some("dev"));
    let mut text = l.text.clone();
    text.push_str("\n### extra\nGET {{baseUrl}}/{{prodOnly}}/{{nowhere}}\n");
    let parse = syntax::parse(&text);
    let b = parse.file.blocks.len() - 1;
    let (s, d) = request::build(&parse.file, &text, b, &ResolveContext::dry_run(&l.ws));
    assert_eq!(
        s.unwrap().url,
        "http://127.0.0.1:8080/api/v1/{{prodOnly}}/{{nowhere}}"
    );
    assert_eq!(
        errors(&d),
        vec![
            "unknown variable `prodOnly`: the environment `dev` does not define it (only prod does), nor does any file variable above its use",
            "unknown variable `nowhere`: not set by --var, the request, the environment `dev` or a file variable above its use",
        ]
    );
    assert_eq!(d[1].range.slice(&text), "{{nowhere}}");
}

#[test]
fn prompts_overrides_and_block_lookup() {
    let ws = workspace_with(&[(
        "p.http",
        "### first\nGET http://127.0.0.1/a\n\n### ask\n# @prompt otp one-time code\nPOST http://127.0.0.1/otp?code={{otp}}\n",
    )]);
    let l = load(&ws.path().join("p.http"), ws.path(), None);
    let b = l.block("ask");
    let dry = ResolveContext::dry_run(&l.ws);
    assert_eq!(
        request::prompts(&l.parse.file, b, &dry),
        vec![("otp".to_string(), "one-time code".to_string())]
    );
    // Dry run: left as written, no diagnostic.
    let (s, d) = l.dry("ask");
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(s.url, "http://127.0.0.1/otp?code={{otp}}");
    // Sending without an answer: an error that says how to give one.
    let send = ResolveContext {
        dry_run: false,
        ..ResolveContext::dry_run(&l.ws)
    };
    assert_eq!(
        errors(&l.build("ask", &send).1),
        vec!["`otp` is a @prompt variable: give its value with --var otp=VALUE"]
    );
    let answers = BTreeMap::from([("otp".to_string(), "123 456".to_string())]);
    let send = ResolveContext {
        overrides: &answers,
        dry_run: false,
        ..ResolveContext::dry_run(&l.ws)
    };
    assert!(request::prompts(&l.parse.file, b, &send).is_empty());
    assert_eq!(
        l.build("ask", &send).0.url,
        "http://127.0.0.1/otp?code=123%20456"
    );
    // `--line`: 0-based line 3 is the `### ask` separator, line 1 the first request.
    assert_eq!(request::block_at_line(&l.parse.file, &l.text, 3), Some(b));
    assert_eq!(
        request::block_at_line(&l.parse.file, &l.text, 1),
        Some(l.block("first"))
    );
    assert_eq!(request::find_request(&l.parse.file, "nope"), None);
}

#[test]
fn the_prompts_of_a_send_cover_its_dependencies_once_and_mark_secrets() {
    let ws = workspace_with(&[(
        "p.http",
        "### token
# @name token
# @prompt password
# @prompt user who signs in
POST http://127.0.0.1/t

u={{user}}&p={{password}}

### use
# @prompt user
# @prompt api_token
GET http://127.0.0.1/x?t={{token.response.body.$.t}}&u={{user}}&k={{api_token}}

### other
# @prompt unrelated
GET http://127.0.0.1/y
",
    )]);
    let l = load(&ws.path().join("p.http"), ws.path(), None);
    let names = |target, overrides: &BTreeMap<String, String>| {
        request::prompts_to_ask(&l.parse.file, &l.text, &l.ws, target, overrides)
            .into_iter()
            .map(|p| (p.name, p.description, p.secret))
            .collect::<Vec<_>>()
    };
    let none = BTreeMap::new();
    // The dependency's first, each name once, another request's not at all.
    assert_eq!(
        names(Some(l.block("use")), &none),
        vec![
            ("password".into(), "".into(), true),
            ("user".into(), "who signs in".into(), false),
            ("api_token".into(), "".into(), true),
        ]
    );
    assert_eq!(names(None, &none).len(), 4, "every block's, once each");
    let answered = BTreeMap::from([("user".to_string(), "jane".to_string())]);
    assert_eq!(names(Some(l.block("token")), &answered).len(), 1);
    // A secret prompt's answer is masked wherever the request is shown; another is not.
    let answers = BTreeMap::from([
        ("password".to_string(), "pw-typed-in".to_string()),
        ("user".to_string(), "jane".to_string()),
    ]);
    let send = ResolveContext {
        overrides: &answers,
        dry_run: false,
        ..ResolveContext::dry_run(&l.ws)
    };
    let (spec, d) = l.build("token", &send);
    assert!(errors(&d).is_empty(), "{d:?}");
    assert_eq!(spec.secrets.mask("u=jane&p=pw-typed-in"), "u=jane&p=***");
}

#[test]
fn a_ref_sends_the_named_request_first_and_an_unknown_one_is_an_error_at_its_name() {
    let ws = workspace_with(&[(
        "r.http",
        "### login\n# @name login\nPOST http://127.0.0.1/login\n\n### token\n# @name token\nGET http://127.0.0.1/t\n\n### me\n# @name me\n# @ref login  nope\nGET http://127.0.0.1/me?t={{token.response.body.$.t}}\n",
    )]);
    let l = load(&ws.path().join("r.http"), ws.path(), None);
    let dry = ResolveContext::dry_run(&l.ws);
    assert_eq!(
        request::dependencies(&l.parse.file, &l.text, l.block("me"), &dry),
        ["login", "token"],
        "the @ref first, then the requests whose responses it reads"
    );
    let d = l.dry("me").1;
    let unknown: Vec<(&str, &str)> = d
        .iter()
        .filter(|d| d.code == "unknown-request")
        .map(|d| (d.message.as_str(), d.range.slice(&l.text)))
        .collect();
    assert_eq!(
        unknown,
        [(
            "there is no request named `nope` in this file (name one with `# @name nope`)",
            "nope"
        )]
    );
}

#[test]
fn httpyacs_name_dot_field_reads_the_named_response_when_nothing_else_defines_it() {
    let ws = workspace_with(&[(
        "h.http",
        "@cfg.port = 8080\n\n### hunt\n# @name hunt\nPOST http://127.0.0.1/hunt\n\n### use\n# @name use\nGET http://127.0.0.1/h/{{hunt.id}}?p={{cfg.port}}&x={{hunt.owner.name}}\n",
    )]);
    let l = load(&ws.path().join("h.http"), ws.path(), None);
    let dry = ResolveContext::dry_run(&l.ws);
    assert_eq!(
        request::dependencies(&l.parse.file, &l.text, l.block("use"), &dry),
        ["hunt"]
    );
    let (s, d) = l.dry("use");
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        s.url,
        "http://127.0.0.1/h/{{hunt.id}}?p=8080&x={{hunt.owner.name}}"
    );
    let mut ex = HashMap::new();
    ex.insert(
        "hunt".to_string(),
        RecordedExchange {
            status: 200,
            response_body: r#"{"id": 10, "owner": {"name": "b"}}"#.into(),
            ..Default::default()
        },
    );
    let send = ResolveContext {
        exchanges: &ex,
        dry_run: false,
        ..ResolveContext::dry_run(&l.ws)
    };
    let (s, d) = l.build("use", &send);
    assert!(d.is_empty(), "{d:?}");
    // A defined dotted name wins over the response (`cfg` is no request anyway).
    assert_eq!(s.url, "http://127.0.0.1/h/10?p=8080&x=b");
}

#[test]
fn unknown_system_variables_and_rest_clients_azure_token_say_what_to_do() {
    let ws = workspace_with(&[(
        "s.http",
        "### a
# @name a
GET http://127.0.0.1/x?n={{$nope}}
Authorization: {{$aadToken}}
X: {{$aadV2Token new}}
",
    )]);
    let l = load(&ws.path().join("s.http"), ws.path(), None);
    let send = ResolveContext {
        dry_run: false,
        ..ResolveContext::dry_run(&l.ws)
    };
    let (_, d) = l.build("a", &send);
    let e = errors(&d);
    assert_eq!(e[0], "unknown system variable `$nope`");
    for (i, name) in [(1, "$aadToken"), (2, "$aadV2Token")] {
        assert!(
            e[i].starts_with(&format!(
                "`{name}` (REST Client's Azure AD token) is not supported"
            )) && e[i].contains("$auth.token("),
            "{}",
            e[i]
        );
    }
}

#[test]
fn bundled_example_shows_cleanly() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/basic");
    for env in ["dev", "prod"] {
        let (out, err, code) = httplens(
            &example,
            &["show", "api.http", "--env", env, "--format", "json"],
            &[],
        );
        assert_eq!((err.as_str(), code), ("", 0), "env {env}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 3);
        assert_eq!(v[1]["name"], "login");
    }
}

#[test]
fn deep_chains_are_bounded_not_a_stack_overflow() {
    let mut text = String::from("@v0 = end\n");
    for i in 1..5000 {
        text.push_str(&format!("@v{i} = {{{{v{}}}}}\n", i - 1));
    }
    text.push_str(
        "\n### deep\nGET http://127.0.0.1/{{v4999}}\n\n### ok\nGET http://127.0.0.1/{{v40}}\n",
    );
    let ws = workspace_with(&[("d.http", &text)]);
    let l = load(&ws.path().join("d.http"), ws.path(), None);
    let (s, d) = l.dry("deep");
    // Resolved as far as the limit allows; the rest stays as written.
    assert!(s.url.starts_with("http://127.0.0.1/{{v49"), "{}", s.url);
    assert!(
        errors(&d)
            .iter()
            .any(|m| m.contains("nested more than 64 levels")),
        "{d:?}"
    );
    let (s, d) = l.dry("ok");
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(s.url, "http://127.0.0.1/end");
}
