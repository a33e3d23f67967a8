//! Sign-in end to end against the project's IMS double on 127.0.0.1 (no external
//! peers): the authorization code flow with an in-process browser stub, the listener
//! sign-in checklist (docs/reliability.md, "Sign-in under faults"), stores, coalescing, refresh, revocation, error shapes, and the
//! `login`/`status`/`logout` commands as subprocesses.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use httplens::auth::flow::{self, SignInOptions};
use httplens::auth::store::{FileStore, MemoryStore, TokenStore};
use httplens::auth::{AuthError, AuthSession, Profile, SignInObserver, parse_profiles};
use httplens::demo::ims::{self, ImsConfig, ImsHandle, TokenFault};
use httplens::secret::Secret;
use httplens::syntax::ast::TokenKind;
use serde_json::json;

/// The browser: follows the authorize URL's redirects to the loopback listener with a
/// cookie-less client (the double auto-approves). Counts launches.
struct BrowserStub {
    opened: AtomicUsize,
    /// Follow the redirects (false: do nothing, the test drives the callback).
    follow: bool,
}

impl BrowserStub {
    fn new() -> Arc<Self> {
        Arc::new(BrowserStub {
            opened: AtomicUsize::new(0),
            follow: true,
        })
    }
}

impl SignInObserver for BrowserStub {
    fn authorize_url(&self, _profile: &str, url: &str, _err: Option<&str>) {
        self.opened.fetch_add(1, Ordering::SeqCst);
        if self.follow {
            let url = url.to_string();
            tokio::spawn(async move {
                let _ = browser().get(url).send().await;
            });
        }
    }
}

