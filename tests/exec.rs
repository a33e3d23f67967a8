//! The sending engine against a real HTTP server on 127.0.0.1: methods, headers,
//! bodies, redirects, cookies, compression, timeouts, failures, digest auth, large
//! bodies, rendering with secrets masked, history; and `httplens run` as a process.

#[path = "support/server.rs"]
mod server;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use httplens::exec::history::{self, History, RequestOrigin};
use httplens::exec::render::{DocumentExtras, render_document};
use httplens::exec::{Client, ClientConfig, ResponseBody, SendError, SendOptions};
use httplens::request::{BodySpec, DigestCredentials, RequestOptions, RequestSpec};
use httplens::secret::SecretSet;

fn spec(method: &str, url: String) -> RequestSpec {
    RequestSpec {
        name: None,
        line: 1,
        method: method.into(),
        url,
        headers: vec![],
        body: BodySpec::None,
        options: RequestOptions::default(),
        digest: None,
        secrets: SecretSet::new(),
        assertions: vec![],
        output: None,
    }
}

struct Env {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

fn env() -> Env {
    httplens::process::install_crypto_provider();
    let tmp = tempfile::tempdir().unwrap();
    Env {
        dir: tmp.path().to_path_buf(),
        _tmp: tmp,
    }
}

impl Env {
    fn client(&self) -> Client {
        Client::new(ClientConfig {
            cookie_file: Some(self.dir.join("cookies.json")),
            ..Default::default()
        })
    }
    fn opts(&self) -> SendOptions {
        SendOptions {
            spill_dir: self.dir.join("spill"),
            ..Default::default()
        }
    }
}

fn json(resp: &httplens::exec::Response) -> serde_json::Value {
    serde_json::from_slice(resp.body.bytes()).expect("a JSON body")
}

#[tokio::test]
async fn methods_headers_and_bodies_reach_the_server() {
    let s = server::start().await;
    let e = env();
    let c = e.client();
    for method in [
        "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND",
    ] {
        let mut sp = spec(method, s.url("/echo/x?q=1"));
        sp.headers = vec![
            ("X-One".into(), "1".into()),
            ("X-Multi".into(), "a".into()),
            ("X-Multi".into(), "b".into()),
        ];
        let r = c.send(&sp, &e.opts()).await.unwrap();
        assert_eq!(r.status, 200);
        let j = json(&r);
        assert_eq!(j["method"], method);
        assert_eq!(j["path"], "/echo/x");
        assert_eq!(j["query"], "q=1");
        assert_eq!(j["headers"]["x-one"], "1");
        assert!(
            j["headers"]["user-agent"]
                .as_str()
                .unwrap()
                .starts_with("httplens/")
        );
    }
    // Bytes, a file streamed from disk, and a file relative to the request's folder.
    let mut sp = spec("POST", s.url("/echo"));
    sp.headers = vec![("Content-Type".into(), "application/json".into())];
    sp.body = BodySpec::Bytes(br#"{"a": 1}"#.to_vec());
    let r = c.send(&sp, &e.opts()).await.unwrap();
    assert_eq!(json(&r)["body"], r#"{"a": 1}"#);
    assert_eq!(json(&r)["headers"]["content-length"], "8");
    std::fs::write(e.dir.join("payload.txt"), "from a file").unwrap();
    sp.body = BodySpec::File("payload.txt".into());
    let mut o = e.opts();
    o.base_dir = Some(e.dir.clone());
    let r = c.send(&sp, &o).await.unwrap();
    assert_eq!(json(&r)["body"], "from a file");
    sp.body = BodySpec::File("missing.txt".into());
    let err = c.send(&sp, &o).await.unwrap_err();
    assert!(matches!(err, SendError::BodyFile { .. }), "{err}");
}

#[tokio::test]
async fn redirects_followed_unless_told_and_loops_reported() {
    let s = server::start().await;
    let e = env();
    let c = e.client();
    let r = c
        .send(&spec("GET", s.url("/redirect/3")), &e.opts())
        .await
        .unwrap();
    assert_eq!((r.status, r.body.text_lossy().as_str()), (200, "arrived"));
    assert!(r.url.ends_with("/redirect/0"));
    let mut sp = spec("GET", s.url("/redirect/3"));
    sp.options.follow_redirects = false;
    let r = c.send(&sp, &e.opts()).await.unwrap();
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/redirect/2"));
    let err = c
        .send(&spec("GET", s.url("/loop")), &e.opts())
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::RedirectLoop { .. }), "{err}");
    assert!(err.to_string().contains("@no-redirect"));
    let err = c
        .send(&spec("GET", s.url("/redirect/12")), &e.opts())
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::TooManyRedirects { .. }), "{err}");
}

