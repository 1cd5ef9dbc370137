//! Counters for the operational limits (monthly call quotas per endpoint,
//! object, customer and consuming institution).

use std::fmt::Write as _;

use async_trait::async_trait;

use crate::id::{BrandId, OrganisationId};
use crate::seal::BlindIndex;

use super::StoreError;

/// What a quota counts: a month, an endpoint, the most granular object of
/// the call (consent, account, contract…), the customer and the consuming
/// institution (directory-and-limits §6).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CounterKey {
    /// The brand serving the call.
    pub brand: BrandId,
    /// The month, `YYYY-MM` (Brasília).
    pub period: String,
    /// The endpoint template, e.g. `GET /accounts/v2/accounts/{accountId}/balances`.
    pub endpoint: String,
    /// The object id the call is about.
    pub object: String,
    /// The customer (blind index of the document).
    pub customer: BlindIndex,
    /// The consuming institution.
    pub organisation: OrganisationId,
}

impl CounterKey {
    /// One string that identifies the counter (for key-value backends). Parts
    /// are length-prefixed, so no two keys share an encoding.
    pub fn canonical(&self) -> String {
        let customer: String = self.customer.into();
        let organisation = self.organisation.to_string();
        let mut out = String::new();
        for part in [
            self.brand.as_str(),
            self.period.as_str(),
            self.endpoint.as_str(),
            self.object.as_str(),
            customer.as_str(),
            organisation.as_str(),
        ] {
            let _ = write!(out, "{}:{part}|", part.len());
        }
        out
    }
}

/// What [`CounterStore::try_increment`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CounterOutcome {
    /// Counted; the new count.
    Counted(u64),
    /// The limit was already reached; nothing counted (answer 423).
    LimitReached(u64),
}

/// Atomic counters.
#[async_trait]
pub trait CounterStore: Send + Sync + 'static {
    /// Increments the counter only if it is below `limit`; under any
    /// concurrency, no more than `limit` increments succeed.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn try_increment(
        &self,
        key: &CounterKey,
        limit: u64,
    ) -> Result<CounterOutcome, StoreError>;

    /// Gives back one count (the call it was reserved for did not end in 2xx,
    /// and only 2xx calls count); never goes below zero.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn refund(&self, key: &CounterKey) -> Result<(), StoreError>;

    /// The current count (0 for an unknown key).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn count(&self, key: &CounterKey) -> Result<u64, StoreError>;
}
