//! ID tokens wherever they arrive: every supported algorithm against keys this test
//! makes, served from a JWKS endpoint of a small OpenID provider on 127.0.0.1; each
//! failed check refused with one sentence; an algorithm httplens cannot check leaves
//! the sign-in standing, marked "not verified".

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use httplens::auth::idtoken::IdTokenStatus;
use httplens::auth::store::MemoryStore;
use httplens::auth::{AuthSession, Profile, SignInObserver, parse_profiles};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, KeyPair};
use serde_json::{Value, json};

const CLIENT: &str = "idt-client";
const SECRET: &str = "idt-client-secret-0123456789abcdef";

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The signing keys of the test provider: one per algorithm family, made here.
struct Keys {
    rsa: sig::RsaKeyPair,
    rsa_jwk: Value,
    p256: sig::EcdsaKeyPair,
    p384: sig::EcdsaKeyPair,
    ed: sig::Ed25519KeyPair,
}

impl Keys {
    fn new() -> Keys {
        use rsa::pkcs8::EncodePrivateKey;
        use rsa::traits::PublicKeyParts;
        let rng = SystemRandom::new();
        let rsa_key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let rsa_jwk = json!({"kty": "RSA", "kid": "rsa-1", "use": "sig",
            "n": b64(&rsa_key.n().to_bytes_be()), "e": b64(&rsa_key.e().to_bytes_be())});
        let rsa = sig::RsaKeyPair::from_pkcs8(rsa_key.to_pkcs8_der().unwrap().as_bytes()).unwrap();
        let ec = |a: &'static sig::EcdsaSigningAlgorithm| {
            let der = sig::EcdsaKeyPair::generate_pkcs8(a, &rng).unwrap();
            sig::EcdsaKeyPair::from_pkcs8(a, der.as_ref(), &rng).unwrap()
        };
        let ed = sig::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        Keys {
            rsa,
            rsa_jwk,
            p256: ec(&sig::ECDSA_P256_SHA256_FIXED_SIGNING),
            p384: ec(&sig::ECDSA_P384_SHA384_FIXED_SIGNING),
            ed: sig::Ed25519KeyPair::from_pkcs8(ed.as_ref()).unwrap(),
        }
    }

    /// The JWKS document: every public key, with its `kid`.
    fn jwks(&self) -> Value {
        let ec = |k: &sig::EcdsaKeyPair, crv: &str, kid: &str| {
            let p = k.public_key().as_ref();
            let half = (p.len() - 1) / 2;
            json!({"kty": "EC", "crv": crv, "kid": kid, "use": "sig",
                "x": b64(&p[1..1 + half]), "y": b64(&p[1 + half..])})
        };
        json!({"keys": [
            self.rsa_jwk,
            ec(&self.p256, "P-256", "p256-1"),
            ec(&self.p384, "P-384", "p384-1"),
            {"kty": "OKP", "crv": "Ed25519", "kid": "ed-1", "use": "sig",
             "x": b64(self.ed.public_key().as_ref())},
            // A key httplens cannot read is skipped, not fatal.
            {"kty": "EC", "crv": "P-521", "kid": "p521-1", "x": "AA", "y": "AA"},
        ]})
    }

    /// A JWT with `alg`, signed with this provider's key for it.
    fn sign(&self, alg: &str, claims: &Value) -> String {
        let kid = match alg {
            a if a.starts_with("HS") => None,
            a if a.starts_with("RS") || a.starts_with("PS") => Some("rsa-1"),
            "ES256" => Some("p256-1"),
            "ES384" => Some("p384-1"),
            _ => Some("ed-1"),
        };
        let mut header = json!({"alg": alg, "typ": "JWT"});
        if let Some(k) = kid {
            header["kid"] = json!(k);
        }
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let rng = SystemRandom::new();
        let msg = input.as_bytes();
        let hmac = |a| {
            ring::hmac::sign(&ring::hmac::Key::new(a, SECRET.as_bytes()), msg)
                .as_ref()
                .to_vec()
        };
        let rsa = |enc: &'static dyn sig::RsaEncoding| {
            let mut out = vec![0; self.rsa.public().modulus_len()];
            self.rsa.sign(enc, &rng, msg, &mut out).unwrap();
            out
        };
        let s: Vec<u8> = match alg {
            "HS256" => hmac(ring::hmac::HMAC_SHA256),
            "HS384" => hmac(ring::hmac::HMAC_SHA384),
            "HS512" => hmac(ring::hmac::HMAC_SHA512),
            "RS256" => rsa(&sig::RSA_PKCS1_SHA256),
            "RS384" => rsa(&sig::RSA_PKCS1_SHA384),
            "RS512" => rsa(&sig::RSA_PKCS1_SHA512),
            "PS256" => rsa(&sig::RSA_PSS_SHA256),
            "PS384" => rsa(&sig::RSA_PSS_SHA384),
            "PS512" => rsa(&sig::RSA_PSS_SHA512),
            "ES256" => self.p256.sign(&rng, msg).unwrap().as_ref().to_vec(),
            "ES384" => self.p384.sign(&rng, msg).unwrap().as_ref().to_vec(),
            "EdDSA" => self.ed.sign(msg).as_ref().to_vec(),
            // An algorithm httplens has no verifier for: any bytes will do.
            _ => vec![7; 132],
        };
        format!("{input}.{}", b64(&s))
    }
}