#[tokio::test]
async fn cookies_persist_across_requests_and_clients_unless_disabled() {
    let s = server::start().await;
    let e = env();
    let c = e.client();
    c.send(&spec("GET", s.url("/set-cookie?v=one")), &e.opts())
        .await
        .unwrap();
    let r = c
        .send(&spec("GET", s.url("/echo")), &e.opts())
        .await
        .unwrap();
    assert_eq!(json(&r)["headers"]["cookie"], "session=one");
    let mut no_jar = spec("GET", s.url("/echo"));
    no_jar.options.cookie_jar = false;
    let r = c.send(&no_jar, &e.opts()).await.unwrap();
    assert!(json(&r)["headers"].get("cookie").is_none());
    // A new session (a new process) reads the jar from disk.
    let jar = e.dir.join("cookies.json");
    assert!(jar.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&jar).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let c2 = e.client();
    let r = c2
        .send(&spec("GET", s.url("/echo")), &e.opts())
        .await
        .unwrap();
    assert_eq!(json(&r)["headers"]["cookie"], "session=one");
}

#[tokio::test]
async fn gzip_is_decoded_and_an_encoding_asked_for_by_hand_is_named() {
    let s = server::start().await;
    let e = env();
    let c = e.client();
    // What the client asks for on its own, it decodes: gzip and deflate, not brotli
    // (its decoder and dictionary cost 0.2 MB of the binary, docs/performance.md).
    let r = c
        .send(&spec("GET", s.url("/echo")), &e.opts())
        .await
        .unwrap();
    assert_eq!(json(&r)["headers"]["accept-encoding"], "gzip,deflate");
    let r = c
        .send(&spec("GET", s.url("/gzip")), &e.opts())
        .await
        .unwrap();
    assert_eq!(r.body.text_lossy(), server::COMPRESSIBLE);
    assert_eq!(r.header("content-encoding"), None);
    // A request that asks for `br` itself gets the bytes as sent, and the document says
    // so instead of showing them as text.
    let mut br = spec("GET", s.url("/br"));
    br.headers.push(("Accept-Encoding".into(), "br".into()));
    let r = c.send(&br, &e.opts()).await.unwrap();
    assert_eq!(r.header("content-encoding"), Some("br"));
    assert_ne!(r.body.text_lossy(), server::COMPRESSIBLE);
    let doc = render_document(&br, &r, DocumentExtras::default());
    assert!(
        doc.contains("compressed with `br`, which httplens does not decode"),
        "{doc}"
    );
    assert!(!doc.contains(server::COMPRESSIBLE), "{doc}");
}

#[tokio::test]
async fn failures_are_one_clear_sentence_in_bounded_time() {
    let s = server::start().await;
    let e = env();
    let c = e.client();
    // A refused port: bind, learn the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let err = c
        .send(&spec("GET", format!("http://127.0.0.1:{port}/")), &e.opts())
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Refused { .. }), "{err:?}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );

    let mut sp = spec("GET", s.url("/hang"));
    sp.options.timeout = Some(Duration::from_millis(500));
    let t = Instant::now();
    let err = c.send(&sp, &e.opts()).await.unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(matches!(err, SendError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("500 ms"), "{err}");

    // Cancellation stops a hanging exchange at once.
    let opts = e.opts();
    let cancel = opts.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
    });
    let t = Instant::now();
    let err = c
        .send(&spec("GET", s.url("/hang")), &opts)
        .await
        .unwrap_err();
    assert_eq!(err, SendError::Cancelled);
    assert!(t.elapsed() < Duration::from_secs(5));

    // Plain http (not TLS) to a server that only speaks http: TLS fails clearly.
    let err = c
        .send(&spec("GET", format!("https://{}/echo", s.addr)), &e.opts())
        .await
        .unwrap_err();
    assert!(
        matches!(err, SendError::Tls { .. } | SendError::Reset { .. }),
        "{err:?}"
    );
    let err = c
        .send(&spec("GET", "ftp://127.0.0.1/x".into()), &e.opts())
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::InvalidUrl { .. }), "{err:?}");
}

