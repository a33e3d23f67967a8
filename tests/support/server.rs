//! A real HTTP server on 127.0.0.1 (axum, port 0) for the engine's tests: echo,
//! status codes, redirects and a loop, cookies, gzip/brotli (brotli always, asked or not), a hang, a streamed body
//! of any size, a delayed answer, digest auth, a token-protected resource, and assorted
//! content types.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

pub const DIGEST_USER: &str = "alice";
pub const DIGEST_PASS: &str = "s3cret-pass";
pub const GOOD_TOKEN: &str = "tok-good-0123456789";

#[derive(Default)]
pub struct Counters {
    /// Requests to `/login` (chaining must send it once).
    pub logins: AtomicUsize,
    /// Requests to `/protected`.
    pub protected: AtomicUsize,
    /// Requests to `/count`.
    pub count: AtomicUsize,
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub counters: Arc<Counters>,
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

/// Starts the server on the current tokio runtime.
pub async fn start() -> TestServer {
    let counters = Arc::new(Counters::default());
    let app = Router::new()
        .route("/echo", any(echo))
        .route("/echo/{*rest}", any(echo))
        .route("/status/{code}", any(status))
        .route("/redirect/{n}", any(redirect))
        .route("/loop", any(|| async { redirect_to("/loop") }))
        .route("/set-cookie", any(set_cookie))
        .route("/gzip", any(gzip))
        .route("/br", any(br))
        .route("/hang", any(hang))
        .route("/big", any(big))
        .route("/digest", any(digest))
        .route("/login", any(login))
        .route("/protected", any(protected))
        .route("/count", any(count))
        .route(
            "/xml",
            any(|| async {
                (
                    [(header::CONTENT_TYPE, "application/xml")],
                    "<a><b>1</b></a>",
                )
            }),
        )
        .route(
            "/form",
            any(|| async {
                (
                    [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
                    "a=1&b=two+words",
                )
            }),
        )
        .route(
            "/png",
            any(|| async {
                (
                    [(header::CONTENT_TYPE, "image/png")],
                    vec![0x89u8, b'P', b'N', b'G', 0, 1, 2, 3],
                )
            }),
        )
        .route(
            "/html",
            any(|| async { ([(header::CONTENT_TYPE, "text/html")], "<p>hi</p>") }),
        )
        .route("/repeated", any(repeated))
        .route("/delay/{ms}", any(delay))
        .with_state(counters.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    TestServer { addr, counters }
}

/// Starts the server on a runtime of its own thread (for tests that are not async,
/// such as the ones that run the binary).
pub fn start_in_background() -> TestServer {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let s = start().await;
            tx.send(s).unwrap();
            std::future::pending::<()>().await;
        });
    });
    rx.recv().unwrap()
}

async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let hs: BTreeMap<String, String> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let json = serde_json::json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query(),
        "headers": hs,
        "body": String::from_utf8_lossy(&body),
    });
    axum::Json(json).into_response()
}

async fn status(Path(code): Path<u16>) -> Response {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (code, format!("status {}", code.as_u16())).into_response()
}

fn redirect_to(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())], "").into_response()
}

async fn redirect(Path(n): Path<u32>) -> Response {
    if n == 0 {
        (StatusCode::OK, "arrived").into_response()
    } else {
        redirect_to(&format!("/redirect/{}", n - 1))
    }
}

async fn set_cookie(Query(q): Query<BTreeMap<String, String>>) -> Response {
    let value = q.get("v").cloned().unwrap_or_else(|| "abc".into());
    (
        [(header::SET_COOKIE, format!("session={value}; Path=/"))],
        "cookie set",
    )
        .into_response()
}

pub const COMPRESSIBLE: &str = "hello compressed world, hello compressed world, hello!";

async fn gzip() -> Response {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(COMPRESSIBLE.as_bytes()).unwrap();
    let body = e.finish().unwrap();
    (
        [
            (header::CONTENT_ENCODING, "gzip"),
            (header::CONTENT_TYPE, "text/plain"),
        ],
        body,
    )
        .into_response()
}

