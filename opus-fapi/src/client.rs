//! Client-side FAPI primitives: `private_key_jwt` client assertions and
//! PKCE (RFC 7636) S256 pairs.

use std::time::Duration;

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use opus_core::keys::JwsSigner;
use opus_core::{ClientId, Timestamp};

use crate::jose::b64_encode;
use crate::jose::jws::{self, JwsError};

/// A `private_key_jwt` client assertion (OIDC §9, RFC 7523 §3): `iss` =
/// `sub` = `client_id`, `aud` = `audience`, a random `jti`, `iat` = `now`,
/// `exp` = `now + lifetime` (at most five minutes is what FAPI-BR servers accept).
///
/// # Errors
/// [`JwsError`] when signing fails.
pub async fn client_assertion(
    signer: &dyn JwsSigner,
    client_id: &ClientId,
    audience: &str,
    now: Timestamp,
    lifetime: Duration,
) -> Result<String, JwsError> {
    let claims = serde_json::json!({
        "iss": client_id.as_str(),
        "sub": client_id.as_str(),
        "aud": audience,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": now.unix_seconds(),
        "exp": now.saturating_add(lifetime).unix_seconds(),
    });
    jws::sign_claims(signer, None, &claims).await
}

/// The S256 challenge of a PKCE verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    b64_encode(digest::digest(&digest::SHA256, verifier.as_bytes()))
}

/// A new PKCE pair: a 43-character verifier (256 random bits) and its S256 challenge.
///
/// # Errors
/// `None` if the random generator fails.
pub fn pkce_pair() -> Option<(String, String)> {
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).ok()?;
    let verifier = b64_encode(bytes);
    let challenge = pkce_challenge(&verifier);
    Some((verifier, challenge))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn rfc7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let (verifier, challenge) = pkce_pair().unwrap_or_default();
        assert_eq!(verifier.len(), 43);
        assert_eq!(pkce_challenge(&verifier), challenge);
    }
}
