//! `httplens demo` tried as a new user would (the real binary, its real provider and API
//! on 127.0.0.1, a real sign-in through the loopback listener) in its three sign-in
//! modes, and every example workspace under `examples/` resolved by `httplens show`
//! without error diagnostics.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_httplens");

/// A command with every folder and switch pointed at `tmp`, no desktop and no browser.
fn demo_cmd(tmp: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(tmp)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("HTTPLENS_BROWSER")
        .env_remove("HTTPLENS_LOG")
        .env("HTTPLENS_TOKEN_STORE", "memory")
        .env("HTTPLENS_CONFIG_DIR", tmp.join("config"))
        .env("HTTPLENS_CACHE_DIR", tmp.join("cache"))
        .env("HTTPLENS_DEMO_EXIT_AFTER_SEND", "1")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    c
}

/// Wait for the child with a bound, killing it on timeout (a hang is a failure).
fn wait_bounded(mut child: std::process::Child, limit: Duration) -> (i32, String, String) {
    let mut so = child.stdout.take().expect("stdout piped");
    let mut se = child.stderr.take().expect("stderr piped");
    let t1 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let t2 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "httplens demo did not finish within {limit:?}; stdout so far:\n{}",
                t1.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status.code().unwrap_or(-1),
        t1.join().unwrap_or_default(),
        t2.join().unwrap_or_default(),
    )
}

/// Nothing secret in anything the demo printed: no token, code, refresh token or
/// client secret of the provider double (its values carry these prefixes).
fn assert_no_secrets(text: &str) {
    for needle in ["ims-at-", "ims-rt-", "ims-code-", "demo-web-secret"] {
        assert!(
            !text.contains(needle),
            "`{needle}` leaked into the output:\n{text}"
        );
    }
}

