//! Talking to the provider. The OAuth 2.0 exchanges (the authorization URL with PKCE,
//! code exchange, refresh, client credentials, device authorization and its polling,
//! revocation) go through the `oauth2` crate; discovery and userinfo are OpenID Connect
//! reads that crate does not have, and stay plain GETs here.
//!
//! The crate is driven through [`Wire`], its HTTP client: the project's own
//! non-redirecting `reqwest::Client` (no second HTTP or TLS stack, no redirect that
//! could carry a code elsewhere). The wire also keeps each raw answer (status, headers,
//! body), because the crate's errors lose the status and headers: the sentences users
//! see (RFC 6749 JSON, problem+json, HTML, 5xx, Adobe's `x-debug-id`) are made from that
//! raw answer by [`describe_failure`], as before the crate. What the crate is given is
//! the answer as httplens has always read it (see [`Wire`]): any 2xx counts as success,
//! a JSON body counts as JSON whatever its content type, and a 2xx carrying an OAuth
//! `error` (GitHub's device flow does that) is an error.
//!
//! Adobe IMS's quirks live in [`ProviderTokenResponse`], the crate's token-response type
//! here: `expires_in` in seconds or milliseconds ([`normalize_expires_in`]), scopes kept
//! as the provider wrote them (comma-separated for IMS), the ID token carried through for
//! `idtoken.rs` to verify. Scopes are handed to the crate as one value written with the
//! profile's separator, so IMS gets `AdobeID,openid` and not a space-joined list.
//!
//! One deviation is handled at the wire: `oauth2` refuses a revocation URL that is not
//! https (`ConfigurationError::InsecureUrl`), while httplens allows plain http to
//! loopback hosts for every endpoint (local servers; the test peers). Such a revocation
//! URL is given to the crate in its https spelling, and the wire sends that one request
//! to the original http loopback URL (exactly that URL, nothing else).
//!
//! Device polling runs the crate's loop (interval, `authorization_pending`, `slow_down`)
//! under httplens's own deadline, and stops at the first request that gets no answer:
//! the crate would back off and retry silently until its deadline. No exchange is left
//! written by hand.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AccessToken, AsyncHttpClient, AuthType, AuthorizationCode, ClientId, ClientSecret,
    DeviceAuthorizationUrl, ErrorResponse, HttpRequest, HttpResponse, PkceCodeVerifier,
    RedirectUrl, RefreshToken, RequestTokenError, RevocationUrl, Scope,
    StandardDeviceAuthorizationResponse, StandardRevocableToken, TokenUrl,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::AuthError;
use super::profile::{ClientAuth, ParamUse, Profile};
use crate::secret::{Secret, SecretSet};
use crate::{net, process};

/// Endpoints of one provider, from the profile, the preset or discovery.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub auth_url: Option<Url>,
    pub token_url: Option<Url>,
    pub revoke_url: Option<Url>,
    pub userinfo_url: Option<Url>,
    pub device_auth_url: Option<Url>,
    pub issuer: Option<String>,
    /// The metadata says the provider sends `iss` in authorization responses (RFC 9207).
    pub iss_supported: bool,
    /// Published signing keys: ID tokens are verified against them.
    pub jwks_uri: Option<Url>,
}

/// The client used for every provider call: no redirects (a token endpoint that
/// redirects is misconfigured, and following it could send the code elsewhere).
pub fn http_client() -> reqwest::Client {
    process::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("httplens/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// The profile's endpoints, discovering from `Issuer` when the profile asks for it.
pub async fn endpoints(http: &reqwest::Client, p: &Profile) -> Result<Endpoints, AuthError> {
    let mut e = Endpoints {
        auth_url: p.auth_url.clone(),
        token_url: p.token_url.clone(),
        revoke_url: p.revoke_url.clone(),
        userinfo_url: p.userinfo_url.clone(),
        device_auth_url: p.device_auth_url.clone(),
        issuer: p.issuer.clone(),
        iss_supported: false,
        jwks_uri: p.jwks_uri.clone(),
    };
    if !p.discover {
        return Ok(e);
    }
    let issuer = p.issuer.clone().unwrap_or_default();
    let md = discover(http, &issuer).await?;
    let get = |k: &str| {
        md.get(k)
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok())
    };
    e.auth_url = e.auth_url.or_else(|| get("authorization_endpoint"));
    e.token_url = e.token_url.or_else(|| get("token_endpoint"));
    e.revoke_url = e.revoke_url.or_else(|| get("revocation_endpoint"));
    e.userinfo_url = e.userinfo_url.or_else(|| get("userinfo_endpoint"));
    e.device_auth_url = e
        .device_auth_url
        .or_else(|| get("device_authorization_endpoint"));
    e.jwks_uri = e.jwks_uri.or_else(|| get("jwks_uri"));
    e.iss_supported = md
        .get("authorization_response_iss_parameter_supported")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    for (name, u) in [
        ("authorization", &e.auth_url),
        ("token", &e.token_url),
        ("revocation", &e.revoke_url),
        ("userinfo", &e.userinfo_url),
        ("device authorization", &e.device_auth_url),
        ("signing keys (jwks_uri)", &e.jwks_uri),
    ] {
        if let Some(u) = u
            && u.scheme() == "http"
            && !net::is_loopback(u)
        {
            return Err(AuthError::Config(format!(
                "the provider's {name} endpoint uses plain http to a host that is not loopback; refusing to send credentials there"
            )));
        }
    }
    if e.token_url.is_none() {
        return Err(AuthError::Config(format!(
            "the discovery document of {issuer} has no token_endpoint"
        )));
    }
    Ok(e)
}

/// Fetch `<issuer>/.well-known/openid-configuration` (then the RFC 8414 location) and
/// check that its `issuer` is exactly the configured one (a mix-up defence).
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<Value, AuthError> {
    let issuer = issuer.trim_end_matches('/');
    let mut last_err = String::new();
    let candidates = [
        format!("{issuer}/.well-known/openid-configuration"),
        oauth_metadata_url(issuer),
    ];
    for url in candidates {
        match http.get(&url).send().await {
            Ok(r) if r.status().is_success() => {
                let md: Value = r.json().await.map_err(|_| {
                    AuthError::Provider(format!("the discovery document at {url} is not JSON"))
                })?;
                let got = md.get("issuer").and_then(Value::as_str).unwrap_or("");
                if got.trim_end_matches('/') != issuer {
                    return Err(AuthError::Provider(format!(
                        "the discovery document at {url} names the issuer `{got}`, not the configured `{issuer}`; refusing it"
                    )));
                }
                return Ok(md);
            }
            Ok(r) => last_err = format!("HTTP {}", r.status().as_u16()),
            Err(e) => last_err = network_reason(&e),
        }
    }
    Err(AuthError::Provider(format!(
        "OpenID discovery from `{issuer}` failed ({last_err})"
    )))
}

fn oauth_metadata_url(issuer: &str) -> String {
    match Url::parse(issuer) {
        Ok(u) => {
            let path = u.path().trim_end_matches('/');
            let mut base = u.clone();
            base.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
            base.to_string()
        }
        Err(_) => format!("{issuer}/.well-known/oauth-authorization-server"),
    }
}

pub fn network_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "it did not answer in time".into()
    } else if e.is_connect() {
        "the connection failed".into()
    } else {
        // reqwest errors may carry the URL; never query strings with codes in them.
        let mut s = e.to_string();
        if let Some(i) = s.find('?') {
            s.truncate(i);
        }
        s
    }
}

