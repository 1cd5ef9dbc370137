//! The durable outbox (architecture invariant 2).
//!
//! Metrics reports, webhooks and events are written here in the same
//! transaction as the state change that caused them. Workers *claim* due
//! messages under a lease, deliver them, then *ack* (done) or *retry*
//! (later). A worker that dies loses its lease when it expires and the
//! message is claimed again: delivery is at-least-once, and the stable
//! [`MessageId`] lets receivers drop duplicates. A stale worker cannot ack a
//! message someone else has re-claimed (the lease id fences it).

use async_trait::async_trait;

use crate::datetime::Timestamp;
use crate::id::{BrandId, InvalidValue, MessageId};

use super::StoreError;

/// A message stream, such as `pcm`, `webhook` or `events`
/// (`^[a-z][a-z0-9._-]{0,63}$`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Topic(String);

impl Topic {
    /// Validates a topic name.
    ///
    /// # Errors
    /// [`InvalidValue`] for a name outside `^[a-z][a-z0-9._-]{0,63}$`.
    pub fn new(name: impl Into<String>) -> Result<Self, InvalidValue> {
        let name = name.into();
        let mut chars = name.chars();
        let ok = name.len() <= 64
            && chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if ok {
            Ok(Self(name))
        } else {
            Err(InvalidValue::new(
                "topic",
                "must match ^[a-z][a-z0-9._-]{0,63}$",
            ))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A message to deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Stable id for de-duplication by receivers.
    pub id: MessageId,
    /// The brand on whose behalf it is sent.
    pub brand: BrandId,
    /// The stream it belongs to.
    pub topic: Topic,
    /// The payload. It must not carry plaintext personal data: seal it
    /// first when it does.
    pub payload: Vec<u8>,
    /// When it was written.
    pub created_at: Timestamp,
    /// Not to be claimed before this instant.
    pub available_at: Timestamp,
}

/// The fencing token of one claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseId(pub uuid::Uuid);

impl LeaseId {
    /// A new random lease id.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

/// A message claimed by a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedMessage {
    /// The message.
    pub message: OutboxMessage,
    /// Deliveries attempted, this one included.
    pub attempts: u32,
    /// The claim's fencing token.
    pub lease: LeaseId,
    /// When the claim lapses unless acked or retried.
    pub lease_expires_at: Timestamp,
}

/// The durable outbox.
#[async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Writes messages (usually through the state-changing store calls, which
    /// take them as an argument; this is for messages with no state change).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when a message id exists; nothing is written then.
    async fn enqueue(&self, messages: &[OutboxMessage]) -> Result<(), StoreError>;

    /// Claims up to `max` messages of `topic` that are due (`available_at <= now`)
    /// and not under a live lease, oldest first (`available_at`, then
    /// `created_at`), leased until `lease_until`; each claim counts one
    /// attempt. A message is never handed to two workers under live leases
    /// at once.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn claim(
        &self,
        topic: &Topic,
        max: u32,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Vec<ClaimedMessage>, StoreError>;

    /// Marks a claimed message delivered; it will not be claimed again.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when `lease` is no longer the message's current
    /// claim (it lapsed and someone else claimed it, or it was acked);
    /// [`StoreError::NotFound`] when the message does not exist.
    async fn ack(&self, id: &MessageId, lease: LeaseId) -> Result<(), StoreError>;

    /// Gives a claimed message back, due again at `available_at` (backoff).
    ///
    /// # Errors
    /// As [`Outbox::ack`].
    async fn retry(
        &self,
        id: &MessageId,
        lease: LeaseId,
        available_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Moves a claimed message out of delivery for good (poison message);
    /// it stays in the store for inspection.
    ///
    /// # Errors
    /// As [`Outbox::ack`].
    async fn dead_letter(&self, id: &MessageId, lease: LeaseId) -> Result<(), StoreError>;

    /// Messages of `topic` not yet acked or dead-lettered.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn pending(&self, topic: &Topic) -> Result<u64, StoreError>;
}

/// What a delivery worker made of one claimed message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// Delivered: ack it.
    Done,
    /// Not now: retry after the backoff (dead-letter when out of attempts).
    Retry,
    /// Never: dead-letter it.
    Give,
}

/// What one delivery pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPass {
    /// Messages delivered and acked.
    pub delivered: usize,
    /// Messages given back for a later attempt.
    pub retried: usize,
    /// Messages dead-lettered.
    pub dead_lettered: usize,
}

/// The delay before attempt `attempts + 1` of a delivery: 1 s doubling up
/// to 5 minutes.
pub fn retry_backoff(attempts: u32) -> std::time::Duration {
    let exp = attempts.saturating_sub(1).min(16);
    std::time::Duration::from_secs((1u64 << exp).min(300))
}

/// How a delivery worker claims: topic, batch, lease, attempts.
#[derive(Debug, Clone)]
pub struct DeliveryPolicy {
    /// The topic worked.
    pub topic: Topic,
    /// Messages claimed per pass.
    pub batch: u32,
    /// How long a claim holds.
    pub lease: std::time::Duration,
    /// Attempts before a retried message is dead-lettered.
    pub max_attempts: u32,
}

/// One pass of an at-least-once delivery worker: claims due messages of
/// `policy.topic` at `now`, hands each to `deliver`, and acks, retries
/// (with [`retry_backoff`]) or dead-letters it as `deliver` says. A lost
/// lease (another worker re-claimed the message) is not an error.
///
/// # Errors
/// [`StoreError`] when the outbox fails.
pub async fn deliver_once<F, Fut>(
    outbox: &dyn Outbox,
    policy: &DeliveryPolicy,
    now: Timestamp,
    mut deliver: F,
) -> Result<DeliveryPass, StoreError>
where
    F: FnMut(ClaimedMessage) -> Fut,
    Fut: std::future::Future<Output = Result<Delivery, StoreError>>,
{
    let claimed = outbox
        .claim(
            &policy.topic,
            policy.batch,
            now,
            now.saturating_add(policy.lease),
        )
        .await?;
    let mut pass = DeliveryPass::default();
    for message in claimed {
        let (id, lease, attempts) = (message.message.id, message.lease, message.attempts);
        let result = match deliver(message).await? {
            Delivery::Done => {
                pass.delivered += 1;
                outbox.ack(&id, lease).await
            }
            Delivery::Retry if attempts < policy.max_attempts => {
                pass.retried += 1;
                outbox
                    .retry(&id, lease, now.saturating_add(retry_backoff(attempts)))
                    .await
            }
            _ => {
                pass.dead_lettered += 1;
                outbox.dead_letter(&id, lease).await
            }
        };
        match result {
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(pass)
}
