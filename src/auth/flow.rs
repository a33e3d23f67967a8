//! The authorization code flow for native apps (RFC 8252) with PKCE: a one-attempt
//! loopback listener (http on 127.0.0.1, or https on localhost with a self-signed
//! certificate kept in the config folder), the browser launch, the paste fallback,
//! and the code exchange. The authorization URL (PKCE challenge included) is built by
//! the `oauth2` crate and the code is exchanged through it (`oauth.rs`); the state, the
//! nonce, the listener and every check of the redirect are this module's. The API suits both front ends: [`start`] returns a
//! [`PendingSignIn`] with the authorize URL (to show or open) and a [`SignInHandle`]
//! that completes it from a pasted redirect URL or cancels it; [`PendingSignIn::wait`]
//! is the future to await.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use url::Url;

use super::AuthError;
use super::oauth::{self, Endpoints, TokenResponse};
use super::profile::{ParamUse, Pkce, Profile};
use crate::secret::{Secret, SecretSet};

/// Default wait for the browser's redirect.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// 32 random bytes from the OS CSPRNG, base64url without padding (43 characters).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    let rng = ring::rand::SystemRandom::new();
    // The OS source does not fail on the systems we run on (getrandom(2) blocks until
    // it is seeded); if it ever did, a state, verifier or nonce must not be guessable,
    // so nothing goes out without one.
    ring::rand::SecureRandom::fill(&rng, &mut b)
        .expect("the operating system's random source failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// What a sign-in needs beyond the profile.
#[derive(Clone)]
pub struct SignInOptions {
    pub timeout: Duration,
    /// Launch a browser (`HTTPLENS_BROWSER` or the system one). When false the caller
    /// shows the URL itself (LSP `showDocument`, `--no-browser`).
    pub open_browser: bool,
    pub config_dir: PathBuf,
}

/// The result of one callback, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CallbackOutcome {
    Code(String),
    Failed(String),
}

/// The expectations a callback is checked against; one attempt only.
#[derive(Clone)]
struct Expect {
    state: String,
    issuer: Option<String>,
    auth_origin: String,
    iss_required: bool,
}