/// A token endpoint answer, as the rest of httplens keeps it.
#[derive(Clone)]
pub struct TokenResponse {
    pub access_token: Secret,
    pub token_type: Option<String>,
    pub expires_in: Option<i64>,
    pub refresh_token: Option<Secret>,
    pub id_token: Option<Secret>,
    /// The scopes granted, exactly as the provider wrote them (comma-separated at IMS).
    pub scope: Option<String>,
}

/// `expires_in` in seconds: values over 10^7 are milliseconds (older Adobe endpoints).
pub fn normalize_expires_in(v: i64) -> i64 {
    if v > 10_000_000 { v / 1000 } else { v }
}

/// The token-response type handed to the `oauth2` crate. Read as leniently as httplens
/// always has: only `access_token` is required; `token_type` may be missing;
/// `expires_in` may be a number or a string, in seconds or (Adobe's older endpoints)
/// milliseconds; `scope` is kept as written, and [`oauth2::TokenResponse::scopes`] splits
/// it on commas as well as spaces; `id_token` comes through for `idtoken.rs`.
#[derive(Clone)]
pub struct ProviderTokenResponse {
    access_token: AccessToken,
    token_type: BasicTokenType,
    token_type_raw: Option<String>,
    expires_in: Option<i64>,
    refresh_token: Option<RefreshToken>,
    id_token: Option<Secret>,
    scope: Option<String>,
    scopes: Option<Vec<Scope>>,
}

impl std::fmt::Debug for ProviderTokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tokens' own Debug is redacted; say no more than which are there.
        f.debug_struct("ProviderTokenResponse")
            .field("token_type", &self.token_type_raw)
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &self.refresh_token.is_some())
            .field("id_token", &self.id_token.is_some())
            .field("scope", &self.scope)
            .finish()
    }
}

impl ProviderTokenResponse {
    /// Read a token endpoint's JSON; `None` without a string `access_token`.
    pub fn from_json(v: &Value) -> Option<Self> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let access = s("access_token")?;
        let expires_in = match v.get("expires_in") {
            Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Some(Value::String(x)) => x.trim().parse().ok(),
            _ => None,
        }
        .map(normalize_expires_in);
        let token_type_raw = s("token_type");
        let token_type = match token_type_raw.as_deref().map(str::to_ascii_lowercase) {
            None => BasicTokenType::Bearer,
            Some(t) if t == "bearer" => BasicTokenType::Bearer,
            Some(t) if t == "mac" => BasicTokenType::Mac,
            Some(t) => BasicTokenType::Extension(t),
        };
        let scope = s("scope");
        let scopes = scope.as_deref().map(|s| {
            s.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(|s| Scope::new(s.to_string()))
                .collect()
        });
        Some(ProviderTokenResponse {
            access_token: AccessToken::new(access),
            token_type,
            token_type_raw,
            expires_in,
            refresh_token: s("refresh_token")
                .filter(|r| !r.is_empty())
                .map(RefreshToken::new),
            id_token: s("id_token").filter(|r| !r.is_empty()).map(Secret::new),
            scope,
            scopes,
        })
    }

    /// The ID token, when the provider sent one (verified by `idtoken.rs`).
    pub fn id_token(&self) -> Option<&Secret> {
        self.id_token.as_ref()
    }

    /// The granted scopes as the provider wrote them.
    pub fn scope_as_written(&self) -> Option<&str> {
        self.scope.as_deref()
    }
}

impl<'de> Deserialize<'de> for ProviderTokenResponse {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Self::from_json(&v)
            .ok_or_else(|| serde::de::Error::custom("the answer has no string `access_token`"))
    }
}

impl Serialize for ProviderTokenResponse {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = serde_json::Map::new();
        m.insert(
            "access_token".into(),
            self.access_token.secret().clone().into(),
        );
        if let Some(t) = &self.token_type_raw {
            m.insert("token_type".into(), t.clone().into());
        }
        if let Some(e) = self.expires_in {
            m.insert("expires_in".into(), e.into());
        }
        if let Some(r) = &self.refresh_token {
            m.insert("refresh_token".into(), r.secret().clone().into());
        }
        if let Some(i) = &self.id_token {
            m.insert("id_token".into(), i.expose().into());
        }
        if let Some(sc) = &self.scope {
            m.insert("scope".into(), sc.clone().into());
        }
        Value::Object(m).serialize(s)
    }
}

