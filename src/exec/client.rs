//! The HTTP client: sends one [`RequestSpec`] with reqwest (rustls), following the
//! spec's options (timeouts, redirects, cookie jar, digest auth), streams the body
//! (spilling large ones to a file), and turns every network failure into one sentence
//! that names the host and what to try.

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use super::response::{Response, ResponseBody, SHOWN_HEAD, SPILL_THRESHOLD, Timings};
use crate::net;
use crate::request::{BodySpec, DigestCredentials, RequestSpec};
use crate::secret::SecretSet;

/// Redirects followed at most (browsers and curl use similar limits).
pub const MAX_REDIRECTS: usize = 10;

/// Request bodies from files up to this size are read whole (so a Content-Length is
/// sent); larger ones are streamed.
const FILE_BODY_IN_MEMORY: u64 = 8 * 1024 * 1024;

/// Why a request got no response. Each message is one sentence naming the host and
/// what to try; none contains a secret (the engine masks URLs with the spec's secrets).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("the request was cancelled")]
    Cancelled,
    #[error(
        "refusing to send a token over plain http to {host}: use https, or a loopback host (127.0.0.1, localhost) for local testing"
    )]
    TokenOverHttp { host: String },
    #[error("the URL `{url}` is not valid ({reason}): check the request line")]
    InvalidUrl { url: String, reason: String },
    #[error("the header `{name}` is not valid ({reason}): check the request's headers")]
    InvalidHeader { name: String, reason: String },
    #[error("cannot read the body file {path}: {reason}")]
    BodyFile { path: String, reason: String },
    #[error("connection refused by {host}: is the server running and listening on that port?")]
    Refused { host: String },
    #[error(
        "could not resolve the host name {host}: check the spelling of the URL and your network or DNS settings"
    )]
    Dns { host: String },
    #[error(
        "TLS handshake with {host} failed ({reason}): check the server's certificate, or run with --insecure for a self-signed host you trust"
    )]
    Tls { host: String, reason: String },
    #[error(
        "could not connect to {host} within {after}: check the host and port, a firewall or proxy, or raise `# @connection-timeout`"
    )]
    ConnectTimeout { host: String, after: String },
    #[error(
        "no complete response from {host} within {after}: raise `# @timeout`, or check why the server is slow"
    )]
    Timeout { host: String, after: String },
    #[error(
        "the connection to {host} was closed or reset before a complete response: check the server's log, and that the URL's scheme (http or https) matches the server"
    )]
    Reset { host: String },
    #[error(
        "redirect loop at {url}: the server redirects back to an address already visited; add `# @no-redirect` to see the first response"
    )]
    RedirectLoop { url: String },
    #[error(
        "more than {MAX_REDIRECTS} redirects starting from {host}: add `# @no-redirect` to see the first response"
    )]
    TooManyRedirects { host: String },
    #[error("cannot write the response body to {path}: {reason}")]
    Spill { path: String, reason: String },
    #[error("the request to {host} failed: {reason}")]
    Other { host: String, reason: String },
}

impl SendError {
    /// The same error with every secret value masked in its text fields.
    pub fn masked(self, secrets: &SecretSet) -> SendError {
        let m = |s: String| secrets.mask(&s);
        match self {
            SendError::InvalidUrl { url, reason } => SendError::InvalidUrl {
                url: m(url),
                reason: m(reason),
            },
            SendError::InvalidHeader { name, reason } => SendError::InvalidHeader {
                name: m(name),
                reason: m(reason),
            },
            SendError::RedirectLoop { url } => SendError::RedirectLoop { url: m(url) },
            SendError::Other { host, reason } => SendError::Other {
                host: m(host),
                reason: m(reason),
            },
            SendError::Tls { host, reason } => SendError::Tls {
                host: m(host),
                reason: m(reason),
            },
            other => other,
        }
    }
}

/// Settings that hold for every request of one session.
#[derive(Debug, Clone, Default)]
pub struct ClientConfig {
    /// Where the cookie jar is persisted (`None`: in memory only).
    pub cookie_file: Option<PathBuf>,
    /// Accept invalid TLS certificates (`--insecure`).
    pub insecure: bool,
    /// Used when the request has no `@timeout` (the editor's `timeoutSeconds`).
    pub default_timeout: Option<Duration>,
}

