//! Delivery: reports leave the outbox in batches of at most 5,000 items and
//! 10 MB, with a collector token obtained over mutual TLS and reused for
//! its life, at most 300 requests per second, and backoff with jitter when
//! the collector is down, overloaded (429) or failing (5xx). Nothing is
//! lost: a report leaves the outbox only once the collector answered for
//! it (`ACCEPTED`, or `DISCARDED`, which is final and logged). Restart-safe:
//! all state is in the store.
//!
//! Duplicates: the collector has no idempotency key, so a batch whose
//! answer is lost (the connection drops after the collector took it, or
//! the process dies before recording the answer) is sent again when its
//! lease ends. At most one batch (≤ 5,000 reports) per such event is sent
//! twice; nothing else is.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use opus_core::store::{ClaimedMessage, Topic, retry_backoff};
use opus_core::{Clock, Storage, Timestamp};
use serde_json::Value;

use crate::capture::{OPENDATA_TOPIC, PRIVATE_TOPIC, SINGLE_TOPIC};

/// The collector's private-report endpoint.
pub const PRIVATE_PATH: &str = "/report-api/v1/private/report";
/// The collector's open-data-report endpoint.
pub const OPENDATA_PATH: &str = "/report-api/v1/opendata/report";

/// Why the collector could not be reached.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PcmError {
    /// No answer (connection, TLS, timeout).
    #[error("metrics collector unreachable: {0}")]
    Unreachable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The token endpoint refused or answered nonsense.
    #[error("metrics collector token refused: {0}")]
    Token(String),
    /// The store failed.
    #[error("store failed: {0}")]
    Store(#[from] opus_core::StoreError),
}

/// A collector token and how long it lives.
#[derive(Clone)]
pub struct PcmToken {
    /// The bearer token.
    pub access_token: String,
    /// Its life (the collector issues 6 hours).
    pub expires_in: Duration,
}

impl std::fmt::Debug for PcmToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcmToken")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// How reports reach the collector.
#[async_trait]
pub trait PcmTransport: Send + Sync + 'static {
    /// A token (client credentials over mutual TLS).
    ///
    /// # Errors
    /// [`PcmError`] when none can be had.
    async fn token(&self) -> Result<PcmToken, PcmError>;

    /// `POST path` with the JSON `body` and the bearer `token`: the status
    /// and body answered.
    ///
    /// # Errors
    /// [`PcmError::Unreachable`] when no answer came.
    async fn post(
        &self,
        path: &str,
        token: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), PcmError>;
}

/// How the sender works.
#[derive(Debug, Clone)]
pub struct SenderPolicy {
    /// Reports per request (the collector takes at most 5,000).
    pub batch: u32,
    /// Bytes per request (the collector takes at most 10 MB).
    pub max_bytes: usize,
    /// How long a claimed batch is held before another worker may take it.
    pub lease: Duration,
    /// Requests per second, at most (the collector's limit is 300).
    pub max_requests_per_second: u32,
    /// How long before the D+1 08:00 (Brasília) deadline unsent reports
    /// are flagged.
    pub deadline_margin: Duration,
}

