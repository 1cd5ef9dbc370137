//! Pushed authorization requests (RFC 9126) with a signed request object
//! (RFC 9101), under FAPI-BR §3.3–3.4.
//!
//! Only what is inside the PS256 request object counts; the PAR form carries
//! client authentication and `request`, and a `request_uri` form parameter
//! is refused. The validated request is stored sealed under a single-use
//! `request_uri` bound to the client.

use std::collections::BTreeMap;
use std::time::Duration;

use http::StatusCode;
use http::request::Parts;
use opus_core::consent::{ConsentKind, ConsentStatus};
use opus_core::interaction::Acr;
use opus_core::seal::SealContext;
use opus_core::store::{ParRecord, ReplayScope, StoreError};
use opus_core::{ClientId, ConsentId, Jti};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::client_auth::{authenticate, verify_client_jws};
use super::error::{OAuthError, OAuthErrorCode};
use super::{Body, BrandEndpoints, Inner, json_response, parse_form, random_token};
use crate::jose::claims::{self, ClaimsPolicy};
use crate::jose::header::typ_matches;

/// Request objects live at most 60 minutes, and `nbf` is at most 60 minutes
/// old (FAPI 1.0 Advanced §5.2.2-13 and -17).
const MAX_REQUEST_OBJECT_LIFETIME: Duration = Duration::from_secs(3600);
const SKEW: Duration = Duration::from_secs(10);
const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// A validated authorization request, as stored behind a `request_uri`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: ClientId,
    /// The registered redirect URI to answer to.
    pub redirect_uri: Url,
    /// Every requested scope.
    pub scopes: Vec<String>,
    /// The consent of the `consent:` scope.
    pub consent_id: ConsentId,
    /// `state`, echoed back (and hashed into `s_hash`).
    pub state: Option<String>,
    /// `nonce`, for the ID token.
    pub nonce: String,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// Acceptable assurance levels, preferred first.
    pub acr_values: Vec<Acr>,
    /// The `claims` request, if any.
    pub claims: Option<Value>,
}

fn ro(description: &'static str) -> OAuthError {
    OAuthError::invalid_request_object(description)
}

fn string_claim<'a>(
    members: &'a BTreeMap<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, OAuthError> {
    match members.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(ro("a request object claim has the wrong type")),
    }
}

