//! Consent storage.

use async_trait::async_trait;

use crate::consent::{ConsentKind, ConsentStatus};
use crate::datetime::Timestamp;
use crate::envelope::Page;
use crate::id::{BrandId, ClientId, ConsentId};
use crate::seal::{BlindIndex, Sealed};

use super::{OutboxMessage, StoreError, Window};

/// A consent as the store holds it: the columns a backend needs to look it
/// up and to run compare-and-set transitions, and the rest of the consent
/// sealed in `body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    /// The brand (tenant) that owns the consent.
    pub brand: BrandId,
    /// The consent id (unique within the brand).
    pub id: ConsentId,
    /// Data, payment or recurring.
    pub kind: ConsentKind,
    /// The client that created it; immutable.
    pub client_id: ClientId,
    /// The current status.
    pub status: ConsentStatus,
    /// Incremented by the store on every update; the compare-and-set token.
    pub version: u64,
    /// When it was created; immutable.
    pub created_at: Timestamp,
    /// When the status last changed.
    pub status_updated_at: Timestamp,
    /// When the current status ends by the clock, if it does (authorisation
    /// or consumption deadline, expiration date): what expiry sweeps query.
    pub expires_at: Option<Timestamp>,
    /// Blind index of the logged user's document.
    pub subject: Option<BlindIndex>,
    /// Blind index of the business entity's CNPJ (PJ consents).
    pub business_entity: Option<BlindIndex>,
    /// Everything else, sealed (bound to the brand and consent id).
    pub body: Sealed,
}

/// Which consents a listing returns. `None` and empty fields match everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentFilter {
    /// The brand; listings never cross brands.
    pub brand: BrandId,
    /// Only this client's consents.
    pub client_id: Option<ClientId>,
    /// Only this logged user's consents.
    pub subject: Option<BlindIndex>,
    /// Only consents of this business entity.
    pub business_entity: Option<BlindIndex>,
    /// Only this kind.
    pub kind: Option<ConsentKind>,
    /// Only these statuses.
    pub statuses: Vec<ConsentStatus>,
    /// Only consents whose `expires_at` is at or before this instant.
    pub expires_at_or_before: Option<Timestamp>,
}

impl ConsentFilter {
    /// Every consent of `brand`.
    pub fn brand(brand: BrandId) -> Self {
        Self {
            brand,
            client_id: None,
            subject: None,
            business_entity: None,
            kind: None,
            statuses: Vec::new(),
            expires_at_or_before: None,
        }
    }

    /// Whether `record` passes this filter (backends without a query
    /// language use this; SQL backends translate the fields).
    pub fn matches(&self, record: &ConsentRecord) -> bool {
        record.brand == self.brand
            && self
                .client_id
                .as_ref()
                .is_none_or(|c| *c == record.client_id)
            && self.subject.is_none_or(|s| record.subject == Some(s))
            && self
                .business_entity
                .is_none_or(|b| record.business_entity == Some(b))
            && self.kind.is_none_or(|k| k == record.kind)
            && (self.statuses.is_empty() || self.statuses.contains(&record.status))
            && self
                .expires_at_or_before
                .is_none_or(|t| record.expires_at.is_some_and(|e| e <= t))
    }
}

/// Storage of consents.
#[async_trait]
pub trait ConsentStore: Send + Sync + 'static {
    /// Stores a new consent at version 1 and writes `outbox` in the same
    /// transaction. The record's own `version` is ignored.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the brand already has a consent with this
    /// id; nothing is written then.
    async fn insert_consent(
        &self,
        record: &ConsentRecord,
        outbox: &[OutboxMessage],
    ) -> Result<ConsentRecord, StoreError>;

    /// The consent `id` of `brand`, or `None` (also when it belongs to another brand).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn get_consent(
        &self,
        brand: &BrandId,
        id: &ConsentId,
    ) -> Result<Option<ConsentRecord>, StoreError>;

    /// Compare-and-set: replaces the consent only if its stored version is
    /// still `expected_version`, stores it at `expected_version + 1`, and writes
    /// `outbox` in the same transaction. Returns the stored record.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when absent; [`StoreError::Conflict`] when the
    /// version moved on (someone else won) or when an immutable field (`kind`,
    /// `client_id`, `created_at`) differs. Nothing is written on error.
    async fn update_consent(
        &self,
        record: &ConsentRecord,
        expected_version: u64,
        outbox: &[OutboxMessage],
    ) -> Result<ConsentRecord, StoreError>;

    /// The consents passing `filter`, oldest first (`created_at`, then `id`),
    /// in `window`, with the total count.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn list_consents(
        &self,
        filter: &ConsentFilter,
        window: Window,
    ) -> Result<Page<ConsentRecord>, StoreError>;
}
