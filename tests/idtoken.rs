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
/// with the ID token `maker` makes (with the nonce the authorization request carried),
/// and the JWKS.
struct Provider {
    base: String,
    maker: Arc<Mutex<Maker>>,
    nonce: Arc<Mutex<Option<String>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Provider {
    async fn start(jwks: Value) -> Provider {
        use axum::routing::{get, post};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let maker: Arc<Mutex<Maker>> = Arc::new(Mutex::new(Arc::new(|_| String::new())));
        let nonce: Arc<Mutex<Option<String>>> = Default::default();
        let md = json!({
            "issuer": base,
            "authorization_endpoint": format!("{base}/authorize"),
            "token_endpoint": format!("{base}/token"),
            "jwks_uri": format!("{base}/jwks"),
        });
        let (m, n) = (maker.clone(), nonce.clone());
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
                        let refresh = body.contains("grant_type=refresh_token");
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
            );
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Provider {
            base,
            maker,
            nonce,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_without_keys_gives_not_verified() {
    // The IMS double signs nothing and publishes no keys (like a provider without a
    // jwks_uri): the sign-in works and says so.
    let ims = httplens::demo::ims::start(httplens::demo::ims::ImsConfig {
        auto_approve: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let v = json!({"Preset": "adobe-ims", "Grant Type": "Authorization Code",
        "Issuer": ims.base_url, "Client ID": "demo-native",
        "Redirect URL": "http://127.0.0.1/callback", "Scope": "openid,AdobeID,email"});
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
            reason: "it is unsigned and the provider publishes no signing keys".into()
        })
    );
    ims.shutdown().await;
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
