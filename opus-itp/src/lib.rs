//! The payment initiator (ITP) of the OPUS Open Finance Brasil SDK.
//!
//! Two calls for a payment: [`Initiator::create_payment_consent`] creates
//! the payment consent (a client-credentials token, the consent as a signed
//! JWT, the answer's signature verified against the account holder's keys)
//! and pushes the authorization request, answering the URL to send the
//! customer to; after the redirect, [`Initiator::pay`] completes the
//! authorization (the answer validated, the encrypted ID token decrypted
//! through the custody, the code exchanged) and posts the Pix payment,
//! signed, with an idempotency key. [`Initiator::payment`] reads a payment's
//! status; [`WebhookReceiver`] answers the holder's webhooks (202) and has
//! the initiator read the payment again, so its status follows without
//! polling. Automatic payments the same way:
//! [`Initiator::create_recurring_consent`], [`Initiator::authorise`], then
//! [`Initiator::pay_recurring`] for each payment with the consent's refresh
//! token.
//!
//! Every call goes through an `opus_fapi::client::FapiClient`: each one
//! has its own `x-fapi-interaction-id`, and its CLIENT report when the
//! client has an `opus_pcm::PcmCallObserver`.
//!
//! Registration with each holder is `opus_fapi::client::ensure_registered`
//! (DCR once, DCM when the metadata changes, kept through the storage
//! port), and `opus_fapi::client::find_servers` finds the holders offering
//! an API version in the directory. A JSON facade for non-Rust applications
//! is [`facade::Facade`] (both journeys, stateless handles).

pub mod facade;

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use opus_core::keys::{JwkSet, KeyPurpose};
use opus_core::{Clock, OrganisationId};
use opus_fapi::client::{ClientError, FapiClient, PendingAuthorisation, TokenResponse};
use opus_fapi::jose::jws::{self, JwsPolicy};
use opus_fapi::mtls::Exchanged;
use serde_json::{Value, json};
use url::Url;

/// Payments API 4.0.0 under the holder's API base.
pub const PAYMENTS_BASE: &str = "open-banking/payments/v4";
/// Automatic Payments API 2.0.0 under the holder's API base.
pub const AUTOMATIC_PAYMENTS_BASE: &str = "open-banking/automatic-payments/v2";

/// Why an initiator call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ItpError {
    /// The FAPI layer failed (no answer, refused authorization, token).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The holder answered an error (the body's first `errors[].code`).
    #[error("HTTP {status}: {code}")]
    Refused {
        /// The status.
        status: u16,
        /// The first error code.
        code: String,
        /// The whole body (a signed body's claims).
        body: Value,
    },
    /// A signed answer that does not verify.
    #[error("the holder's answer is not signed by it")]
    Signature,
}

/// A consent waiting for the customer.
#[derive(Debug, Clone)]
pub struct ConsentInProgress {
    /// `consentId`.
    pub consent_id: String,
    /// The authorization to complete after the redirect.
    pub pending: PendingAuthorisation,
}

/// See the crate docs.
pub struct Initiator {
    client: FapiClient,
    api_base: Url,
    organisation: OrganisationId,
    holder_organisation: OrganisationId,
    holder_keys: JwkSet,
    redirect_uri: Url,
    clock: Arc<dyn Clock>,
    statuses: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for Initiator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Initiator")
            .field("api_base", &self.api_base.as_str())
            .finish_non_exhaustive()
    }
}

/// The settings of an initiator towards one account holder.
#[derive(Debug, Clone)]
pub struct HolderSettings {
    /// The holder's API base URL.
    pub api_base: Url,
    /// The holder's directory organisation (`iss` of its signed answers).
    pub organisation: OrganisationId,
    /// The holder organisation's signing keys (from the directory).
    pub keys: JwkSet,
    /// Where the customer comes back to.
    pub redirect_uri: Url,
}

