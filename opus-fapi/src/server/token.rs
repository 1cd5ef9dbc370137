//! The token endpoint (FAPI-BR §3.8): `authorization_code` with PKCE,
//! `refresh_token` and `client_credentials`, issuing certificate-bound opaque
//! access tokens of 300–900 seconds.
//!
//! A code is redeemed once, atomically in the store; a replay revokes every
//! token issued from it (RFC 6749 §4.1.2). Refresh tokens are not rotated
//! (OFB): the same token comes back until its consent ends, and it works only
//! while that consent is `AUTHORISED`.

use http::StatusCode;
use http::request::Parts;
use opus_core::consent::ConsentStatus;
use opus_core::seal::{SealContext, Sealed};
use opus_core::store::{CodeRedemption, TokenHash, TokenKind, TokenRecord};
use opus_core::{ConsentId, GrantId, Timestamp};

use super::authorize::{
    CodeGrant, encrypted_id_token, half_hash, id_token_claims, signed_id_token,
};
use super::client_auth::{AuthenticatedClient, authenticate};
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
        "authorization_code" => authorization_code(inner, brand, &authenticated, &form).await,
        "refresh_token" => refresh(inner, brand, &authenticated, &form).await,
        _ => Err(OAuthError::new(
            OAuthErrorCode::UnsupportedGrantType,
            "unsupported grant_type",
        )),
    }
}

fn invalid_grant(description: &'static str) -> OAuthError {
    OAuthError::new(OAuthErrorCode::InvalidGrant, description)
}

/// When the consent's tokens may be used: `Some(expiration)` (or `Some(None)`
/// for an indefinite consent) while it is `AUTHORISED` and not past its
/// expiration; `None` otherwise.
async fn consent_usable(
    inner: &Inner,
    brand: &BrandEndpoints,
    id: &ConsentId,
    client: &AuthenticatedClient,
    now: Timestamp,
) -> Result<Option<Option<Timestamp>>, OAuthError> {
    let Some(record) = inner
        .storage
        .consents
        .get_consent(brand.server.brand.id(), id)
        .await?
    else {
        return Ok(None);
    };
    if record.status != ConsentStatus::Authorised || &record.client_id != client.client.id() {
        return Ok(None);
    }
    // For an authorised consent the record's deadline is its expiration:
    // no need to open the sealed body on every token request.
    let expiration = record.expires_at;
    if expiration.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    Ok(Some(expiration))
}

/// PKCE S256 (RFC 7636 §4.6): the verifier is 43–128 unreserved characters.
fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if !well_formed {
        return false;
    }
    let computed = crate::client::pkce_challenge(verifier);
    aws_lc_rs::constant_time::verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes())
        .is_ok()
}

/// What an access token is issued for.
struct Grant<'a> {
    id: GrantId,
    consent_id: Option<ConsentId>,
    scope: &'a str,
    /// The customer's claims for userinfo, sealed to the grant.
    subject: Option<Sealed>,
}

fn access_record(
    inner: &Inner,
    brand: &BrandEndpoints,
    client: &AuthenticatedClient,
    token: &str,
    grant: Grant<'_>,
    now: Timestamp,
) -> TokenRecord {
    let Grant {
        id: grant_id,
        consent_id,
        scope,
        subject,
    } = grant;
    TokenRecord {
        brand: brand.server.brand.id().clone(),
        token: TokenHash::of(token),
        kind: TokenKind::Access,
        grant_id,
        client_id: client.client.id().clone(),
        consent_id,
        scope: scope.to_owned(),
        certificate_thumbprint: Some(client.certificate_thumbprint.clone()),
        issued_at: now,
        expires_at: Some(now.saturating_add(inner.access_token_ttl)),
        revoked_at: None,
        subject,
    }
}