/// Per-send settings.
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    /// Stops the exchange at any point (dropping the future works too).
    pub cancel: CancellationToken,
    /// Where a body over [`SPILL_THRESHOLD`] is written (created if missing).
    pub spill_dir: PathBuf,
    /// The request carries a token the engine obtained (`$auth.token`): refuse plain
    /// http to a non-loopback host.
    pub carries_token: bool,
    /// Relative `BodySpec::File` paths are read from here (the request file's folder).
    pub base_dir: Option<PathBuf>,
}

/// The options that need a differently built reqwest client (redirect policy, jar,
/// connect timeout are client-level in reqwest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ClientKey {
    follow_redirects: bool,
    cookie_jar: bool,
    connect_timeout: Option<Duration>,
}

/// One client per session: keeps connections alive, shares one cookie jar.
pub struct Client {
    config: ClientConfig,
    jar: Arc<Jar>,
    clients: Mutex<HashMap<ClientKey, reqwest::Client>>,
}

impl Client {
    /// Builds the client, loading the persisted cookie jar if there is one (a jar that
    /// cannot be read starts empty: cookies are a convenience, not data to fail on).
    pub fn new(config: ClientConfig) -> Client {
        let jar = Arc::new(Jar::load(config.cookie_file.clone()));
        Client {
            config,
            jar,
            clients: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    fn client_for(&self, spec: &RequestSpec) -> Result<reqwest::Client, SendError> {
        let key = ClientKey {
            follow_redirects: spec.options.follow_redirects,
            cookie_jar: spec.options.cookie_jar,
            connect_timeout: spec.options.connect_timeout,
        };
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let policy = if key.follow_redirects {
            reqwest::redirect::Policy::custom(|attempt| {
                if attempt.previous().iter().any(|u| u == attempt.url()) {
                    let url = attempt.url().to_string();
                    attempt.error(RedirectProblem::Loop(url))
                } else if attempt.previous().len() > MAX_REDIRECTS {
                    attempt.error(RedirectProblem::TooMany)
                } else {
                    attempt.follow()
                }
            })
        } else {
            reqwest::redirect::Policy::none()
        };
        let mut b = reqwest::Client::builder()
            .redirect(policy)
            .user_agent(concat!("httplens/", env!("CARGO_PKG_VERSION")))
            .tls_danger_accept_invalid_certs(self.config.insecure)
            .connect_timeout(key.connect_timeout.unwrap_or(Duration::from_secs(30)));
        if key.cookie_jar {
            b = b.cookie_provider(self.jar.clone());
        }
        let client = b.build().map_err(|e| SendError::Other {
            host: String::new(),
            reason: format!("the HTTP client could not start ({})", chain(&e)),
        })?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// Sends the request and reads the whole response. Secrets are masked in errors.
    pub async fn send(
        &self,
        spec: &RequestSpec,
        opts: &SendOptions,
    ) -> Result<Response, SendError> {
        let cancel = opts.cancel.clone();
        let result = tokio::select! {
            biased;
            _ = cancel.cancelled() => Err(SendError::Cancelled),
            r = self.send_inner(spec, opts) => r,
        };
        if spec.options.cookie_jar {
            self.jar.save_if_changed();
        }
        result.map_err(|e| e.masked(&spec.secrets))
    }

    async fn send_inner(
        &self,
        spec: &RequestSpec,
        opts: &SendOptions,
    ) -> Result<Response, SendError> {
        let url = checked_url(spec)?;
        let host = host_label(&url);
        if opts.carries_token && url.scheme() == "http" && !net::is_loopback(&url) {
            return Err(SendError::TokenOverHttp { host });
        }
        let method = checked_method(spec)?;
        let headers = header_map(&spec.headers)?;
        let timeout = spec.options.timeout.or(self.config.default_timeout);
        if spec.options.asterisk_form {
            return send_asterisk_form(spec, &url, method, headers, &host, timeout).await;
        }
        let outgoing = Outgoing {
            client: self.client_for(spec)?,
            method,
            url,
            headers,
            timeout,
            spec,
            base_dir: opts.base_dir.as_deref(),
            host: &host,
        };
        let start = Instant::now();
        let mut resp = outgoing.send(None).await?;
        // Digest: the first answer carries the challenge; answer it once.
        if let Some(creds) = &spec.digest
            && resp.status() == reqwest::StatusCode::UNAUTHORIZED
            && let Some(challenge) = digest_challenge(&resp)
        {
            let value = digest_authorization(&challenge, creds, spec, resp.url(), &host)?;
            // Drain the challenge's body so the connection can be reused.
            let _ = resp.bytes().await;
            resp = outgoing.send(Some(value)).await?;
        }
        let first_byte = start.elapsed();
        outgoing
            .read_response(resp, &opts.spill_dir, start, first_byte)
            .await
    }
}

/// The spec's URL, parsed, with an http or https scheme.
fn checked_url(spec: &RequestSpec) -> Result<reqwest::Url, SendError> {
    let url = reqwest::Url::parse(&spec.url).map_err(|e| SendError::InvalidUrl {
        url: spec.url.clone(),
        reason: e.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SendError::InvalidUrl {
            url: spec.url.clone(),
            reason: format!("the scheme `{}` is not http or https", url.scheme()),
        });
    }
    Ok(url)
}

fn checked_method(spec: &RequestSpec) -> Result<reqwest::Method, SendError> {
    reqwest::Method::from_bytes(spec.method.as_bytes()).map_err(|_| SendError::InvalidUrl {
        url: spec.url.clone(),
        reason: format!("`{}` is not a valid method", spec.method),
    })
}

/// One request as reqwest sends it: built anew for each attempt (a digest challenge is
/// answered with a second one).
struct Outgoing<'a> {
    client: reqwest::Client,
    method: reqwest::Method,
    url: reqwest::Url,
    headers: HeaderMap,
    timeout: Option<Duration>,
    spec: &'a RequestSpec,
    /// Relative body files are read from here.
    base_dir: Option<&'a Path>,
    host: &'a str,
}

impl Outgoing<'_> {
    /// Sends the request (with `authorization` added, when given) and waits for the
    /// response head.
    async fn send(
        &self,
        authorization: Option<HeaderValue>,
    ) -> Result<reqwest::Response, SendError> {
        let mut rb = self
            .client
            .request(self.method.clone(), self.url.clone())
            .headers(self.headers.clone());
        if let Some(v) = authorization {
            rb = rb.header(reqwest::header::AUTHORIZATION, v);
        }
        if let Some(t) = self.timeout {
            rb = rb.timeout(t);
        }
        rb = match &self.spec.body {
            BodySpec::None => rb,
            BodySpec::Bytes(b) => rb.body(b.clone()),
            BodySpec::File(p) => rb.body(file_body(p, self.base_dir).await?),
        };
        rb.send().await.map_err(|e| self.classify(e))
    }

    fn classify(&self, e: reqwest::Error) -> SendError {
        classify(e, self.host, self.timeout, self.spec)
    }

    /// Reads the status, headers and body of `resp` into a [`Response`].
    async fn read_response(
        &self,
        mut resp: reqwest::Response,
        spill_dir: &Path,
        start: Instant,
        first_byte: Duration,
    ) -> Result<Response, SendError> {
        let status = resp.status();
        let version = version_text(resp.version()).to_string();
        let headers = header_pairs(resp.headers());
        let final_url = resp.url().to_string();
        let body = read_body(&mut resp, spill_dir).await.map_err(|e| match e {
            BodyError::Net(e) => self.classify(e),
            BodyError::Spill(e) => e,
        })?;
        Ok(Response {
            method: self.spec.method.clone(),
            url: final_url,
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("").to_string(),
            version,
            headers,
            body,
            timings: Timings {
                first_byte,
                total: start.elapsed(),
            },
        })
    }
}

/// The `Digest` challenge of a 401, if the server sent one.
fn digest_challenge(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all(reqwest::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.trim_start().to_ascii_lowercase().starts_with("digest"))
        .map(str::to_string)
}

/// The `Authorization` value that answers `challenge` for the request that reached
/// `final_url`.
fn digest_authorization(
    challenge: &str,
    creds: &DigestCredentials,
    spec: &RequestSpec,
    final_url: &reqwest::Url,
    host: &str,
) -> Result<HeaderValue, SendError> {
    let uri = match final_url.query() {
        Some(q) => format!("{}?{q}", final_url.path()),
        None => final_url.path().to_string(),
    };
    let body_bytes: Option<&[u8]> = match &spec.body {
        BodySpec::Bytes(b) => Some(b.as_slice()),
        _ => None,
    };
    let answer = digest_auth::parse(challenge)
        .and_then(|mut prompt| {
            let ctx = digest_auth::AuthContext::new_with_method(
                creds.user.as_str(),
                creds.password.as_str(),
                uri.as_str(),
                body_bytes,
                digest_auth::HttpMethod(spec.method.clone().into()),
            );
            prompt.respond(&ctx)
        })
        .map_err(|e| SendError::Other {
            host: host.to_string(),
            reason: format!("the server's digest challenge cannot be answered ({e})"),
        })?;
    HeaderValue::from_str(&answer.to_header_string()).map_err(|e| SendError::InvalidHeader {
        name: "Authorization".into(),
        reason: e.to_string(),
    })
}

fn version_text(v: reqwest::Version) -> &'static str {
    match v {
        reqwest::Version::HTTP_09 => "HTTP/0.9",
        reqwest::Version::HTTP_10 => "HTTP/1.0",
        reqwest::Version::HTTP_2 => "HTTP/2",
        reqwest::Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
}

/// Response headers as name and value text (a value that is not UTF-8 read lossily).
fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// `OPTIONS * HTTP/1.1` over plain HTTP/1.1: reqwest sends absolute URLs only, so
/// this one request target goes through hyper's connection directly (no redirects,
/// cookies or proxy: a server-wide OPTIONS has no use for them).
async fn send_asterisk_form(
    spec: &RequestSpec,
    url: &reqwest::Url,
    method: reqwest::Method,
    headers: HeaderMap,
    host: &str,
    timeout: Option<Duration>,
) -> Result<Response, SendError> {
    if url.scheme() != "http" {
        return Err(other_error(
            host,
            "the asterisk form (`OPTIONS *`) is sent over plain http only",
        ));
    }
    let exchange = asterisk_exchange(spec, url, method, headers, host);
    let Some(limit) = timeout else {
        return exchange.await;
    };
    match tokio::time::timeout(limit, exchange).await {
        Ok(r) => r,
        Err(_) => Err(SendError::Timeout {
            host: host.to_string(),
            after: format!("{} ms", limit.as_millis()),
        }),
    }
}

/// The asterisk-form exchange itself: connect, send `OPTIONS *`, read the whole answer.
async fn asterisk_exchange(
    spec: &RequestSpec,
    url: &reqwest::Url,
    method: reqwest::Method,
    headers: HeaderMap,
    host: &str,
) -> Result<Response, SendError> {
    use http_body_util::BodyExt as _;
    let start = Instant::now();
    let mut sender = http1_connection(url, host).await?;
    let req = asterisk_request(url, method, headers).map_err(|e| other_error(host, e))?;
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| other_error(host, e))?;
    let first_byte = start.elapsed();
    let status = resp.status();
    let headers = header_pairs(resp.headers());
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| other_error(host, e))?
        .to_bytes();
    Ok(Response {
        method: spec.method.clone(),
        url: "*".into(),
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        version: "HTTP/1.1".into(),
        headers,
        body: ResponseBody::InMemory(body.to_vec()),
        timings: Timings {
            first_byte,
            total: start.elapsed(),
        },
    })
}

