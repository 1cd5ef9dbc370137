//! Dynamic client registration and management (RFC 7591, RFC 7592, the OFB
//! DCR profile; FAPI-BR §4).
//!
//! The software statement assertion (SSA) is the credential: signed PS256 by
//! the directory, at most five minutes old, from the configured issuer, for
//! the organisation (and software statement) of the presented transport
//! certificate. SSA values win over the request's; `jwks` by value and
//! anything but `private_key_jwt` are refused; redirect URIs must be a subset
//! of the statement's; roles decide scopes. The registration access token is
//! stored as a hash and never rotated.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use http::{HeaderValue, Method, Response, StatusCode, header};
use opus_core::directory::Directory;
use opus_core::store::{ClientRecord, ClientStatus, StoreError, TokenHash};
use opus_core::{ClientId, OrganisationId, SoftwareStatementId, Timestamp};
use serde_json::{Map, Value, json};
use url::Url;

use super::client::{ClientAuthMethod, ClientMetadata, RegisteredClient};
use super::error::{OAuthError, OAuthErrorCode};
use super::{Body, BrandEndpoints, Inner, json_response, random_token};
use crate::cert::CertificateIdentity;
use crate::jose::jws::{self, JwsPolicy};
use crate::mtls::PeerCertificate;

/// SSAs older than this are stale (OFB DCR §7.1-3).
const SSA_MAX_AGE: Duration = Duration::from_secs(300);
/// Tolerated clock difference with the directory.
const SSA_SKEW: Duration = Duration::from_secs(60);
const MAX_URI_LEN: usize = 255;

/// Dynamic client registration settings.
#[derive(Clone)]
pub struct Registration {
    directory: Arc<dyn Directory>,
    ssa_issuer: String,
    require_software_id_in_certificate: bool,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("ssa_issuer", &self.ssa_issuer)
            .finish_non_exhaustive()
    }
}

impl Registration {
    /// Registration against `directory`, accepting SSAs whose `iss` is
    /// `ssa_issuer` (the directory environment's fixed issuer string, e.g.
    /// `Open Banking Open Banking Brasil prod SSA issuer`: configured, so a
    /// sandbox statement never registers in production). The certificate's
    /// `UID` must equal the SSA's `software_id` unless relaxed.
    pub fn new(directory: Arc<dyn Directory>, ssa_issuer: impl Into<String>) -> Self {
        Self {
            directory,
            ssa_issuer: ssa_issuer.into(),
            require_software_id_in_certificate: true,
        }
    }

    /// Accepts certificates whose `UID` is not the SSA's `software_id`
    /// (the organisation must still match).
    pub fn allow_certificate_of_another_software_statement(mut self) -> Self {
        self.require_software_id_in_certificate = false;
        self
    }
}

fn error(code: OAuthErrorCode, description: &'static str) -> OAuthError {
    OAuthError::new(code, description)
}

fn metadata_error(description: &'static str) -> OAuthError {
    error(OAuthErrorCode::InvalidClientMetadata, description)
}

fn ssa_error(description: &'static str) -> OAuthError {
    error(OAuthErrorCode::InvalidSoftwareStatement, description)
}

/// Scopes each regulatory role allows (FAPI-BR §4.6).
fn role_scopes(role: &str) -> &'static [&'static str] {
    match role {
        "DADOS" => &[
            "openid",
            "accounts",
            "credit-cards-accounts",
            "consents",
            "customers",
            "invoice-financings",
            "financings",
            "loans",
            "unarranged-accounts-overdraft",
            "resources",
        ],
        "PAGTO" => &["openid", "payments", "recurring-payments", "consents"],
        "CONTA" | "CCORR" => &["openid"],
        _ => &[],
    }
}

/// What a verified SSA says.
struct Statement {
    org_id: OrganisationId,
    software_id: SoftwareStatementId,
    jwks_uri: Url,
    redirect_uris: Vec<String>,
    scopes: BTreeSet<&'static str>,
    display: Map<String, Value>,
}

