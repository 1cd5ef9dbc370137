//! Payment storage.

use async_trait::async_trait;

use crate::datetime::{Date, Timestamp};
use crate::id::{BrandId, ClientId, ConsentId, PaymentId};
use crate::payment::PaymentStatus;
use crate::seal::Sealed;

use super::{ConsentRecord, OutboxMessage, StoreError};

/// A Pix payment as the store holds it; payment details are sealed in `body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// The brand (tenant).
    pub brand: BrandId,
    /// The payment id (unique within the brand).
    pub id: PaymentId,
    /// The consent the payment was made under; immutable.
    pub consent_id: ConsentId,
    /// The initiating client; immutable.
    pub client_id: ClientId,
    /// The current status.
    pub status: PaymentStatus,
    /// Incremented by the store on every update.
    pub version: u64,
    /// When it was created; immutable.
    pub created_at: Timestamp,
    /// When the status last changed.
    pub status_updated_at: Timestamp,
    /// The settlement date of a scheduled payment (Brasília date).
    pub scheduled_for: Option<Date>,
    /// Everything else, sealed (bound to the brand and payment id).
    pub body: Sealed,
}

/// Storage of Pix payments.
#[async_trait]
pub trait PaymentStore: Send + Sync + 'static {
    /// Consumes a consent and creates its payments in one transaction: the
    /// consent is replaced by `consent` only if its version is still
    /// `expected_consent_version` (exactly one of many concurrent payment
    /// requests wins), every payment is inserted at version 1, and `outbox`
    /// is written.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the consent is absent;
    /// [`StoreError::Conflict`] when the consent version moved on, a payment id
    /// exists, or a payment names another brand or consent. Nothing is written
    /// on error.
    async fn create_consuming(
        &self,
        consent: &ConsentRecord,
        expected_consent_version: u64,
        payments: &[PaymentRecord],
        outbox: &[OutboxMessage],
    ) -> Result<Vec<PaymentRecord>, StoreError>;

    /// The payment `id` of `brand`, or `None`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn get_payment(
        &self,
        brand: &BrandId,
        id: &PaymentId,
    ) -> Result<Option<PaymentRecord>, StoreError>;

    /// Compare-and-set on the payment's version, as
    /// [`super::ConsentStore::update_consent`].
    ///
    /// # Errors
    /// [`StoreError::NotFound`], or [`StoreError::Conflict`] on a stale version
    /// or a changed immutable field (`consent_id`, `client_id`, `created_at`).
    async fn update_payment(
        &self,
        record: &PaymentRecord,
        expected_version: u64,
        outbox: &[OutboxMessage],
    ) -> Result<PaymentRecord, StoreError>;

    /// The payments of a consent, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn list_payments_by_consent(
        &self,
        brand: &BrandId,
        consent_id: &ConsentId,
    ) -> Result<Vec<PaymentRecord>, StoreError>;

    /// Payments of `brand` in `status` scheduled for `date` or earlier, at
    /// most `limit`, earliest first: what the settlement scheduler picks up.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn list_payments_due(
        &self,
        brand: &BrandId,
        status: PaymentStatus,
        date: Date,
        limit: u32,
    ) -> Result<Vec<PaymentRecord>, StoreError>;
}
