//! Token revocation (RFC 7009) and the userinfo endpoint (OIDC Core §5.3).

use std::collections::BTreeMap;

use http::request::Parts;
use http::{HeaderValue, Response, StatusCode, header};
use opus_core::seal::SealContext;
use opus_core::store::{TokenHash, TokenKind};
use serde_json::Value;

use super::client_auth::authenticate;
use super::error::OAuthError;
use super::{Body, BrandEndpoints, Inner, json_response, parse_form};

/// `POST /revoke`: the client revokes one of its tokens. A refresh token
/// takes its whole grant with it. The answer is 200 whether or not the token
/// existed (RFC 7009 §2.2), so it reveals nothing.
pub(crate) async fn revoke(
    inner: &Inner,
    brand: &BrandEndpoints,
    parts: &Parts,
    body: &[u8],
) -> Result<Response<Body>, OAuthError> {
    let form = parse_form(body)?;
    let authenticated = authenticate(inner, brand, parts, &form).await?;
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let brand_id = brand.server.brand.id();
    let now = inner.clock.now();
    let hash = TokenHash::of(token);
    if let Some(record) = inner.storage.grants.get_token(brand_id, &hash).await?
        && &record.client_id == authenticated.client.id()
    {
        match record.kind {
            TokenKind::Refresh => {
                inner
                    .storage
                    .grants
                    .revoke_grant(brand_id, &record.grant_id, now)
                    .await?;
            }
            _ => {
                inner
                    .storage
                    .grants
                    .revoke_token(brand_id, &hash, now)
                    .await?;
            }
        }
    }
    let mut response = Response::new(Body::default());
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn invalid_token(status: StatusCode, error: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::default());
    *response.status_mut() = status;
    let challenge = format!("Bearer error=\"{error}\"");
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// `GET`/`POST /userinfo`: the `sub` of the customer behind an access token
/// from the code grant, for the certificate it is bound to. The token comes
/// in the `Authorization` header only.
pub(crate) async fn userinfo(
    inner: &Inner,
    brand: &BrandEndpoints,
    parts: &Parts,
) -> Response<Body> {
    let Some(token) = super::guard::bearer_token(&parts.headers) else {
        return invalid_token(StatusCode::UNAUTHORIZED, "invalid_token");
    };
    let presented = parts
        .extensions
        .get::<crate::mtls::PeerCertificate>()
        .map(|p| crate::jose::jwk::certificate_thumbprint(p.der()));
    let brand_id = brand.server.brand.id();
    let now = inner.clock.now();
    let Ok(record) = inner
        .storage
        .grants
        .get_token(brand_id, &TokenHash::of(&token))
        .await
    else {
        return OAuthError::server_error().to_response();
    };
    let Some(record) = record.filter(|r| r.kind == TokenKind::Access && r.is_active(now)) else {
        return invalid_token(StatusCode::UNAUTHORIZED, "invalid_token");
    };
    if record.certificate_thumbprint.is_none() || presented != record.certificate_thumbprint {
        return invalid_token(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    if !record.scope.split_whitespace().any(|s| s == "openid") {
        return invalid_token(StatusCode::FORBIDDEN, "insufficient_scope");
    }
    let Some(sealed) = &record.subject else {
        return invalid_token(StatusCode::FORBIDDEN, "insufficient_scope");
    };
    let grant = record.grant_id.to_string();
    let context = SealContext::new("token-subject", brand_id, &grant);
    match inner
        .sealer
        .open_json::<BTreeMap<String, Value>>(&context, sealed)
        .await
    {
        Ok(claims) => json_response(StatusCode::OK, &serde_json::json!(claims)),
        Err(_) => OAuthError::server_error().to_response(),
    }
}

/// `POST /introspect` (RFC 7662), for the institution's own resource
/// servers only: the caller must authenticate as one of the clients named
/// in [`super::AuthorizationServerBuilder::introspection_clients`]. An
/// unknown, expired or revoked token — or one of another brand — is just
/// `{"active": false}`.
pub(crate) async fn introspect(
    inner: &Inner,
    brand: &BrandEndpoints,
    parts: &Parts,
    body: &[u8],
) -> Result<Response<Body>, OAuthError> {
    let form = parse_form(body)?;
    let authenticated = authenticate(inner, brand, parts, &form).await?;
    if !inner
        .introspection_clients
        .iter()
        .any(|c| c == authenticated.client.id())
    {
        return Err(OAuthError::new(
            super::OAuthErrorCode::UnauthorizedClient,
            "introspection is for the institution's resource servers",
        ));
    }
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let now = inner.clock.now();
    let record = inner
        .storage
        .grants
        .get_token(brand.server.brand.id(), &TokenHash::of(token))
        .await?
        .filter(|r| r.is_active(now));
    let Some(record) = record else {
        return Ok(json_response(
            StatusCode::OK,
            &serde_json::json!({"active": false}),
        ));
    };
    let mut answer = serde_json::json!({
        "active": true,
        "scope": record.scope,
        "client_id": record.client_id.as_str(),
        "token_type": match record.kind { TokenKind::Refresh => "refresh_token", _ => "Bearer" },
        "iat": record.issued_at.unix_seconds(),
        "iss": brand.issuer,
    });
    if let Some(exp) = record.expires_at {
        answer["exp"] = serde_json::json!(exp.unix_seconds());
    }
    if let Some(thumbprint) = &record.certificate_thumbprint {
        answer["cnf"] = serde_json::json!({ "x5t#S256": thumbprint });
    }
    if let Some(consent) = &record.consent_id {
        answer["consent_id"] = serde_json::json!(consent.as_str());
    }
    Ok(json_response(StatusCode::OK, &answer))
}
