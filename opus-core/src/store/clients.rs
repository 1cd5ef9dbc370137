//! Registered OAuth clients (DCR/DCM).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::datetime::Timestamp;
use crate::id::{BrandId, ClientId, OrganisationId, SoftwareStatementId};

use super::{StoreError, TokenHash};

/// Whether a client may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ClientStatus {
    /// Registered and usable.
    Active,
    /// Disabled (software statement revoked in the directory, or by the bank).
    Inactive,
}

/// A client registered with one brand's authorization server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// The brand it registered with.
    pub brand: BrandId,
    /// The client id (unique within the brand).
    pub client_id: ClientId,
    /// The directory organisation of the software statement; immutable.
    pub organisation_id: OrganisationId,
    /// The software statement it registered with; immutable.
    pub software_statement_id: SoftwareStatementId,
    /// Active or inactive.
    pub status: ClientStatus,
    /// Incremented by the store on every update.
    pub version: u64,
    /// When it registered; immutable.
    pub created_at: Timestamp,
    /// When it was last changed (DCM).
    pub updated_at: Timestamp,
    /// Hash of the registration access token (RFC 7592), never the token.
    pub registration_access_token: Option<TokenHash>,
    /// The registered client metadata as a JSON document, owned by the
    /// registration layer (public data: URIs, JWKS, algorithms, scopes).
    pub metadata: String,
}

/// Storage of registered clients.
#[async_trait]
pub trait ClientStore: Send + Sync + 'static {
    /// Stores a new client at version 1.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the brand already has this client id.
    async fn insert_client(&self, record: &ClientRecord) -> Result<ClientRecord, StoreError>;

    /// The client of `brand`, or `None`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn get_client(
        &self,
        brand: &BrandId,
        client_id: &ClientId,
    ) -> Result<Option<ClientRecord>, StoreError>;

    /// Compare-and-set on the client's version.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], or [`StoreError::Conflict`] on a stale version
    /// or a changed immutable field.
    async fn update_client(
        &self,
        record: &ClientRecord,
        expected_version: u64,
    ) -> Result<ClientRecord, StoreError>;

    /// Deletes a client (RFC 7592 DELETE); `true` when it existed.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn delete_client(
        &self,
        brand: &BrandId,
        client_id: &ClientId,
    ) -> Result<bool, StoreError>;

    /// The clients of `brand` registered with a software statement.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn list_clients_by_software_statement(
        &self,
        brand: &BrandId,
        software_statement_id: &SoftwareStatementId,
    ) -> Result<Vec<ClientRecord>, StoreError>;
}
