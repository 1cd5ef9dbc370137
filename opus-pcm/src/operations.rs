//! Operations: the outage registry and call statistics turned into what
//! the governance reads and what the bank's operators need.
//!
//! - [`Operations`]: the figures — the status now, planned outages,
//!   availability per endpoint (the day's against 95 %, the quarter's
//!   against 99.5 %) and the 95th-percentile latency per API group.
//! - [`CommonApi`]: `GET /open-banking/discovery/v2/status` and `/outages`
//!   (Common API 2.0.1), public.
//! - [`AdminApi`]: `GET /open-banking/admin/v2/metrics` (Admin API 2.0.1),
//!   computed from the calls [`crate::PcmLayer`] recorded.
//! - [`BackOffice`]: the operators' JSON API (register a planned or
//!   unplanned outage, end it, read availability and latency) and the same
//!   figures as Prometheus text (`/metrics`), behind the bank's own
//!   [`OperatorAuthenticator`].
//!
//! Availability: downtime is what unplanned outages cover (whole or
//! partial, per endpoint); planned outages count as planned downtime only
//! between 01:00 and 07:00 (Brasília), and as downtime outside that window.
//! `uptimeRate` counts full outages only; `generalUptimeRate` counts partial
//! ones too.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use opus_core::envelope::{Links, Meta, PagePolicy, PageRequest, Totals};
use opus_core::store::{DailyCallStats, LATENCY_BUCKETS_MS, OutageRecord, StoreError};
use opus_core::{ApiError, Brand, Clock, Date, Timestamp};
use serde_json::{Value, json};

/// Where the Common API lives under the brand's API base.
pub const COMMON_BASE: &str = "open-banking/discovery/v2";
/// Where the Admin API lives under the brand's API base.
pub const ADMIN_BASE: &str = "open-banking/admin/v2";

/// The daily availability the rules require.
pub const DAILY_AVAILABILITY: f64 = 0.95;
/// The quarterly availability the rules require.
pub const QUARTERLY_AVAILABILITY: f64 = 0.995;

fn store_error(e: &StoreError) -> ApiError {
    tracing::warn!(error = %e, "operations store failed");
    ApiError::internal()
}

/// Seconds of downtime of one endpoint in a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Downtime {
    /// Unplanned, whole API (or planned outside 01:00–07:00).
    pub general: u64,
    /// Planned, within 01:00–07:00.
    pub scheduled: u64,
    /// Unplanned, of some endpoints only.
    pub partial: u64,
}

/// Availability of one endpoint in a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Availability {
    /// The downtime.
    pub downtime: Downtime,
    /// The window's length, in seconds.
    pub window: u64,
}

impl Availability {
    /// Up, counting whole outages only.
    pub fn uptime_rate(&self) -> f64 {
        rate(self.downtime.general, self.window)
    }

    /// Up, counting partial outages too.
    pub fn general_uptime_rate(&self) -> f64 {
        rate(self.downtime.general + self.downtime.partial, self.window)
    }
}

fn rate(down: u64, window: u64) -> f64 {
    if window == 0 {
        return 1.0;
    }
    (1.0 - down.min(window) as f64 / window as f64).clamp(0.0, 1.0)
}

/// The spec's rate form: `0.999999`.
fn rate_text(value: f64) -> String {
    format!("{:.6}", (value * 1e6).floor() / 1e6)
}

/// The seconds of `[from, to)` within 01:00–07:00 in Brasília (04:00–10:00 UTC).
fn within_planned_window(from: i64, to: i64) -> u64 {
    let mut total = 0;
    let day = 86_400;
    let mut start = from.div_euclid(day) * day;
    while start < to {
        let (a, b) = (start + 4 * 3600, start + 10 * 3600);
        let overlap = (to.min(b) - from.max(a)).max(0);
        total += overlap as u64;
        start += day;
    }
    total
}

/// The figures; see the module docs.
#[derive(Clone)]
pub struct Operations {
    brand: Brand,
    storage: opus_core::Storage,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Operations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operations")
            .field("brand", self.brand.id())
            .finish_non_exhaustive()
    }
}