async fn verify_statement(
    registration: &Registration,
    token: &str,
    certificate: &CertificateIdentity,
    now: Timestamp,
) -> Result<Statement, OAuthError> {
    let keys = registration
        .directory
        .ssa_signing_keys()
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "directory SSA keys unavailable");
            OAuthError::server_error()
        })?;
    let verified = jws::verify(token, &keys, &JwsPolicy::ofb())
        .map_err(|_| ssa_error("the software statement did not verify"))?;
    let claims = verified
        .claims()
        .map_err(|_| ssa_error("the software statement is malformed"))?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    if text("iss") != Some(registration.ssa_issuer.as_str()) {
        return Err(ssa_error(
            "the software statement is from another directory environment",
        ));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or_else(|| ssa_error("the software statement has no iat"))?;
    let issued = Timestamp::from_unix_seconds(iat)
        .map_err(|_| ssa_error("the software statement iat is invalid"))?;
    if issued > now.saturating_add(SSA_SKEW) || issued.saturating_add(SSA_MAX_AGE) < now {
        return Err(ssa_error("the software statement is not fresh"));
    }
    let org_id = text("org_id")
        .and_then(|v| OrganisationId::parse(v).ok())
        .ok_or_else(|| ssa_error("the software statement has no org_id"))?;
    let software_id = text("software_id")
        .and_then(|v| SoftwareStatementId::parse(v).ok())
        .ok_or_else(|| ssa_error("the software statement has no software_id"))?;
    if certificate.organisation_id != Some(org_id) {
        return Err(error(
            OAuthErrorCode::UnapprovedSoftwareStatement,
            "the client certificate is not of the software statement's organisation",
        ));
    }
    if registration.require_software_id_in_certificate
        && certificate.software_statement_id != Some(software_id)
    {
        return Err(error(
            OAuthErrorCode::UnapprovedSoftwareStatement,
            "the client certificate is not of the software statement",
        ));
    }
    let jwks_uri = text("software_jwks_uri")
        .and_then(|v| Url::parse(v).ok())
        .ok_or_else(|| ssa_error("the software statement has no software_jwks_uri"))?;
    let redirect_uris = claims
        .get("software_redirect_uris")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    // Roles: `software_statement_roles` entries that are Active, else `software_roles`.
    let mut roles: Vec<String> = Vec::new();
    if let Some(entries) = claims
        .get("software_statement_roles")
        .and_then(Value::as_array)
    {
        roles.extend(
            entries
                .iter()
                .filter(|e| e.get("status").and_then(Value::as_str) == Some("Active"))
                .filter_map(|e| e.get("role").and_then(Value::as_str))
                .map(str::to_owned),
        );
    } else if let Some(list) = claims.get("software_roles").and_then(Value::as_array) {
        roles.extend(list.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    let scopes: BTreeSet<&'static str> = roles
        .iter()
        .flat_map(|r| role_scopes(r).iter().copied())
        .collect();
    if scopes.is_empty() {
        return Err(error(
            OAuthErrorCode::UnapprovedSoftwareStatement,
            "the software statement has no active regulatory role",
        ));
    }
    let mut display = Map::new();
    for (claim, member) in [
        ("software_client_name", "client_name"),
        ("software_client_uri", "client_uri"),
        ("software_logo_uri", "logo_uri"),
        ("software_tos_uri", "tos_uri"),
        ("software_policy_uri", "policy_uri"),
    ] {
        if let Some(v) = text(claim) {
            display.insert(member.to_owned(), json!(v));
        }
    }
    Ok(Statement {
        org_id,
        software_id,
        jwks_uri,
        redirect_uris,
        scopes,
        display,
    })
}

fn expect_value(body: &Map<String, Value>, name: &str, allowed: &[&str]) -> Result<(), OAuthError> {
    match body.get(name) {
        None => Ok(()),
        Some(Value::String(v)) if allowed.contains(&v.as_str()) => Ok(()),
        Some(_) => Err(metadata_error("an algorithm or method is not allowed")),
    }
}

fn webhook_uri_ok(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("https://") else {
        return false;
    };
    uri.len() <= MAX_URI_LEN
        && !rest.is_empty()
        && !rest.ends_with('/')
        && !rest.contains("//")
        && !rest
            .chars()
            .any(|c| c.is_whitespace() || c == '?' || c == '#')
}

/// Validates a registration (or update) request against its statement;
/// the registered metadata document.
fn registered_metadata(
    body: &Map<String, Value>,
    statement: &Statement,
) -> Result<(ClientMetadata, Map<String, Value>), OAuthError> {
    if body.contains_key("jwks") {
        return Err(metadata_error(
            "jwks by value is not accepted; use the directory keystore",
        ));
    }
    if body.keys().any(|k| k.starts_with("tls_client_auth_")) {
        return Err(metadata_error("tls_client_auth metadata is not accepted"));
    }
    match body.get("jwks_uri") {
        None => {}
        Some(Value::String(v)) if v == statement.jwks_uri.as_str() => {}
        Some(_) => {
            return Err(metadata_error(
                "jwks_uri must be the software statement's software_jwks_uri",
            ));
        }
    }
    expect_value(body, "token_endpoint_auth_method", &["private_key_jwt"])?;
    expect_value(
        body,
        "introspection_endpoint_auth_method",
        &["private_key_jwt"],
    )?;
    expect_value(
        body,
        "revocation_endpoint_auth_method",
        &["private_key_jwt"],
    )?;
    for alg in [
        "token_endpoint_auth_signing_alg",
        "id_token_signed_response_alg",
        "request_object_signing_alg",
        "userinfo_signed_response_alg",
    ] {
        expect_value(body, alg, &["PS256"])?;
    }
    for alg in [
        "id_token_encrypted_response_alg",
        "request_object_encryption_alg",
    ] {
        expect_value(body, alg, &["RSA-OAEP"])?;
    }
    for enc in [
        "id_token_encrypted_response_enc",
        "request_object_encryption_enc",
    ] {
        expect_value(body, enc, &["A256GCM"])?;
    }
    expect_value(body, "subject_type", &["public"])?;
    expect_value(body, "application_type", &["web", "native"])?;
    if let Some(types) = body.get("response_types")
        && types != &json!(["code id_token"])
    {
        return Err(metadata_error("response_types must be [\"code id_token\"]"));
    }
    let grant_types: Vec<String> = match body.get("grant_types") {
        None => vec![
            "authorization_code".into(),
            "implicit".into(),
            "refresh_token".into(),
            "client_credentials".into(),
        ],
        Some(Value::Array(list)) => {
            let mut out = Vec::new();
            for g in list {
                match g.as_str() {
                    Some(
                        g @ ("authorization_code" | "implicit" | "refresh_token"
                        | "client_credentials"),
                    ) => out.push(g.to_owned()),
                    _ => return Err(metadata_error("a grant type is not supported")),
                }
            }
            out
        }
        Some(_) => return Err(metadata_error("grant_types must be an array")),
    };
    if let Some(acrs) = body.get("default_acr_values") {
        let ok = acrs.as_array().is_some_and(|a| {
            a.iter().all(|v| {
                matches!(
                    v.as_str(),
                    Some("urn:brasil:openbanking:loa2" | "urn:brasil:openbanking:loa3")
                )
            })
        });
        if !ok {
            return Err(metadata_error(
                "default_acr_values must be supported acr values",
            ));
        }
    }
    // Redirect URIs: required, https, within the statement's.
    let redirects = body
        .get("redirect_uris")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            error(
                OAuthErrorCode::InvalidRedirectUri,
                "redirect_uris is required",
            )
        })?;
    let mut redirect_uris = Vec::new();
    for uri in redirects {
        let text = uri
            .as_str()
            .filter(|u| u.len() <= MAX_URI_LEN && statement.redirect_uris.iter().any(|s| s == u))
            .ok_or_else(|| {
                error(
                    OAuthErrorCode::InvalidRedirectUri,
                    "a redirect URI is not in the software statement",
                )
            })?;
        let url = Url::parse(text)
            .ok()
            .filter(|u| u.scheme() == "https" && u.fragment().is_none())
            .ok_or_else(|| {
                error(
                    OAuthErrorCode::InvalidRedirectUri,
                    "redirect URIs must be https",
                )
            })?;
        redirect_uris.push(url);
    }
    let mut webhook_uris = Vec::new();
    if let Some(list) = body.get("webhook_uris") {
        let list = list.as_array().ok_or_else(|| {
            error(
                OAuthErrorCode::InvalidWebhookUris,
                "webhook_uris must be an array",
            )
        })?;
        for uri in list {
            let url = uri
                .as_str()
                .filter(|u| webhook_uri_ok(u))
                .and_then(|u| Url::parse(u).ok())
                .ok_or_else(|| {
                    error(
                        OAuthErrorCode::InvalidWebhookUris,
                        "a webhook URI is malformed",
                    )
                })?;
            webhook_uris.push(url);
        }
    }
    // Scope: within the roles; all of them when absent.
    let scope: Vec<&str> = match body.get("scope") {
        None => statement.scopes.iter().copied().collect(),
        Some(Value::String(requested)) => {
            let requested: Vec<&str> = requested.split_whitespace().collect();
            if requested.is_empty() || requested.iter().any(|s| !statement.scopes.contains(s)) {
                return Err(metadata_error(
                    "a requested scope is not allowed by the software statement's roles",
                ));
            }
            requested
        }
        Some(_) => return Err(metadata_error("scope must be a string")),
    };
    let scope = scope.join(" ");

    let mut document = Map::new();
    document.insert(
        "redirect_uris".into(),
        json!(redirect_uris.iter().map(Url::as_str).collect::<Vec<_>>()),
    );
    document.insert(
        "token_endpoint_auth_method".into(),
        json!("private_key_jwt"),
    );
    document.insert("token_endpoint_auth_signing_alg".into(), json!("PS256"));
    document.insert("grant_types".into(), json!(grant_types));
    document.insert("response_types".into(), json!(["code id_token"]));
    document.insert("jwks_uri".into(), json!(statement.jwks_uri.as_str()));
    document.insert("id_token_signed_response_alg".into(), json!("PS256"));
    document.insert("id_token_encrypted_response_alg".into(), json!("RSA-OAEP"));
    document.insert("id_token_encrypted_response_enc".into(), json!("A256GCM"));
    document.insert("request_object_signing_alg".into(), json!("PS256"));
    document.insert("require_signed_request_object".into(), json!(true));
    document.insert("require_pushed_authorization_requests".into(), json!(true));
    document.insert(
        "tls_client_certificate_bound_access_tokens".into(),
        json!(true),
    );
    document.insert("subject_type".into(), json!("public"));
    document.insert(
        "application_type".into(),
        body.get("application_type")
            .cloned()
            .unwrap_or_else(|| json!("web")),
    );
    document.insert("scope".into(), json!(scope));
    document.insert(
        "software_id".into(),
        json!(statement.software_id.to_string()),
    );
    if !webhook_uris.is_empty() {
        document.insert(
            "webhook_uris".into(),
            json!(webhook_uris.iter().map(Url::as_str).collect::<Vec<_>>()),
        );
    }
    if let Some(acrs) = body.get("default_acr_values") {
        document.insert("default_acr_values".into(), acrs.clone());
    }
    // The statement's display values win over the request's.
    for member in [
        "client_name",
        "client_uri",
        "logo_uri",
        "tos_uri",
        "policy_uri",
    ] {
        if let Some(v) = statement.display.get(member) {
            document.insert(member.into(), v.clone());
        }
    }
    let metadata = ClientMetadata {
        redirect_uris,
        token_endpoint_auth_method: ClientAuthMethod::PrivateKeyJwt,
        tls_client_auth_subject_dn: None,
        jwks_uri: Some(statement.jwks_uri.clone()),
        scope,
        client_name: document
            .get("client_name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        logo_uri: document
            .get("logo_uri")
            .and_then(Value::as_str)
            .and_then(|u| Url::parse(u).ok()),
        webhook_uris,
        registration: Some(document.clone()),
    };
    Ok((metadata, document))
}

fn peer_identity(parts: &Parts) -> Result<CertificateIdentity, OAuthError> {
    parts
        .extensions
        .get::<PeerCertificate>()
        .and_then(|p| p.identity().ok())
        .ok_or_else(|| OAuthError::invalid_client("a TLS client certificate is required"))
}

fn parse_body(bytes: &[u8]) -> Result<Map<String, Value>, OAuthError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(metadata_error("the body must be a JSON object")),
    }
}

