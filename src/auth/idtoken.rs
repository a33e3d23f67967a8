//! Checking an ID token wherever one arrives (code exchange, refresh, device flow).
//!
//! The JWT itself (its shape, header, signature dispatch, `exp`, `nbf` and `aud`) is
//! read and checked by the `jsonwebtoken` crate, with ring doing the cryptography
//! (`jwt_ring.rs`); this module picks the key (the client secret for HS256/384/512,
//! else the provider's `jwks_uri`) and adds what OpenID Connect asks beyond a plain
//! JWT: `iss` is the issuer, `azp` is the client when there are several audiences,
//! `iat` is not in the future, and `nonce` is the one this sign-in sent.
//!
//! Three outcomes: [`IdTokenStatus::Verified`]; [`IdTokenStatus::NotVerified`] when
//! httplens cannot check the token at all (an algorithm the crate has no verifier for,
//! no published keys, an unsigned token from a provider that publishes none), which is
//! shown in `status` and the editor state but never fails a sign-in; and an error when
//! a check fails, one sentence that never quotes the token.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::AuthError;
use crate::net;
use crate::secret::Secret;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::Jwk};

/// Clock skew allowed for `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// What was learnt about a sign-in's ID token (kept with the tokens, shown in `status`
/// and the editor state; never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum IdTokenStatus {
    /// The signature and every claim checked out.
    Verified { alg: String },
    /// Nothing could be checked; `reason` says why in one sentence.
    NotVerified { reason: String },
}

impl IdTokenStatus {
    /// One phrase for `status` and the editor: "verified (RS256)" or "not verified (...)".
    pub fn describe(&self) -> String {
        match self {
            IdTokenStatus::Verified { alg } => format!("ID token verified ({alg})"),
            IdTokenStatus::NotVerified { reason } => format!("ID token not verified ({reason})"),
        }
    }

    pub fn is_verified(&self) -> bool {
        matches!(self, IdTokenStatus::Verified { .. })
    }
}

/// What an ID token is checked against.
#[derive(Clone, Copy, Default)]
pub struct Expect<'a> {
    pub client_id: &'a str,
    /// The key of HS256/384/512 tokens (OpenID Connect Core 10.1).
    pub client_secret: Option<&'a Secret>,
    /// The issuer (from `Issuer`, discovery or the preset). When none is known, the
    /// token's `iss` must at least have the origin of `fallback_origin`, the rule the
    /// redirect's RFC 9207 `iss` follows.
    pub issuer: Option<&'a str>,
    pub fallback_origin: Option<&'a str>,
    /// The `nonce` this sign-in sent; `None` where no authorization request was made
    /// (refresh, device flow), and then a `nonce` in the token is not compared.
    pub nonce: Option<&'a str>,
    pub jwks_uri: Option<&'a Url>,
}

fn refused(why: &str) -> AuthError {
    AuthError::Provider(format!("the provider's ID token was refused: {why}"))
}

fn not_verified(reason: impl Into<String>) -> Result<IdTokenStatus, AuthError> {
    Ok(IdTokenStatus::NotVerified {
        reason: reason.into(),
    })
}

/// The header's `alg`, read without the crate (which refuses algorithms it does not
/// know before saying which one it was).
fn header_alg(jwt: &str) -> Result<(String, Option<String>), AuthError> {
    use base64::Engine;
    let mut parts = jwt.split('.');
    let (Some(h), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refused(
            "it is not a signed JWT (three dot-separated parts)",
        ));
    };
    let header: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h.trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| refused("its header is not base64url JSON"))?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| refused("its header names no `alg`"))?
        .to_string();
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok((alg, kid))
}