/// What a finished demo must show: a signed 200 from the protected API, then the
/// refusal of the unsigned request, and a workspace that names the ports it used.
fn assert_demo_succeeded(code: i32, stdout: &str, stderr: &str, ws: &Path) {
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stdout.contains("Signed in as demo.user@example.test"),
        "{stdout}"
    );
    let me = stdout
        .split("### ")
        .find(|s| s.contains("/V1/customers/me"))
        .expect("the customers/me request was sent");
    assert!(me.contains("HTTP/1.1 200 OK"), "{me}");
    assert!(me.contains("\"email\": \"demo.user@example.test\""), "{me}");
    assert!(stdout.contains("HTTP/1.1 401 Unauthorized"), "{stdout}");
    // The demo API answers as its spec says: every response is checked against it.
    for line in [
        "# schema: matches GET /customers/me 200",
        "# schema: matches GET /products 200",
        "# schema: matches GET /orders/{id} 200",
        "# schema: matches GET /store/storeViews 200",
        "# schema: matches GET /products 401",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    assert!(!stdout.contains("# schema: does not match"), "{stdout}");
    assert!(
        stdout.contains("7 requests: 7 passed, 0 failed"),
        "{stdout}"
    );
    assert_no_secrets(stdout);
    assert_no_secrets(stderr);

    // The workspace: the ports in the env file are the ones that answered.
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.join("http-client.env.json")).unwrap())
            .unwrap();
    let base = env["demo"]["baseUrl"].as_str().unwrap();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    assert!(
        stdout.contains(&format!("GET {base}/V1/customers/me")),
        "{stdout}"
    );
    let private = std::fs::read_to_string(ws.join("http-client.private.env.json")).unwrap();
    assert!(private.contains("demo-web-secret"));
    assert!(
        !std::fs::read_to_string(ws.join("http-client.env.json"))
            .unwrap()
            .contains("demo-web-secret")
    );
    let ignore = std::fs::read_to_string(ws.join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "http-client.private.env.json"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(ws.join("http-client.private.env.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // No token ended up in any file of the workspace or of the response history.
    for dir in [ws.to_path_buf(), ws.parent().unwrap().join("cache")] {
        for f in walk(&dir) {
            let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
            for needle in ["ims-at-", "ims-rt-", "ims-code-"] {
                assert!(!text.contains(needle), "{needle} in {}", f.display());
            }
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn demo_without_a_browser_signs_in_itself_and_gets_a_200() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("my-demo");
    let child = demo_cmd(tmp.path())
        .args(["demo", "--dir"])
        .arg(&ws)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, stdout, stderr) = wait_bounded(child, Duration::from_secs(90));
    assert!(stdout.contains("No browser can be opened here"), "{stdout}");
    assert!(stdout.contains("memory only"), "{stdout}");
    assert_demo_succeeded(code, &stdout, &stderr, &ws);
    // The workspace it wrote is itself a valid example: `show` resolves it cleanly.
    let (ok, diags) = show_ok(&ws.join("demo.http"), Some("demo"));
    assert!(ok, "{diags}");
}

#[cfg(unix)]
#[test]
fn demo_with_a_browser_lets_the_browser_sign_in() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    // A "browser" that does what a person does: open the page, press "Continue", and
    // follow the redirect back to httplens.
    let script = tmp.path().join("browser.sh");
    std::fs::write(
        &script,
        r#"#!/bin/sh
origin=$(printf '%s' "$1" | sed 's#^\(http://[^/]*\).*#\1#')
page=$(curl -sS "$1")
pending=$(printf '%s' "$page" | sed -n 's/.*name="pending" value="\([^"]*\)".*/\1/p')
curl -sS -L -o /dev/null --data-urlencode "pending=$pending" -d action=approve "$origin/ims/authorize/v2/approve"
touch "$0.ran"
"#,
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let ws = tmp.path().join("ws");
    let child = demo_cmd(tmp.path())
        .env("HTTPLENS_BROWSER", &script)
        .args(["demo", "--dir"])
        .arg(&ws)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, stdout, stderr) = wait_bounded(child, Duration::from_secs(90));
    assert!(
        tmp.path().join("browser.sh.ran").exists(),
        "the browser was not started"
    );
    assert!(!stdout.contains("No browser can be opened"), "{stdout}");
    assert!(stdout.contains("login page"), "{stdout}");
    assert_demo_succeeded(code, &stdout, &stderr, &ws);
}

/// `--no-browser`: the URL is printed, the user signs in elsewhere and pastes the
/// redirected address. The test plays the user with its own HTTP client.
#[test]
fn demo_no_browser_reads_the_pasted_redirect() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let mut child = demo_cmd(tmp.path())
        .args(["demo", "--no-browser", "--dir"])
        .arg(&ws)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).unwrap();
        assert!(n > 0, "the demo ended before printing a URL:\n{seen}");
        seen.push_str(&line);
        let t = line.trim();
        if t.starts_with("http://127.0.0.1:") && t.contains("/ims/authorize/v2?") {
            break t.to_string();
        }
    };
    let redirected = walk_login_without_following(&url);
    assert!(redirected.starts_with("http://127.0.0.1:"), "{redirected}");
    assert!(redirected.contains("code="), "no code in the redirect");
    writeln!(stdin, "not a url").unwrap();
    writeln!(stdin, "{redirected}").unwrap();
    drop(stdin);
    // Collect the rest and finish.
    let rest = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = reader.read_to_string(&mut s);
        s
    });
    let mut se = child.stderr.take().unwrap();
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the demo did not finish after the paste");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = seen + &rest.join().unwrap();
    let stderr = err.join().unwrap();
    assert!(
        stderr.contains("the pasted text is not a URL"),
        "a bad paste is explained: {stderr}"
    );
    assert_demo_succeeded(status.code().unwrap_or(-1), &stdout, &stderr, &ws);
}

/// GET the login page, POST its form, and return the redirect's Location instead of
/// following it (what a user copies from the address bar).
fn walk_login_without_following(url: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    httplens::process::install_crypto_provider();
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = http.get(url).send().await.unwrap().text().await.unwrap();
        let key = "name=\"pending\" value=\"";
        let i = page.find(key).expect("login page has a pending field") + key.len();
        let pending = &page[i..i + page[i..].find('"').unwrap()];
        let origin = url::Url::parse(url).unwrap().origin().ascii_serialization();
        let body = format!(
            "pending={}&action=approve",
            url::form_urlencoded::byte_serialize(pending.as_bytes()).collect::<String>()
        );
        let resp = http
            .post(format!("{origin}/ims/authorize/v2/approve"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_redirection(), "{}", resp.status());
        resp.headers()["location"].to_str().unwrap().to_string()
    })
}

/// The process variables the examples' READMEs tell the user to set (secrets stay out
/// of the files).
const DOCUMENTED_VARS: &[(&str, &str)] = &[
    ("ADOBE_CLIENT_SECRET", "example-secret"),
    ("GITHUB_CLIENT_SECRET", "example-secret"),
    ("OIDC_CLIENT_SECRET", "example-secret"),
    ("STAGING_PASSWORD", "example-password"),
    ("REPORTING_SECRET", "example-secret"),
];

