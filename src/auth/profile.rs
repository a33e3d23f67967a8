//! Auth profiles: the JetBrains `Security.Auth.<id>` blocks read exactly, plus the
//! httplens keys `Issuer` (OpenID discovery) and `Preset: "adobe-ims"`. Parsing is
//! total: every missing or wrong key becomes a [`ProfileIssue`] naming the key, so the
//! editor can show it as a diagnostic instead of failing at send time.

use serde_json::Value;
use url::Url;

use crate::net;
use crate::secret::Secret;

/// Which OAuth grant a profile uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    AuthorizationCode,
    ClientCredentials,
    DeviceAuthorization,
}

impl Grant {
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::AuthorizationCode => "Authorization Code",
            Grant::ClientCredentials => "Client Credentials",
            Grant::DeviceAuthorization => "Device Authorization",
        }
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Basic,
    InBody,
    None,
}

/// PKCE as the profile asks for it: S256 unless written otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pkce {
    S256,
    Plain,
    Off,
}

/// Where a custom request parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamUse {
    Everywhere,
    AuthRequest,
    TokenRequest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomParam {
    pub name: String,
    pub value: String,
    pub use_in: ParamUse,
}

/// A provider whose facts httplens knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    AdobeIms,
}

/// The default Adobe IMS host (production, North America).
pub const ADOBE_IMS_HOST: &str = "https://ims-na1.adobelogin.com";
/// Scopes Adobe Commerce as a Cloud Service needs.
pub const ADOBE_ACCS_SCOPES: &str = "AdobeID,openid,email,profile,additional_info.roles,additional_info.projectedProductContext,commerce.accs";

/// One parsed auth profile. URLs may still be missing when `Issuer` is set: they come
/// from discovery at sign-in time (see `endpoints`).
#[derive(Debug, Clone)]
pub struct Profile {
    pub id: String,
    pub grant: Grant,
    pub auth_url: Option<Url>,
    pub token_url: Option<Url>,
    pub redirect_url: Url,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub client_auth: ClientAuth,
    /// Scopes in the order written.
    pub scopes: Vec<String>,
    /// `,` for Adobe IMS, else ` `.
    pub scope_separator: char,
    pub pkce: Pkce,
    pub acquire_automatically: bool,
    pub use_id_token: bool,
    pub custom_params: Vec<CustomParam>,
    pub device_auth_url: Option<Url>,
    pub revoke_url: Option<Url>,
    pub userinfo_url: Option<Url>,
    /// The provider's signing keys (JWKS) when the preset fixes them; otherwise they
    /// come from discovery (`oauth::endpoints`).
    pub jwks_uri: Option<Url>,
    /// The issuer identifier, from `Issuer` or the preset.
    pub issuer: Option<String>,
    /// Discover endpoints from `<Issuer>/.well-known/openid-configuration`.
    pub discover: bool,
    pub preset: Option<Preset>,
}

impl Profile {
    /// Does the profile ask for an ID token (the `openid` scope)? Then the authorization
    /// request carries a `nonce`.
    pub fn wants_id_token(&self) -> bool {
        self.scopes.iter().any(|s| s == "openid")
    }

    /// The scope parameter as sent.
    pub fn scope_param(&self) -> String {
        self.scopes.join(&self.scope_separator.to_string())
    }

    /// The store entry's account: `<profile>|<issuer, else token URL>|<client id>|<scopes
    /// sorted, space-separated>` (`docs/environments.md`, "Where tokens are kept").
    pub fn store_account(&self) -> String {
        let mut scopes = self.scopes.clone();
        scopes.sort();
        scopes.dedup();
        let origin = self
            .issuer
            .clone()
            .or_else(|| self.token_url.as_ref().map(|u| u.to_string()))
            .unwrap_or_default();
        format!(
            "{}|{}|{}|{}",
            self.id,
            origin,
            self.client_id,
            scopes.join(" ")
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueSeverity {
    Error,
    Warning,
    Hint,
}

/// A problem with one profile, naming the key it is about (for a diagnostic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileIssue {
    pub profile: String,
    /// The key the issue is about (`None`: the profile as a whole).
    pub key: Option<String>,
    pub severity: IssueSeverity,
    pub message: String,
}

struct Ctx<'a> {
    id: &'a str,
    obj: &'a serde_json::Map<String, Value>,
    resolve: &'a dyn Fn(&str) -> Result<String, String>,
    issues: Vec<ProfileIssue>,
    error: bool,
}

impl Ctx<'_> {
    fn issue(&mut self, key: Option<&str>, severity: IssueSeverity, message: String) {
        if severity == IssueSeverity::Error {
            self.error = true;
        }
        self.issues.push(ProfileIssue {
            profile: self.id.to_string(),
            key: key.map(str::to_string),
            severity,
            message,
        });
    }

    /// A string key with `{{variables}}` resolved; `None` when absent or wrong.
    fn string(&mut self, key: &str) -> Option<String> {
        let v = self.obj.get(key)?;
        let raw = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                self.issue(
                    Some(key),
                    IssueSeverity::Error,
                    format!("auth profile `{}`: `{key}` must be a string", self.id),
                );
                return None;
            }
        };
        match (self.resolve)(&raw) {
            Ok(s) => Some(s),
            Err(e) => {
                self.issue(
                    Some(key),
                    IssueSeverity::Error,
                    format!("auth profile `{}`: `{key}`: {e}", self.id),
                );
                None
            }
        }
    }

    fn bool(&mut self, key: &str, default: bool) -> bool {
        match self.obj.get(key) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(_) => {
                self.issue(
                    Some(key),
                    IssueSeverity::Error,
                    format!("auth profile `{}`: `{key}` must be true or false", self.id),
                );
                default
            }
        }
    }

    fn url(&mut self, key: &str) -> Option<Url> {
        let s = self.string(key)?;
        match parse_url(&s) {
            Ok(u) => Some(u),
            Err(e) => {
                self.issue(
                    Some(key),
                    IssueSeverity::Error,
                    format!("auth profile `{}`: `{key}` {e}", self.id),
                );
                None
            }
        }
    }
}

fn parse_url(s: &str) -> Result<Url, String> {
    let u = Url::parse(s.trim()).map_err(|e| format!("is not a valid URL ({e})"))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err("must be an http or https URL".to_string());
    }
    if u.scheme() == "http" && !net::is_loopback(&u) {
        return Err(
            "uses plain http to a host that is not loopback: tokens would travel unencrypted; use https"
                .to_string(),
        );
    }
    Ok(u)
}

