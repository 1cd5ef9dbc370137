//! Key custody in a PKCS#11 module (an HSM), through the `cryptoki` crate.
//!
//! Keys are token objects found by `CKA_LABEL` (which is also their `kid`)
//! and used only inside the module: PS256 with `CKM_SHA256_RSA_PKCS_PSS`
//! (SHA-256, MGF1-SHA-256, 32-byte salt), ES256 with `CKM_ECDSA` over a
//! SHA-256 digest, content-key unwrapping with `CKM_RSA_PKCS_OAEP`, and
//! data-key wrapping with `CKM_AES_KEY_WRAP` (RFC 3394) under an AES key
//! (`C_WrapKey`/`C_UnwrapKey` through a temporary session object).
//!
//! RSA-OAEP-256 needs a module that supports OAEP with SHA-256; SoftHSM2
//! 2.6 supports only SHA-1 (RSA-OAEP, the OFB ID-token default), and the
//! custody then reports [`KeyError::UnsupportedAlgorithm`] for RSA-OAEP-256.
//! [`provision`] creates such keys non-extractable and sensitive.
//!
//! PKCS#11 calls block, so each runs on the blocking pool with a session
//! taken from a small pool (a PKCS#11 session must not be used by two
//! threads at once); the module is logged in once, for all sessions.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_lc_rs::digest;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use opus_core::KeyId;
use opus_core::keys::{
    CekDecrypter, Jwk, JwkSet, JwsAlg, JwsSigner, KeyCustody, KeyError, KeyManagementAlg,
    KeyPurpose, SecretBytes, WrappedKey,
};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::jose::jwk::{ec_jwk, rsa_jwk};

const KW_ALG: &str = "A256KW";

fn backend(e: impl fmt::Display) -> KeyError {
    KeyError::Other(format!("PKCS#11: {e}").into())
}

/// How to reach the module and which keys to use.
#[derive(Clone)]
pub struct Pkcs11Config {
    /// Path of the module (e.g. `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// Label of the token.
    pub token_label: String,
    /// User PIN.
    pub pin: Zeroizing<String>,
    /// Labels (kids) of signing keys; the first signs unless `current_signer` says otherwise.
    pub signing_keys: Vec<KeyId>,
    /// The signing key for every purpose, if not the first.
    pub current_signer: Option<KeyId>,
    /// Labels of RSA decryption keys.
    pub encryption_keys: Vec<KeyId>,
    /// Labels of AES key-encryption keys for data keys; the last one wraps.
    pub data_key_keks: Vec<KeyId>,
    /// Sessions in the pool (default 4).
    pub sessions: usize,
}

impl fmt::Debug for Pkcs11Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Config")
            .field("module", &self.module)
            .field("token_label", &self.token_label)
            .field("signing_keys", &self.signing_keys)
            .field("encryption_keys", &self.encryption_keys)
            .field("data_key_keks", &self.data_key_keks)
            .finish_non_exhaustive()
    }
}

/// A pool of logged-in sessions on one token.
struct SessionPool {
    sessions: Mutex<Vec<Session>>,
    permits: Semaphore,
    _context: Pkcs11,
}

impl SessionPool {
    /// Runs `f` with a session on the blocking pool.
    async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, KeyError>
    where
        T: Send + 'static,
        F: FnOnce(&Session) -> Result<T, KeyError> + Send + 'static,
    {
        let _permit = self.permits.acquire().await.map_err(backend)?;
        let session = self
            .sessions
            .lock()
            .map_err(|_| backend("session pool poisoned"))?
            .pop()
            .ok_or_else(|| backend("no free session"))?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let result = f(&session);
            if let Ok(mut sessions) = pool.sessions.lock() {
                sessions.push(session);
            }
            result
        })
        .await
        .map_err(backend)?
    }
}

struct KeyHandle {
    kid: KeyId,
    handle: ObjectHandle,
}

struct Signer {
    key: KeyHandle,
    alg: JwsAlg,
    pool: Arc<SessionPool>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs11Signer({})", self.key.kid)
    }
}

#[async_trait]
impl JwsSigner for Signer {
    fn alg(&self) -> JwsAlg {
        self.alg
    }

    fn kid(&self) -> &KeyId {
        &self.key.kid
    }

