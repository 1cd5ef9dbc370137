//! JOSE: JSON Web Signature (RFC 7515), JSON Web Encryption (RFC 7516),
//! JSON Web Key (RFC 7517, 7638) and JWT claim checks (RFC 7519), compact
//! serialisation only, on aws-lc-rs.
//!
//! Signing and decryption go through `KeyCustody` handles, so private keys
//! never enter this module. Verification and encryption use public keys
//! from a [`opus_core::keys::JwkSet`] obtained from a trusted source (the
//! directory, a registered `jwks_uri`): keys embedded in a message (`jwk`,
//! `jku`, `x5u`, `x5c` headers) are never used.

pub mod claims;
pub(crate) mod der;
pub mod header;
pub mod jwe;
pub mod jwk;
pub mod jws;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Base64url without padding (RFC 7515 §2), strict: padding and
/// non-canonical trailing bits are refused.
pub(crate) fn b64_decode(input: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(input).ok()
}

/// Base64url without padding.
pub(crate) fn b64_encode(input: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_is_strict() {
        assert_eq!(b64_encode([0xfb, 0xff]), "-_8");
        assert_eq!(b64_decode("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(b64_decode("-_8="), None, "padding refused");
        assert_eq!(b64_decode("+/8"), None, "standard alphabet refused");
        assert_eq!(
            b64_decode("-_9"),
            None,
            "non-canonical trailing bits refused"
        );
        assert_eq!(b64_decode("a"), None, "impossible length");
    }
}
