//! User interactions in progress (login, consent screen, hand-off).

use async_trait::async_trait;

use crate::datetime::Timestamp;
use crate::id::{BrandId, InteractionSessionId};
use crate::seal::Sealed;

use super::{StoreError, TokenHash};

/// One interaction between the authorization endpoint and the customer's
/// decision. Its progress (which step, who authenticated, the outcome) is
/// sealed in `state`; the store only sees ids, times and a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionRecord {
    /// The brand the customer is at.
    pub brand: BrandId,
    /// The interaction's id.
    pub id: InteractionSessionId,
    /// Hash of the hand-off code, once the interaction was handed to another
    /// device; unique within the brand.
    pub handoff: Option<TokenHash>,
    /// Incremented by the store on every update.
    pub version: u64,
    /// When it started; immutable.
    pub created_at: Timestamp,
    /// When it stops being usable; immutable.
    pub expires_at: Timestamp,
    /// The sealed progress, owned by the authorization server.
    pub state: crate::seal::Sealed,
}

impl InteractionRecord {
    /// A new record at version 1.
    pub fn new(
        brand: BrandId,
        id: InteractionSessionId,
        created_at: Timestamp,
        expires_at: Timestamp,
        state: Sealed,
    ) -> Self {
        Self {
            brand,
            id,
            handoff: None,
            version: 1,
            created_at,
            expires_at,
            state,
        }
    }
}

/// Storage of interactions. Every step is a compare-and-set on the version,
/// so two devices or two replicas acting on one interaction never both win.
#[async_trait]
pub trait InteractionStore: Send + Sync + 'static {
    /// Stores a new interaction (its `version` is stored as given, normally 1).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the brand already has this id.
    async fn insert_interaction(&self, record: &InteractionRecord) -> Result<(), StoreError>;

    /// The interaction, or `None` when unknown or expired at `now`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn get_interaction(
        &self,
        brand: &BrandId,
        id: &InteractionSessionId,
        now: Timestamp,
    ) -> Result<Option<InteractionRecord>, StoreError>;

    /// The interaction handed off under `handoff`, or `None` when unknown or
    /// expired at `now`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn find_interaction_by_handoff(
        &self,
        brand: &BrandId,
        handoff: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<InteractionRecord>, StoreError>;

    /// Compare-and-set of `state` and `handoff` on the version; answers the
    /// stored record (version incremented).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when unknown; [`StoreError::Conflict`] on a
    /// stale version, a changed immutable field or a hand-off code another
    /// interaction of the brand holds.
    async fn update_interaction(
        &self,
        record: &InteractionRecord,
        expected_version: u64,
    ) -> Result<InteractionRecord, StoreError>;

    /// Deletes interactions expired at `now`; answers how many.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn purge_expired_interactions(&self, now: Timestamp) -> Result<u64, StoreError>;
}