/// Check a redirect's query: `error` first, then `state`, then RFC 9207 `iss`, then
/// `code`. (The loopback listener passes an `error` here only with this sign-in's
/// `state`; a pasted redirect is the user's own.)
fn check_callback(q: &[(String, String)], e: &Expect) -> CallbackOutcome {
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let Some(err) = get("error") {
        let desc = get("error_description")
            .map(|d| format!(": {}", d.chars().take(300).collect::<String>()))
            .unwrap_or_default();
        let hint = if err == "access_denied" {
            " (the sign-in was declined)"
        } else {
            ""
        };
        return CallbackOutcome::Failed(format!(
            "the provider answered the sign-in with `{}`{desc}{hint}",
            err.chars().take(64).collect::<String>()
        ));
    }
    match get("state") {
        None => {
            return CallbackOutcome::Failed(
                "the redirect carried no `state`, so it cannot be trusted; nothing was exchanged"
                    .into(),
            );
        }
        Some(s) if !constant_time_eq(s.as_bytes(), e.state.as_bytes()) => {
            return CallbackOutcome::Failed(
                "the redirect's `state` does not belong to this sign-in (a stale tab or a forged redirect); nothing was exchanged"
                    .into(),
            );
        }
        Some(_) => {}
    }
    match get("iss") {
        Some(iss) => {
            let ok = match &e.issuer {
                Some(i) => iss.trim_end_matches('/') == i.trim_end_matches('/'),
                None => Url::parse(iss)
                    .map(|u| u.origin().ascii_serialization() == e.auth_origin)
                    .unwrap_or(false),
            };
            if !ok {
                return CallbackOutcome::Failed(format!(
                    "the redirect names the issuer `{}`, not the provider this sign-in started with; nothing was exchanged",
                    iss.chars().take(200).collect::<String>()
                ));
            }
        }
        None if e.iss_required => {
            return CallbackOutcome::Failed(
                "the provider promises an `iss` parameter (RFC 9207) but the redirect has none; nothing was exchanged"
                    .into(),
            );
        }
        None => {}
    }
    match get("code") {
        Some(c) if !c.is_empty() => CallbackOutcome::Code(c.to_string()),
        _ => CallbackOutcome::Failed("the redirect carried no authorization code".into()),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Cancels or completes a pending sign-in from elsewhere (an LSP command, Ctrl-C).
#[derive(Clone)]
pub struct SignInHandle {
    paste: mpsc::Sender<Vec<(String, String)>>,
    cancel: watch::Sender<bool>,
    callback_path: String,
}

impl SignInHandle {
    /// Finish the sign-in with the redirected URL the user pasted.
    pub fn complete_with_url(&self, pasted: &str) -> Result<(), AuthError> {
        let u = Url::parse(pasted.trim()).map_err(|_| {
            AuthError::Config(
                "the pasted text is not a URL: paste the whole address the browser was redirected to"
                    .into(),
            )
        })?;
        if u.path() != self.callback_path {
            return Err(AuthError::Config(format!(
                "the pasted URL does not end at this sign-in's redirect path `{}`",
                self.callback_path
            )));
        }
        let q: Vec<(String, String)> = u.query_pairs().into_owned().collect();
        self.paste
            .try_send(q)
            .map_err(|_| AuthError::Config("this sign-in has already finished".into()))
    }

    pub fn cancel(&self) {
        let _ = self.cancel.send(true);
    }
}

/// A started sign-in: show or open `authorize_url`, then await [`PendingSignIn::wait`].
pub struct PendingSignIn {
    pub authorize_url: Url,
    pub redirect_uri: String,
    /// Why the browser could not be opened (then show the URL and offer the paste).
    pub browser_error: Option<String>,
    pub handle: SignInHandle,
    /// The listener's bound address (always loopback).
    pub local_addr: std::net::SocketAddr,
    rx: mpsc::Receiver<Vec<(String, String)>>,
    cancel_rx: watch::Receiver<bool>,
    listener: tokio::task::JoinHandle<()>,
    expect: Expect,
    verifier: Option<Secret>,
    nonce: Option<String>,
    http: reqwest::Client,
    profile: Profile,
    endpoints: Endpoints,
    timeout: Duration,
}

impl Drop for PendingSignIn {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// What a successful flow yields.
pub struct SignInResult {
    pub tokens: TokenResponse,
    pub account: Option<String>,
    /// What the ID token check found (`None`: no ID token came).
    pub id_token: Option<super::idtoken::IdTokenStatus>,
}

/// Start an authorization code sign-in: bind the listener, build the authorize URL and
/// (when asked) open the browser.
pub async fn start(
    http: &reqwest::Client,
    profile: &Profile,
    endpoints: &Endpoints,
    opts: &SignInOptions,
) -> Result<PendingSignIn, AuthError> {
    let auth_url = endpoints.auth_url.clone().ok_or_else(|| {
        AuthError::Config(format!("auth profile `{}` has no `Auth URL`", profile.id))
    })?;
    let redirect = &profile.redirect_url;
    let https = redirect.scheme() == "https";
    let tls = if https {
        Some(tls_acceptor(&opts.config_dir)?)
    } else {
        None
    };
    let port = redirect.port().unwrap_or(0);
    let (listener, second) = bind_redirect(redirect.host(), port).await?;
    let local_addr = listener
        .local_addr()
        .map_err(|e| AuthError::Config(format!("the redirect listener failed: {e}")))?;
    let mut ru = redirect.clone();
    let _ = ru.set_port(Some(local_addr.port()));
    let redirect_uri = ru.to_string();
    let callback_path = ru.path().to_string();

    let state = random_token();
    // OpenID Connect: a fresh nonce per attempt, checked in the ID token (a token
    // replayed from another sign-in, or injected with a stolen code, fails it).
    let nonce = profile.wants_id_token().then(random_token);
    // The authorization request through the `oauth2` crate: response_type, client_id,
    // the state above, the PKCE challenge (S256; plain only when the profile writes
    // it), the redirect URI as bound, the scopes as one value in the profile's spelling
    // (IMS: comma-separated), the nonce and the custom "auth request" parameters.
    let oc = oauth::client(profile)
        .set_auth_uri(oauth2::AuthUrl::from_url(auth_url.clone()))
        .set_redirect_uri(
            oauth2::RedirectUrl::new(redirect_uri.clone())
                .map_err(|e| AuthError::Config(format!("the redirect URI is not a URL ({e})")))?,
        );
    let csrf = state.clone();
    let mut req = oc.authorize_url(move || oauth2::CsrfToken::new(csrf));
    let verifier = match profile.pkce {
        Pkce::Off => None,
        Pkce::Plain => {
            let (challenge, v) = oauth2::PkceCodeChallenge::new_random_plain();
            req = req.set_pkce_challenge(challenge);
            Some(Secret::new(v.into_secret()))
        }
        Pkce::S256 => {
            let (challenge, v) = oauth2::PkceCodeChallenge::new_random_sha256();
            req = req.set_pkce_challenge(challenge);
            Some(Secret::new(v.into_secret()))
        }
    };
    if let Some(sc) = oauth::scope(profile) {
        req = req.add_scope(sc);
    }
    if let Some(n) = &nonce {
        req = req.add_extra_param("nonce", n.clone());
    }
    for (k, v) in oauth::custom_params(profile, ParamUse::AuthRequest) {
        req = req.add_extra_param(k, v);
    }
    let (au, _) = req.url();
    let expect = Expect {
        state,
        issuer: endpoints.issuer.clone(),
        auth_origin: auth_url.origin().ascii_serialization(),
        iss_required: endpoints.iss_supported,
    };
    let (tx, rx) = mpsc::channel(1);
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let handle = SignInHandle {
        paste: tx.clone(),
        cancel: cancel_tx,
        callback_path: callback_path.clone(),
    };
    let listener_task = tokio::spawn(serve(
        listener,
        second,
        tls,
        callback_path,
        expect.clone(),
        profile.id.clone(),
        tx,
    ));
    let browser_error = if opts.open_browser {
        open_browser(au.as_str()).await.err()
    } else {
        None
    };
    Ok(PendingSignIn {
        authorize_url: au,
        redirect_uri,
        browser_error,
        handle,
        local_addr,
        rx,
        cancel_rx,
        listener: listener_task,
        expect,
        verifier,
        nonce,
        http: http.clone(),
        profile: profile.clone(),
        endpoints: endpoints.clone(),
        timeout: opts.timeout,
    })
}

impl PendingSignIn {
    /// Wait for the redirect (browser or paste), then exchange the code. The listener
    /// is closed when this returns, whatever the outcome.
    pub async fn wait(mut self) -> Result<SignInResult, AuthError> {
        let timeout = self.timeout;
        let mut cancel_rx = self.cancel_rx.clone();
        enum Ended {
            Got(Option<Vec<(String, String)>>),
            TimedOut,
            Cancelled,
        }
        let ended = tokio::select! {
            q = self.rx.recv() => Ended::Got(q),
            _ = tokio::time::sleep(timeout) => Ended::TimedOut,
            _ = cancel_rx.wait_for(|c| *c) => Ended::Cancelled,
        };
        // Close the port before saying anything: abort the listener task and wait until
        // it is gone (abort alone only schedules the drop of the socket).
        self.listener.abort();
        let _ = (&mut self.listener).await;
        let q = match ended {
            Ended::Got(q) => q,
            Ended::TimedOut => return Err(AuthError::Timeout(timeout.as_secs())),
            Ended::Cancelled => return Err(AuthError::Cancelled),
        };
        let Some(q) = q else {
            return Err(AuthError::Cancelled);
        };
        let code = match check_callback(&q, &self.expect) {
            CallbackOutcome::Code(c) => c,
            CallbackOutcome::Failed(m) => return Err(AuthError::Denied(m)),
        };
        let token_url = self.endpoints.token_url.clone().ok_or_else(|| {
            AuthError::Config(format!(
                "auth profile `{}` has no `Token URL`",
                self.profile.id
            ))
        })?;
        let mut secrets = SecretSet::new();
        secrets.add(&code);
        if let Some(v) = &self.verifier {
            secrets.add_secret(v);
        }
        if let Some(s) = &self.profile.client_secret {
            secrets.add_secret(s);
        }
        let tokens = oauth::exchange_code(
            &self.http,
            &self.profile,
            &token_url,
            &self.redirect_uri,
            &code,
            self.verifier.as_ref(),
            &secrets,
        )
        .await?;
        let id_token = super::idtoken::check_response(
            &self.http,
            &self.profile,
            &self.endpoints,
            tokens.id_token.as_ref(),
            self.nonce.as_deref(),
        )
        .await?;
        let account = oauth::account_name(
            &self.http,
            tokens.id_token.as_ref(),
            self.endpoints.userinfo_url.as_ref(),
            &tokens.access_token,
        )
        .await;
        Ok(SignInResult {
            tokens,
            account,
            id_token,
        })
    }
}

/// The loopback listener(s) of a redirect to `host:port` (port 0: any free one). An
/// address binds that address only. `localhost` binds 127.0.0.1 and [::1] on one port:
/// a browser may try either, and a port left free on the other address could be taken
/// by another local process to catch the code. When [::1] is in use on the port chosen,
/// another free port is tried (a fixed port is an error); a machine without IPv6 gets
/// 127.0.0.1 alone.
async fn bind_redirect(
    host: Option<url::Host<&str>>,
    port: u16,
) -> Result<(tokio::net::TcpListener, Option<tokio::net::TcpListener>), AuthError> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let bind = |ip: IpAddr, port: u16| async move {
        tokio::net::TcpListener::bind((ip, port)).await.map_err(|e| {
            AuthError::Config(format!(
                "cannot listen for the sign-in redirect on {ip}:{port} ({e}); free the port or change `Redirect URL`"
            ))
        })
    };
    match host {
        Some(url::Host::Ipv6(_)) => Ok((bind(Ipv6Addr::LOCALHOST.into(), port).await?, None)),
        Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
            for _ in 0..8 {
                let v4 = bind(Ipv4Addr::LOCALHOST.into(), port).await?;
                let chosen = v4
                    .local_addr()
                    .map_err(|e| AuthError::Config(format!("the redirect listener failed: {e}")))?
                    .port();
                match tokio::net::TcpListener::bind((Ipv6Addr::LOCALHOST, chosen)).await {
                    Ok(v6) => return Ok((v4, Some(v6))),
                    Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                        if port != 0 {
                            return Err(AuthError::Config(format!(
                                "cannot listen for the sign-in redirect on [::1]:{port}: another program listens there and could receive the sign-in; free the port or change `Redirect URL`"
                            )));
                        }
                    }
                    // No IPv6 loopback here: nobody can take it either.
                    Err(_) => return Ok((v4, None)),
                }
            }
            Err(AuthError::Config(
                "cannot find a port free on both 127.0.0.1 and [::1] for the sign-in redirect"
                    .into(),
            ))
        }
        _ => Ok((bind(Ipv4Addr::LOCALHOST.into(), port).await?, None)),
    }
}