const KNOWN_KEYS: &[&str] = &[
    "Type",
    "Grant Type",
    "Auth URL",
    "Token URL",
    "Redirect URL",
    "Client ID",
    "Client Secret",
    "Client Credentials",
    "Scope",
    "State",
    "PKCE",
    "Acquire Automatically",
    "Use ID Token",
    "Custom Request Parameters",
    "Device Auth URL",
    "Revoke URL",
    "Issuer",
    "Preset",
    // Keys other tools write that httplens accepts and does not need.
    "Username",
    "Password",
    "Token Endpoint Auth Method",
];

/// Parse every profile of a `Security.Auth` object. `resolve` expands `{{variables}}`
/// in a string value (an error is one sentence saying which variable is missing).
pub fn parse_profiles(
    auth: &Value,
    resolve: &dyn Fn(&str) -> Result<String, String>,
) -> (Vec<Profile>, Vec<ProfileIssue>) {
    let mut profiles = Vec::new();
    let mut issues = Vec::new();
    let Some(map) = auth.as_object() else {
        issues.push(ProfileIssue {
            profile: String::new(),
            key: Some("Security.Auth".into()),
            severity: IssueSeverity::Error,
            message: "`Security.Auth` must be an object of auth profiles".into(),
        });
        return (profiles, issues);
    };
    for (id, v) in map {
        let (p, mut iss) = parse_profile(id, v, resolve);
        issues.append(&mut iss);
        if let Some(p) = p {
            profiles.push(p);
        }
    }
    (profiles, issues)
}

/// Parse one profile; `None` when an error makes it unusable (the issues say why). Each
/// key group has its own function below, called in the order the issues come out.
pub fn parse_profile(
    id: &str,
    v: &Value,
    resolve: &dyn Fn(&str) -> Result<String, String>,
) -> (Option<Profile>, Vec<ProfileIssue>) {
    let Some(obj) = v.as_object() else {
        return (
            None,
            vec![ProfileIssue {
                profile: id.to_string(),
                key: None,
                severity: IssueSeverity::Error,
                message: format!("auth profile `{id}` must be an object"),
            }],
        );
    };
    let mut c = Ctx {
        id,
        obj,
        resolve,
        issues: Vec::new(),
        error: false,
    };
    unknown_keys(&mut c);
    let preset = preset_and_type(&mut c);
    let grant = grant(&mut c);
    let (client_id, client_secret) = client_id_and_secret(&mut c);
    let endpoints = endpoints(&mut c, grant, preset);
    let redirect_url = redirect_url(&mut c, grant, preset, endpoints.issuer.as_deref());
    let client_auth = client_auth(&mut c, grant, client_secret.is_some());
    let (scopes, scope_separator) = scopes(&mut c, grant, preset);
    fixed_state(&mut c);
    let pkce = pkce(&mut c, preset);
    let acquire_automatically = c.bool("Acquire Automatically", true);
    let use_id_token = c.bool("Use ID Token", false);
    let custom_params = custom_params(&mut c);

    if c.error {
        return (None, c.issues);
    }
    let Endpoints {
        auth_url,
        token_url,
        device_auth_url,
        revoke_url,
        userinfo_url,
        jwks_uri,
        issuer,
        discover,
    } = endpoints;
    let profile = Profile {
        id: id.to_string(),
        grant,
        auth_url,
        token_url,
        redirect_url,
        client_id,
        client_secret,
        client_auth,
        scopes,
        scope_separator,
        pkce,
        acquire_automatically,
        use_id_token,
        custom_params,
        device_auth_url,
        revoke_url,
        userinfo_url,
        jwks_uri,
        issuer,
        discover,
        preset,
    };
    (Some(profile), c.issues)
}

/// A key httplens does not know is a hint, never an error.
fn unknown_keys(c: &mut Ctx) {
    let (id, obj) = (c.id, c.obj);
    for k in obj.keys() {
        if !KNOWN_KEYS.contains(&k.as_str()) {
            c.issue(
                Some(k),
                IssueSeverity::Hint,
                format!("auth profile `{id}`: unknown key `{k}` is ignored"),
            );
        }
    }
}

/// `Preset`, then `Type` (which a preset makes optional).
fn preset_and_type(c: &mut Ctx) -> Option<Preset> {
    let id = c.id;
    let preset = match c.string("Preset").as_deref() {
        None => None,
        Some(p) if p.eq_ignore_ascii_case("adobe-ims") => Some(Preset::AdobeIms),
        Some(p) => {
            c.issue(
                Some("Preset"),
                IssueSeverity::Error,
                format!("auth profile `{id}`: unknown preset `{p}` (known: adobe-ims)"),
            );
            None
        }
    };
    match c.string("Type") {
        Some(t) if t.eq_ignore_ascii_case("OAuth2") => {}
        Some(t) => c.issue(
            Some("Type"),
            IssueSeverity::Error,
            format!("auth profile `{id}`: `Type` `{t}` is not supported; use \"OAuth2\""),
        ),
        None if preset.is_some() => {}
        None => c.issue(
            Some("Type"),
            IssueSeverity::Error,
            format!("auth profile `{id}` is missing the required key `Type` (\"OAuth2\")"),
        ),
    }
    preset
}

/// `Grant Type`: required; JetBrains' names, any case, `_` or `-` for spaces.
fn grant(c: &mut Ctx) -> Grant {
    let id = c.id;
    let Some(g) = c.string("Grant Type") else {
        c.issue(
            Some("Grant Type"),
            IssueSeverity::Error,
            format!("auth profile `{id}` is missing the required key `Grant Type`"),
        );
        return Grant::AuthorizationCode;
    };
    match g.to_ascii_lowercase().replace(['_', '-'], " ").as_str() {
        "authorization code" => Grant::AuthorizationCode,
        "client credentials" => Grant::ClientCredentials,
        "device authorization" | "device code" => Grant::DeviceAuthorization,
        _ => {
            c.issue(
                Some("Grant Type"),
                IssueSeverity::Error,
                format!(
                    "auth profile `{id}`: `Grant Type` `{g}` is not supported (use \"Authorization Code\", \"Client Credentials\" or \"Device Authorization\")"
                ),
            );
            Grant::AuthorizationCode
        }
    }
}

