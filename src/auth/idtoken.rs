//! Checking an ID token when the provider publishes keys (`jwks_uri` in its discovery
//! document): the signature (RS/PS 256-512, ES256/384, EdDSA) against the published key,
//! and the `iss`, `aud` and `exp` claims. httplens reads an ID token only to show the
//! account; a token that fails these checks is refused rather than shown.

use base64::Engine;
use serde_json::Value;
use url::Url;

use super::AuthError;

fn b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

fn bad(why: &str) -> AuthError {
    AuthError::Provider(format!("the provider's ID token was refused: {why}"))
}

/// Verify `jwt` against the keys at `jwks_uri`, for `issuer` and `client_id`.
pub async fn verify(
    http: &reqwest::Client,
    jwks_uri: &Url,
    jwt: &str,
    issuer: &str,
    client_id: &str,
) -> Result<(), AuthError> {
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err(bad("it is not a signed JWT"));
    }
    let header: Value = b64(parts[0])
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("its header is not JSON"))?;
    let claims: Value = b64(parts[1])
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("its claims are not JSON"))?;
    let sig = b64(parts[2]).ok_or_else(|| bad("its signature is not base64url"))?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("none");
    let kid = header.get("kid").and_then(Value::as_str);

    let keys: Value = http
        .get(jwks_uri.clone())
        .send()
        .await
        .map_err(|e| {
            AuthError::Network(format!(
                "the provider's signing keys could not be fetched: {}",
                super::oauth::network_reason(&e)
            ))
        })?
        .json()
        .await
        .map_err(|_| bad("the provider's key set is not JSON"))?;
    let keys = keys
        .get("keys")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let candidates: Vec<&Value> = keys
        .iter()
        .filter(|k| kid.is_none() || k.get("kid").and_then(Value::as_str) == kid)
        .filter(|k| {
            k.get("use")
                .and_then(Value::as_str)
                .is_none_or(|u| u == "sig")
        })
        .collect();
    if candidates.is_empty() {
        return Err(bad("no published key matches it"));
    }
    let msg = format!("{}.{}", parts[0], parts[1]);
    let ok = candidates
        .iter()
        .any(|k| verify_with(k, alg, msg.as_bytes(), &sig));
    if !ok {
        return Err(bad(&format!("its {alg} signature does not verify")));
    }

    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(bad("it was issued by another issuer"));
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(client_id)),
        _ => false,
    };
    if !aud_ok {
        return Err(bad("it is meant for another client"));
    }
    let now = chrono::Utc::now().timestamp();
    if claims
        .get("exp")
        .and_then(Value::as_i64)
        .is_some_and(|exp| exp + 60 < now)
    {
        return Err(bad("it has expired"));
    }
    Ok(())
}

fn verify_with(k: &Value, alg: &str, msg: &[u8], sig: &[u8]) -> bool {
    use ring::signature as s;
    let get = |n: &str| k.get(n).and_then(Value::as_str).and_then(b64);
    let kty = k.get("kty").and_then(Value::as_str).unwrap_or("");
    match (kty, alg) {
        ("RSA", "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512") => {
            let (Some(n), Some(e)) = (get("n"), get("e")) else {
                return false;
            };
            let params: &s::RsaParameters = match alg {
                "RS256" => &s::RSA_PKCS1_2048_8192_SHA256,
                "RS384" => &s::RSA_PKCS1_2048_8192_SHA384,
                "RS512" => &s::RSA_PKCS1_2048_8192_SHA512,
                "PS256" => &s::RSA_PSS_2048_8192_SHA256,
                "PS384" => &s::RSA_PSS_2048_8192_SHA384,
                _ => &s::RSA_PSS_2048_8192_SHA512,
            };
            s::RsaPublicKeyComponents { n: &n, e: &e }
                .verify(params, msg, sig)
                .is_ok()
        }
        ("EC", "ES256" | "ES384") => {
            let (Some(x), Some(y)) = (get("x"), get("y")) else {
                return false;
            };
            let mut point = vec![4u8];
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let algo: &dyn s::VerificationAlgorithm = if alg == "ES256" {
                &s::ECDSA_P256_SHA256_FIXED
            } else {
                &s::ECDSA_P384_SHA384_FIXED
            };
            s::UnparsedPublicKey::new(algo, &point)
                .verify(msg, sig)
                .is_ok()
        }
        ("OKP", "EdDSA" | "Ed25519") => {
            let Some(x) = get("x") else { return false };
            s::UnparsedPublicKey::new(&s::ED25519, &x)
                .verify(msg, sig)
                .is_ok()
        }
        _ => false,
    }
}
