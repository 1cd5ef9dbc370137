//! The `jti` replay guard.

use async_trait::async_trait;

use crate::datetime::Timestamp;
use crate::id::{BrandId, Jti};

use super::StoreError;

/// Where a `jti` must be unique: a brand and a namespace such as
/// `client-assertion:<client id>` or `payment-request:<organisation id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReplayScope {
    /// The brand.
    pub brand: BrandId,
    /// The namespace within the brand.
    pub namespace: String,
}

/// Remembers `jti`s until they expire.
#[async_trait]
pub trait ReplayGuard: Send + Sync + 'static {
    /// Insert-if-absent: records `jti` in `scope` until `expires_at`.
    /// Of concurrent calls with one `jti`, exactly one succeeds. An entry
    /// that expired before `now` no longer blocks.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the `jti` was seen and has not expired.
    async fn insert_jti(
        &self,
        scope: &ReplayScope,
        jti: &Jti,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Deletes entries that expired before `now`; returns how many.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn purge_expired_jtis(&self, now: Timestamp) -> Result<u64, StoreError>;
}
