//! Idempotency records (`x-idempotency-key`, payments family).
//!
//! Same key and same request within the retention → the original outcome;
//! same key and a different request → `ERRO_IDEMPOTENCIA`. A request in
//! flight holds a lease on its key so a concurrent duplicate does not run
//! twice; if the holder dies, the lease expires and a retry takes over.

use std::fmt;

use async_trait::async_trait;
use aws_lc_rs::digest;

use crate::datetime::Timestamp;
use crate::id::{BrandId, ClientId, IdempotencyKey};
use crate::seal::Sealed;

use super::StoreError;

/// Whose key it is and for which operation: keys are unique per brand,
/// client and operation (e.g. `payments-v4:POST:/pix/payments`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyScope {
    /// The brand.
    pub brand: BrandId,
    /// The client that sent the key.
    pub client_id: ClientId,
    /// The operation the key was sent to.
    pub operation: String,
    /// The key.
    pub key: IdempotencyKey,
}

/// A digest of the request a key was first used with (for signed messages,
/// of the `data` claim), to detect a reused key with a different request.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestFingerprint([u8; 32]);

impl RequestFingerprint {
    /// SHA-256 of the canonical request bytes.
    pub fn of(bytes: &[u8]) -> Self {
        let d = digest::digest(&digest::SHA256, bytes);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Self(out)
    }

    /// Rebuilds a fingerprint from a backend column.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for RequestFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RequestFingerprint({:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2]
        )
    }
}

/// The outcome stored for a key: the status and the (sealed) response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The HTTP status.
    pub status: u16,
    /// The response body, sealed: it may carry personal data.
    pub body: Sealed,
}

/// What [`IdempotencyStore::begin`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdempotencyBegin {
    /// The key is new (or its previous holder's lease expired): the caller
    /// now holds it and must [`complete`](IdempotencyStore::complete) or
    /// [`release`](IdempotencyStore::release) it.
    Started,
    /// Another request with this key and the same fingerprint is in flight.
    InProgress,
    /// The key completed with this response: replay it.
    Completed(StoredResponse),
    /// The key was used with a different request: `ERRO_IDEMPOTENCIA`.
    Mismatch,
}

/// Storage of idempotency keys.
#[async_trait]
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Insert-if-absent of an in-flight entry held until `lease_until`; the
    /// entry (in flight or completed) is kept until `retain_until`. Of
    /// concurrent calls with one new key, exactly one gets `Started`.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn begin(
        &self,
        scope: &IdempotencyScope,
        fingerprint: RequestFingerprint,
        now: Timestamp,
        lease_until: Timestamp,
        retain_until: Timestamp,
    ) -> Result<IdempotencyBegin, StoreError>;

    /// Records the outcome of a started key.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the key was not begun (or was released);
    /// [`StoreError::Conflict`] when it already completed or the fingerprint differs.
    async fn complete(
        &self,
        scope: &IdempotencyScope,
        fingerprint: RequestFingerprint,
        response: &StoredResponse,
    ) -> Result<(), StoreError>;

    /// Forgets an in-flight key (the request failed in a way that must not
    /// be replayed); a completed key is left alone.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn release(&self, scope: &IdempotencyScope) -> Result<(), StoreError>;

    /// Deletes entries retained past `now`; returns how many.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn purge_expired_idempotency(&self, now: Timestamp) -> Result<u64, StoreError>;
}