/// The next connection on `listener`; never, without one.
async fn accept_on(
    listener: Option<&tokio::net::TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, std::net::SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// Accept connections until the first callback arrives; each connection is served on
/// its own task, so idle pre-connections (browsers open spares) never block the flow.
async fn serve(
    listener: tokio::net::TcpListener,
    second: Option<tokio::net::TcpListener>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    callback_path: String,
    expect: Expect,
    profile: String,
    tx: mpsc::Sender<Vec<(String, String)>>,
) {
    let (done_tx, mut done_rx) = watch::channel(false);
    let ctx = Arc::new((callback_path, expect, profile, tx, done_tx));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            a = accept_on(second.as_ref()) => a,
            _ = done_rx.wait_for(|d| *d) => break,
        };
        let Ok((stream, _)) = accepted else { continue };
        let ctx = ctx.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let (path, expect, profile, tx, done) = &*ctx;
            match tls {
                Some(acc) => {
                    if let Ok(Ok(s)) =
                        tokio::time::timeout(Duration::from_secs(10), acc.accept(stream)).await
                    {
                        handle_conn(s, path, expect, profile, tx, done).await;
                    }
                }
                None => handle_conn(stream, path, expect, profile, tx, done).await,
            }
        });
    }
    // Dropping the listener here closes the port: a second redirect is refused.
}

