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
//! Reads are typed with the data APIs' models of `opus_core::connector`
//! ([`DataReceiver::records`], [`DataReceiver::record`], and named calls
//! for the accounts API); [`DataReceiver::pages`] walks a list page by
//! page. `links.next` is followed only within the transmitter's API base:
//! the customer's token never leaves for another origin.
//!
//! With a [`CallBudget`], every first page of a data endpoint is counted
//! locally, by the same key the transmitter counts by (month in Brasília,
//! endpoint, most granular object, customer, our organisation; the
//! quotas of `opus_core::data_apis`), before it is sent: a call the
//! transmitter would refuse with 423 is not made
//! ([`DrxError::LimitReached`]). Counters live in a `CounterStore`, so
//! replicas share them. Follow-up pages carrying a `pagination-key` do not
//! count, and calls that do not end in 2xx are given back — as on the
//! transmitter.
//!
//! Registration with each transmitter is
//! `opus_fapi::client::ensure_registered`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Method, Request};
use opus_core::connector::{Account, AccountBalances, AccountTransaction};
use opus_core::consent::Permission;
use opus_core::data_apis::{self, Endpoint, endpoints};
use opus_core::seal::Sealer;
use opus_core::store::{CounterKey, CounterOutcome, CounterStore};
use opus_core::{BrandId, Clock, Cpf, Date, Document, OrganisationId};
use opus_fapi::client::{ClientError, FapiClient, PendingAuthorisation, TokenResponse};
use opus_fapi::mtls::Exchanged;
use serde::de::DeserializeOwned;
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
    /// Not sent: the monthly operational limit of this endpoint and object
    /// is spent (counted locally; the transmitter would answer 423).
    #[error("monthly operational limit of {endpoint} reached ({limit})")]
    LimitReached {
        /// The endpoint template.
        endpoint: &'static str,
        /// Its quota.
        limit: u64,
    },
    /// The local call accounting failed (its store or the customer's
    /// blind index); nothing was sent.
    #[error("call accounting: {0}")]
    Accounting(String),
    /// The answer's `data` is not the expected model.
    #[error("unexpected answer: {0}")]
    Model(String),
}

/// A consent waiting for the customer.
#[derive(Debug, Clone)]
pub struct ConsentInProgress {
    /// `consentId`.
    pub consent_id: String,
    /// The customer who consents (the `loggedUser`).
    pub customer: Document,
    /// The authorization to complete after the redirect.
    pub pending: PendingAuthorisation,
}

/// The customer's tokens for one consent.
#[derive(Debug)]
pub struct ConsentTokens {
    consent_id: String,
    customer: Document,
    tokens: Mutex<TokenResponse>,
}

impl ConsentTokens {
    /// The tokens of `consent_id`, given by `customer` (e.g. kept by the
    /// application between calls).
    pub fn new(consent_id: impl Into<String>, customer: Document, tokens: TokenResponse) -> Self {
        Self {
            consent_id: consent_id.into(),
            customer,
            tokens: Mutex::new(tokens),
        }
    }

    /// The customer who gave the consent.
    pub fn customer(&self) -> &Document {
        &self.customer
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

/// Local accounting of one transmitter's operational limits (see the crate
/// docs).
pub struct CallBudget {
    counters: Arc<dyn CounterStore>,
    sealer: Arc<Sealer>,
    clock: Arc<dyn Clock>,
    holder: BrandId,
    organisation: OrganisationId,
    raised: BTreeMap<&'static str, u64>,
}

impl std::fmt::Debug for CallBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallBudget")
            .field("holder", &self.holder)
            .field("organisation", &self.organisation)
            .field("raised", &self.raised)
            .finish_non_exhaustive()
    }
}

impl CallBudget {
    /// Counts the calls to the transmitter named `holder` (a local name:
    /// one budget per transmitter) made by `organisation` (ours), in
    /// `counters`, customers known only by their blind index under
    /// `sealer`, months from `clock`.
    pub fn new(
        counters: Arc<dyn CounterStore>,
        sealer: Arc<Sealer>,
        clock: Arc<dyn Clock>,
        holder: BrandId,
        organisation: OrganisationId,
    ) -> Self {
        Self {
            counters,
            sealer,
            clock,
            holder,
            organisation,
            raised: BTreeMap::new(),
        }
    }