impl oauth2::TokenResponse for ProviderTokenResponse {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in
            .map(|s| Duration::from_secs(u64::try_from(s).unwrap_or(0)))
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

impl From<ProviderTokenResponse> for TokenResponse {
    fn from(t: ProviderTokenResponse) -> Self {
        TokenResponse {
            access_token: Secret::new(t.access_token.into_secret()),
            token_type: t.token_type_raw,
            // Kept signed: a provider's negative or zero lifetime means "expired now".
            expires_in: t.expires_in,
            refresh_token: t.refresh_token.map(|r| Secret::new(r.into_secret())),
            id_token: t.id_token,
            scope: t.scope,
        }
    }
}

/// One answer as it came off the wire, kept for the error sentences.
#[derive(Clone)]
struct RawAnswer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

/// Why a request never got an answer (connection refused, timeout), already worded by
/// [`network_reason`].
#[derive(Debug)]
pub struct WireError(String);

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WireError {}

/// The `oauth2` crate's HTTP client: the project's non-redirecting `reqwest::Client`
/// (see [`http_client`]), plus what the crate does not keep. One `Wire` serves one
/// exchange (several requests for device polling).
///
/// What the crate is shown is the answer as httplens has always read it, so no provider
/// that worked before stops working: any 2xx is success (the crate wants exactly 200;
/// some revocation endpoints answer 204), a body that parses as JSON is JSON whatever
/// its `Content-Type` (the crate rejects anything but `application/json`), and a 2xx
/// whose JSON carries an `error` and no `access_token` is an error answer (GitHub's
/// device flow polls that way). The raw answer itself is kept for [`describe_failure`].
pub struct Wire {
    http: reqwest::Client,
    last: Mutex<Option<RawAnswer>>,
    network: Mutex<Option<String>>,
    network_failed: tokio::sync::Notify,
    /// `(the https spelling given to the crate, the real http loopback URL)`: see the
    /// module doc (revocation only).
    plain_loopback: Option<(String, Url)>,
    /// Only the status matters (revocation): a 2xx is success whatever its body says.
    status_only: bool,
}

impl Wire {
    pub fn new(http: &reqwest::Client) -> Self {
        Wire {
            http: http.clone(),
            last: Mutex::new(None),
            network: Mutex::new(None),
            network_failed: tokio::sync::Notify::new(),
            plain_loopback: None,
            status_only: false,
        }
    }

    /// The answer handed to the crate (see the type's doc).
    fn present(
        &self,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: Vec<u8>,
    ) -> HttpResponse {
        let json = serde_json::from_slice::<Value>(&body).ok();
        let ok = (200..300).contains(&status);
        let oauth_error = !self.status_only
            && json.as_ref().is_some_and(|v| {
                v.get("error").and_then(Value::as_str).is_some() && v.get("access_token").is_none()
            });
        let status = match (ok, oauth_error) {
            (true, true) => 400,
            (true, false) => 200,
            _ => status,
        };
        let mut b = oauth2::http::Response::builder().status(status);
        if json.is_some() {
            b = b.header(reqwest::header::CONTENT_TYPE, "application/json");
        } else if let Some(ct) = headers.get(reqwest::header::CONTENT_TYPE) {
            b = b.header(reqwest::header::CONTENT_TYPE, ct.clone());
        }
        b.body(body).unwrap_or_default()
    }

    /// What went wrong, from the raw answer when there was one.
    fn failure<TE: ErrorResponse + 'static>(
        &self,
        e: RequestTokenError<WireError, TE>,
        what: &str,
        secrets: &SecretSet,
    ) -> Failure {
        if let RequestTokenError::Request(w) = &e {
            return Failure::Network(w.0.clone());
        }
        match self.last.lock().ok().and_then(|l| l.clone()) {
            Some(a) => {
                let (msg, code) = describe_failure(what, a.status, &a.headers, &a.body, secrets);
                Failure::Answer {
                    msg,
                    code,
                    ok_status: (200..300).contains(&a.status),
                }
            }
            None => Failure::Local(secrets.mask(&e.to_string())),
        }
    }

    /// Resolves when a request of this wire failed without an answer.
    async fn network_failure(&self) -> String {
        self.network_failed.notified().await;
        self.network
            .lock()
            .ok()
            .and_then(|n| n.clone())
            .unwrap_or_default()
    }
}

impl<'c> AsyncHttpClient<'c> for Wire {
    type Error = WireError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, WireError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut target = parts.uri.to_string();
            if let Some((given, real)) = &self.plain_loopback
                && *given == target
            {
                target = real.to_string();
            }
            let sent = self
                .http
                .request(parts.method, target)
                .headers(parts.headers)
                .body(body)
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    let reason = network_reason(&e);
                    if let Ok(mut n) = self.network.lock() {
                        *n = Some(reason.clone());
                    }
                    self.network_failed.notify_one();
                    return Err(WireError(reason));
                }
            };
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            if let Ok(mut l) = self.last.lock() {
                *l = Some(RawAnswer {
                    status,
                    headers: headers.clone(),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
            }
            Ok(self.present(status, &headers, body))
        })
    }
}

/// A failed exchange, before it is worded for its kind.
enum Failure {
    /// No answer: the reason.
    Network(String),
    /// An answer that is not what was asked for, as one sentence (and its OAuth code).
    Answer {
        msg: String,
        code: Option<String>,
        ok_status: bool,
    },
    /// The request could not even be made (the crate's own complaint).
    Local(String),
}