/// What the loopback listener answers to one request, decided without any I/O.
struct Answer {
    status: u16,
    page: String,
    /// The callback's query when this request is the one the sign-in waits for.
    query: Option<Vec<(String, String)>>,
}

/// The listener's decision for one request line: only `GET` on the callback path with
/// `code`, `error` or `state` counts (and only the first such request); everything
/// else is a 404 or an explanation, never the end of the flow.
fn answer_request(
    request_line: &str,
    callback_path: &str,
    expect: &Expect,
    profile: &str,
    done: bool,
) -> Answer {
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    let u = Url::parse(&format!("http://loopback{target}")).ok();
    let (status, page, query) = match u {
        Some(u) if method == "GET" && u.path() == callback_path => {
            let q: Vec<(String, String)> = u.query_pairs().into_owned().collect();
            let relevant = q
                .iter()
                .any(|(k, _)| k == "code" || k == "error" || k == "state");
            if !relevant {
                (
                    400,
                    page(
                        "Not a sign-in response",
                        "This address only receives the provider's redirect.",
                        false,
                    ),
                    None,
                )
            } else if done {
                (
                    409,
                    page(
                        "Sign-in already finished",
                        "This sign-in has already received its redirect.",
                        false,
                    ),
                    None,
                )
            } else if q.iter().any(|(k, _)| k == "error")
                && !q.iter().any(|(k, v)| {
                    k == "state" && constant_time_eq(v.as_bytes(), expect.state.as_bytes())
                })
            {
                // An error without this sign-in's `state` could come from anyone who
                // can reach the port: it must not end (cancel) the sign-in.
                (
                    400,
                    page(
                        "Not this sign-in",
                        "This error does not carry this sign-in's state, so it was ignored; the sign-in is still waiting for the provider.",
                        false,
                    ),
                    None,
                )
            } else {
                let (status, page) = match check_callback(&q, expect) {
                    CallbackOutcome::Code(_) => (
                        200,
                        page(
                            &format!("Signed in: {profile}"),
                            "httplens received the sign-in. You can close this tab and return to your editor.",
                            true,
                        ),
                    ),
                    CallbackOutcome::Failed(m) => (400, page("Sign-in failed", &m, false)),
                };
                (status, page, Some(q))
            }
        }
        _ => (404, page("Not found", "Nothing here.", false), None),
    };
    Answer {
        status,
        page,
        query,
    }
}

