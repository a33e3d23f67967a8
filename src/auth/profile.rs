//! Auth profiles: the JetBrains `Security.Auth.<id>` blocks read exactly, plus the
//! httplens keys `Issuer` (OpenID discovery) and `Preset: "adobe-ims"`. Parsing is
//! total: every missing or wrong key becomes a [`ProfileIssue`] naming the key, so the
//! editor can show it as a diagnostic instead of failing at send time.

use serde_json::Value;
use url::Url;

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
                    format!("auth profile `{}`: `{key}` must be a string.", self.id),
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
                    format!("auth profile `{}`: `{key}` must be true or false.", self.id),
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
    let u = Url::parse(s.trim()).map_err(|e| format!("is not a valid URL ({e})."))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err("must be an http or https URL.".to_string());
    }
    if u.scheme() == "http" && !crate::net::is_loopback(&u) {
        return Err(
            "uses plain http to a host that is not loopback: tokens would travel unencrypted; use https."
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
            message: "`Security.Auth` must be an object of auth profiles.".into(),
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

/// Parse one profile; `None` when an error makes it unusable (the issues say why).
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
                message: format!("auth profile `{id}` must be an object."),
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
    for k in obj.keys() {
        if !KNOWN_KEYS.contains(&k.as_str()) {
            c.issue(
                Some(k),
                IssueSeverity::Hint,
                format!("auth profile `{id}`: unknown key `{k}` is ignored."),
            );
        }
    }

    let preset = match c.string("Preset").as_deref() {
        None => None,
        Some(p) if p.eq_ignore_ascii_case("adobe-ims") => Some(Preset::AdobeIms),
        Some(p) => {
            c.issue(
                Some("Preset"),
                IssueSeverity::Error,
                format!("auth profile `{id}`: unknown preset `{p}` (known: adobe-ims)."),
            );
            None
        }
    };

    match c.string("Type") {
        Some(t) if t.eq_ignore_ascii_case("OAuth2") => {}
        Some(t) => c.issue(
            Some("Type"),
            IssueSeverity::Error,
            format!("auth profile `{id}`: `Type` `{t}` is not supported; use \"OAuth2\"."),
        ),
        None if preset.is_some() => {}
        None => c.issue(
            Some("Type"),
            IssueSeverity::Error,
            format!("auth profile `{id}` is missing the required key `Type` (\"OAuth2\")."),
        ),
    }

    let grant = match c.string("Grant Type") {
        Some(g) => match g.to_ascii_lowercase().replace(['_', '-'], " ").as_str() {
            "authorization code" => Grant::AuthorizationCode,
            "client credentials" => Grant::ClientCredentials,
            "device authorization" | "device code" => Grant::DeviceAuthorization,
            _ => {
                c.issue(
                    Some("Grant Type"),
                    IssueSeverity::Error,
                    format!(
                        "auth profile `{id}`: `Grant Type` `{g}` is not supported (use \"Authorization Code\", \"Client Credentials\" or \"Device Authorization\")."
                    ),
                );
                Grant::AuthorizationCode
            }
        },
        None => {
            c.issue(
                Some("Grant Type"),
                IssueSeverity::Error,
                format!("auth profile `{id}` is missing the required key `Grant Type`."),
            );
            Grant::AuthorizationCode
        }
    };

    let client_id = c.string("Client ID").unwrap_or_else(|| {
        if !c.obj.contains_key("Client ID") {
            c.issue(
                Some("Client ID"),
                IssueSeverity::Error,
                format!("auth profile `{id}` is missing the required key `Client ID`."),
            );
        }
        String::new()
    });
    if client_id.is_empty() && !c.error {
        c.issue(
            Some("Client ID"),
            IssueSeverity::Error,
            format!("auth profile `{id}`: `Client ID` is empty."),
        );
    }
    let client_secret = c
        .string("Client Secret")
        .filter(|s| !s.is_empty())
        .map(Secret::new);

    // Issuer: discovery base, or the preset's host.
    let issuer_raw = c
        .string("Issuer")
        .map(|s| s.trim_end_matches('/').to_string());
    let mut issuer = None;
    if let Some(i) = &issuer_raw {
        match parse_url(i) {
            Ok(_) => issuer = Some(i.clone()),
            Err(e) => c.issue(
                Some("Issuer"),
                IssueSeverity::Error,
                format!("auth profile `{id}`: `Issuer` {e}"),
            ),
        }
    }

    let mut auth_url = c.url("Auth URL");
    let mut token_url = c.url("Token URL");
    let mut revoke_url = c.url("Revoke URL");
    let device_auth_url = c.url("Device Auth URL");
    let mut userinfo_url = None;
    let mut jwks_uri = None;
    let mut discover = false;

    if preset == Some(Preset::AdobeIms) {
        // The preset's paths on the issuer host (prod by default; stage or a local
        // double through `Issuer`).
        let host = issuer.clone().unwrap_or_else(|| ADOBE_IMS_HOST.to_string());
        issuer = Some(host.clone());
        let at = |p: &str| Url::parse(&format!("{host}{p}")).ok();
        auth_url = auth_url.or_else(|| at("/ims/authorize/v2"));
        token_url = token_url.or_else(|| at("/ims/token/v3"));
        revoke_url = revoke_url.or_else(|| at("/ims/revoke"));
        userinfo_url = at("/ims/userinfo/v2");
        // Adobe publishes the keys that sign its ID tokens (RS256) at `/ims/keys`, the
        // `jwks_uri` of its openid-configuration. The host is the `Issuer`, already
        // held to the https rule (plain http only to loopback, the local double).
        jwks_uri = at("/ims/keys");
    } else if issuer.is_some() && (auth_url.is_none() || token_url.is_none()) {
        discover = true;
    }

    let needs_auth_url = matches!(grant, Grant::AuthorizationCode);
    if !discover && preset.is_none() {
        if needs_auth_url && auth_url.is_none() && !c.obj.contains_key("Auth URL") {
            c.issue(
                Some("Auth URL"),
                IssueSeverity::Error,
                format!(
                    "auth profile `{id}` is missing the required key `Auth URL` (or give `Issuer` for discovery)."
                ),
            );
        }
        if token_url.is_none() && !c.obj.contains_key("Token URL") {
            c.issue(
                Some("Token URL"),
                IssueSeverity::Error,
                format!(
                    "auth profile `{id}` is missing the required key `Token URL` (or give `Issuer` for discovery)."
                ),
            );
        }
    }
    if grant == Grant::DeviceAuthorization && device_auth_url.is_none() && !discover {
        c.issue(
            Some("Device Auth URL"),
            IssueSeverity::Error,
            format!("auth profile `{id}`: the Device Authorization grant needs `Device Auth URL`."),
        );
    }

    let default_redirect = if preset == Some(Preset::AdobeIms) {
        "https://localhost/callback"
    } else {
        "http://127.0.0.1/callback"
    };
    let redirect_url = match c.string("Redirect URL") {
        None => Url::parse(default_redirect).expect("static URL"),
        Some(s) => match Url::parse(s.trim()) {
            Ok(u)
                if crate::net::is_loopback(&u)
                    && (u.scheme() == "http" || u.scheme() == "https") =>
            {
                u
            }
            Ok(_) if grant != Grant::AuthorizationCode => {
                Url::parse(default_redirect).expect("static URL")
            }
            Ok(u) => {
                c.issue(
                    Some("Redirect URL"),
                    IssueSeverity::Error,
                    format!(
                        "auth profile `{id}`: `Redirect URL` `{u}` must be a loopback address (http://127.0.0.1/... or https://localhost:PORT/...) so that httplens can receive the redirect."
                    ),
                );
                Url::parse(default_redirect).expect("static URL")
            }
            Err(e) => {
                c.issue(
                    Some("Redirect URL"),
                    IssueSeverity::Error,
                    format!("auth profile `{id}`: `Redirect URL` is not a valid URL ({e})."),
                );
                Url::parse(default_redirect).expect("static URL")
            }
        },
    };
    // Real IMS refuses http redirect URIs; a local IMS double (a loopback `Issuer`,
    // as in `httplens demo`) does not, so no warning there.
    let local_issuer = issuer
        .as_deref()
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
                "auth profile `{id}`: Adobe IMS accepts only https redirect URIs; `https://localhost:PORT/...` is what works."
            ),
        );
    }

    let client_auth = match c.string("Client Credentials") {
        None => {
            if client_secret.is_some() {
                ClientAuth::Basic
            } else {
                ClientAuth::None
            }
        }
        Some(s) => match s.to_ascii_lowercase().as_str() {
            "basic" => ClientAuth::Basic,
            "in body" | "in_body" | "body" => ClientAuth::InBody,
            "none" => ClientAuth::None,
            _ => {
                c.issue(
                    Some("Client Credentials"),
                    IssueSeverity::Error,
                    format!(
                        "auth profile `{id}`: `Client Credentials` `{s}` is not one of \"basic\", \"in body\", \"none\"."
                    ),
                );
                ClientAuth::Basic
            }
        },
    };
    if matches!(client_auth, ClientAuth::Basic | ClientAuth::InBody)
        && client_secret.is_none()
        && c.obj.contains_key("Client Credentials")
        && grant != Grant::ClientCredentials
    {
        {
            c.issue(
                Some("Client Secret"),
                IssueSeverity::Error,
                format!(
                    "auth profile `{id}`: `Client Credentials` is `{}` but there is no `Client Secret` (put it in http-client.private.env.json).",
                    if client_auth == ClientAuth::Basic { "basic" } else { "in body" }
                ),
            );
        }
    }
    if grant == Grant::ClientCredentials && client_secret.is_none() {
        c.issue(
            Some("Client Secret"),
            IssueSeverity::Error,
            format!(
                "auth profile `{id}`: the Client Credentials grant needs `Client Secret` (put it in http-client.private.env.json)."
            ),
        );
    }

    let scope_separator = if preset == Some(Preset::AdobeIms) {
        ','
    } else {
        ' '
    };
    let scope_str = c.string("Scope").unwrap_or_else(|| {
        if preset == Some(Preset::AdobeIms) && grant == Grant::AuthorizationCode {
            ADOBE_ACCS_SCOPES.to_string()
        } else {
            String::new()
        }
    });
    let scopes: Vec<String> = scope_str
        .split(|ch: char| ch == ',' || ch.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();

    if c.obj.contains_key("State") {
        c.issue(
            Some("State"),
            IssueSeverity::Hint,
            format!(
                "auth profile `{id}`: a fixed `State` is ignored: every sign-in gets a fresh random state."
            ),
        );
    }

    let pkce = match c.obj.get("PKCE") {
        None => Pkce::S256,
        Some(Value::Bool(true)) => Pkce::S256,
        Some(Value::Bool(false)) => {
            if preset == Some(Preset::AdobeIms) {
                c.issue(
                    Some("PKCE"),
                    IssueSeverity::Warning,
                    format!("auth profile `{id}`: Adobe IMS sign-in always uses PKCE; `\"PKCE\": false` is ignored."),
                );
                Pkce::S256
            } else {
                Pkce::Off
            }
        }
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
                        "auth profile `{id}`: the `Plain` code challenge method exposes the verifier; use S256 unless the provider cannot."
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
                    format!("auth profile `{id}`: unknown `Code Challenge Method` `{method}` (use \"S256\" or \"Plain\")."),
                );
                Pkce::S256
            }
        }
        Some(_) => {
            c.issue(
                Some("PKCE"),
                IssueSeverity::Error,
                format!(
                    "auth profile `{id}`: `PKCE` must be true, false or {{\"Code Challenge Method\": \"S256\"}}."
                ),
            );
            Pkce::S256
        }
    };

    let acquire_automatically = c.bool("Acquire Automatically", true);
    let use_id_token = c.bool("Use ID Token", false);

    let mut custom_params = Vec::new();
    if let Some(v) = c.obj.get("Custom Request Parameters") {
        match v.as_object() {
            None => c.issue(
                Some("Custom Request Parameters"),
                IssueSeverity::Error,
                format!("auth profile `{id}`: `Custom Request Parameters` must be an object."),
            ),
            Some(params) => {
                for (name, pv) in params {
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
                            Some("Custom Request Parameters"),
                            IssueSeverity::Error,
                            format!("auth profile `{id}`: custom parameter `{name}` needs a string `Value`."),
                        );
                        continue;
                    };
                    let use_in = match use_raw.as_deref().map(str::to_ascii_lowercase).as_deref() {
                        None | Some("everywhere") => ParamUse::Everywhere,
                        Some("in auth request") => ParamUse::AuthRequest,
                        Some("in token request") => ParamUse::TokenRequest,
                        Some(other) => {
                            c.issue(
                                Some("Custom Request Parameters"),
                                IssueSeverity::Error,
                                format!("auth profile `{id}`: custom parameter `{name}`: `Use` `{other}` is not one of \"Everywhere\", \"In Auth Request\", \"In Token Request\"."),
                            );
                            ParamUse::Everywhere
                        }
                    };
                    match resolve(&raw) {
                        Ok(value) => custom_params.push(CustomParam {
                            name: name.clone(),
                            value,
                            use_in,
                        }),
                        Err(e) => c.issue(
                            Some("Custom Request Parameters"),
                            IssueSeverity::Error,
                            format!("auth profile `{id}`: custom parameter `{name}`: {e}"),
                        ),
                    }
                }
            }
        }
    }

    let error = c.error;
    let issues = c.issues;
    if error {
        return (None, issues);
    }
    (
        Some(Profile {
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
        }),
        issues,
    )
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
}