    /// The transmitter publishes a higher quota for `endpoint` (quotas are
    /// minimums: a lower value is ignored).
    #[must_use]
    pub fn raise(mut self, endpoint: &Endpoint, limit: u64) -> Self {
        if endpoint
            .monthly_limit
            .is_some_and(|minimum| limit > minimum)
        {
            self.raised.insert(endpoint.template, limit);
        }
        self
    }

    /// The quota of `endpoint` (`None`: not limited).
    pub fn limit(&self, endpoint: &Endpoint) -> Option<u64> {
        endpoint.monthly_limit.map(|minimum| {
            self.raised
                .get(endpoint.template)
                .copied()
                .unwrap_or(minimum)
        })
    }

    fn key(
        &self,
        endpoint: &Endpoint,
        object: &str,
        customer: &Document,
    ) -> Result<CounterKey, DrxError> {
        let date = self.clock.now().date_in_brasilia();
        Ok(CounterKey {
            brand: self.holder.clone(),
            period: format!("{:04}-{:02}", date.year(), date.month()),
            endpoint: endpoint.template.to_owned(),
            object: object.to_owned(),
            customer: self
                .sealer
                .blind_index(customer)
                .map_err(|e| DrxError::Accounting(e.to_string()))?,
            organisation: self.organisation,
        })
    }

    /// The calls left this month to `path` (under `/open-banking/`, no
    /// query) for the consent: `None` when the endpoint is not limited or
    /// not a data endpoint. For schedulers spreading calls over the month.
    ///
    /// # Errors
    /// [`DrxError::Accounting`] when the store fails.
    pub async fn remaining(
        &self,
        tokens: &ConsentTokens,
        path: &str,
    ) -> Result<Option<u64>, DrxError> {
        let Some((endpoint, values)) = data_apis::find("GET", path) else {
            return Ok(None);
        };
        let Some(limit) = self.limit(endpoint) else {
            return Ok(None);
        };
        let object = values.first().copied().unwrap_or(tokens.consent_id());
        let key = self.key(endpoint, object, &tokens.customer)?;
        let used = self
            .counters
            .count(&key)
            .await
            .map_err(|e| DrxError::Accounting(e.to_string()))?;
        Ok(Some(limit.saturating_sub(used)))
    }

    /// Takes one call of `path`'s quota (the path under the API base), or
    /// refuses it.
    async fn reserve(
        &self,
        tokens: &ConsentTokens,
        path: &str,
    ) -> Result<Option<CounterKey>, DrxError> {
        let Some((endpoint, values)) = data_apis::find("GET", path) else {
            return Ok(None);
        };
        let Some(limit) = self.limit(endpoint) else {
            return Ok(None);
        };
        let object = values.first().copied().unwrap_or(tokens.consent_id());
        let key = self.key(endpoint, object, &tokens.customer)?;
        match self.counters.try_increment(&key, limit).await {
            Ok(CounterOutcome::Counted(_)) => Ok(Some(key)),
            Ok(_) => Err(DrxError::LimitReached {
                endpoint: endpoint.template,
                limit,
            }),
            Err(e) => Err(DrxError::Accounting(e.to_string())),
        }
    }

    async fn refund(&self, key: &CounterKey) {
        if let Err(e) = self.counters.refund(key).await {
            tracing::warn!(error = %e, "call accounting: refund failed");
        }
    }
}

/// See the crate docs.
#[derive(Debug)]
pub struct DataReceiver {
    client: FapiClient,
    api_base: Url,
    redirect_uri: Url,
    budget: Option<CallBudget>,
}

impl DataReceiver {
    /// A receiver of the transmitter at `api_base`, calling through
    /// `client`, its customers coming back to `redirect_uri`.
    pub fn new(client: FapiClient, api_base: Url, redirect_uri: Url) -> Self {
        Self {
            client,
            api_base,
            redirect_uri,
            budget: None,
        }
    }

