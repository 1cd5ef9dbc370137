//! Client-side FAPI primitives: `private_key_jwt` client assertions, PKCE
//! (RFC 7636) S256 pairs, and the validation of the hybrid flow's answer
//! ([`validate_callback`]: state, the encrypted and signed ID token, its
//! claims, `nonce`, `c_hash`, `s_hash`, `acr`).

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

/// What the client expects of the authorization server's answer to its
/// pushed request (FAPI-BR hybrid flow, `code id_token`).
#[derive(Debug, Clone)]
pub struct CallbackExpectations<'a> {
    /// The server's issuer (`iss`).
    pub issuer: &'a str,
    /// This client (`aud`).
    pub client_id: &'a ClientId,
    /// The `nonce` of the request object.
    pub nonce: &'a str,
    /// The `state` of the request object (its `s_hash` is then required).
    pub state: Option<&'a str>,
    /// The acceptable `acr` values (empty: any).
    pub acr_values: &'a [&'a str],
    /// The client registered an ID-token encryption key: an unencrypted
    /// ID token is refused.
    pub encrypted: bool,
}

/// An answer the client can use: the code to exchange, and the ID token's
/// claims (verified).
#[derive(Debug, Clone)]
pub struct ValidatedCallback {
    /// The authorization code.
    pub code: String,
    /// The ID token's claims.
    pub id_token: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Why an authorization answer is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The server answered an error (`error`, `error_description`).
    #[error("authorization refused: {error}")]
    Refused {
        /// `error`.
        error: String,
        /// `error_description`.
        description: Option<String>,
    },
    /// A parameter is missing.
    #[error("missing {0}")]
    Missing(&'static str),
    /// `state` is not the request's.
    #[error("state mismatch")]
    State,
    /// The ID token is not encrypted although the client asked for it.
    #[error("the ID token is not encrypted")]
    Unencrypted,
    /// The ID token does not decrypt or its signature does not verify.
    #[error("the ID token does not verify")]
    Signature,
    /// A claim is wrong (issuer, audience, expiry…).
    #[error("ID token claims: {0}")]
    Claims(#[from] crate::jose::claims::ClaimsError),
    /// `nonce` is not the request's.
    #[error("nonce mismatch")]
    Nonce,
    /// `c_hash` does not match the code.
    #[error("c_hash mismatch")]
    CodeHash,
    /// `s_hash` does not match the state.
    #[error("s_hash mismatch")]
    StateHash,
    /// `acr` is not one of those asked.
    #[error("acr not acceptable")]
    Acr,
}

/// The left half of SHA-256, base64url (`c_hash`, `s_hash` for PS256).
fn half_hash(value: &str) -> String {
    let d = digest::digest(&digest::SHA256, value.as_bytes());
    b64_encode(&d.as_ref()[..16])
}

/// Validates the parameters of the redirect back to the client (from the
/// URL fragment): an `error` is [`CallbackError::Refused`]; otherwise the
/// `state`, then the ID token — decrypted through `custody` when it is a
/// JWE (required when `expected.encrypted`), its PS256 signature verified
/// with the server's `server_keys`, its `iss`, `aud`, `exp` and `iat` at
/// `now`, its `nonce`, `c_hash` of the code, `s_hash` of the state and
/// `acr` — and answers the code and the claims.
///
/// # Errors
/// [`CallbackError`] naming the first check that failed.
pub async fn validate_callback(
    params: &std::collections::BTreeMap<String, String>,
    expected: &CallbackExpectations<'_>,
    custody: &dyn opus_core::keys::KeyCustody,
    server_keys: &opus_core::keys::JwkSet,
    now: Timestamp,
) -> Result<ValidatedCallback, CallbackError> {
    use crate::jose::claims::{ClaimsPolicy, validate};
    use crate::jose::jwe::{self, JwePolicy};
    use crate::jose::jws::JwsPolicy;
    if let Some(error) = params.get("error") {
        return Err(CallbackError::Refused {
            error: error.clone(),
            description: params.get("error_description").cloned(),
        });
    }
    if params.get("state").map(String::as_str) != expected.state {
        return Err(CallbackError::State);
    }
    let code = params.get("code").ok_or(CallbackError::Missing("code"))?;
    let token = params
        .get("id_token")
        .ok_or(CallbackError::Missing("id_token"))?;
    let verified = match token.split('.').count() {
        5 => jwe::decrypt_then_verify(
            token,
            custody,
            &JwePolicy::ofb(),
            server_keys,
            &JwsPolicy::ofb(),
        )
        .await
        .map_err(|_| CallbackError::Signature)?,
        3 if expected.encrypted => return Err(CallbackError::Unencrypted),
        3 => jws::verify(token, server_keys, &JwsPolicy::ofb())
            .map_err(|_| CallbackError::Signature)?,
        _ => return Err(CallbackError::Signature),
    };
    let claims = verified.claims().map_err(|_| CallbackError::Signature)?;
    let policy = ClaimsPolicy::new()
        .issuer(expected.issuer)
        .audience(expected.client_id.as_str())
        .require_iat();
    validate(claims.clone(), &policy, now)?;
    let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
    if text("nonce") != Some(expected.nonce) {
        return Err(CallbackError::Nonce);
    }
    if text("c_hash") != Some(half_hash(code).as_str()) {
        return Err(CallbackError::CodeHash);
    }
    if let Some(state) = expected.state
        && text("s_hash") != Some(half_hash(state).as_str())
    {
        return Err(CallbackError::StateHash);
    }
    if !expected.acr_values.is_empty()
        && !text("acr").is_some_and(|acr| expected.acr_values.contains(&acr))
    {
        return Err(CallbackError::Acr);
    }
    Ok(ValidatedCallback {
        code: code.clone(),
        id_token: claims,
    })
}
