//! A local double of Adobe IMS (the sign-in of Adobe Commerce as a Cloud Service): an
//! axum server on 127.0.0.1 that behaves as Adobe IMS does for the flows `docs/signin.md` describes. Authorize
//! (`/ims/authorize/v2`, a small login page or auto-approve), token (`/ims/token/v3`:
//! authorization code with a PKCE check, refresh with rotation, client credentials),
//! revoke, userinfo; https-only redirect URIs (http loopback only when allowed, for the
//! demo), comma-separated scopes, HTTP Basic for web-app credentials, `expires_in` in
//! seconds or milliseconds, `x-debug-id` on errors. ID tokens are signed (ES256, see
//! `SigningKey`) and the key is published at `/ims/keys` (IMS's `jwks_uri`, `kid` "ims"), so the preset's
//! verification runs against the double as it does against IMS; the ID token of a code
//! exchange carries the authorization request's `nonce`. Used by tests, benches and
//! `httplens demo`.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::auth::flow;
use crate::net;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;

/// Which kind of IMS credential a client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// Confidential: authenticates with HTTP Basic (or the body) at the token endpoint.
    WebApp,
    /// Public: no secret, PKCE required.
    SinglePage,
    /// Public: no secret, PKCE required.
    Native,
}

#[derive(Debug, Clone)]
pub struct ImsClient {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub kind: ClientKind,
    /// Registered redirect URIs. For loopback hosts the port is not compared (RFC 8252
    /// 7.3; IMS's `https://localhost:.*` pattern).
    pub redirect_uris: Vec<String>,
    /// May use the client credentials grant (server-to-server credential).
    pub client_credentials: bool,
}

#[derive(Debug, Clone)]
pub struct ImsUser {
    pub sub: String,
    pub email: String,
    pub name: String,
}

/// A fault the token endpoint answers with once, for tests (feature `test-hooks`: the
/// tests enable it; the shipped binary has no way to inject one).
#[cfg(feature = "test-hooks")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFault {
    /// 502 with an HTML body.
    Html502,
    /// 400 `application/problem+json`.
    ProblemJson,
    /// 400 `{"error":"invalid_grant"}`.
    InvalidGrant,
    /// 500 with an empty body.
    Empty500,
}

#[derive(Debug, Clone)]
pub struct ImsConfig {
    /// 0: an ephemeral port.
    pub port: u16,
    pub clients: Vec<ImsClient>,
    pub user: ImsUser,
    /// Redirect straight back with a code, no login page.
    pub auto_approve: bool,
    /// Accept `http://127.0.0.1`/`localhost` redirect URIs (the demo); real IMS does not.
    pub allow_http_loopback: bool,
    /// Answer `expires_in` in milliseconds (older IMS endpoints).
    pub expires_in_ms: bool,
    pub access_token_ttl: Duration,
}

impl Default for ImsConfig {
    fn default() -> Self {
        ImsConfig {
            port: 0,
            clients: vec![
                ImsClient {
                    client_id: "demo-web".into(),
                    client_secret: Some("demo-web-secret".into()),
                    kind: ClientKind::WebApp,
                    redirect_uris: vec![
                        "https://localhost/callback".into(),
                        "http://127.0.0.1/callback".into(),
                    ],
                    client_credentials: true,
                },
                ImsClient {
                    client_id: "demo-native".into(),
                    client_secret: None,
                    kind: ClientKind::Native,
                    redirect_uris: vec![
                        "https://localhost/callback".into(),
                        "http://127.0.0.1/callback".into(),
                    ],
                    client_credentials: false,
                },
            ],
            user: ImsUser {
                sub: "demo-user@AdobeID".into(),
                email: "demo.user@example.test".into(),
                name: "Demo User".into(),
            },
            auto_approve: false,
            allow_http_loopback: true,
            expires_in_ms: false,
            access_token_ttl: Duration::from_secs(86_399),
        }
    }
}

struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    challenge: Option<(String, String)>,
    scope: String,
    /// The authorization request's `nonce`, echoed in the ID token.
    nonce: Option<String>,
    issued: Instant,
}

struct AccessInfo {
    client_id: String,
    sub: Option<String>,
    expires: Instant,
}