    async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, KeyError> {
        let handle = self.key.handle;
        match self.alg {
            JwsAlg::ES256 => {
                let hash = digest::digest(&digest::SHA256, signing_input)
                    .as_ref()
                    .to_vec();
                self.pool
                    .run(move |s| s.sign(&Mechanism::Ecdsa, handle, &hash).map_err(backend))
                    .await
            }
            _ => {
                let input = signing_input.to_vec();
                let params = PkcsPssParams {
                    hash_alg: MechanismType::SHA256,
                    mgf: PkcsMgfType::MGF1_SHA256,
                    s_len: 32.into(),
                };
                self.pool
                    .run(move |s| {
                        s.sign(&Mechanism::Sha256RsaPkcsPss(params), handle, &input)
                            .map_err(backend)
                    })
                    .await
            }
        }
    }
}

struct Decrypter {
    key: KeyHandle,
    pool: Arc<SessionPool>,
}

impl fmt::Debug for Decrypter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs11Decrypter({})", self.key.kid)
    }
}

#[async_trait]
impl CekDecrypter for Decrypter {
    fn kid(&self) -> &KeyId {
        &self.key.kid
    }

    async fn decrypt_cek(
        &self,
        alg: KeyManagementAlg,
        encrypted_key: &[u8],
    ) -> Result<SecretBytes, KeyError> {
        let (hash, mgf) = match alg {
            KeyManagementAlg::RsaOaep => (MechanismType::SHA1, PkcsMgfType::MGF1_SHA1),
            KeyManagementAlg::RsaOaep256 => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
            _ => return Err(KeyError::UnsupportedAlgorithm),
        };
        let handle = self.key.handle;
        let input = encrypted_key.to_vec();
        self.pool
            .run(move |s| {
                let mechanism =
                    Mechanism::RsaPkcsOaep(PkcsOaepParams::new(hash, mgf, PkcsOaepSource::empty()));
                match s.decrypt(&mechanism, handle, &input) {
                    Ok(plain) => Ok(SecretBytes::new(plain)),
                    Err(cryptoki::error::Error::Pkcs11(rv, _)) if is_unsupported(rv) => {
                        Err(KeyError::UnsupportedAlgorithm)
                    }
                    // Any other failure: one uniform error, nothing about why.
                    Err(_) => Err(KeyError::DecryptionFailed),
                }
            })
            .await
    }
}

fn is_unsupported(rv: cryptoki::error::RvError) -> bool {
    use cryptoki::error::RvError;
    matches!(
        rv,
        RvError::MechanismInvalid | RvError::MechanismParamInvalid | RvError::ArgumentsBad
    )
}

/// Key custody in a PKCS#11 module.
pub struct Pkcs11KeyCustody {
    signers: Vec<Arc<Signer>>,
    current: usize,
    decrypters: Vec<Arc<Decrypter>>,
    keks: Vec<KeyHandle>,
    jwks: JwkSet,
    pool: Arc<SessionPool>,
}

impl fmt::Debug for Pkcs11KeyCustody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11KeyCustody")
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
                    .map(|d| d.key.kid.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// The process-wide context of a module. A PKCS#11 module is initialised
/// once per process and finalised when its context is dropped, which would
/// pull the module from under every other user in the process; so contexts
/// are shared per module path and kept for the life of the process.
fn context(module: &std::path::Path) -> Result<Pkcs11, KeyError> {
    static CONTEXTS: std::sync::OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> =
        std::sync::OnceLock::new();
    let mut contexts = CONTEXTS
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .map_err(|_| backend("context registry poisoned"))?;
    if let Some(ctx) = contexts.get(module) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(module).map_err(backend)?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(())
        | Err(cryptoki::error::Error::Pkcs11(
            cryptoki::error::RvError::CryptokiAlreadyInitialized,
            _,
        )) => {}
        Err(e) => return Err(backend(e)),
    }
    contexts.insert(module.to_path_buf(), ctx.clone());
    Ok(ctx)
}

fn find_token(ctx: &Pkcs11, label: &str) -> Result<Slot, KeyError> {
    for slot in ctx.get_slots_with_initialized_token().map_err(backend)? {
        let info = ctx.get_token_info(slot).map_err(backend)?;
        if info.label().trim_end() == label {
            return Ok(slot);
        }
    }
    Err(backend("token not found"))
}