/// For fuzzing: the listener's answer to `request_line` for a sign-in expecting
/// `state` (callback path `/callback`, issuer `http://127.0.0.1:1`): the status, the
/// page, and the authorization code when the callback is accepted.
#[cfg(feature = "test-hooks")]
pub fn fuzz_callback(request_line: &str, state: &str) -> (u16, String, Option<String>) {
    let expect = Expect {
        state: state.to_string(),
        issuer: Some("http://127.0.0.1:1".into()),
        auth_origin: "http://127.0.0.1:1".into(),
        iss_required: false,
    };
    let a = answer_request(request_line, "/callback", &expect, "fuzz", false);
    let code = a
        .query
        .as_ref()
        .and_then(|q| match check_callback(q, &expect) {
            CallbackOutcome::Code(c) => Some(c),
            CallbackOutcome::Failed(_) => None,
        });
    (a.status, a.page, code)
}

async fn handle_conn<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    callback_path: &str,
    expect: &Expect,
    profile: &str,
    tx: &mpsc::Sender<Vec<(String, String)>>,
    done: &watch::Sender<bool>,
) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let n = s.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                return Some(());
            }
            if buf.len() > 16 * 1024 {
                return None;
            }
        }
    })
    .await;
    if !matches!(read, Ok(Some(()))) {
        return;
    }
    let head = String::from_utf8_lossy(&buf);
    let line = head.lines().next().unwrap_or("");
    let answer = answer_request(line, callback_path, expect, profile, *done.borrow());
    if let Some(q) = answer.query {
        let _ = done.send(true);
        let _ = tx.try_send(q);
    }
    let (status, body) = (answer.status, answer.page);
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        409 => "Conflict",
        _ => "Not Found",
    };
    let resp = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = s.write_all(resp.as_bytes()).await;
    let _ = s.flush().await;
    let _ = s.shutdown().await;
}