/// Turn any failed answer into one sentence: RFC 6749 JSON, problem+json, HTML or 5xx,
/// plus Adobe's `x-debug-id`. Known secrets are masked in whatever is quoted.
pub fn describe_failure(
    what: &str,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &str,
    secrets: &SecretSet,
) -> (String, Option<String>) {
    let debug_id = headers
        .get("x-debug-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| format!(" (x-debug-id: {})", v.chars().take(80).collect::<String>()))
        .unwrap_or_default();
    let ctype = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let clip = |s: &str| -> String {
        let s = secrets.mask(s.trim());
        let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
        one.chars().take(300).collect()
    };
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        if let Some(code) = v.get("error").and_then(Value::as_str) {
            let desc = v
                .get("error_description")
                .and_then(Value::as_str)
                .map(|d| format!(": {}", clip(d)))
                .unwrap_or_default();
            return (
                format!(
                    "the provider refused the {what} with `{}`{desc} (HTTP {status}){debug_id}",
                    clip(code)
                ),
                Some(code.to_string()),
            );
        }
        if ctype.contains("problem+json") || v.get("title").is_some() || v.get("detail").is_some() {
            let title = v.get("title").and_then(Value::as_str).unwrap_or("error");
            let detail = v
                .get("detail")
                .and_then(Value::as_str)
                .map(|d| format!(": {}", clip(d)))
                .unwrap_or_default();
            return (
                format!(
                    "the provider refused the {what}: {}{detail} (HTTP {status}){debug_id}",
                    clip(title)
                ),
                None,
            );
        }
    }
    if status >= 500 {
        return (
            format!(
                "the provider failed while handling the {what} (HTTP {status}); try again later{debug_id}"
            ),
            None,
        );
    }
    if ctype.contains("html") || body.trim_start().starts_with('<') {
        return (
            format!(
                "the provider answered the {what} with an HTML page (HTTP {status}) instead of OAuth JSON; check the profile's URLs{debug_id}"
            ),
            None,
        );
    }
    (
        format!("the provider answered the {what} with HTTP {status} and no OAuth error{debug_id}"),
        None,
    )
}

/// What a token request is for: decides custom parameters and wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRequestKind {
    Code,
    Refresh,
    ClientCredentials,
    Device,
}

impl TokenRequestKind {
    fn what(self) -> &'static str {
        match self {
            TokenRequestKind::Code => "code exchange",
            TokenRequestKind::Refresh => "token refresh",
            TokenRequestKind::ClientCredentials => "client-credentials token request",
            TokenRequestKind::Device => "device-code token request",
        }
    }
}

/// The `oauth2` client of a profile, before any endpoint is set: its id and client
/// authentication. HTTP Basic with id and secret form-urlencoded first (RFC 6749
/// 2.3.1), or both in the body, or the id alone in the body (public clients, and
/// `"Client Credentials": "none"` even when a secret is written).
pub type BareClient = oauth2::Client<
    BasicErrorResponse,
    ProviderTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
>;

pub fn client(p: &Profile) -> BareClient {
    let c = oauth2::Client::new(ClientId::new(p.client_id.clone()));
    match (p.client_auth, &p.client_secret) {
        (ClientAuth::Basic, Some(secret)) => c
            .set_auth_type(AuthType::BasicAuth)
            .set_client_secret(ClientSecret::new(secret.expose().to_string())),
        (ClientAuth::InBody, Some(secret)) => c
            .set_auth_type(AuthType::RequestBody)
            .set_client_secret(ClientSecret::new(secret.expose().to_string())),
        _ => c.set_auth_type(AuthType::RequestBody),
    }
}

/// The profile's scopes as one value, joined with its separator (`,` for IMS): the crate
/// joins several with spaces, which IMS would not read.
pub fn scope(p: &Profile) -> Option<Scope> {
    (!p.scopes.is_empty()).then(|| Scope::new(p.scope_param()))
}

/// Custom parameters of the profile that go where `wanted` says.
pub fn custom_params(p: &Profile, wanted: ParamUse) -> Vec<(String, String)> {
    p.custom_params
        .iter()
        .filter(|cp| cp.use_in == ParamUse::Everywhere || cp.use_in == wanted)
        .map(|cp| (cp.name.clone(), cp.value.clone()))
        .collect()
}

/// A token request's outcome, worded for its kind. `invalid_grant` on refresh comes back
/// as [`AuthError::InvalidGrant`].
fn token_outcome(
    r: Result<ProviderTokenResponse, RequestTokenError<WireError, impl ErrorResponse + 'static>>,
    wire: &Wire,
    kind: TokenRequestKind,
    token_url: &Url,
    secrets: &SecretSet,
) -> Result<TokenResponse, AuthError> {
    let e = match r {
        Ok(t) => return Ok(t.into()),
        Err(e) => e,
    };
    Err(token_failure(
        wire.failure(e, kind.what(), secrets),
        kind,
        token_url,
    ))
}

fn token_failure(f: Failure, kind: TokenRequestKind, token_url: &Url) -> AuthError {
    match f {
        Failure::Network(reason) => AuthError::Network(format!(
            "the token endpoint {} could not be reached: {reason}",
            origin(token_url)
        )),
        Failure::Answer {
            code: None,
            ok_status: true,
            ..
        } => AuthError::Provider(format!(
            "the provider's answer to the {} has no access_token",
            kind.what()
        )),
        Failure::Answer {
            msg,
            code: Some(code),
            ..
        } if code == "invalid_grant" && kind == TokenRequestKind::Refresh => {
            AuthError::InvalidGrant(msg)
        }
        Failure::Answer { msg, .. } => AuthError::Provider(msg),
        Failure::Local(m) => {
            AuthError::Provider(format!("the {} could not be sent: {m}", kind.what()))
        }
    }
}

/// Exchange an authorization code (with its PKCE verifier) at the token endpoint; the
/// `redirect_uri` is sent byte-identical to the one in the authorization request.
pub async fn exchange_code(
    http: &reqwest::Client,
    p: &Profile,
    token_url: &Url,
    redirect_uri: &str,
    code: &str,
    verifier: Option<&Secret>,
    secrets: &SecretSet,
) -> Result<TokenResponse, AuthError> {
    let redirect = RedirectUrl::new(redirect_uri.to_string())
        .map_err(|e| AuthError::Config(format!("the redirect URI is not a URL ({e})")))?;
    let c = client(p)
        .set_token_uri(TokenUrl::from_url(token_url.clone()))
        .set_redirect_uri(redirect);
    let mut req = c.exchange_code(AuthorizationCode::new(code.to_string()));
    if let Some(v) = verifier {
        req = req.set_pkce_verifier(PkceCodeVerifier::new(v.expose().to_string()));
    }
    for (k, v) in custom_params(p, ParamUse::TokenRequest) {
        req = req.add_extra_param(k, v);
    }
    let wire = Wire::new(http);
    let r = req.request_async(&wire).await;
    token_outcome(r, &wire, TokenRequestKind::Code, token_url, secrets)
}