/// Every key of the client's keystore must be usable, and one must decrypt
/// ID tokens (FAPI-BR §4.5).
async fn check_client_keys(inner: &Inner, client: &RegisteredClient) -> Result<(), OAuthError> {
    let keys = inner.client_keys.keys(client).await.map_err(|e| {
        tracing::warn!(client = %client.id(), error = %e, "client keystore unavailable at registration");
        metadata_error("the software statement's keystore could not be read")
    })?;
    let has_enc = keys
        .keys
        .iter()
        .any(|k| k.kty == "RSA" && k.use_.as_deref() == Some("enc"));
    let has_sig = keys.keys.iter().any(|k| k.use_.as_deref() != Some("enc"));
    if !has_enc || !has_sig {
        return Err(metadata_error(
            "the keystore needs a signing key and an RSA encryption key",
        ));
    }
    Ok(())
}

fn registration_response(
    brand: &BrandEndpoints,
    record: &ClientRecord,
    document: &Map<String, Value>,
    access_token: &str,
    status: StatusCode,
) -> Response<Body> {
    let mut out = document.clone();
    out.insert("client_id".into(), json!(record.client_id.as_str()));
    out.insert(
        "client_id_issued_at".into(),
        json!(record.created_at.unix_seconds()),
    );
    out.insert("registration_access_token".into(), json!(access_token));
    out.insert(
        "registration_client_uri".into(),
        json!(format!(
            "{}/{}",
            brand.mtls_endpoint("register"),
            record.client_id
        )),
    );
    json_response(status, &Value::Object(out))
}