/// Check `jwt` against `e`. `Ok(NotVerified)` when it cannot be checked, `Err` when a
/// check fails.
pub async fn check(
    http: &reqwest::Client,
    jwt: &str,
    e: &Expect<'_>,
) -> Result<IdTokenStatus, AuthError> {
    super::jwt_ring::install();
    let (alg_name, kid) = header_alg(jwt)?;
    let can_check = e.client_secret.is_some() || e.jwks_uri.is_some();
    if alg_name == "none" {
        // A provider that signs its tokens (it publishes keys) never sends an unsigned
        // one: that is a forgery, not an unsupported algorithm.
        if e.jwks_uri.is_some() {
            return Err(refused(
                "it is unsigned (`alg: none`) but the provider publishes signing keys",
            ));
        }
        return not_verified("it is unsigned and the provider publishes no signing keys");
    }
    let Ok(alg) = alg_name.parse::<Algorithm>() else {
        return not_verified(format!(
            "it is signed with {}, which httplens cannot check",
            alg_name.chars().take(20).collect::<String>()
        ));
    };
    if !can_check {
        return not_verified("the provider publishes no signing keys");
    }
    let keys: Vec<DecodingKey> = match alg.family() {
        jsonwebtoken::AlgorithmFamily::Hmac => match e.client_secret {
            Some(s) => vec![
                DecodingKey::from_secret(s.expose().as_bytes())
                    .map_err(|_| refused("the client secret cannot be used as its key"))?,
            ],
            None => {
                return not_verified(format!(
                    "it is signed with {alg_name}, whose key is a client secret, and the profile has none"
                ));
            }
        },
        _ => match e.jwks_uri {
            Some(u) => published_keys(http, u, &alg_name, kid.as_deref()).await?,
            None => {
                return not_verified(format!(
                    "it is signed with {alg_name} and the provider publishes no signing keys"
                ));
            }
        },
    };
    if keys.is_empty() {
        return Err(refused(&format!(
            "no key the provider publishes matches its {alg_name} signature{}",
            if kid.is_some() { " and `kid`" } else { "" }
        )));
    }

    let mut v = Validation::new(alg);
    v.leeway = LEEWAY_SECS;
    v.validate_exp = true;
    v.validate_nbf = true;
    v.set_audience(&[e.client_id]);
    v.set_required_spec_claims(&["exp", "aud", "iss"]);
    let mut last = None;
    let mut claims = None;
    for k in &keys {
        match jsonwebtoken::decode::<Value>(jwt, k, &v) {
            Ok(d) => {
                claims = Some(d.claims);
                break;
            }
            Err(err)
                if matches!(
                    err.kind(),
                    jsonwebtoken::errors::ErrorKind::UnsupportedAlgorithm
                ) =>
            {
                return not_verified(format!(
                    "it is signed with {alg_name}, which httplens cannot check"
                ));
            }
            Err(err) => {
                let sig = matches!(
                    err.kind(),
                    jsonwebtoken::errors::ErrorKind::InvalidSignature
                        | jsonwebtoken::errors::ErrorKind::InvalidKeyFormat
                );
                last = Some(err);
                // Another key of the set may fit; a claim failure is final.
                if !sig {
                    break;
                }
            }
        }
    }
    let Some(claims) = claims else {
        return Err(refused(&explain(last, &alg_name)));
    };
    check_claims(&claims, e)?;
    Ok(IdTokenStatus::Verified { alg: alg_name })
}

/// One sentence for a failure of the crate's checks.
fn explain(err: Option<jsonwebtoken::errors::Error>, alg: &str) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match err.as_ref().map(|e| e.kind()) {
        Some(K::InvalidSignature | K::InvalidKeyFormat) | None => {
            format!("its {alg} signature does not verify")
        }
        Some(K::ExpiredSignature) => "it has expired".into(),
        Some(K::ImmatureSignature) => "it is not valid yet (`nbf` is in the future)".into(),
        Some(K::InvalidAudience) => "it is meant for another client (`aud`)".into(),
        Some(K::MissingRequiredClaim(c)) => format!("it has no `{c}` claim"),
        Some(K::InvalidClaimFormat(c)) => format!("its `{c}` claim is malformed"),
        Some(_) => "it is not a well-formed signed JWT".into(),
    }
}

