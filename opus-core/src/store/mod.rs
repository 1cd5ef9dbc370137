//! Storage ports.
//!
//! Narrow, role-named traits instead of one storage god-trait; a backend may
//! implement all of them on one type (`opus-store` does). Every state change
//! that must happen at most once is atomic *in the store*, so any number of
//! replicas can share one database (architecture invariant 1):
//!
//! | rule | where |
//! |---|---|
//! | compare-and-set with a version | [`DocumentStore::put_document`], [`ConsentStore::update_consent`], [`InteractionStore::update_interaction`], [`PaymentStore::update_payment`], [`ClientStore::update_client`], [`PaymentStore::create_consuming`] |
//! | consume once | [`GrantStore::take_par`], [`GrantStore::redeem_code`], [`GrantStore::rotate_refresh_token`] |
//! | insert if absent | [`DocumentStore::put_document`] with version 0, [`ReplayGuard::insert_jti`], [`IdempotencyStore::begin`], every `insert` (`Conflict` on a duplicate) |
//! | claim / ack / lease | [`Outbox::claim`], [`Outbox::ack`], [`Outbox::retry`] |
//! | bounded increment | [`CounterStore::try_increment`] |
//!
//! State changes that must emit a message (metrics report, webhook, event)
//! take the outbox messages as an argument and write them in the same
//! transaction (invariant 2).
//!
//! Records reach the ports already sealed: personal data travels as
//! [`crate::seal::Sealed`] values and document lookups as
//! [`crate::seal::BlindIndex`]es, so no port signature can carry a plaintext
//! CPF (invariant 3). Every record carries its [`crate::BrandId`] and every
//! lookup is scoped by brand (invariant 4).
//!
//! The conformance suite in `opus-testkit` checks each rule against any
//! backend with one macro call.

mod audit;
mod clients;
mod consents;
mod counters;
mod documents;
mod grants;
mod idempotency;
mod interactions;
mod operations;
mod outbox;
mod payments;
mod registrations;
mod replay;

use std::sync::Arc;

pub use audit::{AuditLog, AuditRecord};
pub use clients::{ClientRecord, ClientStatus, ClientStore};
pub use consents::{ConsentFilter, ConsentRecord, ConsentStore};
pub use counters::{CounterKey, CounterOutcome, CounterStore};
pub use documents::{DocumentStore, StoredDocument};
pub use grants::{
    AuthorizationCodeRecord, CodeRedemption, GrantStore, ParRecord, TokenHash, TokenKind,
    TokenRecord,
};
pub use idempotency::{
    IdempotencyBegin, IdempotencyScope, IdempotencyStore, RequestFingerprint, StoredResponse,
};
pub use interactions::{InteractionRecord, InteractionStore};
pub use operations::{
    CallSample, DailyCallStats, LATENCY_BUCKETS_MS, OperationsStore, OutageRecord, latency_bucket,
};
pub use outbox::{
    ClaimedMessage, Delivery, DeliveryPass, DeliveryPolicy, LeaseId, Outbox, OutboxMessage, Topic,
    deliver_once, retry_backoff,
};
pub use payments::{PaymentRecord, PaymentStore};
pub use registrations::{RegistrationRecord, RegistrationStore};
pub use replay::{ReplayGuard, ReplayScope};

use crate::seal::DataKeyStore;

/// Semantic storage errors. Backends translate driver errors into these;
/// callers never match on driver types.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record does not exist (in this brand).
    #[error("not found")]
    NotFound,
    /// A uniqueness or compare-and-set precondition failed: a duplicate id, a
    /// stale version, a lost lease, a replayed `jti`.
    #[error("conflict")]
    Conflict,
    /// The backend is unreachable or overloaded; the operation may be retried.
    #[error("storage unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Any other backend failure.
    #[error("storage failure")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Offset and limit of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Records to skip.
    pub offset: u64,
    /// Records to return at most.
    pub limit: u32,
}

impl Window {
    /// The window of a validated page request.
    pub fn of_page(page: &crate::envelope::PageRequest) -> Self {
        Self {
            offset: page.offset(),
            limit: page.page_size,
        }
    }
}

/// Every storage port, bundled, as a backend provides them.
#[derive(Clone)]
pub struct Storage {
    /// Consents of every kind.
    pub consents: Arc<dyn ConsentStore>,
    /// Pix payments.
    pub payments: Arc<dyn PaymentStore>,
    /// Registered OAuth clients.
    pub clients: Arc<dyn ClientStore>,
    /// PAR requests, authorization codes and tokens.
    pub grants: Arc<dyn GrantStore>,
    /// Idempotency records.
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// `jti` replay guard.
    pub replay: Arc<dyn ReplayGuard>,
    /// The durable outbox.
    pub outbox: Arc<dyn Outbox>,
    /// Operational-limit counters.
    pub counters: Arc<dyn CounterStore>,
    /// Wrapped data keys for sealing at rest.
    pub data_keys: Arc<dyn DataKeyStore>,
    /// The audit trail.
    pub audit: Arc<dyn AuditLog>,
    /// User interactions in progress.
    pub interactions: Arc<dyn InteractionStore>,
    /// Outages and call statistics.
    pub operations: Arc<dyn OperationsStore>,
    /// This institution's registrations at other authorization servers.
    pub registrations: Arc<dyn RegistrationStore>,
    /// Sealed documents of the client-side applications (the open data
    /// receiver).
    pub documents: Arc<dyn DocumentStore>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage").finish_non_exhaustive()
    }
}

impl Storage {
    /// Bundles one backend that implements every port.
    pub fn from_backend<B>(backend: Arc<B>) -> Self
    where
        B: ConsentStore
            + PaymentStore
            + ClientStore
            + GrantStore
            + IdempotencyStore
            + ReplayGuard
            + Outbox
            + CounterStore
            + DataKeyStore
            + AuditLog
            + InteractionStore
            + OperationsStore
            + RegistrationStore
            + DocumentStore,
    {
        Self {
            consents: backend.clone(),
            payments: backend.clone(),
            clients: backend.clone(),
            grants: backend.clone(),
            idempotency: backend.clone(),
            replay: backend.clone(),
            outbox: backend.clone(),
            counters: backend.clone(),
            data_keys: backend.clone(),
            audit: backend.clone(),
            interactions: backend.clone(),
            operations: backend.clone(),
            registrations: backend.clone(),
            documents: backend,
        }
    }
}