#[tokio::test]
async fn tokens_never_go_over_plain_http_except_loopback() {
    let e = env();
    let c = e.client();
    let mut o = e.opts();
    o.carries_token = true;
    // Refused before any connection is attempted (the host does not even resolve).
    let err = c
        .send(&spec("GET", "http://api.invalid/me".into()), &o)
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::TokenOverHttp { .. }), "{err:?}");
    assert!(err.to_string().contains("api.invalid"));
    let s = server::start().await;
    let r = c.send(&spec("GET", s.url("/echo")), &o).await.unwrap();
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn digest_auth_answers_the_challenge() {
    let s = server::start().await;
    let e = env();
    let c = e.client();
    let mut sp = spec("GET", s.url("/digest?x=1"));
    sp.digest = Some(DigestCredentials {
        user: server::DIGEST_USER.into(),
        password: server::DIGEST_PASS.into(),
    });
    let r = c.send(&sp, &e.opts()).await.unwrap();
    assert_eq!((r.status, r.body.text_lossy().as_str()), (200, "digest ok"));
    sp.digest.as_mut().unwrap().password = "wrong".into();
    let r = c.send(&sp, &e.opts()).await.unwrap();
    assert_eq!(r.status, 401);
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The peak memory of a 100 MiB download, measured where nothing else ran: this test
/// binary started again to run only the download (`HTTPLENS_TEST_SPILL_CHILD`), which
/// prints its peak RSS before and after. In this process other tests may already have
/// raised the peak past anything the download adds, and the check would pass blind.
fn spill_peak_in_a_child() -> (u64, u64) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "a_100_mib_body_spills_to_disk_with_bounded_memory",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HTTPLENS_TEST_SPILL_CHILD", "1")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the child failed:\n{text}");
    let line = text
        .lines()
        .find_map(|l| l.split_once("SPILL-PEAK-KIB ").map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("the child did not report its peak:\n{text}"));
    let mut it = line.split_whitespace().map(|n| n.parse::<u64>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}

#[tokio::test]
async fn a_100_mib_body_spills_to_disk_with_bounded_memory() {
    let child = std::env::var_os("HTTPLENS_TEST_SPILL_CHILD").is_some();
    if !child {
        let (before, after) = spill_peak_in_a_child();
        // A body held in memory would add 100 MiB.
        assert!(
            after.saturating_sub(before) < 48 * 1024,
            "peak RSS grew by {} KiB",
            after - before
        );
        assert!(before > 0, "no VmHWM read");
        eprintln!("100 MiB download in a fresh process: peak RSS {before} -> {after} KiB");
    }
    let s = server::start().await;
    let e = env();
    let c = e.client();
    let before = peak_rss_kib();
    let t = Instant::now();
    let mut r = c
        .send(&spec("GET", s.url("/big?mib=100")), &e.opts())
        .await
        .unwrap();
    let elapsed = t.elapsed();
    let after = peak_rss_kib();
    if child {
        eprintln!("SPILL-PEAK-KIB {before} {after}");
        return;
    }
    let ResponseBody::Spilled { path, size, head } = &r.body else {
        panic!("a 100 MiB body must spill")
    };
    assert_eq!(*size, 100 * 1024 * 1024);
    assert_eq!(std::fs::metadata(path).unwrap().len(), 100 * 1024 * 1024);
    assert_eq!(head.len(), 64 * 1024);
    eprintln!("100 MiB in {elapsed:?}");
    // Saved beside its document: moved, not copied; the document shows the head.
    let h = History::new(e.dir.join("cache"));
    let origin = RequestOrigin {
        file: e.dir.join("big.http"),
        name: Some("big".into()),
        line: 1,
    };
    let sp = spec("GET", s.url("/big?mib=100"));
    let saved = h
        .save(&origin, &mut r, |resp, body| {
            render_document(
                &sp,
                resp,
                DocumentExtras {
                    body_file: body,
                    ..Default::default()
                },
            )
        })
        .unwrap();
    let body = saved.body_file.unwrap();
    assert_eq!(std::fs::metadata(&body).unwrap().len(), 100 * 1024 * 1024);
    let doc = std::fs::read_to_string(&saved.document).unwrap();
    assert!(doc.contains(&format!("# body: 100.0 MiB, saved to {}", body.display())));
    assert!(doc.len() < 80 * 1024, "the document holds only the head");
}

