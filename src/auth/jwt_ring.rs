//! A `jsonwebtoken` crypto provider on ring, the library rustls already uses here.
//!
//! jsonwebtoken ships two backends: aws-lc (banned in `deny.toml`) and RustCrypto (a
//! second RSA, EC and Ed25519 implementation beside ring). Without either it asks for a
//! [`CryptoProvider`]; this one maps each algorithm to ring's verification primitive
//! and nothing else. httplens only ever verifies (it never signs a JWT), so the signer
//! factory refuses every request and the key utilities (used only to derive public
//! keys from private ones and for thumbprints) are left unimplemented.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::signature::{self, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::{hmac, signature as sig};

/// What a key is checked with, by algorithm.
enum Check {
    Hmac(hmac::Algorithm),
    Rsa(&'static sig::RsaParameters),
    /// ECDSA (fixed-length `r || s`, as JWS signs) and Ed25519: a raw public key.
    Raw(&'static dyn sig::VerificationAlgorithm),
}

struct RingVerifier {
    alg: Algorithm,
    check: Check,
    key: DecodingKey,
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let ok = match (&self.check, self.key.kind()) {
            (Check::Hmac(a), DecodingKeyKind::SecretOrDer(secret)) => {
                hmac::verify(&hmac::Key::new(*a, secret), msg, signature).is_ok()
            }
            (Check::Rsa(p), DecodingKeyKind::RsaModulusExponent { n, e }) => {
                sig::RsaPublicKeyComponents { n, e }
                    .verify(p, msg, signature)
                    .is_ok()
            }
            // An RSA key given as DER (`RSAPublicKey`), which is what ring reads.
            (Check::Rsa(p), DecodingKeyKind::SecretOrDer(der)) => {
                sig::UnparsedPublicKey::new(*p, der)
                    .verify(msg, signature)
                    .is_ok()
            }
            (Check::Raw(a), DecodingKeyKind::SecretOrDer(point)) => {
                sig::UnparsedPublicKey::new(*a, point)
                    .verify(msg, signature)
                    .is_ok()
            }
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(signature::Error::new())
        }
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

fn new_verifier(alg: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    let check = match alg {
        Algorithm::HS256 => Check::Hmac(hmac::HMAC_SHA256),
        Algorithm::HS384 => Check::Hmac(hmac::HMAC_SHA384),
        Algorithm::HS512 => Check::Hmac(hmac::HMAC_SHA512),
        Algorithm::RS256 => Check::Rsa(&sig::RSA_PKCS1_2048_8192_SHA256),
        Algorithm::RS384 => Check::Rsa(&sig::RSA_PKCS1_2048_8192_SHA384),
        Algorithm::RS512 => Check::Rsa(&sig::RSA_PKCS1_2048_8192_SHA512),
        Algorithm::PS256 => Check::Rsa(&sig::RSA_PSS_2048_8192_SHA256),
        Algorithm::PS384 => Check::Rsa(&sig::RSA_PSS_2048_8192_SHA384),
        Algorithm::PS512 => Check::Rsa(&sig::RSA_PSS_2048_8192_SHA512),
        Algorithm::ES256 => Check::Raw(&sig::ECDSA_P256_SHA256_FIXED),
        Algorithm::ES384 => Check::Raw(&sig::ECDSA_P384_SHA384_FIXED),
        Algorithm::EdDSA => Check::Raw(&sig::ED25519),
        // The enum is non-exhaustive: an algorithm added later has no ring mapping here.
        _ => return Err(ErrorKind::UnsupportedAlgorithm.into()),
    };
    // A key of another family (an RSA key for an ES256 token, a secret for RS256):
    // refused here, before any bytes are compared.
    if key.family() != alg.family() {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(Box::new(RingVerifier {
        alg: *alg,
        check,
        key: key.clone(),
    }))
}

fn no_signer(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    Err(ErrorKind::Signing("httplens verifies JWTs and never signs one".into()).into())
}

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: no_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Make the ring provider jsonwebtoken's process default (idempotent).
pub fn install() {
    if CryptoProvider::try_get_default().is_none() {
        // Losing a race to another thread installing the same provider is fine.
        let _ = PROVIDER.install_default();
    }
}
