//! Software key custody on aws-lc-rs.
//!
//! Keys live in process memory, used only through aws-lc-rs (constant-time
//! RSA, the fastest RSA signing measured for this stack). Load them from
//! PEM (PKCS#8, PKCS#1, SEC1), PKCS#8 DER or a private JWK, or generate
//! them. Several signing keys may be published at once while one signs
//! (rotation: publish the next key, switch the current signer, retire the
//! old one later).
//!
//! ```
//! # async fn demo() -> Result<(), opus_core::keys::KeyError> {
//! use opus_core::keys::{KeyCustody, KeyPurpose};
//! use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
//!
//! let custody = SoftwareKeyCustody::builder()
//!     .signing_key(SoftwareKey::generate_rsa("sig-2026-11")?)
//!     .encryption_key(SoftwareKey::generate_rsa("enc-2026-11")?)
//!     .generate_data_key_kek("kek-1")?
//!     .build()?;
//! let signer = custody.signer(KeyPurpose::MessageSigning).await?;
//! assert_eq!(signer.kid().as_str(), "sig-2026-11");
//! # Ok(()) }
//! ```
//!
//! # Security
//! The process holds the private keys: a memory dump exposes them. Banks
//! that must keep keys in an HSM use the `pkcs11` backend instead.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

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
use opus_core::KeyId;
use opus_core::keys::{
    CekDecrypter, Jwk, JwkSet, JwsAlg, JwsSigner, KeyCustody, KeyError, KeyManagementAlg,
    KeyPurpose, SecretBytes, WrappedKey,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::jose::header::parse_strict_object;
use crate::jose::jwk::{MIN_RSA_BITS, certificate_thumbprint, ec_jwk, rsa_jwk};
use crate::jose::{b64_decode, der};

const KW_ALG: &str = "A256KW";

fn rejected(what: &'static str) -> KeyError {
    KeyError::Other(what.into())
}

enum Material {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A private key held by the software custody.
pub struct SoftwareKey {
    kid: KeyId,
    material: Material,
    x5c: Option<Vec<Vec<u8>>>,
}

impl fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.material {
            Material::Rsa(_) => "RSA",
            Material::Ec(_) => "EC P-256",
        };
        write!(f, "SoftwareKey({}, {kind})", self.kid)
    }
}

fn kid(value: &str) -> Result<KeyId, KeyError> {
    KeyId::new(value).map_err(|_| rejected("invalid kid"))
}

fn check_rsa(pair: RsaKeyPair) -> Result<RsaKeyPair, KeyError> {
    if pair.public_modulus_len() * 8 < MIN_RSA_BITS {
        return Err(rejected("RSA key smaller than 2048 bits"));
    }
    Ok(pair)
}