/// The auth profiles of one environment parse without an error (what an editor shows
/// as diagnostics on the env file).
fn profile_errors(file: &Path, env: Option<&str>) -> Vec<String> {
    let mut ws = httplens::env::Workspace::load(file, &[], env).expect("environment loads");
    ws.process_env = Some(
        DOCUMENTED_VARS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let (_, issues) = httplens::auth::env_profiles::profiles(&ws);
    issues
        .into_iter()
        .filter(|i| i.severity == httplens::auth::profile::IssueSeverity::Error)
        .map(|i| format!("{} --env {env:?}: {}", file.display(), i.message))
        .collect()
}

/// `httplens show FILE [--env E]`: (no error diagnostics and exit 0, stderr).
fn show_ok(file: &Path, env: Option<&str>) -> (bool, String) {
    let mut c = Command::new(BIN);
    c.arg("show").arg(file);
    if let Some(e) = env {
        c.args(["--env", e]);
    }
    for (k, v) in DOCUMENTED_VARS {
        c.env(k, v);
    }
    let o = c
        .env_remove("HTTPLENS_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let ok = o.status.success() && !stderr.contains(": error:");
    (
        ok,
        format!(
            "{} --env {env:?}: exit {:?}\n{stderr}",
            file.display(),
            o.status.code()
        ),
    )
}

/// The environments an example defines: in its env file, or REST Client's
/// `rest-client.environmentVariables` in `.vscode/settings.json` (none: no `--env`).
fn environments(dir: &Path) -> Vec<Option<String>> {
    let mut names: Vec<Option<String>> = Vec::new();
    let mut add = |v: &serde_json::Value| {
        for k in v.as_object().into_iter().flat_map(|o| o.keys()) {
            if !k.starts_with('$') && !names.contains(&Some(k.clone())) {
                names.push(Some(k.clone()));
            }
        }
    };
    if let Ok(text) = std::fs::read_to_string(dir.join("http-client.env.json")) {
        add(&serde_json::from_str(&text).expect("env file is JSON"));
    }
    if let Ok(text) = std::fs::read_to_string(dir.join(".vscode/settings.json")) {
        let v: serde_json::Value = serde_json::from_str(&text).expect("settings are JSON");
        add(&v["rest-client.environmentVariables"]);
    }
    if names.is_empty() { vec![None] } else { names }
}

/// Copy a folder as a user would copy an example out of the repository.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

#[test]
fn every_example_resolves_without_errors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files = Vec::new();
    for f in walk(&root) {
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
        // `examples/basic` belongs to the resolver's tests.
        if (ext == "http" || ext == "rest") && !f.starts_with(root.join("basic")) {
            files.push(f);
        }
    }
    files.sort();
    for dir in [
        "adobe-commerce",
        "github",
        "generic-oidc",
        "rest-client-compat",
        "jetbrains-compat",
    ] {
        assert!(
            files.iter().any(|f| f.starts_with(root.join(dir))),
            "examples/{dir} has no request file"
        );
    }
    // Each example folder is used on its own (its folder is the workspace root), as
    // after copying it out of the repository.
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap();
        let top = rel.components().next().unwrap().as_os_str();
        let copy = tmp.path().join(top);
        if !copy.exists() {
            copy_dir(&root.join(top), &copy);
        }
        let file = tmp.path().join(rel);
        for env in environments(&copy) {
            let (ok, report) = show_ok(&file, env.as_deref());
            if !ok {
                failures.push(report);
            }
            failures.extend(profile_errors(&file, env.as_deref()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A `httplens demo` that keeps serving (no `HTTPLENS_DEMO_EXIT_AFTER_SEND`), with its
/// output read line by line.
struct ServingDemo {
    child: std::process::Child,
    reader: BufReader<std::process::ChildStdout>,
    seen: String,
}

impl ServingDemo {
    fn start(tmp: &Path, ws: &Path, env: &[(&str, &str)]) -> ServingDemo {
        let mut child = demo_cmd(tmp)
            .env_remove("HTTPLENS_DEMO_EXIT_AFTER_SEND")
            .envs(env.iter().copied())
            .args(["demo", "--dir"])
            .arg(ws)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let reader = BufReader::new(child.stdout.take().unwrap());
        ServingDemo {
            child,
            reader,
            seen: String::new(),
        }
    }

    /// Reads up to the line that starts with `prefix`.
    fn read_until(&mut self, prefix: &str) {
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).unwrap();
            assert!(n > 0, "the demo ended before `{prefix}`:\n{}", self.seen);
            self.seen.push_str(&line);
            if line.starts_with(prefix) {
                return;
            }
        }
    }

    /// Sends `signal` (`-TERM`, `-INT`) and waits (bounded) for the exit, then reads
    /// what it said: reading first would hang the test if the signal were lost.
    fn signal_and_wait(mut self, signal: &str) -> (std::process::ExitStatus, String) {
        let killed = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("the demo kept running after kill {signal}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut rest = String::new();
        let _ = self.reader.read_to_string(&mut rest);
        (status, rest)
    }
}

/// Without the exit switch the demo keeps serving (an editor can use it) until SIGTERM
/// or Ctrl-C, then stops cleanly (exit 0). The servers live in the process, so its
/// exit closes their ports; the ports are not probed afterwards, since a parallel test
/// may legitimately bind the same default port at once.
#[cfg(unix)]
#[test]
fn demo_serves_until_sigterm_then_stops_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let mut demo = ServingDemo::start(tmp.path(), &ws, &[]);
    demo.read_until("Serving until Ctrl-C");
    // Still serving: the API answers (401 without a token).
    let env: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.join("http-client.env.json")).unwrap())
            .unwrap();
    let base = env["demo"]["baseUrl"].as_str().unwrap().to_string();
    let addr = base.trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "GET /V1/products HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");

    let (status, rest) = demo.signal_and_wait("-TERM");
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(rest.contains("Stopping the demo servers"), "{rest}");
}