    /// Counts this transmitter's operational limits locally (see the crate
    /// docs).
    #[must_use]
    pub fn with_budget(mut self, budget: CallBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// The local accounting, when configured.
    pub fn budget(&self) -> Option<&CallBudget> {
        self.budget.as_ref()
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

    /// `path` under the API base; an absolute URL (a `links.next`) only
    /// when it stays under the API base (same scheme, host, port and path
    /// prefix), so the customer's token goes nowhere else.
    fn url(&self, path: &str) -> Result<Url, DrxError> {
        let url = self
            .api_base
            .join(path.trim_start_matches('/'))
            .map_err(|_| DrxError::Client(ClientError::Invalid("API URL")))?;
        let base = &self.api_base;
        let prefix = base.path().trim_end_matches('/');
        if url.origin() != base.origin()
            || !(url.path() == prefix || url.path().starts_with(&format!("{prefix}/")))
            || url.path().split('/').any(|s| s == "..")
        {
            return Err(DrxError::Client(ClientError::Invalid(
                "a URL outside the transmitter's API base",
            )));
        }
        Ok(url)
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
            customer: Document::from(customer.clone()),
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
            customer: consent.customer.clone(),
            tokens: Mutex::new(tokens),
        })
    }

    /// `GET path` (under the API base) with the customer's token, renewed
    /// once with the refresh token when refused as expired (401); counted
    /// against the [`CallBudget`] when there is one.
    ///
    /// # Errors
    /// [`DrxError`] when the transmitter refuses, or
    /// [`DrxError::LimitReached`] without calling it.
    pub async fn get(&self, tokens: &ConsentTokens, path: &str) -> Result<Value, DrxError> {
        let url = self.url(path)?;
        let follow_up = url.query_pairs().any(|(k, _)| k == "pagination-key");
        let reserved = match &self.budget {
            Some(budget) if !follow_up => {
                let prefix = self.api_base.path().trim_end_matches('/');
                let path = url.path().strip_prefix(prefix).unwrap_or(url.path());
                budget.reserve(tokens, path).await?
            }
            _ => None,
        };
        let answer = self.get_renewing(tokens, &url).await;
        if let (Some(budget), Some(key)) = (&self.budget, &reserved) {
            // Only 2xx answers count on the transmitter; a 423 means its
            // count is ahead of ours, so ours keeps the call.
            if matches!(&answer, Err(e) if !matches!(e, DrxError::Refused { status: 423, .. })) {
                budget.refund(key).await;
            }
        }
        answer
    }