impl SoftwareKey {
    /// A new RSA-2048 key (PS256 signing, or RSA-OAEP decryption).
    ///
    /// # Errors
    /// [`KeyError`] when generation fails or `kid` is invalid.
    pub fn generate_rsa(kid_value: &str) -> Result<Self, KeyError> {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| rejected("RSA generation failed"))?;
        Ok(Self {
            kid: kid(kid_value)?,
            material: Material::Rsa(pair),
            x5c: None,
        })
    }

    /// A new P-256 key (ES256 signing).
    ///
    /// # Errors
    /// [`KeyError`] when generation fails or `kid` is invalid.
    pub fn generate_ec(kid_value: &str) -> Result<Self, KeyError> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .map_err(|_| rejected("EC generation failed"))?;
        Ok(Self {
            kid: kid(kid_value)?,
            material: Material::Ec(pair),
            x5c: None,
        })
    }

    /// A key from PKCS#8 DER (RSA or P-256).
    ///
    /// # Errors
    /// [`KeyError`] when the DER is neither, or the RSA key is under 2048 bits.
    pub fn from_pkcs8_der(kid_value: &str, der: &[u8]) -> Result<Self, KeyError> {
        let material = match RsaKeyPair::from_pkcs8(der) {
            Ok(pair) => Material::Rsa(check_rsa(pair)?),
            Err(_) => Material::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|_| rejected("not an RSA or P-256 PKCS#8 key"))?,
            ),
        };
        Ok(Self {
            kid: kid(kid_value)?,
            material,
            x5c: None,
        })
    }

    /// A key from PEM: `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1) or
    /// `EC PRIVATE KEY` (SEC1, P-256).
    ///
    /// # Errors
    /// [`KeyError`] when no supported key is found.
    pub fn from_pem(kid_value: &str, pem: &str) -> Result<Self, KeyError> {
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|_| rejected("no private key in PEM"))?;
        let material = match &der {
            PrivateKeyDer::Pkcs8(d) => {
                return Self::from_pkcs8_der(kid_value, d.secret_pkcs8_der());
            }
            PrivateKeyDer::Pkcs1(d) => Material::Rsa(check_rsa(
                RsaKeyPair::from_der(d.secret_pkcs1_der())
                    .map_err(|_| rejected("bad PKCS#1 key"))?,
            )?),
            PrivateKeyDer::Sec1(d) => Material::Ec(
                EcdsaKeyPair::from_private_key_der(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    d.secret_sec1_der(),
                )
                .map_err(|_| rejected("bad SEC1 key"))?,
            ),
            _ => return Err(rejected("unsupported PEM key")),
        };
        Ok(Self {
            kid: kid(kid_value)?,
            material,
            x5c: None,
        })
    }

    /// A key from a private JWK (RSA with all CRT members, or EC P-256);
    /// the `kid` comes from the JWK.
    ///
    /// # Errors
    /// [`KeyError`] when the JWK is malformed, public only, or unsupported.
    pub fn from_jwk(json: &str) -> Result<Self, KeyError> {
        let members =
            parse_strict_object(json.as_bytes()).ok_or_else(|| rejected("malformed JWK"))?;
        let text = |name: &str| members.get(name).and_then(Value::as_str);
        let bytes = |name: &str| -> Result<Zeroizing<Vec<u8>>, KeyError> {
            text(name)
                .and_then(b64_decode)
                .map(Zeroizing::new)
                .ok_or_else(|| rejected("missing or malformed JWK member"))
        };
        let kid_value = text("kid").ok_or_else(|| rejected("JWK without kid"))?;
        let material = match text("kty") {
            Some("RSA") => {
                let names = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];
                let values = names.map(bytes);
                let mut parts: Vec<Zeroizing<Vec<u8>>> = Vec::with_capacity(8);
                for v in values {
                    parts.push(v?);
                }
                let refs: [&[u8]; 8] = std::array::from_fn(|i| parts[i].as_slice());
                let pkcs8 = Zeroizing::new(der::rsa_private_key_pkcs8(refs));
                Material::Rsa(check_rsa(
                    RsaKeyPair::from_pkcs8(&pkcs8).map_err(|_| rejected("bad RSA JWK"))?,
                )?)
            }
            Some("EC") if text("crv") == Some("P-256") => {
                let (x, y, d) = (bytes("x")?, bytes("y")?, bytes("d")?);
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Material::Ec(
                    EcdsaKeyPair::from_private_key_and_public_key(
                        &ECDSA_P256_SHA256_FIXED_SIGNING,
                        &d,
                        &point,
                    )
                    .map_err(|_| rejected("bad EC JWK"))?,
                )
            }
            _ => return Err(rejected("unsupported JWK")),
        };
        Ok(Self {
            kid: kid(kid_value)?,
            material,
            x5c: None,
        })
    }

    /// Publishes the key with its certificate chain (`x5c`, leaf first, DER)
    /// and the leaf's `x5t#S256`.
    pub fn with_certificate_chain(mut self, chain: Vec<Vec<u8>>) -> Self {
        self.x5c = Some(chain);
        self
    }

    /// The key's id.
    pub fn kid(&self) -> &KeyId {
        &self.kid
    }

    fn public_jwk(&self, use_: &str, alg: &str) -> Result<Jwk, KeyError> {
        let mut jwk = match &self.material {
            Material::Rsa(pair) => {
                let public = pair.public_key();
                rsa_jwk(
                    self.kid.as_str(),
                    use_,
                    alg,
                    public.modulus().big_endian_without_leading_zero(),
                    public.exponent().big_endian_without_leading_zero(),
                )
            }
            Material::Ec(pair) => ec_jwk(self.kid.as_str(), use_, alg, pair.public_key().as_ref())
                .map_err(|_| rejected("bad EC public key"))?,
        };
        if let Some(chain) = &self.x5c {
            use base64::Engine;
            let std = base64::engine::general_purpose::STANDARD;
            jwk.x5c = Some(chain.iter().map(|c| std.encode(c)).collect());
            jwk.x5t_s256 = chain.first().map(|leaf| certificate_thumbprint(leaf));
        }
        Ok(jwk)
    }
}

struct Signer {
    key: SoftwareKey,
    rng: SystemRandom,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SoftwareSigner({})", self.key.kid)
    }
}

#[async_trait]
impl JwsSigner for Signer {
    fn alg(&self) -> JwsAlg {
        match self.key.material {
            Material::Rsa(_) => JwsAlg::PS256,
            Material::Ec(_) => JwsAlg::ES256,
        }
    }

    fn kid(&self) -> &KeyId {
        &self.key.kid
    }

