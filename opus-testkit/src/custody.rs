//! A key custody for tests, on aws-lc-rs, with keys generated at run time.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrap};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{
    KeyPair as RsaKeyPair, KeySize, OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256,
    OaepPrivateDecryptingKey, PrivateDecryptingKey,
};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RSA_PSS_SHA256,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use opus_core::KeyId;
use opus_core::keys::{
    CekDecrypter, Jwk, JwkSet, JwsAlg, JwsSigner, KeyCustody, KeyError, KeyManagementAlg,
    KeyPurpose, SecretBytes, WrappedKey,
};

/// Key custody for tests: an RSA-2048 PS256 signer, an ES256 signer, an
/// RSA-2048 `RSA-OAEP`/`RSA-OAEP-256` decryption key and an AES-256 key-wrap
/// key for data keys, all generated in process (nothing committed, nothing
/// on disk). RSA keys are generated on first use.
///
/// It honours the custody contract (no key export) and is real
/// cryptography, but keeps keys in process memory: use it in tests only.
/// Production deployments use the software or PKCS#11 custody of opus-fapi.
pub struct TestKeyCustody {
    name: String,
    signing_alg: JwsAlg,
    rsa_signer: OnceLock<Result<Arc<RsaSigner>, String>>,
    ec_signer: OnceLock<Result<Arc<EcSigner>, String>>,
    decrypter: OnceLock<Result<Arc<RsaDecrypter>, String>>,
    kek: [u8; 32],
    kek_id: KeyId,
}

impl std::fmt::Debug for TestKeyCustody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKeyCustody")
            .field("name", &self.name)
            .field("signing_alg", &self.signing_alg)
            .finish_non_exhaustive()
    }
}

impl TestKeyCustody {
    /// A custody whose keys are named after `name` (kids `<name>-sig`,
    /// `<name>-enc`, `<name>-kek`), signing with PS256 as OFB requires.
    pub fn new(name: &str) -> Self {
        Self::with_signing_alg(name, JwsAlg::PS256)
    }

    /// The same, signing with `alg` (PS256 or ES256).
    pub fn with_signing_alg(name: &str, alg: JwsAlg) -> Self {
        let mut kek = [0u8; 32];
        // Only a broken machine's generator fails; the key would then be all
        // zeros, which is acceptable for a test-only custody.
        let _ = SystemRandom::new().fill(&mut kek);
        Self {
            name: name.to_owned(),
            signing_alg: alg,
            rsa_signer: OnceLock::new(),
            ec_signer: OnceLock::new(),
            decrypter: OnceLock::new(),
            kek,
            kek_id: key_id(&format!("{name}-kek")),
        }
    }

    fn rsa_signer(&self) -> Result<Arc<RsaSigner>, KeyError> {
        self.rsa_signer
            .get_or_init(|| {
                RsaKeyPair::generate(KeySize::Rsa2048)
                    .map(|key| {
                        Arc::new(RsaSigner {
                            kid: key_id(&format!("{}-sig", self.name)),
                            key,
                        })
                    })
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| KeyError::Other(e.into()))
    }

    fn ec_signer(&self) -> Result<Arc<EcSigner>, KeyError> {
        self.ec_signer
            .get_or_init(|| {
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map(|key| {
                        Arc::new(EcSigner {
                            kid: key_id(&format!("{}-sig-ec", self.name)),
                            key,
                        })
                    })
                    .map_err(|e| e.to_string())
            })
            .clone()
            .map_err(|e| KeyError::Other(e.into()))
    }

    fn rsa_decrypter(&self) -> Result<Arc<RsaDecrypter>, KeyError> {
        self.decrypter
            .get_or_init(|| {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|e| e.to_string())?;
                let pkcs8 = pair.as_der().map_err(|e| e.to_string())?;
                let private =
                    PrivateDecryptingKey::from_pkcs8(pkcs8.as_ref()).map_err(|e| e.to_string())?;
                let public = pair.public_key();
                Ok(Arc::new(RsaDecrypter {
                    kid: key_id(&format!("{}-enc", self.name)),
                    n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                    e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
                    key: OaepPrivateDecryptingKey::new(private).map_err(|e| e.to_string())?,
                }))
            })
            .clone()
            .map_err(|e| KeyError::Other(e.into()))
    }
}

#[allow(clippy::expect_used)] // sanitised to [A-Za-z0-9_-]{1,64}: always a valid kid
fn key_id(value: &str) -> KeyId {
    let mut clean: String = value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    if clean.is_empty() {
        clean.push_str("test");
    }
    KeyId::new(clean).expect("sanitised kid")
}

struct RsaSigner {
    kid: KeyId,
    key: RsaKeyPair,
}

impl std::fmt::Debug for RsaSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaSigner({})", self.kid)
    }
}

#[async_trait]
impl JwsSigner for RsaSigner {
    fn alg(&self) -> JwsAlg {
        JwsAlg::PS256
    }

    fn kid(&self) -> &KeyId {
        &self.kid
    }