struct RefreshInfo {
    client_id: String,
    scope: String,
}

struct PendingAuth {
    redirect_uri: String,
    state: Option<String>,
    grant: CodeGrant,
}

/// Counters tests read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImsStats {
    pub authorize: u32,
    pub code_exchanges: u32,
    pub refreshes: u32,
    pub client_credentials: u32,
    pub revocations: u32,
    pub token_errors: u32,
    /// A rotated-away refresh token was presented again.
    pub refresh_reuse: u32,
    /// `redirect_uri` values seen at the token endpoint (byte-for-byte).
    pub token_redirect_uris: Vec<String>,
    /// `redirect_uri` values seen at the authorize endpoint.
    pub authorize_redirect_uris: Vec<String>,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, AccessInfo>,
    refresh: HashMap<String, RefreshInfo>,
    rotated: HashSet<String>,
    pending: HashMap<String, PendingAuth>,
    stats: ImsStats,
    #[cfg(feature = "test-hooks")]
    faults: Vec<TokenFault>,
    /// Device flow (RFC 8628): device code -> (client id, scope, user code, approved).
    devices: HashMap<String, DeviceGrant>,
    /// Sign ID tokens with this key instead of the published one (a forgery, for tests).
    #[cfg(feature = "test-hooks")]
    impostor: Option<Arc<SigningKey>>,
}

/// The key ID tokens are signed with: ECDSA P-256 (ES256), published as a JWK with
/// `kid` "ims" (the name IMS gives its key). Adobe IMS signs RS256; ring, which signs
/// here, cannot make an RSA key, and an RSA key maker would add 0.13 MB to the binary
/// users get (`httplens demo` runs this double). What the preset does with either is
/// the same: fetch `/ims/keys`, find the `kid`, check the signature; RS256 itself is
/// checked against the OpenID peers and keys the tests make (`tests/idtoken.rs`).
struct SigningKey {
    pair: ring::signature::EcdsaKeyPair,
    jwk: serde_json::Value,
}

impl SigningKey {
    /// A fresh key.
    fn generate() -> std::io::Result<SigningKey> {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let rng = ring::rand::SystemRandom::new();
        let err = |e: ring::error::Unspecified| std::io::Error::other(e.to_string());
        let der =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(err)?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.as_ref(), &rng)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        // The public key is the uncompressed point: 0x04, then x and y (32 bytes each).
        let point = pair.public_key().as_ref();
        let (x, y) = point[1..].split_at(32);
        let jwk = json!({"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
            "kid": "ims", "x": b64(x), "y": b64(y)});
        Ok(SigningKey { pair, jwk })
    }

    /// A compact JWS (ES256) over `claims`.
    fn sign(&self, claims: &serde_json::Value) -> String {
        let b = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let input = format!(
            "{}.{}",
            b(&json!({"alg": "ES256", "typ": "JWT", "kid": "ims"})),
            b(claims)
        );
        // Signing with a valid key cannot fail but for the system's random source; an
        // empty signature then fails verification, which is what a client would see.
        let sig = self
            .pair
            .sign(&ring::rand::SystemRandom::new(), input.as_bytes())
            .map(|s| s.as_ref().to_vec())
            .unwrap_or_default();
        format!(
            "{input}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&sig)
        )
    }
}

struct DeviceGrant {
    client_id: String,
    scope: String,
    user_code: String,
    approved: bool,
}

struct Shared {
    cfg: ImsConfig,
    base: String,
    key: Arc<SigningKey>,
    inner: Mutex<Inner>,
}

type St = Arc<Shared>;