impl Default for SenderPolicy {
    fn default() -> Self {
        Self {
            batch: 5_000,
            max_bytes: 10 * 1024 * 1024,
            lease: Duration::from_secs(120),
            max_requests_per_second: 300,
            deadline_margin: Duration::from_secs(2 * 3600),
        }
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PcmPass {
    /// Requests made to the collector.
    pub posts: usize,
    /// Reports the collector accepted.
    pub accepted: usize,
    /// Reports the collector discarded (final; logged).
    pub discarded: usize,
    /// Reports given back for a later attempt.
    pub retried: usize,
    /// Reports given back that risk missing the D+1 08:00 deadline.
    pub at_risk: usize,
}

/// Sends the reports in the outbox to the collector.
pub struct PcmSender {
    storage: Storage,
    transport: Arc<dyn PcmTransport>,
    clock: Arc<dyn Clock>,
    policy: SenderPolicy,
    token: tokio::sync::Mutex<Option<(String, Timestamp)>>,
    batch: AtomicU32,
    second: std::sync::Mutex<(i64, u32)>,
}

impl std::fmt::Debug for PcmSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcmSender")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// The instant reports of `created` must have reached the collector by:
/// 08:00 in Brasília (11:00 UTC) of the next day.
fn deadline(created: Timestamp) -> Option<Timestamp> {
    let next = created.date_in_brasilia().next_day()?;
    let at = format!("{next}T11:00:00Z");
    Timestamp::parse(&at).ok()
}

/// Up to a quarter more than `base`, at random.
fn jittered(base: Duration) -> Duration {
    let mut byte = [0u8; 1];
    let _ = aws_lc_rs::rand::fill(&mut byte);
    base + base.mul_f64(f64::from(byte[0]) / 1020.0)
}

enum Verdict {
    /// Per-item answers.
    Answered(Vec<Value>),
    /// The whole batch again, at once (token renewed, batch split).
    Again,
    /// The whole batch again after a backoff: the collector is unwell.
    Later,
    /// The whole batch is unacceptable as it is (400): dead-lettered.
    Refused,
}

impl PcmSender {
    /// Sends the outbox of `storage` through `transport`.
    pub fn new(storage: Storage, transport: Arc<dyn PcmTransport>, clock: Arc<dyn Clock>) -> Self {
        Self::with_policy(storage, transport, clock, SenderPolicy::default())
    }

    /// With `policy`.
    pub fn with_policy(
        storage: Storage,
        transport: Arc<dyn PcmTransport>,
        clock: Arc<dyn Clock>,
        policy: SenderPolicy,
    ) -> Self {
        let batch = policy.batch.clamp(1, 5_000);
        Self {
            storage,
            transport,
            clock,
            policy,
            token: tokio::sync::Mutex::new(None),
            batch: AtomicU32::new(batch),
            second: std::sync::Mutex::new((0, 0)),
        }
    }

    async fn bearer(&self) -> Result<String, PcmError> {
        let mut cached = self.token.lock().await;
        let now = self.clock.now();
        if let Some((token, until)) = cached.as_ref()
            && now < *until
        {
            return Ok(token.clone());
        }
        let fresh = self.transport.token().await?;
        // Renewed five minutes before it ends.
        let until = now.saturating_add(
            fresh
                .expires_in
                .saturating_sub(Duration::from_secs(300))
                .max(Duration::from_secs(1)),
        );
        *cached = Some((fresh.access_token.clone(), until));
        Ok(fresh.access_token)
    }

    /// Whether another request fits in this second.
    fn may_post(&self) -> bool {
        let second = self.clock.now().unix_seconds();
        let mut window = self.second.lock().unwrap_or_else(|e| e.into_inner());
        if window.0 != second {
            *window = (second, 0);
        }
        if window.1 >= self.policy.max_requests_per_second {
            return false;
        }
        window.1 += 1;
        true
    }

    /// Sends what is due, topic by topic, until the outbox is empty, the
    /// collector is unwell or the request rate is reached.
    ///
    /// # Errors
    /// [`PcmError::Store`] when the outbox fails.
    pub async fn run_once(&self) -> Result<PcmPass, PcmError> {
        let mut pass = PcmPass::default();
        for (topic, path) in [
            (PRIVATE_TOPIC, PRIVATE_PATH),
            (OPENDATA_TOPIC, OPENDATA_PATH),
        ] {
            let topic = Topic::new(topic).map_err(|e| PcmError::Token(e.to_string()))?;
            loop {
                if !self.may_post() {
                    return Ok(pass);
                }
                let now = self.clock.now();
                let claimed = self
                    .storage
                    .outbox
                    .claim(
                        &topic,
                        self.batch.load(Ordering::Relaxed),
                        now,
                        now.saturating_add(self.policy.lease),
                    )
                    .await?;
                if claimed.is_empty() {
                    break;
                }
                let (batch, overflow) = self.fit(claimed);
                for message in &overflow {
                    self.storage
                        .outbox
                        .retry(&message.message.id, message.lease, now)
                        .await?;
                }
                pass.posts += 1;
                let healthy = self.send(path, &batch, &mut pass).await?;
                if !healthy {
                    break;
                }
            }
        }
        self.send_singles(&mut pass).await?;
        Ok(pass)
    }

    /// Hybrid-flow steps and consent stocks: one request each, to its own path.
    async fn send_singles(&self, pass: &mut PcmPass) -> Result<(), PcmError> {
        let topic = Topic::new(SINGLE_TOPIC).map_err(|e| PcmError::Token(e.to_string()))?;
        loop {
            let now = self.clock.now();
            let claimed = self
                .storage
                .outbox
                .claim(&topic, 100, now, now.saturating_add(self.policy.lease))
                .await?;
            if claimed.is_empty() {
                return Ok(());
            }
            let mut rate_reached = false;
            for message in claimed {
                let parsed: Option<(String, Value)> =
                    serde_json::from_slice::<Value>(&message.message.payload)
                        .ok()
                        .and_then(|v| {
                            Some((v.get("path")?.as_str()?.to_owned(), v.get("body")?.clone()))
                        });
                let Some((path, body)) = parsed else {
                    self.storage
                        .outbox
                        .dead_letter(&message.message.id, message.lease)
                        .await?;
                    pass.discarded += 1;
                    continue;
                };
                if rate_reached || !self.may_post() {
                    rate_reached = true;
                    self.storage
                        .outbox
                        .retry(&message.message.id, message.lease, now)
                        .await?;
                    pass.retried += 1;
                    continue;
                }
                pass.posts += 1;
                let answer = match self.bearer().await {
                    Ok(token) => {
                        let bytes = serde_json::to_vec(&body).unwrap_or_default();
                        self.transport.post(&path, &token, bytes).await.ok()
                    }
                    Err(_) => None,
                };
                match answer.map(|(status, _)| status) {
                    Some(200..=299) => {
                        self.storage
                            .outbox
                            .ack(&message.message.id, message.lease)
                            .await?;
                        pass.accepted += 1;
                    }
                    Some(400) => {
                        tracing::warn!(path, "the metrics collector refused a report");
                        self.storage
                            .outbox
                            .dead_letter(&message.message.id, message.lease)
                            .await?;
                        pass.discarded += 1;
                    }
                    status => {
                        if status == Some(401) {
                            *self.token.lock().await = None;
                        }
                        let next = now.saturating_add(jittered(retry_backoff(message.attempts)));
                        self.storage
                            .outbox
                            .retry(&message.message.id, message.lease, next)
                            .await?;
                        pass.retried += 1;
                    }
                }
            }
            if rate_reached {
                return Ok(());
            }
        }
    }

    /// The claimed messages that fit one request, and the rest.
    fn fit(&self, claimed: Vec<ClaimedMessage>) -> (Vec<ClaimedMessage>, Vec<ClaimedMessage>) {
        let mut size = 2;
        let mut batch = Vec::new();
        let mut overflow = Vec::new();
        for message in claimed {
            size += message.message.payload.len() + 1;
            if size > self.policy.max_bytes && !batch.is_empty() {
                overflow.push(message);
            } else {
                batch.push(message);
            }
        }
        (batch, overflow)
    }

    /// Posts `batch`; `false` when the collector is unwell (stop the pass).
    async fn send(
        &self,
        path: &str,
        batch: &[ClaimedMessage],
        pass: &mut PcmPass,
    ) -> Result<bool, PcmError> {
        let mut body = Vec::with_capacity(batch.iter().map(|m| m.message.payload.len() + 1).sum());
        body.push(b'[');
        for (i, message) in batch.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(&message.message.payload);
        }
        body.push(b']');
        let verdict = match self.bearer().await {
            Ok(token) => match self.transport.post(path, &token, body).await {
                Ok((200 | 207, answer)) => match serde_json::from_slice::<Vec<Value>>(&answer) {
                    Ok(items) => Verdict::Answered(items),
                    // Taken, but the answer is unreadable: nothing to resend.
                    Err(_) => Verdict::Answered(Vec::new()),
                },
                Ok((401, _)) => {
                    *self.token.lock().await = None;
                    Verdict::Again
                }
                Ok((413, _)) => {
                    let half = (self.batch.load(Ordering::Relaxed) / 2).max(1);
                    self.batch.store(half, Ordering::Relaxed);
                    Verdict::Again
                }
                Ok((400, answer)) => {
                    tracing::error!(
                        answer = %String::from_utf8_lossy(&answer),
                        "the metrics collector refused a batch as malformed"
                    );
                    Verdict::Refused
                }
                Ok((status, _)) => {
                    tracing::warn!(status, "the metrics collector is unwell; retrying later");
                    Verdict::Later
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the metrics collector is unreachable; retrying later");
                    Verdict::Later
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "no metrics collector token; retrying later");
                Verdict::Later
            }
        };
        let now = self.clock.now();
        match verdict {
            Verdict::Answered(items) => {
                for (i, message) in batch.iter().enumerate() {
                    let item = items.get(i);
                    let discarded = item.and_then(|v| v.get("status")).and_then(Value::as_str)
                        == Some("DISCARDED");
                    if discarded {
                        let reason = item
                            .and_then(|v| v.get("message"))
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        tracing::warn!(reason, "the metrics collector discarded a report");
                        self.storage
                            .outbox
                            .dead_letter(&message.message.id, message.lease)
                            .await?;
                        pass.discarded += 1;
                    } else {
                        self.storage
                            .outbox
                            .ack(&message.message.id, message.lease)
                            .await?;
                        pass.accepted += 1;
                    }
                }
                Ok(true)
            }
            Verdict::Again => {
                for message in batch {
                    self.storage
                        .outbox
                        .retry(&message.message.id, message.lease, now)
                        .await?;
                }
                pass.retried += batch.len();
                Ok(true)
            }
            Verdict::Refused => {
                for message in batch {
                    self.storage
                        .outbox
                        .dead_letter(&message.message.id, message.lease)
                        .await?;
                }
                pass.discarded += batch.len();
                Ok(true)
            }
            Verdict::Later => {
                let mut at_risk = 0;
                for message in batch {
                    let next = now.saturating_add(jittered(retry_backoff(message.attempts)));
                    if deadline(message.message.created_at)
                        .is_some_and(|d| next.saturating_add(self.policy.deadline_margin) >= d)
                    {
                        at_risk += 1;
                    }
                    self.storage
                        .outbox
                        .retry(&message.message.id, message.lease, next)
                        .await?;
                }
                if at_risk > 0 {
                    tracing::warn!(
                        reports = at_risk,
                        "metrics reports risk missing the D+1 08:00 deadline"
                    );
                }
                pass.retried += batch.len();
                pass.at_risk += at_risk;
                Ok(false)
            }
        }
    }
}

/// The collector over HTTPS: tokens from `<auth base>/token/` with the
/// institution's transport certificate (mutual TLS, `client_id` = the
/// software statement's client id in the directory), reports to
/// `<api base>`.
pub struct HttpsPcmTransport {
    api_base: url::Url,
    auth_base: url::Url,
    client_id: String,
    config: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

impl std::fmt::Debug for HttpsPcmTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsPcmTransport")
            .field("api_base", &self.api_base.as_str())
            .field("auth_base", &self.auth_base.as_str())
            .finish_non_exhaustive()
    }
}