async fn authorization_code(
    inner: &Inner,
    brand: &BrandEndpoints,
    client: &AuthenticatedClient,
    form: &std::collections::BTreeMap<String, String>,
) -> Result<http::Response<Body>, OAuthError> {
    let code = form
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let brand_id = brand.server.brand.id();
    let now = inner.clock.now();
    let record = match inner
        .storage
        .grants
        .redeem_code(brand_id, &TokenHash::of(code), now)
        .await?
    {
        CodeRedemption::Redeemed(record) => record,
        CodeRedemption::AlreadyRedeemed { grant_id } => {
            let revoked = inner
                .storage
                .grants
                .revoke_grant(brand_id, &grant_id, now)
                .await?;
            tracing::warn!(client = %client.client.id(), revoked, "authorization code replayed; its tokens are revoked");
            return Err(invalid_grant("the code was already used"));
        }
        _ => return Err(invalid_grant("unknown or expired code")),
    };
    if &record.client_id != client.client.id() {
        return Err(invalid_grant("the code was issued to another client"));
    }
    let grant: CodeGrant = inner
        .sealer
        .open_json(
            &SealContext::new("code", brand_id, &record.grant_id.to_string()),
            &record.grant,
        )
        .await
        .map_err(|_| OAuthError::server_error())?;
    if form.get("redirect_uri").map(String::as_str) != Some(grant.request.redirect_uri.as_str()) {
        return Err(invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    let verifier = form
        .get("code_verifier")
        .ok_or_else(|| invalid_grant("code_verifier is required"))?;
    if !pkce_matches(verifier, &grant.request.code_challenge) {
        return Err(invalid_grant("code_verifier does not match"));
    }
    let consent_id = grant.request.consent_id.clone();
    let Some(expiration) = consent_usable(inner, brand, &consent_id, client, now).await? else {
        return Err(invalid_grant("the consent is not authorised"));
    };
    let scope = grant.request.scopes.join(" ");
    let subject = inner
        .sealer
        .seal_json(
            &SealContext::new("token-subject", brand_id, &record.grant_id.to_string()),
            &serde_json::json!({ "sub": grant.subject }),
        )
        .map_err(|_| OAuthError::server_error())?;
    let access = random_token()?;
    let refresh = random_token()?;
    inner
        .storage
        .grants
        .put_token(&access_record(
            inner,
            brand,
            client,
            &access,
            Grant {
                id: record.grant_id,
                consent_id: Some(consent_id.clone()),
                scope: &scope,
                subject: Some(subject.clone()),
            },
            now,
        ))
        .await?;
    inner
        .storage
        .grants
        .put_token(&TokenRecord {
            brand: brand_id.clone(),
            token: TokenHash::of(&refresh),
            kind: TokenKind::Refresh,
            grant_id: record.grant_id,
            client_id: client.client.id().clone(),
            consent_id: Some(consent_id),
            scope: scope.clone(),
            certificate_thumbprint: Some(client.certificate_thumbprint.clone()),
            issued_at: now,
            // Lives as long as the consent (FAPI-BR §3.8).
            expires_at: expiration,
            revoked_at: None,
            subject: Some(subject),
        })
        .await?;
    let mut claims = id_token_claims(brand, &grant, now);
    claims.insert("at_hash".into(), serde_json::json!(half_hash(&access)));
    // FAPI-BR v2 returns it signed only; a deployment whose certification
    // run expects it encrypted (as the front-channel one) can ask for that.
    let id_token = if inner.encrypt_token_endpoint_id_tokens {
        encrypted_id_token(inner, brand, &client.client, &claims)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "token-endpoint ID token not encrypted");
                OAuthError::server_error()
            })?
    } else {
        signed_id_token(brand, &claims).await?
    };
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": inner.access_token_ttl.as_secs(),
            "refresh_token": refresh,
            "scope": scope,
            "id_token": id_token,
        }),
    ))
}

async fn refresh(
    inner: &Inner,
    brand: &BrandEndpoints,
    client: &AuthenticatedClient,
    form: &std::collections::BTreeMap<String, String>,
) -> Result<http::Response<Body>, OAuthError> {
    let presented = form
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let brand_id = brand.server.brand.id();
    let now = inner.clock.now();
    let record = inner
        .storage
        .grants
        .get_token(brand_id, &TokenHash::of(presented))
        .await?
        .filter(|r| {
            r.kind == TokenKind::Refresh && r.is_active(now) && &r.client_id == client.client.id()
        })
        .ok_or_else(|| invalid_grant("unknown, expired or revoked refresh token"))?;
    let consent_id = record
        .consent_id
        .clone()
        .ok_or_else(|| invalid_grant("the refresh token has no consent"))?;
    if consent_usable(inner, brand, &consent_id, client, now)
        .await?
        .is_none()
    {
        // The consent ended: its tokens go with it.
        inner
            .storage
            .grants
            .revoke_consent_tokens(brand_id, &consent_id, now)
            .await?;
        return Err(invalid_grant("the consent is no longer authorised"));
    }
    let access = random_token()?;
    inner
        .storage
        .grants
        .put_token(&access_record(
            inner,
            brand,
            client,
            &access,
            Grant {
                id: record.grant_id,
                consent_id: Some(consent_id),
                scope: &record.scope,
                subject: record.subject.clone(),
            },
            now,
        ))
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": inner.access_token_ttl.as_secs(),
            "refresh_token": presented,
            "scope": record.scope,
        }),
    ))
}
