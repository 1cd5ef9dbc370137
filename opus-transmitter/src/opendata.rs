//! Open data (phase 1): the public catalogue APIs — channels 3.0.0
//! (`/open-banking/channels/v1`), products-services 3.0.0
//! (`/open-banking/products-services/v2`) and the `opendata-*` 1.0.1
//! families (accounts, credit cards, loans, financings, invoice financings,
//! unarranged overdraft) — for one brand, behind the bank's
//! [`OpenDataConnector`].
//!
//! Public: no certificate, no token. So that the back office is not called
//! on every public request, each endpoint's catalogue is kept for a
//! configurable freshness (default 5 minutes) and refreshed by one call,
//! however many requests arrive meanwhile; each client address gets at most
//! a configurable number of requests a minute (default 500, the rule's
//! figure), above which the answer is 429 with `Retry-After`, before any
//! other work. The limit is counted per replica: with N replicas behind
//! one address, configure a share of it.
//!
//! Lists of the `opendata-*` families are paged (`page`, `page-size` up to
//! 1000); channels and products-services answer their catalogue object.
//! Open-data calls are reported to the metrics collector by
//! `opus_pcm::PcmLayer` (open-data reports) when it is mounted around
//! this service.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::Full;
use opus_core::connector::{ConnectorError, OpenDataConnector};
use opus_core::envelope::{Links, Meta, PagePolicy, PageRequest, Totals};
use opus_core::{ApiError, Brand, Clock, Timestamp};
use opus_fapi::mtls::ConnectionInfo;
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// The open-data endpoint templates served.
pub const ENDPOINTS: [&str; 29] = [
    "/open-banking/channels/v1/banking-agents",
    "/open-banking/channels/v1/branches",
    "/open-banking/channels/v1/electronic-channels",
    "/open-banking/channels/v1/phone-channels",
    "/open-banking/channels/v1/shared-automated-teller-machines",
    "/open-banking/products-services/v2/personal-accounts",
    "/open-banking/products-services/v2/business-accounts",
    "/open-banking/products-services/v2/personal-loans",
    "/open-banking/products-services/v2/business-loans",
    "/open-banking/products-services/v2/personal-credit-cards",
    "/open-banking/products-services/v2/business-credit-cards",
    "/open-banking/products-services/v2/personal-financings",
    "/open-banking/products-services/v2/business-financings",
    "/open-banking/products-services/v2/personal-invoice-financings",
    "/open-banking/products-services/v2/business-invoice-financings",
    "/open-banking/products-services/v2/personal-unarranged-account-overdraft",
    "/open-banking/products-services/v2/business-unarranged-account-overdraft",
    "/open-banking/opendata-accounts/v1/personal-accounts",
    "/open-banking/opendata-accounts/v1/business-accounts",
    "/open-banking/opendata-creditcards/v1/personal-credit-cards",
    "/open-banking/opendata-creditcards/v1/business-credit-cards",
    "/open-banking/opendata-financings/v1/personal-financings",
    "/open-banking/opendata-financings/v1/business-financings",
    "/open-banking/opendata-invoicefinancings/v1/personal-invoice-financings",
    "/open-banking/opendata-invoicefinancings/v1/business-invoice-financings",
    "/open-banking/opendata-loans/v1/personal-loans",
    "/open-banking/opendata-loans/v1/business-loans",
    "/open-banking/opendata-unarranged/v1/personal-unarranged-account-overdraft",
    "/open-banking/opendata-unarranged/v1/business-unarranged-account-overdraft",
];

/// A catalogue and when it was fetched.
type Cached = (Value, Timestamp);

/// The open-data APIs of one brand; see the module docs.
#[derive(Clone)]
pub struct OpenDataApis {
    inner: Arc<Inner>,
}

struct Inner {
    brand: Brand,
    connector: Arc<dyn OpenDataConnector>,
    clock: Arc<dyn Clock>,
    freshness: Duration,
    per_minute: u32,
    prefix: String,
    /// One slot per endpoint: whoever holds it refreshes, the others wait.
    cache: HashMap<&'static str, Mutex<Option<Cached>>>,
    /// Requests per client address in the current minute.
    window: std::sync::Mutex<(i64, HashMap<IpAddr, u32>)>,
}

impl std::fmt::Debug for OpenDataApis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenDataApis")
            .field("brand", self.inner.brand.id())
            .field("freshness", &self.inner.freshness)
            .field("per_minute", &self.inner.per_minute)
            .finish_non_exhaustive()
    }
}

fn error_response(error: &ApiError, now: Timestamp) -> Response<Full<Bytes>> {
    error
        .to_public_http_response(now)
        .map(|b| Full::new(Bytes::from(b)))
}

impl OpenDataApis {
    /// The open-data APIs of `brand` over `connector`.
    pub fn new(brand: Brand, connector: Arc<dyn OpenDataConnector>, clock: Arc<dyn Clock>) -> Self {
        Self::build(brand, connector, clock, Duration::from_secs(300), 500)
    }