/// A running double. Dropping it does not stop the server; call [`ImsHandle::shutdown`].
pub struct ImsHandle {
    /// `http://127.0.0.1:PORT` (the issuer).
    pub base_url: String,
    pub addr: SocketAddr,
    shared: St,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl ImsHandle {
    pub fn authorize_url(&self) -> String {
        format!("{}/ims/authorize/v2", self.base_url)
    }
    pub fn token_url(&self) -> String {
        format!("{}/ims/token/v3", self.base_url)
    }
    /// The published signing keys (IMS's `jwks_uri`).
    pub fn jwks_url(&self) -> String {
        format!("{}/ims/keys", self.base_url)
    }
    pub fn stats(&self) -> ImsStats {
        self.shared
            .inner
            .lock()
            .map(|i| i.stats.clone())
            .unwrap_or_default()
    }
    /// Make every issued access token expire now (the next API call answers 401).
    pub fn expire_access_tokens(&self) {
        if let Ok(mut i) = self.shared.inner.lock() {
            let now = Instant::now();
            for a in i.access.values_mut() {
                a.expires = now;
            }
        }
    }
    /// Forget every refresh token (the next refresh gets `invalid_grant`).
    pub fn revoke_all_refresh_tokens(&self) {
        if let Ok(mut i) = self.shared.inner.lock() {
            i.refresh.clear();
        }
    }
    /// The token endpoint answers the next request with this fault.
    #[cfg(feature = "test-hooks")]
    pub fn inject_token_fault(&self, f: TokenFault) {
        if let Ok(mut i) = self.shared.inner.lock() {
            i.faults.push(f);
        }
    }
    /// From now on, sign ID tokens with a fresh key that `/ims/keys` does not publish
    /// (a forged token, as a client must see it).
    #[cfg(feature = "test-hooks")]
    pub async fn sign_id_tokens_with_another_key(&self) -> std::io::Result<()> {
        let k = SigningKey::generate()?;
        if let Ok(mut i) = self.shared.inner.lock() {
            i.impostor = Some(Arc::new(k));
        }
        Ok(())
    }
    /// Is this access token currently accepted?
    pub fn access_token_valid(&self, token: &str) -> bool {
        self.shared
            .inner
            .lock()
            .map(|i| {
                i.access
                    .get(token)
                    .is_some_and(|a| a.expires > Instant::now())
            })
            .unwrap_or(false)
    }
    /// Stop serving and wait for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Start the double on 127.0.0.1 (`config.port`, or an ephemeral one when 0 or taken
/// and `config.port` is 0).
pub async fn start(config: ImsConfig) -> std::io::Result<ImsHandle> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
    let addr = listener.local_addr()?;
    let base = format!("http://127.0.0.1:{}", addr.port());
    let key = Arc::new(SigningKey::generate()?);
    let shared = Arc::new(Shared {
        cfg: config,
        base: base.clone(),
        key,
        inner: Mutex::new(Inner::default()),
    });
    let app = router(shared.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(ImsHandle {
        base_url: base,
        addr,
        shared,
        shutdown: Some(tx),
        task,
    })
}

fn router(st: St) -> Router {
    Router::new()
        .route("/ims/authorize/v2", get(authorize))
        .route("/ims/authorize/v2/approve", post(approve))
        .route("/ims/token/v3", post(token))
        .route("/ims/revoke", post(revoke))
        .route("/ims/userinfo/v2", get(userinfo))
        .route("/ims/keys", get(keys))
        // Not an IMS endpoint: RFC 8628 device authorization, so httplens's device
        // flow has a local peer too.
        .route("/ims/device", post(device_authorize))
        .route("/ims/device/verify", get(device_verify))
        .with_state(st)
}

fn random(prefix: &str) -> String {
    format!("{prefix}{}", flow::random_token())
}

fn debug_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An IMS-style JSON error with `x-debug-id`.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut r = (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&debug_id()) {
        r.headers_mut().insert("x-debug-id", v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn html_error(status: StatusCode, message: &str) -> Response {
    let mut r = (
        status,
        Html(format!(
            "<!doctype html><html><body><h1>Adobe ID (local double)</h1><p>{}</p></body></html>",
            flow::html_escape(message)
        )),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&debug_id()) {
        r.headers_mut().insert("x-debug-id", v);
    }
    r
}

/// IMS accepts https redirect URIs only; loopback ports are not compared.
fn redirect_allowed(cfg: &ImsConfig, client: &ImsClient, uri: &str) -> Result<(), String> {
    let u = Url::parse(uri).map_err(|_| "redirect_uri is not a URL".to_string())?;
    if u.scheme() != "https"
        && !(cfg.allow_http_loopback && u.scheme() == "http" && net::is_loopback(&u))
    {
        return Err("redirect_uri must use https".into());
    }
    let ok = client.redirect_uris.iter().any(|r| {
        let Ok(reg) = Url::parse(r) else { return false };
        if net::is_loopback(&reg) && net::is_loopback(&u) {
            reg.scheme() == u.scheme() && reg.host_str() == u.host_str() && reg.path() == u.path()
        } else {
            reg.as_str() == u.as_str()
        }
    });
    if ok {
        Ok(())
    } else {
        Err("redirect_uri does not match the credential's redirect URI pattern".into())
    }
}

fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let mut u = match Url::parse(uri) {
        Ok(u) => u,
        Err(_) => return uri.to_string(),
    };
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    u.to_string()
}

async fn authorize(State(st): State<St>, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Ok(mut i) = st.inner.lock() {
        i.stats.authorize += 1;
        if let Some(r) = q.get("redirect_uri") {
            i.stats.authorize_redirect_uris.push(r.clone());
        }
    }
    let cfg = &st.cfg;
    let Some(client) = q
        .get("client_id")
        .and_then(|id| cfg.clients.iter().find(|c| &c.client_id == id))
    else {
        return html_error(StatusCode::BAD_REQUEST, "Unknown client_id.");
    };
    // IMS requires redirect_uri on every request.
    let Some(redirect_uri) = q.get("redirect_uri") else {
        return html_error(StatusCode::BAD_REQUEST, "redirect_uri is required.");
    };
    if let Err(m) = redirect_allowed(cfg, client, redirect_uri) {
        return html_error(StatusCode::BAD_REQUEST, &m);
    }
    let state = q.get("state").cloned();
    let back = |pairs: &mut Vec<(&str, String)>| -> Response {
        if let Some(s) = &state {
            pairs.push(("state", s.clone()));
        }
        let p: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Redirect::to(&with_query(redirect_uri, &p)).into_response()
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return back(&mut vec![
            ("error", "unsupported_response_type".into()),
            ("error_description", "response_type must be code".into()),
        ]);
    }
    let scope = q.get("scope").cloned().unwrap_or_default();
    if scope.contains(' ') {
        return back(&mut vec![
            ("error", "invalid_scope".into()),
            (
                "error_description",
                "scopes are comma-separated at Adobe IMS".into(),
            ),
        ]);
    }
    let challenge = match (q.get("code_challenge"), q.get("code_challenge_method")) {
        (Some(c), Some(m)) if m == "S256" => Some((c.clone(), m.clone())),
        (Some(_), _) => {
            return back(&mut vec![
                ("error", "invalid_request".into()),
                (
                    "error_description",
                    "code_challenge_method must be S256".into(),
                ),
            ]);
        }
        (None, _) if client.kind != ClientKind::WebApp => {
            return back(&mut vec![
                ("error", "invalid_request".into()),
                (
                    "error_description",
                    "PKCE is required for public clients".into(),
                ),
            ]);
        }
        (None, _) => None,
    };
    let grant = CodeGrant {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        challenge,
        scope,
        nonce: q.get("nonce").cloned(),
        issued: Instant::now(),
    };
    if cfg.auto_approve {
        let code = random("ims-code-");
        if let Ok(mut i) = st.inner.lock() {
            i.codes.insert(code.clone(), grant);
        }
        return back(&mut vec![("code", code)]);
    }
    let id = random("");
    if let Ok(mut i) = st.inner.lock() {
        i.pending.insert(
            id.clone(),
            PendingAuth {
                redirect_uri: redirect_uri.clone(),
                state,
                grant,
            },
        );
    }
    let e = flow::html_escape;
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Adobe ID (local double)</title></head>\
<body style=\"font-family:sans-serif;max-width:28em;margin:4em auto\">\
<h1>Sign in</h1><p>Local Adobe IMS double for httplens. No password needed.</p>\
<form method=\"post\" action=\"/ims/authorize/v2/approve\">\
<input type=\"hidden\" name=\"pending\" value=\"{id}\">\
<label>Email <input name=\"email\" value=\"{email}\" readonly></label><br><br>\
<button type=\"submit\" name=\"action\" value=\"approve\" id=\"approve\">Continue as {name}</button> \
<button type=\"submit\" name=\"action\" value=\"deny\" id=\"deny\">Cancel</button>\
</form></body></html>",
        id = e(&id),
        email = e(&cfg.user.email),
        name = e(&cfg.user.name),
    ))
    .into_response()
}

async fn approve(State(st): State<St>, Form(f): Form<HashMap<String, String>>) -> Response {
    let pending = f
        .get("pending")
        .and_then(|id| st.inner.lock().ok()?.pending.remove(id));
    let Some(p) = pending else {
        return html_error(
            StatusCode::BAD_REQUEST,
            "This sign-in page has expired; start again.",
        );
    };
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if f.get("action").map(String::as_str) == Some("approve") {
        let code = random("ims-code-");
        if let Ok(mut i) = st.inner.lock() {
            i.codes.insert(code.clone(), p.grant);
        }
        pairs.push(("code", code));
    } else {
        pairs.push(("error", "access_denied".into()));
        pairs.push(("error_description", "The user cancelled the sign-in".into()));
    }
    if let Some(s) = &p.state {
        pairs.push(("state", s.clone()));
    }
    let pp: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Redirect::to(&with_query(&p.redirect_uri, &pp)).into_response()
}

/// Client authentication: Basic header or body; returns the client, or the error
/// response to send (a large `Err` is fine here: it is returned once per request).
#[allow(clippy::result_large_err)]
fn authenticate<'a>(
    cfg: &'a ImsConfig,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<&'a ImsClient, Response> {
    let mut id = form.get("client_id").cloned();
    let mut secret = form.get("client_secret").cloned();
    if let Some(h) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(b) = h.strip_prefix("Basic ")
    {
        let dec = base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .ok_or_else(|| {
                oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "malformed Basic credentials",
                )
            })?;
        let (u, p) = dec.split_once(':').unwrap_or((&dec, ""));
        let pd = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        id = Some(pd(u));
        secret = Some(pd(p));
    }
    let client = id
        .as_ref()
        .and_then(|id| cfg.clients.iter().find(|c| &c.client_id == id))
        .ok_or_else(|| {
            oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "unknown client_id",
            )
        })?;
    match (&client.client_secret, &secret) {
        (Some(want), Some(got)) if want == got => Ok(client),
        (Some(_), _) => Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        )),
        (None, None) => Ok(client),
        (None, Some(_)) => Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "public clients have no secret",
        )),
    }
}