/// HTML-escape text reflected into a page.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The listener's pages: never the code or a token, everything reflected escaped.
fn page(title: &str, message: &str, ok: bool) -> String {
    let color = if ok { "#1a7f37" } else { "#b42318" };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>httplens: {t}</title></head><body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\"><h1 style=\"color:{color}\">{t}</h1><p>{m}</p></body></html>",
        t = html_escape(title),
        m = html_escape(message)
    )
}

/// Open the authorize URL: `HTTPLENS_BROWSER` (run directly, URL as its one argument,
/// not waited for), else the system browser.
pub async fn open_browser(url: &str) -> Result<(), String> {
    if let Some(prog) = std::env::var_os("HTTPLENS_BROWSER").filter(|p| !p.is_empty()) {
        let child = std::process::Command::new(&prog)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        return match child {
            Ok(mut c) => {
                // Reap it in the background so it never lingers as a zombie.
                std::thread::spawn(move || {
                    let _ = c.wait();
                });
                Ok(())
            }
            Err(e) => Err(format!(
                "HTTPLENS_BROWSER ({}) could not be started: {e}",
                Path::new(&prog).display()
            )),
        };
    }
    let url = url.to_string();
    match tokio::task::spawn_blocking(move || open::that_detached(&url)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("no browser could be opened ({e})")),
        Err(_) => Err("no browser could be opened".into()),
    }
}