impl HttpsPcmTransport {
    /// The collector at `api_base` with tokens from `auth_base` for
    /// `client_id`, over `config` (the transport certificate and the
    /// collector's trust anchors; see `opus_fapi::mtls::client_config`).
    pub fn new(
        api_base: url::Url,
        auth_base: url::Url,
        client_id: impl Into<String>,
        config: Arc<rustls::ClientConfig>,
    ) -> Self {
        Self {
            api_base,
            auth_base,
            client_id: client_id.into(),
            config,
            timeout: Duration::from_secs(30),
        }
    }

    fn url(base: &url::Url, path: &str) -> Result<url::Url, PcmError> {
        let joined = format!("{}{path}", base.as_str().trim_end_matches('/'));
        url::Url::parse(&joined).map_err(|e| PcmError::Unreachable(Box::new(e)))
    }
}

#[async_trait]
impl PcmTransport for HttpsPcmTransport {
    async fn token(&self) -> Result<PcmToken, PcmError> {
        let url = Self::url(&self.auth_base, "/token/")?;
        let form = format!(
            "grant_type=client_credentials&client_id={}",
            url::form_urlencoded::byte_serialize(self.client_id.as_bytes()).collect::<String>()
        );
        let request = http::Request::post(url.as_str())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(bytes::Bytes::from(form))
            .map_err(|e| PcmError::Unreachable(Box::new(e)))?;
        let answer =
            opus_fapi::mtls::exchange(&self.config, request, &url, self.timeout, 64 * 1024)
                .await
                .map_err(|e| PcmError::Unreachable(Box::new(e)))?;
        if !answer.status.is_success() {
            return Err(PcmError::Token(format!("status {}", answer.status)));
        }
        let body: Value =
            serde_json::from_slice(&answer.body).map_err(|e| PcmError::Token(e.to_string()))?;
        let access_token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| PcmError::Token("no access_token".to_owned()))?
            .to_owned();
        let expires_in = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(300);
        Ok(PcmToken {
            access_token,
            expires_in: Duration::from_secs(expires_in),
        })
    }

    async fn post(
        &self,
        path: &str,
        token: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), PcmError> {
        let url = Self::url(&self.api_base, path)?;
        let request = http::Request::post(url.as_str())
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(bytes::Bytes::from(body))
            .map_err(|e| PcmError::Unreachable(Box::new(e)))?;
        let answer =
            opus_fapi::mtls::exchange(&self.config, request, &url, self.timeout, 4 * 1024 * 1024)
                .await
                .map_err(|e| PcmError::Unreachable(Box::new(e)))?;
        Ok((answer.status.as_u16(), answer.body.to_vec()))
    }
}