    async fn get_renewing(&self, tokens: &ConsentTokens, url: &Url) -> Result<Value, DrxError> {
        match self.call(Method::GET, url, &tokens.access(), None).await {
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
                Ok(self.call(Method::GET, url, &tokens.access(), None).await?.1)
            }
            other => Ok(other?.1),
        }
    }

    /// The pages of the list at `path`, one by one (see [`Pages`]).
    pub fn pages<'a>(&'a self, tokens: &'a ConsentTokens, path: &str) -> Pages<'a> {
        Pages {
            receiver: self,
            tokens,
            next: Some(path.to_owned()),
        }
    }

    /// Every record of the list at `path` as `T` (at most `max_pages`
    /// pages).
    ///
    /// # Errors
    /// [`DrxError`] when a page is refused, or a record is not a `T`.
    pub async fn records<T: DeserializeOwned>(
        &self,
        tokens: &ConsentTokens,
        path: &str,
        max_pages: usize,
    ) -> Result<Vec<T>, DrxError> {
        let mut pages = self.pages(tokens, path);
        let mut records = Vec::new();
        for _ in 0..max_pages {
            match pages.next_records::<T>().await {
                Some(page) => records.extend(page?),
                None => break,
            }
        }
        Ok(records)
    }

    /// The single record at `path` as `T` (its `data`).
    ///
    /// # Errors
    /// [`DrxError`] when refused, or the record is not a `T`.
    pub async fn record<T: DeserializeOwned>(
        &self,
        tokens: &ConsentTokens,
        path: &str,
    ) -> Result<T, DrxError> {
        let answer = self.get(tokens, path).await?;
        serde_json::from_value(answer.get("data").cloned().unwrap_or(Value::Null))
            .map_err(|e| DrxError::Model(e.to_string()))
    }

    /// The path of `endpoint` with its `{parameters}` filled in order
    /// (percent-encoded), then `query`.
    ///
    /// # Errors
    /// [`DrxError::Client`] when the number of parameters is wrong.
    pub fn path_of(
        endpoint: &Endpoint,
        parameters: &[&str],
        query: &[(&str, &str)],
    ) -> Result<String, DrxError> {
        let mut values = parameters.iter();
        let mut path = String::new();
        for segment in endpoint.path().trim_start_matches('/').split('/') {
            path.push('/');
            if segment.starts_with('{') {
                let value = values
                    .next()
                    .ok_or(DrxError::Client(ClientError::Invalid("a path parameter")))?;
                path.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
            } else {
                path.push_str(segment);
            }
        }
        if values.next().is_some() {
            return Err(DrxError::Client(ClientError::Invalid("a path parameter")));
        }
        if !query.is_empty() {
            path.push('?');
            path.push_str(
                &url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(query)
                    .finish(),
            );
        }
        Ok(path)
    }

    /// `GET /accounts` (every page).
    ///
    /// # Errors
    /// As [`DataReceiver::records`].
    pub async fn accounts(&self, tokens: &ConsentTokens) -> Result<Vec<Account>, DrxError> {
        let path = Self::path_of(&endpoints::ACCOUNTS, &[], &[])?;
        self.records(tokens, &path, usize::MAX).await
    }

    /// `GET /accounts/{accountId}/balances`.
    ///
    /// # Errors
    /// As [`DataReceiver::record`].
    pub async fn account_balances(
        &self,
        tokens: &ConsentTokens,
        account_id: &str,
    ) -> Result<AccountBalances, DrxError> {
        let path = Self::path_of(&endpoints::BALANCES, &[account_id], &[])?;
        self.record(tokens, &path).await
    }

    /// `GET /accounts/{accountId}/transactions` booked between `from` and
    /// `to` (every page).
    ///
    /// # Errors
    /// As [`DataReceiver::records`].
    pub async fn account_transactions(
        &self,
        tokens: &ConsentTokens,
        account_id: &str,
        from: Date,
        to: Date,
    ) -> Result<Vec<AccountTransaction>, DrxError> {
        let (from, to) = (from.to_string(), to.to_string());
        let path = Self::path_of(
            &endpoints::TRANSACTIONS,
            &[account_id],
            &[
                ("fromBookingDate", from.as_str()),
                ("toBookingDate", to.as_str()),
            ],
        )?;
        self.records(tokens, &path, usize::MAX).await
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
        self.records(tokens, path, max_pages).await
    }

    /// The consent as the transmitter has it (`GET /consents/{consentId}`,
    /// client credentials): its `data` (`status`, `rejection`,
    /// `expirationDateTime`…).
    ///
    /// # Errors
    /// [`DrxError`] when the transmitter refuses.
    pub async fn consent(&self, consent_id: &str) -> Result<Value, DrxError> {
        let token = self.client.client_credentials("consents").await?;
        let url = self.url(&format!("{CONSENTS_BASE}/{consent_id}"))?;
        let (_, answer) = self
            .call(Method::GET, &url, &token.access_token, None)
            .await?;
        Ok(answer.get("data").cloned().unwrap_or(Value::Null))
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

/// The pages of one list, following `links.next` within the API base.
#[derive(Debug)]
pub struct Pages<'a> {
    receiver: &'a DataReceiver,
    tokens: &'a ConsentTokens,
    next: Option<String>,
}

impl Pages<'_> {
    /// The next page (the whole answer), or `None` after the last one. A
    /// refused page ends the walk.
    pub async fn next_page(&mut self) -> Option<Result<Value, DrxError>> {
        let url = self.next.take()?;
        match self.receiver.get(self.tokens, &url).await {
            Ok(page) => {
                self.next = page
                    .pointer("/links/next")
                    .and_then(Value::as_str)
                    .filter(|next| *next != url)
                    .map(str::to_owned);
                Some(Ok(page))
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// The next page's records as `T`.
    pub async fn next_records<T: DeserializeOwned>(&mut self) -> Option<Result<Vec<T>, DrxError>> {
        Some(self.next_page().await?.and_then(|page| {
            serde_json::from_value(
                page.get("data")
                    .cloned()
                    .unwrap_or(Value::Array(Vec::new())),
            )
            .map_err(|e| DrxError::Model(e.to_string()))
        }))
    }
}

/// The JSON of an answer (`Null` when it is not JSON).
fn json_of(answer: &Exchanged) -> Value {
    serde_json::from_slice(&answer.body).unwrap_or(Value::Null)
}