/// `Client ID` (required, not empty) and `Client Secret` (empty is none).
fn client_id_and_secret(c: &mut Ctx) -> (String, Option<Secret>) {
    let id = c.id;
    let client_id = c.string("Client ID").unwrap_or_else(|| {
        if !c.obj.contains_key("Client ID") {
            c.issue(
                Some("Client ID"),
                IssueSeverity::Error,
                format!("auth profile `{id}` is missing the required key `Client ID`"),
            );
        }
        String::new()
    });
    // Said only when nothing else is wrong yet: a variable that did not resolve has
    // said so already.
    if client_id.is_empty() && !c.error {
        c.issue(
            Some("Client ID"),
            IssueSeverity::Error,
            format!("auth profile `{id}`: `Client ID` is empty"),
        );
    }
    let client_secret = c
        .string("Client Secret")
        .filter(|s| !s.is_empty())
        .map(Secret::new);
    (client_id, client_secret)
}

/// Where sign-in goes: the URL keys as written, the preset's paths for the ones not
/// written, or discovery from `Issuer`.
struct Endpoints {
    auth_url: Option<Url>,
    token_url: Option<Url>,
    device_auth_url: Option<Url>,
    revoke_url: Option<Url>,
    userinfo_url: Option<Url>,
    jwks_uri: Option<Url>,
    issuer: Option<String>,
    discover: bool,
}

/// `Issuer` and the URL keys, the preset's expansion, and the keys the grant then
/// still needs.
fn endpoints(c: &mut Ctx, grant: Grant, preset: Option<Preset>) -> Endpoints {
    let issuer = issuer(c);
    let auth_url = c.url("Auth URL");
    let token_url = c.url("Token URL");
    let revoke_url = c.url("Revoke URL");
    let device_auth_url = c.url("Device Auth URL");
    let mut e = Endpoints {
        auth_url,
        token_url,
        device_auth_url,
        revoke_url,
        userinfo_url: None,
        jwks_uri: None,
        issuer,
        discover: false,
    };
    match preset {
        Some(Preset::AdobeIms) => expand_adobe_ims(&mut e),
        None => e.discover = e.issuer.is_some() && (e.auth_url.is_none() || e.token_url.is_none()),
    }
    require_endpoints(c, grant, preset, &e);
    e
}

/// `Issuer`: the discovery base, or the preset's host; without a trailing `/`.
fn issuer(c: &mut Ctx) -> Option<String> {
    let id = c.id;
    let issuer = c.string("Issuer")?.trim_end_matches('/').to_string();
    match parse_url(&issuer) {
        Ok(_) => Some(issuer),
        Err(e) => {
            c.issue(
                Some("Issuer"),
                IssueSeverity::Error,
                format!("auth profile `{id}`: `Issuer` {e}"),
            );
            None
        }
    }
}

/// The Adobe IMS paths on the issuer host (production by default; stage or a local
/// double through `Issuer`), for every URL key not written.
fn expand_adobe_ims(e: &mut Endpoints) {
    let host = e
        .issuer
        .clone()
        .unwrap_or_else(|| ADOBE_IMS_HOST.to_string());
    let at = |p: &str| Url::parse(&format!("{host}{p}")).ok();
    e.auth_url = e.auth_url.take().or_else(|| at("/ims/authorize/v2"));
    e.token_url = e.token_url.take().or_else(|| at("/ims/token/v3"));
    e.revoke_url = e.revoke_url.take().or_else(|| at("/ims/revoke"));
    e.userinfo_url = at("/ims/userinfo/v2");
    // Adobe publishes the keys that sign its ID tokens (RS256) at `/ims/keys`, the
    // `jwks_uri` of its openid-configuration. The host is the `Issuer`, already held to
    // the https rule (plain http only to loopback, the local double).
    e.jwks_uri = at("/ims/keys");
    e.issuer = Some(host);
}

/// The URL keys the grant needs that neither a preset nor discovery gives. A key that
/// is written but wrong has its own issue already.
fn require_endpoints(c: &mut Ctx, grant: Grant, preset: Option<Preset>, e: &Endpoints) {
    let id = c.id;
    if !e.discover && preset.is_none() {
        if grant == Grant::AuthorizationCode
            && e.auth_url.is_none()
            && !c.obj.contains_key("Auth URL")
        {
            c.issue(
                Some("Auth URL"),
                IssueSeverity::Error,
                format!(
                    "auth profile `{id}` is missing the required key `Auth URL` (or give `Issuer` for discovery)"
                ),
            );
        }
        if e.token_url.is_none() && !c.obj.contains_key("Token URL") {
            c.issue(
                Some("Token URL"),
                IssueSeverity::Error,
                format!(
                    "auth profile `{id}` is missing the required key `Token URL` (or give `Issuer` for discovery)"
                ),
            );
        }
    }
    if grant == Grant::DeviceAuthorization && e.device_auth_url.is_none() && !e.discover {
        c.issue(
            Some("Device Auth URL"),
            IssueSeverity::Error,
            format!("auth profile `{id}`: the Device Authorization grant needs `Device Auth URL`"),
        );
    }
}

