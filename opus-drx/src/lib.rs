//! The data receiver (DRx) of the OPUS Open Finance Brasil SDK.
//!
//! [`DataReceiver::create_consent`] creates a data-sharing consent
//! (Consents API 3.3.1, client credentials) and pushes its authorization
//! request, answering the URL to send the customer to;
//! [`DataReceiver::complete`] validates the answer after the redirect and
//! exchanges the code; [`DataReceiver::get`] and [`DataReceiver::get_all`]
//! call the data APIs (every page, following `links.next`) with the
//! customer's token, renewing it with the refresh token when it has
//! expired; [`DataReceiver::revoke`] ends the consent.
//!
//! Every call goes through an `opus_fapi::client::FapiClient`: each one
//! has its own `x-fapi-interaction-id`, and its CLIENT report when the
//! client has an `opus_pcm::PcmCallObserver`.
//!
//! Registration with each transmitter is
//! `opus_fapi::client::ensure_registered`. Not here yet: typed models of
//! every data API, and the local accounting of the operational limits.

use std::sync::Mutex;

use bytes::Bytes;
use http::{Method, Request};
use opus_core::Cpf;
use opus_core::consent::Permission;
use opus_fapi::client::{ClientError, FapiClient, PendingAuthorisation, TokenResponse};
use opus_fapi::mtls::Exchanged;
use serde_json::{Value, json};
use url::Url;

/// Consents API 3.3.1 under the transmitter's API base.
pub const CONSENTS_BASE: &str = "open-banking/consents/v3/consents";

/// Why a receiver call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DrxError {
    /// The FAPI layer failed (no answer, refused authorization, token).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The transmitter answered an error (the first `errors[].code`).
    #[error("HTTP {status}: {code}")]
    Refused {
        /// The status.
        status: u16,
        /// The first error code.
        code: String,
    },
}

/// A consent waiting for the customer.
#[derive(Debug, Clone)]
pub struct ConsentInProgress {
    /// `consentId`.
    pub consent_id: String,
    /// The authorization to complete after the redirect.
    pub pending: PendingAuthorisation,
}

/// The customer's tokens for one consent.
#[derive(Debug)]
pub struct ConsentTokens {
    consent_id: String,
    tokens: Mutex<TokenResponse>,
}

impl ConsentTokens {
    /// The tokens of `consent_id` (e.g. kept by the application between
    /// calls).
    pub fn new(consent_id: impl Into<String>, tokens: TokenResponse) -> Self {
        Self {
            consent_id: consent_id.into(),
            tokens: Mutex::new(tokens),
        }
    }

    /// The current tokens (renewed ones included).
    pub fn tokens(&self) -> TokenResponse {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The consent.
    pub fn consent_id(&self) -> &str {
        &self.consent_id
    }

    fn access(&self) -> String {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .access_token
            .clone()
    }
}

/// See the crate docs.
#[derive(Debug)]
pub struct DataReceiver {
    client: FapiClient,
    api_base: Url,
    redirect_uri: Url,
}

impl DataReceiver {
    /// A receiver of the transmitter at `api_base`, calling through
    /// `client`, its customers coming back to `redirect_uri`.
    pub fn new(client: FapiClient, api_base: Url, redirect_uri: Url) -> Self {
        Self {
            client,
            api_base,
            redirect_uri,
        }
    }