/// The API group of an endpoint template (`accounts`, `payments`…; the
/// security endpoints are `security`).
pub fn api_group(endpoint: &str) -> String {
    endpoint
        .strip_prefix("/open-banking/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("security")
        .to_owned()
}

/// The 95th percentile of a latency histogram: the upper bound of the
/// bucket it falls in (milliseconds); `None` without calls.
pub fn p95(latency: &[u64; 12]) -> Option<u32> {
    let total: u64 = latency.iter().sum();
    if total == 0 {
        return None;
    }
    let target = (total * 95).div_ceil(100);
    let mut seen = 0;
    for (i, count) in latency.iter().enumerate() {
        seen += count;
        if seen >= target {
            return Some(LATENCY_BUCKETS_MS.get(i).copied().unwrap_or(u32::MAX));
        }
    }
    None
}

impl Operations {
    /// The figures of `brand` from `storage`.
    pub fn new(brand: Brand, storage: opus_core::Storage, clock: Arc<dyn Clock>) -> Self {
        Self {
            brand,
            storage,
            clock,
        }
    }

    /// Registers (or replaces) an outage.
    ///
    /// # Errors
    /// 500 when the store fails.
    pub async fn put_outage(&self, outage: &OutageRecord) -> Result<(), ApiError> {
        self.storage
            .operations
            .put_outage(outage)
            .await
            .map_err(|e| store_error(&e))
    }

    /// The outages in effect within `[from, to)`.
    ///
    /// # Errors
    /// 500 when the store fails.
    pub async fn outages(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<OutageRecord>, ApiError> {
        self.storage
            .operations
            .list_outages(self.brand.id(), from, to)
            .await
            .map_err(|e| store_error(&e))
    }

    /// The availability of `endpoint` within `[from, to)` (to at most now).
    ///
    /// # Errors
    /// 500 when the store fails.
    pub async fn availability(
        &self,
        endpoint: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Availability, ApiError> {
        let outages = self.outages(from, to).await?;
        Ok(availability_of(endpoint, &outages, from, to))
    }

    /// `data.status` of the Common API now.
    ///
    /// # Errors
    /// 500 when the store fails.
    pub async fn status(&self) -> Result<Vec<Value>, ApiError> {
        let now = self.clock.now();
        let current = self
            .outages(now, now.saturating_add(Duration::from_secs(1)))
            .await?;
        if current.is_empty() {
            return Ok(vec![json!({
                "code": "OK",
                "explanation": "Todos os serviços estão operando normalmente.",
            })]);
        }
        Ok(current
            .iter()
            .map(|o| {
                let code = match (o.scheduled, o.partial) {
                    (true, _) => "SCHEDULED_OUTAGE",
                    (false, true) => "PARTIAL_FAILURE",
                    (false, false) => "UNAVAILABLE",
                };
                let mut item = json!({
                    "code": code,
                    "explanation": o.explanation,
                    "expectedResolutionTime": o.ends_at.unwrap_or_else(|| now.saturating_add(Duration::from_secs(3600))),
                    "updateTime": now,
                });
                if !o.scheduled {
                    item["detectionTime"] = json!(o.starts_at);
                }
                if o.partial && !o.endpoints.is_empty() {
                    item["unavailableEndpoints"] = json!(o.endpoints);
                }
                item
            })
            .collect())
    }

    /// The statistics of the days `from..=to`.
    ///
    /// # Errors
    /// 500 when the store fails.
    pub async fn call_stats(&self, from: Date, to: Date) -> Result<Vec<DailyCallStats>, ApiError> {
        self.storage
            .operations
            .call_stats(self.brand.id(), from, to)
            .await
            .map_err(|e| store_error(&e))
    }

    /// Per endpoint: today's and this quarter's availability, and
    /// today's p95; per API group: today's p95.
    ///
    /// # Errors
    /// 500 when the store fails.
    pub async fn sla(&self) -> Result<Value, ApiError> {
        let now = self.clock.now();
        let today = now.date_in_brasilia();
        let day_start = start_of(today);
        let quarter = quarter_start(today);
        let stats = self.call_stats(today, today).await?;
        let outages = self.outages(start_of(quarter), now).await?;
        let mut groups: BTreeMap<String, [u64; 12]> = BTreeMap::new();
        let mut endpoints = Vec::new();
        for s in &stats {
            let group = groups.entry(api_group(&s.endpoint)).or_insert([0; 12]);
            for (slot, count) in group.iter_mut().zip(s.latency) {
                *slot += count;
            }
            let day = availability_of(&s.endpoint, &outages, day_start, now);
            let quarter = availability_of(&s.endpoint, &outages, start_of(quarter), now);
            endpoints.push(json!({
                "endpoint": s.endpoint,
                "invocations": s.invocations,
                "errors": s.errors,
                "p95Ms": p95(&s.latency),
                "dayAvailability": day.general_uptime_rate(),
                "dayTarget": DAILY_AVAILABILITY,
                "dayMet": day.general_uptime_rate() >= DAILY_AVAILABILITY,
                "quarterAvailability": quarter.general_uptime_rate(),
                "quarterTarget": QUARTERLY_AVAILABILITY,
                "quarterMet": quarter.general_uptime_rate() >= QUARTERLY_AVAILABILITY,
            }));
        }
        let groups: Vec<Value> = groups
            .iter()
            .map(|(group, latency)| json!({"group": group, "p95Ms": p95(latency)}))
            .collect();
        Ok(json!({"date": today, "endpoints": endpoints, "groups": groups}))
    }
}

/// 00:00 (Brasília) of `day`.
fn start_of(day: Date) -> Timestamp {
    Timestamp::parse(&format!("{day}T03:00:00Z")).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The first day of `day`'s quarter.
fn quarter_start(day: Date) -> Date {
    let month = (day.month() - 1) / 3 * 3 + 1;
    Date::from_calendar_date(day.year(), month, 1).unwrap_or(day)
}

fn availability_of(
    endpoint: &str,
    outages: &[OutageRecord],
    from: Timestamp,
    to: Timestamp,
) -> Availability {
    let (from_s, to_s) = (
        from.unix_seconds(),
        to.unix_seconds().max(from.unix_seconds()),
    );
    let mut downtime = Downtime::default();
    for o in outages {
        if o.partial && !o.endpoints.iter().any(|e| e == endpoint) {
            continue;
        }
        let start = o.starts_at.unix_seconds().max(from_s);
        let end = o.ends_at.map_or(to_s, |e| e.unix_seconds()).min(to_s);
        if end <= start {
            continue;
        }
        let length = (end - start) as u64;
        match (o.scheduled, o.partial) {
            (true, _) => {
                let planned = within_planned_window(start, end);
                downtime.scheduled += planned;
                downtime.general += length - planned;
            }
            (false, true) => downtime.partial += length,
            (false, false) => downtime.general += length,
        }
    }
    Availability {
        downtime,
        window: (to_s - from_s) as u64,
    }
}

// ---------------------------------------------------------------- HTTP

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn error_response(error: &ApiError, now: Timestamp) -> Response<Full<Bytes>> {
    error
        .to_public_http_response(now)
        .map(|b| Full::new(Bytes::from(b)))
}

fn query(request: &http::request::Parts) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(request.uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// One page of `items` with the public APIs' links and totals.
fn paged(
    items: Vec<Value>,
    query: &BTreeMap<String, String>,
    self_link: &url::Url,
) -> Result<Value, ApiError> {
    let request = PageRequest::parse(
        query.get("page").map(String::as_str),
        query.get("page-size").map(String::as_str),
        PagePolicy::DATA_API,
    )?;
    let total = items.len() as u64;
    let totals = Totals::new(total, request.page_size);
    let page: Vec<Value> = items
        .into_iter()
        .skip(usize::try_from(request.offset()).unwrap_or(usize::MAX))
        .take(request.page_size as usize)
        .collect();
    let links = Links::paged(self_link, &request, totals);
    Ok(json!({
        "data": page,
        "links": links,
        "meta": Meta::public_paged(totals),
    }))
}

/// `GET /open-banking/discovery/v2/status` and `/outages` of one brand.
#[derive(Clone, Debug)]
pub struct CommonApi {
    operations: Operations,
}

impl CommonApi {
    /// Over `operations`.
    pub fn new(operations: Operations) -> Self {
        Self { operations }
    }

    async fn handle<B>(&self, request: Request<B>) -> Result<Value, ApiError> {
        let ops = &self.operations;
        let (parts, _) = request.into_parts();
        if parts.method != Method::GET {
            return Err(ApiError::method_not_allowed());
        }
        let base = ops
            .brand
            .api_base_url()
            .path()
            .trim_end_matches('/')
            .to_owned();
        let path = parts.uri.path();
        let rest = path
            .strip_prefix(&format!("{base}/{COMMON_BASE}"))
            .ok_or_else(ApiError::not_found)?;
        let query = query(&parts);
        let link = ops
            .brand
            .api_url(&format!("{COMMON_BASE}{rest}"))
            .map_err(|_| ApiError::internal())?;
        match rest {
            "/status" => {
                let status = ops.status().await?;
                let mut body = paged(Vec::new(), &query, &link)?;
                body["data"] = json!({"status": status});
                body["meta"] = json!({"totalRecords": status.len(), "totalPages": 1});
                Ok(body)
            }
            "/outages" => {
                let now = ops.clock.now();
                let planned: Vec<Value> = ops
                    .outages(now, now.saturating_add(Duration::from_secs(90 * 86_400)))
                    .await?
                    .into_iter()
                    .filter(|o| o.scheduled)
                    .map(|o| {
                        let minutes = o
                            .ends_at
                            .map_or(60, |e| e.duration_since(o.starts_at).as_secs().div_ceil(60));
                        json!({
                            "outageTime": o.starts_at,
                            "duration": format!("PT{}H{}M", minutes / 60, minutes % 60),
                            "isPartial": o.partial,
                            "explanation": o.explanation,
                        })
                    })
                    .collect();
                paged(planned, &query, &link)
            }
            _ => Err(ApiError::not_found()),
        }
    }
}

/// `GET /open-banking/admin/v2/metrics?period=CURRENT|ALL` of one brand.
#[derive(Clone, Debug)]
pub struct AdminApi {
    operations: Operations,
}

impl AdminApi {
    /// Over `operations`.
    pub fn new(operations: Operations) -> Self {
        Self { operations }
    }

    async fn handle<B>(&self, request: Request<B>) -> Result<Value, ApiError> {
        let ops = &self.operations;
        let (parts, _) = request.into_parts();
        if parts.method != Method::GET {
            return Err(ApiError::method_not_allowed());
        }
        let base = ops
            .brand
            .api_base_url()
            .path()
            .trim_end_matches('/')
            .to_owned();
        if parts.uri.path() != format!("{base}/{ADMIN_BASE}/metrics") {
            return Err(ApiError::not_found());
        }
        let query = query(&parts);
        let all = match query.get("period").map(String::as_str) {
            None | Some("CURRENT") => false,
            Some("ALL") => true,
            Some(_) => return Err(ApiError::invalid_parameter("period")),
        };
        let now = ops.clock.now();
        let today = now.date_in_brasilia();
        let first = today.add_days(-7).unwrap_or(today);
        let stats = ops.call_stats(first, today).await?;
        let outages = ops.outages(start_of(first), now).await?;
        let mut by_endpoint: BTreeMap<&str, Vec<&DailyCallStats>> = BTreeMap::new();
        for s in &stats {
            by_endpoint.entry(&s.endpoint).or_default().push(s);
        }
        let mut items = Vec::new();
        for (endpoint, days) in by_endpoint {
            let on = |day: Date| days.iter().find(|s| s.day == day).copied();
            let previous: Vec<Date> = (1..=7).filter_map(|n| today.add_days(-n)).collect();
            let series = |f: &dyn Fn(&DailyCallStats, u64) -> u64| {
                let elapsed_today = now.duration_since(start_of(today)).as_secs().max(1);
                let current = on(today).map_or(0, |s| f(s, elapsed_today));
                let previous: Vec<u64> = if all {
                    previous
                        .iter()
                        .map(|d| on(*d).map_or(0, |s| f(s, 86_400)))
                        .collect()
                } else {
                    Vec::new()
                };
                json!({"currentDay": current, "previousDays": previous})
            };
            let day = availability_of(endpoint, &outages, start_of(today), now);
            // Full granularity, path variables without braces (a URI).
            let uri = ops
                .brand
                .api_url(&endpoint.trim_start_matches('/').replace(['{', '}'], ""))
                .map(|u| u.to_string())
                .map_err(|_| ApiError::internal())?;
            items.push(json!({
                "endpoint": uri,
                "requestTime": now,
                "availability": {
                    "uptime": {
                        "generalUptimeRate": rate_text(day.general_uptime_rate()),
                        "uptimeRate": rate_text(day.uptime_rate()),
                    },
                    "downtime": {
                        "generalDowntime": day.downtime.general,
                        "scheduledOutage": day.downtime.scheduled,
                        "partialDowntime": day.downtime.partial,
                    },
                },
                "invocations": series(&|s, _| s.invocations),
                "averageResponse": series(&|s, _| s.duration_ms_sum / s.invocations.max(1)),
                "averageTps": series(&|s, seconds| s.invocations / seconds.max(1)),
                "peakTps": series(&|s, _| s.peak_per_second),
                "errors": series(&|s, _| s.errors),
                "rejections": series(&|s, _| s.rejections),
            }));
        }
        let link = ops
            .brand
            .api_url(&format!("{ADMIN_BASE}/metrics"))
            .map_err(|_| ApiError::internal())?;
        paged(items, &query, &link)
    }
}

opus_fapi::http_service!(CommonApi, |api| api.clone(), |api, request| {
    let now = api.operations.clock.now();
    api.handle(request).await.map_or_else(
        |e| error_response(&e, now),
        |body| opus_fapi::json_ok(&body),
    )
});
opus_fapi::http_service!(AdminApi, |api| api.clone(), |api, request| {
    let now = api.operations.clock.now();
    api.handle(request).await.map_or_else(
        |e| error_response(&e, now),
        |body| opus_fapi::json_ok(&body),
    )
});

// ---------------------------------------------------------------- back office

/// An authenticated operator of the bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// Who, for the audit trail.
    pub name: String,
}

/// How the bank authenticates its operators (its own SSO, a gateway
/// header…).
#[async_trait::async_trait]
pub trait OperatorAuthenticator: Send + Sync + 'static {
    /// The operator behind `request`, or `None` (401).
    async fn authenticate(&self, request: &http::request::Parts) -> Option<Operator>;
}

/// The operators' JSON API, mounted at `prefix`:
/// `GET|POST {prefix}/outages`, `POST {prefix}/outages/{id}/end`,
/// `GET {prefix}/sla`, `GET {prefix}/metrics` (Prometheus text).
///
/// The Prometheus metrics, each labelled with `brand`:
///
/// | name | type | labels | what |
/// |---|---|---|---|
/// | `opus_calls_total` | counter | `endpoint` | calls served today |
/// | `opus_call_errors_total` | counter | `endpoint` | calls answered 5xx today |
/// | `opus_availability_ratio` | gauge | `endpoint`, `window` (`day`, `quarter`) | availability counting partial outages |
/// | `opus_latency_p95_milliseconds` | gauge | `group` | today's p95 (bucket upper bound) |
/// | `opus_pcm_reports_pending` | gauge | `topic` | metrics reports waiting in the outbox |
#[derive(Clone)]
pub struct BackOffice {
    operations: Operations,
    authenticator: Arc<dyn OperatorAuthenticator>,
    prefix: String,
}

impl std::fmt::Debug for BackOffice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackOffice")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn bad(detail: &'static str) -> ApiError {
    ApiError::new(
        opus_core::ApiErrorKind::BadRequest,
        "PARAMETRO_INVALIDO",
        "Parâmetro inválido.",
        detail,
    )
}

impl BackOffice {
    /// The back office of `operations` at `prefix` (e.g. `/ops`).
    pub fn new(
        operations: Operations,
        authenticator: Arc<dyn OperatorAuthenticator>,
        prefix: impl Into<String>,
    ) -> Self {
        Self {
            operations,
            authenticator,
            prefix: prefix.into().trim_end_matches('/').to_owned(),
        }
    }

    /// The figures as Prometheus text exposition.
    ///
    /// # Errors
    /// 500 when the store fails.
    pub async fn prometheus(&self) -> Result<String, ApiError> {
        let ops = &self.operations;
        let today = ops.clock.now().date_in_brasilia();
        let stats = ops.call_stats(today, today).await?;
        let sla = ops.sla().await?;
        let brand = ops.brand.id().as_str();
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, lines: Vec<(String, String)>| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            for (labels, value) in lines {
                out.push_str(&format!("{name}{{brand=\"{brand}\"{labels}}} {value}\n"));
            }
        };
        let label = |k: &str, v: &str| format!(",{k}=\"{}\"", v.replace('"', "'"));
        metric(
            "opus_calls_total",
            "counter",
            "Calls served today, by endpoint.",
            stats
                .iter()
                .map(|s| (label("endpoint", &s.endpoint), s.invocations.to_string()))
                .collect(),
        );
        metric(
            "opus_call_errors_total",
            "counter",
            "Calls answered 5xx today, by endpoint.",
            stats
                .iter()
                .map(|s| (label("endpoint", &s.endpoint), s.errors.to_string()))
                .collect(),
        );
        let endpoints = sla["endpoints"].as_array().cloned().unwrap_or_default();
        metric(
            "opus_availability_ratio",
            "gauge",
            "Availability today (window=day) and this quarter (window=quarter).",
            endpoints
                .iter()
                .flat_map(|e| {
                    let endpoint = e["endpoint"].as_str().unwrap_or_default().to_owned();
                    [
                        (
                            format!("{},window=\"day\"", label("endpoint", &endpoint)),
                            e["dayAvailability"].to_string(),
                        ),
                        (
                            format!("{},window=\"quarter\"", label("endpoint", &endpoint)),
                            e["quarterAvailability"].to_string(),
                        ),
                    ]
                })
                .collect(),
        );
        let mut pending = Vec::new();
        for topic in [
            crate::PRIVATE_TOPIC,
            crate::OPENDATA_TOPIC,
            crate::SINGLE_TOPIC,
        ] {
            let Ok(name) = opus_core::store::Topic::new(topic) else {
                continue;
            };
            let count = ops
                .storage
                .outbox
                .pending(&name)
                .await
                .map_err(|e| store_error(&e))?;
            pending.push((label("topic", topic), count.to_string()));
        }
        metric(
            "opus_pcm_reports_pending",
            "gauge",
            "Metrics reports waiting in the outbox, by topic.",
            pending,
        );
        let groups = sla["groups"].as_array().cloned().unwrap_or_default();
        metric(
            "opus_latency_p95_milliseconds",
            "gauge",
            "95th-percentile latency today, by API group (bucket upper bound).",
            groups
                .iter()
                .filter(|g| g["p95Ms"].is_number())
                .map(|g| {
                    (
                        label("group", g["group"].as_str().unwrap_or_default()),
                        g["p95Ms"].to_string(),
                    )
                })
                .collect(),
        );
        Ok(out)
    }

    async fn handle<B>(&self, request: Request<B>) -> Result<Response<Full<Bytes>>, ApiError>
    where
        B: http_body::Body + Send,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (parts, body) = request.into_parts();
        let Some(operator) = self.authenticator.authenticate(&parts).await else {
            return Err(ApiError::unauthorized());
        };
        let rest = parts
            .uri
            .path()
            .strip_prefix(&self.prefix)
            .ok_or_else(ApiError::not_found)?
            .to_owned();
        let ops = &self.operations;
        let now = ops.clock.now();
        let segments: Vec<&str> = rest.trim_matches('/').split('/').collect();
        match (&parts.method, segments.as_slice()) {
            (&Method::GET, ["outages"]) => {
                let list = ops
                    .outages(
                        now.saturating_sub(Duration::from_secs(90 * 86_400)),
                        now.saturating_add(Duration::from_secs(365 * 86_400)),
                    )
                    .await?;
                Ok(json_response(
                    StatusCode::OK,
                    &json!({"outages": list.iter().map(outage_json).collect::<Vec<_>>()}),
                ))
            }
            (&Method::POST, ["outages"]) => {
                let bytes = Limited::new(body, 64 * 1024)
                    .collect()
                    .await
                    .map_err(|_| bad("Corpo inválido."))?
                    .to_bytes();
                let input: Value =
                    serde_json::from_slice(&bytes).map_err(|_| bad("JSON inválido."))?;
                let outage = outage_from(&input, ops, now)?;
                ops.put_outage(&outage).await?;
                tracing::info!(operator = %operator.name, outage = %outage.id, scheduled = outage.scheduled, "outage registered");
                Ok(json_response(StatusCode::CREATED, &outage_json(&outage)))
            }
            (&Method::POST, ["outages", id, "end"]) => {
                let found = ops
                    .outages(
                        now.saturating_sub(Duration::from_secs(365 * 86_400)),
                        now.saturating_add(Duration::from_secs(365 * 86_400)),
                    )
                    .await?
                    .into_iter()
                    .find(|o| o.id == *id)
                    .ok_or_else(ApiError::not_found)?;
                let ended = OutageRecord {
                    ends_at: Some(now),
                    ..found
                };
                ops.put_outage(&ended).await?;
                tracing::info!(operator = %operator.name, outage = %ended.id, "outage ended");
                Ok(json_response(StatusCode::OK, &outage_json(&ended)))
            }
            (&Method::GET, ["sla"]) => Ok(json_response(StatusCode::OK, &ops.sla().await?)),
            (&Method::GET, ["metrics"]) => {
                let text = self.prometheus().await?;
                let mut response = Response::new(Full::new(Bytes::from(text)));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4"),
                );
                Ok(response)
            }
            (_, ["outages"] | ["sla"] | ["metrics"] | ["outages", _, "end"]) => {
                Err(ApiError::method_not_allowed())
            }
            _ => Err(ApiError::not_found()),
        }
    }
}

