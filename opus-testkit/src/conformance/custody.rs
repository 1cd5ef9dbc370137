//! The key custody conformance suite.
//!
//! Each public `async fn` is one rule of the `KeyCustody` contract, written
//! against `Arc<dyn KeyCustody>`. The custody under test must hold a
//! signing key for [`KeyPurpose::MessageSigning`], at least one RSA
//! encryption key (published with `use: enc`) and a key-encryption key for
//! data keys. Verification here uses aws-lc-rs directly on the published
//! JWKS, independently of the backend. Run them all with
//! [`crate::key_custody_conformance_tests!`].

// These bodies are tests: a failed expectation must fail the calling test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PublicEncryptingKey,
    PublicKeyComponents,
};
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED, RsaPublicKeyComponents, UnparsedPublicKey,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use opus_core::KeyId;
use opus_core::keys::{
    Jwk, JwsAlg, KeyCustody, KeyError, KeyManagementAlg, KeyPurpose, SecretBytes, WrappedKey,
};

use super::race;

fn b64(value: &Option<String>) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(value.as_deref().expect("JWK member"))
        .expect("base64url")
}

/// Verifies `signature` over `message` with a published JWK.
pub fn verifies(jwk: &Jwk, alg: JwsAlg, message: &[u8], signature: &[u8]) -> bool {
    match (alg, jwk.kty.as_str()) {
        (JwsAlg::PS256, "RSA") => {
            let (n, e) = (b64(&jwk.n), b64(&jwk.e));
            RsaPublicKeyComponents { n: &n, e: &e }
                .verify(&signature::RSA_PSS_2048_8192_SHA256, message, signature)
                .is_ok()
        }
        (JwsAlg::ES256, "EC") => {
            let mut point = vec![0x04];
            point.extend(b64(&jwk.x));
            point.extend(b64(&jwk.y));
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(message, signature)
                .is_ok()
        }
        _ => false,
    }
}

/// Encrypts `plaintext` to a published RSA JWK with RSA-OAEP.
pub fn oaep_encrypt(jwk: &Jwk, alg: KeyManagementAlg, plaintext: &[u8]) -> Vec<u8> {
    let (n, e) = (b64(&jwk.n), b64(&jwk.e));
    let public: PublicEncryptingKey = PublicKeyComponents {
        n: n.as_slice(),
        e: e.as_slice(),
    }
    .try_into()
    .unwrap();
    let oaep = OaepPublicEncryptingKey::new(public).unwrap();
    let algorithm = match alg {
        KeyManagementAlg::RsaOaep256 => &OAEP_SHA256_MGF1SHA256,
        _ => &OAEP_SHA1_MGF1SHA1,
    };
    let mut out = vec![0u8; oaep.ciphertext_size()];
    oaep.encrypt(algorithm, plaintext, &mut out, None)
        .unwrap()
        .to_vec()
}

fn random(len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    SystemRandom::new().fill(&mut out).unwrap();
    out
}

async fn enc_key(custody: &dyn KeyCustody) -> Jwk {
    custody
        .public_jwks()
        .await
        .unwrap()
        .keys
        .into_iter()
        .find(|k| k.use_.as_deref() == Some("enc"))
        .expect("an encryption key (use: enc) in the JWKS")
}

/// The current signer's signatures verify with its published key, and only
/// over the signed input.
pub async fn signer_signatures_verify_with_the_published_key(custody: Arc<dyn KeyCustody>) {
    let signer = custody.signer(KeyPurpose::MessageSigning).await.unwrap();
    let jwks = custody.public_jwks().await.unwrap();
    let jwk = jwks
        .find(signer.kid().as_str())
        .expect("the signer's kid is published");
    assert_eq!(jwk.use_.as_deref(), Some("sig"));
    assert_eq!(jwk.alg.as_deref(), Some(signer.alg().as_str()));
    for len in [0usize, 1, 63, 600, 4096] {
        let message = random(len);
        let sig = signer.sign(&message).await.unwrap();
        assert!(verifies(jwk, signer.alg(), &message, &sig), "length {len}");
        let mut other = message.clone();
        other.push(0);
        assert!(!verifies(jwk, signer.alg(), &other, &sig));
    }
}