/// Refresh (RFC 6749 section 6), asking for the profile's scopes again.
pub async fn refresh(
    http: &reqwest::Client,
    p: &Profile,
    token_url: &Url,
    refresh_token: &str,
    secrets: &SecretSet,
) -> Result<TokenResponse, AuthError> {
    let c = client(p).set_token_uri(TokenUrl::from_url(token_url.clone()));
    let rt = RefreshToken::new(refresh_token.to_string());
    let mut req = c.exchange_refresh_token(&rt);
    if let Some(s) = scope(p) {
        req = req.add_scope(s);
    }
    for (k, v) in custom_params(p, ParamUse::TokenRequest) {
        req = req.add_extra_param(k, v);
    }
    let wire = Wire::new(http);
    let r = req.request_async(&wire).await;
    token_outcome(r, &wire, TokenRequestKind::Refresh, token_url, secrets)
}

/// The client credentials grant (server to server).
pub async fn client_credentials(
    http: &reqwest::Client,
    p: &Profile,
    token_url: &Url,
    secrets: &SecretSet,
) -> Result<TokenResponse, AuthError> {
    let c = client(p).set_token_uri(TokenUrl::from_url(token_url.clone()));
    let mut req = c.exchange_client_credentials();
    if let Some(s) = scope(p) {
        req = req.add_scope(s);
    }
    for (k, v) in custom_params(p, ParamUse::TokenRequest) {
        req = req.add_extra_param(k, v);
    }
    let wire = Wire::new(http);
    let r = req.request_async(&wire).await;
    token_outcome(
        r,
        &wire,
        TokenRequestKind::ClientCredentials,
        token_url,
        secrets,
    )
}

/// What the device authorization endpoint answered (RFC 8628 3.2).
pub type DeviceAuthorization = StandardDeviceAuthorizationResponse;

/// Start a device authorization (RFC 8628 3.1): the user code and where to enter it.
pub async fn device_authorize(
    http: &reqwest::Client,
    p: &Profile,
    device_auth_url: &Url,
    secrets: &SecretSet,
) -> Result<DeviceAuthorization, AuthError> {
    let c = client(p)
        .set_device_authorization_url(DeviceAuthorizationUrl::from_url(device_auth_url.clone()));
    let mut req = c.exchange_device_code();
    if let Some(s) = scope(p) {
        req = req.add_scope(s);
    }
    let wire = Wire::new(http);
    let r: Result<DeviceAuthorization, _> = req.request_async(&wire).await;
    r.map_err(|e| match wire.failure(e, "device authorization", secrets) {
        Failure::Network(reason) => AuthError::Network(format!(
            "the device authorization endpoint {} could not be reached: {reason}",
            origin(device_auth_url)
        )),
        Failure::Answer { msg, .. } => AuthError::Provider(msg),
        Failure::Local(m) => {
            AuthError::Provider(format!("the device authorization could not be sent: {m}"))
        }
    })
}

/// Poll the token endpoint until the user approves the device (the crate keeps the
/// interval, `authorization_pending` and `slow_down`), at most `timeout`. A request that
/// gets no answer ends the wait at once with its reason (the crate would back off and
/// retry silently until the deadline).
pub async fn device_poll(
    http: &reqwest::Client,
    p: &Profile,
    token_url: &Url,
    details: &DeviceAuthorization,
    timeout: Duration,
    secrets: &SecretSet,
) -> Result<TokenResponse, AuthError> {
    let c = client(p).set_token_uri(TokenUrl::from_url(token_url.clone()));
    let mut req = c.exchange_device_access_token(details);
    for (k, v) in custom_params(p, ParamUse::TokenRequest) {
        req = req.add_extra_param(k, v);
    }
    let wire = Wire::new(http);
    // The deadline is ours (below): the crate's own is set past it, so its synthetic
    // "expired" never stands in for a timeout. A zero interval is read as one second.
    let poll = req.request_async(
        &wire,
        |d: Duration| tokio::time::sleep(d.max(Duration::from_secs(1))),
        Some(timeout + Duration::from_secs(3600)),
    );
    let r = tokio::select! {
        r = poll => r,
        reason = wire.network_failure() => {
            return Err(token_failure(Failure::Network(reason), TokenRequestKind::Device, token_url));
        }
        _ = tokio::time::sleep(timeout) => return Err(AuthError::Timeout(timeout.as_secs())),
    };
    token_outcome(r, &wire, TokenRequestKind::Device, token_url, secrets)
}

/// `application/x-www-form-urlencoded` body (a plain function: the serializer is not
/// `Send`, so it must not live across an await).
pub fn form_body(form: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter())
        .finish()
}

pub fn origin(u: &Url) -> String {
    u.origin().ascii_serialization()
}

/// Which token a revocation is for (the `token_type_hint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocable {
    Access,
    Refresh,
}