/// Ctrl-C while the requests are in flight (the demo API answers slowly here) cancels
/// them and ends the demo: it does not go on serving.
#[test]
fn ctrl_c_during_the_sends_ends_the_demo() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let mut demo = ServingDemo::start(tmp.path(), &ws, &[("HTTPLENS_DEMO_API_DELAY_MS", "30000")]);
    demo.read_until("Signed in as");
    // The sends are waiting on the slow API now.
    std::thread::sleep(Duration::from_millis(300));
    let (status, rest) = demo.signal_and_wait("-INT");
    assert_eq!(status.code(), Some(1), "{rest}");
    assert!(
        rest.contains("Stopped: the requests in flight were cancelled"),
        "{rest}"
    );
    assert!(!rest.contains("Serving until Ctrl-C"), "{rest}");
}

/// When `HTTPLENS_BROWSER` cannot be started the demo says why and still signs in,
/// walking the redirects itself.
#[test]
fn demo_falls_back_to_signing_in_itself_when_the_browser_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    let child = demo_cmd(tmp.path())
        .env("HTTPLENS_BROWSER", tmp.path().join("no-such-browser"))
        .args(["demo", "--dir"])
        .arg(&ws)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, stdout, stderr) = wait_bounded(child, Duration::from_secs(90));
    assert!(
        stdout.contains("could not be started")
            && stdout.contains("the demo signs in as the demo user itself"),
        "{stdout}"
    );
    assert_demo_succeeded(code, &stdout, &stderr, &ws);
}

/// The demo API as a resource server: it wants a provider-issued Bearer token and an
/// `x-api-key`, tells a user token from a service token, and honours `Store`.
#[tokio::test]
async fn demo_api_checks_tokens_with_the_provider() {
    httplens::process::install_crypto_provider();
    let servers = httplens::demo::start_servers(0, 0).await.unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let api = servers.api_url().to_string();
    // A service token from the provider (client credentials, HTTP Basic).
    let tok: serde_json::Value = http
        .post(servers.ims.token_url())
        .basic_auth("demo-web", Some("demo-web-secret"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=AdobeID,commerce.accs")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tok["access_token"].as_str().unwrap().to_string();
    let get = |path: &str, token: Option<&str>, key: Option<&str>, store: Option<&str>| {
        let mut r = http.get(format!("{api}{path}"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(k) = key {
            r = r.header("x-api-key", k);
        }
        if let Some(s) = store {
            r = r.header("Store", s);
        }
        r.send()
    };
    let r = get("/V1/products", None, Some("demo-web"), None)
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let r = get("/V1/products", Some("forged"), Some("demo-web"), None)
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = get("/V1/products", Some(&token), None, None).await.unwrap();
    assert_eq!(r.status(), 403);
    let r = get("/V1/products", Some(&token), Some("someone-else"), None)
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = get(
        "/V1/products/MH01",
        Some(&token),
        Some("demo-web"),
        Some("de"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["name"], "Chaz Kapuzenpulli");
    let r = get("/V1/products", Some(&token), Some("demo-web"), Some("xx"))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // A service token is not a customer.
    let r = get("/V1/customers/me", Some(&token), Some("demo-web"), None)
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // An expired token is refused.
    servers.ims.expire_access_tokens();
    let r = get("/V1/orders", Some(&token), Some("demo-web"), None)
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(servers.api.counts().0, 3, "authorized calls");
    servers.shutdown().await;
}