/// `POST /register`.
pub(crate) async fn register(
    inner: &Inner,
    brand: &BrandEndpoints,
    parts: &Parts,
    bytes: &[u8],
) -> Result<Response<Body>, OAuthError> {
    let registration = inner
        .registration
        .as_ref()
        .ok_or_else(|| OAuthError::invalid_request("dynamic registration is not offered"))?;
    let certificate = peer_identity(parts)?;
    let body = parse_body(bytes)?;
    let ssa = body
        .get("software_statement")
        .and_then(Value::as_str)
        .ok_or_else(|| ssa_error("software_statement is required"))?;
    let now = inner.clock.now();
    let statement = verify_statement(registration, ssa, &certificate, now).await?;
    let (metadata, document) = registered_metadata(&body, &statement)?;
    let brand_id = brand.server.brand.id();
    let existing = inner
        .storage
        .clients
        .list_clients_by_software_statement(brand_id, &statement.software_id)
        .await?;
    if !existing.is_empty() {
        return Err(metadata_error(
            "the software statement is already registered with this brand",
        ));
    }
    let client_id =
        ClientId::new(uuid::Uuid::new_v4().to_string()).map_err(|_| OAuthError::server_error())?;
    let access_token = random_token()?;
    let record = ClientRecord {
        brand: brand_id.clone(),
        client_id,
        organisation_id: statement.org_id,
        software_statement_id: statement.software_id,
        status: ClientStatus::Active,
        version: 0,
        created_at: now,
        updated_at: now,
        registration_access_token: Some(TokenHash::of(&access_token)),
        metadata: serde_json::to_string(&metadata).map_err(|_| OAuthError::server_error())?,
    };
    let candidate =
        RegisteredClient::from_record(record.clone()).ok_or_else(OAuthError::server_error)?;
    check_client_keys(inner, &candidate).await?;
    let stored = match inner.storage.clients.insert_client(&record).await {
        Ok(stored) => stored,
        Err(StoreError::Conflict) => {
            return Err(metadata_error("the client could not be registered"));
        }
        Err(e) => return Err(e.into()),
    };
    // One client per software statement and brand, under concurrency too:
    // a registration that finds another one of its statement after its own
    // insert withdraws. Two racing registrations may both withdraw (the
    // participant retries); two never both stay.
    let registered = inner
        .storage
        .clients
        .list_clients_by_software_statement(brand_id, &stored.software_statement_id)
        .await?;
    if registered.iter().any(|c| c.client_id != stored.client_id) {
        inner
            .storage
            .clients
            .delete_client(brand_id, &stored.client_id)
            .await?;
        return Err(metadata_error(
            "the software statement is already registered with this brand",
        ));
    }
    Ok(registration_response(
        brand,
        &stored,
        &document,
        &access_token,
        StatusCode::CREATED,
    ))
}