fn find_object(
    session: &Session,
    class: ObjectClass,
    label: &KeyId,
) -> Result<ObjectHandle, KeyError> {
    let found = session
        .find_objects(&[
            Attribute::Class(class),
            Attribute::Label(label.as_str().as_bytes().to_vec()),
        ])
        .map_err(backend)?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(KeyError::UnknownKey),
        _ => Err(backend("several objects share a label")),
    }
}

/// The public JWK and algorithm of the key pair labelled `label`.
fn public_jwk(session: &Session, label: &KeyId, use_: &str) -> Result<(Jwk, JwsAlg), KeyError> {
    let public = find_object(session, ObjectClass::PUBLIC_KEY, label)?;
    let attrs = session
        .get_attributes(public, &[AttributeType::KeyType])
        .map_err(backend)?;
    let key_type = attrs.iter().find_map(|a| match a {
        Attribute::KeyType(t) => Some(*t),
        _ => None,
    });
    if key_type == Some(KeyType::EC) {
        let attrs = session
            .get_attributes(public, &[AttributeType::EcPoint])
            .map_err(backend)?;
        let point = attrs
            .iter()
            .find_map(|a| match a {
                Attribute::EcPoint(p) => Some(p.clone()),
                _ => None,
            })
            .ok_or_else(|| backend("no EC point"))?;
        // CKA_EC_POINT is a DER OCTET STRING around the SEC1 point.
        let raw = match point.as_slice() {
            [0x04, 0x41, rest @ ..] if rest.len() == 65 => rest.to_vec(),
            other => other.to_vec(),
        };
        let jwk =
            ec_jwk(label.as_str(), use_, "ES256", &raw).map_err(|_| backend("bad EC point"))?;
        return Ok((jwk, JwsAlg::ES256));
    }
    let attrs = session
        .get_attributes(
            public,
            &[AttributeType::Modulus, AttributeType::PublicExponent],
        )
        .map_err(backend)?;
    let (mut n, mut e) = (Vec::new(), Vec::new());
    for a in attrs {
        match a {
            Attribute::Modulus(v) => n = v,
            Attribute::PublicExponent(v) => e = v,
            _ => {}
        }
    }
    if n.len() * 8 < crate::jose::jwk::MIN_RSA_BITS {
        return Err(backend("RSA key smaller than 2048 bits"));
    }
    let alg = if use_ == "enc" { "RSA-OAEP" } else { "PS256" };
    Ok((rsa_jwk(label.as_str(), use_, alg, &n, &e), JwsAlg::PS256))
}

impl Pkcs11KeyCustody {
    /// Loads the module, logs in to the token and finds the configured keys.
    ///
    /// # Errors
    /// [`KeyError`] when the module, token or a key cannot be found.
    pub async fn open(config: Pkcs11Config) -> Result<Self, KeyError> {
        tokio::task::spawn_blocking(move || Self::open_blocking(&config))
            .await
            .map_err(backend)?
    }

