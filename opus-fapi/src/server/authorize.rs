//! The authorization endpoint and the end of the user interaction
//! (FAPI-BR §3.5–3.6): a pushed request is taken once, the bank's front
//! authenticates the customer and records the decision, and the customer
//! returns to the client with `code`, `state` and an encrypted ID token — or
//! with `access_denied`.
//!
//! Interactions are sealed, expiring records of the interaction store
//! (compare-and-set on every step), so any replica can carry on an
//! interaction another one started; [`super::interaction`] runs their steps.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_lc_rs::digest;
use http::{HeaderValue, Response, StatusCode, header};
use opus_core::interaction::{Acr, DenialReason, InteractionApproval, InteractionOutcome};
use opus_core::keys::KeyPurpose;
use opus_core::seal::SealContext;
use opus_core::store::{
    AuthorizationCodeRecord, InteractionRecord, ParRecord, ReplayScope, StoreError, TokenHash,
};
use opus_core::{
    BrandId, ClientId, Cnpj, ConsentId, Cpf, Document, GrantId, InteractionSessionId, Jti,
    Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use super::client::RegisteredClient;
use super::error::OAuthError;
use super::interaction::{self, Session, Step};
use super::par::AuthorizationRequest;
use super::{Body, BrandEndpoints, Inner, random_token};
use crate::jose::jwe::{self, EncryptOptions};
use crate::jose::{b64_encode, jws};

/// How long an authorization code can be redeemed (RFC 6749 §4.1.2: short,
/// at most ten minutes).
pub(crate) const CODE_TTL: Duration = Duration::from_secs(60);
/// How long a front-channel ID token is valid.
const ID_TOKEN_TTL: Duration = Duration::from_secs(300);
const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// What a code stands for, sealed in the grant store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CodeGrant {
    pub(crate) request: AuthorizationRequest,
    pub(crate) subject: String,
    pub(crate) cpf: Cpf,
    pub(crate) cnpj: Option<Cnpj>,
    pub(crate) acr: Acr,
    pub(crate) auth_time: Timestamp,
}

/// Why an interaction could not be completed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InteractionError {
    /// No such interaction in the brand: unknown, finished or expired.
    #[error("no such interaction (unknown, finished or expired)")]
    NotFound,
    /// The brand is not served here.
    #[error("unknown brand")]
    UnknownBrand,
    /// The command does not fit the interaction's current step (e.g. a
    /// decision before authentication), or another device moved it on.
    #[error("the interaction is not at that step")]
    WrongStep,
    /// The interaction was handed off to another device, which alone can
    /// carry it on; this one can only wait for the outcome.
    #[error("the interaction continues on another device")]
    HandedOff,
    /// The evidence did not authenticate the customer; `remaining` more
    /// attempts are allowed before the interaction ends denied.
    #[error("authentication failed ({remaining} attempts left)")]
    AuthenticationFailed {
        /// Attempts left.
        remaining: u8,
    },
    /// The chosen resources are not among those offered.
    #[error("the chosen resources are not among those offered")]
    InvalidSelection,
    /// The command was malformed.
    #[error("malformed command: {0}")]
    BadRequest(&'static str),
    /// The bank's authentication or resources service is down.
    #[error("the bank's service is unavailable")]
    Unavailable,
    /// A backend (store, keys, directory) failed.
    #[error("the interaction could not be completed: {0}")]
    Internal(&'static str),
}

fn error_page(status: StatusCode, message: &str) -> Response<Body> {
    let html = format!(
        "<!doctype html><html lang=\"pt-BR\"><meta charset=\"utf-8\"><title>Erro</title>\
         <body><h1>Não foi possível continuar</h1><p>{}</p></body></html>",
        html_escape(message)
    );
    let mut response = Response::new(Body::from(html));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn html_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

fn redirect(to: &Url) -> Response<Body> {
    let mut response = Response::new(Body::default());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(value) = HeaderValue::from_str(to.as_str()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Why the authorization endpoint stopped: shown on an error page to a
/// browser, or as an OAuth error body to anything else.
struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: &'static str,
}

const INVALID: Refusal = Refusal {
    status: StatusCode::BAD_REQUEST,
    code: "invalid_request",
    message: "A requisição de autorização é inválida.",
};
const UNAVAILABLE: Refusal = Refusal {
    status: StatusCode::INTERNAL_SERVER_ERROR,
    code: "server_error",
    message: "Tente novamente mais tarde.",
};

/// `GET /authorize?client_id=…&request_uri=…`. Anything but a live pushed
/// request of that client ends on an error page (or, for a client that does
/// not accept HTML, an OAuth error body), never a redirect to an unverified
/// URI; other query parameters are ignored (only the request object counts).
pub(crate) async fn authorize(
    inner: &Inner,
    brand: &BrandEndpoints,
    query: Option<&str>,
    accept: Option<&str>,
    user_agent: Option<&str>,
) -> Response<Body> {
    match begin(inner, brand, query, user_agent).await {
        Ok(to) => redirect(&to),
        Err(refusal) if accept.is_some_and(|a| a.contains("text/html")) => {
            error_page(refusal.status, refusal.message)
        }
        Err(refusal) => {
            let description = match refusal.code {
                "invalid_request_uri" => "the request_uri is unknown, expired or used",
                "server_error" => "try again later",
                _ => "only client_id and a pushed request_uri are accepted",
            };
            super::json_response(
                refusal.status,
                &serde_json::json!({"error": refusal.code, "error_description": description}),
            )
        }
    }
}

async fn begin(
    inner: &Inner,
    brand: &BrandEndpoints,
    query: Option<&str>,
    user_agent: Option<&str>,
) -> Result<Url, Refusal> {
    let params: BTreeMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let (Some(client_id), Some(request_uri)) = (params.get("client_id"), params.get("request_uri"))
    else {
        return Err(INVALID);
    };
    if !request_uri.starts_with(REQUEST_URI_PREFIX) {
        return Err(INVALID);
    }
    let client_id = ClientId::new(client_id.clone()).map_err(|_| INVALID)?;
    let brand_id = brand.server.brand.id();
    let now = inner.clock.now();
    let taken = inner
        .storage
        .grants
        .take_par(brand_id, request_uri, &client_id, now)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "grant store unavailable");
            UNAVAILABLE
        })?;
    let record = taken.ok_or(Refusal {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_request_uri",
        message: "A requisição de autorização expirou ou já foi usada.",
    })?;
    // A visit does not use the request up (a reload or a second visit
    // before the customer finishes must work); the end of the interaction
    // does. Put it back as it was.
    match inner.storage.grants.put_par(&record).await {
        Ok(()) | Err(StoreError::Conflict) => {}
        Err(e) => {
            tracing::warn!(error = %e, "grant store unavailable");
            return Err(UNAVAILABLE);
        }
    }
    start_interaction(inner, brand, &record, now, user_agent)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "interaction not started");
            UNAVAILABLE
        })
}