async fn br() -> Response {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(COMPRESSIBLE.as_bytes()).unwrap();
    }
    (
        [
            (header::CONTENT_ENCODING, "br"),
            (header::CONTENT_TYPE, "text/plain"),
        ],
        out,
    )
        .into_response()
}

async fn hang() -> Response {
    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    "too late".into_response()
}

/// `/big?mib=N`: N MiB of `a`, streamed in 64 KiB chunks (never held whole).
async fn big(Query(q): Query<BTreeMap<String, String>>) -> Response {
    let mib: usize = q.get("mib").and_then(|m| m.parse().ok()).unwrap_or(1);
    let chunk = vec![b'a'; 64 * 1024];
    let chunks = mib * 16;
    let stream = futures_util::stream::iter(
        (0..chunks).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    );
    (
        [(header::CONTENT_TYPE, "text/plain")],
        Body::from_stream(stream),
    )
        .into_response()
}

fn md5(s: &str) -> String {
    digest_auth::Algorithm::new(digest_auth::AlgorithmType::MD5, false).hash_str(s)
}

const NONCE: &str = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
const REALM: &str = "testrealm@host.com";

/// RFC 2617 digest (qop=auth), verified independently of the client's crate.
async fn digest(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let challenge = || {
        (
            StatusCode::UNAUTHORIZED,
            [(
                header::WWW_AUTHENTICATE,
                format!("Digest realm=\"{REALM}\", qop=\"auth\", nonce=\"{NONCE}\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""),
            )],
            "digest required",
        )
            .into_response()
    };
    let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return challenge();
    };
    let Ok(h) = digest_auth::AuthorizationHeader::parse(auth) else {
        return challenge();
    };
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let ha1 = md5(&format!("{DIGEST_USER}:{REALM}:{DIGEST_PASS}"));
    let ha2 = md5(&format!("{}:{}", method.as_str(), path));
    let expected = md5(&format!(
        "{ha1}:{NONCE}:{:08x}:{}:auth:{ha2}",
        h.nc,
        h.cnonce.clone().unwrap_or_default()
    ));
    if h.username == DIGEST_USER && h.uri == path && h.response == expected {
        (StatusCode::OK, "digest ok").into_response()
    } else {
        challenge()
    }
}

async fn login(State(c): State<Arc<Counters>>) -> Response {
    c.logins.fetch_add(1, Ordering::SeqCst);
    axum::Json(serde_json::json!({"token": GOOD_TOKEN, "user": {"id": 7}})).into_response()
}

async fn protected(State(c): State<Arc<Counters>>, headers: HeaderMap) -> Response {
    c.protected.fetch_add(1, Ordering::SeqCst);
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth == format!("Bearer {GOOD_TOKEN}") {
        axum::Json(serde_json::json!({"ok": true, "echo": auth})).into_response()
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
            "bad token",
        )
            .into_response()
    }
}

async fn count(State(c): State<Arc<Counters>>) -> Response {
    let n = c.count.fetch_add(1, Ordering::SeqCst) + 1;
    axum::Json(serde_json::json!({ "n": n })).into_response()
}

/// `/delay/MS`: a JSON answer after MS milliseconds (at most 10 s), so that a run is
/// seen in flight.
async fn delay(Path(ms): Path<u64>) -> Response {
    tokio::time::sleep(std::time::Duration::from_millis(ms.min(10_000))).await;
    axum::Json(serde_json::json!({ "waited_ms": ms })).into_response()
}

/// A repeated header, two cookies and an XML body (request variables: `headers.X[1]`,
/// `cookies.NAME.value`, XPath).
async fn repeated() -> Response {
    let mut h = HeaderMap::new();
    h.append("x-multi", "first".parse().unwrap());
    h.append("x-multi", "second".parse().unwrap());
    h.append(
        header::SET_COOKIE,
        "session=s3ss10n-v4lue; Path=/api; HttpOnly"
            .parse()
            .unwrap(),
    );
    h.append(header::SET_COOKIE, "theme=dark; Path=/".parse().unwrap());
    h.insert(header::CONTENT_TYPE, "application/xml".parse().unwrap());
    (
        h,
        r#"<?xml version="1.0"?><replies><reply id="r-1"><text>hello</text></reply><reply id="r-2"><text>again</text></reply></replies>"#,
    )
        .into_response()
}