type AsteriskBody = http_body_util::Empty<hyper::body::Bytes>;

/// A plain HTTP/1.1 connection to the URL's host and port, driven on its own task.
async fn http1_connection(
    url: &reqwest::Url,
    host: &str,
) -> Result<hyper::client::conn::http1::SendRequest<AsteriskBody>, SendError> {
    let addr = (
        url.host_str().unwrap_or_default().to_string(),
        url.port_or_known_default().unwrap_or(80),
    );
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|_| SendError::Refused {
            host: host.to_string(),
        })?;
    let (sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| other_error(host, e))?;
    tokio::spawn(conn);
    Ok(sender)
}

/// `OPTIONS *` with the spec's headers, and a `Host` from the URL unless they set one.
fn asterisk_request(
    url: &reqwest::Url,
    method: reqwest::Method,
    headers: HeaderMap,
) -> Result<hyper::Request<AsteriskBody>, String> {
    let mut req = hyper::Request::builder()
        .method(method)
        .uri("*")
        .body(AsteriskBody::new())
        .map_err(|e| e.to_string())?;
    *req.headers_mut() = headers;
    if !req.headers().contains_key(reqwest::header::HOST) {
        let h = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let value = HeaderValue::from_str(&h).map_err(|e| e.to_string())?;
        req.headers_mut().insert(reqwest::header::HOST, value);
    }
    Ok(req)
}