async fn start_interaction(
    inner: &Inner,
    brand: &BrandEndpoints,
    record: &ParRecord,
    now: Timestamp,
    user_agent: Option<&str>,
) -> Result<Url, InteractionError> {
    let brand_id = brand.server.brand.id();
    let request: AuthorizationRequest = inner
        .sealer
        .open_json(
            &SealContext::new("par", brand_id, &record.request_uri),
            &record.request,
        )
        .await
        .map_err(|_| InteractionError::Internal("pushed request unreadable"))?;
    let session = Session {
        request,
        request_uri: record.request_uri.clone(),
        step: Step::Authenticate,
        handed_off: false,
        failed_authentications: 0,
        user_agent: user_agent.map(|ua| ua.chars().take(512).collect()),
    };
    let id = InteractionSessionId::random();
    let expires_at = now.saturating_add(inner.interaction_ttl);
    let stored = InteractionRecord::new(
        brand_id.clone(),
        id,
        now,
        expires_at,
        interaction::seal_session(inner, brand_id, &id, &session)?,
    );
    inner
        .storage
        .interactions
        .insert_interaction(&stored)
        .await
        .map_err(|_| InteractionError::Internal("interaction store"))?;
    let interaction = interaction::request_for(inner, brand, &stored, &session).await?;
    let to =
        inner.authenticator.start(&interaction).await.map_err(|_| {
            InteractionError::Internal("the bank's interaction front is unavailable")
        })?;
    if let Ok(authorization_endpoint) = Url::parse(&brand.endpoint("authorize")) {
        interaction::observe(
            inner,
            brand,
            &session,
            super::flow::FlowEvent::RedirectTarget {
                waiting: super::flow::Waiting::UserAuthentication,
                authorization_endpoint,
            },
        )
        .await;
    }
    Ok(to)
}

pub(crate) async fn load_client(
    inner: &Inner,
    brand: &BrandId,
    id: &ClientId,
) -> Result<RegisteredClient, InteractionError> {
    inner
        .storage
        .clients
        .get_client(brand, id)
        .await
        .map_err(|_| InteractionError::Internal("client store"))?
        .and_then(RegisteredClient::from_record)
        .ok_or(InteractionError::NotFound)
}

