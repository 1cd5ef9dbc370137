//! Webhook notices (Webhook API 1.2.0): what changed, for which client.
//!
//! Whoever changes a payment consent, a Pix payment, a recurring consent or
//! a recurring payment writes a [`WebhookNotice`] to the outbox (topic
//! [`WEBHOOKS_TOPIC`]) in the same store operation as the change; the
//! account holder's sender delivers it to the client's `webhook_uris`.

use serde::{Deserialize, Serialize};

use crate::id::{BrandId, ClientId, MessageId};
use crate::store::{OutboxMessage, Topic};
use crate::{InvalidValue, Timestamp};

/// The outbox topic of webhook notices.
pub const WEBHOOKS_TOPIC: &str = "webhooks";

/// What changed, for whom: the payload of a webhook notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookNotice {
    /// The client to notify.
    pub client_id: ClientId,
    /// The resource path under `/open-banking/webhook/v1/`, e.g.
    /// `payments/v4/pix/payments/{paymentId}`.
    pub path: String,
    /// When the change happened (the body's `timestamp`).
    pub timestamp: Timestamp,
}

impl WebhookNotice {
    /// The outbox message carrying this notice for `brand`, due now.
    ///
    /// # Errors
    /// Never in practice (the topic and payload are well formed).
    pub fn message(&self, brand: &BrandId) -> Result<OutboxMessage, InvalidValue> {
        Ok(OutboxMessage {
            id: MessageId::random(),
            brand: brand.clone(),
            topic: Topic::new(WEBHOOKS_TOPIC)?,
            payload: serde_json::to_vec(self)
                .map_err(|_| InvalidValue::new("webhook notice", "unserialisable"))?,
            created_at: self.timestamp,
            available_at: self.timestamp,
        })
    }
}