    fn open_blocking(config: &Pkcs11Config) -> Result<Self, KeyError> {
        let ctx = context(&config.module)?;
        let slot = find_token(&ctx, &config.token_label)?;
        let count = config.sessions.max(1);
        let mut sessions = Vec::with_capacity(count);
        for _ in 0..count {
            sessions.push(ctx.open_rw_session(slot).map_err(backend)?);
        }
        let pin = AuthPin::from(config.pin.as_str().to_owned());
        match sessions[0].login(UserType::User, Some(&pin)) {
            Ok(()) => {}
            Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::UserAlreadyLoggedIn,
                _,
            )) => {}
            Err(e) => return Err(backend(e)),
        }
        let session = &sessions[0];
        let mut jwks = JwkSet::default();
        let mut signing = Vec::new();
        for label in &config.signing_keys {
            let (jwk, alg) = public_jwk(session, label, "sig")?;
            jwks.keys.push(jwk);
            let handle = find_object(session, ObjectClass::PRIVATE_KEY, label)?;
            signing.push((
                KeyHandle {
                    kid: label.clone(),
                    handle,
                },
                alg,
            ));
        }
        let mut encryption = Vec::new();
        for label in &config.encryption_keys {
            let (jwk, _) = public_jwk(session, label, "enc")?;
            jwks.keys.push(jwk);
            encryption.push(KeyHandle {
                kid: label.clone(),
                handle: find_object(session, ObjectClass::PRIVATE_KEY, label)?,
            });
        }
        let mut keks = Vec::new();
        for label in &config.data_key_keks {
            keks.push(KeyHandle {
                kid: label.clone(),
                handle: find_object(session, ObjectClass::SECRET_KEY, label)?,
            });
        }
        let current = match &config.current_signer {
            Some(kid) => signing
                .iter()
                .position(|(k, _)| &k.kid == kid)
                .ok_or(KeyError::UnknownKey)?,
            None => 0,
        };
        let pool = Arc::new(SessionPool {
            sessions: Mutex::new(sessions),
            permits: Semaphore::new(count),
            _context: ctx,
        });
        Ok(Self {
            signers: signing
                .into_iter()
                .map(|(key, alg)| {
                    Arc::new(Signer {
                        key,
                        alg,
                        pool: pool.clone(),
                    })
                })
                .collect(),
            current,
            decrypters: encryption
                .into_iter()
                .map(|key| {
                    Arc::new(Decrypter {
                        key,
                        pool: pool.clone(),
                    })
                })
                .collect(),
            keks,
            jwks,
            pool,
        })
    }
}

#[async_trait]
impl KeyCustody for Pkcs11KeyCustody {
    async fn signer(&self, _purpose: KeyPurpose) -> Result<Arc<dyn JwsSigner>, KeyError> {
        self.signers
            .get(self.current)
            .cloned()
            .map(|s| s as Arc<dyn JwsSigner>)
            .ok_or(KeyError::UnknownKey)
    }

    async fn decrypter(&self, kid: &KeyId) -> Result<Arc<dyn CekDecrypter>, KeyError> {
        self.decrypters
            .iter()
            .find(|d| &d.key.kid == kid)
            .map(|d| d.clone() as Arc<dyn CekDecrypter>)
            .ok_or(KeyError::UnknownKey)
    }

    async fn public_jwks(&self) -> Result<JwkSet, KeyError> {
        Ok(self.jwks.clone())
    }

    /// Imports the data key as a temporary session object, wraps it with
    /// `CKM_AES_KEY_WRAP` under the KEK (`C_WrapKey`), and destroys the object.
    async fn wrap_data_key(&self, key: &SecretBytes) -> Result<WrappedKey, KeyError> {
        let kek = self.keks.last().ok_or(KeyError::UnknownKey)?;
        let (handle, kek_id) = (kek.handle, kek.kid.clone());
        let plain = Zeroizing::new(key.expose().to_vec());
        let bytes = self
            .pool
            .run(move |s| {
                let data_key = s
                    .create_object(&[
                        Attribute::Class(ObjectClass::SECRET_KEY),
                        Attribute::KeyType(KeyType::AES),
                        Attribute::Token(false),
                        Attribute::Sensitive(false),
                        Attribute::Extractable(true),
                        Attribute::Value(plain.to_vec()),
                    ])
                    .map_err(backend)?;
                let wrapped = s
                    .wrap_key(&Mechanism::AesKeyWrap, handle, data_key)
                    .map_err(backend);
                let _ = s.destroy_object(data_key);
                wrapped
            })
            .await?;
        Ok(WrappedKey {
            kek_id,
            alg: KW_ALG.into(),
            bytes,
        })
    }

