//! Client authentication at the token and PAR endpoints (FAPI-BR §3.2).
//!
//! `private_key_jwt` (OIDC §9, RFC 7523): a PS256 assertion signed with a
//! key of the client's software statement, `iss` = `sub` = `client_id`,
//! `aud` the issuer or the token/PAR endpoint (RFC 9126 §2), `exp` at most
//! five minutes ahead, and a `jti` used once (recorded in the store, so a
//! replay is refused by every replica). `tls_client_auth` only for legacy
//! registrations, by structural subject-DN match. Either way a TLS client
//! certificate of the client's own organisation is required: tokens are
//! bound to it.

use std::collections::BTreeMap;
use std::time::Duration;

use http::request::Parts;
use opus_core::store::{ReplayScope, StoreError};
use opus_core::{ClientId, Jti};

use super::client::{ClientAuthMethod, RegisteredClient};
use super::error::OAuthError;
use super::{BrandEndpoints, Inner};
use crate::cert::CertificateIdentity;
use crate::cert::dn::DistinguishedName;
use crate::jose::claims::{self, ClaimsPolicy};
use crate::jose::jws::{self, JwsPolicy};
use crate::mtls::PeerCertificate;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest a client assertion may live (FAPI-BR §3.2, SDK default).
const MAX_ASSERTION_LIFETIME: Duration = Duration::from_secs(300);
const SKEW: Duration = Duration::from_secs(60);

/// A client that proved who it is, with the certificate its tokens bind to.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    /// The client.
    pub client: RegisteredClient,
    /// The TLS client certificate's `x5t#S256`.
    pub certificate_thumbprint: String,
    /// The certificate's OFB identity.
    pub certificate: CertificateIdentity,
}

fn invalid(description: &'static str) -> OAuthError {
    OAuthError::invalid_client(description)
}

/// Authenticates the client of a token or PAR request.
pub(crate) async fn authenticate(
    inner: &Inner,
    brand: &BrandEndpoints,
    parts: &Parts,
    form: &BTreeMap<String, String>,
) -> Result<AuthenticatedClient, OAuthError> {
    let peer = parts
        .extensions
        .get::<PeerCertificate>()
        .ok_or_else(|| invalid("a TLS client certificate is required"))?;
    let certificate = peer
        .identity()
        .map_err(|_| invalid("the TLS client certificate is unreadable"))?;
    let assertion = form.get("client_assertion");
    let claimed_id = match (form.get("client_id"), assertion) {
        (Some(id), _) => id.clone(),
        (None, Some(token)) => {
            unverified_subject(token).ok_or_else(|| invalid("the client is not identified"))?
        }
        (None, None) => return Err(invalid("the client is not identified")),
    };
    let client_id = ClientId::new(claimed_id).map_err(|_| invalid("unknown client"))?;
    let record = inner
        .storage
        .clients
        .get_client(brand.server.brand.id(), &client_id)
        .await?
        .ok_or_else(|| invalid("unknown client"))?;
    let client = RegisteredClient::from_record(record).ok_or_else(|| invalid("unknown client"))?;
    if certificate.organisation_id != Some(client.record.organisation_id) {
        return Err(invalid(
            "the TLS client certificate is not the client's organisation's",
        ));
    }
    match client.metadata.token_endpoint_auth_method {
        ClientAuthMethod::PrivateKeyJwt => {
            if form.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
                return Err(invalid("a private_key_jwt client assertion is required"));
            }
            let token = assertion
                .ok_or_else(|| invalid("a private_key_jwt client assertion is required"))?;
            verify_assertion(inner, brand, &client, token).await?;
        }
        ClientAuthMethod::TlsClientAuth => {
            if assertion.is_some() {
                return Err(invalid(
                    "this client authenticates with its TLS certificate",
                ));
            }
            let registered = client
                .metadata
                .tls_client_auth_subject_dn
                .as_deref()
                .and_then(|dn| DistinguishedName::parse_rfc4514(dn).ok())
                .ok_or_else(|| invalid("the client has no usable registered subject DN"))?;
            if !registered.matches(&certificate.subject) {
                return Err(invalid(
                    "the TLS client certificate is not the registered one",
                ));
            }
        }
    }
    Ok(AuthenticatedClient {
        client,
        certificate_thumbprint: certificate.thumbprint.clone(),
        certificate,
    })
}

/// The `sub` (else `iss`) of an unverified assertion, to find the client.
fn unverified_subject(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = crate::jose::b64_decode(payload)?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims
        .get("sub")
        .or_else(|| claims.get("iss"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// Verifies a PS256 JWS of `client` against its keystore; a `kid` the
/// keystore lacks may be a rotated key, so the key source looks again.
/// `refused` is the error for a JWS that does not verify.
pub(crate) async fn verify_client_jws(
    inner: &Inner,
    client: &RegisteredClient,
    token: &str,
    refused: OAuthError,
) -> Result<crate::jose::jws::VerifiedJws, OAuthError> {
    let kid = jws::peek_header(token)
        .ok()
        .and_then(|h| h.kid().map(str::to_owned))
        .unwrap_or_default();
    let keys = inner
        .client_keys
        .keys_for(client, &kid)
        .await
        .map_err(|e| {
            tracing::warn!(client = %client.id(), error = %e, "client keys unavailable");
            OAuthError::server_error()
        })?;
    jws::verify(token, &keys, &JwsPolicy::ofb()).map_err(|e| {
        tracing::debug!(client = %client.id(), error = %e, "client JWS refused");
        refused
    })
}

async fn verify_assertion(
    inner: &Inner,
    brand: &BrandEndpoints,
    client: &RegisteredClient,
    token: &str,
) -> Result<(), OAuthError> {
    let verified = verify_client_jws(
        inner,
        client,
        token,
        invalid("the client assertion did not verify"),
    )
    .await?;
    let now = inner.clock.now();
    let mut policy = ClaimsPolicy::new()
        .issuer(client.id().as_str())
        .require_jti()
        .skew(SKEW);
    for aud in brand.assertion_audiences() {
        policy = policy.audience(aud);
    }
    let members = verified
        .claims()
        .map_err(|_| invalid("the client assertion is malformed"))?;
    let claims = claims::validate(members, &policy, now).map_err(|e| {
        tracing::debug!(client = %client.id(), error = %e, "client assertion claims refused");
        invalid("the client assertion claims are not acceptable")
    })?;
    if claims.sub() != Some(client.id().as_str()) {
        return Err(invalid("the client assertion sub is not the client"));
    }
    let exp = claims
        .exp()
        .ok_or_else(|| invalid("the client assertion has no exp"))?;
    if exp > now.saturating_add(MAX_ASSERTION_LIFETIME + SKEW) {
        return Err(invalid("the client assertion lives too long"));
    }
    let jti = claims
        .jti()
        .and_then(|j| Jti::new(j).ok())
        .ok_or_else(|| invalid("the client assertion has no usable jti"))?;
    let scope = ReplayScope {
        brand: brand.server.brand.id().clone(),
        namespace: format!("client-assertion:{}", client.id()),
    };
    match inner
        .storage
        .replay
        .insert_jti(&scope, &jti, exp.saturating_add(SKEW), now)
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict) => Err(invalid("the client assertion was already used")),
        Err(e) => Err(e.into()),
    }
}