fn other_error(host: &str, reason: impl ToString) -> SendError {
    SendError::Other {
        host: host.to_string(),
        reason: reason.to_string(),
    }
}

enum BodyError {
    Net(reqwest::Error),
    Spill(SendError),
}

/// Reads the body chunk by chunk: in memory up to [`SPILL_THRESHOLD`], then into a
/// 0600 file in `spill_dir`, so memory stays bounded whatever the size.
async fn read_body(
    resp: &mut reqwest::Response,
    spill_dir: &Path,
) -> Result<ResponseBody, BodyError> {
    let mut mem: Vec<u8> = Vec::new();
    let mut spill: Option<(tokio::io::BufWriter<tokio::fs::File>, PathBuf)> = None;
    // Deletes the spill file unless the body arrives whole: a failed, timed-out or
    // cancelled download (the future dropped) leaves no partial file behind.
    let mut guard = SpillGuard(None);
    let mut head: Vec<u8> = Vec::new();
    let mut size: u64 = 0;
    let spill_err = |path: &Path, e: std::io::Error| {
        BodyError::Spill(SendError::Spill {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    };
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Net)? {
        size += chunk.len() as u64;
        match &mut spill {
            Some((w, path)) => w.write_all(&chunk).await.map_err(|e| spill_err(path, e))?,
            None => {
                mem.extend_from_slice(&chunk);
                if mem.len() > SPILL_THRESHOLD {
                    std::fs::create_dir_all(spill_dir).map_err(|e| spill_err(spill_dir, e))?;
                    let path = spill_dir.join(format!("spill-{}.body", uuid::Uuid::new_v4()));
                    let file = open_private(&path).map_err(|e| spill_err(&path, e))?;
                    let mut w = tokio::io::BufWriter::with_capacity(
                        256 * 1024,
                        tokio::fs::File::from_std(file),
                    );
                    w.write_all(&mem).await.map_err(|e| spill_err(&path, e))?;
                    head = mem[..SHOWN_HEAD].to_vec();
                    mem = Vec::new();
                    guard.0 = Some(path.clone());
                    spill = Some((w, path));
                }
            }
        }
    }
    Ok(match spill {
        Some((mut w, path)) => {
            w.flush().await.map_err(|e| spill_err(&path, e))?;
            guard.0 = None;
            ResponseBody::Spilled { path, size, head }
        }
        None => ResponseBody::InMemory(mem),
    })
}

/// Removes a partly written spill file when dropped still armed.
struct SpillGuard(Option<PathBuf>);

impl Drop for SpillGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Creates a new file readable by its owner only (response data may be private).
pub fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

async fn file_body(path: &Path, base: Option<&Path>) -> Result<reqwest::Body, SendError> {
    let full = match base {
        Some(b) if path.is_relative() => b.join(path),
        _ => path.to_path_buf(),
    };
    let err = |e: std::io::Error| SendError::BodyFile {
        path: full.display().to_string(),
        reason: e.to_string(),
    };
    let meta = tokio::fs::metadata(&full).await.map_err(err)?;
    if meta.len() <= FILE_BODY_IN_MEMORY {
        return Ok(tokio::fs::read(&full).await.map_err(err)?.into());
    }
    let file = tokio::fs::File::open(&full).await.map_err(err)?;
    let stream = futures_util::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    Ok(reqwest::Body::wrap_stream(stream))
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, SendError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        // The client computes Content-Length from the body it sends; a stale one from
        // the file would make the server wait for bytes that never come.
        if name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        let n = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|e| {
            SendError::InvalidHeader {
                name: name.clone(),
                reason: e.to_string(),
            }
        })?;
        let v = HeaderValue::from_str(value.trim()).map_err(|_| SendError::InvalidHeader {
            name: name.clone(),
            reason: "the value holds a control character or a line break".into(),
        })?;
        map.append(n, v);
    }
    Ok(map)
}

