//! A client's registrations at other institutions' authorization servers
//! (DCR/DCM, as a payment initiator or data receiver), kept so that every
//! replica uses the same registration and updates it when the metadata
//! changes.

use async_trait::async_trait;

use crate::datetime::Timestamp;
use crate::id::{BrandId, ClientId, SoftwareStatementId};
use crate::seal::Sealed;

use super::StoreError;

/// One registration of a software statement at one authorization server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRecord {
    /// Whose (the institution or app that registered; a tenant like a brand).
    pub owner: BrandId,
    /// The authorization server's issuer.
    pub issuer: String,
    /// The software statement registered.
    pub software_statement_id: SoftwareStatementId,
    /// `client_id`.
    pub client_id: ClientId,
    /// `registration_client_uri`.
    pub registration_client_uri: String,
    /// `registration_access_token`, sealed.
    pub registration_access_token: Sealed,
    /// A digest of the metadata registered (a change means an update).
    pub metadata_digest: String,
    /// When it was last written.
    pub updated_at: Timestamp,
}

/// Storage of registrations.
#[async_trait]
pub trait RegistrationStore: Send + Sync + 'static {
    /// The registration of `software_statement_id` at `issuer` for `owner`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn get_registration(
        &self,
        owner: &BrandId,
        issuer: &str,
        software_statement_id: &SoftwareStatementId,
    ) -> Result<Option<RegistrationRecord>, StoreError>;

    /// Writes a registration (replacing the one of the same owner, issuer
    /// and software statement).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn put_registration(&self, record: &RegistrationRecord) -> Result<(), StoreError>;
}