/// PS256 signatures are randomised (PSS salt): two signatures of one input differ.
pub async fn pss_signatures_are_randomised(custody: Arc<dyn KeyCustody>) {
    let signer = custody.signer(KeyPurpose::MessageSigning).await.unwrap();
    if signer.alg() != JwsAlg::PS256 {
        return;
    }
    let a = signer.sign(b"same input").await.unwrap();
    let b = signer.sign(b"same input").await.unwrap();
    assert_ne!(a, b);
}

/// The published JWKS holds public keys only, each with a unique `kid` and a `use`.
pub async fn published_keys_are_public_and_unique(custody: Arc<dyn KeyCustody>) {
    let jwks = custody.public_jwks().await.unwrap();
    let text = serde_json::to_value(&jwks).unwrap();
    let mut kids = HashSet::new();
    for key in text["keys"].as_array().unwrap() {
        for private in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
            assert!(
                key.get(private).is_none(),
                "private member {private} published"
            );
        }
        let kid = key["kid"].as_str().expect("every key has a kid");
        assert!(kids.insert(kid.to_owned()), "duplicate kid {kid}");
        assert!(matches!(key["use"].as_str(), Some("sig" | "enc")));
    }
    for jwk in &jwks.keys {
        if jwk.kty == "RSA" {
            assert!(
                b64(&jwk.n).len() * 8 >= 2048,
                "RSA keys are at least 2048 bits"
            );
        }
    }
}

/// The decrypter unwraps content keys encrypted with RSA-OAEP (required: the
/// OFB ID-token default) and RSA-OAEP-256 (optional: a backend whose module
/// lacks it must say [`KeyError::UnsupportedAlgorithm`], never return a wrong key).
pub async fn decrypter_unwraps_rsa_oaep_content_keys(custody: Arc<dyn KeyCustody>) {
    let jwk = enc_key(custody.as_ref()).await;
    let decrypter = custody
        .decrypter(&KeyId::new(jwk.kid.clone().unwrap()).unwrap())
        .await
        .unwrap();
    assert_eq!(Some(decrypter.kid().as_str()), jwk.kid.as_deref());
    for alg in [KeyManagementAlg::RsaOaep, KeyManagementAlg::RsaOaep256] {
        let cek = random(32);
        let encrypted = oaep_encrypt(&jwk, alg, &cek);
        match decrypter.decrypt_cek(alg, &encrypted).await {
            Ok(got) => assert_eq!(got.expose(), cek.as_slice(), "{alg:?}"),
            Err(KeyError::UnsupportedAlgorithm) if alg == KeyManagementAlg::RsaOaep256 => {}
            Err(e) => panic!("{alg:?}: {e:?}"),
        }
    }
}

/// Every unwrap failure is [`KeyError::DecryptionFailed`]: tampered input,
/// the other OAEP hash, a short input.
pub async fn decryption_failures_are_uniform(custody: Arc<dyn KeyCustody>) {
    let jwk = enc_key(custody.as_ref()).await;
    let decrypter = custody
        .decrypter(&KeyId::new(jwk.kid.clone().unwrap()).unwrap())
        .await
        .unwrap();
    let encrypted = oaep_encrypt(&jwk, KeyManagementAlg::RsaOaep, &random(32));
    let mut tampered = encrypted.clone();
    tampered[5] ^= 1;
    let cases = [
        (KeyManagementAlg::RsaOaep, tampered),
        (KeyManagementAlg::RsaOaep256, encrypted),
        (KeyManagementAlg::RsaOaep, vec![1, 2, 3]),
    ];
    for (alg, input) in cases {
        let result = decrypter.decrypt_cek(alg, &input).await;
        let optional = alg == KeyManagementAlg::RsaOaep256
            && matches!(result, Err(KeyError::UnsupportedAlgorithm));
        assert!(
            optional || matches!(result, Err(KeyError::DecryptionFailed)),
            "{result:?}"
        );
    }
}

/// Unknown key ids are [`KeyError::UnknownKey`]; a signing key is not a decrypter.
pub async fn unknown_keys_are_refused(custody: Arc<dyn KeyCustody>) {
    let unknown = custody.decrypter(&KeyId::new("no-such-key").unwrap()).await;
    assert!(matches!(unknown, Err(KeyError::UnknownKey)));
    let signer = custody.signer(KeyPurpose::MessageSigning).await.unwrap();
    assert!(custody.decrypter(signer.kid()).await.is_err());
}