/// Ends the interaction of `session` with `outcome`: authorises or rejects
/// the consent and answers where to send the customer's browser (the
/// client's redirect URI with the response in the fragment) and whether it
/// was approved. One pushed request has one outcome: of several
/// interactions opened from it, only the first to finish counts.
pub(crate) async fn finish(
    inner: &Inner,
    brand: &BrandEndpoints,
    session: &Session,
    expires_at: Timestamp,
    outcome: InteractionOutcome,
) -> Result<(Url, bool), InteractionError> {
    let brand_id = brand.server.brand.id();
    let now = inner.clock.now();
    let request = &session.request;
    let used = ReplayScope {
        brand: brand_id.clone(),
        namespace: "request-uri".to_owned(),
    };
    let marker = Jti::new(session.request_uri.trim_start_matches(REQUEST_URI_PREFIX))
        .map_err(|_| InteractionError::Internal("request_uri"))?;
    match inner
        .storage
        .replay
        .insert_jti(&used, &marker, expires_at, now)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict) => return Err(InteractionError::NotFound),
        Err(_) => return Err(InteractionError::Internal("replay store")),
    }
    inner
        .storage
        .grants
        .take_par(brand_id, &session.request_uri, &request.client_id, now)
        .await
        .map_err(|_| InteractionError::Internal("grant store"))?;
    let client = load_client(inner, brand_id, &request.client_id).await?;
    let approval = match outcome {
        InteractionOutcome::Approved(approval) => approval,
        InteractionOutcome::Denied { reason } => {
            reject_consent(inner, brand_id, &request.consent_id, reason, now).await?;
            return Ok((denied(request), false));
        }
        _ => return Err(InteractionError::Internal("unknown outcome")),
    };
    if let Err(reason) = check_claims_request(request, &approval) {
        reject_consent(inner, brand_id, &request.consent_id, reason, now).await?;
        return Ok((denied(request), false));
    }
    if !interaction::acr_met(&request.acr_values, approval.acr) {
        reject_consent(
            inner,
            brand_id,
            &request.consent_id,
            DenialReason::AuthenticationFailed,
            now,
        )
        .await?;
        return Ok((denied(request), false));
    }
    match inner
        .consent_authorisation
        .authorise(brand_id, &request.consent_id, &request.client_id, &approval)
        .await
        .map_err(|_| InteractionError::Unavailable)?
    {
        Ok(()) => {}
        Err(reason) => {
            reject_consent(inner, brand_id, &request.consent_id, reason, now).await?;
            return Ok((denied(request), false));
        }
    }
    let subject = subject_of(inner, &approval.subject)?;
    let grant = CodeGrant {
        request: request.clone(),
        subject,
        cpf: approval.subject.clone(),
        cnpj: approval.business_entity.clone(),
        acr: approval.acr,
        auth_time: approval.auth_time,
    };
    let code = random_token().map_err(|_| InteractionError::Internal("random"))?;
    let grant_id = GrantId::random();
    let sealed = inner
        .sealer
        .seal_json(
            &SealContext::new("code", brand_id, &grant_id.to_string()),
            &grant,
        )
        .map_err(|_| InteractionError::Internal("sealing"))?;
    inner
        .storage
        .grants
        .put_code(&AuthorizationCodeRecord {
            brand: brand_id.clone(),
            code: TokenHash::of(&code),
            grant_id,
            client_id: request.client_id.clone(),
            consent_id: Some(request.consent_id.clone()),
            created_at: now,
            expires_at: now.saturating_add(CODE_TTL),
            grant: sealed,
        })
        .await
        .map_err(|_| InteractionError::Internal("grant store"))?;

    let mut claims = id_token_claims(brand, &grant, now);
    claims.insert("c_hash".into(), json!(half_hash(&code)));
    if let Some(state) = &request.state {
        claims.insert("s_hash".into(), json!(half_hash(state)));
    }
    let id_token = encrypted_id_token(inner, brand, &client, &claims).await?;
    let mut to = request.redirect_uri.clone();
    let mut fragment = url::form_urlencoded::Serializer::new(String::new());
    fragment.append_pair("code", &code);
    fragment.append_pair("id_token", &id_token);
    if let Some(state) = &request.state {
        fragment.append_pair("state", state);
    }
    to.set_fragment(Some(&fragment.finish()));
    Ok((to, true))
}

fn denied(request: &AuthorizationRequest) -> Url {
    let mut to = request.redirect_uri.clone();
    let mut fragment = url::form_urlencoded::Serializer::new(String::new());
    fragment.append_pair("error", "access_denied");
    if let Some(state) = &request.state {
        fragment.append_pair("state", state);
    }
    to.set_fragment(Some(&fragment.finish()));
    to
}

/// `sub`: stable for the customer across brands and replicas, and not their
/// CPF (the blind index keyed by the institution).
fn subject_of(inner: &Inner, cpf: &Cpf) -> Result<String, InteractionError> {
    let index = inner
        .sealer
        .blind_index(&Document::Cpf(cpf.clone()))
        .map_err(|_| InteractionError::Internal("blind index"))?;
    Ok(b64_encode(index.as_bytes()))
}

