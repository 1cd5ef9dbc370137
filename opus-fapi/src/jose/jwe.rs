//! JSON Web Encryption, compact serialisation (RFC 7516).
//!
//! * Key management: `RSA-OAEP` (the OFB ID-token default) and
//!   `RSA-OAEP-256`. Content: `A256GCM` (encrypt and decrypt) and
//!   `A128CBC-HS256` (decrypt).
//! * Encryption is to a recipient's public `use=enc` key; decryption goes
//!   through a `KeyCustody` [`CekDecrypter`], so the private key stays in
//!   custody.
//! * **Every decryption failure is the same error** ([`JweError::Decryption`]):
//!   when the encrypted key does not unwrap, a random content key is used and
//!   decryption proceeds to fail at the tag (RFC 7516 §11.5), so a wrong key,
//!   a tampered key, IV, ciphertext, tag or header cannot be told apart.
//! * `zip` is refused (compression before encryption leaks length), as is
//!   any `crit`.

use aws_lc_rs::aead::{self, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::cipher::{AES_128, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey};
use aws_lc_rs::constant_time;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::rsa::{
    OAEP_SHA1_MGF1SHA1, OAEP_SHA256_MGF1SHA256, OaepPublicEncryptingKey, PublicEncryptingKey,
    PublicKeyComponents,
};
use opus_core::KeyId;
use opus_core::keys::{CekDecrypter, Jwk, JwkSet, KeyCustody, KeyManagementAlg};
use serde::Serialize;
use zeroize::Zeroizing;

use super::header::{JoseHeader, typ_matches};
use super::jwk::{self, PublicKey};
use super::jws::{self, JwsError, JwsPolicy, VerifiedJws};
use super::{b64_decode, b64_encode};

/// Content-encryption algorithms (RFC 7518 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ContentEncryption {
    /// AES-256-GCM.
    A256Gcm,
    /// AES-128-CBC with HMAC-SHA-256 (decryption only).
    A128CbcHs256,
}

impl ContentEncryption {
    /// The `enc` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A256Gcm => "A256GCM",
            Self::A128CbcHs256 => "A128CBC-HS256",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "A256GCM" => Some(Self::A256Gcm),
            "A128CBC-HS256" => Some(Self::A128CbcHs256),
            _ => None,
        }
    }

    fn key_len(self) -> usize {
        32
    }
}

fn management_from_name(name: &str) -> Option<KeyManagementAlg> {
    match name {
        "RSA-OAEP" => Some(KeyManagementAlg::RsaOaep),
        "RSA-OAEP-256" => Some(KeyManagementAlg::RsaOaep256),
        _ => None,
    }
}

/// Why a JWE could not be made or opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JweError {
    /// Encryption failed (unusable recipient key, random generator).
    #[error("JWE encryption failed")]
    Encryption,
    /// Decryption failed. One error for every cause, by design.
    #[error("JWE decryption failed")]
    Decryption,
    /// The decrypted content is a nested JWS that did not verify.
    #[error(transparent)]
    Nested(#[from] JwsError),
}

/// What a decrypter accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwePolicy {
    key_management: Vec<KeyManagementAlg>,
    content: Vec<ContentEncryption>,
}

impl JwePolicy {
    /// The OFB ID token: `RSA-OAEP` or `RSA-OAEP-256` with `A256GCM`.
    pub fn ofb() -> Self {
        Self {
            key_management: vec![KeyManagementAlg::RsaOaep, KeyManagementAlg::RsaOaep256],
            content: vec![ContentEncryption::A256Gcm],
        }
    }

    /// An explicit allow-list.
    pub fn allowing(key_management: &[KeyManagementAlg], content: &[ContentEncryption]) -> Self {
        Self {
            key_management: key_management.to_vec(),
            content: content.to_vec(),
        }
    }
}

/// A decrypted JWE.
#[derive(Debug)]
pub struct DecryptedJwe {
    header: JoseHeader,
    plaintext: Zeroizing<Vec<u8>>,
}

impl DecryptedJwe {
    /// The protected header.
    pub fn header(&self) -> &JoseHeader {
        &self.header
    }

    /// The plaintext.
    pub fn plaintext(&self) -> &[u8] {
        &self.plaintext
    }
}