/// The ID token of one answer, signed with the published key (or, when a test
/// asked, with a key `/ims/keys` does not hold). `nonce`: the authorization request's,
/// for a code exchange; none after a refresh or a device flow (none was sent).
#[cfg_attr(not(feature = "test-hooks"), allow(unused_variables))]
fn id_token(st: &Shared, i: &Inner, client_id: &str, nonce: Option<&str>) -> String {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({"iss": st.base, "aud": client_id, "sub": st.cfg.user.sub,
        "email": st.cfg.user.email, "name": st.cfg.user.name,
        "iat": now, "exp": now + 86_399});
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    #[cfg(feature = "test-hooks")]
    if let Some(k) = &i.impostor {
        return k.sign(&claims);
    }
    st.key.sign(&claims)
}

/// `/ims/keys`: the public key ID tokens are signed with, as a JWK set.
async fn keys(State(st): State<St>) -> Response {
    Json(json!({"keys": [st.key.jwk]})).into_response()
}

fn issue(
    st: &Shared,
    i: &mut Inner,
    client_id: &str,
    scope: &str,
    user: bool,
    nonce: Option<&str>,
) -> Response {
    let at = random("ims-at-");
    let ttl = st.cfg.access_token_ttl;
    i.access.insert(
        at.clone(),
        AccessInfo {
            client_id: client_id.to_string(),
            sub: user.then(|| st.cfg.user.sub.clone()),
            expires: Instant::now() + ttl,
        },
    );
    let expires_in = if st.cfg.expires_in_ms {
        ttl.as_millis() as u64
    } else {
        ttl.as_secs()
    };
    let mut body = json!({"access_token": at, "token_type": "bearer", "expires_in": expires_in});
    let scopes: Vec<&str> = scope.split(',').filter(|s| !s.is_empty()).collect();
    if user && scopes.contains(&"offline_access") {
        let rt = random("ims-rt-");
        i.refresh.insert(
            rt.clone(),
            RefreshInfo {
                client_id: client_id.to_string(),
                scope: scope.to_string(),
            },
        );
        body["refresh_token"] = json!(rt);
    }
    if user && scopes.contains(&"openid") {
        body["id_token"] = json!(id_token(st, i, client_id, nonce));
    }
    if !scope.is_empty() {
        body["scope"] = json!(scope);
    }
    let mut r = Json(body).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

#[cfg(feature = "test-hooks")]
fn fault_response(f: TokenFault) -> Response {
    match f {
        TokenFault::Html502 => (
            StatusCode::BAD_GATEWAY,
            Html("<html><body><h1>502 Bad Gateway</h1></body></html>"),
        )
            .into_response(),
        TokenFault::ProblemJson => {
            let mut r = (
                StatusCode::BAD_REQUEST,
                json!({"type": "about:blank", "title": "Bad Request", "detail": "the request was rejected by policy"}).to_string(),
            )
                .into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/problem+json"),
            );
            r
        }
        TokenFault::InvalidGrant => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the grant is invalid or expired",
        ),
        TokenFault::Empty500 => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn token(
    State(st): State<St>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    #[cfg(feature = "test-hooks")]
    {
        let fault = st.inner.lock().ok().and_then(|mut i| {
            if i.faults.is_empty() {
                None
            } else {
                i.stats.token_errors += 1;
                Some(i.faults.remove(0))
            }
        });
        if let Some(f) = fault {
            return fault_response(f);
        }
    }
    let r = token_inner(&st, &headers, &f);
    if !r.status().is_success()
        && let Ok(mut i) = st.inner.lock()
    {
        i.stats.token_errors += 1;
    }
    r
}

fn token_inner(st: &Shared, headers: &HeaderMap, f: &HashMap<String, String>) -> Response {
    let cfg = &st.cfg;
    let client = match authenticate(cfg, headers, f) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(mut i) = st.inner.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            i.stats.code_exchanges += 1;
            if let Some(r) = f.get("redirect_uri") {
                i.stats.token_redirect_uris.push(r.clone());
            }
            let Some(g) = f.get("code").and_then(|c| i.codes.remove(c)) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the code is invalid, expired or used",
                );
            };
            if g.client_id != client.client_id || g.issued.elapsed() > Duration::from_secs(600) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the code is invalid, expired or used",
                );
            }
            if f.get("redirect_uri") != Some(&g.redirect_uri) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "redirect_uri does not match the authorize request",
                );
            }
            if let Some((challenge, _)) = &g.challenge {
                let ok = f.get("code_verifier").is_some_and(|v| {
                    (43..=128).contains(&v.len())
                        && base64::engine::general_purpose::URL_SAFE_NO_PAD
                            .encode(Sha256::digest(v.as_bytes()))
                            == *challenge
                });
                if !ok {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "PKCE verification failed",
                    );
                }
            }
            issue(
                st,
                &mut i,
                &client.client_id,
                &g.scope,
                true,
                g.nonce.as_deref(),
            )
        }
        Some("refresh_token") => {
            i.stats.refreshes += 1;
            let Some(rt) = f.get("refresh_token") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "refresh_token is required",
                );
            };
            if i.rotated.contains(rt) {
                i.stats.refresh_reuse += 1;
            }
            let Some(info) = i.refresh.remove(rt) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the refresh token is invalid or expired",
                );
            };
            if info.client_id != client.client_id {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the refresh token belongs to another client",
                );
            }
            // Rotation: the presented token is spent.
            i.rotated.insert(rt.clone());
            issue(st, &mut i, &client.client_id, &info.scope, true, None)
        }
        Some("urn:ietf:params:oauth:grant-type:device_code") => {
            let Some(dc) = f.get("device_code") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "device_code is required",
                );
            };
            match i.devices.get(dc) {
                None => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "expired_token",
                    "the device code is unknown or expired",
                ),
                Some(d) if d.client_id != client.client_id => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the device code belongs to another client",
                ),
                Some(d) if !d.approved => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "authorization_pending",
                    "the user has not approved yet",
                ),
                Some(_) => {
                    let d = i.devices.remove(dc).expect("present");
                    issue(st, &mut i, &client.client_id, &d.scope, true, None)
                }
            }
        }
        Some("client_credentials") => {
            i.stats.client_credentials += 1;
            if client.client_secret.is_none() || !client.client_credentials {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unauthorized_client",
                    "this credential cannot use client_credentials",
                );
            }
            let scope = f.get("scope").cloned().unwrap_or_default();
            issue(st, &mut i, &client.client_id, &scope, false, None)
        }
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type is not supported",
        ),
    }
}