    /// Signs inline: an RSA-2048 signature costs about a quarter of a
    /// millisecond, less than handing it to a blocking pool would save.
    async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, KeyError> {
        match &self.key.material {
            Material::Rsa(pair) => {
                let mut signature = vec![0u8; pair.public_modulus_len()];
                pair.sign(&RSA_PSS_SHA256, &self.rng, signing_input, &mut signature)
                    .map_err(|_| rejected("RSA signing failed"))?;
                Ok(signature)
            }
            Material::Ec(pair) => pair
                .sign(&self.rng, signing_input)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| rejected("EC signing failed")),
        }
    }
}

struct Decrypter {
    kid: KeyId,
    key: OaepPrivateDecryptingKey,
}

impl fmt::Debug for Decrypter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SoftwareDecrypter({})", self.kid)
    }
}

#[async_trait]
impl CekDecrypter for Decrypter {
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
        let mut out = Zeroizing::new(vec![0u8; self.key.min_output_size()]);
        let len = self
            .key
            .decrypt(algorithm, encrypted_key, &mut out, None)
            .map_err(|_| KeyError::DecryptionFailed)?
            .len();
        Ok(SecretBytes::new(out[..len].to_vec()))
    }
}

/// Key custody with keys in process memory, on aws-lc-rs.
pub struct SoftwareKeyCustody {
    signers: Vec<Arc<Signer>>,
    current: HashMap<KeyPurpose, usize>,
    decrypters: Vec<(Arc<Decrypter>, Jwk)>,
    keks: Vec<(KeyId, Zeroizing<[u8; 32]>)>,
}

impl fmt::Debug for SoftwareKeyCustody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareKeyCustody")
            .field(
                "signing_keys",
                &self
                    .signers
                    .iter()
                    .map(|s| s.key.kid.as_str())
                    .collect::<Vec<_>>(),
            )
            .field(
                "encryption_keys",
                &self
                    .decrypters
                    .iter()
                    .map(|d| d.0.kid.as_str())
                    .collect::<Vec<_>>(),
            )
            .field(
                "keks",
                &self.keks.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SoftwareKeyCustody {
    /// Starts a custody.
    pub fn builder() -> SoftwareKeyCustodyBuilder {
        SoftwareKeyCustodyBuilder::default()
    }
}

/// Builder of a [`SoftwareKeyCustody`].
#[derive(Default)]
pub struct SoftwareKeyCustodyBuilder {
    signing: Vec<SoftwareKey>,
    current: HashMap<KeyPurpose, KeyId>,
    encryption: Vec<SoftwareKey>,
    keks: Vec<(KeyId, Zeroizing<[u8; 32]>)>,
}

impl fmt::Debug for SoftwareKeyCustodyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareKeyCustodyBuilder")
            .finish_non_exhaustive()
    }
}

impl SoftwareKeyCustodyBuilder {
    /// Adds a signing key (published in the JWKS with `use: sig`). The first
    /// one added signs for every purpose unless [`Self::current_signer`] says otherwise.
    pub fn signing_key(mut self, key: SoftwareKey) -> Self {
        self.signing.push(key);
        self
    }

    /// Makes `kid` the signer for `purpose` (the others stay published).
    pub fn current_signer(mut self, purpose: KeyPurpose, kid: KeyId) -> Self {
        self.current.insert(purpose, kid);
        self
    }

    /// Adds an RSA decryption key (published with `use: enc`, `alg: RSA-OAEP`).
    pub fn encryption_key(mut self, key: SoftwareKey) -> Self {
        self.encryption.push(key);
        self
    }

    /// Adds a key-encryption key for data keys (AES-256 key wrap). The last
    /// one added wraps new data keys; all of them unwrap.
    pub fn data_key_kek(
        mut self,
        kid_value: KeyId,
        secret: &SecretBytes,
    ) -> Result<Self, KeyError> {
        let bytes: [u8; 32] = secret
            .expose()
            .try_into()
            .map_err(|_| rejected("a KEK is 32 bytes"))?;
        self.keks.push((kid_value, Zeroizing::new(bytes)));
        Ok(self)
    }