    async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PSS_SHA256,
                &SystemRandom::new(),
                signing_input,
                &mut signature,
            )
            .map_err(|e| KeyError::Other(e.to_string().into()))?;
        Ok(signature)
    }
}

struct EcSigner {
    kid: KeyId,
    key: EcdsaKeyPair,
}

impl std::fmt::Debug for EcSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EcSigner({})", self.kid)
    }
}

#[async_trait]
impl JwsSigner for EcSigner {
    fn alg(&self) -> JwsAlg {
        JwsAlg::ES256
    }

    fn kid(&self) -> &KeyId {
        &self.kid
    }

    async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.key
            .sign(&SystemRandom::new(), signing_input)
            .map(|s| s.as_ref().to_vec())
            .map_err(|e| KeyError::Other(e.to_string().into()))
    }
}

struct RsaDecrypter {
    kid: KeyId,
    n: String,
    e: String,
    key: OaepPrivateDecryptingKey,
}

impl std::fmt::Debug for RsaDecrypter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaDecrypter({})", self.kid)
    }
}

#[async_trait]
impl CekDecrypter for RsaDecrypter {
    fn kid(&self) -> &KeyId {
        &self.kid
    }

    async fn decrypt_cek(
        &self,
        alg: KeyManagementAlg,
        encrypted_key: &[u8],
    ) -> Result<SecretBytes, KeyError> {
        let algorithm = match alg {
            KeyManagementAlg::RsaOaep => &OAEP_SHA1_MGF1SHA1,
            KeyManagementAlg::RsaOaep256 => &OAEP_SHA256_MGF1SHA256,
            _ => return Err(KeyError::UnsupportedAlgorithm),
        };
        let mut out = vec![0u8; self.key.min_output_size()];
        let len = self
            .key
            .decrypt(algorithm, encrypted_key, &mut out, None)
            .map_err(|_| KeyError::DecryptionFailed)?
            .len();
        out.truncate(len);
        Ok(SecretBytes::new(out))
    }
}

#[async_trait]
impl KeyCustody for TestKeyCustody {
    async fn signer(&self, _purpose: KeyPurpose) -> Result<Arc<dyn JwsSigner>, KeyError> {
        match self.signing_alg {
            JwsAlg::ES256 => Ok(self.ec_signer()?),
            _ => Ok(self.rsa_signer()?),
        }
    }

    async fn decrypter(&self, kid: &KeyId) -> Result<Arc<dyn CekDecrypter>, KeyError> {
        let decrypter = self.rsa_decrypter()?;
        if &decrypter.kid == kid {
            Ok(decrypter)
        } else {
            Err(KeyError::UnknownKey)
        }
    }

    async fn public_jwks(&self) -> Result<JwkSet, KeyError> {
        let mut keys = Vec::new();
        match self.signing_alg {
            JwsAlg::ES256 => {
                let signer = self.ec_signer()?;
                let point = signer.key.public_key().as_ref();
                // Uncompressed SEC1 point: 0x04 ‖ x ‖ y.
                let (x, y) = point
                    .get(1..)
                    .map(|xy| xy.split_at(32))
                    .unwrap_or((&[], &[]));
                keys.push(Jwk {
                    kty: "EC".into(),
                    kid: Some(signer.kid.to_string()),
                    use_: Some("sig".into()),
                    alg: Some("ES256".into()),
                    n: None,
                    e: None,
                    crv: Some("P-256".into()),
                    x: Some(URL_SAFE_NO_PAD.encode(x)),
                    y: Some(URL_SAFE_NO_PAD.encode(y)),
                    x5c: None,
                    x5t_s256: None,
                });
            }
            _ => {
                let signer = self.rsa_signer()?;
                let public = signer.key.public_key();
                keys.push(Jwk {
                    kty: "RSA".into(),
                    kid: Some(signer.kid.to_string()),
                    use_: Some("sig".into()),
                    alg: Some("PS256".into()),
                    n: Some(
                        URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                    ),
                    e: Some(
                        URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
                    ),
                    crv: None,
                    x: None,
                    y: None,
                    x5c: None,
                    x5t_s256: None,
                });
            }
        }
        let enc = self.rsa_decrypter()?;
        keys.push(Jwk {
            kty: "RSA".into(),
            kid: Some(enc.kid.to_string()),
            use_: Some("enc".into()),
            alg: Some("RSA-OAEP".into()),
            n: Some(enc.n.clone()),
            e: Some(enc.e.clone()),
            crv: None,
            x: None,
            y: None,
            x5c: None,
            x5t_s256: None,
        });
        Ok(JwkSet { keys })
    }

    async fn wrap_data_key(&self, key: &SecretBytes) -> Result<WrappedKey, KeyError> {
        let kek = AesKek::new(&AES_256, &self.kek).map_err(|_| KeyError::UnsupportedAlgorithm)?;
        let mut out = vec![0u8; key.len() + 8];
        let len = kek
            .wrap(key.expose(), &mut out)
            .map_err(|_| KeyError::UnsupportedAlgorithm)?
            .len();
        out.truncate(len);
        Ok(WrappedKey {
            kek_id: self.kek_id.clone(),
            alg: "A256KW".into(),
            bytes: out,
        })
    }