fn outage_json(o: &OutageRecord) -> Value {
    json!({
        "id": o.id,
        "scheduled": o.scheduled,
        "partial": o.partial,
        "startsAt": o.starts_at,
        "endsAt": o.ends_at,
        "explanation": o.explanation,
        "endpoints": o.endpoints,
    })
}

fn outage_from(input: &Value, ops: &Operations, now: Timestamp) -> Result<OutageRecord, ApiError> {
    let time = |name: &str| -> Result<Option<Timestamp>, ApiError> {
        match input.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_str()
                .and_then(|s| Timestamp::parse(s).ok())
                .map(Some)
                .ok_or_else(|| bad("Data e hora no formato YYYY-MM-DDTHH:MM:SSZ.")),
        }
    };
    let scheduled = input
        .get("scheduled")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let starts_at = time("startsAt")?.unwrap_or(now);
    let ends_at = time("endsAt")?;
    if scheduled && ends_at.is_none() {
        return Err(bad("Uma indisponibilidade programada tem fim."));
    }
    if ends_at.is_some_and(|e| e <= starts_at) {
        return Err(bad("O fim vem depois do início."));
    }
    let explanation = input
        .get("explanation")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|e| !e.is_empty() && e.chars().count() <= 2000)
        .ok_or_else(|| bad("Informe a explicação (até 2000 caracteres)."))?
        .to_owned();
    let endpoints: Vec<String> = input
        .get("endpoints")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let partial = !endpoints.is_empty();
    let id = input
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty() && id.len() <= 100)
        .map_or_else(
            || format!("outage-{}", starts_at.unix_millis()),
            str::to_owned,
        );
    Ok(OutageRecord {
        brand: ops.brand.id().clone(),
        id,
        scheduled,
        partial,
        starts_at,
        ends_at,
        explanation,
        endpoints,
    })
}

opus_fapi::http_service!(BackOffice, |office| office.clone(), |office, request| {
    let now = office.operations.clock.now();
    office
        .handle(request)
        .await
        .unwrap_or_else(|e| error_response(&e, now))
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p95_is_the_bound_of_its_bucket() {
        let mut latency = [0u64; 12];
        latency[0] = 90;
        latency[4] = 5;
        latency[7] = 5;
        assert_eq!(p95(&latency), Some(250));
        latency[7] = 6;
        assert_eq!(p95(&latency), Some(1500));
        assert_eq!(p95(&[0; 12]), None);
    }

    #[test]
    fn the_planned_window_is_01_to_07_in_brasilia() {
        // 2026-11-29T00:00:00Z .. +1 day: 04:00–10:00 UTC is 6 hours.
        let day = 1_795_910_400;
        assert_eq!(within_planned_window(day, day + 86_400), 6 * 3600);
        assert_eq!(within_planned_window(day + 9 * 3600, day + 11 * 3600), 3600);
        assert_eq!(rate_text(0.9999999), "0.999999");
        assert_eq!(rate_text(1.0), "1.000000");
    }
}
