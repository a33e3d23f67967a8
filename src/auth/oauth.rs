//! Talking to the provider: discovery, the token endpoint (code exchange, refresh,
//! client credentials, device code), revocation and userinfo.
//!
//! Written by hand on a non-redirecting `reqwest::Client` rather than through the
//! `oauth2` crate: the pieces this module must get right are exactly the ones the crate
//! hides or fixes (Adobe's comma scopes and millisecond `expires_in`, custom parameters
//! per request kind, turning RFC 6749 JSON, problem+json, HTML and 5xx answers plus an
//! `x-debug-id` into one sentence), and each request is a single form POST.

use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use url::Url;

use super::AuthError;
use super::profile::{ClientAuth, ParamUse, Profile};
use crate::secret::{Secret, SecretSet};

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
    crate::process::install_crypto_provider();
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
        jwks_uri: None,
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
    e.jwks_uri = get("jwks_uri");
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
            && !crate::net::is_loopback(u)
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

/// A token endpoint answer.
#[derive(Clone)]
pub struct TokenResponse {
    pub access_token: Secret,
    pub token_type: Option<String>,
    pub expires_in: Option<i64>,
    pub refresh_token: Option<Secret>,
    pub id_token: Option<Secret>,
    pub scope: Option<String>,
}

/// `expires_in` in seconds: values over 10^7 are milliseconds (older Adobe endpoints).
pub fn normalize_expires_in(v: i64) -> i64 {
    if v > 10_000_000 { v / 1000 } else { v }
}

fn parse_token_response(v: &Value) -> Option<TokenResponse> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let access = s("access_token")?;
    let expires_in = match v.get("expires_in") {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(x)) => x.trim().parse().ok(),
        _ => None,
    }
    .map(normalize_expires_in);
    Some(TokenResponse {
        access_token: Secret::new(access),
        token_type: s("token_type"),
        expires_in,
        refresh_token: s("refresh_token")
            .filter(|r| !r.is_empty())
            .map(Secret::new),
        id_token: s("id_token").filter(|r| !r.is_empty()).map(Secret::new),
        scope: s("scope"),
    })
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

/// POST a form to the token endpoint with the profile's client authentication and
/// custom parameters. `invalid_grant` comes back as [`AuthError::InvalidGrant`].
pub async fn token_request(
    http: &reqwest::Client,
    p: &Profile,
    token_url: &Url,
    kind: TokenRequestKind,
    mut form: Vec<(String, String)>,
    secrets: &SecretSet,
) -> Result<TokenResponse, AuthError> {
    for cp in &p.custom_params {
        if matches!(cp.use_in, ParamUse::Everywhere | ParamUse::TokenRequest) {
            form.push((cp.name.clone(), cp.value.clone()));
        }
    }
    let req = http
        .post(token_url.clone())
        .header(reqwest::header::ACCEPT, "application/json");
    let resp = post_form(req, p, form).await.map_err(|e| {
        AuthError::Network(format!(
            "the token endpoint {} could not be reached: {}",
            origin(token_url),
            network_reason(&e)
        ))
    })?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    if (200..300).contains(&status)
        && let Ok(v) = serde_json::from_str::<Value>(&text)
        && let Some(t) = parse_token_response(&v)
    {
        return Ok(t);
    }
    let (msg, code) = describe_failure(kind.what(), status, &headers, &text, secrets);
    if (200..300).contains(&status) && code.is_none() {
        return Err(AuthError::Provider(format!(
            "the provider's answer to the {} has no access_token",
            kind.what()
        )));
    }
    match code.as_deref() {
        Some("invalid_grant") if kind == TokenRequestKind::Refresh => {
            Err(AuthError::InvalidGrant(msg))
        }
        Some("authorization_pending") | Some("slow_down") if kind == TokenRequestKind::Device => {
            Err(AuthError::Pending(code.unwrap_or_default()))
        }
        _ => Err(AuthError::Provider(msg)),
    }
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

/// Send `form` with the profile's client authentication: HTTP Basic with the id and
/// secret form-urlencoded first (RFC 6749 2.3.1), or both in the body, or the id alone
/// (public clients).
async fn post_form(
    mut req: reqwest::RequestBuilder,
    p: &Profile,
    mut form: Vec<(String, String)>,
) -> Result<reqwest::Response, reqwest::Error> {
    match (p.client_auth, &p.client_secret) {
        (ClientAuth::Basic, Some(secret)) => {
            let enc =
                |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            let cred = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                enc(&p.client_id),
                enc(secret.expose())
            ));
            req = req.header(reqwest::header::AUTHORIZATION, format!("Basic {cred}"));
        }
        (ClientAuth::InBody, Some(secret)) => {
            form.push(("client_id".into(), p.client_id.clone()));
            form.push(("client_secret".into(), secret.expose().to_string()));
        }
        _ => form.push(("client_id".into(), p.client_id.clone())),
    }
    req.header(
        reqwest::header::CONTENT_TYPE,
        "application/x-www-form-urlencoded",
    )
    .body(form_body(&form))
    .send()
    .await
}

/// Revoke a token (RFC 7009); failures are reported but do not stop a sign-out.
pub async fn revoke(
    http: &reqwest::Client,
    p: &Profile,
    revoke_url: &Url,
    token: &str,
    hint: &str,
) -> Result<(), AuthError> {
    let form = vec![
        ("token".to_string(), token.to_string()),
        ("token_type_hint".to_string(), hint.to_string()),
    ];
    let resp = post_form(http.post(revoke_url.clone()), p, form)
        .await
        .map_err(|e| {
            AuthError::Network(format!(
                "the revocation endpoint {} could not be reached: {}",
                origin(revoke_url),
                network_reason(&e)
            ))
        })?;
    let status = resp.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let mut secrets = SecretSet::new();
    secrets.add(token);
    Err(AuthError::Provider(
        describe_failure("revocation", status, &headers, &text, &secrets).0,
    ))
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
}