/// `POST /par`.
pub(crate) async fn push(
    inner: &Inner,
    brand: &BrandEndpoints,
    parts: &Parts,
    body: &[u8],
) -> Result<http::Response<Body>, OAuthError> {
    let form = parse_form(body)?;
    if form.contains_key("request_uri") {
        return Err(OAuthError::invalid_request(
            "request_uri is not accepted at the PAR endpoint",
        ));
    }
    let authenticated = authenticate(inner, brand, parts, &form).await?;
    let client = &authenticated.client;
    let request = form
        .get("request")
        .ok_or_else(|| OAuthError::invalid_request("a signed request object is required"))?;

    let verified = verify_client_jws(
        inner,
        client,
        request,
        ro("the request object did not verify"),
    )
    .await?;
    if let Some(typ) = verified.header().typ()
        && !typ_matches(typ, "oauth-authz-req+jwt")
        && !typ_matches(typ, "JWT")
    {
        return Err(ro("unexpected request object typ"));
    }
    let members = verified
        .claims()
        .map_err(|_| ro("the request object is malformed"))?;
    if members.contains_key("request_uri") || members.contains_key("request") {
        return Err(ro("a request object must not nest request or request_uri"));
    }
    if members.contains_key("id_token_hint") {
        return Err(OAuthError::invalid_request("id_token_hint is not accepted"));
    }
    let now = inner.clock.now();
    let policy = ClaimsPolicy::new()
        .issuer(client.id().as_str())
        .audience(brand.issuer.as_str())
        .require_nbf()
        .max_age(MAX_REQUEST_OBJECT_LIFETIME)
        .max_lifetime(MAX_REQUEST_OBJECT_LIFETIME)
        .skew(SKEW);
    let validated = claims::validate(members.clone(), &policy, now).map_err(|e| {
        tracing::debug!(client = %client.id(), error = %e, "request object claims refused");
        ro("the request object claims are not acceptable")
    })?;
    if string_claim(&members, "client_id")? != Some(client.id().as_str()) {
        return Err(ro(
            "the request object client_id is not the authenticated client",
        ));
    }
    if let Some(jti) = validated.jti() {
        let jti = Jti::new(jti).map_err(|_| ro("the request object jti is malformed"))?;
        let scope = ReplayScope {
            brand: brand.server.brand.id().clone(),
            namespace: format!("request-object:{}", client.id()),
        };
        let until = validated.exp().unwrap_or(now).saturating_add(SKEW);
        match inner
            .storage
            .replay
            .insert_jti(&scope, &jti, until, now)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict) => return Err(ro("the request object was already used")),
            Err(e) => return Err(e.into()),
        }
    }

    if string_claim(&members, "response_type")? != Some("code id_token") {
        return Err(OAuthError::new(
            OAuthErrorCode::UnsupportedResponseType,
            "response_type must be code id_token",
        ));
    }
    // Hybrid responses go in the fragment; JARM is not part of FAPI-BR v2.
    if string_claim(&members, "response_mode")?.is_some_and(|m| m != "fragment") {
        return Err(OAuthError::invalid_request(
            "response_mode must be fragment",
        ));
    }
    let redirect_uri = string_claim(&members, "redirect_uri")?
        .and_then(|u| Url::parse(u).ok())
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
    if redirect_uri.scheme() != "https" {
        return Err(OAuthError::invalid_request("redirect_uri must be https"));
    }
    if !client
        .metadata
        .redirect_uris
        .iter()
        .any(|r| super::url_eq(r, &redirect_uri))
    {
        return Err(OAuthError::invalid_request(
            "redirect_uri is not registered",
        ));
    }
    let scope = string_claim(&members, "scope")?
        .ok_or_else(|| OAuthError::invalid_request("scope is required"))?;
    let scopes: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::invalid_request("the openid scope is required"));
    }
    // Exactly one consent: `consent:{id}` (data sharing, payments) or
    // `recurring-consent:{id}` (automatic payments).
    let is_consent_scope =
        |s: &str| s.starts_with("consent:") || s.starts_with("recurring-consent:");
    let consent_scopes: Vec<(&str, bool)> = scopes
        .iter()
        .filter_map(|s| {
            s.strip_prefix("consent:")
                .map(|id| (id, false))
                .or_else(|| s.strip_prefix("recurring-consent:").map(|id| (id, true)))
        })
        .collect();
    let [(consent, recurring)] = consent_scopes.as_slice() else {
        return Err(OAuthError::new(
            OAuthErrorCode::InvalidScope,
            "exactly one consent scope is required",
        ));
    };
    if scopes
        .iter()
        .any(|s| s != "openid" && !is_consent_scope(s) && !client.metadata.allows(s))
    {
        return Err(OAuthError::new(
            OAuthErrorCode::InvalidScope,
            "a requested scope is not allowed to the client",
        ));
    }
    let consent_id = ConsentId::new(*consent)
        .map_err(|_| OAuthError::new(OAuthErrorCode::InvalidScope, "malformed consent scope"))?;
    let stored = inner
        .storage
        .consents
        .get_consent(brand.server.brand.id(), &consent_id)
        .await?;
    let usable = stored.as_ref().is_some_and(|c| {
        &c.client_id == client.id()
            && c.status == ConsentStatus::AwaitingAuthorisation
            && (c.kind == ConsentKind::Recurring) == *recurring
    });
    if !usable {
        return Err(OAuthError::invalid_request(
            "the consent cannot be authorised",
        ));
    }
    let nonce = string_claim(&members, "nonce")?
        .filter(|n| !n.is_empty() && n.len() <= 512)
        .ok_or_else(|| OAuthError::invalid_request("nonce is required"))?;
    let state = string_claim(&members, "state")?.map(str::to_owned);
    if state.as_ref().is_some_and(|s| s.len() > 512) {
        return Err(OAuthError::invalid_request("state is too long"));
    }
    let code_challenge = string_claim(&members, "code_challenge")?
        .ok_or_else(|| OAuthError::invalid_request("PKCE code_challenge is required"))?;
    if string_claim(&members, "code_challenge_method")? != Some("S256") {
        return Err(OAuthError::invalid_request(
            "PKCE code_challenge_method must be S256",
        ));
    }
    if code_challenge.len() != 43
        || crate::jose::b64_decode(code_challenge).is_none_or(|d| d.len() != 32)
    {
        return Err(OAuthError::invalid_request("malformed PKCE code_challenge"));
    }
    let acr_values = requested_acrs(&members)?;

    let request = AuthorizationRequest {
        client_id: client.id().clone(),
        redirect_uri,
        scopes,
        consent_id,
        state,
        nonce: nonce.to_owned(),
        code_challenge: code_challenge.to_owned(),
        acr_values,
        claims: members.get("claims").cloned(),
    };
    let request_uri = format!("{REQUEST_URI_PREFIX}{}", random_token()?);
    let sealed = inner
        .sealer
        .seal_json(
            &SealContext::new("par", brand.server.brand.id(), &request_uri),
            &request,
        )
        .map_err(|_| OAuthError::server_error())?;
    inner
        .storage
        .grants
        .put_par(&ParRecord {
            brand: brand.server.brand.id().clone(),
            request_uri: request_uri.clone(),
            client_id: client.id().clone(),
            created_at: now,
            expires_at: now.saturating_add(inner.par_ttl),
            request: sealed,
        })
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &serde_json::json!({"request_uri": request_uri, "expires_in": inner.par_ttl.as_secs()}),
    ))
}

/// The assurance levels asked for, from `acr_values` or the `claims`
/// request; LoA2 when none is named.
fn requested_acrs(members: &BTreeMap<String, Value>) -> Result<Vec<Acr>, OAuthError> {
    let parse = |v: &str| match v {
        "urn:brasil:openbanking:loa2" => Some(Acr::Loa2),
        "urn:brasil:openbanking:loa3" => Some(Acr::Loa3),
        _ => None,
    };
    let mut out = Vec::new();
    if let Some(values) = string_claim(members, "acr_values")? {
        out.extend(values.split_whitespace().filter_map(parse));
    }
    if let Some(acr) = members
        .get("claims")
        .and_then(|c| c.get("id_token"))
        .and_then(|t| t.get("acr"))
    {
        if let Some(v) = acr.get("value").and_then(Value::as_str) {
            out.extend(parse(v));
        }
        if let Some(values) = acr.get("values").and_then(Value::as_array) {
            out.extend(values.iter().filter_map(Value::as_str).filter_map(parse));
        }
    }
    out.dedup();
    if out.is_empty() {
        out.push(Acr::Loa2);
    }
    Ok(out)
}
