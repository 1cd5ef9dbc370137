//! JSON Web Keys: parsing public key sets (RFC 7517), RFC 7638 thumbprints,
//! RFC 8705 certificate thumbprints (`x5t#S256`), key selection, and
//! conversion to verification and encryption keys.

use aws_lc_rs::digest;
use opus_core::keys::{Jwk, JwkSet};
use serde_json::Value;

use super::header::parse_strict_object;
use super::{b64_decode, b64_encode};

/// Smallest RSA modulus accepted, in bits (FAPI 1.0 Advanced §8.6: 2048).
pub const MIN_RSA_BITS: usize = 2048;

/// Why a key or key set was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwkError {
    /// Not a JWK set, or a key with malformed members.
    #[error("malformed JWK")]
    Malformed,
    /// A public key set carries private key material.
    #[error("private key material in a public JWK set")]
    PrivateMaterial,
    /// A key type or curve this implementation does not use.
    #[error("unsupported key type")]
    Unsupported,
    /// An RSA key below 2048 bits.
    #[error("RSA key too small")]
    TooSmall,
}

/// A public key ready for signature verification or encryption.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKey {
    /// RSA modulus and exponent, big-endian without leading zeros.
    Rsa {
        /// Modulus.
        n: Vec<u8>,
        /// Public exponent.
        e: Vec<u8>,
    },
    /// A P-256 point, uncompressed SEC1 (`0x04 ‖ x ‖ y`).
    EcP256 {
        /// The 65-byte point.
        point: Vec<u8>,
    },
}

const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Parses a JWK set that must hold public keys only (a `jwks_uri` document, a
/// directory keystore). Keys of unknown types are kept (and ignored by
/// selection); private members anywhere are refused.
///
/// # Errors
/// [`JwkError::Malformed`] or [`JwkError::PrivateMaterial`].
pub fn parse_public_jwks(json: &[u8]) -> Result<JwkSet, JwkError> {
    let members = parse_strict_object(json).ok_or(JwkError::Malformed)?;
    let keys = members
        .get("keys")
        .and_then(Value::as_array)
        .ok_or(JwkError::Malformed)?;
    for key in keys {
        let object = key.as_object().ok_or(JwkError::Malformed)?;
        if PRIVATE_MEMBERS.iter().any(|m| object.contains_key(*m)) {
            return Err(JwkError::PrivateMaterial);
        }
    }
    serde_json::from_slice(json).map_err(|_| JwkError::Malformed)
}

/// The key of `set` with this `kid` whose `use` (if stated) is `use_`.
/// Keys without a `kid` are never selected: every JOSE object we accept
/// names its key.
pub fn select<'a>(set: &'a JwkSet, kid: &str, use_: &str) -> Option<&'a Jwk> {
    set.keys
        .iter()
        .find(|k| k.kid.as_deref() == Some(kid) && k.use_.as_deref().is_none_or(|u| u == use_))
}

/// The public key of `jwk`.
///
/// # Errors
/// [`JwkError`] for malformed members, unknown types or curves, or RSA keys
/// under 2048 bits.
pub fn public_key(jwk: &Jwk) -> Result<PublicKey, JwkError> {
    let member = |v: &Option<String>| -> Result<Vec<u8>, JwkError> {
        v.as_deref().and_then(b64_decode).ok_or(JwkError::Malformed)
    };
    match jwk.kty.as_str() {
        "RSA" => {
            let n = strip_zeros(member(&jwk.n)?);
            let e = strip_zeros(member(&jwk.e)?);
            if n.is_empty() || e.is_empty() {
                return Err(JwkError::Malformed);
            }
            if n.len() * 8 < MIN_RSA_BITS {
                return Err(JwkError::TooSmall);
            }
            Ok(PublicKey::Rsa { n, e })
        }
        "EC" => {
            if jwk.crv.as_deref() != Some("P-256") {
                return Err(JwkError::Unsupported);
            }
            let (x, y) = (member(&jwk.x)?, member(&jwk.y)?);
            if x.len() != 32 || y.len() != 32 {
                return Err(JwkError::Malformed);
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            Ok(PublicKey::EcP256 { point })
        }
        _ => Err(JwkError::Unsupported),
    }
}

fn strip_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros);
    bytes
}