/// Revoke a token (RFC 7009); failures are reported but do not stop a sign-out.
pub async fn revoke(
    http: &reqwest::Client,
    p: &Profile,
    revoke_url: &Url,
    token: &str,
    which: Revocable,
) -> Result<(), AuthError> {
    let mut wire = Wire::new(http);
    wire.status_only = true;
    let mut given = revoke_url.clone();
    if revoke_url.scheme() == "http" && net::is_loopback(revoke_url) {
        // See the module doc: the crate takes only https; the wire sends this one URL
        // to the loopback address over http, as every other endpoint may.
        let _ = given.set_scheme("https");
        wire.plain_loopback = Some((given.to_string(), revoke_url.clone()));
    }
    let c = client(p).set_revocation_url(RevocationUrl::from_url(given));
    let t = match which {
        Revocable::Access => StandardRevocableToken::AccessToken(AccessToken::new(token.into())),
        Revocable::Refresh => StandardRevocableToken::RefreshToken(RefreshToken::new(token.into())),
    };
    let req = c.revoke_token(t).map_err(|_| {
        AuthError::Config(format!(
            "the revocation endpoint {} is not https; the token was not sent there",
            origin(revoke_url)
        ))
    })?;
    let mut secrets = SecretSet::new();
    secrets.add(token);
    if let Some(s) = &p.client_secret {
        secrets.add_secret(s);
    }
    req.request_async(&wire)
        .await
        .map_err(|e| match wire.failure(e, "revocation", &secrets) {
            Failure::Network(reason) => AuthError::Network(format!(
                "the revocation endpoint {} could not be reached: {reason}",
                origin(revoke_url)
            )),
            Failure::Answer { msg, .. } => AuthError::Provider(msg),
            Failure::Local(m) => {
                AuthError::Provider(format!("the revocation could not be sent: {m}"))
            }
        })
}

