//! Key custody: the port through which every private-key operation goes.
//!
//! Institutions keep private keys in HSMs or cloud KMSs; the SDK never needs
//! a private key's bytes. [`KeyCustody`] hands out *handles* — a
//! [`JwsSigner`] that signs, a [`CekDecrypter`] that unwraps a JWE content
//! key — and wraps and unwraps the data keys that seal data at rest. It
//! also publishes the public keys as a JWKS. Nothing here exports a key.
//!
//! One custody serves one key owner: a brand on the server side, or a
//! software statement on the client side. Multi-brand servers hold one per
//! brand.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::id::KeyId;

/// JWS algorithms the SDK signs and verifies with (RFC 7518 §3.1).
///
/// FAPI-BR allows only PS256 for OFB messages; ES256 serves non-ICP uses
/// (and tests); RS256 exists only for verifying legacy peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum JwsAlg {
    /// RSASSA-PSS with SHA-256 and MGF1-SHA-256, salt length 32.
    PS256,
    /// ECDSA on P-256 with SHA-256; the signature is the 64-byte `r ‖ s`.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (verification of legacy peers only).
    RS256,
}

impl JwsAlg {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PS256 => "PS256",
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
        }
    }
}

/// JWE key-management algorithms for content-key unwrapping (RFC 7518 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum KeyManagementAlg {
    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1 (`RSA-OAEP`, the OFB ID-token default).
    #[serde(rename = "RSA-OAEP")]
    RsaOaep,
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256 (`RSA-OAEP-256`).
    #[serde(rename = "RSA-OAEP-256")]
    RsaOaep256,
}

impl KeyManagementAlg {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RsaOaep => "RSA-OAEP",
            Self::RsaOaep256 => "RSA-OAEP-256",
        }
    }
}

/// What a signing key is for. A custody may use one key for several purposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyPurpose {
    /// Server-side signatures: ID tokens, signed payment responses, JWKS-published keys.
    MessageSigning,
    /// Client-side signatures: `private_key_jwt` assertions, request objects,
    /// signed payment requests.
    ClientSigning,
}

/// Secret bytes (a content key, a data key) that are zeroed on drop and
/// never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The secret.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}

/// A data key wrapped (encrypted) under a key-encryption key that stays in custody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    /// The key-encryption key that wrapped it.
    pub kek_id: KeyId,
    /// The wrapping algorithm, as the custody names it (e.g. `A256KW`, `RSA-OAEP-256`).
    pub alg: String,
    /// The wrapped key.
    pub bytes: Vec<u8>,
}

/// Failures of key custody.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// No key with this id, or none for this purpose.
    #[error("unknown key")]
    UnknownKey,
    /// The key cannot do this algorithm.
    #[error("algorithm not supported by this key")]
    UnsupportedAlgorithm,
    /// Decryption or unwrapping failed. Deliberately uniform: padding, length
    /// and tag failures are indistinguishable.
    #[error("decryption failed")]
    DecryptionFailed,
    /// The custody backend (HSM, KMS) is unreachable or busy; retry later.
    #[error("key custody unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Any other backend failure.
    #[error("key custody failure")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A handle that signs JWS signing inputs with a key it never reveals.
#[async_trait]
pub trait JwsSigner: fmt::Debug + Send + Sync {
    /// The algorithm this key signs with.
    fn alg(&self) -> JwsAlg;

    /// The `kid` to put in the JOSE header (as published in the JWKS).
    fn kid(&self) -> &KeyId;

    /// Signs `signing_input` (`BASE64URL(header) || '.' || BASE64URL(payload)`)
    /// and returns the raw JWS signature bytes (for ES256, `r ‖ s`).
    ///
    /// # Errors
    /// [`KeyError`] when the backend fails.
    async fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>, KeyError>;
}

/// A handle that unwraps JWE content-encryption keys with a private key it
/// never reveals.
#[async_trait]
pub trait CekDecrypter: fmt::Debug + Send + Sync {
    /// The `kid` of the encryption key.
    fn kid(&self) -> &KeyId;

    /// Decrypts the JWE Encrypted Key.
    ///
    /// # Errors
    /// [`KeyError::DecryptionFailed`] for any cryptographic failure (one
    /// indistinguishable error), [`KeyError::UnsupportedAlgorithm`] for an
    /// algorithm the key does not do.
    async fn decrypt_cek(
        &self,
        alg: KeyManagementAlg,
        encrypted_key: &[u8],
    ) -> Result<SecretBytes, KeyError>;
}

/// The key-custody port (HSM, KMS, or software keys).
#[async_trait]
pub trait KeyCustody: Send + Sync + 'static {
    /// The current signer for `purpose`. During rotation several keys are
    /// published; exactly one signs.
    ///
    /// # Errors
    /// [`KeyError::UnknownKey`] when no key serves `purpose`.
    async fn signer(&self, purpose: KeyPurpose) -> Result<Arc<dyn JwsSigner>, KeyError>;

    /// The decrypter for the encryption key `kid`.
    ///
    /// # Errors
    /// [`KeyError::UnknownKey`] when `kid` is not an encryption key in custody.
    async fn decrypter(&self, kid: &KeyId) -> Result<Arc<dyn CekDecrypter>, KeyError>;

    /// The public keys to publish (signing and encryption), without any
    /// private parameter.
    ///
    /// # Errors
    /// [`KeyError`] when the backend cannot list its keys.
    async fn public_jwks(&self) -> Result<JwkSet, KeyError>;

    /// Wraps a fresh data key (used to seal data at rest) under the current
    /// key-encryption key.
    ///
    /// # Errors
    /// [`KeyError`] when the backend fails.
    async fn wrap_data_key(&self, key: &SecretBytes) -> Result<WrappedKey, KeyError>;

    /// Unwraps a data key wrapped by [`KeyCustody::wrap_data_key`], possibly
    /// under an older key-encryption key.
    ///
    /// # Errors
    /// [`KeyError::UnknownKey`] for an unknown `kek_id`;
    /// [`KeyError::DecryptionFailed`] when the blob does not unwrap.
    async fn unwrap_data_key(&self, wrapped: &WrappedKey) -> Result<SecretBytes, KeyError>;
}

/// A public JSON Web Key (RFC 7517), as custody publishes it and as the
/// directory serves it. Private members are not representable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `RSA` or `EC`.
    pub kty: String,
    /// Key id.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kid: Option<String>,
    /// Intended use: `sig` or `enc`.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none", default)]
    pub use_: Option<String>,
    /// Algorithm intended for the key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub alg: Option<String>,
    /// RSA modulus (base64url).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub n: Option<String>,
    /// RSA public exponent (base64url).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub e: Option<String>,
    /// EC curve.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub crv: Option<String>,
    /// EC x coordinate (base64url).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub x: Option<String>,
    /// EC y coordinate (base64url).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub y: Option<String>,
    /// Certificate chain (standard base64 DER, leaf first).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub x5c: Option<Vec<String>>,
    /// SHA-256 thumbprint of the leaf certificate (base64url).
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none", default)]
    pub x5t_s256: Option<String>,
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// The key with this `kid`, if any.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
    }
}