/// Header members of a JWE we make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncryptOptions<'a> {
    /// Key management.
    pub alg: KeyManagementAlg,
    /// Content encryption (only `A256GCM` is produced).
    pub enc: ContentEncryption,
    /// `cty`: `JWT` for a nested token.
    pub cty: Option<&'a str>,
    /// `typ`.
    pub typ: Option<&'a str>,
}

impl EncryptOptions<'_> {
    /// `RSA-OAEP` + `A256GCM`, the OFB default.
    pub fn ofb() -> Self {
        Self {
            alg: KeyManagementAlg::RsaOaep,
            enc: ContentEncryption::A256Gcm,
            cty: None,
            typ: None,
        }
    }
}

/// Encrypts `plaintext` to `recipient` (an RSA key whose `use`, if stated, is `enc`).
///
/// # Errors
/// [`JweError::Encryption`] when the key is unusable or `enc` is not `A256GCM`.
pub fn encrypt(
    recipient: &Jwk,
    options: EncryptOptions<'_>,
    plaintext: &[u8],
) -> Result<String, JweError> {
    let rng = SystemRandom::new();
    let mut cek = Zeroizing::new(vec![0u8; options.enc.key_len()]);
    rng.fill(&mut cek).map_err(|_| JweError::Encryption)?;
    let mut iv = [0u8; aead::NONCE_LEN];
    rng.fill(&mut iv).map_err(|_| JweError::Encryption)?;
    encrypt_with(recipient, options, plaintext, &cek, iv)
}

/// [`encrypt`] with a given content key and IV: for test vectors only.
#[doc(hidden)]
pub fn encrypt_with(
    recipient: &Jwk,
    options: EncryptOptions<'_>,
    plaintext: &[u8],
    cek: &[u8],
    iv: [u8; aead::NONCE_LEN],
) -> Result<String, JweError> {
    if options.enc != ContentEncryption::A256Gcm
        || recipient.use_.as_deref().is_some_and(|u| u != "enc")
    {
        return Err(JweError::Encryption);
    }
    let PublicKey::Rsa { n, e } = jwk::public_key(recipient).map_err(|_| JweError::Encryption)?
    else {
        return Err(JweError::Encryption);
    };
    let public: PublicEncryptingKey = PublicKeyComponents {
        n: n.as_slice(),
        e: e.as_slice(),
    }
    .try_into()
    .map_err(|_| JweError::Encryption)?;
    let oaep = OaepPublicEncryptingKey::new(public).map_err(|_| JweError::Encryption)?;
    let algorithm = match options.alg {
        KeyManagementAlg::RsaOaep => &OAEP_SHA1_MGF1SHA1,
        KeyManagementAlg::RsaOaep256 => &OAEP_SHA256_MGF1SHA256,
        _ => return Err(JweError::Encryption),
    };
    let mut encrypted_key = vec![0u8; oaep.ciphertext_size()];
    let encrypted_key = oaep
        .encrypt(algorithm, cek, &mut encrypted_key, None)
        .map_err(|_| JweError::Encryption)?
        .to_vec();

    #[derive(Serialize)]
    struct Header<'a> {
        alg: &'static str,
        enc: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        kid: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cty: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        typ: Option<&'a str>,
    }
    let header = serde_json::to_vec(&Header {
        alg: options.alg.as_str(),
        enc: options.enc.as_str(),
        kid: recipient.kid.as_deref(),
        cty: options.cty,
        typ: options.typ,
    })
    .map_err(|_| JweError::Encryption)?;
    let header_b64 = b64_encode(header);
    let key =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, cek).map_err(|_| JweError::Encryption)?);
    let mut in_out = plaintext.to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(header_b64.as_bytes()),
            &mut in_out,
        )
        .map_err(|_| JweError::Encryption)?;
    Ok([
        header_b64,
        b64_encode(encrypted_key),
        b64_encode(iv),
        b64_encode(in_out),
        b64_encode(tag.as_ref()),
    ]
    .join("."))
}

