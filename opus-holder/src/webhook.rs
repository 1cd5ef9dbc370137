//! Webhooks to initiators (Webhook API 1.2.0): every status change of a
//! payment consent or a Pix payment becomes a notice in the durable outbox,
//! written in the same store operation as the change; [`WebhookSender`]
//! delivers them to each `webhook_uris` base the client registered,
//! `POST <base>/open-banking/webhook/v1/<api>/<version>/<resource>` with
//! `{"data": {"timestamp": …}}` and a fresh `x-webhook-interaction-id` per
//! attempt, over mTLS with the institution's transport certificate
//! ([`WebhookTransport`]). A notice is done when the initiator answers 2xx
//! (the spec expects 202); otherwise it is retried with backoff
//! ([`opus_core::store::retry_backoff`]: 1 s doubling to 5 minutes, the
//! clock decides), so an initiator back from an
//! outage gets it, and dead-lettered after too many attempts.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use opus_core::store::{Delivery, DeliveryPolicy, StoreError, Topic, deliver_once};
use opus_core::{BrandId, Clock, InvalidValue, Storage};
use opus_fapi::server::RegisteredClient;
use url::Url;

pub use opus_core::webhook::{WEBHOOKS_TOPIC, WebhookNotice};

/// Why a webhook post did not get an answer.
#[derive(Debug, thiserror::Error)]
#[error("webhook not delivered: {0}")]
pub struct WebhookError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// How webhooks reach initiators: an HTTPS client presenting the
/// institution's transport certificate.
#[async_trait]
pub trait WebhookTransport: Send + Sync + 'static {
    /// `POST url` with the JSON `body` and `x-webhook-interaction-id`;
    /// answers the HTTP status.
    ///
    /// # Errors
    /// [`WebhookError`] when no answer came (connection refused, TLS, timeout).
    async fn post(&self, url: &Url, interaction_id: &str, body: &[u8])
    -> Result<u16, WebhookError>;
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WebhookPass {
    /// Notices delivered (every base answered 2xx) and acked.
    pub delivered: usize,
    /// Notices given back for a later attempt.
    pub retried: usize,
    /// Notices given up.
    pub dead_lettered: usize,
}

/// Delivers webhook notices from the outbox.
pub struct WebhookSender {
    storage: Storage,
    transport: Arc<dyn WebhookTransport>,
    clock: Arc<dyn Clock>,
    policy: DeliveryPolicy,
}

impl std::fmt::Debug for WebhookSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSender")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl WebhookSender {
    /// A sender claiming up to 50 notices at a time under a 30-second lease,
    /// giving up after 30 attempts.
    ///
    /// # Errors
    /// Never in practice (the topic is a valid constant).
    pub fn new(
        storage: Storage,
        transport: Arc<dyn WebhookTransport>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, InvalidValue> {
        Ok(Self {
            storage,
            transport,
            clock,
            policy: DeliveryPolicy {
                topic: Topic::new(WEBHOOKS_TOPIC)?,
                batch: 50,
                lease: Duration::from_secs(30),
                max_attempts: 30,
            },
        })
    }

    /// Claims due notices once and delivers them.
    ///
    /// # Errors
    /// [`StoreError`] when the outbox or the client store fails.
    pub async fn run_once(&self) -> Result<WebhookPass, StoreError> {
        let pass = deliver_once(
            self.storage.outbox.as_ref(),
            &self.policy,
            self.clock.now(),
            |message| async move {
                match serde_json::from_slice::<WebhookNotice>(&message.message.payload) {
                    Ok(notice) => self.deliver(&message.message.brand, &notice).await,
                    Err(_) => {
                        tracing::warn!(message = %message.message.id, "unreadable webhook notice dead-lettered");
                        Ok(Delivery::Give)
                    }
                }
            },
        )
        .await?;
        Ok(WebhookPass {
            delivered: pass.delivered,
            retried: pass.retried,
            dead_lettered: pass.dead_lettered,
        })
    }

    /// Posts `notice` to every webhook base of its client: done when all
    /// answered 2xx (or the client has none), else retry.
    async fn deliver(
        &self,
        brand: &BrandId,
        notice: &WebhookNotice,
    ) -> Result<Delivery, StoreError> {
        let Some(client) = self
            .storage
            .clients
            .get_client(brand, &notice.client_id)
            .await?
            .and_then(RegisteredClient::from_record)
        else {
            // The client is gone or inactive: nobody to notify.
            return Ok(Delivery::Done);
        };
        let body = serde_json::json!({"data": {"timestamp": notice.timestamp}}).to_string();
        let mut all = true;
        for base in &client.metadata.webhook_uris {
            let url = format!(
                "{}/open-banking/webhook/v1/{}",
                base.as_str().trim_end_matches('/'),
                notice.path
            );
            let Ok(url) = Url::parse(&url) else {
                tracing::warn!(client = %notice.client_id, "unusable webhook URI");
                continue;
            };
            let interaction = uuid::Uuid::new_v4().to_string();
            match self
                .transport
                .post(&url, &interaction, body.as_bytes())
                .await
            {
                Ok(status) if (200..300).contains(&status) => {}
                Ok(status) => {
                    tracing::debug!(%url, status, "webhook refused; retrying later");
                    all = false;
                }
                Err(e) => {
                    tracing::debug!(%url, error = %e, "webhook unreachable; retrying later");
                    all = false;
                }
            }
        }
        Ok(if all { Delivery::Done } else { Delivery::Retry })
    }
}

/// [`WebhookTransport`] over HTTPS with mTLS (HTTP/1.1, one connection per
/// post, 15-second timeout as the ecosystem's client timeout).
#[derive(Clone)]
pub struct MtlsWebhookTransport {
    config: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

impl std::fmt::Debug for MtlsWebhookTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MtlsWebhookTransport")
            .finish_non_exhaustive()
    }
}

impl MtlsWebhookTransport {
    /// Posts with `config` (the institution's transport certificate and the
    /// trust anchors of initiators' servers; see `opus_fapi::mtls::client_config`).
    pub fn new(config: Arc<rustls::ClientConfig>) -> Self {
        Self {
            config,
            timeout: Duration::from_secs(15),
        }
    }
}

#[async_trait]
impl WebhookTransport for MtlsWebhookTransport {
    async fn post(
        &self,
        url: &Url,
        interaction_id: &str,
        body: &[u8],
    ) -> Result<u16, WebhookError> {
        let request = http::Request::post(url.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("x-webhook-interaction-id", interaction_id)
            .body(bytes::Bytes::copy_from_slice(body))
            .map_err(|e| WebhookError(Box::new(e)))?;
        opus_fapi::mtls::exchange(&self.config, request, url, self.timeout, 64 * 1024)
            .await
            .map(|answer| answer.status.as_u16())
            .map_err(|e| WebhookError(Box::new(e)))
    }
}