impl Initiator {
    /// An initiator of directory organisation `organisation` paying through
    /// the holder of `holder`, calling through `client` (the holder's
    /// authorization server).
    pub fn new(
        client: FapiClient,
        organisation: OrganisationId,
        holder: HolderSettings,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            client,
            api_base: holder.api_base,
            organisation,
            holder_organisation: holder.organisation,
            holder_keys: holder.keys,
            redirect_uri: holder.redirect_uri,
            clock,
            statuses: Mutex::new(HashMap::new()),
        }
    }

    fn url(&self, path: &str) -> Result<Url, ItpError> {
        self.api_base
            .join(path)
            .map_err(|_| ItpError::Client(ClientError::Invalid("API URL")))
    }

    /// `data` signed for `url` (`iss` this organisation, `aud` the URL).
    async fn signed(&self, url: &Url, data: Value) -> Result<Bytes, ItpError> {
        let signer = self
            .client
            .custody()
            .signer(KeyPurpose::MessageSigning)
            .await
            .map_err(|_| ItpError::Client(ClientError::Invalid("signing key")))?;
        let claims = json!({
            "data": data,
            "iss": self.organisation.to_string(),
            "aud": url.as_str(),
            "iat": self.clock.now().unix_seconds(),
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let jwt = jws::sign_claims(signer.as_ref(), Some("JWT"), &claims)
            .await
            .map_err(ClientError::from)?;
        Ok(Bytes::from(jwt))
    }

    /// The business object of an answer: a signed body verified against
    /// the holder's keys (`iss` the holder, `aud` this organisation), or JSON.
    fn open(&self, answer: &Exchanged) -> Result<Value, ItpError> {
        let signed = answer
            .headers
            .get(http::header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/jwt"));
        if !signed {
            return Ok(serde_json::from_slice(&answer.body).unwrap_or(Value::Null));
        }
        let token = std::str::from_utf8(&answer.body).map_err(|_| ItpError::Signature)?;
        let verified = jws::verify(token, &self.holder_keys, &JwsPolicy::ofb())
            .map_err(|_| ItpError::Signature)?;
        let claims = verified.claims().map_err(|_| ItpError::Signature)?;
        let from_holder = claims.get("iss").and_then(Value::as_str)
            == Some(self.holder_organisation.to_string().as_str());
        let to_us = claims.get("aud").and_then(Value::as_str)
            == Some(self.organisation.to_string().as_str());
        if !from_holder || !to_us {
            return Err(ItpError::Signature);
        }
        Ok(Value::Object(claims.into_iter().collect()))
    }

    /// A signed call: the answer's business object when 2xx.
    async fn exchange(
        &self,
        method: Method,
        url: &Url,
        token: &str,
        body: Option<Value>,
    ) -> Result<Value, ItpError> {
        let mut request = Request::builder()
            .method(method)
            .uri(url.as_str())
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        let bytes = match body {
            Some(data) => {
                request = request
                    .header(http::header::CONTENT_TYPE, "application/jwt")
                    .header("x-idempotency-key", uuid::Uuid::new_v4().to_string());
                self.signed(url, data).await?
            }
            None => Bytes::new(),
        };
        let request = request
            .body(bytes)
            .map_err(|_| ItpError::Client(ClientError::Invalid("request")))?;
        let answer = self.client.send(request).await?;
        let body = self.open(&answer)?;
        if !answer.status.is_success() {
            let code = body
                .pointer("/errors/0/code")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            return Err(ItpError::Refused {
                status: answer.status.as_u16(),
                code,
                body,
            });
        }
        Ok(body)
    }

    /// Creates a payment consent of `data` (`loggedUser`, `creditor`,
    /// `payment`…) and pushes its authorization request: where to send the
    /// customer.
    ///
    /// # Errors
    /// [`ItpError`] when the holder refuses or cannot be reached.
    pub async fn create_payment_consent(&self, data: Value) -> Result<ConsentInProgress, ItpError> {
        let token = self.client.client_credentials("payments").await?;
        let url = self.url(&format!("{PAYMENTS_BASE}/consents"))?;
        let created = self
            .exchange(Method::POST, &url, &token.access_token, Some(data))
            .await?;
        let consent_id = created
            .pointer("/data/consentId")
            .and_then(Value::as_str)
            .ok_or(ItpError::Client(ClientError::Invalid("consentId")))?
            .to_owned();
        let pending = self
            .client
            .push(
                &format!("openid payments consent:{consent_id}"),
                &self.redirect_uri,
            )
            .await?;
        Ok(ConsentInProgress {
            consent_id,
            pending,
        })
    }

    /// After the redirect: validates the answer (`params`, from the
    /// redirect URI's fragment), exchanges the code, and posts `payments`
    /// (the `data` list of `POST /pix/payments`); answers the payments.
    ///
    /// # Errors
    /// [`ItpError`] when the authorization or the payment is refused.
    pub async fn pay(
        &self,
        consent: &ConsentInProgress,
        params: &BTreeMap<String, String>,
        payments: Value,
    ) -> Result<Value, ItpError> {
        let tokens: TokenResponse = self.client.complete(&consent.pending, params).await?;
        let url = self.url(&format!("{PAYMENTS_BASE}/pix/payments"))?;
        let paid = self
            .exchange(Method::POST, &url, &tokens.access_token, Some(payments))
            .await?;
        for item in paid
            .get("data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.remember(item);
        }
        Ok(paid)
    }

    /// Creates a recurring consent of `data` (`loggedUser`, `creditors`,
    /// `recurringConfiguration`…, Automatic Payments API 2.0.0) and pushes
    /// its authorization request (`recurring-consent:` scope): where to
    /// send the customer.
    ///
    /// # Errors
    /// [`ItpError`] when the holder refuses or cannot be reached.
    pub async fn create_recurring_consent(
        &self,
        data: Value,
    ) -> Result<ConsentInProgress, ItpError> {
        let token = self.client.client_credentials("recurring-payments").await?;
        let url = self.url(&format!("{AUTOMATIC_PAYMENTS_BASE}/recurring-consents"))?;
        let created = self
            .exchange(Method::POST, &url, &token.access_token, Some(data))
            .await?;
        let consent_id = created
            .pointer("/data/recurringConsentId")
            .and_then(Value::as_str)
            .ok_or(ItpError::Client(ClientError::Invalid("recurringConsentId")))?
            .to_owned();
        let pending = self
            .client
            .push(
                &format!("openid recurring-payments recurring-consent:{consent_id}"),
                &self.redirect_uri,
            )
            .await?;
        Ok(ConsentInProgress {
            consent_id,
            pending,
        })
    }

    /// After the redirect: validates the answer and exchanges the code for
    /// the recurring consent's tokens (the refresh token serves every later
    /// payment).
    ///
    /// # Errors
    /// [`ItpError`] when the authorization is refused.
    pub async fn authorise(
        &self,
        consent: &ConsentInProgress,
        params: &BTreeMap<String, String>,
    ) -> Result<TokenResponse, ItpError> {
        Ok(self.client.complete(&consent.pending, params).await?)
    }

    /// Posts one recurring Pix payment (`data` of `POST
    /// /pix/recurring-payments`) with a fresh access token from the
    /// consent's `refresh_token`; answers the payment.
    ///
    /// # Errors
    /// [`ItpError`] when the holder refuses (limits, dates…).
    pub async fn pay_recurring(&self, refresh_token: &str, data: Value) -> Result<Value, ItpError> {
        let tokens = self.client.refresh(refresh_token).await?;
        let url = self.url(&format!("{AUTOMATIC_PAYMENTS_BASE}/pix/recurring-payments"))?;
        self.exchange(Method::POST, &url, &tokens.access_token, Some(data))
            .await
    }

    fn remember(&self, item: &Value) {
        if let (Some(id), Some(status)) = (
            item.get("paymentId").and_then(Value::as_str),
            item.get("status").and_then(Value::as_str),
        ) {
            self.statuses
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.to_owned(), status.to_owned());
        }
    }

    /// Reads payment `id` (client credentials) and remembers its status.
    ///
    /// # Errors
    /// [`ItpError`] when the holder refuses or cannot be reached.
    pub async fn payment(&self, id: &str) -> Result<Value, ItpError> {
        let token = self.client.client_credentials("payments").await?;
        let url = self.url(&format!("{PAYMENTS_BASE}/pix/payments/{id}"))?;
        let read = self
            .exchange(Method::GET, &url, &token.access_token, None)
            .await?;
        if let Some(item) = read.get("data") {
            self.remember(item);
        }
        Ok(read)
    }

    /// The last status known of payment `id`.
    pub fn status_of(&self, id: &str) -> Option<String> {
        self.statuses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }
}

/// The initiator's webhook endpoint (Webhook API 1.2.0): answers 202 at
/// once and has the [`Initiator`] read the payment the notice names.
/// Mount it behind mutual TLS (`opus_fapi::mtls::serve`) with the holders'
/// trust anchors.
#[derive(Clone, Debug)]
pub struct WebhookReceiver {
    initiator: Arc<Initiator>,
}

impl WebhookReceiver {
    /// Notices for `initiator`.
    pub fn new(initiator: Arc<Initiator>) -> Self {
        Self { initiator }
    }
}

impl<B> tower::Service<Request<B>> for WebhookReceiver
where
    B: Send + 'static,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>,
    >;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let initiator = self.initiator.clone();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            let interaction = request.headers().get("x-webhook-interaction-id").cloned();
            let status = if request.method() != Method::POST {
                StatusCode::METHOD_NOT_ALLOWED
            } else {
                if let Some(id) = path
                    .split("/pix/payments/")
                    .nth(1)
                    .filter(|id| !id.is_empty() && !id.contains('/'))
                {
                    // Read it after answering: the holder waits for nothing.
                    let id = id.to_owned();
                    tokio::spawn(async move {
                        if let Err(e) = initiator.payment(&id).await {
                            tracing::warn!(error = %e, "payment status not refreshed after a webhook");
                        }
                    });
                }
                StatusCode::ACCEPTED
            };
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = status;
            if let Some(id) = interaction {
                response
                    .headers_mut()
                    .insert("x-webhook-interaction-id", id);
            }
            Ok(response)
        })
    }
}
