//! Sealed documents with versions: the state of applications built on the
//! client crates (the open data receiver's subscriptions, its aggregated
//! customer data, its once-only markers). The caller seals the body; the
//! store sees only opaque text, the owner, a collection, a key and, for
//! lookups by person, a blind index.

use async_trait::async_trait;

use crate::datetime::Timestamp;
use crate::id::BrandId;
use crate::seal::{BlindIndex, Sealed};

use super::StoreError;

/// One document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    /// Whose (a tenant).
    pub owner: BrandId,
    /// The collection (`^[a-z][a-z0-9._-]{0,63}$` by convention).
    pub collection: String,
    /// The key within the collection.
    pub key: String,
    /// The person it is about (for [`DocumentStore::documents_of`]).
    pub person: Option<BlindIndex>,
    /// The body, sealed.
    pub body: Sealed,
    /// The version: 1 on insert, one more on each update.
    pub version: u64,
    /// When it was last written.
    pub updated_at: Timestamp,
}

/// Storage of documents.
#[async_trait]
pub trait DocumentStore: Send + Sync + 'static {
    /// The document `key` of `collection`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn get_document(
        &self,
        owner: &BrandId,
        collection: &str,
        key: &str,
    ) -> Result<Option<StoredDocument>, StoreError>;

    /// Writes `document` if the stored version is `expected` (0: the
    /// document must not exist — insert if absent); the stored version
    /// becomes `expected + 1`, which it returns (`document.version` is
    /// ignored).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the stored version is not `expected`;
    /// nothing is written then.
    async fn put_document(
        &self,
        document: &StoredDocument,
        expected: u64,
    ) -> Result<u64, StoreError>;

    /// The documents of `collection` about `person`, by key.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn documents_of(
        &self,
        owner: &BrandId,
        collection: &str,
        person: &BlindIndex,
    ) -> Result<Vec<StoredDocument>, StoreError>;

    /// Every document of `collection`, by key.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn documents(
        &self,
        owner: &BrandId,
        collection: &str,
    ) -> Result<Vec<StoredDocument>, StoreError>;

    /// Removes a document (nothing when absent).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn delete_document(
        &self,
        owner: &BrandId,
        collection: &str,
        key: &str,
    ) -> Result<(), StoreError>;
}