#[tokio::test]
async fn documents_mask_secrets_even_when_echoed() {
    let s = server::start().await;
    let e = env();
    let c = e.client();
    let mut sp = spec("POST", s.url("/echo?key=private-api-key-42"));
    sp.headers = vec![
        (
            "Authorization".into(),
            format!("Bearer {}", server::GOOD_TOKEN),
        ),
        ("Content-Type".into(), "application/json".into()),
    ];
    sp.body = BodySpec::Bytes(br#"{"secret": "private-api-key-42"}"#.to_vec());
    sp.secrets.add(server::GOOD_TOKEN);
    sp.secrets.add("private-api-key-42");
    let r = c.send(&sp, &e.opts()).await.unwrap();
    assert!(
        r.body.text_lossy().contains(server::GOOD_TOKEN),
        "the server echoes it"
    );
    let doc = render_document(&sp, &r, DocumentExtras::default());
    assert!(!doc.contains(server::GOOD_TOKEN), "{doc}");
    assert!(!doc.contains("private-api-key-42"), "{doc}");
    assert!(doc.contains("\"authorization\": \"Bearer ***\""), "{doc}");
    assert!(doc.starts_with("HTTP/1.1 200 OK\n"));
    // Error messages mask the URL too.
    let mut bad = sp.clone();
    bad.url = "http://127.0.0.1:1/x?key=private-api-key-42 bad".into();
    bad.method = "BAD METHOD".into();
    let err = c.send(&bad, &e.opts()).await.unwrap_err();
    assert!(!err.to_string().contains("private-api-key-42"), "{err}");
}

#[tokio::test]
async fn content_types_render_readably() {
    let s = server::start().await;
    let e = env();
    let c = e.client();
    let sp = spec("GET", s.url("/xml"));
    let r = c.send(&sp, &e.opts()).await.unwrap();
    let doc = render_document(&sp, &r, DocumentExtras::default());
    assert!(doc.contains("<a>\n  <b>1</b>\n</a>"), "{doc}");
    let r = c
        .send(&spec("GET", s.url("/form")), &e.opts())
        .await
        .unwrap();
    let doc = render_document(&sp, &r, DocumentExtras::default());
    assert!(doc.contains("\na=1\nb=two words\n"), "{doc}");
    let r = c
        .send(&spec("GET", s.url("/html")), &e.opts())
        .await
        .unwrap();
    let doc = render_document(&sp, &r, DocumentExtras::default());
    assert!(doc.contains("\n<p>hi</p>\n"), "{doc}");
    let mut r = c
        .send(&spec("GET", s.url("/png")), &e.opts())
        .await
        .unwrap();
    let h = History::new(e.dir.join("cache"));
    let origin = RequestOrigin {
        file: e.dir.join("a.http"),
        name: None,
        line: 9,
    };
    let saved = h
        .save(&origin, &mut r, |resp, body| {
            render_document(
                &sp,
                resp,
                DocumentExtras {
                    body_file: body,
                    ..Default::default()
                },
            )
        })
        .unwrap();
    assert!(saved.document.parent().unwrap().ends_with("line-9"));
    let doc = std::fs::read_to_string(&saved.document).unwrap();
    assert!(
        doc.contains("# binary body: 8 B, image/png, saved to"),
        "{doc}"
    );
    assert_eq!(std::fs::read(saved.body_file.unwrap()).unwrap().len(), 8);
    assert_eq!(history::document_origin(&saved.document).unwrap(), origin);
}

// ---- The engine over parsed files, and `httplens run` as a process. ----

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use httplens::env::Workspace;
use httplens::exec::{Engine, EngineConfig, FileInput, NoTokenSource, Silent};
use tokio_util::sync::CancellationToken;

const CHAIN: &str = r#"# @name login
POST {{base}}/login
Content-Type: application/json

{"user": "ada"}

?? status == 200
?? body $.token exists

### me
# @name me
GET {{base}}/protected
Authorization: Bearer {{login.response.body.$.token}}

?? status == 200
?? body $.ok isTrue
?? header content-type includes json

### failing
GET {{base}}/status/404

?? status == 200

### no redirect
# @no-redirect
GET {{base}}/redirect/2

?? status == 302
?? header location == /redirect/1

### no cookies
# @no-cookie-jar
GET {{base}}/echo

?? body $.headers.cookie not exists
"#;

struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    file: PathBuf,
    cache: PathBuf,
}