/// `host:port` as the user wrote it (the port only when given).
fn host_label(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

#[derive(Debug)]
enum RedirectProblem {
    Loop(String),
    TooMany,
}

impl std::fmt::Display for RedirectProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RedirectProblem::Loop(u) => write!(f, "redirect loop at {u}"),
            RedirectProblem::TooMany => write!(f, "too many redirects"),
        }
    }
}

impl std::error::Error for RedirectProblem {}

/// The error and its sources as one line, without the URL (it may hold secrets and
/// the message names the host anyway).
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

fn after(d: Option<Duration>) -> String {
    match d {
        Some(d) => super::response::human_duration(d),
        None => "the time limit".into(),
    }
}

/// The TLS failure in words a user can act on.
fn tls_reason(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidMessage(_) => {
            "the server does not speak TLS on this port; if it is plain http, use an http:// URL"
                .into()
        }
        other => other.to_string(),
    }
}

/// A reqwest failure as the one-sentence [`SendError`] a user can act on: first by the
/// typed causes in its source chain, then by the words of its message.
fn classify(
    e: reqwest::Error,
    host: &str,
    timeout: Option<Duration>,
    spec: &RequestSpec,
) -> SendError {
    let host = host.to_string();
    let e = e.without_url();
    let causes = Causes::of(&e);
    if let Some(r) = causes.redirect {
        return if r.is_empty() {
            SendError::TooManyRedirects { host }
        } else {
            SendError::RedirectLoop { url: r }
        };
    }
    if e.is_timeout() {
        return if e.is_connect() {
            SendError::ConnectTimeout {
                host,
                after: after(
                    spec.options
                        .connect_timeout
                        .or(Some(Duration::from_secs(30))),
                ),
            }
        } else {
            SendError::Timeout {
                host,
                after: after(timeout),
            }
        };
    }
    if let Some(reason) = causes.tls {
        return SendError::Tls { host, reason };
    }
    use std::io::ErrorKind as K;
    match causes.io_kind {
        Some(K::ConnectionRefused) => return SendError::Refused { host },
        Some(K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof) => {
            return SendError::Reset { host };
        }
        Some(K::TimedOut) => {
            return SendError::Timeout {
                host,
                after: after(timeout),
            };
        }
        _ => {}
    }
    classify_by_words(chain(&e), e.is_connect(), host)
}