/// How the provider makes the ID token of one answer: (nonce of the authorization
/// request, `None` on refresh) -> JWT.
type Maker = Arc<dyn Fn(Option<&str>) -> String + Send + Sync>;

/// A small OpenID provider on 127.0.0.1: discovery, a token endpoint that answers
/// with the ID token `maker` makes (with the nonce the authorization request carried;
/// none on refresh or for a device code), RFC 8628 device authorization, and the JWKS.
struct Provider {
    base: String,
    maker: Arc<Mutex<Maker>>,
    nonce: Arc<Mutex<Option<String>>>,
    /// The form bodies of the device authorization requests.
    device_requests: Arc<Mutex<Vec<String>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Provider {
    async fn start(jwks: Value) -> Provider {
        use axum::routing::{get, post};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let maker: Arc<Mutex<Maker>> = Arc::new(Mutex::new(Arc::new(|_| String::new())));
        let nonce: Arc<Mutex<Option<String>>> = Default::default();
        let device_requests: Arc<Mutex<Vec<String>>> = Default::default();
        let md = json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "device_authorization_endpoint": format!("{base}/device"),
            "jwks_uri": format!("{base}/jwks"),
        });
        let (m, n) = (maker.clone(), nonce.clone());
        let (dr, verify) = (device_requests.clone(), format!("{base}/verify"));
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || {
                    let md = md.clone();
                    async move { axum::Json(md) }
                }),
            )
            .route(
                "/jwks",
                get(move || {
                    let j = jwks.clone();
                    async move { axum::Json(j) }
                }),
            )
            .route(
                "/token",
                post(move |body: String| {
                    let (m, n) = (m.clone(), n.clone());
                    async move {
                        // No authorization request preceded a refresh or a device
                        // code: no nonce.
                        let refresh = body.contains("grant_type=refresh_token")
                            || body.contains("device_code=");
                        let nonce = if refresh {
                            None
                        } else {
                            n.lock().unwrap().clone()
                        };
                        let make = m.lock().unwrap().clone();
                        axum::Json(json!({
                            "access_token": format!("idt-at-{}", rand_suffix()),
                            "refresh_token": format!("idt-rt-{}", rand_suffix()),
                            "token_type": "Bearer",
                            "expires_in": 3600,
                            "id_token": make(nonce.as_deref()),
                        }))
                    }
                }),
            )
            .route(
                "/device",
                post(move |body: String| {
                    dr.lock().unwrap().push(body);
                    let verify = verify.clone();
                    async move {
                        // Approved at once: the first poll gets the tokens.
                        axum::Json(json!({
                            "device_code": format!("idt-dc-{}", rand_suffix()),
                            "user_code": "WDJB-MJHT",
                            "verification_uri": verify,
                            "expires_in": 600,
                            "interval": 1,
                        }))
                    }
                }),
            );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Provider {
            base,
            maker,
            nonce,
            device_requests,
            server,
        }
    }

    fn make(&self, f: impl Fn(Option<&str>) -> String + Send + Sync + 'static) {
        *self.maker.lock().unwrap() = Arc::new(f);
    }

    fn profile(&self) -> Profile {
        let v = json!({"Type": "OAuth2", "Grant Type": "Authorization Code",
            "Issuer": self.base, "Client ID": CLIENT, "Client Secret": SECRET,
            "Redirect URL": "http://127.0.0.1/callback", "Scope": "openid email"});
        let (mut p, _) = parse_profiles(&json!({ "p": v }), &|s: &str| Ok(s.to_string()));
        p.remove(0)
    }

    /// A session whose "browser" approves at once: it notes the request's `nonce` for
    /// the token endpoint and sends the callback with a code and the request's `state`.
    fn session(&self, dir: &std::path::Path) -> AuthSession {
        AuthSession::new(
            vec![self.profile()],
            Arc::new(MemoryStore::new()),
            dir.to_path_buf(),
        )
        .interactive(true)
        .open_browser(false)
        .timeout(Duration::from_secs(20))
        .observer(Arc::new(Approve(self.nonce.clone())))
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn rand_suffix() -> String {
    let mut b = [0u8; 8];
    ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut b).unwrap();
    b64(&b)
}