/// `GET`, `PUT`, `DELETE /register/{client_id}` (RFC 7592).
pub(crate) async fn manage(
    inner: &Inner,
    brand: &BrandEndpoints,
    parts: &Parts,
    client_id: &str,
    bytes: &[u8],
) -> Result<Response<Body>, OAuthError> {
    let registration = inner
        .registration
        .as_ref()
        .ok_or_else(|| OAuthError::invalid_request("dynamic registration is not offered"))?;
    let certificate = peer_identity(parts)?;
    let invalid_token = || {
        error(
            OAuthErrorCode::InvalidToken,
            "the registration access token is not valid",
        )
    };
    let token = super::guard::bearer_token(&parts.headers).ok_or_else(invalid_token)?;
    let client_id = ClientId::new(client_id).map_err(|_| invalid_token())?;
    let brand_id = brand.server.brand.id();
    let record = inner
        .storage
        .clients
        .get_client(brand_id, &client_id)
        .await?
        .ok_or_else(invalid_token)?;
    if record.registration_access_token != Some(TokenHash::of(&token)) {
        return Err(invalid_token());
    }
    let forbidden = |response: Response<Body>| {
        let mut response = response;
        *response.status_mut() = StatusCode::FORBIDDEN;
        response
    };
    // The token alone is not enough: the client stays bound to its
    // organisation's certificates (a takeover attempt is a 401).
    if certificate.organisation_id != Some(record.organisation_id) {
        return Err(OAuthError::invalid_client(
            "the certificate is of another organisation",
        ));
    }
    match parts.method {
        Method::GET => {
            let client = RegisteredClient::from_record(record.clone()).ok_or_else(invalid_token)?;
            let document = client.metadata.registration.unwrap_or_default();
            Ok(registration_response(
                brand,
                &record,
                &document,
                &token,
                StatusCode::OK,
            ))
        }
        Method::DELETE => {
            inner
                .storage
                .clients
                .delete_client(brand_id, &client_id)
                .await?;
            let mut response = Response::new(Body::default());
            *response.status_mut() = StatusCode::NO_CONTENT;
            Ok(response)
        }
        Method::PUT => {
            let body = parse_body(bytes)?;
            if body.get("client_id").and_then(Value::as_str) != Some(client_id.as_str()) {
                return Err(OAuthError::invalid_request(
                    "client_id must be the client's",
                ));
            }
            // RFC 7592 §2.2 forbids sending server-assigned members; clients
            // (and the OFB suite) often send back the registration response
            // as is, so they are accepted when they equal what we assigned.
            let uri = format!("{}/{}", brand.mtls_endpoint("register"), record.client_id);
            let assigned = [
                ("registration_access_token", json!(token)),
                ("registration_client_uri", json!(uri)),
                (
                    "client_id_issued_at",
                    json!(record.created_at.unix_seconds()),
                ),
            ];
            for (member, value) in assigned {
                if body.get(member).is_some_and(|sent| sent != &value) {
                    return Err(metadata_error("server-assigned members cannot be changed"));
                }
            }
            if body.contains_key("client_secret_expires_at") || body.contains_key("client_secret") {
                return Err(metadata_error("client secrets are not issued"));
            }
            let ssa = body
                .get("software_statement")
                .and_then(Value::as_str)
                .ok_or_else(|| ssa_error("software_statement is required"))?;
            let now = inner.clock.now();
            let statement = verify_statement(registration, ssa, &certificate, now).await?;
            if statement.org_id != record.organisation_id
                || statement.software_id != record.software_statement_id
            {
                return Ok(forbidden(
                    OAuthError::new(
                        OAuthErrorCode::UnapprovedSoftwareStatement,
                        "the software statement is another client's",
                    )
                    .to_response(),
                ));
            }
            let (metadata, document) = registered_metadata(&body, &statement)?;
            let mut updated = record.clone();
            updated.metadata =
                serde_json::to_string(&metadata).map_err(|_| OAuthError::server_error())?;
            updated.updated_at = now;
            let candidate = RegisteredClient::from_record(updated.clone())
                .ok_or_else(OAuthError::server_error)?;
            check_client_keys(inner, &candidate).await?;
            let stored = match inner
                .storage
                .clients
                .update_client(&updated, record.version)
                .await
            {
                Ok(stored) => stored,
                Err(StoreError::Conflict) => {
                    return Err(metadata_error("the client changed meanwhile; retry"));
                }
                Err(e) => return Err(e.into()),
            };
            Ok(registration_response(
                brand,
                &stored,
                &document,
                &token,
                StatusCode::OK,
            ))
        }
        _ => {
            let mut response = Response::new(Body::default());
            *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, PUT, DELETE"));
            Ok(response)
        }
    }
}