fn browser() -> reqwest::Client {
    httplens::process::install_crypto_provider();
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn no_follow() -> reqwest::Client {
    httplens::process::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(true)
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn ims(cfg: ImsConfig) -> ImsHandle {
    ims::start(ImsConfig {
        auto_approve: true,
        ..cfg
    })
    .await
    .unwrap()
}

fn profile(v: serde_json::Value) -> Profile {
    let (mut p, issues) = parse_profiles(&json!({ "p": v }), &|s: &str| Ok(s.to_string()));
    assert!(
        issues
            .iter()
            .all(|i| i.severity != httplens::auth::profile::IssueSeverity::Error),
        "{issues:?}"
    );
    p.remove(0)
}

fn native_profile(ims: &ImsHandle) -> Profile {
    profile(json!({
        "Preset": "adobe-ims", "Grant Type": "Authorization Code",
        "Issuer": ims.base_url, "Client ID": "demo-native",
        "Redirect URL": "http://127.0.0.1/callback",
        "Scope": "openid,AdobeID,email,offline_access"
    }))
}

fn session(
    p: Profile,
    store: Arc<dyn TokenStore>,
    dir: &std::path::Path,
) -> (AuthSession, Arc<BrowserStub>) {
    let b = BrowserStub::new();
    let s = AuthSession::new(vec![p], store, dir.to_path_buf())
        .interactive(true)
        .open_browser(false)
        .timeout(Duration::from_secs(20))
        .observer(b.clone());
    (s, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_code_with_ims_preset() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let p = native_profile(&ims);
    let account = p.store_account();
    assert_eq!(
        account,
        format!(
            "p|{}|demo-native|AdobeID email offline_access openid",
            ims.base_url
        )
    );
    let (s, b) = session(p, store.clone(), dir.path());
    let t = s.tokens("p").await.unwrap();
    assert_eq!(t.account.as_deref(), Some("demo.user@example.test"));
    assert!(t.refresh_token.is_some() && t.id_token.is_some());
    assert!(ims.access_token_valid(&t.access_token));
    let st = ims.stats();
    assert_eq!(st.code_exchanges, 1);
    // Byte-identical redirect_uri, with the actual ephemeral port.
    assert_eq!(st.authorize_redirect_uris, st.token_redirect_uris);
    assert!(st.token_redirect_uris[0].starts_with("http://127.0.0.1:"));
    assert!(!st.token_redirect_uris[0].starts_with("http://127.0.0.1:0/"));
    // Stored under the account key of `docs/environments.md`, as `StoredToken`'s JSON.
    let raw = store.get(&account).await.unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["account"], "demo.user@example.test");
    // A second call uses the stored token: no browser, no exchange.
    let t2 = s.tokens("p").await.unwrap();
    assert_eq!(t2.access_token, t.access_token);
    assert_eq!(b.opened.load(Ordering::SeqCst), 1);
    assert_eq!(ims.stats().code_exchanges, 1);
    let status = s.status("p").await.unwrap();
    assert!(status.signed_in);
    assert!(status.scopes.contains(&"offline_access".to_string()));
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_listener_and_basic_auth_web_app() {
    let ims = ims(ImsConfig {
        allow_http_loopback: false,
        ..ImsConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(json!({
        "Preset": "adobe-ims", "Grant Type": "Authorization Code",
        "Issuer": ims.base_url, "Client ID": "demo-web", "Client Secret": "demo-web-secret",
        "Scope": "openid,AdobeID,email"
    }));
    assert_eq!(p.redirect_url.as_str(), "https://localhost/callback");
    let (s, _b) = session(p, Arc::new(MemoryStore::new()), dir.path());
    let t = s.tokens("p").await.unwrap();
    assert!(ims.access_token_valid(&t.access_token));
    assert!(ims.stats().token_redirect_uris[0].starts_with("https://localhost:"));
    // The self-signed certificate is made once and kept, private.
    let key = dir.path().join("tls/localhost.key");
    assert!(key.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let cert_before = std::fs::read(dir.path().join("tls/localhost.crt")).unwrap();
    s.sign_in("p").await.unwrap();
    assert_eq!(
        cert_before,
        std::fs::read(dir.path().join("tls/localhost.crt")).unwrap()
    );
    ims.shutdown().await;
}

/// Start a flow by hand (no browser) to poke at its listener.
async fn manual_flow(
    ims: &ImsHandle,
    dir: &std::path::Path,
    timeout: Duration,
) -> (flow::PendingSignIn, reqwest::Client) {
    let p = native_profile(ims);
    let http = httplens::auth::oauth::http_client();
    let e = httplens::auth::oauth::endpoints(&http, &p).await.unwrap();
    let f = flow::start(
        &http,
        &p,
        &e,
        &SignInOptions {
            timeout,
            open_browser: false,
            config_dir: dir.to_path_buf(),
        },
    )
    .await
    .unwrap();
    (f, no_follow())
}

/// Where the provider redirects the browser for this authorize URL (the callback URL
/// with code and state).
async fn provider_redirect(c: &reqwest::Client, authorize: &str) -> url::Url {
    let r = c.get(authorize).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 303, "{:?}", r.status());
    url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap()
}

fn replace_query(u: &url::Url, pairs: &[(&str, &str)]) -> String {
    let mut u = u.clone();
    u.set_query(None);
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

fn query(u: &url::Url, k: &str) -> String {
    u.query_pairs()
        .find(|(n, _)| n == k)
        .unwrap()
        .1
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_checklist_paths_state_close() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (f, c) = manual_flow(&ims, dir.path(), Duration::from_secs(20)).await;
    // 1: loopback only.
    assert!(f.local_addr.ip().is_loopback());
    let port = f.local_addr.port();
    let au = f.authorize_url.clone();
    // 22/9: the URL carries an S256 challenge, never a verifier; state >= 128 bits.
    assert_eq!(query(&au, "code_challenge_method"), "S256");
    assert_eq!(query(&au, "code_challenge").len(), 43);
    assert!(au.query_pairs().all(|(k, _)| k != "code_verifier"));
    assert!(query(&au, "state").len() >= 22);
    // 2: an idle pre-connection, `/` and the favicon do not end the flow.
    let _idle = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    for path in ["/", "/favicon.ico"] {
        let r = c
            .get(format!("http://127.0.0.1:{port}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);
    }
    let cb = provider_redirect(&c, au.as_str()).await;
    let code = query(&cb, "code");
    // 8: the success page shows neither the code nor a token.
    let r = c.get(cb.as_str()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    assert!(!page.contains(&code) && page.contains("Signed in"));
    let res = f.wait().await.unwrap();
    assert_eq!(res.account.as_deref(), Some("demo.user@example.test"));
    // 5: the listener is closed after the first valid callback.
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
    );
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listener_wrong_and_missing_state_no_exchange() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    for bad in [Some("forged-state-value"), None] {
        let (f, c) = manual_flow(&ims, dir.path(), Duration::from_secs(20)).await;
        let cb = provider_redirect(&c, f.authorize_url.as_str()).await;
        let code = query(&cb, "code");
        let mut pairs = vec![("code", code.as_str())];
        if let Some(s) = bad {
            pairs.push(("state", s));
        }
        let r = c.get(replace_query(&cb, &pairs)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let page = r.text().await.unwrap();
        assert!(page.contains("Sign-in failed") && !page.contains(&code));
        let err = f.wait().await.err().unwrap();
        assert!(matches!(err, AuthError::Denied(_)), "{err}");
        assert!(err.to_string().contains("state"), "{err}");
    }
    assert_eq!(ims.stats().code_exchanges, 0);
    ims.shutdown().await;
}

/// An `error` without this sign-in's `state` (anyone who can reach the port could
/// send one) is answered but does not end the sign-in; the provider's error with the
/// right `state` does. Error text is escaped in the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_error_without_state_and_escaping() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (f, c) = manual_flow(&ims, dir.path(), Duration::from_secs(20)).await;
    let cb = provider_redirect(&c, f.authorize_url.as_str()).await;
    let state = query(&cb, "state");
    let forged = c
        .get(replace_query(
            &cb,
            &[("error", "access_denied"), ("error_description", "forged")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 400);
    assert!(forged.text().await.unwrap().contains("still waiting"));
    let r = c
        .get(replace_query(
            &cb,
            &[
                ("error", "access_denied"),
                ("error_description", "<script>alert(1)</script>"),
                ("state", state.as_str()),
            ],
        ))
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    assert!(
        !page.contains("<script>alert") && page.contains("&lt;script&gt;"),
        "{page}"
    );
    let err = f.wait().await.err().unwrap().to_string();
    assert!(err.contains("access_denied"), "{err}");
    assert!(
        !err.contains("forged"),
        "the forged error did not end it: {err}"
    );
    assert_eq!(ims.stats().code_exchanges, 0);
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_and_cancel_close_the_port() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (f, _) = manual_flow(&ims, dir.path(), Duration::from_millis(300)).await;
    let port = f.local_addr.port();
    let err = f.wait().await.err().unwrap();
    assert!(matches!(err, AuthError::Timeout(_)));
    assert!(err.to_string().contains("listener is closed"));
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
    );

    let (f, _) = manual_flow(&ims, dir.path(), Duration::from_secs(20)).await;
    let port = f.local_addr.port();
    let h = f.handle.clone();
    let w = tokio::spawn(f.wait());
    h.cancel();
    let err = w.await.unwrap().err().unwrap();
    assert!(matches!(err, AuthError::Cancelled), "{err}");
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
    );
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paste_fallback_completes() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (f, c) = manual_flow(&ims, dir.path(), Duration::from_secs(20)).await;
    let cb = provider_redirect(&c, f.authorize_url.as_str()).await;
    assert!(f.handle.complete_with_url("not a url").is_err());
    f.handle.complete_with_url(cb.as_str()).unwrap();
    let r = f.wait().await.unwrap();
    assert_eq!(r.account.as_deref(), Some("demo.user@example.test"));
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_requests_one_browser_one_exchange() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (s, b) = session(
        native_profile(&ims),
        Arc::new(MemoryStore::new()),
        dir.path(),
    );
    let s = Arc::new(s);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.tokens("p").await.map(|t| t.access_token)
        }));
    }
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.push(t.await.unwrap().unwrap());
    }
    tokens.dedup();
    assert_eq!(tokens.len(), 1);
    assert_eq!(b.opened.load(Ordering::SeqCst), 1);
    assert_eq!(ims.stats().code_exchanges, 1);
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_ahead_of_expiry_rotates_and_persists() {
    // 30 s lifetime < the 60 s skew: every use refreshes; milliseconds expires_in.
    let ims = ims(ImsConfig {
        access_token_ttl: Duration::from_secs(30),
        ..ImsConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path()));
    let p = native_profile(&ims);
    let account = p.store_account();
    let (s, b) = session(p, store.clone(), dir.path());
    let t1 = s.tokens("p").await.unwrap();
    let t2 = s.tokens("p").await.unwrap();
    assert_ne!(t1.access_token, t2.access_token);
    assert_ne!(t1.refresh_token, t2.refresh_token);
    assert_eq!(ims.stats().refreshes, 1);
    assert_eq!(b.opened.load(Ordering::SeqCst), 1);
    // The rotated refresh token is what the store holds.
    let stored =
        httplens::auth::StoredToken::from_json(&store.get(&account).await.unwrap().unwrap())
            .unwrap();
    assert_eq!(stored.refresh_token, t2.refresh_token);
    // The refresh brought a new ID token (the double sends one; without the first
    // one's nonce), checked and stored with the rotated tokens.
    assert!(stored.id_token.is_some());
    assert_ne!(stored.id_token, t1.id_token);
    assert_eq!(stored.id_token, t2.id_token);
    assert!(
        stored
            .id_token_status
            .as_ref()
            .is_some_and(|s| s.is_verified())
    );
    assert_eq!(ims.stats().refresh_reuse, 0);
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn milliseconds_expires_in() {
    let ims = ims(ImsConfig {
        expires_in_ms: true,
        ..ImsConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = session(
        native_profile(&ims),
        Arc::new(MemoryStore::new()),
        dir.path(),
    );
    let t = s.tokens("p").await.unwrap();
    let left = t.expires_at.unwrap() - chrono::Utc::now().timestamp();
    assert!((86_000..=86_400).contains(&left), "{left}");
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_once_after_401_and_coalesce() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = session(
        native_profile(&ims),
        Arc::new(MemoryStore::new()),
        dir.path(),
    );
    let t = s.tokens("p").await.unwrap();
    ims.expire_access_tokens();
    assert!(!ims.access_token_valid(&t.access_token));
    let rejected = Secret::new(t.access_token.clone());
    let src: &dyn httplens::exec::TokenSource = &s;
    let fresh = src
        .refresh_after_401("p", TokenKind::Access, &rejected)
        .await
        .unwrap();
    assert!(ims.access_token_valid(fresh.expose()));
    // A second caller holding the same rejected token gets the new one, no refresh.
    let again = src
        .refresh_after_401("p", TokenKind::Access, &rejected)
        .await
        .unwrap();
    assert_eq!(again, fresh);
    assert_eq!(ims.stats().refreshes, 1);
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_grant_clears_entry_and_asks_to_sign_in() {
    let ims = ims(ImsConfig {
        access_token_ttl: Duration::from_secs(30),
        ..ImsConfig::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let p = native_profile(&ims);
    let account = p.store_account();
    let (s, _) = session(p.clone(), store.clone(), dir.path());
    s.tokens("p").await.unwrap();
    ims.revoke_all_refresh_tokens();
    // Not interactive now (a CI run): no browser, a clear error, entry gone.
    let s2 = AuthSession::new(vec![p], store.clone(), dir.path().to_path_buf());
    let err = s2.tokens("p").await.err().unwrap().to_string();
    assert!(err.contains("httplens login p"), "{err}");
    assert_eq!(store.get(&account).await.unwrap(), None);
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_entry_means_new_sign_in() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FileStore::new(dir.path()));
    let p = native_profile(&ims);
    store
        .set(&p.store_account(), "{\"version\": 1, \"garbage\"")
        .await
        .unwrap();
    let (s, b) = session(p, store.clone(), dir.path());
    assert!(!s.status("p").await.unwrap().signed_in);
    s.tokens("p").await.unwrap();
    assert_eq!(b.opened.load(Ordering::SeqCst), 1);
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_no_browser_cached() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(json!({
        "Preset": "adobe-ims", "Grant Type": "Client Credentials", "Issuer": ims.base_url,
        "Client ID": "demo-web", "Client Secret": "demo-web-secret",
        "Scope": "openid,AdobeID,commerce.accs"
    }));
    // Not interactive: client credentials never need a browser.
    let s = AuthSession::new(
        vec![p],
        Arc::new(MemoryStore::new()),
        dir.path().to_path_buf(),
    );
    let src: &dyn httplens::exec::TokenSource = &s;
    let a = src.token("p", TokenKind::Access).await.unwrap();
    let b = src.token("p", TokenKind::Access).await.unwrap();
    assert_eq!(a, b);
    assert!(ims.access_token_valid(a.expose()));
    assert_eq!(ims.stats().client_credentials, 1);
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_errors_are_one_sentence() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(json!({
        "Preset": "adobe-ims", "Grant Type": "Client Credentials", "Issuer": ims.base_url,
        "Client ID": "demo-web", "Client Secret": "wrong-secret-value"
    }));
    let s = AuthSession::new(
        vec![p.clone()],
        Arc::new(MemoryStore::new()),
        dir.path().to_path_buf(),
    );
    let e = s.tokens("p").await.err().unwrap().to_string();
    assert!(
        e.contains("invalid_client") && e.contains("x-debug-id"),
        "{e}"
    );
    assert!(!e.contains("wrong-secret-value"));
    let mut good = p.clone();
    good.client_secret = Some(Secret::new("demo-web-secret"));
    let s = AuthSession::new(
        vec![good],
        Arc::new(MemoryStore::new()),
        dir.path().to_path_buf(),
    );
    for (fault, want) in [
        (TokenFault::Html502, "HTTP 502"),
        (
            TokenFault::ProblemJson,
            "Bad Request: the request was rejected by policy",
        ),
        (TokenFault::Empty500, "HTTP 500"),
        (TokenFault::InvalidGrant, "invalid_grant"),
    ] {
        ims.inject_token_fault(fault);
        let e = s.tokens("p").await.err().unwrap().to_string();
        assert!(e.contains(want), "{fault:?}: {e}");
        assert!(!e.contains('\n') && !e.contains("<html"), "{e}");
    }
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_revokes_and_deletes() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let p = native_profile(&ims);
    let account = p.store_account();
    let (s, _) = session(p, store.clone(), dir.path());
    let t = s.tokens("p").await.unwrap();
    let r = s.sign_out("p").await.unwrap();
    assert!(r.had_entry);
    assert_eq!(r.revoked, Some(Ok(())));
    assert!(!ims.access_token_valid(&t.access_token));
    assert_eq!(store.get(&account).await.unwrap(), None);
    assert!(!s.status("p").await.unwrap().signed_in);
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_rejects_a_different_issuer() {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().route(
        "/.well-known/openid-configuration",
        get(|| async {
            axum::Json(json!({"issuer": "http://127.0.0.1:1/elsewhere",
                "authorization_endpoint": "http://127.0.0.1:1/a", "token_endpoint": "http://127.0.0.1:1/t"}))
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let p = profile(json!({"Type": "OAuth2", "Grant Type": "Authorization Code",
        "Client ID": "c", "Issuer": format!("http://127.0.0.1:{port}")}));
    let dir = tempfile::tempdir().unwrap();
    let (s, b) = session(p, Arc::new(MemoryStore::new()), dir.path());
    let e = s.tokens("p").await.err().unwrap().to_string();
    assert!(
        e.contains("names the issuer") && e.contains("refusing"),
        "{e}"
    );
    assert_eq!(b.opened.load(Ordering::SeqCst), 0);
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_profiles_in_parallel_never_cross() {
    let a = ims(ImsConfig::default()).await;
    let bsrv = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut pa = native_profile(&a);
    pa.id = "a".into();
    let mut pb = native_profile(&bsrv);
    pb.id = "b".into();
    let browser = BrowserStub::new();
    let s = Arc::new(
        AuthSession::new(
            vec![pa, pb],
            Arc::new(MemoryStore::new()),
            dir.path().to_path_buf(),
        )
        .interactive(true)
        .open_browser(false)
        .observer(browser.clone()),
    );
    let (ta, tb) = tokio::join!(s.tokens("a"), s.tokens("b"));
    let (ta, tb) = (ta.unwrap(), tb.unwrap());
    assert!(a.access_token_valid(&ta.access_token) && !a.access_token_valid(&tb.access_token));
    assert!(bsrv.access_token_valid(&tb.access_token));
    assert_eq!(a.stats().code_exchanges, 1);
    assert_eq!(bsrv.stats().code_exchanges, 1);
    a.shutdown().await;
    bsrv.shutdown().await;
}

// ---------------------------------------------------------------------------------
// The CLI as subprocesses: `login`, `status`, `logout` with the file store in a temp
// config folder and a curl script as the browser.

struct CliEnv {
    dir: tempfile::TempDir,
}

impl CliEnv {
    fn new(ims: &ImsHandle, ttl_note: &str) -> CliEnv {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::write(ws.join("api.http"), format!("# {ttl_note}\nGET {}/ims/userinfo/v2\nAuthorization: Bearer {{{{$auth.token(\"ims\")}}}}\n", ims.base_url)).unwrap();
        std::fs::write(
            ws.join("http-client.env.json"),
            json!({"dev": {"Security": {"Auth": {
                "ims": {"Preset": "adobe-ims", "Grant Type": "Authorization Code",
                        "Issuer": "{{imsHost}}", "Client ID": "demo-web",
                        "Client Secret": "{{imsSecret}}",
                        "Redirect URL": "http://127.0.0.1/callback",
                        "Scope": "openid,AdobeID,email,offline_access"},
                "robot": {"Preset": "adobe-ims", "Grant Type": "Client Credentials",
                        "Issuer": "{{imsHost}}", "Client ID": "demo-web",
                        "Client Secret": "{{imsSecret}}", "Scope": "AdobeID"}
            }}, "imsHost": ims.base_url}})
            .to_string(),
        )
        .unwrap();
        std::fs::write(
            ws.join("http-client.private.env.json"),
            json!({"dev": {"imsSecret": "demo-web-secret"}}).to_string(),
        )
        .unwrap();
        let browser = dir.path().join("browser.sh");
        std::fs::write(
            &browser,
            "#!/bin/sh\nexec curl -sSL --noproxy '*' --max-time 15 -o /dev/null \"$1\"\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        CliEnv { dir }
    }

    fn cmd(&self, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_httplens"));
        c.args(args)
            .arg("--file")
            .arg(self.dir.path().join("ws/api.http"))
            .env("HTTPLENS_TOKEN_STORE", "file")
            .env("HTTPLENS_CONFIG_DIR", self.dir.path().join("config"))
            .env("HTTPLENS_CACHE_DIR", self.dir.path().join("cache"))
            .env("HTTPLENS_BROWSER", self.dir.path().join("browser.sh"))
            .env("HTTPLENS_LOG", "trace")
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg"))
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        c
    }

    async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let o = tokio::time::timeout(Duration::from_secs(60), self.cmd(args).output())
            .await
            .expect("the command finished in time")
            .unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    fn token_file(&self) -> std::path::PathBuf {
        self.dir.path().join("config/tokens.json")
    }

    /// Every secret string in the token file.
    fn stored_secrets(&self) -> Vec<String> {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(self.token_file()).unwrap()).unwrap();
        let mut out = Vec::new();
        for (_, e) in v.as_object().unwrap() {
            for k in ["access_token", "refresh_token", "id_token"] {
                if let Some(s) = e[k].as_str() {
                    out.push(s.to_string());
                }
            }
        }
        out
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_login_status_logout_no_leaks() {
    let ims = ims(ImsConfig::default()).await;
    let env = CliEnv::new(&ims, "cli");
    let (code, out, err) = env
        .run(&["login", "ims", "--env", "dev", "--timeout", "30"])
        .await;
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(
        out.contains("Signed in to `ims` as demo.user@example.test"),
        "{out}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(env.token_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (code, out2, err2) = env.run(&["login", "robot", "--env", "dev"]).await;
    assert_eq!(code, 0, "{out2}{err2}");

    let (code, json_out, err3) = env
        .run(&["status", "--env", "dev", "--format", "json"])
        .await;
    assert_eq!(code, 0, "{err3}");
    let v: serde_json::Value = serde_json::from_str(&json_out).unwrap();
    let ims_row = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["profile"] == "ims")
        .unwrap();
    assert_eq!(ims_row["env"], "dev");
    assert_eq!(ims_row["signedIn"], true);
    assert_eq!(ims_row["account"], "demo.user@example.test");
    assert!(ims_row["expiresAt"].as_i64().unwrap() > chrono::Utc::now().timestamp());
    assert!(
        ims_row["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "offline_access")
    );
    // The state in the words the server gives the editors (`httplens/state`'s
    // `summary`), and the preset's ID token checked against the double's keys.
    assert_eq!(
        ims_row["summary"],
        "signed in as demo.user@example.test, 23 h left"
    );
    assert_eq!(ims_row["idToken"]["state"], "verified");
    let (_, text_out, _) = env.run(&["status"]).await;
    let line = text_out
        .lines()
        .find(|l| l.starts_with("ims [dev]: "))
        .unwrap_or_else(|| panic!("{text_out}"));
    assert!(
        line.starts_with("ims [dev]: signed in as demo.user@example.test, 23 h left, scopes: ")
            && line.ends_with("; ID token verified (ES256)"),
        "{line}"
    );

    // Leak check: no token, refresh token, ID token or client secret in any output or
    // log line (HTTPLENS_LOG=trace), nor in any file but the token store.
    let secrets = env.stored_secrets();
    assert!(secrets.len() >= 3);
    let mut all = format!("{out}{err}{out2}{err2}{json_out}{err3}{text_out}");
    for entry in walk(env.dir.path()) {
        if entry != env.token_file() && !entry.ends_with("localhost.key") {
            all.push_str(&String::from_utf8_lossy(
                &std::fs::read(&entry).unwrap_or_default(),
            ));
        }
    }
    for s in secrets
        .iter()
        .map(String::as_str)
        .chain(["demo-web-secret"])
    {
        let outputs_only = format!("{out}{err}{out2}{err2}{json_out}{err3}{text_out}");
        assert!(!outputs_only.contains(s), "a secret leaked into the output");
        if s != "demo-web-secret" {
            assert!(!all.contains(s), "a token leaked into a file");
        }
    }

    let ims_access = {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(env.token_file()).unwrap()).unwrap();
        let (_, e) = v
            .as_object()
            .unwrap()
            .iter()
            .find(|(k, _)| k.starts_with("ims|"))
            .unwrap();
        e["access_token"].as_str().unwrap().to_string()
    };
    assert!(ims.access_token_valid(&ims_access));
    let (code, out, err) = env.run(&["logout", "ims", "--env", "dev"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("revoked"), "{out}");
    assert!(
        !ims.access_token_valid(&ims_access),
        "revoked at the provider"
    );
    let (_, json_out, _) = env
        .run(&["status", "--env", "dev", "--format", "json"])
        .await;
    let v: serde_json::Value = serde_json::from_str(&json_out).unwrap();
    let ims_row = v
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["profile"] == "ims")
        .unwrap();
    assert_eq!(ims_row["signedIn"], false);
    ims.shutdown().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_login_no_browser_reads_the_pasted_url() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let ims = ims(ImsConfig::default()).await;
    let env = CliEnv::new(&ims, "paste");
    let mut child = env
        .cmd(&[
            "login",
            "ims",
            "--env",
            "dev",
            "--no-browser",
            "--timeout",
            "30",
        ])
        .env_remove("HTTPLENS_BROWSER")
        .env("HTTPLENS_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(l) = lines.next_line().await.unwrap() {
            if let Some(u) = l.trim().strip_prefix("http://") {
                return format!("http://{u}");
            }
        }
        panic!("no authorize URL on stderr");
    })
    .await
    .unwrap();
    assert!(url.contains("code_challenge=") && !url.contains("code_verifier"));
    let cb = provider_redirect(&no_follow(), &url).await;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"garbage\n").await.unwrap();
    stdin.write_all(format!("{cb}\n").as_bytes()).await.unwrap();
    let o = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("Signed in to `ims`"), "{out}");
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_usage_errors_and_non_interactive_failures() {
    let ims = ims(ImsConfig::default()).await;
    let env = CliEnv::new(&ims, "usage");
    let (code, _, err) = env.run(&["login", "nope", "--env", "dev"]).await;
    assert_eq!(code, 2);
    assert!(
        err.contains("no auth profile `nope`") && err.contains("known: ims, robot"),
        "{err}"
    );
    let (code, _, err) = env.run(&["login", "ims", "--env", "prod"]).await;
    assert_eq!(code, 2, "{err}");
    // A browser that fails: the URL is shown and the timeout closes the listener.
    let mut c = env.cmd(&["login", "ims", "--env", "dev", "--timeout", "1"]);
    c.env("HTTPLENS_BROWSER", "/nonexistent/browser");
    let o = c.output().await.unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("could not be started") && err.contains("/ims/authorize/v2?"),
        "{err}"
    );
    assert!(err.contains("within 1 seconds"), "{err}");
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ims_login_page_approve_and_cancel() {
    // The demo's real page: the demo user prefilled, one button to continue.
    let ims = ims::start(ImsConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let c = no_follow();
    for (action, ok) in [("approve", true), ("deny", false)] {
        let (f, _) = manual_flow(&ims, dir.path(), Duration::from_secs(20)).await;
        let page = c.get(f.authorize_url.as_str()).send().await.unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("demo.user@example.test") && html.contains("Continue as Demo User"));
        let pending = html
            .split("name=\"pending\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();
        let r = c
            .post(format!("{}/ims/authorize/v2/approve", ims.base_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("pending={pending}&action={action}"))
            .send()
            .await
            .unwrap();
        let cb = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        f.handle.complete_with_url(cb.as_str()).unwrap();
        let r = f.wait().await;
        assert_eq!(r.is_ok(), ok);
        if !ok {
            assert!(r.err().unwrap().to_string().contains("access_denied"));
        }
    }
    // An http redirect to a non-loopback host, or any http one when not allowed: refused.
    let strict = ims::start(ImsConfig {
        allow_http_loopback: false,
        ..ImsConfig::default()
    })
    .await
    .unwrap();
    let r = c
        .get(format!(
            "{}/ims/authorize/v2?client_id=demo-native&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Fcallback",
            strict.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.headers().contains_key("x-debug-id"));
    ims.shutdown().await;
    strict.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_id_token_hands_out_the_id_token() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut p = native_profile(&ims);
    p.use_id_token = true;
    let (s, _) = session(p, Arc::new(MemoryStore::new()), dir.path());
    let src: &dyn httplens::exec::TokenSource = &s;
    let tok = src.token("p", TokenKind::Access).await.unwrap();
    let stored = s.tokens("p").await.unwrap();
    assert_eq!(Some(tok.expose()), stored.id_token.as_deref());
    assert_ne!(tok.expose(), stored.access_token);
    ims.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn id_token_signatures_are_checked_against_published_keys() {
    use base64::Engine;
    use ring::signature::{Ed25519KeyPair, KeyPair};
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let jwks = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1", "use": "sig",
        "x": b64(key.public_key().as_ref())}]});
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let j = jwks.clone();
            async move { axum::Json(j) }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let jwks_uri = url::Url::parse(&format!("http://127.0.0.1:{port}/jwks")).unwrap();
    let sign = |claims: serde_json::Value| {
        let input = format!(
            "{}.{}",
            b64(json!({"alg": "EdDSA", "kid": "k1"}).to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = key.sign(input.as_bytes());
        format!("{input}.{}", b64(sig.as_ref()))
    };
    let exp = chrono::Utc::now().timestamp() + 600;
    let good = sign(json!({"iss": "https://id.test", "aud": "c", "exp": exp, "sub": "1"}));
    let http = httplens::auth::oauth::http_client();
    let v = |t: String| {
        let (http, jwks_uri) = (http.clone(), jwks_uri.clone());
        async move {
            httplens::auth::idtoken::verify(&http, &jwks_uri, &t, "https://id.test", "c").await
        }
    };
    v(good.clone()).await.unwrap();
    // Tampered claims, another audience, another issuer, expired, unsigned: refused.
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    parts[1] = b64(
        json!({"iss": "https://id.test", "aud": "c", "exp": exp, "sub": "2"})
            .to_string()
            .as_bytes(),
    );
    let e = v(parts.join(".")).await.err().unwrap().to_string();
    assert!(e.contains("does not verify"), "{e}");
    let e = v(sign(
        json!({"iss": "https://id.test", "aud": "x", "exp": exp}),
    ))
    .await
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("another client"), "{e}");
    let e = v(sign(
        json!({"iss": "https://evil.test", "aud": "c", "exp": exp}),
    ))
    .await
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("another issuer"), "{e}");
    let e = v(sign(
        json!({"iss": "https://id.test", "aud": "c", "exp": 1000}),
    ))
    .await
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("expired"), "{e}");
    let unsigned = format!("{}.{}.", b64(br#"{"alg":"none"}"#), parts[1]);
    assert!(v(unsigned).await.is_err());
    server.abort();
}

/// Device flow: the "user" opens the verification URL the observer is given.
struct DeviceUser;

impl SignInObserver for DeviceUser {
    fn authorize_url(&self, _p: &str, _u: &str, _e: Option<&str>) {
        panic!("the device flow opens no authorize URL");
    }
    fn device_code(&self, _profile: &str, uri: &str, user_code: &str) {
        assert!(uri.contains(user_code));
        let uri = uri.to_string();
        tokio::spawn(async move {
            let _ = browser().get(uri).send().await;
        });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_authorization_grant() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(json!({
        "Type": "OAuth2", "Grant Type": "Device Authorization",
        "Token URL": ims.token_url(), "Device Auth URL": format!("{}/ims/device", ims.base_url),
        "Client ID": "demo-native", "Scope": "openid"
    }));
    let s = AuthSession::new(
        vec![p],
        Arc::new(MemoryStore::new()),
        dir.path().to_path_buf(),
    )
    .interactive(true)
    .open_browser(false)
    .timeout(Duration::from_secs(20))
    .observer(Arc::new(DeviceUser));
    let t = s.tokens("p").await.unwrap();
    assert!(ims.access_token_valid(&t.access_token));
    assert_eq!(t.account.as_deref(), Some("demo.user@example.test"));
    ims.shutdown().await;
}

/// Two editors and a CLI wanting the same profile at once are three processes on the
/// same store (the editor's server reaches the token through the same `AuthSession`
/// path as `run`): one browser, one code exchange, and all three requests succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_one_browser_one_token() {
    let ims = ims(ImsConfig::default()).await;
    let env = CliEnv::new(&ims, "three processes");
    let file = env.dir.path().join("ws/api.http");
    let file = file.to_str().unwrap().to_string();
    let runs = (0..3).map(|_| {
        // `run` takes the file as its argument, without the auth commands' `--file`.
        let mut c = env.cmd(&["run", &file, "--env", "dev", "--no-history"]);
        let std_cmd = c.as_std_mut();
        let args: Vec<_> = std_cmd.get_args().map(|a| a.to_owned()).collect();
        let mut plain = tokio::process::Command::new(std_cmd.get_program());
        plain
            .args(args.iter().take_while(|a| a.to_str() != Some("--file")))
            .envs(std_cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        async move {
            tokio::time::timeout(Duration::from_secs(60), plain.output())
                .await
                .expect("run finished in time")
                .unwrap()
        }
    });
    let outs = futures_util::future::join_all(runs).await;
    for o in &outs {
        assert_eq!(
            o.status.code(),
            Some(0),
            "stdout: {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let s = ims.stats();
    assert_eq!(s.authorize, 1, "browser sign-ins: {}", s.authorize);
    assert_eq!(s.code_exchanges, 1, "code exchanges: {}", s.code_exchanges);
    assert_eq!(
        env.stored_secrets().len(),
        3,
        "one entry: access, refresh, id token"
    );
}

/// A config folder that cannot be created: a clear sentence naming it, no panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwritable_config_folder_is_one_clear_sentence() {
    let ims = ims(ImsConfig::default()).await;
    let env = CliEnv::new(&ims, "unwritable");
    // A path below a regular file can never be created, even by root.
    let blocker = env.dir.path().join("not-a-folder");
    std::fs::write(&blocker, "x").unwrap();
    let mut c = env.cmd(&["login", "ims", "--env", "dev", "--timeout", "20"]);
    c.env("HTTPLENS_CONFIG_DIR", blocker.join("config"));
    let o = tokio::time::timeout(Duration::from_secs(60), c.output())
        .await
        .unwrap()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("not-a-folder"),
        "the message names the folder: {err}"
    );
}

/// A `localhost` redirect listens on 127.0.0.1 and [::1] on the same port, so no
/// other local program can take the other address and catch the code; with a fixed
/// port already taken on [::1], the sign-in does not start (and says why).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_localhost_redirect_holds_both_loopback_addresses() {
    let ims = ims(ImsConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let http = httplens::auth::oauth::http_client();
    let start = |redirect: String| {
        let p = profile(json!({
            "Preset": "adobe-ims", "Grant Type": "Authorization Code",
            "Issuer": ims.base_url, "Client ID": "demo-native",
            "Redirect URL": redirect,
            "Scope": "openid,AdobeID,email"
        }));
        let http = http.clone();
        let dir = dir.path().to_path_buf();
        async move {
            let e = httplens::auth::oauth::endpoints(&http, &p).await.unwrap();
            flow::start(
                &http,
                &p,
                &e,
                &SignInOptions {
                    timeout: Duration::from_secs(20),
                    open_browser: false,
                    config_dir: dir,
                },
            )
            .await
        }
    };
    let f = start("http://localhost/callback".into()).await.unwrap();
    let port = f.local_addr.port();
    let taken = std::net::TcpListener::bind(("::1", port)).unwrap_err();
    assert_eq!(
        taken.kind(),
        std::io::ErrorKind::AddrInUse,
        "[::1]:{port} was free"
    );
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_err());
    // Both answer (a page that is not the callback does not end the flow).
    for host in ["127.0.0.1", "[::1]"] {
        let r = no_follow()
            .get(format!("http://{host}:{port}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404, "{host}");
    }
    drop(f);

    // A fixed port someone else holds on [::1].
    let squatter = std::net::TcpListener::bind(("::1", 0)).unwrap();
    let fixed = squatter.local_addr().unwrap().port();
    let e = match start(format!("http://localhost:{fixed}/callback")).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("the sign-in started with [::1]:{fixed} held by another program"),
    };
    assert!(e.contains("[::1]") && e.contains("another program"), "{e}");
    ims.shutdown().await;
}