/// The OpenID Connect checks the crate does not make.
fn check_claims(c: &Value, e: &Expect<'_>) -> Result<(), AuthError> {
    let iss = c.get("iss").and_then(Value::as_str).unwrap_or("");
    let iss_ok = match (e.issuer, e.fallback_origin) {
        (Some(i), _) => iss.trim_end_matches('/') == i.trim_end_matches('/'),
        (None, Some(origin)) => {
            Url::parse(iss).is_ok_and(|u| u.origin().ascii_serialization() == origin)
        }
        (None, None) => true,
    };
    if !iss_ok {
        return Err(refused("it was issued by another issuer (`iss`)"));
    }
    // Several audiences: the authorized party must be this client (OIDC Core 3.1.3.7).
    let several = c
        .get("aud")
        .and_then(Value::as_array)
        .is_some_and(|a| a.len() > 1);
    match c.get("azp").and_then(Value::as_str) {
        Some(azp) if azp != e.client_id => {
            return Err(refused(
                "it was issued to another client (`azp` is not this client id)",
            ));
        }
        None if several => {
            return Err(refused(
                "it names several audiences but no authorized party (`azp`)",
            ));
        }
        _ => {}
    }
    if let Some(iat) = c.get("iat") {
        let Some(iat) = iat.as_i64().or_else(|| iat.as_f64().map(|f| f as i64)) else {
            return Err(refused("its `iat` claim is malformed"));
        };
        if iat > chrono::Utc::now().timestamp() + LEEWAY_SECS as i64 {
            return Err(refused("it claims to be issued in the future (`iat`)"));
        }
    }
    if let Some(want) = e.nonce {
        match c.get("nonce").and_then(Value::as_str) {
            Some(got) if constant_time_eq(got.as_bytes(), want.as_bytes()) => {}
            Some(_) => {
                return Err(refused(
                    "its `nonce` is not the one this sign-in sent (a replayed or injected token)",
                ));
            }
            None => {
                return Err(refused(
                    "it carries no `nonce`, though this sign-in sent one",
                ));
            }
        }
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The keys at `jwks_uri` that may have signed a token with `alg` and `kid`.
async fn published_keys(
    http: &reqwest::Client,
    jwks_uri: &Url,
    alg: &str,
    kid: Option<&str>,
) -> Result<Vec<DecodingKey>, AuthError> {
    if jwks_uri.scheme() != "https" && !(jwks_uri.scheme() == "http" && net::is_loopback(jwks_uri))
    {
        return Err(AuthError::Config(
            "the provider's signing keys (jwks_uri) are not served over https; refusing them"
                .into(),
        ));
    }
    let resp = http.get(jwks_uri.clone()).send().await.map_err(|e| {
        AuthError::Network(format!(
            "the provider's signing keys could not be fetched: {}",
            super::oauth::network_reason(&e)
        ))
    })?;
    if !resp.status().is_success() {
        return Err(AuthError::Provider(format!(
            "the provider's signing keys could not be fetched (HTTP {})",
            resp.status().as_u16()
        )));
    }
    let set: Value = resp
        .json()
        .await
        .map_err(|_| refused("the provider's key set is not JSON"))?;
    let kty = match alg {
        a if a.starts_with("RS") || a.starts_with("PS") => "RSA",
        a if a.starts_with("ES") => "EC",
        _ => "OKP",
    };
    let str_of = |k: &Value, n: &str| k.get(n).and_then(Value::as_str).map(str::to_string);
    Ok(set
        .get("keys")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|k| str_of(k, "kty").as_deref() == Some(kty))
        .filter(|k| kid.is_none() || str_of(k, "kid").as_deref() == kid)
        .filter(|k| str_of(k, "use").is_none_or(|u| u == "sig"))
        .filter(|k| str_of(k, "alg").is_none_or(|a| a == alg))
        // One key the crate cannot read (an unknown curve, extra members) does not
        // spoil the set.
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
        .filter_map(|k| DecodingKey::from_jwk(&k).ok())
        .collect())
}

/// Check the ID token of a token response, if it has one, for `profile` at the provider
/// of `endpoints`. `nonce`: the one the authorization request sent.
pub async fn check_response(
    http: &reqwest::Client,
    profile: &super::Profile,
    endpoints: &super::Endpoints,
    id_token: Option<&Secret>,
    nonce: Option<&str>,
) -> Result<Option<IdTokenStatus>, AuthError> {
    let Some(t) = id_token else {
        return Ok(None);
    };
    // Without an issuer, the origin the flow started at (the authorize URL, or the
    // token URL for the device flow) stands in for it.
    let origin = endpoints
        .auth_url
        .as_ref()
        .or(endpoints.token_url.as_ref())
        .map(|u| u.origin().ascii_serialization());
    let e = Expect {
        client_id: &profile.client_id,
        client_secret: profile.client_secret.as_ref(),
        issuer: endpoints.issuer.as_deref(),
        fallback_origin: origin.as_deref(),
        nonce,
        jwks_uri: endpoints.jwks_uri.as_ref(),
    };
    let status = check(http, t.expose(), &e).await?;
    if let IdTokenStatus::NotVerified { reason } = &status {
        tracing::warn!(profile = %profile.id, "the ID token was not verified: {reason}");
    }
    Ok(Some(status))
}

/// The earlier API: check against published keys and a known issuer, no nonce.
pub async fn verify(
    http: &reqwest::Client,
    jwks_uri: &Url,
    jwt: &str,
    issuer: &str,
    client_id: &str,
) -> Result<IdTokenStatus, AuthError> {
    check(
        http,
        jwt,
        &Expect {
            client_id,
            issuer: Some(issuer),
            jwks_uri: Some(jwks_uri),
            ..Expect::default()
        },
    )
    .await
}
