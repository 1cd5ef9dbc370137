//! The audit trail: who did what, when, under which `x-fapi-interaction-id`.
//!
//! The actor (a customer's document, an operator, a client) and the details
//! are sealed like any personal data; the action name, time, brand and
//! interaction id stay in the clear so the trail can be searched.

use async_trait::async_trait;

use crate::datetime::Timestamp;
use crate::id::{BrandId, InteractionId, MessageId};
use crate::seal::Sealed;

use super::StoreError;

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Unique id of the entry.
    pub id: MessageId,
    /// The brand it happened in.
    pub brand: BrandId,
    /// When.
    pub at: Timestamp,
    /// What, as a dotted name (`consent.revoked`, `client.registered`, …).
    pub action: String,
    /// The call it happened in, when there was one.
    pub interaction_id: Option<InteractionId>,
    /// Who, sealed.
    pub actor: Sealed,
    /// The rest, sealed.
    pub details: Sealed,
}

/// Append-only storage of the audit trail.
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// Appends an entry.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the id exists.
    async fn append_audit(&self, record: &AuditRecord) -> Result<(), StoreError>;

    /// The entries of `brand` at or after `from` and before `to`, oldest
    /// first (`at`, then `id`), at most `limit`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn list_audit(
        &self,
        brand: &BrandId,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError>;
}
