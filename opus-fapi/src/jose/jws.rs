//! JSON Web Signature, compact serialisation (RFC 7515).
//!
//! * **Signing** goes through a [`JwsSigner`] from `KeyCustody`: the header
//!   is `{"alg", "kid", "typ"?, "cty"?}`, the signer returns the signature.
//! * **Verification** is strict: the algorithm must be in the caller's
//!   allow-list (PS256 only for OFB; `none` and HMAC are never accepted),
//!   `kid` is required and selects the key from a trusted [`JwkSet`], the
//!   key's type (and `alg`/`use`, when the key states them) must fit the
//!   algorithm — so an RSA public key can never be used as an HMAC secret —
//!   and unknown `crit` extensions are refused.

use aws_lc_rs::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use opus_core::keys::{JwkSet, JwsAlg, JwsSigner, KeyError};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

use super::header::{HeaderError, JoseHeader, parse_strict_object, typ_matches};
use super::jwk::{self, PublicKey};
use super::{b64_decode, b64_encode};

/// Why a JWS was refused or could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    /// Not three base64url parts, or a payload that is not what was expected.
    #[error("malformed JWS")]
    Malformed,
    /// The header was refused.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// `alg` is not in the allow-list (this covers `none` and `HS*`).
    #[error("JWS algorithm not allowed")]
    AlgorithmNotAllowed,
    /// `typ` is not the expected one.
    #[error("unexpected JWS typ")]
    UnexpectedType,
    /// No `kid` in the header.
    #[error("JWS without kid")]
    MissingKid,
    /// No key with that `kid` (and `use` = `sig`) in the trusted key set.
    #[error("unknown signing key")]
    UnknownKey,
    /// The key does not fit the algorithm (type, curve, stated `alg`).
    #[error("key does not fit the JWS algorithm")]
    KeyMismatch,
    /// The signature does not verify.
    #[error("invalid JWS signature")]
    BadSignature,
    /// The signer failed.
    #[error("signing failed")]
    Signing(#[source] KeyError),
}

/// What a verifier accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwsPolicy {
    algorithms: Vec<JwsAlg>,
    typ: Option<&'static str>,
}

impl JwsPolicy {
    /// OFB messages, request objects, client assertions, ID tokens and
    /// software statements: PS256 only, any `typ`.
    pub fn ofb() -> Self {
        Self {
            algorithms: vec![JwsAlg::PS256],
            typ: None,
        }
    }

    /// An explicit allow-list (for instance `[PS256, ES256]`, or RS256 for a
    /// legacy peer — never by default).
    pub fn allowing(algorithms: &[JwsAlg]) -> Self {
        Self {
            algorithms: algorithms.to_vec(),
            typ: None,
        }
    }

    /// Also require `typ` to name `typ` (RFC 7515 §4.1.9 comparison).
    pub fn with_typ(mut self, typ: &'static str) -> Self {
        self.typ = Some(typ);
        self
    }
}

/// A JWS whose signature verified under a policy.
#[derive(Debug, Clone)]
pub struct VerifiedJws {
    header: JoseHeader,
    alg: JwsAlg,
    payload: Vec<u8>,
}

impl VerifiedJws {
    /// The protected header.
    pub fn header(&self) -> &JoseHeader {
        &self.header
    }

    /// The algorithm it was verified with.
    pub fn alg(&self) -> JwsAlg {
        self.alg
    }

    /// The `kid` of the key that verified it.
    pub fn kid(&self) -> &str {
        self.header.kid().unwrap_or_default()
    }

    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload as a JWT claims set (a JSON object with unique members).
    ///
    /// # Errors
    /// [`JwsError::Malformed`] when the payload is not such an object.
    pub fn claims(&self) -> Result<BTreeMap<String, Value>, JwsError> {
        parse_strict_object(&self.payload).ok_or(JwsError::Malformed)
    }
}

/// The algorithm named by an `alg` value, if this crate knows it.
pub fn alg_from_name(name: &str) -> Option<JwsAlg> {
    match name {
        "PS256" => Some(JwsAlg::PS256),
        "ES256" => Some(JwsAlg::ES256),
        "RS256" => Some(JwsAlg::RS256),
        _ => None,
    }
}

/// Reads the header of a compact JWS without verifying anything (to learn
/// the `kid` or `iss` needed to pick the key set). Never trust what it
/// returns before [`verify`] succeeds.
///
/// # Errors
/// [`JwsError::Malformed`] or [`JwsError::Header`].
pub fn peek_header(token: &str) -> Result<JoseHeader, JwsError> {
    let (header_b64, _, _) = split(token)?;
    let header_json = b64_decode(header_b64).ok_or(JwsError::Malformed)?;
    Ok(JoseHeader::parse(&header_json)?)
}

