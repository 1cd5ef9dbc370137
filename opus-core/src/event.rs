//! Domain events and the [`EventSink`] port.
//!
//! Events leave through the outbox (so they are never lost and never sent
//! for a state change that rolled back); an outbox worker hands them to an
//! `EventSink`: in process, NATS JetStream, or the institution's own bus.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::consent::{ConsentKind, ConsentStatus};
use crate::datetime::Timestamp;
use crate::id::{BrandId, ClientId, ConsentId, MessageId, PaymentId};
use crate::payment::PaymentStatus;

/// Something that happened, worth telling the business. Events carry ids
/// and statuses, never personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// Stable id: redeliveries carry the same id.
    pub id: MessageId,
    /// The brand it happened in.
    pub brand: BrandId,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// What happened.
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A consent changed status.
    ConsentStatusChanged {
        /// The consent.
        consent_id: ConsentId,
        /// Its kind.
        consent_kind: ConsentKind,
        /// The client that owns it.
        client_id: ClientId,
        /// The status before.
        from: ConsentStatus,
        /// The status after.
        to: ConsentStatus,
    },
    /// A payment changed status.
    PaymentStatusChanged {
        /// The payment.
        payment_id: PaymentId,
        /// Its consent.
        consent_id: ConsentId,
        /// The status before (`None` on creation).
        from: Option<PaymentStatus>,
        /// The status after.
        to: PaymentStatus,
    },
    /// The open data receiver: something happened to one of its consents
    /// at a holder.
    ReceiverConsent {
        /// The holder (the receiver's name for it).
        holder: String,
        /// The consent at the holder.
        consent_id: String,
        /// The person (blind index: the receiver maps it to its customer).
        person: String,
        /// What happened.
        change: ReceiverConsentChange,
        /// More about it (the endpoint whose limit was reached, the
        /// number of failures, the rejection reason).
        detail: Option<String>,
    },
    /// A rule of the open data receiver fired (once per subject).
    ReceiverRuleFired {
        /// The rule's name.
        rule: String,
        /// The holder whose data fired it.
        holder: String,
        /// The person (blind index).
        person: String,
        /// What it is about: a contract, an account, a transaction id.
        subject: String,
    },
}

/// What happened to a consent of the open data receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReceiverConsentChange {
    /// It expires within the configured notice.
    ExpiringSoon,
    /// It expired: no more calls.
    Expired,
    /// It was revoked or rejected at the holder: no more calls.
    Revoked,
    /// Its refreshes failed several times in a row.
    RefreshFailing,
    /// A monthly operational limit was reached; calls resume next month.
    LimitReached,
}

/// The outbox topic domain events travel on.
pub const EVENTS_TOPIC: &str = "events";

impl DomainEvent {
    /// The outbox message that carries this event (topic [`EVENTS_TOPIC`],
    /// JSON payload, the event's id as the message id), due at `occurred_at`.
    ///
    /// # Errors
    /// [`crate::InvalidValue`] never in practice (the topic is a valid constant).
    pub fn outbox_message(&self) -> Result<crate::store::OutboxMessage, crate::InvalidValue> {
        Ok(crate::store::OutboxMessage {
            id: self.id,
            brand: self.brand.clone(),
            topic: crate::store::Topic::new(EVENTS_TOPIC)?,
            payload: serde_json::to_vec(self).unwrap_or_default(),
            created_at: self.occurred_at,
            available_at: self.occurred_at,
        })
    }
}

/// Failures of an event sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The sink is unreachable; the outbox retries.
    #[error("event sink unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The sink refused the event for good.
    #[error("event rejected")]
    Rejected(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where domain events go.
#[async_trait]
pub trait EventSink: Send + Sync + 'static {
    /// Publishes one event. At-least-once: the sink may see an id twice.
    ///
    /// # Errors
    /// [`EventError::Unavailable`] to be retried; [`EventError::Rejected`] to dead-letter.
    async fn publish(&self, event: &DomainEvent) -> Result<(), EventError>;
}