/// Decrypts a compact JWE with the custody key named by its `kid`.
///
/// # Errors
/// [`JweError::Decryption`] for every failure.
pub async fn decrypt(
    token: &str,
    custody: &dyn KeyCustody,
    policy: &JwePolicy,
) -> Result<DecryptedJwe, JweError> {
    let parts = Parts::split(token)?;
    let kid = parts
        .header
        .kid()
        .and_then(|k| KeyId::new(k).ok())
        .ok_or(JweError::Decryption)?;
    let decrypter = custody
        .decrypter(&kid)
        .await
        .map_err(|_| JweError::Decryption)?;
    decrypt_parts(parts, decrypter.as_ref(), policy).await
}

/// Decrypts a compact JWE with a given decrypter (its `kid` is not checked).
///
/// # Errors
/// [`JweError::Decryption`] for every failure.
pub async fn decrypt_with(
    token: &str,
    decrypter: &dyn CekDecrypter,
    policy: &JwePolicy,
) -> Result<DecryptedJwe, JweError> {
    decrypt_parts(Parts::split(token)?, decrypter, policy).await
}

struct Parts<'a> {
    header: JoseHeader,
    header_b64: &'a str,
    encrypted_key: Vec<u8>,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
}

impl<'a> Parts<'a> {
    fn split(token: &'a str) -> Result<Self, JweError> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header_b64, key, iv, ciphertext, tag] = parts.as_slice() else {
            return Err(JweError::Decryption);
        };
        let decode = |s: &str| b64_decode(s).ok_or(JweError::Decryption);
        let header = JoseHeader::parse(&decode(header_b64)?).map_err(|_| JweError::Decryption)?;
        Ok(Self {
            header,
            header_b64,
            encrypted_key: decode(key)?,
            iv: decode(iv)?,
            ciphertext: decode(ciphertext)?,
            tag: decode(tag)?,
        })
    }
}

async fn decrypt_parts(
    parts: Parts<'_>,
    decrypter: &dyn CekDecrypter,
    policy: &JwePolicy,
) -> Result<DecryptedJwe, JweError> {
    let alg = parts
        .header
        .alg()
        .and_then(management_from_name)
        .filter(|a| policy.key_management.contains(a))
        .ok_or(JweError::Decryption)?;
    let enc = parts
        .header
        .enc()
        .and_then(ContentEncryption::from_name)
        .filter(|e| policy.content.contains(e))
        .ok_or(JweError::Decryption)?;
    if parts.header.zip().is_some() {
        return Err(JweError::Decryption);
    }
    // RFC 7516 §11.5: on a key-unwrap failure, carry on with a random key so
    // the failure surfaces at the same place as a bad tag.
    let cek = match decrypter.decrypt_cek(alg, &parts.encrypted_key).await {
        Ok(cek) if cek.len() == enc.key_len() => Zeroizing::new(cek.expose().to_vec()),
        _ => {
            let mut random = Zeroizing::new(vec![0u8; enc.key_len()]);
            SystemRandom::new()
                .fill(&mut random)
                .map_err(|_| JweError::Decryption)?;
            random
        }
    };
    let aad = parts.header_b64.as_bytes();
    let plaintext = match enc {
        ContentEncryption::A256Gcm => open_gcm(&cek, &parts.iv, aad, &parts.ciphertext, &parts.tag),
        ContentEncryption::A128CbcHs256 => {
            open_cbc_hs256(&cek, &parts.iv, aad, &parts.ciphertext, &parts.tag)
        }
    }
    .ok_or(JweError::Decryption)?;
    Ok(DecryptedJwe {
        header: parts.header,
        plaintext,
    })
}

fn open_gcm(
    cek: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    if tag.len() != AES_256_GCM.tag_len() {
        return None;
    }
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, cek).ok()?);
    let nonce = Nonce::try_assume_unique_for_key(iv).ok()?;
    let mut in_out = Zeroizing::new(Vec::with_capacity(ciphertext.len() + tag.len()));
    in_out.extend_from_slice(ciphertext);
    in_out.extend_from_slice(tag);
    let len = key
        .open_in_place(nonce, Aad::from(aad), &mut in_out)
        .ok()?
        .len();
    in_out.truncate(len);
    Some(in_out)
}