/// `Redirect URL`: a loopback address httplens can listen on. Only the Authorization
/// Code grant uses it, so the other grants fall back to the default silently.
fn redirect_url(c: &mut Ctx, grant: Grant, preset: Option<Preset>, issuer: Option<&str>) -> Url {
    let id = c.id;
    let default_redirect = if preset == Some(Preset::AdobeIms) {
        "https://localhost/callback"
    } else {
        "http://127.0.0.1/callback"
    };
    let redirect_url = match c.string("Redirect URL") {
        None => Url::parse(default_redirect).expect("static URL"),
        Some(s) => match Url::parse(s.trim()) {
            Ok(u) if net::is_loopback(&u) && (u.scheme() == "http" || u.scheme() == "https") => u,
            Ok(_) if grant != Grant::AuthorizationCode => {
                Url::parse(default_redirect).expect("static URL")
            }
            Ok(u) => {
                c.issue(
                    Some("Redirect URL"),
                    IssueSeverity::Error,
                    format!(
                        "auth profile `{id}`: `Redirect URL` `{u}` must be a loopback address (http://127.0.0.1/... or https://localhost:PORT/...) so that httplens can receive the redirect"
                    ),
                );
                Url::parse(default_redirect).expect("static URL")
            }
            Err(e) => {
                c.issue(
                    Some("Redirect URL"),
                    IssueSeverity::Error,
                    format!("auth profile `{id}`: `Redirect URL` is not a valid URL ({e})"),
                );
                Url::parse(default_redirect).expect("static URL")
            }
        },
    };
    // Real IMS refuses http redirect URIs; a local IMS double (a loopback `Issuer`,
    // as in `httplens demo`) does not, so no warning there.
    let local_issuer = issuer
        .and_then(|i| Url::parse(i).ok())
        .and_then(|u| {
            u.host_str()
                .map(|h| matches!(h, "127.0.0.1" | "localhost" | "[::1]"))
        })
        .unwrap_or(false);
    if preset == Some(Preset::AdobeIms)
        && redirect_url.scheme() != "https"
        && grant == Grant::AuthorizationCode
        && !local_issuer
    {
        c.issue(
            Some("Redirect URL"),
            IssueSeverity::Warning,
            format!(
                "auth profile `{id}`: Adobe IMS accepts only https redirect URIs; `https://localhost:PORT/...` is what works"
            ),
        );
    }
    redirect_url
}

/// `Client Credentials` (how the client authenticates at the token endpoint; basic
/// when there is a secret, else none), and the secret the choice or the grant needs.
fn client_auth(c: &mut Ctx, grant: Grant, has_secret: bool) -> ClientAuth {
    let id = c.id;
    let client_auth = match c.string("Client Credentials") {
        None if has_secret => ClientAuth::Basic,
        None => ClientAuth::None,
        Some(s) => match s.to_ascii_lowercase().as_str() {
            "basic" => ClientAuth::Basic,
            "in body" | "in_body" | "body" => ClientAuth::InBody,
            "none" => ClientAuth::None,
            _ => {
                c.issue(
                    Some("Client Credentials"),
                    IssueSeverity::Error,
                    format!(
                        "auth profile `{id}`: `Client Credentials` `{s}` is not one of \"basic\", \"in body\", \"none\""
                    ),
                );
                ClientAuth::Basic
            }
        },
    };
    if matches!(client_auth, ClientAuth::Basic | ClientAuth::InBody)
        && !has_secret
        && c.obj.contains_key("Client Credentials")
        && grant != Grant::ClientCredentials
    {
        c.issue(
            Some("Client Secret"),
            IssueSeverity::Error,
            format!(
                "auth profile `{id}`: `Client Credentials` is `{}` but there is no `Client Secret` (put it in http-client.private.env.json)",
                if client_auth == ClientAuth::Basic { "basic" } else { "in body" }
            ),
        );
    }
    if grant == Grant::ClientCredentials && !has_secret {
        c.issue(
            Some("Client Secret"),
            IssueSeverity::Error,
            format!(
                "auth profile `{id}`: the Client Credentials grant needs `Client Secret` (put it in http-client.private.env.json)"
            ),
        );
    }
    client_auth
}