/// The claims of a JWT's payload, without checking anything: used only to pick the
/// account name to show, never for a decision.
pub fn jwt_claims(jwt: &str) -> Option<Value> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The account to show: ID token `email` > `preferred_username` > `name` > userinfo
/// `email` > `sub` (the ID token's, else the userinfo's).
pub async fn account_name(
    http: &reqwest::Client,
    id_token: Option<&Secret>,
    userinfo_url: Option<&Url>,
    access_token: &Secret,
) -> Option<String> {
    let claims = id_token.and_then(|t| jwt_claims(t.expose()));
    let claim = |c: &Option<Value>, k: &str| {
        c.as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    for k in ["email", "preferred_username", "name"] {
        if let Some(v) = claim(&claims, k) {
            return Some(v);
        }
    }
    let mut info = None;
    if let Some(u) = userinfo_url {
        let r = http
            .get(u.clone())
            .bearer_auth(access_token.expose())
            .send()
            .await;
        if let Ok(r) = r
            && r.status().is_success()
        {
            info = r.json::<Value>().await.ok();
        }
    }
    claim(&info, "email")
        .or_else(|| claim(&claims, "sub"))
        .or_else(|| claim(&info, "sub"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ms_expiry() {
        assert_eq!(normalize_expires_in(3600), 3600);
        assert_eq!(normalize_expires_in(86_399_000), 86_399);
    }

    #[test]
    fn failure_shapes() {
        let mut h = reqwest::header::HeaderMap::new();
        let s = SecretSet::new();
        let (m, c) = describe_failure(
            "code exchange",
            400,
            &h,
            r#"{"error":"invalid_grant","error_description":"code expired"}"#,
            &s,
        );
        assert_eq!(c.as_deref(), Some("invalid_grant"));
        assert!(
            m.contains("invalid_grant") && m.contains("code expired"),
            "{m}"
        );
        h.insert("x-debug-id", "dbg-1".parse().unwrap());
        h.insert("content-type", "application/problem+json".parse().unwrap());
        let (m, _) = describe_failure("x", 403, &h, r#"{"title":"Forbidden","detail":"nope"}"#, &s);
        assert!(m.contains("Forbidden: nope") && m.contains("dbg-1"), "{m}");
        h.insert("content-type", "text/html".parse().unwrap());
        let (m, _) = describe_failure("x", 404, &h, "<html>oops</html>", &s);
        assert!(m.contains("HTML page"), "{m}");
        let (m, _) = describe_failure("x", 502, &h, "<html>bad gateway</html>", &s);
        assert!(m.contains("HTTP 502") && !m.contains('\n'), "{m}");
    }

    #[test]
    fn failure_masks_secrets() {
        let mut s = SecretSet::new();
        s.add("sekrit-code");
        let (m, _) = describe_failure(
            "x",
            400,
            &Default::default(),
            r#"{"error":"invalid_grant","error_description":"code sekrit-code is used"}"#,
            &s,
        );
        assert!(!m.contains("sekrit-code"));
    }

    #[test]
    fn claims() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"sub":"1","email":"a@b.test"}"#);
        let c = jwt_claims(&format!("x.{payload}.y")).unwrap();
        assert_eq!(c["email"], "a@b.test");
        assert!(jwt_claims("garbage").is_none());
    }

    // ---- the exchanges through the `oauth2` crate, against a local peer ----

    use std::sync::Arc;

    use crate::auth::profile::parse_profiles;

    /// One request the peer saw: path, `Authorization`, form body.
    #[derive(Clone, Debug)]
    struct Seen {
        path: String,
        authorization: Option<String>,
        form: Vec<(String, String)>,
    }

    impl Seen {
        fn get(&self, k: &str) -> Option<&str> {
            self.form
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        }
    }

    type Answer = (u16, &'static str, String);

    /// A peer on 127.0.0.1 that records every request and answers with `answer(path,
    /// how many requests came before)`: (status, content type, body). Every answer
    /// carries `x-debug-id: dbg-7`.
    async fn peer(
        answer: impl Fn(&str, usize) -> Answer + Send + Sync + 'static,
    ) -> (String, Arc<Mutex<Vec<Seen>>>) {
        let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
        let answer = Arc::new(answer);
        let s2 = seen.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: String| {
                let seen = s2.clone();
                let answer = answer.clone();
                async move {
                    let n = {
                        let mut v = seen.lock().unwrap();
                        v.push(Seen {
                            path: uri.path().to_string(),
                            authorization: headers
                                .get("authorization")
                                .and_then(|h| h.to_str().ok())
                                .map(str::to_string),
                            form: url::form_urlencoded::parse(body.as_bytes())
                                .into_owned()
                                .collect(),
                        });
                        v.len() - 1
                    };
                    let (status, ctype, body) = answer(uri.path(), n);
                    axum::response::Response::builder()
                        .status(status)
                        .header("content-type", ctype)
                        .header("x-debug-id", "dbg-7")
                        .body(axum::body::Body::from(body))
                        .unwrap()
                }
            },
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        });
        (base, seen)
    }

    fn profile_of(v: Value) -> Profile {
        let (mut p, _) =
            parse_profiles(&serde_json::json!({ "p": v }), &|s: &str| Ok(s.to_string()));
        p.remove(0)
    }

    fn seen(s: &Arc<Mutex<Vec<Seen>>>) -> Vec<Seen> {
        s.lock().unwrap().clone()
    }

    #[test]
    fn ims_token_response_through_the_crate_type() {
        use oauth2::TokenResponse as _;
        let t: ProviderTokenResponse = serde_json::from_str(
            r#"{"access_token":"at","expires_in":"86399000","scope":"AdobeID,openid email",
                "refresh_token":"rt","id_token":"a.b.c"}"#,
        )
        .unwrap();
        assert_eq!(t.expires_in(), Some(Duration::from_secs(86_399)));
        assert_eq!(t.token_type(), &BasicTokenType::Bearer, "missing: bearer");
        let scopes: Vec<&str> = t.scopes().unwrap().iter().map(|s| s.as_str()).collect();
        assert_eq!(scopes, ["AdobeID", "openid", "email"]);
        assert_eq!(t.scope_as_written(), Some("AdobeID,openid email"));
        assert_eq!(t.id_token().map(Secret::expose), Some("a.b.c"));
        // Debug never shows a token.
        let d = format!("{t:?}");
        assert!(
            !d.contains("at\"") && !d.contains("rt") && !d.contains("a.b.c"),
            "{d}"
        );
        let kept: TokenResponse = t.into();
        assert_eq!(kept.expires_in, Some(86_399));
        assert_eq!(kept.scope.as_deref(), Some("AdobeID,openid email"));
        assert!(kept.token_type.is_none());
        assert!(
            serde_json::from_str::<ProviderTokenResponse>(r#"{"token_type":"bearer"}"#).is_err()
        );
    }

    #[test]
    fn the_wire_shows_the_crate_what_httplens_always_accepted() {
        let w = Wire::new(&reqwest::Client::new());
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("content-type", "text/plain".parse().unwrap());
        let r = w.present(201, &h, br#"{"access_token":"x"}"#.to_vec());
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        let r = w.present(200, &h, br#"{"error":"authorization_pending"}"#.to_vec());
        assert_eq!(r.status().as_u16(), 400, "a 2xx OAuth error is an error");
        let r = w.present(502, &h, b"<html>bad</html>".to_vec());
        assert_eq!(r.status().as_u16(), 502);
        assert_eq!(r.headers()["content-type"], "text/plain");
        let mut w = Wire::new(&reqwest::Client::new());
        w.status_only = true;
        assert_eq!(w.present(204, &h, vec![]).status().as_u16(), 200);
        let r = w.present(200, &h, br#"{"error":"x"}"#.to_vec());
        assert_eq!(r.status().as_u16(), 200, "revocation reads the status only");
    }

    #[tokio::test]
    async fn client_authentication_scopes_and_custom_parameters() {
        process::install_crypto_provider();
        let (base, log) = peer(|_, _| {
            (
                200,
                "text/plain",
                r#"{"access_token":"at-1","expires_in":3600,"scope":"a,b"}"#.into(),
            )
        })
        .await;
        let http = http_client();
        let token_url = Url::parse(&format!("{base}/token")).unwrap();
        let params = serde_json::json!({
            "aud": {"Value": "api://x", "Use": "In Token Request"},
            "prompt": {"Value": "consent", "Use": "In Auth Request"},
            "tenant": {"Value": "t1", "Use": "Everywhere"}});
        for (auth, want_basic, want_secret_in_body) in [
            ("basic", true, false),
            ("in body", false, true),
            ("none", false, false),
        ] {
            let mut p = profile_of(serde_json::json!({
                "Type": "OAuth2", "Grant Type": "Client Credentials",
                "Token URL": token_url.as_str(), "Client ID": "id:1", "Client Secret": "s&2",
                "Client Credentials": auth, "Custom Request Parameters": params}));
            p.scopes = vec!["a".into(), "b".into()];
            p.scope_separator = ',';
            let t = client_credentials(&http, &p, &token_url, &SecretSet::new())
                .await
                .unwrap();
            assert_eq!(t.access_token.expose(), "at-1");
            assert_eq!(t.scope.as_deref(), Some("a,b"));
            let r = seen(&log).pop().unwrap();
            assert_eq!(r.get("grant_type"), Some("client_credentials"));
            assert_eq!(
                r.get("scope"),
                Some("a,b"),
                "one value, the profile's separator"
            );
            assert_eq!(r.get("aud"), Some("api://x"));
            assert_eq!(r.get("tenant"), Some("t1"));
            assert_eq!(r.get("prompt"), None, "an auth-request parameter");
            // RFC 6749 2.3.1: id and secret form-urlencoded, then Basic.
            let basic = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("id%3A1:s%262")
            );
            assert_eq!(
                r.authorization.as_deref() == Some(basic.as_str()),
                want_basic,
                "{auth}"
            );
            assert_eq!(
                r.get("client_secret") == Some("s&2"),
                want_secret_in_body,
                "{auth}"
            );
            assert_eq!(r.get("client_id").is_some(), !want_basic, "{auth}");
        }
    }

    #[tokio::test]
    async fn failures_are_worded_from_the_raw_answer() {
        process::install_crypto_provider();
        let (base, _) = peer(|path, _| match path {
            "/json" => (
                400,
                "application/json",
                r#"{"error":"invalid_client","error_description":"bad secret s3cr3t"}"#.into(),
            ),
            "/grant200" => (
                200,
                "application/json",
                r#"{"error":"invalid_grant"}"#.into(),
            ),
            "/html200" => (200, "text/html", "<html>login</html>".into()),
            "/html502" => (502, "text/html", "<html>\n bad gateway</html>".into()),
            "/problem" => (
                403,
                "application/problem+json",
                r#"{"title":"Forbidden","detail":"policy"}"#.into(),
            ),
            _ => (500, "text/plain", String::new()),
        })
        .await;
        let http = http_client();
        let p = profile_of(serde_json::json!({
            "Type": "OAuth2", "Grant Type": "Client Credentials",
            "Token URL": format!("{base}/json"), "Client ID": "c", "Client Secret": "s3cr3t"}));
        let mut secrets = SecretSet::new();
        secrets.add("s3cr3t");
        let u = |path: &str| Url::parse(&format!("{base}{path}")).unwrap();
        let e = client_credentials(&http, &p, &u("/json"), &secrets)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains(
                "refused the client-credentials token request with `invalid_client`: bad secret"
            ) && e.contains("(HTTP 400) (x-debug-id: dbg-7)")
                && !e.contains("s3cr3t"),
            "{e}"
        );
        let e = refresh(&http, &p, &u("/grant200"), "rt", &secrets)
            .await
            .err()
            .unwrap();
        assert!(matches!(e, AuthError::InvalidGrant(_)), "{e}");
        let e = exchange_code(
            &http,
            &p,
            &u("/html200"),
            "http://127.0.0.1/cb",
            "c",
            None,
            &secrets,
        )
        .await
        .err()
        .unwrap()
        .to_string();
        assert!(
            e.contains("answer to the code exchange has no access_token"),
            "{e}"
        );
        let e = client_credentials(&http, &p, &u("/html502"), &secrets)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("failed while handling") && e.contains("HTTP 502"),
            "{e}"
        );
        let e = client_credentials(&http, &p, &u("/problem"), &secrets)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("Forbidden: policy (HTTP 403)"), "{e}");
        let e = client_credentials(&http, &p, &u("/empty"), &secrets)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("HTTP 500"), "{e}");
        // Nobody listens on port 9 of loopback.
        let e = client_credentials(
            &http,
            &p,
            &Url::parse("http://127.0.0.1:9/t").unwrap(),
            &secrets,
        )
        .await
        .err()
        .unwrap();
        assert!(
            matches!(&e, AuthError::Network(m) if m.contains("token endpoint http://127.0.0.1:9 could not be reached")),
            "{e}"
        );
    }

    #[tokio::test]
    async fn revocation_reaches_a_loopback_http_endpoint_and_only_https_elsewhere() {
        process::install_crypto_provider();
        let (base, log) = peer(|_, _| (204, "text/plain", String::new())).await;
        let http = http_client();
        let p = profile_of(serde_json::json!({
            "Type": "OAuth2", "Grant Type": "Client Credentials",
            "Token URL": format!("{base}/token"), "Client ID": "c", "Client Secret": "s",
            "Client Credentials": "in body"}));
        let u = Url::parse(&format!("{base}/revoke")).unwrap();
        revoke(&http, &p, &u, "rt-9", Revocable::Refresh)
            .await
            .unwrap();
        let r = seen(&log).pop().unwrap();
        assert_eq!(r.path, "/revoke");
        assert_eq!(r.get("token"), Some("rt-9"));
        assert_eq!(r.get("token_type_hint"), Some("refresh_token"));
        assert_eq!(r.get("client_secret"), Some("s"));
        let before = seen(&log).len();
        let e = revoke(
            &http,
            &p,
            &Url::parse("http://revoke.example.test/r").unwrap(),
            "at",
            Revocable::Access,
        )
        .await
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("is not https"), "{e}");
        assert_eq!(seen(&log).len(), before);
    }

    #[tokio::test]
    async fn device_flow_polls_through_the_crate_and_stops_on_a_dead_endpoint() {
        process::install_crypto_provider();
        let (base, log) = peer(move |path, n| match path {
            "/device" => (
                200,
                "application/json",
                r#"{"device_code":"dc-1","user_code":"ABCD","verification_uri":"http://127.0.0.1/v","expires_in":600,"interval":0}"#
                    .to_string(),
            ),
            // GitHub style: "pending" with a 200, once; then the token.
            _ if n < 2 => (200, "application/json", r#"{"error":"authorization_pending"}"#.into()),
            _ => (200, "application/json", r#"{"access_token":"at-d","id_token":"h.p.s"}"#.into()),
        })
        .await;
        let http = http_client();
        let p = profile_of(serde_json::json!({
            "Type": "OAuth2", "Grant Type": "Device Authorization",
            "Token URL": format!("{base}/token"), "Device Auth URL": format!("{base}/device"),
            "Client ID": "dev", "Scope": "openid"}));
        let s = SecretSet::new();
        let d = device_authorize(
            &http,
            &p,
            &Url::parse(&format!("{base}/device")).unwrap(),
            &s,
        )
        .await
        .unwrap();
        assert_eq!(d.user_code().secret(), "ABCD");
        let token_url = Url::parse(&format!("{base}/token")).unwrap();
        let t = device_poll(&http, &p, &token_url, &d, Duration::from_secs(20), &s)
            .await
            .unwrap();
        assert_eq!(t.access_token.expose(), "at-d");
        assert_eq!(t.id_token.as_ref().map(Secret::expose), Some("h.p.s"));
        let polls: Vec<_> = seen(&log)
            .into_iter()
            .filter(|r| r.path == "/token")
            .collect();
        assert_eq!(polls.len(), 2);
        assert_eq!(polls[0].get("device_code"), Some("dc-1"));
        assert_eq!(
            polls[0].get("grant_type"),
            Some("urn:ietf:params:oauth:grant-type:device_code")
        );
        // A token endpoint that never answers ends the wait at once, with its reason.
        let dead = Url::parse("http://127.0.0.1:9/token").unwrap();
        let started = std::time::Instant::now();
        let e = device_poll(&http, &p, &dead, &d, Duration::from_secs(60), &s)
            .await
            .err()
            .unwrap();
        assert!(
            matches!(&e, AuthError::Network(m) if m.contains("could not be reached")),
            "{e}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