/// RFC 7518 §5.2.2.2: verify the HMAC tag (constant time), then decrypt.
fn open_cbc_hs256(
    cek: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    if cek.len() != 32 || iv.len() != 16 || tag.len() != 16 {
        return None;
    }
    let (mac_key, enc_key) = cek.split_at(16);
    let mut mac_input = Vec::with_capacity(aad.len() + iv.len() + ciphertext.len() + 8);
    mac_input.extend_from_slice(aad);
    mac_input.extend_from_slice(iv);
    mac_input.extend_from_slice(ciphertext);
    mac_input.extend_from_slice(&((aad.len() as u64) * 8).to_be_bytes());
    let full = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, mac_key), &mac_input);
    constant_time::verify_slices_are_equal(&full.as_ref()[..16], tag).ok()?;
    let key =
        PaddedBlockDecryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_128, enc_key).ok()?).ok()?;
    let iv: [u8; 16] = iv.try_into().ok()?;
    let mut in_out = Zeroizing::new(ciphertext.to_vec());
    let len = key
        .decrypt(&mut in_out, DecryptionContext::Iv128(iv.into()))
        .ok()?
        .len();
    in_out.truncate(len);
    Some(in_out)
}

/// Signs `claims` with `signer`, then encrypts the JWS to `recipient` with
/// `cty: JWT` — the OFB front-channel ID token.
///
/// # Errors
/// [`JweError`] when signing or encryption fails.
pub async fn sign_then_encrypt<T: Serialize>(
    signer: &dyn opus_core::keys::JwsSigner,
    claims: &T,
    recipient: &Jwk,
    options: EncryptOptions<'_>,
) -> Result<String, JweError> {
    let jws = jws::sign_claims(signer, Some("JWT"), claims).await?;
    encrypt(
        recipient,
        EncryptOptions {
            cty: Some("JWT"),
            ..options
        },
        jws.as_bytes(),
    )
}

/// Decrypts a nested JWT (`cty: JWT`) and verifies the inner JWS against
/// `keys` under `jws_policy`.
///
/// # Errors
/// [`JweError::Decryption`] for any decryption failure or a missing `cty`;
/// [`JweError::Nested`] when the inner signature does not verify.
pub async fn decrypt_then_verify(
    token: &str,
    custody: &dyn KeyCustody,
    jwe_policy: &JwePolicy,
    keys: &JwkSet,
    jws_policy: &JwsPolicy,
) -> Result<VerifiedJws, JweError> {
    let decrypted = decrypt(token, custody, jwe_policy).await?;
    if !decrypted
        .header
        .cty()
        .is_some_and(|c| typ_matches(c, "JWT"))
    {
        return Err(JweError::Decryption);
    }
    let inner = std::str::from_utf8(decrypted.plaintext()).map_err(|_| JweError::Decryption)?;
    Ok(jws::verify(inner, keys, jws_policy)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7516 Appendix A.2: the A128CBC-HS256 content layer (its RSA1_5 key
    /// management is not supported, so the vector's CEK is used directly).
    #[test]
    fn rfc7516_a2_content_layer() {
        let cek: [u8; 32] = [
            4, 211, 31, 197, 84, 157, 252, 254, 11, 100, 157, 250, 63, 170, 106, 206, 107, 124,
            212, 45, 111, 107, 9, 219, 200, 177, 0, 240, 143, 156, 44, 207,
        ];
        let aad = b"eyJhbGciOiJSU0ExXzUiLCJlbmMiOiJBMTI4Q0JDLUhTMjU2In0";
        let iv = b64_decode("AxY8DCtDaGlsbGljb3RoZQ").unwrap_or_default();
        let ciphertext =
            b64_decode("KDlTtXchhZTGufMYmOYGS4HffxPSUrfmqCHXaI9wOGY").unwrap_or_default();
        let tag = b64_decode("9hH0vgRfYgPnAHOd8stkvw").unwrap_or_default();
        let plain = open_cbc_hs256(&cek, &iv, aad, &ciphertext, &tag).map(|p| p.to_vec());
        assert_eq!(plain.as_deref(), Some(&b"Live long and prosper."[..]));
        let mut bad_tag = tag.clone();
        bad_tag[0] ^= 1;
        assert!(open_cbc_hs256(&cek, &iv, aad, &ciphertext, &bad_tag).is_none());
        assert!(open_cbc_hs256(&cek, &iv, b"other aad", &ciphertext, &tag).is_none());
    }
}