    /// Unwraps into a temporary session object (`C_UnwrapKey`), reads its
    /// value, and destroys the object.
    async fn unwrap_data_key(&self, wrapped: &WrappedKey) -> Result<SecretBytes, KeyError> {
        let kek = self
            .keks
            .iter()
            .find(|k| k.kid == wrapped.kek_id)
            .ok_or(KeyError::UnknownKey)?;
        if wrapped.alg != KW_ALG {
            return Err(KeyError::UnsupportedAlgorithm);
        }
        let handle = kek.handle;
        let input = wrapped.bytes.clone();
        self.pool
            .run(move |s| {
                let template = [
                    Attribute::Class(ObjectClass::SECRET_KEY),
                    Attribute::KeyType(KeyType::AES),
                    Attribute::Token(false),
                    Attribute::Sensitive(false),
                    Attribute::Extractable(true),
                ];
                let data_key = s
                    .unwrap_key(&Mechanism::AesKeyWrap, handle, &input, &template)
                    .map_err(|_| KeyError::DecryptionFailed)?;
                let value = s.get_attributes(data_key, &[AttributeType::Value]);
                let _ = s.destroy_object(data_key);
                value
                    .map_err(|_| KeyError::DecryptionFailed)?
                    .into_iter()
                    .find_map(|a| match a {
                        Attribute::Value(v) => Some(SecretBytes::new(v)),
                        _ => None,
                    })
                    .ok_or(KeyError::DecryptionFailed)
            })
            .await
    }
}

/// Creating keys in a token: non-extractable, sensitive, token objects.
pub mod provision {
    use super::*;

    /// Opens a logged-in session on the token labelled `token_label`.
    ///
    /// # Errors
    /// [`KeyError`] when the module or token cannot be used.
    pub fn session(
        module: &std::path::Path,
        token_label: &str,
        pin: &str,
    ) -> Result<(Pkcs11, Session), KeyError> {
        let ctx = context(module)?;
        let slot = find_token(&ctx, token_label)?;
        let session = ctx.open_rw_session(slot).map_err(backend)?;
        match session.login(UserType::User, Some(&AuthPin::from(pin.to_owned()))) {
            Ok(())
            | Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::UserAlreadyLoggedIn,
                _,
            )) => {}
            Err(e) => return Err(backend(e)),
        }
        Ok((ctx, session))
    }

    fn private_template(label: &KeyId, sign: bool) -> Vec<Attribute> {
        vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(sign),
            Attribute::Decrypt(!sign),
            Attribute::Label(label.as_str().as_bytes().to_vec()),
            Attribute::Id(label.as_str().as_bytes().to_vec()),
        ]
    }

    /// Generates an RSA-2048 key pair labelled `label`, for signing (PS256)
    /// or, with `sign = false`, for RSA-OAEP decryption.
    ///
    /// # Errors
    /// [`KeyError`] when the token refuses.
    pub fn rsa_key_pair(session: &Session, label: &KeyId, sign: bool) -> Result<(), KeyError> {
        let public = vec![
            Attribute::Token(true),
            Attribute::Verify(sign),
            Attribute::Encrypt(!sign),
            Attribute::ModulusBits(2048.into()),
            Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
            Attribute::Label(label.as_str().as_bytes().to_vec()),
            Attribute::Id(label.as_str().as_bytes().to_vec()),
        ];
        session
            .generate_key_pair(
                &Mechanism::RsaPkcsKeyPairGen,
                &public,
                &private_template(label, sign),
            )
            .map(|_| ())
            .map_err(backend)
    }

    /// Generates a P-256 signing key pair labelled `label` (ES256).
    ///
    /// # Errors
    /// [`KeyError`] when the token refuses.
    pub fn ec_key_pair(session: &Session, label: &KeyId) -> Result<(), KeyError> {
        // DER OID of prime256v1 (1.2.840.10045.3.1.7).
        let p256 = vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        let public = vec![
            Attribute::Token(true),
            Attribute::Verify(true),
            Attribute::EcParams(p256),
            Attribute::Label(label.as_str().as_bytes().to_vec()),
            Attribute::Id(label.as_str().as_bytes().to_vec()),
        ];
        session
            .generate_key_pair(
                &Mechanism::EccKeyPairGen,
                &public,
                &private_template(label, true),
            )
            .map(|_| ())
            .map_err(backend)
    }

    /// Generates an AES-256 key-encryption key labelled `label`.
    ///
    /// # Errors
    /// [`KeyError`] when the token refuses.
    pub fn aes_kek(session: &Session, label: &KeyId) -> Result<(), KeyError> {
        let template = vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::AES),
            Attribute::ValueLen(32.into()),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Wrap(true),
            Attribute::Unwrap(true),
            Attribute::Label(label.as_str().as_bytes().to_vec()),
        ];
        session
            .generate_key(&Mechanism::AesKeyGen, &template)
            .map(|_| ())
            .map_err(backend)
    }
}