/// Data keys round-trip through wrap/unwrap; tampered blobs and unknown
/// key-encryption keys fail; two wraps of one key differ only if the
/// mechanism is randomised — either way both unwrap.
pub async fn data_keys_wrap_and_unwrap(custody: Arc<dyn KeyCustody>) {
    let data_key = SecretBytes::new(random(32));
    let wrapped = custody.wrap_data_key(&data_key).await.unwrap();
    assert_ne!(
        wrapped.bytes,
        data_key.expose(),
        "never stored in the clear"
    );
    assert_eq!(custody.unwrap_data_key(&wrapped).await.unwrap(), data_key);
    let again = custody.wrap_data_key(&data_key).await.unwrap();
    assert_eq!(custody.unwrap_data_key(&again).await.unwrap(), data_key);
    let mut tampered = wrapped.clone();
    let last = tampered.bytes.len() - 1;
    tampered.bytes[last] ^= 1;
    assert!(matches!(
        custody.unwrap_data_key(&tampered).await,
        Err(KeyError::DecryptionFailed)
    ));
    let foreign = WrappedKey {
        kek_id: KeyId::new("no-such-kek").unwrap(),
        ..wrapped
    };
    assert!(matches!(
        custody.unwrap_data_key(&foreign).await,
        Err(KeyError::UnknownKey)
    ));
}

/// 32 concurrent signatures and 32 concurrent unwraps all succeed and verify
/// (pooled HSM sessions must not be shared unsafely).
pub async fn concurrent_operations_are_safe(custody: Arc<dyn KeyCustody>) {
    let signer = custody.signer(KeyPurpose::MessageSigning).await.unwrap();
    let jwks = custody.public_jwks().await.unwrap();
    let jwk = jwks.find(signer.kid().as_str()).unwrap().clone();
    let alg = signer.alg();
    let results = race(32, |i| {
        let signer = signer.clone();
        async move {
            let message = format!("message {i}").into_bytes();
            let sig = signer.sign(&message).await.unwrap();
            (message, sig)
        }
    })
    .await;
    for (message, sig) in results {
        assert!(verifies(&jwk, alg, &message, &sig));
    }
    let enc = enc_key(custody.as_ref()).await;
    let decrypter = custody
        .decrypter(&KeyId::new(enc.kid.clone().unwrap()).unwrap())
        .await
        .unwrap();
    let unwrapped = race(32, |_| {
        let decrypter = decrypter.clone();
        let cek = random(32);
        let encrypted = oaep_encrypt(&enc, KeyManagementAlg::RsaOaep, &cek);
        async move {
            let got = decrypter
                .decrypt_cek(KeyManagementAlg::RsaOaep, &encrypted)
                .await
                .unwrap();
            got.expose() == cek.as_slice()
        }
    })
    .await;
    assert!(unwrapped.into_iter().all(|ok| ok));
}

/// Runs every key custody contract test. The factory is called once per
/// test and returns a future of `Arc<dyn KeyCustody>` (with `optional:`,
/// of `Option<…>`, `None` skipping the test with a message).
///
/// ```
/// opus_testkit::key_custody_conformance_tests!(|| async {
///     std::sync::Arc::new(opus_testkit::TestKeyCustody::new("doc"))
///         as std::sync::Arc<dyn opus_core::keys::KeyCustody>
/// });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! key_custody_conformance_tests {
    (optional: $factory:expr) => {
        $crate::__key_custody_conformance_tests!(@optional $factory);
    };
    ($factory:expr) => {
        $crate::__key_custody_conformance_tests!(@optional || async { Some(($factory)().await) });
    };
}

/// Implementation detail of [`key_custody_conformance_tests!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __key_custody_conformance_tests {
    (@optional $factory:expr) => {
        $crate::__key_custody_conformance_tests!(@each $factory;
            signer_signatures_verify_with_the_published_key,
            pss_signatures_are_randomised,
            published_keys_are_public_and_unique,
            decrypter_unwraps_rsa_oaep_content_keys,
            decryption_failures_are_uniform,
            unknown_keys_are_refused,
            data_keys_wrap_and_unwrap,
            concurrent_operations_are_safe,
        );
    };
    (@each $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::conformance::run(async {
                    match ($factory)().await {
                        Some(custody) => $crate::conformance::custody::$name(custody).await,
                        None => eprintln!(
                            "skipped {}: the key custody under test is not available",
                            stringify!($name)
                        ),
                    }
                });
            }
        )*
    };
}