fn fixture(text: &str) -> Fixture {
    httplens::process::install_crypto_provider();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let file = dir.join("api.http");
    std::fs::write(&file, text).unwrap();
    Fixture {
        cache: tmp.path().join("cache"),
        dir,
        file,
        _tmp: tmp,
    }
}

fn engine(f: &Fixture, history_size: usize) -> Engine {
    let mut c = EngineConfig::new(f.dir.clone());
    c.cache = f.cache.clone();
    c.history_size = history_size;
    Engine::new(c, Arc::new(NoTokenSource("no sign-in in tests".into())))
}

#[tokio::test]
async fn engine_chains_once_per_session_checks_assertions_and_keeps_history() {
    let s = server::start().await;
    let f = fixture(CHAIN);
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
    let e = engine(&f, 2);
    let me = httplens::request::find_request(&parsed.file, "me").unwrap();
    let cancel = CancellationToken::new();
    for round in 0..3 {
        let out = e.send_block(&input, me, &cancel, &Silent).await;
        let last = out.last().unwrap();
        assert!(
            last.passed(),
            "{:?}",
            last.result.as_ref().map(|s| &s.assertions)
        );
        assert_eq!(out.len(), if round == 0 { 2 } else { 1 }, "login only once");
        assert!(out[0].dependency == (round == 0));
    }
    assert_eq!(s.counters.logins.load(Ordering::SeqCst), 1);
    assert_eq!(s.counters.protected.load(Ordering::SeqCst), 3);
    // The token from login went into the request and is masked nowhere else? It is
    // not a secret (a response value), but the document is written and pruned to 2.
    let h = e.history();
    let dir = h.request_dir(&f.file, Some("me"), 12);
    let docs = history::list_documents(&dir);
    assert_eq!(docs.len(), 2, "pruned to the history size");
    assert!(
        std::fs::read_to_string(&docs[1])
            .unwrap()
            .contains("# passed (line 15): ")
    );
    assert_eq!(
        history::previous_document(&docs[1]).as_ref(),
        Some(&docs[0])
    );
    let origin = history::document_origin(&docs[1]).unwrap();
    assert_eq!((origin.name.as_deref(), origin.line), (Some("me"), 12));

    // All in order: the failing assertion fails with a reason, the rest pass.
    let all = e.send_all(&input, &cancel, &Silent).await;
    assert_eq!(all.len(), 5);
    let verdicts: Vec<bool> = all.iter().map(|o| o.passed()).collect();
    assert_eq!(verdicts, vec![true, true, false, true, true], "{all:#?}");
    let failing = all[2].result.as_ref().unwrap();
    assert_eq!(failing.response.status, 404);
    assert_eq!(
        failing.assertions[0].reason.as_deref(),
        Some("expected `200`, got `404`")
    );
    assert!(failing.document.contains("# FAILED (line 22): "));
}

#[tokio::test]
async fn engine_reports_unresolved_and_unsendable_requests_as_sentences() {
    let f = fixture("GET {{nowhere}}/x\n\n### refused\nGET http://127.0.0.1:9/x\n");
    let text = std::fs::read_to_string(&f.file).unwrap();
    let parsed = httplens::syntax::parse(&text);
    let ws = Workspace::load(&f.file, &[], None).unwrap();
    let overrides = BTreeMap::new();
    let input = FileInput {
        workspace: &ws,
        file: &parsed.file,
        text: &text,
        overrides: &overrides,
    };
    let e = engine(&f, 20);
    let all = e.send_all(&input, &CancellationToken::new(), &Silent).await;
    assert_eq!(all.len(), 2);
    let e0 = all[0].result.as_ref().unwrap_err();
    assert!(e0.starts_with("line 1: ") && e0.contains("nowhere"), "{e0}");
    let e1 = all[1].result.as_ref().unwrap_err();
    assert!(e1.contains("127.0.0.1:9"), "{e1}");
}