async fn device_authorize(
    State(st): State<St>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let client = match authenticate(&st.cfg, &headers, &f) {
        Ok(c) => c.client_id.clone(),
        Err(r) => return r,
    };
    let device_code = random("ims-dc-");
    let user_code: String = random("")
        .chars()
        .filter(char::is_ascii_alphabetic)
        .take(8)
        .collect::<String>()
        .to_ascii_uppercase();
    if let Ok(mut i) = st.inner.lock() {
        i.devices.insert(
            device_code.clone(),
            DeviceGrant {
                client_id: client,
                scope: f.get("scope").cloned().unwrap_or_default(),
                user_code: user_code.clone(),
                approved: false,
            },
        );
    }
    let verify = format!("{}/ims/device/verify", st.base);
    Json(json!({
        "device_code": device_code, "user_code": user_code,
        "verification_uri": verify,
        "verification_uri_complete": format!("{verify}?user_code={user_code}"),
        "expires_in": 600, "interval": 1
    }))
    .into_response()
}

/// The user "types" the code: approves the matching device grant.
async fn device_verify(State(st): State<St>, Query(q): Query<HashMap<String, String>>) -> Response {
    let code = q.get("user_code").cloned().unwrap_or_default();
    let found = st.inner.lock().ok().is_some_and(|mut i| {
        i.devices
            .values_mut()
            .find(|d| d.user_code == code)
            .map(|d| d.approved = true)
            .is_some()
    });
    if found {
        Html("<!doctype html><html><body><h1>Device approved</h1><p>Return to your device.</p></body></html>").into_response()
    } else {
        html_error(StatusCode::BAD_REQUEST, "Unknown code.")
    }
}