struct Approve(Arc<Mutex<Option<String>>>);

impl SignInObserver for Approve {
    fn authorize_url(&self, _profile: &str, url: &str, _e: Option<&str>) {
        let u = url::Url::parse(url).unwrap();
        let q = |k: &str| {
            u.query_pairs()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.into_owned())
        };
        *self.0.lock().unwrap() = q("nonce");
        let mut cb = url::Url::parse(&q("redirect_uri").unwrap()).unwrap();
        cb.query_pairs_mut()
            .append_pair("code", "idt-code")
            .append_pair("state", &q("state").unwrap());
        tokio::spawn(async move {
            let _ = reqwest::Client::builder()
                .no_proxy()
                .build()
                .unwrap()
                .get(cb)
                .send()
                .await;
        });
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Good claims for `provider`, with `nonce`.
fn claims(p: &str, nonce: Option<&str>) -> Value {
    let mut c = json!({"iss": p, "aud": CLIENT, "sub": "u-1", "email": "ada@example.test",
        "iat": now(), "exp": now() + 600});
    if let Some(n) = nonce {
        c["nonce"] = json!(n);
    }
    c
}

const ALGS: [&str; 12] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_supported_algorithm_is_verified_in_a_real_sign_in() {
    let keys = Arc::new(Keys::new());
    let p = Provider::start(keys.jwks()).await;
    let dir = tempfile::tempdir().unwrap();
    for alg in ALGS {
        let (k, iss) = (keys.clone(), p.base.clone());
        p.make(move |n| k.sign(alg, &claims(&iss, n)));
        let s = p.session(dir.path());
        let t = s
            .sign_in("p")
            .await
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(
            t.id_token_status,
            Some(IdTokenStatus::Verified { alg: alg.into() }),
            "{alg}"
        );
        assert_eq!(t.account.as_deref(), Some("ada@example.test"));
        // The authorization request carried a nonce (the token echoed it, checked).
        assert_eq!(p.nonce.lock().unwrap().as_ref().map(String::len), Some(43));
        let st = s.status("p").await.unwrap();
        assert_eq!(
            st.id_token.unwrap().describe(),
            format!("ID token verified ({alg})")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_failed_check_is_refused_with_one_sentence() {
    let keys = Arc::new(Keys::new());
    let p = Provider::start(keys.jwks()).await;
    let dir = tempfile::tempdir().unwrap();
    type Case = (&'static str, fn(&mut Value), &'static str);
    let cases: [Case; 8] = [
        (
            "wrong nonce",
            |c| c["nonce"] = json!("another-sign-in"),
            "`nonce` is not the one this sign-in sent",
        ),
        (
            "no nonce",
            |c| drop(c.as_object_mut().unwrap().remove("nonce")),
            "carries no `nonce`",
        ),
        (
            "expired",
            |c| c["exp"] = json!(now() - 3600),
            "it has expired",
        ),
        (
            "no exp",
            |c| drop(c.as_object_mut().unwrap().remove("exp")),
            "no `exp` claim",
        ),
        (
            "wrong aud",
            |c| c["aud"] = json!("someone-else"),
            "meant for another client",
        ),
        (
            "wrong iss",
            |c| c["iss"] = json!("https://evil.test"),
            "issued by another issuer",
        ),
        (
            "future iat",
            |c| c["iat"] = json!(now() + 3600),
            "issued in the future",
        ),
        (
            "several aud, no azp",
            |c| c["aud"] = json!([CLIENT, "other"]),
            "no authorized party (`azp`)",
        ),
    ];
    for alg in ["RS256", "ES256", "HS256"] {
        for (name, edit, want) in cases {
            let (k, iss) = (keys.clone(), p.base.clone());
            p.make(move |n| {
                let mut c = claims(&iss, n);
                edit(&mut c);
                k.sign(alg, &c)
            });
            let s = p.session(dir.path());
            let e = s
                .sign_in("p")
                .await
                .err()
                .unwrap_or_else(|| panic!("{alg} {name}: accepted"))
                .to_string();
            assert!(e.contains(want), "{alg} {name}: {e}");
            assert!(
                e.starts_with("the provider's ID token was refused: "),
                "{e}"
            );
            assert!(
                !e.contains('\n') && !e.contains(SECRET) && !e.contains("eyJ"),
                "{e}"
            );
            assert!(
                !s.status("p").await.unwrap().signed_in,
                "{alg} {name}: stored"
            );
        }
    }
    // A bad signature: the claims are changed after signing, or another key signed.
    for alg in ALGS {
        let (k, iss) = (keys.clone(), p.base.clone());
        p.make(move |n| {
            let t = k.sign(alg, &claims(&iss, n));
            let mut parts: Vec<String> = t.split('.').map(str::to_string).collect();
            let mut c = claims(&iss, n);
            c["email"] = json!("mallory@example.test");
            parts[1] = b64(c.to_string().as_bytes());
            parts.join(".")
        });
        let e = p
            .session(dir.path())
            .sign_in("p")
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains(&format!("its {alg} signature does not verify")),
            "{e}"
        );
    }
    let other = Arc::new(Keys::new());
    let iss = p.base.clone();
    p.make(move |n| other.sign("ES384", &claims(&iss, n)));
    let e = p
        .session(dir.path())
        .sign_in("p")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("its ES384 signature does not verify"), "{e}");
    // With several audiences, `azp` naming this client makes it acceptable.
    let (k, iss) = (keys.clone(), p.base.clone());
    p.make(move |n| {
        let mut c = claims(&iss, n);
        c["aud"] = json!([CLIENT, "other"]);
        c["azp"] = json!(CLIENT);
        k.sign("PS256", &c)
    });
    p.session(dir.path()).sign_in("p").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_algorithm_httplens_cannot_check_is_not_verified_and_the_sign_in_stands() {
    let keys = Arc::new(Keys::new());
    let p = Provider::start(keys.jwks()).await;
    let dir = tempfile::tempdir().unwrap();
    for alg in ["ES512", "ES256K"] {
        let (k, iss) = (keys.clone(), p.base.clone());
        p.make(move |n| k.sign(alg, &claims(&iss, n)));
        let s = p.session(dir.path());
        let t = s
            .sign_in("p")
            .await
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        let want = IdTokenStatus::NotVerified {
            reason: format!("it is signed with {alg}, which httplens cannot check"),
        };
        assert_eq!(t.id_token_status.as_ref(), Some(&want));
        let st = s.status("p").await.unwrap();
        assert!(st.signed_in);
        assert_eq!(
            st.id_token.unwrap().describe(),
            format!("ID token not verified (it is signed with {alg}, which httplens cannot check)")
        );
    }
    // An unsigned token from a provider that publishes keys is a forgery, not an
    // unsupported algorithm.
    let iss = p.base.clone();
    p.make(move |n| {
        format!(
            "{}.{}.",
            b64(br#"{"alg":"none"}"#),
            b64(claims(&iss, n).to_string().as_bytes())
        )
    });
    let e = p
        .session(dir.path())
        .sign_in("p")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("unsigned"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refreshed_id_token_is_checked_too() {
    let keys = Arc::new(Keys::new());
    let p = Provider::start(keys.jwks()).await;
    let dir = tempfile::tempdir().unwrap();
    let (k, iss) = (keys.clone(), p.base.clone());
    p.make(move |n| {
        let mut c = claims(&iss, n);
        c["exp"] = json!(now() + 10);
        k.sign("RS256", &c)
    });
    let s = p.session(dir.path());
    let first = s.sign_in("p").await.unwrap();
    // A refresh answers without a nonce (none was sent) and is accepted; one meant for
    // another client is refused, and the rotated refresh token is kept all the same.
    let (k, iss) = (keys.clone(), p.base.clone());
    p.make(move |n| {
        assert!(n.is_none());
        let mut c = claims(&iss, None);
        c["aud"] = json!("someone-else");
        k.sign("EdDSA", &c)
    });
    let src: &dyn httplens::exec::TokenSource = &s;
    let rejected = httplens::secret::Secret::new(first.access_token.clone());
    let e = src
        .refresh_after_401("p", httplens::syntax::ast::TokenKind::Access, &rejected)
        .await
        .err()
        .unwrap();
    assert!(e.contains("meant for another client"), "{e}");
    let st = s.status("p").await.unwrap();
    assert!(st.signed_in && st.id_token.is_none());
    let (k, iss) = (keys.clone(), p.base.clone());
    p.make(move |_| k.sign("EdDSA", &claims(&iss, None)));
    let kept = s.tokens("p").await.unwrap();
    assert_ne!(kept.refresh_token, first.refresh_token);
    let rejected = httplens::secret::Secret::new(kept.access_token.clone());
    let t = s
        .refresh_after_401("p", httplens::syntax::ast::TokenKind::Access, &rejected)
        .await
        .unwrap();
    assert_ne!(t.refresh_token, kept.refresh_token);
    assert_eq!(
        t.id_token_status,
        Some(IdTokenStatus::Verified {
            alg: "EdDSA".into()
        })
    );
}

/// A device flow's ID token is checked like any other: verified when good; refused
/// with one sentence and nothing stored when its `aud`, `exp`, `iss` or signature is
/// wrong. No authorization request is made, so no `nonce` is sent and none is compared
/// (OpenID Connect Core 3.1.3.7: the nonce is checked when the request carried one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_device_flows_id_token_is_verified_or_refused() {
    let keys = Arc::new(Keys::new());
    let p = Provider::start(keys.jwks()).await;
    let dir = tempfile::tempdir().unwrap();
    let v = json!({"Type": "OAuth2", "Grant Type": "Device Authorization",
        "Issuer": p.base, "Client ID": CLIENT, "Client Secret": SECRET,
        "Scope": "openid email"});
    let (profiles, issues) = parse_profiles(&json!({ "p": v }), &|s: &str| Ok(s.to_string()));
    assert!(issues.is_empty(), "{issues:?}");
    let session = || {
        AuthSession::new(
            profiles.clone(),
            Arc::new(MemoryStore::new()),
            dir.path().to_path_buf(),
        )
        .interactive(true)
        .open_browser(false)
        .timeout(Duration::from_secs(20))
        .observer(Arc::new(DeviceUser))
    };

    let (k, iss) = (keys.clone(), p.base.clone());
    p.make(move |n| {
        assert!(n.is_none(), "a device code gets no nonce");
        k.sign("RS256", &claims(&iss, None))
    });
    let s = session();
    let t = s.sign_in("p").await.unwrap();
    assert_eq!(
        t.id_token_status,
        Some(IdTokenStatus::Verified {
            alg: "RS256".into()
        })
    );
    assert_eq!(t.account.as_deref(), Some("ada@example.test"));
    assert_eq!(
        s.status("p").await.unwrap().id_token.unwrap().describe(),
        "ID token verified (RS256)"
    );
    // The device authorization request carried no nonce...
    let sent = p.device_requests.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert!(!sent[0].contains("nonce"), "{}", sent[0]);
    // ... so a nonce in the token is not compared (there is nothing to compare it with).
    let (k, iss) = (keys.clone(), p.base.clone());
    p.make(move |_| k.sign("ES256", &claims(&iss, Some("from-elsewhere"))));
    let t = session().sign_in("p").await.unwrap();
    assert_eq!(
        t.id_token_status,
        Some(IdTokenStatus::Verified {
            alg: "ES256".into()
        })
    );

    type Case = (&'static str, fn(&mut Value), &'static str);
    let cases: [Case; 4] = [
        (
            "wrong aud",
            |c| c["aud"] = json!("someone-else"),
            "meant for another client",
        ),
        (
            "expired",
            |c| c["exp"] = json!(now() - 3600),
            "it has expired",
        ),
        (
            "no exp",
            |c| drop(c.as_object_mut().unwrap().remove("exp")),
            "no `exp` claim",
        ),
        (
            "wrong iss",
            |c| c["iss"] = json!("https://evil.test"),
            "issued by another issuer",
        ),
    ];
    for (name, edit, want) in cases {
        let (k, iss) = (keys.clone(), p.base.clone());
        p.make(move |_| {
            let mut c = claims(&iss, None);
            edit(&mut c);
            k.sign("RS256", &c)
        });
        let s = session();
        let e = s
            .sign_in("p")
            .await
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"))
            .to_string();
        assert!(
            e.starts_with("the provider's ID token was refused: ") && e.contains(want),
            "{name}: {e}"
        );
        assert!(!s.status("p").await.unwrap().signed_in, "{name}: stored");
    }
    // Signed by a key the provider does not publish.
    let other = Arc::new(Keys::new());
    let iss = p.base.clone();
    p.make(move |_| other.sign("RS256", &claims(&iss, None)));
    let s = session();
    let e = s.sign_in("p").await.err().unwrap().to_string();
    assert!(e.contains("its RS256 signature does not verify"), "{e}");
    assert!(!s.status("p").await.unwrap().signed_in);
}

/// The Adobe IMS preset verifies ID tokens against the keys at the IMS host's
/// `/ims/keys` (Adobe's `jwks_uri`). The double signs (ES256) with a key it makes and
/// publishes there: a sign-in through the preset, a refresh and a device flow each get
/// a verified ID token, the code flow's carrying the sign-in's nonce.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ims_preset_verifies_the_doubles_id_tokens() {
    httplens::process::install_crypto_provider();
    let ims = httplens::demo::ims::start(httplens::demo::ims::ImsConfig {
        auto_approve: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let jwks: Value = http
        .get(ims.jwks_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    assert_eq!(jwks["keys"][0]["kid"], "ims");
    assert!(
        jwks["keys"][0].get("d").is_none(),
        "a private key published"
    );

    let v = json!({"Preset": "adobe-ims", "Grant Type": "Authorization Code",
        "Issuer": ims.base_url, "Client ID": "demo-native",
        "Redirect URL": "http://127.0.0.1/callback",
        "Scope": "openid,AdobeID,email,offline_access"});
    let (mut profiles, _) = parse_profiles(&json!({ "p": v }), &|s: &str| Ok(s.to_string()));
    let profile = profiles.remove(0);
    assert_eq!(
        profile.jwks_uri.as_ref().map(|u| u.as_str()),
        Some(ims.jwks_url().as_str())
    );
    let dir = tempfile::tempdir().unwrap();
    let s = AuthSession::new(
        vec![profile],
        Arc::new(MemoryStore::new()),
        dir.path().to_path_buf(),
    )
    .interactive(true)
    .open_browser(false)
    .timeout(Duration::from_secs(20))
    .observer(Arc::new(Follow));
    let verified = Some(IdTokenStatus::Verified {
        alg: "ES256".into(),
    });
    let t = s.sign_in("p").await.unwrap();
    assert_eq!(t.id_token_status, verified);
    assert_eq!(t.account.as_deref(), Some("demo.user@example.test"));
    // The token echoes the authorization request's nonce (checked by the sign-in).
    let payload = t.id_token.as_deref().unwrap().split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["nonce"].as_str().map(str::len), Some(43));
    let st = s.status("p").await.unwrap();
    assert_eq!(st.id_token.unwrap().describe(), "ID token verified (ES256)");
    // A refresh brings a new ID token (no nonce), verified too.
    let src: &dyn httplens::exec::TokenSource = &s;
    let rejected = httplens::secret::Secret::new(t.access_token.clone());
    src.refresh_after_401("p", httplens::syntax::ast::TokenKind::Access, &rejected)
        .await
        .unwrap();
    assert_eq!(ims.stats().refreshes, 1);
    let refreshed = s.tokens("p").await.unwrap();
    assert_ne!(refreshed.id_token, t.id_token);
    assert_eq!(refreshed.id_token_status, verified);

    // The device flow through the preset (the double's RFC 8628 endpoint).
    let v = json!({"Preset": "adobe-ims", "Grant Type": "Device Authorization",
        "Issuer": ims.base_url, "Client ID": "demo-native",
        "Device Auth URL": format!("{}/ims/device", ims.base_url),
        "Scope": "openid,AdobeID,email"});
    let (profiles, issues) = parse_profiles(&json!({ "d": v }), &|s: &str| Ok(s.to_string()));
    assert!(issues.is_empty(), "{issues:?}");
    let s = AuthSession::new(
        profiles,
        Arc::new(MemoryStore::new()),
        dir.path().to_path_buf(),
    )
    .interactive(true)
    .open_browser(false)
    .timeout(Duration::from_secs(20))
    .observer(Arc::new(DeviceApprover));
    let t = s.sign_in("d").await.unwrap();
    assert_eq!(t.id_token_status, verified);
    assert_eq!(t.account.as_deref(), Some("demo.user@example.test"));
    ims.shutdown().await;
}

/// The double signing its ID tokens with a key it does not publish (a forged token):
/// the sign-in is refused with one sentence and nothing is stored, through the code
/// flow and the device flow alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ims_preset_refuses_a_token_signed_with_another_key() {
    httplens::process::install_crypto_provider();
    let ims = httplens::demo::ims::start(httplens::demo::ims::ImsConfig {
        auto_approve: true,
        ..Default::default()
    })
    .await
    .unwrap();
    ims.sign_id_tokens_with_another_key().await.unwrap();
    let code = json!({"Preset": "adobe-ims", "Grant Type": "Authorization Code",
        "Issuer": ims.base_url, "Client ID": "demo-native",
        "Redirect URL": "http://127.0.0.1/callback", "Scope": "openid,AdobeID,email"});
    let device = json!({"Preset": "adobe-ims", "Grant Type": "Device Authorization",
        "Issuer": ims.base_url, "Client ID": "demo-native",
        "Device Auth URL": format!("{}/ims/device", ims.base_url),
        "Scope": "openid,AdobeID,email"});
    let (profiles, _) = parse_profiles(&json!({ "code": code, "device": device }), &|s: &str| {
        Ok(s.to_string())
    });
    assert_eq!(profiles.len(), 2);
    let dir = tempfile::tempdir().unwrap();
    let s = AuthSession::new(
        profiles,
        Arc::new(MemoryStore::new()),
        dir.path().to_path_buf(),
    )
    .interactive(true)
    .open_browser(false)
    .timeout(Duration::from_secs(20))
    .observer(Arc::new(FollowAndApprove));
    for id in ["code", "device"] {
        let e = s.sign_in(id).await.err().unwrap().to_string();
        assert_eq!(
            e, "the provider's ID token was refused: its ES256 signature does not verify",
            "{id}"
        );
        assert!(!s.status(id).await.unwrap().signed_in, "{id}: stored");
    }
    assert_eq!(ims.stats().code_exchanges, 1);
    ims.shutdown().await;
}

/// A provider that publishes no keys (no `Issuer`, so no discovery and no preset): the
/// double's signed token cannot be checked; the sign-in works and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_without_keys_gives_not_verified() {
    let ims = httplens::demo::ims::start(httplens::demo::ims::ImsConfig {
        auto_approve: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let v = json!({"Type": "OAuth2", "Grant Type": "Authorization Code",
        "Auth URL": ims.authorize_url(), "Token URL": ims.token_url(),
        "Client ID": "demo-native", "Redirect URL": "http://127.0.0.1/callback",
        "Scope": "openid"});
    let (mut profiles, _) = parse_profiles(&json!({ "p": v }), &|s: &str| Ok(s.to_string()));
    let dir = tempfile::tempdir().unwrap();
    let s = AuthSession::new(
        vec![profiles.remove(0)],
        Arc::new(MemoryStore::new()),
        dir.path().to_path_buf(),
    )
    .interactive(true)
    .open_browser(false)
    .timeout(Duration::from_secs(20))
    .observer(Arc::new(Follow));
    let t = s.sign_in("p").await.unwrap();
    assert_eq!(
        t.id_token_status,
        Some(IdTokenStatus::NotVerified {
            reason: "the provider publishes no signing keys".into()
        })
    );
    ims.shutdown().await;
}

/// The device flow's user: the code is typed elsewhere; here the provider has
/// approved already.
struct DeviceUser;

impl SignInObserver for DeviceUser {
    fn authorize_url(&self, _profile: &str, _url: &str, _e: Option<&str>) {
        panic!("the device flow opens no authorize URL");
    }
}

/// The device flow's user at the IMS double: opens the verification URL, which
/// approves the code.
struct DeviceApprover;

impl SignInObserver for DeviceApprover {
    fn authorize_url(&self, _profile: &str, _url: &str, _e: Option<&str>) {
        panic!("the device flow opens no authorize URL");
    }
    fn device_code(&self, _profile: &str, uri: &str, _user_code: &str) {
        Follow.authorize_url("", uri, None);
    }
}

/// Follows an authorize URL or opens a device verification URL, whichever comes.
struct FollowAndApprove;

impl SignInObserver for FollowAndApprove {
    fn authorize_url(&self, profile: &str, url: &str, e: Option<&str>) {
        Follow.authorize_url(profile, url, e);
    }
    fn device_code(&self, _profile: &str, uri: &str, _user_code: &str) {
        Follow.authorize_url("", uri, None);
    }
}

/// A browser that follows the provider's redirects to the callback.
struct Follow;

impl SignInObserver for Follow {
    fn authorize_url(&self, _profile: &str, url: &str, _e: Option<&str>) {
        let url = url.to_string();
        tokio::spawn(async move {
            let _ = reqwest::Client::builder()
                .no_proxy()
                .danger_accept_invalid_certs(true)
                .build()
                .unwrap()
                .get(url)
                .send()
                .await;
        });
    }
}