/// The `claims` request against who authenticated (FAPI-BR §3.4: `cpf` or
/// `cnpj` with a `value` must match, or the authentication fails).
fn check_claims_request(
    request: &AuthorizationRequest,
    approval: &InteractionApproval,
) -> Result<(), DenialReason> {
    let Some(id_token) = request.claims.as_ref().and_then(|c| c.get("id_token")) else {
        return Ok(());
    };
    if let Some(value) = id_token
        .get("cpf")
        .and_then(|c| c.get("value"))
        .and_then(Value::as_str)
        && value != approval.subject.as_str()
    {
        return Err(DenialReason::WrongCustomer);
    }
    if let Some(value) = id_token
        .get("cnpj")
        .and_then(|c| c.get("value"))
        .and_then(Value::as_str)
        && approval
            .business_entity
            .as_ref()
            .is_none_or(|c| c.as_str() != value)
    {
        return Err(DenialReason::WrongCustomer);
    }
    Ok(())
}

/// Claims common to both ID tokens.
pub(crate) fn id_token_claims(
    brand: &BrandEndpoints,
    grant: &CodeGrant,
    now: Timestamp,
) -> serde_json::Map<String, Value> {
    let mut claims = serde_json::Map::new();
    claims.insert("iss".into(), json!(brand.issuer));
    claims.insert("sub".into(), json!(grant.subject));
    claims.insert("aud".into(), json!(grant.request.client_id.as_str()));
    claims.insert("iat".into(), json!(now.unix_seconds()));
    claims.insert(
        "exp".into(),
        json!(now.saturating_add(ID_TOKEN_TTL).unix_seconds()),
    );
    claims.insert("auth_time".into(), json!(grant.auth_time.unix_seconds()));
    claims.insert("nonce".into(), json!(grant.request.nonce));
    claims.insert("acr".into(), json!(grant.acr.as_str()));
    let requested = grant
        .request
        .claims
        .as_ref()
        .and_then(|c| c.get("id_token"));
    if requested.is_some_and(|r| r.get("cpf").is_some()) {
        claims.insert("cpf".into(), json!(grant.cpf.as_str()));
    }
    if requested.is_some_and(|r| r.get("cnpj").is_some())
        && let Some(cnpj) = &grant.cnpj
    {
        claims.insert("cnpj".into(), json!([cnpj.as_str()]));
    }
    claims
}

/// The left half of the SHA-256 of `value`, base64url (`c_hash`, `s_hash`, `at_hash`).
pub(crate) fn half_hash(value: &str) -> String {
    let d = digest::digest(&digest::SHA256, value.as_bytes());
    b64_encode(&d.as_ref()[..16])
}

pub(crate) async fn encrypted_id_token(
    inner: &Inner,
    brand: &BrandEndpoints,
    client: &RegisteredClient,
    claims: &serde_json::Map<String, Value>,
) -> Result<String, InteractionError> {
    let keys = inner
        .client_keys
        .keys(client)
        .await
        .map_err(|_| InteractionError::Internal("client keys unavailable"))?;
    let recipient = keys
        .keys
        .iter()
        .find(|k| k.kty == "RSA" && k.use_.as_deref() == Some("enc"))
        .ok_or(InteractionError::Internal("the client has no RSA enc key"))?;
    let signer = brand
        .server
        .keys
        .signer(KeyPurpose::MessageSigning)
        .await
        .map_err(|_| InteractionError::Internal("signing key unavailable"))?;
    jwe::sign_then_encrypt(signer.as_ref(), claims, recipient, EncryptOptions::ofb())
        .await
        .map_err(|_| InteractionError::Internal("ID token encryption"))
}

/// A signed, unencrypted ID token (the token endpoint's).
pub(crate) async fn signed_id_token(
    brand: &BrandEndpoints,
    claims: &serde_json::Map<String, Value>,
) -> Result<String, OAuthError> {
    let signer = brand
        .server
        .keys
        .signer(KeyPurpose::MessageSigning)
        .await
        .map_err(|_| OAuthError::server_error())?;
    jws::sign_claims(signer.as_ref(), Some("JWT"), claims)
        .await
        .map_err(|_| OAuthError::server_error())
}

/// Rejects the consent through the consent port after a denial, and
/// revokes whatever was issued under it.
async fn reject_consent(
    inner: &Inner,
    brand: &BrandId,
    id: &ConsentId,
    reason: DenialReason,
    now: Timestamp,
) -> Result<(), InteractionError> {
    inner
        .consent_authorisation
        .reject(brand, id, reason)
        .await
        .map_err(|_| InteractionError::Unavailable)?;
    inner
        .storage
        .grants
        .revoke_consent_tokens(brand, id, now)
        .await
        .map_err(|_| InteractionError::Internal("grant store"))?;
    Ok(())
}
