//! Signed messages of the payments family (FAPI-BR §5.3): request and
//! response bodies are compact JWS (`application/jwt`), PS256 only, whose
//! payload is the business object plus `aud`, `iss`, `jti` and `iat`.
//!
//! - [`verify_request`]: the sender organisation's key from the directory
//!   (never a key shipped in the message), `iss` = its organisation id,
//!   `aud` = the endpoint called, `iat` within ±60 s, a UUID `jti` used
//!   once per client within 24 hours (the replay guard, shared by every
//!   replica). A signature that does not verify (unknown key, another
//!   algorithm, tampering) is 400 `BAD_SIGNATURE`; a wrong `iss`, `aud`,
//!   `iat` or `jti`, or a reused `jti`, is 403 (FAPI-BR §11 items 89–95).
//! - [`sign_response`]: every response, errors included, signed by the
//!   institution's key through its custody, `aud` = the client's
//!   organisation, `iss` = the institution's.

use std::time::Duration;

use opus_core::directory::Directory;
use opus_core::keys::JwsSigner;
use opus_core::limits::SIGNED_MESSAGE_JTI_RETENTION;
use opus_core::store::{ReplayGuard, ReplayScope, StoreError};
use opus_core::{ApiError, ApiErrorKind, BrandId, ClientId, Jti, OrganisationId, Timestamp};
use serde_json::{Map, Value};

use crate::jose::jws::{self, JwsPolicy};

/// The content type of signed bodies.
pub const CONTENT_TYPE: &str = "application/jwt";

/// How far `iat` may be from the receiver's clock.
pub const IAT_TOLERANCE: Duration = Duration::from_secs(60);

/// Who sent a request and where: what a signed request is checked against.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// The brand receiving it (the replay scope).
    pub brand: &'a BrandId,
    /// The client sending it (`jti`s are unique per client).
    pub client: &'a ClientId,
    /// The client's organisation (`iss`; its keys sign).
    pub organisation: &'a OrganisationId,
    /// The URI of the endpoint called (`aud`).
    pub audience: &'a str,
    /// Now.
    pub now: Timestamp,
}

fn bad_signature() -> ApiError {
    ApiError::bad_signature()
}

fn refused_claim(detail: &'static str) -> ApiError {
    ApiError::new(
        ApiErrorKind::Forbidden,
        "FORBIDDEN",
        "Mensagem recusada.",
        detail,
    )
}

/// Verifies a signed request body and answers its claims (the business
/// object under `data`, and the JWT claims).
///
/// # Errors
/// 400 `BAD_SIGNATURE` for anything but a PS256 JWS by a current key of the
/// sender's organisation; 403 for a wrong `iss`, `aud` or `iat`, a missing
/// or reused `jti`; 500 when the directory or the replay store fails.
pub async fn verify_request(
    token: &str,
    directory: &dyn Directory,
    replay: &dyn ReplayGuard,
    context: RequestContext<'_>,
) -> Result<Map<String, Value>, ApiError> {
    let token = token.trim();
    let keys = directory
        .organisation_jwks(context.organisation)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "organisation keys unavailable");
            ApiError::internal()
        })?;
    let verified = jws::verify(token, &keys, &JwsPolicy::ofb()).map_err(|e| {
        tracing::debug!(error = %e, "signed request refused");
        bad_signature()
    })?;
    if verified
        .header()
        .typ()
        .is_some_and(|t| !t.eq_ignore_ascii_case("JWT") && !t.eq_ignore_ascii_case(CONTENT_TYPE))
    {
        return Err(bad_signature());
    }
    let claims: Map<String, Value> = verified
        .claims()
        .map_err(|_| bad_signature())?
        .into_iter()
        .collect();
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(context.organisation.to_string().as_str()) {
        return Err(refused_claim(
            "O iss da mensagem não é a organização do cliente.",
        ));
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == context.audience,
        Some(Value::Array(all)) => all.iter().any(|a| a.as_str() == Some(context.audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(refused_claim("O aud da mensagem não é este endpoint."));
    }
    let now = context.now.unix_seconds();
    let tolerance = i64::try_from(IAT_TOLERANCE.as_secs()).unwrap_or(60);
    let fresh = claims
        .get("iat")
        .and_then(Value::as_i64)
        .is_some_and(|iat| (iat - now).abs() <= tolerance);
    if !fresh {
        return Err(refused_claim("O iat da mensagem está fora da tolerância."));
    }
    let jti = text("jti")
        .filter(|j| uuid::Uuid::parse_str(j).is_ok())
        .and_then(|j| Jti::new(j).ok())
        .ok_or_else(|| refused_claim("O jti da mensagem deve ser um UUID."))?;
    let scope = ReplayScope {
        brand: context.brand.clone(),
        namespace: format!("signed-message:{}", context.client),
    };
    match replay
        .insert_jti(
            &scope,
            &jti,
            context.now.saturating_add(SIGNED_MESSAGE_JTI_RETENTION),
            context.now,
        )
        .await
    {
        Ok(()) => Ok(claims),
        Err(StoreError::Conflict) => Err(refused_claim("O jti desta mensagem já foi usado.")),
        Err(e) => {
            tracing::warn!(error = %e, "replay store failed");
            Err(ApiError::internal())
        }
    }
}

/// Signs `body` (an object: `data`, `links`, `meta` or `errors`) for the
/// client of organisation `audience`, as organisation `issuer`.
///
/// # Errors
/// 500 when the body is not an object or the key custody fails.
pub async fn sign_response(
    signer: &dyn JwsSigner,
    body: &Value,
    issuer: &OrganisationId,
    audience: &OrganisationId,
    now: Timestamp,
) -> Result<String, ApiError> {
    let mut claims = body.as_object().cloned().ok_or_else(ApiError::internal)?;
    claims.insert("aud".into(), Value::String(audience.to_string()));
    claims.insert("iss".into(), Value::String(issuer.to_string()));
    claims.insert(
        "jti".into(),
        Value::String(uuid::Uuid::new_v4().to_string()),
    );
    claims.insert("iat".into(), Value::from(now.unix_seconds()));
    jws::sign_claims(signer, Some("JWT"), &claims)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "response signing failed");
            ApiError::internal()
        })
}