    async fn unwrap_data_key(&self, wrapped: &WrappedKey) -> Result<SecretBytes, KeyError> {
        if wrapped.kek_id != self.kek_id {
            return Err(KeyError::UnknownKey);
        }
        if wrapped.alg != "A256KW" {
            return Err(KeyError::UnsupportedAlgorithm);
        }
        let kek = AesKek::new(&AES_256, &self.kek).map_err(|_| KeyError::DecryptionFailed)?;
        let mut out = vec![0u8; wrapped.bytes.len()];
        let len = kek
            .unwrap(&wrapped.bytes, &mut out)
            .map_err(|_| KeyError::DecryptionFailed)?
            .len();
        out.truncate(len);
        Ok(SecretBytes::new(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{RSA_PSS_2048_8192_SHA256, RsaPublicKeyComponents};

    #[tokio::test]
    async fn signs_ps256_verifiably_and_wraps_data_keys() {
        let custody = TestKeyCustody::new("bank");
        let signer = custody.signer(KeyPurpose::MessageSigning).await.unwrap();
        assert_eq!(signer.alg(), JwsAlg::PS256);
        let signature = signer.sign(b"header.payload").await.unwrap();
        let jwks = custody.public_jwks().await.unwrap();
        let jwk = jwks.find(signer.kid().as_str()).unwrap();
        let n = URL_SAFE_NO_PAD.decode(jwk.n.as_ref().unwrap()).unwrap();
        let e = URL_SAFE_NO_PAD.decode(jwk.e.as_ref().unwrap()).unwrap();
        let public = RsaPublicKeyComponents { n: &n, e: &e };
        public
            .verify(&RSA_PSS_2048_8192_SHA256, b"header.payload", &signature)
            .unwrap();
        assert!(
            public
                .verify(&RSA_PSS_2048_8192_SHA256, b"header.payloaD", &signature)
                .is_err()
        );

        let data_key = SecretBytes::new(vec![7u8; 32]);
        let wrapped = custody.wrap_data_key(&data_key).await.unwrap();
        assert_ne!(wrapped.bytes, vec![7u8; 32]);
        assert_eq!(custody.unwrap_data_key(&wrapped).await.unwrap(), data_key);
        let mut tampered = wrapped.clone();
        tampered.bytes[3] ^= 1;
        assert!(matches!(
            custody.unwrap_data_key(&tampered).await,
            Err(KeyError::DecryptionFailed)
        ));
        let other = TestKeyCustody::new("other");
        assert!(other.unwrap_data_key(&wrapped).await.is_err());
    }

    #[tokio::test]
    async fn decrypts_rsa_oaep_cek() {
        use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey};
        let custody = TestKeyCustody::new("rp");
        let jwks = custody.public_jwks().await.unwrap();
        let enc = jwks
            .keys
            .iter()
            .find(|k| k.use_.as_deref() == Some("enc"))
            .unwrap();
        let n = URL_SAFE_NO_PAD.decode(enc.n.as_ref().unwrap()).unwrap();
        let e = URL_SAFE_NO_PAD.decode(enc.e.as_ref().unwrap()).unwrap();
        let components = aws_lc_rs::rsa::PublicKeyComponents {
            n: n.as_slice(),
            e: e.as_slice(),
        };
        let public: PublicEncryptingKey = components.try_into().unwrap();
        let oaep = OaepPublicEncryptingKey::new(public).unwrap();
        let mut ct = vec![0u8; oaep.ciphertext_size()];
        let ct = oaep
            .encrypt(&OAEP_SHA1_MGF1SHA1, &[42u8; 32], &mut ct, None)
            .unwrap()
            .to_vec();
        let kid = KeyId::new(enc.kid.clone().unwrap()).unwrap();
        let decrypter = custody.decrypter(&kid).await.unwrap();
        let cek = decrypter
            .decrypt_cek(KeyManagementAlg::RsaOaep, &ct)
            .await
            .unwrap();
        assert_eq!(cek.expose(), &[42u8; 32]);
        // The wrong OAEP hash fails with the one uniform error.
        assert!(matches!(
            decrypter
                .decrypt_cek(KeyManagementAlg::RsaOaep256, &ct)
                .await,
            Err(KeyError::DecryptionFailed)
        ));
    }

    #[tokio::test]
    async fn es256_signatures_are_raw_r_s() {
        let custody = TestKeyCustody::with_signing_alg("ec", JwsAlg::ES256);
        let signer = custody.signer(KeyPurpose::ClientSigning).await.unwrap();
        assert_eq!(signer.sign(b"x").await.unwrap().len(), 64);
        let jwks = custody.public_jwks().await.unwrap();
        assert_eq!(jwks.keys[0].crv.as_deref(), Some("P-256"));
    }
}