/// Reads the payload of a compact JWS as JSON without verifying anything:
/// for reports and logs of what was answered, never for a decision.
pub fn peek_claims(token: &str) -> Option<serde_json::Value> {
    let (_, payload_b64, _) = split(token).ok()?;
    serde_json::from_slice(&b64_decode(payload_b64)?).ok()
}

/// Verifies a compact JWS against trusted `keys` under `policy`.
///
/// # Errors
/// [`JwsError`] naming the first check that failed.
pub fn verify(token: &str, keys: &JwkSet, policy: &JwsPolicy) -> Result<VerifiedJws, JwsError> {
    let (header_b64, payload_b64, signature_b64) = split(token)?;
    let header_json = b64_decode(header_b64).ok_or(JwsError::Malformed)?;
    let header = JoseHeader::parse(&header_json)?;
    let alg = header
        .alg()
        .and_then(alg_from_name)
        .filter(|a| policy.algorithms.contains(a))
        .ok_or(JwsError::AlgorithmNotAllowed)?;
    if let Some(expected) = policy.typ
        && !header.typ().is_some_and(|t| typ_matches(t, expected))
    {
        return Err(JwsError::UnexpectedType);
    }
    let kid = header.kid().ok_or(JwsError::MissingKid)?;
    let jwk = jwk::select(keys, kid, "sig").ok_or(JwsError::UnknownKey)?;
    if jwk.alg.as_deref().is_some_and(|a| a != alg.as_str()) {
        return Err(JwsError::KeyMismatch);
    }
    let key = jwk::public_key(jwk).map_err(|_| JwsError::KeyMismatch)?;
    let signature = b64_decode(signature_b64).ok_or(JwsError::Malformed)?;
    let payload = b64_decode(payload_b64).ok_or(JwsError::Malformed)?;
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    verify_signature(alg, &key, signing_input.as_bytes(), &signature)?;
    Ok(VerifiedJws {
        header,
        alg,
        payload,
    })
}

/// Checks a raw signature over `message` with `key` under `alg`.
///
/// # Errors
/// [`JwsError::KeyMismatch`] when the key type does not fit `alg`;
/// [`JwsError::BadSignature`] when the signature does not verify.
pub fn verify_signature(
    alg: JwsAlg,
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), JwsError> {
    let result = match (alg, key) {
        (JwsAlg::PS256, PublicKey::Rsa { n, e }) => RsaPublicKeyComponents { n, e }.verify(
            &signature::RSA_PSS_2048_8192_SHA256,
            message,
            signature,
        ),
        (JwsAlg::RS256, PublicKey::Rsa { n, e }) => RsaPublicKeyComponents { n, e }.verify(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            message,
            signature,
        ),
        (JwsAlg::ES256, PublicKey::EcP256 { point }) => {
            UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(message, signature)
        }
        _ => return Err(JwsError::KeyMismatch),
    };
    result.map_err(|_| JwsError::BadSignature)
}

fn split(token: &str) -> Result<(&str, &str, &str), JwsError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !s.is_empty() => Ok((h, p, s)),
        _ => Err(JwsError::Malformed),
    }
}

/// Optional header members of a JWS we sign.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignOptions<'a> {
    /// `typ`, e.g. `JWT`, `oauth-authz-req+jwt`.
    pub typ: Option<&'a str>,
    /// `cty`, e.g. `JWT` for a nested token.
    pub cty: Option<&'a str>,
}

/// Signs `payload` with `signer`, producing a compact JWS whose header
/// carries the signer's `alg` and `kid`.
///
/// # Errors
/// [`JwsError::Signing`] when the signer fails.
pub async fn sign(
    signer: &dyn JwsSigner,
    options: SignOptions<'_>,
    payload: &[u8],
) -> Result<String, JwsError> {
    #[derive(Serialize)]
    struct Header<'a> {
        alg: &'static str,
        kid: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        typ: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cty: Option<&'a str>,
    }
    let header = Header {
        alg: signer.alg().as_str(),
        kid: signer.kid().as_str(),
        typ: options.typ,
        cty: options.cty,
    };
    let header_json = serde_json::to_vec(&header).map_err(|_| JwsError::Malformed)?;
    let mut token = b64_encode(header_json);
    token.push('.');
    token.push_str(&b64_encode(payload));
    let signature = signer
        .sign(token.as_bytes())
        .await
        .map_err(JwsError::Signing)?;
    token.push('.');
    token.push_str(&b64_encode(signature));
    Ok(token)
}

/// Signs a JSON claims set (`typ` defaults to `JWT`).
///
/// # Errors
/// [`JwsError`] when the claims do not serialise or the signer fails.
pub async fn sign_claims<T: Serialize>(
    signer: &dyn JwsSigner,
    typ: Option<&str>,
    claims: &T,
) -> Result<String, JwsError> {
    let payload = serde_json::to_vec(claims).map_err(|_| JwsError::Malformed)?;
    sign(
        signer,
        SignOptions {
            typ: Some(typ.unwrap_or("JWT")),
            cty: None,
        },
        &payload,
    )
    .await
}