/// The RFC 7638 thumbprint of `jwk` (SHA-256, base64url): the hash of the
/// required members in lexicographic order, without white space.
///
/// # Errors
/// [`JwkError`] when the key lacks its required members or has an unknown type.
pub fn thumbprint(jwk: &Jwk) -> Result<String, JwkError> {
    let required = |v: &Option<String>| v.clone().ok_or(JwkError::Malformed);
    let canonical = match jwk.kty.as_str() {
        "RSA" => serde_json::json!({"e": required(&jwk.e)?, "kty": "RSA", "n": required(&jwk.n)?}),
        "EC" => serde_json::json!({
            "crv": required(&jwk.crv)?, "kty": "EC", "x": required(&jwk.x)?, "y": required(&jwk.y)?
        }),
        _ => return Err(JwkError::Unsupported),
    };
    // serde_json writes object members in key order (sorted) with no white space.
    let text = serde_json::to_vec(&canonical).map_err(|_| JwkError::Malformed)?;
    Ok(b64_encode(digest::digest(&digest::SHA256, &text)))
}

/// The RFC 8705 `x5t#S256` of a DER certificate: base64url SHA-256 of the DER.
pub fn certificate_thumbprint(der: &[u8]) -> String {
    b64_encode(digest::digest(&digest::SHA256, der))
}

/// A public RSA JWK from its components.
pub fn rsa_jwk(kid: &str, use_: &str, alg: &str, n: &[u8], e: &[u8]) -> Jwk {
    Jwk {
        kty: "RSA".into(),
        kid: Some(kid.into()),
        use_: Some(use_.into()),
        alg: Some(alg.into()),
        n: Some(b64_encode(n)),
        e: Some(b64_encode(e)),
        crv: None,
        x: None,
        y: None,
        x5c: None,
        x5t_s256: None,
    }
}

/// A public P-256 JWK from an uncompressed SEC1 point.
///
/// # Errors
/// [`JwkError::Malformed`] when `point` is not 65 bytes starting with 0x04.
pub fn ec_jwk(kid: &str, use_: &str, alg: &str, point: &[u8]) -> Result<Jwk, JwkError> {
    if point.len() != 65 || point[0] != 0x04 {
        return Err(JwkError::Malformed);
    }
    Ok(Jwk {
        kty: "EC".into(),
        kid: Some(kid.into()),
        use_: Some(use_.into()),
        alg: Some(alg.into()),
        n: None,
        e: None,
        crv: Some("P-256".into()),
        x: Some(b64_encode(&point[1..33])),
        y: Some(b64_encode(&point[33..])),
        x5c: None,
        x5t_s256: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 §3.1: the RSA key of RFC 7517 Appendix A.1 and its thumbprint.
    const RFC7638_KEY: &str = r#"{"keys":[{
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29"
    }]}"#;

    #[test]
    fn rfc7638_thumbprint() {
        let set = parse_public_jwks(RFC7638_KEY.as_bytes()).unwrap();
        assert_eq!(
            thumbprint(&set.keys[0]).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    /// RFC 7517 Appendix A.1: a public EC and RSA key set.
    #[test]
    fn rfc7517_public_keys() {
        let json = r#"{"keys":[
          {"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","use":"enc","kid":"1"},
          {"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}
        ]}"#;
        let set = parse_public_jwks(json.as_bytes()).unwrap();
        assert!(matches!(
            public_key(&set.keys[0]),
            Ok(PublicKey::EcP256 { .. })
        ));
        assert!(matches!(
            public_key(&set.keys[1]),
            Ok(PublicKey::Rsa { .. })
        ));
        assert_eq!(select(&set, "1", "enc").map(|k| k.kty.as_str()), Some("EC"));
        assert!(select(&set, "1", "sig").is_none(), "use must match");
        assert_eq!(
            select(&set, "2011-04-29", "sig").map(|k| k.kty.as_str()),
            Some("RSA")
        );
        assert!(select(&set, "nope", "sig").is_none());
    }

    #[test]
    fn private_material_and_small_keys_are_refused() {
        let private = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c","kid":"1"}]}"#;
        assert_eq!(
            parse_public_jwks(private.as_bytes()),
            Err(JwkError::PrivateMaterial)
        );
        let dup = r#"{"keys":[],"keys":[]}"#;
        assert_eq!(parse_public_jwks(dup.as_bytes()), Err(JwkError::Malformed));
        let small = Jwk {
            n: Some(b64_encode([0xc3u8; 128])),
            ..rsa_jwk("k", "sig", "PS256", &[1], &[1, 0, 1])
        };
        assert_eq!(public_key(&small), Err(JwkError::TooSmall));
        let p384 = Jwk {
            crv: Some("P-384".into()),
            ..ec_jwk("k", "sig", "ES384", &[4; 65]).unwrap()
        };
        assert_eq!(public_key(&p384), Err(JwkError::Unsupported));
    }

    #[test]
    fn rfc8705_certificate_thumbprint() {
        // SHA-256 of the empty input, base64url: a fixed, checkable value.
        assert_eq!(
            certificate_thumbprint(b""),
            "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
        );
    }
}