fn run_cli(f: &Fixture, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_httplens"))
        .arg("run")
        .args(args)
        .env("HTTPLENS_CACHE_DIR", &f.cache)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn run_as_a_process_exit_codes_json_and_junit() {
    let s = server::start_in_background();
    let f = fixture(CHAIN);
    let file = f.file.to_str().unwrap().to_string();
    let base = format!("base={}", s.url(""));
    let junit = f.dir.join("report.xml");

    let (code, stdout, stderr) = run_cli(
        &f,
        &[
            &file,
            "--var",
            &base,
            "--format",
            "json",
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1, "one assertion fails: {stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON array");
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 5);
    let keys: Vec<&str> = items[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "name",
            "line",
            "method",
            "url",
            "status",
            "headers",
            "body",
            "elapsed_ms",
            "error"
        ]
    );
    assert_eq!(items[0]["name"], "login");
    assert_eq!(items[0]["line"], 2);
    assert_eq!(items[0]["method"], "POST");
    assert_eq!(items[0]["status"], 200);
    assert!(items[0]["error"].is_null());
    assert!(
        items[1]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h[0] == "content-type")
    );
    assert_eq!(items[2]["status"], 404);
    assert!(
        items[2]["error"]
            .as_str()
            .unwrap()
            .contains("expected `200`, got `404`")
    );
    assert!(
        stderr.contains("5 requests: 4 passed, 1 failed"),
        "{stderr}"
    );
    let report = std::fs::read_to_string(&junit).unwrap();
    assert!(
        report.contains("<testsuite name=\"api.http\" tests=\"5\" failures=\"1\" errors=\"0\""),
        "{report}"
    );
    assert!(report.contains("<failure message=\"line 22: "));

    // --name sends the dependency, prints the request alone, exit 0.
    let before = s.counters.logins.load(Ordering::SeqCst);
    let (code, stdout, _) = run_cli(
        &f,
        &[&file, "--var", &base, "--name", "me", "--format", "json"],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["name"], "me");
    assert_eq!(s.counters.logins.load(Ordering::SeqCst), before + 1);

    // httpyac's `# @ref login`: sent first although no value is read from it.
    let g = fixture(
        "# @name login\nPOST {{base}}/login\n\n### me\n# @name me\n# @ref login\nGET {{base}}/count\n",
    );
    let before = s.counters.logins.load(Ordering::SeqCst);
    let (code, stdout, stderr) = run_cli(
        &g,
        &[
            g.file.to_str().unwrap(),
            "--var",
            &base,
            "--name",
            "me",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(s.counters.logins.load(Ordering::SeqCst), before + 1);

    // --line anywhere in a block; text output with a summary.
    let (code, stdout, _) = run_cli(&f, &[&file, "--var", &base, "--line", "21", "--no-history"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("HTTP/1.1 404 Not Found"), "{stdout}");
    assert!(
        stdout.contains("1 request: 0 passed, 1 failed; assertions: 0 passed, 1 failed"),
        "{stdout}"
    );

    // Usage and file errors: exit 2 with one sentence.
    let (code, _, stderr) = run_cli(&f, &[&file, "--name", "nope"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no request is named `nope`"), "{stderr}");
    let (code, _, stderr) = run_cli(&f, &["/nonexistent/x.http"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read the file"), "{stderr}");
    let (code, _, _) = run_cli(&f, &[&file, "--var", "novalue"]);
    assert_eq!(code, 2);
    // A refused port: exit 1, the error in JSON.
    let g = fixture("GET http://127.0.0.1:9/x\n");
    let (code, stdout, _) = run_cli(&g, &[g.file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(v[0]["status"].is_null());
    assert!(
        v[0]["error"]
            .as_str()
            .unwrap()
            .contains("connection refused by 127.0.0.1:9")
    );
}

/// Two sends at once on one engine, each with the sign-in session of its own
/// environment (as the editor does when the environment is switched while Send All
/// runs): every request of a send carries that send's token, never the other's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_send_keeps_its_own_token_source_to_the_end() {
    use futures_util::future::BoxFuture;
    use httplens::exec::TokenSource;
    use httplens::secret::Secret;
    use httplens::syntax::TokenKind;

    struct Fixed(&'static str, Duration);
    impl TokenSource for Fixed {
        fn token<'a>(&'a self, _: &'a str, _: TokenKind) -> BoxFuture<'a, Result<Secret, String>> {
            Box::pin(async move {
                tokio::time::sleep(self.1).await;
                Ok(Secret::new(self.0))
            })
        }
        fn refresh_after_401<'a>(
            &'a self,
            _: &'a str,
            _: TokenKind,
            _: &'a Secret,
        ) -> BoxFuture<'a, Result<Secret, String>> {
            Box::pin(async move { Err("no refresh".into()) })
        }
    }

    let s = server::start().await;
    let mut text = String::new();
    for i in 0..4 {
        text.push_str(&format!(
            "### r{i}\nGET {{{{base}}}}/echo?i={i}\nAuthorization: Bearer {{{{$auth.token(\"p\")}}}}\n\n"
        ));
    }
    let f = fixture(&text);
    std::fs::write(
        f.dir.join("http-client.env.json"),
        r#"{"dev": {"Security": {"Auth": {"p": {"Type": "OAuth2", "Grant Type": "Client Credentials", "Token URL": "http://127.0.0.1:9/token", "Client ID": "x"}}}}}"#,
    )
    .unwrap();
    let parsed = httplens::syntax::parse(&text);
    let ws = Workspace::load(&f.file, &[], Some("dev")).unwrap();
    let overrides = BTreeMap::from([("base".to_string(), s.url(""))]);
    let input = FileInput {
        workspace: &ws,
        file: &parsed.file,
        text: &text,
        overrides: &overrides,
    };
    let e = engine(&f, 2);
    let cancel = CancellationToken::new();
    let a: Arc<dyn TokenSource> = Arc::new(Fixed("token-of-env-a", Duration::from_millis(30)));
    let b: Arc<dyn TokenSource> = Arc::new(Fixed("token-of-env-b", Duration::from_millis(5)));
    let (ra, rb) = tokio::join!(
        e.send_all_with(&input, &cancel, &Silent, a),
        e.send_all_with(&input, &cancel, &Silent, b)
    );
    for (run, want) in [(ra, "token-of-env-a"), (rb, "token-of-env-b")] {
        assert_eq!(run.len(), 4);
        for o in run {
            let label = o.label();
            let sent = o.result.expect("a response");
            let body = json(&sent.response);
            assert_eq!(
                body["headers"]["authorization"],
                format!("Bearer {want}"),
                "{label}"
            );
        }
    }
}

/// `run --timeout` bounds a request that has no `# @timeout` (the default is 30 s);
/// `--fail-fast` stops at the first failure and sends nothing after it.
#[tokio::test]
async fn run_timeout_and_fail_fast() {
    let s = server::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let text = format!(
        "### slow\nGET {}\n\n### check\nGET {}\n\n?? status == 200\n\n### after\nGET {}\n",
        s.url("/hang"),
        s.url("/status/404"),
        s.url("/count")
    );
    std::fs::write(dir.join("api.http"), &text).unwrap();
    let run = |args: &'static [&'static str]| {
        let dir = dir.clone();
        let cache = tmp.path().join("cache");
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_httplens"))
                .arg("run")
                .args(args)
                .current_dir(&dir)
                .env("HTTPLENS_CACHE_DIR", cache)
                .output()
                .await
                .unwrap()
        }
    };
    let started = Instant::now();
    let out = run(&[
        "api.http",
        "--no-history",
        "--timeout",
        "1",
        "--name",
        "slow",
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("within 1.00 s"), "{stdout}");
    assert!(started.elapsed() < Duration::from_secs(20));
    let out = run(&["api.http", "--no-history", "--timeout", "1", "--fail-fast"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("an earlier request failed (--fail-fast)"),
        "{stdout}"
    );
    assert_eq!(
        s.counters.count.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing sent after the first failure"
    );
    assert_eq!(
        httplens::exec::EngineConfig::new(PathBuf::from("/")).default_timeout,
        Some(Duration::from_secs(30))
    );
}

/// A spec of the test server's `/echo`: a POST's echo matches it, a GET's cannot (the
/// spec wants an `id` and a numeric `method`).
const ECHO_SPEC: &str = r##"
openapi: 3.0.3
info: {title: Echo, version: "1"}
servers: [{url: "https://echo.example.com"}]
paths:
  /echo/{thing}:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        "200":
          description: the echo
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Echo"}
    get:
      responses:
        "200":
          description: not what the server sends
          content:
            application/json:
              schema:
                type: object
                required: [id]
                properties:
                  id: {type: integer}
                  method: {type: integer}
components:
  schemas:
    Echo:
      type: object
      required: [method, path, headers]
      properties:
        method: {type: string, enum: [POST, PUT]}
        path: {type: string}
        query: {type: string, nullable: true}
        headers: {type: object, additionalProperties: {type: string}}
        body: {type: string}
"##;

#[test]
fn run_checks_responses_against_the_openapi_spec() {
    let s = server::start_in_background();
    let f = fixture(
        "# @openapi ./echo.yaml\n\n### matches\nPOST {{base}}/echo/one\nContent-Type: application/json\n\n{\"a\": 1}\n\n?? schema\n\n### differs\nGET {{base}}/echo/two\n\n?? schema\n\n### unknown\nGET {{base}}/status/404\n\n?? schema\n",
    );
    std::fs::write(f.dir.join("echo.yaml"), ECHO_SPEC).unwrap();
    let file = f.file.to_str().unwrap().to_string();
    let base = format!("base={}", s.url(""));
    let junit = f.dir.join("report.xml");
    let (code, stdout, stderr) = run_cli(
        &f,
        &[&file, "--var", &base, "--junit", junit.to_str().unwrap()],
    );
    assert_eq!(
        code, 1,
        "a response differs from the spec: {stderr}\n{stdout}"
    );
    // The matching response: its assertion passes and its document says so last.
    assert!(
        stdout.contains("# passed (line 9): ?? schema\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# schema: matches POST /echo/{thing} 200\n"),
        "{stdout}"
    );
    // The one that differs: the first differences with their JSON paths.
    let line = stdout
        .lines()
        .find(|l| l.starts_with("# schema: does not match GET /echo/{thing} 200: "))
        .unwrap_or_else(|| panic!("no schema line for the GET: {stdout}"));
    assert!(line.contains(r#"$: "id" is a required property"#), "{line}");
    assert!(
        line.contains(r#"$.method: "GET" is not of type "integer""#),
        "{line}"
    );
    assert!(
        stdout.contains(
            "# FAILED (line 14): ?? schema: the body does not match GET /echo/{thing} 200: "
        ),
        "{stdout}"
    );
    // A request the spec does not know: a clear failure, and no schema line.
    assert!(
        stdout.contains(
            "# FAILED (line 19): ?? schema: the spec has no operation for GET /status/404"
        ),
        "{stdout}"
    );
    assert_eq!(stdout.matches("# schema: ").count(), 2, "{stdout}");
    let report = std::fs::read_to_string(&junit).unwrap();
    assert!(report.contains("failures=\"2\""), "{report}");
    assert!(
        report.contains("line 14: ?? schema: the body does not match GET /echo/{thing} 200: "),
        "{report}"
    );
    assert!(
        report.contains("&quot;id&quot; is a required property"),
        "{report}"
    );
}

#[test]
fn schema_assertion_without_a_spec_fails_clearly() {
    let s = server::start_in_background();
    let f = fixture("GET {{base}}/echo/x\n\n?? schema\n");
    let file = f.file.to_str().unwrap().to_string();
    let base = format!("base={}", s.url(""));
    let (code, stdout, _) = run_cli(&f, &[&file, "--var", &base]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("# FAILED (line 3): ?? schema: no OpenAPI spec to check against: name one with `# @openapi ./spec.yaml`"),
        "{stdout}"
    );
    assert!(!stdout.contains("# schema: "), "{stdout}");
}