/// `Scope`, split on commas and white space, and the separator it is sent with (`,`
/// for Adobe IMS, whose preset also gives the default scopes).
fn scopes(c: &mut Ctx, grant: Grant, preset: Option<Preset>) -> (Vec<String>, char) {
    let ims = preset == Some(Preset::AdobeIms);
    let scope_str = c.string("Scope").unwrap_or_else(|| {
        if ims && grant == Grant::AuthorizationCode {
            ADOBE_ACCS_SCOPES.to_string()
        } else {
            String::new()
        }
    });
    let scopes = scope_str
        .split(|ch: char| ch == ',' || ch.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    (scopes, if ims { ',' } else { ' ' })
}

/// `State`: every sign-in makes its own, so a written one is only a hint.
fn fixed_state(c: &mut Ctx) {
    let id = c.id;
    if c.obj.contains_key("State") {
        c.issue(
            Some("State"),
            IssueSeverity::Hint,
            format!(
                "auth profile `{id}`: a fixed `State` is ignored: every sign-in gets a fresh random state"
            ),
        );
    }
}

/// `PKCE`: `true`, `false` or `{"Code Challenge Method": ...}`; S256 when absent, and
/// always for Adobe IMS.
fn pkce(c: &mut Ctx, preset: Option<Preset>) -> Pkce {
    let id = c.id;
    match c.obj.get("PKCE") {
        None | Some(Value::Bool(true)) => Pkce::S256,
        Some(Value::Bool(false)) if preset == Some(Preset::AdobeIms) => {
            c.issue(
                Some("PKCE"),
                IssueSeverity::Warning,
                format!(
                    "auth profile `{id}`: Adobe IMS sign-in always uses PKCE; `\"PKCE\": false` is ignored"
                ),
            );
            Pkce::S256
        }
        Some(Value::Bool(false)) => Pkce::Off,
        Some(Value::Object(o)) => {
            let method = o
                .get("Code Challenge Method")
                .and_then(Value::as_str)
                .unwrap_or("S256");
            if method.eq_ignore_ascii_case("plain") {
                c.issue(
                    Some("PKCE"),
                    IssueSeverity::Warning,
                    format!(
                        "auth profile `{id}`: the `Plain` code challenge method exposes the verifier; use S256 unless the provider cannot"
                    ),
                );
                Pkce::Plain
            } else if method.eq_ignore_ascii_case("s256") || method.eq_ignore_ascii_case("sha-256")
            {
                Pkce::S256
            } else {
                c.issue(
                    Some("PKCE"),
                    IssueSeverity::Error,
                    format!(
                        "auth profile `{id}`: unknown `Code Challenge Method` `{method}` (use \"S256\" or \"Plain\")"
                    ),
                );
                Pkce::S256
            }
        }
        Some(_) => {
            c.issue(
                Some("PKCE"),
                IssueSeverity::Error,
                format!(
                    "auth profile `{id}`: `PKCE` must be true, false or {{\"Code Challenge Method\": \"S256\"}}"
                ),
            );
            Pkce::S256
        }
    }
}

/// `Custom Request Parameters`: `{"name": "value"}` or `{"name": {"Value": ..., "Use":
/// ...}}`, values with `{{variables}}` resolved. A wrong parameter is left out.
fn custom_params(c: &mut Ctx) -> Vec<CustomParam> {
    let obj = c.obj;
    let Some(v) = obj.get("Custom Request Parameters") else {
        return Vec::new();
    };
    let Some(params) = v.as_object() else {
        let id = c.id;
        c.issue(
            Some("Custom Request Parameters"),
            IssueSeverity::Error,
            format!("auth profile `{id}`: `Custom Request Parameters` must be an object"),
        );
        return Vec::new();
    };
    params
        .iter()
        .filter_map(|(name, pv)| custom_param(c, name, pv))
        .collect()
}

fn custom_param(c: &mut Ctx, name: &str, pv: &Value) -> Option<CustomParam> {
    let id = c.id;
    let key = Some("Custom Request Parameters");
    let (raw, use_raw) = match pv {
        Value::String(s) => (Some(s.clone()), None),
        Value::Object(o) => (
            o.get("Value").and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            }),
            o.get("Use").and_then(Value::as_str).map(str::to_string),
        ),
        _ => (None, None),
    };
    let Some(raw) = raw else {
        c.issue(
            key,
            IssueSeverity::Error,
            format!("auth profile `{id}`: custom parameter `{name}` needs a string `Value`"),
        );
        return None;
    };
    let use_in = match use_raw.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("everywhere") => ParamUse::Everywhere,
        Some("in auth request") => ParamUse::AuthRequest,
        Some("in token request") => ParamUse::TokenRequest,
        Some(other) => {
            c.issue(
                key,
                IssueSeverity::Error,
                format!(
                    "auth profile `{id}`: custom parameter `{name}`: `Use` `{other}` is not one of \"Everywhere\", \"In Auth Request\", \"In Token Request\""
                ),
            );
            ParamUse::Everywhere
        }
    };
    match (c.resolve)(&raw) {
        Ok(value) => Some(CustomParam {
            name: name.to_string(),
            value,
            use_in,
        }),
        Err(e) => {
            c.issue(
                key,
                IssueSeverity::Error,
                format!("auth profile `{id}`: custom parameter `{name}`: {e}"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_vars(s: &str) -> Result<String, String> {
        if s.contains("{{") {
            Err("unknown variable".into())
        } else {
            Ok(s.to_string())
        }
    }

    #[test]
    fn full_profile() {
        let auth = json!({"shop": {
            "Type": "OAuth2", "Grant Type": "Authorization Code",
            "Auth URL": "https://login.example.test/authorize",
            "Token URL": "https://login.example.test/token",
            "Redirect URL": "http://127.0.0.1/callback",
            "Client ID": "dev-tools", "Client Secret": "s3cret",
            "Client Credentials": "in body",
            "Scope": "openid offline_access orders.read",
            "PKCE": {"Code Challenge Method": "Plain"},
            "State": "fixed",
            "Custom Request Parameters": {"audience": {"Value": "api", "Use": "In Token Request"}, "prompt": "login"}
        }});
        let (p, issues) = parse_profiles(&auth, &no_vars);
        let p = &p[0];
        assert_eq!(p.client_auth, ClientAuth::InBody);
        assert_eq!(p.pkce, Pkce::Plain);
        assert_eq!(p.scopes.len(), 3);
        assert_eq!(p.custom_params.len(), 2);
        assert_eq!(p.custom_params[0].use_in, ParamUse::TokenRequest);
        assert_eq!(p.custom_params[1].use_in, ParamUse::Everywhere);
        assert!(issues.iter().any(|i| i.key.as_deref() == Some("State")));
        assert!(
            issues
                .iter()
                .any(|i| i.key.as_deref() == Some("PKCE") && i.severity == IssueSeverity::Warning)
        );
        assert_eq!(
            p.store_account(),
            "shop|https://login.example.test/token|dev-tools|offline_access openid orders.read"
        );
    }

    #[test]
    fn missing_keys_named() {
        let auth = json!({"a": {"Type": "OAuth2"}, "b": {"Type": "OAuth2", "Grant Type": "Client Credentials", "Client ID": "x", "Token URL": "http://example.test/t"}});
        let (p, issues) = parse_profiles(&auth, &no_vars);
        assert!(p.is_empty());
        for key in ["Grant Type", "Client ID", "Auth URL", "Token URL"] {
            assert!(
                issues
                    .iter()
                    .any(|i| i.profile == "a" && i.key.as_deref() == Some(key)),
                "{key}: {issues:?}"
            );
        }
        // plain http to a non-loopback host, and no secret for client credentials
        assert!(
            issues
                .iter()
                .any(|i| i.profile == "b" && i.key.as_deref() == Some("Token URL"))
        );
        assert!(
            issues
                .iter()
                .any(|i| i.profile == "b" && i.key.as_deref() == Some("Client Secret"))
        );
    }

    #[test]
    fn unresolved_variable_is_an_issue() {
        let auth = json!({"a": {"Type": "OAuth2", "Grant Type": "Authorization Code", "Client ID": "{{cid}}", "Issuer": "https://id.example.test"}});
        let (p, issues) = parse_profiles(&auth, &no_vars);
        assert!(p.is_empty());
        assert!(issues.iter().any(|i| i.key.as_deref() == Some("Client ID")));
    }

    #[test]
    fn issuer_means_discovery() {
        let auth = json!({"a": {"Type": "OAuth2", "Grant Type": "Authorization Code", "Client ID": "c", "Issuer": "https://id.example.test/"}});
        let (p, issues) = parse_profiles(&auth, &no_vars);
        assert!(issues.is_empty(), "{issues:?}");
        assert!(p[0].discover);
        assert_eq!(p[0].issuer.as_deref(), Some("https://id.example.test"));
        assert_eq!(p[0].pkce, Pkce::S256);
        assert!(p[0].acquire_automatically);
    }

    #[test]
    fn adobe_preset() {
        let auth = json!({"ims": {"Preset": "adobe-ims", "Grant Type": "Authorization Code", "Client ID": "c", "Client Secret": "s", "PKCE": false}});
        let (p, issues) = parse_profiles(&auth, &no_vars);
        let p = &p[0];
        assert_eq!(
            p.token_url.as_ref().unwrap().as_str(),
            "https://ims-na1.adobelogin.com/ims/token/v3"
        );
        assert_eq!(p.scope_separator, ',');
        assert!(p.scope_param().starts_with("AdobeID,openid,"));
        assert_eq!(p.client_auth, ClientAuth::Basic);
        assert_eq!(p.pkce, Pkce::S256);
        assert_eq!(p.redirect_url.scheme(), "https");
        assert!(issues.iter().any(|i| i.key.as_deref() == Some("PKCE")));
        // ID tokens are verified against the keys Adobe publishes.
        assert_eq!(
            p.jwks_uri.as_ref().unwrap().as_str(),
            "https://ims-na1.adobelogin.com/ims/keys"
        );
    }

    /// The preset's signing keys live on the `Issuer` host, under the https rule of
    /// every other endpoint: stage over https, the local double over loopback http, and
    /// plain http elsewhere refused (no profile, an error at `Issuer`).
    #[test]
    fn adobe_preset_jwks_follows_the_https_rule() {
        let with_issuer = |issuer: &str| {
            let auth = json!({"ims": {"Preset": "adobe-ims", "Grant Type": "Authorization Code",
                "Client ID": "c", "Issuer": issuer}});
            parse_profiles(&auth, &no_vars)
        };
        let (p, _) = with_issuer("https://ims-na1-stg1.adobelogin.com");
        assert_eq!(
            p[0].jwks_uri.as_ref().unwrap().as_str(),
            "https://ims-na1-stg1.adobelogin.com/ims/keys"
        );
        let (p, _) = with_issuer("http://127.0.0.1:4567");
        assert_eq!(
            p[0].jwks_uri.as_ref().unwrap().as_str(),
            "http://127.0.0.1:4567/ims/keys"
        );
        let (p, issues) = with_issuer("http://ims.example.test");
        assert!(p.is_empty());
        assert!(
            issues
                .iter()
                .any(|i| i.key.as_deref() == Some("Issuer") && i.severity == IssueSeverity::Error),
            "{issues:?}"
        );
    }

    #[test]
    fn garbage_never_panics() {
        for v in [
            json!(null),
            json!([1]),
            json!({"a": 1}),
            json!({"a": {"PKCE": 3, "Custom Request Parameters": [1], "Redirect URL": "::"}}),
        ] {
            let _ = parse_profiles(&v, &no_vars);
        }
    }

    /// A usable Authorization Code profile; a case changes keys of it (`null` removes one).
    fn with(changes: Value) -> Value {
        let mut p = json!({
            "Type": "OAuth2", "Grant Type": "Authorization Code", "Client ID": "c",
            "Auth URL": "https://id.example.test/auth", "Token URL": "https://id.example.test/token"
        });
        for (k, v) in changes.as_object().unwrap() {
            match v {
                Value::Null => p.as_object_mut().unwrap().remove(k),
                v => p.as_object_mut().unwrap().insert(k.clone(), v.clone()),
            };
        }
        p
    }

    use IssueSeverity::{Error, Hint, Warning};

    /// Every issue a key group can raise: the changes to a usable profile, and the
    /// issues that come out, in order (key, severity, message).
    #[allow(clippy::type_complexity)]
    fn issue_cases() -> Vec<(
        &'static str,
        Value,
        Vec<(&'static str, IssueSeverity, &'static str)>,
    )> {
        vec![
            // Unknown keys.
            (
                "unknown key",
                json!({"Colour": "red", "Username": "u"}),
                vec![(
                    "Colour",
                    Hint,
                    "auth profile `p`: unknown key `Colour` is ignored",
                )],
            ),
            // Preset and type.
            (
                "unknown preset",
                json!({"Preset": "okta"}),
                vec![(
                    "Preset",
                    Error,
                    "auth profile `p`: unknown preset `okta` (known: adobe-ims)",
                )],
            ),
            (
                "other type",
                json!({"Type": "Basic"}),
                vec![(
                    "Type",
                    Error,
                    "auth profile `p`: `Type` `Basic` is not supported; use \"OAuth2\"",
                )],
            ),
            (
                "no type",
                json!({"Type": null}),
                vec![(
                    "Type",
                    Error,
                    "auth profile `p` is missing the required key `Type` (\"OAuth2\")",
                )],
            ),
            (
                "type not a string",
                json!({"Type": ["OAuth2"]}),
                vec![
                    ("Type", Error, "auth profile `p`: `Type` must be a string"),
                    (
                        "Type",
                        Error,
                        "auth profile `p` is missing the required key `Type` (\"OAuth2\")",
                    ),
                ],
            ),
            // Grant.
            (
                "no grant",
                json!({"Grant Type": null}),
                vec![(
                    "Grant Type",
                    Error,
                    "auth profile `p` is missing the required key `Grant Type`",
                )],
            ),
            (
                "other grant",
                json!({"Grant Type": "Implicit"}),
                vec![(
                    "Grant Type",
                    Error,
                    "auth profile `p`: `Grant Type` `Implicit` is not supported (use \"Authorization Code\", \"Client Credentials\" or \"Device Authorization\")",
                )],
            ),
            // Client ID and secret.
            (
                "no client id",
                json!({"Client ID": null}),
                vec![(
                    "Client ID",
                    Error,
                    "auth profile `p` is missing the required key `Client ID`",
                )],
            ),
            (
                "empty client id",
                json!({"Client ID": ""}),
                vec![("Client ID", Error, "auth profile `p`: `Client ID` is empty")],
            ),
            (
                "client id variable",
                json!({"Client ID": "{{cid}}"}),
                vec![(
                    "Client ID",
                    Error,
                    "auth profile `p`: `Client ID`: unknown variable",
                )],
            ),
            // Endpoints.
            (
                "issuer not a URL",
                json!({"Issuer": "id.example.test"}),
                vec![(
                    "Issuer",
                    Error,
                    "auth profile `p`: `Issuer` is not a valid URL (relative URL without a base)",
                )],
            ),
            (
                "issuer not http",
                json!({"Issuer": "ftp://id.example.test"}),
                vec![(
                    "Issuer",
                    Error,
                    "auth profile `p`: `Issuer` must be an http or https URL",
                )],
            ),
            (
                "plain http",
                json!({"Token URL": "http://id.example.test/token"}),
                vec![(
                    "Token URL",
                    Error,
                    "auth profile `p`: `Token URL` uses plain http to a host that is not loopback: tokens would travel unencrypted; use https",
                )],
            ),
            (
                "no endpoints",
                json!({"Auth URL": null, "Token URL": null}),
                vec![
                    (
                        "Auth URL",
                        Error,
                        "auth profile `p` is missing the required key `Auth URL` (or give `Issuer` for discovery)",
                    ),
                    (
                        "Token URL",
                        Error,
                        "auth profile `p` is missing the required key `Token URL` (or give `Issuer` for discovery)",
                    ),
                ],
            ),
            (
                "device grant without its URL",
                json!({"Grant Type": "Device Authorization"}),
                vec![(
                    "Device Auth URL",
                    Error,
                    "auth profile `p`: the Device Authorization grant needs `Device Auth URL`",
                )],
            ),
            // Redirect URL.
            (
                "redirect not loopback",
                json!({"Redirect URL": "https://app.example.test/cb"}),
                vec![(
                    "Redirect URL",
                    Error,
                    "auth profile `p`: `Redirect URL` `https://app.example.test/cb` must be a loopback address (http://127.0.0.1/... or https://localhost:PORT/...) so that httplens can receive the redirect",
                )],
            ),
            (
                "redirect not a URL",
                json!({"Redirect URL": "callback"}),
                vec![(
                    "Redirect URL",
                    Error,
                    "auth profile `p`: `Redirect URL` is not a valid URL (relative URL without a base)",
                )],
            ),
            (
                "ims over http",
                json!({"Preset": "adobe-ims", "Redirect URL": "http://127.0.0.1/cb"}),
                vec![(
                    "Redirect URL",
                    Warning,
                    "auth profile `p`: Adobe IMS accepts only https redirect URIs; `https://localhost:PORT/...` is what works",
                )],
            ),
            // Client authentication.
            (
                "other client credentials",
                json!({"Client Credentials": "jwt"}),
                vec![
                    (
                        "Client Credentials",
                        Error,
                        "auth profile `p`: `Client Credentials` `jwt` is not one of \"basic\", \"in body\", \"none\"",
                    ),
                    (
                        "Client Secret",
                        Error,
                        "auth profile `p`: `Client Credentials` is `basic` but there is no `Client Secret` (put it in http-client.private.env.json)",
                    ),
                ],
            ),
            (
                "in body without a secret",
                json!({"Client Credentials": "in body"}),
                vec![(
                    "Client Secret",
                    Error,
                    "auth profile `p`: `Client Credentials` is `in body` but there is no `Client Secret` (put it in http-client.private.env.json)",
                )],
            ),
            (
                "client credentials without a secret",
                json!({"Grant Type": "Client Credentials"}),
                vec![(
                    "Client Secret",
                    Error,
                    "auth profile `p`: the Client Credentials grant needs `Client Secret` (put it in http-client.private.env.json)",
                )],
            ),
            // Flow options.
            (
                "fixed state",
                json!({"State": "abc"}),
                vec![(
                    "State",
                    Hint,
                    "auth profile `p`: a fixed `State` is ignored: every sign-in gets a fresh random state",
                )],
            ),
            (
                "ims without pkce",
                json!({"Preset": "adobe-ims", "PKCE": false}),
                vec![(
                    "PKCE",
                    Warning,
                    "auth profile `p`: Adobe IMS sign-in always uses PKCE; `\"PKCE\": false` is ignored",
                )],
            ),
            (
                "plain pkce",
                json!({"PKCE": {"Code Challenge Method": "Plain"}}),
                vec![(
                    "PKCE",
                    Warning,
                    "auth profile `p`: the `Plain` code challenge method exposes the verifier; use S256 unless the provider cannot",
                )],
            ),
            (
                "other pkce method",
                json!({"PKCE": {"Code Challenge Method": "MD5"}}),
                vec![(
                    "PKCE",
                    Error,
                    "auth profile `p`: unknown `Code Challenge Method` `MD5` (use \"S256\" or \"Plain\")",
                )],
            ),
            (
                "pkce a number",
                json!({"PKCE": 1}),
                vec![(
                    "PKCE",
                    Error,
                    "auth profile `p`: `PKCE` must be true, false or {\"Code Challenge Method\": \"S256\"}",
                )],
            ),
            (
                "flag not a boolean",
                json!({"Acquire Automatically": "yes", "Use ID Token": 1}),
                vec![
                    (
                        "Acquire Automatically",
                        Error,
                        "auth profile `p`: `Acquire Automatically` must be true or false",
                    ),
                    (
                        "Use ID Token",
                        Error,
                        "auth profile `p`: `Use ID Token` must be true or false",
                    ),
                ],
            ),
            // Custom request parameters.
            (
                "parameters not an object",
                json!({"Custom Request Parameters": ["a"]}),
                vec![(
                    "Custom Request Parameters",
                    Error,
                    "auth profile `p`: `Custom Request Parameters` must be an object",
                )],
            ),
            (
                "parameter problems",
                json!({"Custom Request Parameters": {
                    "a": {"Use": "Everywhere"},
                    "b": {"Value": "x", "Use": "In Headers"},
                    "c": "{{v}}",
                }}),
                vec![
                    (
                        "Custom Request Parameters",
                        Error,
                        "auth profile `p`: custom parameter `a` needs a string `Value`",
                    ),
                    (
                        "Custom Request Parameters",
                        Error,
                        "auth profile `p`: custom parameter `b`: `Use` `in headers` is not one of \"Everywhere\", \"In Auth Request\", \"In Token Request\"",
                    ),
                    (
                        "Custom Request Parameters",
                        Error,
                        "auth profile `p`: custom parameter `c`: unknown variable",
                    ),
                ],
            ),
        ]
    }

    #[test]
    fn each_key_group_names_its_problems() {
        for (case, changes, want) in issue_cases() {
            let (p, issues) = parse_profile("p", &with(changes), &no_vars);
            let got: Vec<(&str, IssueSeverity, &str)> = issues
                .iter()
                .map(|i| {
                    (
                        i.key.as_deref().unwrap_or(""),
                        i.severity,
                        i.message.as_str(),
                    )
                })
                .collect();
            assert_eq!(got, want, "{case}");
            let unusable = want.iter().any(|(_, s, _)| *s == Error);
            assert_eq!(p.is_none(), unusable, "{case}");
        }
        let (_, issues) = parse_profile("p", &json!("OAuth2"), &no_vars);
        assert_eq!(issues[0].message, "auth profile `p` must be an object");
    }

    /// Messages are fragments: the renderer and the front ends present them, nobody
    /// strips a period later.
    #[test]
    fn messages_end_without_a_period() {
        let mut messages: Vec<String> = issue_cases()
            .into_iter()
            .flat_map(|(_, changes, _)| parse_profile("p", &with(changes), &no_vars).1)
            .map(|i| i.message)
            .collect();
        messages.extend(
            parse_profiles(&json!([]), &no_vars)
                .1
                .into_iter()
                .chain(parse_profile("p", &json!(1), &no_vars).1)
                .map(|i| i.message),
        );
        assert!(messages.len() > 30);
        for m in messages {
            assert!(
                !m.ends_with('.') && !m.ends_with(char::is_whitespace),
                "{m:?}"
            );
        }
    }

    /// What each key group makes of valid values.
    #[test]
    fn each_key_group_reads_its_values() {
        let read = |changes: Value| {
            let (p, issues) = parse_profile("p", &with(changes.clone()), &no_vars);
            assert!(
                issues.iter().all(|i| i.severity != Error),
                "{changes}: {issues:?}"
            );
            p.unwrap()
        };
        // Grant: JetBrains' names in any case, `_`/`-` for spaces.
        for (written, grant) in [
            ("authorization_code", Grant::AuthorizationCode),
            ("CLIENT-CREDENTIALS", Grant::ClientCredentials),
            ("device code", Grant::DeviceAuthorization),
        ] {
            let p = read(
                json!({"Grant Type": written, "Client Secret": "s", "Device Auth URL": "https://id.example.test/device"}),
            );
            assert_eq!(p.grant, grant, "{written}");
        }
        // Client authentication: basic with a secret, none without; an empty secret is none.
        for (changes, auth, secret) in [
            (json!({}), ClientAuth::None, false),
            (json!({"Client Secret": "s"}), ClientAuth::Basic, true),
            (json!({"Client Secret": ""}), ClientAuth::None, false),
            (
                json!({"Client Secret": "s", "Client Credentials": "BODY"}),
                ClientAuth::InBody,
                true,
            ),
            (
                json!({"Client Secret": "s", "Client Credentials": "none"}),
                ClientAuth::None,
                true,
            ),
        ] {
            let p = read(changes.clone());
            assert_eq!(
                (p.client_auth, p.client_secret.is_some()),
                (auth, secret),
                "{changes}"
            );
        }
        // Endpoints: discovery when `Issuer` leaves one out; the preset's paths on its host.
        let p = read(json!({"Issuer": "https://id.example.test/realms/a/", "Auth URL": null}));
        assert!(p.discover);
        assert_eq!(
            p.issuer.as_deref(),
            Some("https://id.example.test/realms/a")
        );
        assert_eq!(
            p.token_url.unwrap().as_str(),
            "https://id.example.test/token"
        );
        let p = read(json!({"Issuer": "https://id.example.test"}));
        assert!(!p.discover, "both URLs written: no discovery");
        let p = read(
            json!({"Preset": "adobe-ims", "Type": null, "Auth URL": null, "Token URL": null, "Issuer": "https://ims-na1-stg1.adobelogin.com"}),
        );
        assert_eq!(
            [&p.auth_url, &p.token_url, &p.revoke_url, &p.userinfo_url].map(|u| u
                .as_ref()
                .unwrap()
                .path()
                .to_string()),
            [
                "/ims/authorize/v2",
                "/ims/token/v3",
                "/ims/revoke",
                "/ims/userinfo/v2"
            ]
        );
        assert_eq!(
            p.auth_url.unwrap().host_str(),
            Some("ims-na1-stg1.adobelogin.com")
        );
        let p = read(json!({"Preset": "adobe-ims", "Auth URL": null}));
        assert_eq!(
            p.token_url.unwrap().as_str(),
            "https://id.example.test/token",
            "written URLs win"
        );
        assert_eq!(p.issuer.as_deref(), Some(ADOBE_IMS_HOST));
        assert!(!p.discover);
        // Redirect URL: the default, a loopback one as written; ignored by other grants.
        assert_eq!(
            read(json!({})).redirect_url.as_str(),
            "http://127.0.0.1/callback"
        );
        assert_eq!(
            read(json!({"Redirect URL": "https://localhost:9443/cb"}))
                .redirect_url
                .as_str(),
            "https://localhost:9443/cb"
        );
        let p = read(
            json!({"Grant Type": "Client Credentials", "Client Secret": "s", "Redirect URL": "https://app.example.test/cb"}),
        );
        assert_eq!(p.redirect_url.as_str(), "http://127.0.0.1/callback");
        // Scopes: commas and spaces; the IMS preset's defaults and separator.
        let p = read(json!({"Scope": "openid, orders.read  profile"}));
        assert_eq!(p.scope_param(), "openid orders.read profile");
        assert!(p.wants_id_token());
        let p = read(json!({"Preset": "adobe-ims"}));
        assert_eq!(p.scope_param(), ADOBE_ACCS_SCOPES);
        let p = read(
            json!({"Preset": "adobe-ims", "Grant Type": "Client Credentials", "Client Secret": "s"}),
        );
        assert!(p.scopes.is_empty(), "no default scopes for a service");
        // Flow options.
        for (changes, pkce) in [
            (json!({}), Pkce::S256),
            (json!({"PKCE": false}), Pkce::Off),
            (
                json!({"PKCE": {"Code Challenge Method": "SHA-256"}}),
                Pkce::S256,
            ),
            (json!({"PKCE": {}}), Pkce::S256),
        ] {
            assert_eq!(read(changes.clone()).pkce, pkce, "{changes}");
        }
        let p = read(json!({"Acquire Automatically": "FALSE", "Use ID Token": true}));
        assert!(!p.acquire_automatically && p.use_id_token);
        // Custom request parameters: where each goes, numbers as text.
        let p = read(json!({"Custom Request Parameters": {
            "audience": "api",
            "max_age": {"Value": 60, "Use": "in auth request"},
            "resource": {"Value": "urn:x", "Use": "In Token Request"},
        }}));
        let got: Vec<(&str, &str, ParamUse)> = p
            .custom_params
            .iter()
            .map(|c| (c.name.as_str(), c.value.as_str(), c.use_in))
            .collect();
        assert_eq!(
            got,
            [
                ("audience", "api", ParamUse::Everywhere),
                ("max_age", "60", ParamUse::AuthRequest),
                ("resource", "urn:x", ParamUse::TokenRequest),
            ]
        );
    }
}