    /// Adds a freshly generated key-encryption key (for tests and single-process
    /// deployments: data keys wrapped with it die with the process).
    ///
    /// # Errors
    /// [`KeyError`] when the random generator fails or `kid` is invalid.
    pub fn generate_data_key_kek(self, kid_value: &str) -> Result<Self, KeyError> {
        let mut raw = Zeroizing::new(vec![0u8; 32]);
        SystemRandom::new()
            .fill(&mut raw)
            .map_err(|_| rejected("random generator failed"))?;
        self.data_key_kek(kid(kid_value)?, &SecretBytes::new(raw.to_vec()))
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`KeyError`] for duplicate kids, a current signer that is not a signing
    /// key, or an encryption key that is not RSA.
    pub fn build(self) -> Result<SoftwareKeyCustody, KeyError> {
        let mut kids = std::collections::HashSet::new();
        let all = self
            .signing
            .iter()
            .map(|k| &k.kid)
            .chain(self.encryption.iter().map(|k| &k.kid));
        for k in all.chain(self.keks.iter().map(|k| &k.0)) {
            if !kids.insert(k.clone()) {
                return Err(rejected("duplicate kid"));
            }
        }
        let mut current = HashMap::new();
        for (purpose, wanted) in &self.current {
            let index = self
                .signing
                .iter()
                .position(|k| &k.kid == wanted)
                .ok_or(KeyError::UnknownKey)?;
            current.insert(*purpose, index);
        }
        let mut decrypters = Vec::new();
        for key in self.encryption {
            let Material::Rsa(pair) = &key.material else {
                return Err(rejected("encryption keys must be RSA"));
            };
            let pkcs8 = pair.as_der().map_err(|_| rejected("RSA export failed"))?;
            let private = PrivateDecryptingKey::from_pkcs8(pkcs8.as_ref())
                .map_err(|_| rejected("RSA import failed"))?;
            let jwk = key.public_jwk("enc", "RSA-OAEP")?;
            let oaep = OaepPrivateDecryptingKey::new(private)
                .map_err(|_| rejected("RSA-OAEP setup failed"))?;
            decrypters.push((
                Arc::new(Decrypter {
                    kid: key.kid.clone(),
                    key: oaep,
                }),
                jwk,
            ));
        }
        Ok(SoftwareKeyCustody {
            signers: self
                .signing
                .into_iter()
                .map(|key| {
                    Arc::new(Signer {
                        key,
                        rng: SystemRandom::new(),
                    })
                })
                .collect(),
            current,
            decrypters,
            keks: self.keks,
        })
    }
}

#[async_trait]
impl KeyCustody for SoftwareKeyCustody {
    async fn signer(&self, purpose: KeyPurpose) -> Result<Arc<dyn JwsSigner>, KeyError> {
        let index = self.current.get(&purpose).copied().unwrap_or(0);
        self.signers
            .get(index)
            .cloned()
            .map(|s| s as Arc<dyn JwsSigner>)
            .ok_or(KeyError::UnknownKey)
    }

    async fn decrypter(&self, kid: &KeyId) -> Result<Arc<dyn CekDecrypter>, KeyError> {
        self.decrypters
            .iter()
            .find(|(d, _)| &d.kid == kid)
            .map(|(d, _)| d.clone() as Arc<dyn CekDecrypter>)
            .ok_or(KeyError::UnknownKey)
    }

    async fn public_jwks(&self) -> Result<JwkSet, KeyError> {
        let mut keys = Vec::new();
        for signer in &self.signers {
            keys.push(signer.key.public_jwk("sig", signer.alg().as_str())?);
        }
        keys.extend(self.decrypters.iter().map(|(_, jwk)| jwk.clone()));
        Ok(JwkSet { keys })
    }

    async fn wrap_data_key(&self, key: &SecretBytes) -> Result<WrappedKey, KeyError> {
        let (kek_id, kek) = self.keks.last().ok_or(KeyError::UnknownKey)?;
        let wrapper = AesKek::new(&AES_256, kek.as_slice()).map_err(|_| rejected("bad KEK"))?;
        let mut out = vec![0u8; key.len() + 8];
        let len = wrapper
            .wrap(key.expose(), &mut out)
            .map_err(|_| rejected("key wrap failed"))?
            .len();
        out.truncate(len);
        Ok(WrappedKey {
            kek_id: kek_id.clone(),
            alg: KW_ALG.into(),
            bytes: out,
        })
    }

    async fn unwrap_data_key(&self, wrapped: &WrappedKey) -> Result<SecretBytes, KeyError> {
        let (_, kek) = self
            .keks
            .iter()
            .find(|(id, _)| id == &wrapped.kek_id)
            .ok_or(KeyError::UnknownKey)?;
        if wrapped.alg != KW_ALG {
            return Err(KeyError::UnsupportedAlgorithm);
        }
        let unwrapper =
            AesKek::new(&AES_256, kek.as_slice()).map_err(|_| KeyError::DecryptionFailed)?;
        let mut out = Zeroizing::new(vec![0u8; wrapped.bytes.len()]);
        let len = unwrapper
            .unwrap(&wrapped.bytes, &mut out)
            .map_err(|_| KeyError::DecryptionFailed)?
            .len();
        Ok(SecretBytes::new(out[..len].to_vec()))
    }
}
