//! The token endpoint (FAPI-BR §3.8): `client_credentials` for now, with
//! certificate-bound opaque access tokens of 300–900 seconds.

use http::StatusCode;
use http::request::Parts;
use opus_core::GrantId;
use opus_core::store::{TokenHash, TokenKind, TokenRecord};

use super::client_auth::authenticate;
use super::error::{OAuthError, OAuthErrorCode};
use super::{Body, BrandEndpoints, Inner, json_response, parse_form, random_token};

/// Scopes that only the authorization-code grant can carry.
fn is_dynamic_or_openid(scope: &str) -> bool {
    scope == "openid"
        || scope.starts_with("consent:")
        || scope.starts_with("recurring-consent:")
        || scope.starts_with("enrollment:")
}

/// `POST /token`.
pub(crate) async fn exchange(
    inner: &Inner,
    brand: &BrandEndpoints,
    parts: &Parts,
    body: &[u8],
) -> Result<http::Response<Body>, OAuthError> {
    let form = parse_form(body)?;
    let grant_type = form
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?
        .clone();
    let authenticated = authenticate(inner, brand, parts, &form).await?;
    match grant_type.as_str() {
        "client_credentials" => {
            let client = &authenticated.client;
            let requested: Vec<&str> = match form.get("scope") {
                Some(scope) => scope.split_whitespace().collect(),
                None => client
                    .metadata
                    .scopes()
                    .filter(|s| !is_dynamic_or_openid(s))
                    .collect(),
            };
            if requested.is_empty()
                || requested
                    .iter()
                    .any(|s| is_dynamic_or_openid(s) || !client.metadata.allows(s))
            {
                return Err(OAuthError::new(
                    OAuthErrorCode::InvalidScope,
                    "a requested scope is not allowed to the client",
                ));
            }
            let scope = requested.join(" ");
            let token = random_token()?;
            let now = inner.clock.now();
            inner
                .storage
                .grants
                .put_token(&TokenRecord {
                    brand: brand.server.brand.id().clone(),
                    token: TokenHash::of(&token),
                    kind: TokenKind::Access,
                    grant_id: GrantId::random(),
                    client_id: client.id().clone(),
                    consent_id: None,
                    scope: scope.clone(),
                    certificate_thumbprint: Some(authenticated.certificate_thumbprint.clone()),
                    issued_at: now,
                    expires_at: Some(now.saturating_add(inner.access_token_ttl)),
                    revoked_at: None,
                    subject: None,
                })
                .await?;
            Ok(json_response(
                StatusCode::OK,
                &serde_json::json!({
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": inner.access_token_ttl.as_secs(),
                    "scope": scope,
                }),
            ))
        }
        "authorization_code" | "refresh_token" => Err(OAuthError::new(
            OAuthErrorCode::UnsupportedGrantType,
            "this grant is not enabled on this server",
        )),
        _ => Err(OAuthError::new(
            OAuthErrorCode::UnsupportedGrantType,
            "unsupported grant_type",
        )),
    }
}