/// The TLS acceptor of the https listener: a self-signed certificate for localhost,
/// made once with rcgen and kept (0600) in `<config>/tls/`.
fn tls_acceptor(config_dir: &Path) -> Result<tokio_rustls::TlsAcceptor, AuthError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = config_dir.join("tls");
    let cert_path = dir.join("localhost.crt");
    let key_path = dir.join("localhost.key");
    let err =
        |e: String| AuthError::Config(format!("the https redirect listener cannot start: {e}"));
    if !cert_path.exists() || !key_path.exists() {
        super::fsutil::create_private_dir(&dir).map_err(|e| err(e.to_string()))?;
        let ck = rcgen::generate_simple_self_signed(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ])
        .map_err(|e| err(e.to_string()))?;
        super::fsutil::write_private(&key_path, ck.signing_key.serialize_pem().as_bytes())
            .map_err(|e| err(e.to_string()))?;
        super::fsutil::write_private(&cert_path, ck.cert.pem().as_bytes())
            .map_err(|e| err(e.to_string()))?;
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .map_err(|e| err(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| err(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| err(e.to_string()))?;
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| err(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .map_err(|e| err(e.to_string()))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::profile;
    use crate::process;

    fn expect() -> Expect {
        Expect {
            state: "st".into(),
            issuer: None,
            auth_origin: "http://127.0.0.1:9".into(),
            iss_required: false,
        }
    }
    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn pkce_and_state_shape() {
        let v = random_token();
        assert_eq!(v.len(), 43);
        assert!(
            v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(v, random_token());
        // RFC 7636 appendix B, through the crate that makes the challenge.
        let v = oauth2::PkceCodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        assert_eq!(
            oauth2::PkceCodeChallenge::from_code_verifier_sha256(&v).as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn callback_checks() {
        let e = expect();
        assert_eq!(
            check_callback(&q(&[("code", "c"), ("state", "st")]), &e),
            CallbackOutcome::Code("c".into())
        );
        assert!(matches!(
            check_callback(&q(&[("code", "c")]), &e),
            CallbackOutcome::Failed(_)
        ));
        assert!(matches!(
            check_callback(&q(&[("code", "c"), ("state", "x")]), &e),
            CallbackOutcome::Failed(_)
        ));
        let CallbackOutcome::Failed(m) = check_callback(
            &q(&[("error", "access_denied"), ("error_description", "no")]),
            &e,
        ) else {
            panic!()
        };
        assert!(m.contains("access_denied") && m.contains("no"));
        // iss with unknown issuer: origin of the Auth URL
        assert!(matches!(
            check_callback(
                &q(&[
                    ("code", "c"),
                    ("state", "st"),
                    ("iss", "http://127.0.0.1:9")
                ]),
                &e
            ),
            CallbackOutcome::Code(_)
        ));
        assert!(matches!(
            check_callback(
                &q(&[("code", "c"), ("state", "st"), ("iss", "http://evil.test")]),
                &e
            ),
            CallbackOutcome::Failed(_)
        ));
        let mut e2 = expect();
        e2.issuer = Some("https://id.test".into());
        e2.iss_required = true;
        assert!(matches!(
            check_callback(&q(&[("code", "c"), ("state", "st")]), &e2),
            CallbackOutcome::Failed(_)
        ));
        assert!(matches!(
            check_callback(
                &q(&[("code", "c"), ("state", "st"), ("iss", "https://id.test")]),
                &e2
            ),
            CallbackOutcome::Code(_)
        ));
    }

    #[test]
    fn pages_escape() {
        let p = page("<x>", "a\"b<script>", false);
        assert!(!p.contains("<script>") && p.contains("&lt;script&gt;"));
    }

    #[tokio::test]
    async fn authorization_url_through_the_crate() {
        process::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let opts = SignInOptions {
            timeout: Duration::from_secs(5),
            open_browser: false,
            config_dir: dir.path().to_path_buf(),
        };
        let url_of = |pkce: serde_json::Value| {
            let (mut ps, _) = profile::parse_profiles(
                &serde_json::json!({"p": {
                    "Type": "OAuth2", "Grant Type": "Authorization Code",
                    "Auth URL": "http://127.0.0.1:9/authorize?tenant=t1",
                    "Token URL": "http://127.0.0.1:9/token", "Client ID": "cid",
                    "Scope": "openid orders.read", "PKCE": pkce,
                    "Custom Request Parameters": {
                        "prompt": {"Value": "consent", "Use": "In Auth Request"},
                        "aud": {"Value": "api", "Use": "In Token Request"}}}}),
                &|s: &str| Ok(s.to_string()),
            );
            ps.remove(0)
        };
        for (pkce, method) in [
            (serde_json::json!(true), Some("S256")),
            (
                serde_json::json!({"Code Challenge Method": "Plain"}),
                Some("plain"),
            ),
            (serde_json::json!(false), None),
        ] {
            let p = url_of(pkce);
            let e = Endpoints {
                auth_url: p.auth_url.clone(),
                token_url: p.token_url.clone(),
                ..Default::default()
            };
            let pending = start(&reqwest::Client::new(), &p, &e, &opts).await.unwrap();
            let q: std::collections::HashMap<String, String> =
                pending.authorize_url.query_pairs().into_owned().collect();
            assert_eq!(pending.authorize_url.path(), "/authorize");
            assert_eq!(q["tenant"], "t1", "the Auth URL's own query is kept");
            assert_eq!(q["response_type"], "code");
            assert_eq!(q["client_id"], "cid");
            assert_eq!(q["redirect_uri"], pending.redirect_uri);
            assert_eq!(q["state"].len(), 43);
            assert_eq!(q["state"], pending.expect.state);
            assert_eq!(q["scope"], "openid orders.read");
            assert_eq!(q["nonce"].len(), 43);
            assert_eq!(q["prompt"], "consent");
            assert!(!q.contains_key("aud"));
            assert_eq!(q.get("code_challenge_method").map(String::as_str), method);
            let verifier = pending.verifier.as_ref().map(|v| v.expose().to_string());
            match method {
                Some(m) => {
                    let v = verifier.unwrap();
                    assert_eq!(v.len(), 43);
                    let c = oauth2::PkceCodeChallenge::from_code_verifier_sha256(
                        &oauth2::PkceCodeVerifier::new(v.clone()),
                    );
                    let want = if m == "S256" { c.as_str() } else { &v };
                    assert_eq!(q["code_challenge"], want);
                    assert!(!pending.authorize_url.as_str().contains(&v) || m == "plain");
                }
                None => {
                    assert!(verifier.is_none() && !q.contains_key("code_challenge"));
                }
            }
        }
    }
}