/// The typed causes in an error's source chain that [`classify`] can name.
struct Causes {
    /// The first I/O error's kind.
    io_kind: Option<std::io::ErrorKind>,
    /// A redirect problem: the URL of a loop, empty for too many redirects.
    redirect: Option<String>,
    /// The first TLS failure, in words.
    tls: Option<String>,
}

impl Causes {
    fn of(e: &(dyn std::error::Error + 'static)) -> Causes {
        let mut causes = Causes {
            io_kind: None,
            redirect: None,
            tls: None,
        };
        let mut cur = Some(e);
        while let Some(err) = cur {
            if let Some(r) = err.downcast_ref::<RedirectProblem>() {
                causes.redirect = Some(match r {
                    RedirectProblem::Loop(u) => u.clone(),
                    RedirectProblem::TooMany => String::new(),
                });
            }
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                causes.io_kind.get_or_insert(io.kind());
                // An io::Error's source() skips its payload: look at the payload itself.
                if let Some(t) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                    causes.tls.get_or_insert(tls_reason(t));
                }
            }
            if let Some(t) = err.downcast_ref::<rustls::Error>() {
                causes.tls.get_or_insert(tls_reason(t));
            }
            cur = err.source();
        }
        causes
    }
}

/// What no typed cause told, from the words of the error chain `text` (hyper's and
/// the resolver's wording, which means nothing to a user, put as what the server did).
fn classify_by_words(text: String, is_connect: bool, host: String) -> SendError {
    let lower = text.to_ascii_lowercase();
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        return SendError::Dns { host };
    }
    if lower.contains("corrupt message") {
        return SendError::Tls {
            host,
            reason: "the server does not speak TLS on this port; if it is plain http, use an http:// URL".into(),
        };
    }
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        return SendError::Tls { host, reason: text };
    }
    if lower.contains("connection closed")
        || lower.contains("incomplete message")
        || lower.contains("connection reset")
    {
        return SendError::Reset { host };
    }
    if is_connect && lower.contains("refused") {
        return SendError::Refused { host };
    }
    if lower.contains("message head is too large") {
        return SendError::Other {
            host,
            reason: "the response headers are too large (over 400 KB): the server sent more header data than a client accepts".into(),
        };
    }
    if lower.contains("invalid http version")
        || lower.contains("invalid status")
        || lower.contains("invalid header")
        || lower.contains("invalid token")
    {
        return SendError::Other {
            host,
            reason: "the server did not answer with HTTP: is this the right port, or does it expect https?".into(),
        };
    }
    SendError::Other { host, reason: text }
}