    fn build(
        brand: Brand,
        connector: Arc<dyn OpenDataConnector>,
        clock: Arc<dyn Clock>,
        freshness: Duration,
        per_minute: u32,
    ) -> Self {
        let prefix = brand.api_base_url().path().trim_end_matches('/').to_owned();
        Self {
            inner: Arc::new(Inner {
                brand,
                connector,
                clock,
                freshness,
                per_minute,
                prefix,
                cache: ENDPOINTS.iter().map(|e| (*e, Mutex::new(None))).collect(),
                window: std::sync::Mutex::new((0, HashMap::new())),
            }),
        }
    }

    /// With catalogues kept for `freshness` (the back office is asked again
    /// after it).
    pub fn with_freshness(self, freshness: Duration) -> Self {
        let inner = &self.inner;
        Self::build(
            inner.brand.clone(),
            inner.connector.clone(),
            inner.clock.clone(),
            freshness,
            inner.per_minute,
        )
    }

    /// With at most `per_minute` requests a minute per client address.
    pub fn with_rate_limit(self, per_minute: u32) -> Self {
        let inner = &self.inner;
        Self::build(
            inner.brand.clone(),
            inner.connector.clone(),
            inner.clock.clone(),
            inner.freshness,
            per_minute.max(1),
        )
    }
}

impl Inner {
    /// Counts a request of `address`; `false` above the limit.
    fn admit(&self, address: Option<IpAddr>, now: Timestamp) -> bool {
        let Some(address) = address else {
            return true;
        };
        let minute = now.unix_seconds().div_euclid(60);
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        if window.0 != minute {
            *window = (minute, HashMap::new());
        }
        let count = window.1.entry(address).or_insert(0);
        if *count >= self.per_minute {
            return false;
        }
        *count += 1;
        true
    }

    /// The catalogue of `endpoint`, from the cache while fresh.
    async fn catalogue(&self, endpoint: &'static str) -> Result<Value, ApiError> {
        let slot = self.cache.get(endpoint).ok_or_else(ApiError::not_found)?;
        let mut cached = slot.lock().await;
        let now = self.clock.now();
        if let Some((value, at)) = cached.as_ref()
            && now.duration_since(*at) < self.freshness
        {
            return Ok(value.clone());
        }
        match self.connector.catalogue(self.brand.id(), endpoint).await {
            Ok(value) => {
                *cached = Some((value.clone(), now));
                Ok(value)
            }
            Err(ConnectorError::NotFound) => Err(ApiError::not_found()),
            Err(ConnectorError::Timeout) => match cached.as_ref() {
                // Stale is better than nothing for a public catalogue.
                Some((value, _)) => Ok(value.clone()),
                None => Err(ApiError::gateway_timeout()),
            },
            Err(e) => {
                tracing::warn!(error = %e, endpoint, "open-data connector failed");
                match cached.as_ref() {
                    Some((value, _)) => Ok(value.clone()),
                    None => Err(ApiError::internal()),
                }
            }
        }
    }

    async fn handle<B>(&self, request: Request<B>) -> Result<Value, ApiError> {
        let now = self.clock.now();
        let address = request
            .extensions()
            .get::<ConnectionInfo>()
            .map(|c| c.remote_addr.ip());
        if !self.admit(address, now) {
            let wait = 60 - now.unix_seconds().rem_euclid(60);
            return Err(ApiError::too_many_requests(Duration::from_secs(
                u64::try_from(wait).unwrap_or(60),
            )));
        }
        let path = request.uri().path();
        let template = path
            .strip_prefix(&self.prefix)
            .and_then(|rest| ENDPOINTS.iter().find(|e| **e == rest))
            .copied()
            .ok_or_else(ApiError::not_found)?;
        if request.method() != Method::GET {
            return Err(ApiError::method_not_allowed());
        }
        let query: HashMap<String, String> =
            url::form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
                .into_owned()
                .collect();
        let page = PageRequest::parse(
            query.get("page").map(String::as_str),
            query.get("page-size").map(String::as_str),
            PagePolicy::DATA_API,
        )?;
        let data = self.catalogue(template).await?;
        let link = self
            .brand
            .api_url(template.trim_start_matches('/'))
            .map_err(|_| ApiError::internal())?;
        let (data, total) = match data {
            Value::Array(items) => {
                let total = items.len() as u64;
                let items: Vec<Value> = items
                    .into_iter()
                    .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
                    .take(page.page_size as usize)
                    .collect();
                (Value::Array(items), total)
            }
            object => (object, 1),
        };
        let totals = Totals::new(total, page.page_size);
        Ok(json!({
            "data": data,
            "links": Links::paged(&link, &page, totals),
            "meta": Meta::public_paged(totals),
        }))
    }
}

opus_fapi::http_service!(OpenDataApis, |apis| apis.inner.clone(), |inner, request| {
    let now = inner.clock.now();
    match inner.handle(request).await {
        Ok(body) => opus_fapi::json_ok(&body),
        // (`Retry-After` comes with the 429.)
        Err(e) => error_response(&e, now),
    }
});