/// Whether a request carries a signed body (`Content-Type: application/jwt`).
pub fn is_signed_body(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(CONTENT_TYPE))
}

/// The request's `x-idempotency-key` (payments family: required on POST).
///
/// # Errors
/// 400 `PARAMETRO_NAO_INFORMADO` when missing, `PARAMETRO_INVALIDO` when
/// malformed.
pub fn idempotency_key(headers: &http::HeaderMap) -> Result<opus_core::IdempotencyKey, ApiError> {
    let key = headers
        .get("x-idempotency-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::missing_parameter("x-idempotency-key"))?;
    opus_core::IdempotencyKey::new(key)
        .map_err(|_| ApiError::invalid_parameter("x-idempotency-key"))
}

/// The HTTP response of a payments-family endpoint: a success or a 422 is
/// `body` signed by the institution's message-signing key in `keys` for
/// the client's organisation (`application/jwt`), any other error the
/// plain JSON envelope, as the payments specs list them.
pub async fn respond(
    keys: &dyn opus_core::keys::KeyCustody,
    result: Result<(http::StatusCode, Value), ApiError>,
    issuer: &OrganisationId,
    audience: &OrganisationId,
    now: Timestamp,
) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    let plain = |error: &ApiError| {
        error
            .to_http_response(now)
            .map(|b| http_body_util::Full::new(bytes::Bytes::from(b)))
    };
    let (status, body) = match result {
        Ok(outcome) => outcome,
        Err(e) if e.kind() == ApiErrorKind::Unprocessable => (
            e.status(),
            serde_json::to_value(e.to_body(now)).unwrap_or(Value::Null),
        ),
        Err(e) => return plain(&e),
    };
    let signer = match keys
        .signer(opus_core::keys::KeyPurpose::MessageSigning)
        .await
    {
        Ok(signer) => signer,
        Err(e) => {
            tracing::warn!(error = %e, "message-signing key unavailable");
            return plain(&ApiError::internal());
        }
    };
    match sign_response(signer.as_ref(), &body, issuer, audience, now).await {
        Ok(jwt) => {
            let mut response =
                http::Response::new(http_body_util::Full::new(bytes::Bytes::from(jwt)));
            *response.status_mut() = status;
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(CONTENT_TYPE),
            );
            response
        }
        Err(e) => plain(&e),
    }
}

/// Reads a signed request body (at most `max` bytes) and verifies it as
/// [`verify_request`] does.
///
/// # Errors
/// 415 without `Content-Type: application/jwt`; 400 for an unreadable or
/// oversized body; the errors of [`verify_request`].
pub async fn read_signed_request<B>(
    request: http::Request<B>,
    max: usize,
    directory: &dyn Directory,
    replay: &dyn ReplayGuard,
    context: RequestContext<'_>,
) -> Result<Map<String, Value>, ApiError>
where
    B: http_body::Body + Send,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    use http_body_util::BodyExt;
    if !is_signed_body(request.headers()) {
        return Err(ApiError::unsupported_media_type());
    }
    let bytes = http_body_util::Limited::new(request.into_body(), max)
        .collect()
        .await
        .map_err(|_| ApiError::invalid_parameter("body"))?
        .to_bytes();
    let token = std::str::from_utf8(&bytes).map_err(|_| ApiError::bad_signature())?;
    verify_request(token, directory, replay, context).await
}