async fn revoke(
    State(st): State<St>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let client = match authenticate(&st.cfg, &headers, &f) {
        Ok(c) => c.client_id.clone(),
        Err(r) => return r,
    };
    let Some(t) = f.get("token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is required",
        );
    };
    if let Ok(mut i) = st.inner.lock() {
        i.stats.revocations += 1;
        if i.access.get(t).is_some_and(|a| a.client_id == client) {
            i.access.remove(t);
        }
        if i.refresh.get(t).is_some_and(|a| a.client_id == client) {
            i.refresh.remove(t);
        }
    }
    StatusCode::OK.into_response()
}

async fn userinfo(State(st): State<St>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .map(str::trim);
    let valid = token.and_then(|t| {
        let i = st.inner.lock().ok()?;
        let a = i.access.get(t)?;
        (a.expires > Instant::now()).then(|| a.sub.clone())
    });
    match valid {
        Some(Some(_)) => Json(json!({
            "sub": st.cfg.user.sub, "email": st.cfg.user.email,
            "name": st.cfg.user.name, "email_verified": true
        }))
        .into_response(),
        Some(None) => Json(json!({"sub": "service-account"})).into_response(),
        None => {
            let mut r = oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is invalid or expired",
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_rules() {
        let cfg = ImsConfig::default();
        let c = &cfg.clients[0];
        assert!(redirect_allowed(&cfg, c, "https://localhost:8443/callback").is_ok());
        assert!(redirect_allowed(&cfg, c, "http://127.0.0.1:5/callback").is_ok());
        assert!(redirect_allowed(&cfg, c, "https://localhost:8443/other").is_err());
        let strict = ImsConfig {
            allow_http_loopback: false,
            ..ImsConfig::default()
        };
        assert!(
            redirect_allowed(&strict, &strict.clients[0], "http://127.0.0.1:5/callback").is_err()
        );
    }
}
