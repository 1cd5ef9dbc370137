//! The [`Directory`] port: the OFB participants directory as the SDK needs it.
//!
//! The shipped implementation is `opus_fapi::directory::HttpDirectory`, a
//! cached HTTPS client of the central directory; `opus-testkit` has a mock. Verifiers trust only
//! keys the directory currently lists as active (FAPI-BR §2.4): a key found
//! only in an inactive keystore must fail verification.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::id::{AuthorisationServerId, OrganisationId, SoftwareStatementId};
use crate::keys::JwkSet;

/// A directory role (`OrgDomainRoleClaims[].Role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum Role {
    /// Data receiver.
    Dados,
    /// Payment initiator.
    Pagto,
    /// Account holder.
    Conta,
    /// Credit operations correspondent.
    Ccorr,
}

/// A participant organisation, reduced to what the SDK uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// `OrganisationId`.
    pub id: OrganisationId,
    /// `OrganisationName`.
    pub name: String,
    /// `RegistrationNumber` (CNPJ), as the directory writes it.
    pub registration_number: String,
    /// `Status == "Active"`.
    pub active: bool,
    /// Roles with an active claim.
    pub roles: Vec<Role>,
    /// One per brand.
    pub authorisation_servers: Vec<AuthorisationServer>,
}

/// A brand's authorisation server as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorisationServer {
    /// `AuthorisationServerId`.
    pub id: AuthorisationServerId,
    /// `CustomerFriendlyName`: the brand shown to users.
    pub customer_friendly_name: String,
    /// `OpenIDDiscoveryDocument`.
    pub discovery_document: Url,
    /// `PayloadSigningCertLocationUri`: the JWKS of its message signatures.
    pub payload_signing_jwks: Option<Url>,
    /// `ApiResources`.
    pub api_resources: Vec<ApiResource>,
}

/// An API family a server offers (`ApiResources[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResource {
    /// `ApiFamilyType`, e.g. `payments-pix`, `accounts` (an open list).
    pub family: String,
    /// `ApiVersion`, e.g. `4.0.0`.
    pub version: String,
    /// `ApiDiscoveryEndpoints[].ApiEndpoint`: full URLs of endpoint templates.
    pub endpoints: Vec<Url>,
}

/// Failures of the directory port.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// No such organisation, software statement or key set.
    #[error("not found in the directory")]
    NotFound,
    /// The directory is unreachable and nothing fresh enough is cached.
    #[error("directory unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The directory answered something unparseable.
    #[error("invalid directory data")]
    Invalid(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The participants directory.
#[async_trait]
pub trait Directory: Send + Sync + 'static {
    /// Every participant organisation.
    ///
    /// # Errors
    /// [`DirectoryError`] when the list cannot be had.
    async fn participants(&self) -> Result<Vec<Organisation>, DirectoryError>;

    /// The active signing keys of an organisation (`{org}/application.jwks`),
    /// for verifying signed messages whose `iss` is that organisation.
    ///
    /// # Errors
    /// [`DirectoryError`] when the key set cannot be had.
    async fn organisation_jwks(&self, org: &OrganisationId) -> Result<JwkSet, DirectoryError>;

    /// The active signing keys of a software statement
    /// (`{org}/{software statement}/application.jwks`).
    ///
    /// # Errors
    /// [`DirectoryError`] when the key set cannot be had.
    async fn software_statement_jwks(
        &self,
        org: &OrganisationId,
        software_statement: &SoftwareStatementId,
    ) -> Result<JwkSet, DirectoryError>;

    /// The keystore of a software statement, read again from the directory
    /// unless the copy at hand is very recent: for a verifier that met a
    /// `kid` it does not know (the participant rotated its keys). The
    /// default is [`Self::software_statement_jwks`], right for directories
    /// without a cache.
    ///
    /// # Errors
    /// [`DirectoryError`] when the key set cannot be had.
    async fn software_statement_jwks_refreshed(
        &self,
        org: &OrganisationId,
        software_statement: &SoftwareStatementId,
    ) -> Result<JwkSet, DirectoryError> {
        self.software_statement_jwks(org, software_statement).await
    }

    /// The directory's own keys that sign software statement assertions.
    ///
    /// # Errors
    /// [`DirectoryError`] when the key set cannot be had.
    async fn ssa_signing_keys(&self) -> Result<JwkSet, DirectoryError>;

    /// The certificate authorities trusted for client certificates (DER).
    ///
    /// # Errors
    /// [`DirectoryError`] when they cannot be had.
    async fn trust_anchors(&self) -> Result<Vec<Vec<u8>>, DirectoryError>;
}