/// The session's cookie jar, shared by every client of a session, persisted as JSON
/// (0600) after each exchange that changed it.
pub struct Jar {
    store: RwLock<cookie_store::CookieStore>,
    path: Option<PathBuf>,
    dirty: std::sync::atomic::AtomicBool,
}

impl Jar {
    fn load(path: Option<PathBuf>) -> Jar {
        let store = path
            .as_ref()
            .and_then(|p| std::fs::File::open(p).ok())
            .and_then(|f| cookie_store::serde::json::load(BufReader::new(f)).ok())
            .unwrap_or_default();
        Jar {
            store: RwLock::new(store),
            path,
            dirty: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn save_if_changed(&self) {
        use std::sync::atomic::Ordering;
        let Some(path) = &self.path else { return };
        if !self.dirty.swap(false, Ordering::SeqCst) {
            return;
        }
        let mut buf = Vec::new();
        {
            let store = self.store.read().unwrap_or_else(|e| e.into_inner());
            if cookie_store::serde::json::save_incl_expired_and_nonpersistent(&store, &mut buf)
                .is_err()
            {
                return;
            }
        }
        // Write beside, then rename: a crash never leaves a half-written jar.
        let result = (|| {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
            let mut f = open_private(&tmp)?;
            f.write_all(&buf)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if let Err(e) = result {
            tracing::warn!("cannot save the cookie jar to {}: {e}", path.display());
        }
    }
}

impl reqwest::cookie::CookieStore for Jar {
    fn set_cookies(&self, cookie_headers: &mut dyn Iterator<Item = &HeaderValue>, url: &url::Url) {
        let cookies: Vec<_> = cookie_headers
            .filter_map(|v| v.to_str().ok())
            .filter_map(|s| cookie_store::RawCookie::parse(s.to_string()).ok())
            .collect();
        if cookies.is_empty() {
            return;
        }
        let mut store = self.store.write().unwrap_or_else(|e| e.into_inner());
        store.store_response_cookies(cookies.into_iter(), url);
        self.dirty.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn cookies(&self, url: &url::Url) -> Option<HeaderValue> {
        let store = self.store.read().unwrap_or_else(|e| e.into_inner());
        let s = store
            .get_request_values(url)
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        if s.is_empty() {
            None
        } else {
            HeaderValue::from_str(&s).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_header_is_one_sentence() {
        let e = header_map(&[("X-A".into(), "a\nb".into())]).unwrap_err();
        assert!(e.to_string().contains("X-A"), "{e}");
    }
}