    async fn call(
        &self,
        method: Method,
        url: &Url,
        token: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), DrxError> {
        let mut request = Request::builder()
            .method(method)
            .uri(url.as_str())
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        let bytes = match body {
            Some(body) => {
                request = request.header(http::header::CONTENT_TYPE, "application/json");
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        let request = request
            .body(bytes)
            .map_err(|_| DrxError::Client(ClientError::Invalid("request")))?;
        let answer = self.client.send(request).await?;
        let body = json_of(&answer);
        if !answer.status.is_success() {
            return Err(DrxError::Refused {
                status: answer.status.as_u16(),
                code: body
                    .pointer("/errors/0/code")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        Ok((answer.status.as_u16(), body))
    }

    fn url(&self, path: &str) -> Result<Url, DrxError> {
        self.api_base
            .join(path.trim_start_matches('/'))
            .map_err(|_| DrxError::Client(ClientError::Invalid("API URL")))
    }

    /// Creates a consent of `customer` for `permissions` until
    /// `expiration` (`YYYY-MM-DDTHH:MM:SSZ`), and pushes its authorization
    /// request for `scopes` (the data APIs' scopes): where to send the
    /// customer.
    ///
    /// # Errors
    /// [`DrxError`] when the transmitter refuses or cannot be reached.
    pub async fn create_consent(
        &self,
        customer: &Cpf,
        permissions: &[Permission],
        expiration: &str,
        scopes: &str,
    ) -> Result<ConsentInProgress, DrxError> {
        let token = self.client.client_credentials("consents").await?;
        let (_, created) = self
            .call(
                Method::POST,
                &self.url(CONSENTS_BASE)?,
                &token.access_token,
                Some(json!({"data": {
                    "loggedUser": {"document": {"identification": customer.as_str(), "rel": "CPF"}},
                    "permissions": permissions,
                    "expirationDateTime": expiration,
                }})),
            )
            .await?;
        let consent_id = created
            .pointer("/data/consentId")
            .and_then(Value::as_str)
            .ok_or(DrxError::Client(ClientError::Invalid("consentId")))?
            .to_owned();
        let pending = self
            .client
            .push(
                &format!("openid {scopes} consent:{consent_id}"),
                &self.redirect_uri,
            )
            .await?;
        Ok(ConsentInProgress {
            consent_id,
            pending,
        })
    }

    /// After the redirect: validates the answer (`params`, from the
    /// redirect URI's fragment) and exchanges the code.
    ///
    /// # Errors
    /// [`DrxError`] when the answer is refused or tampered with.
    pub async fn complete(
        &self,
        consent: &ConsentInProgress,
        params: &std::collections::BTreeMap<String, String>,
    ) -> Result<ConsentTokens, DrxError> {
        let tokens = self.client.complete(&consent.pending, params).await?;
        Ok(ConsentTokens {
            consent_id: consent.consent_id.clone(),
            tokens: Mutex::new(tokens),
        })
    }

    /// `GET path` (under the API base) with the customer's token, renewed
    /// once with the refresh token when refused as expired (401).
    ///
    /// # Errors
    /// [`DrxError`] when the transmitter refuses.
    pub async fn get(&self, tokens: &ConsentTokens, path: &str) -> Result<Value, DrxError> {
        let url = self.url(path)?;
        match self.call(Method::GET, &url, &tokens.access(), None).await {
            Err(DrxError::Refused { status: 401, .. }) => {
                let refresh = tokens
                    .tokens
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .refresh_token
                    .clone()
                    .ok_or(DrxError::Refused {
                        status: 401,
                        code: "UNAUTHORIZED".to_owned(),
                    })?;
                let renewed = self.client.refresh(&refresh).await?;
                *tokens.tokens.lock().unwrap_or_else(|e| e.into_inner()) = renewed;
                Ok(self
                    .call(Method::GET, &url, &tokens.access(), None)
                    .await?
                    .1)
            }
            other => Ok(other?.1),
        }
    }

    /// Every record of a paged list: `data` of each page, following
    /// `links.next` (at most `max_pages`).
    ///
    /// # Errors
    /// [`DrxError`] when a page is refused.
    pub async fn get_all(
        &self,
        tokens: &ConsentTokens,
        path: &str,
        max_pages: usize,
    ) -> Result<Vec<Value>, DrxError> {
        let mut records = Vec::new();
        let mut next = Some(self.url(path)?.to_string());
        let mut pages = 0;
        while let Some(url) = next.take() {
            let page = self.get(tokens, &url).await?;
            records.extend(page["data"].as_array().cloned().unwrap_or_default());
            pages += 1;
            if pages < max_pages {
                next = page
                    .pointer("/links/next")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
        }
        Ok(records)
    }

    /// Ends the consent (`DELETE /consents/{consentId}`, client credentials).
    ///
    /// # Errors
    /// [`DrxError`] when the transmitter refuses.
    pub async fn revoke(&self, consent_id: &str) -> Result<(), DrxError> {
        let token = self.client.client_credentials("consents").await?;
        let url = self.url(&format!("{CONSENTS_BASE}/{consent_id}"))?;
        self.call(Method::DELETE, &url, &token.access_token, None)
            .await
            .map(|_| ())
    }
}

/// The JSON of an answer (`Null` when it is not JSON).
fn json_of(answer: &Exchanged) -> Value {
    serde_json::from_slice(&answer.body).unwrap_or(Value::Null)
}
