//! Operations: the status and outages APIs and the admin metrics API
//! against the official schemas, availability and latency figures, and the
//! operators' back office.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use opus_core::store::CallSample;
use opus_core::{AuthorisationServerId, Brand, BrandId, Clock, OrganisationId, Storage};
use opus_pcm::operations::{
    AdminApi, BackOffice, CommonApi, Operations, Operator, OperatorAuthenticator,
};
use opus_store::MemoryStore;
use opus_testkit::ManualClock;
use opus_testkit::openapi::OpenApi;
use serde_json::{Value, json};
use tower::ServiceExt;
use url::Url;

fn common() -> &'static OpenApi {
    static SPEC: OnceLock<OpenApi> = OnceLock::new();
    SPEC.get_or_init(|| OpenApi::load("common", "2.0.1").unwrap())
}

fn admin() -> &'static OpenApi {
    static SPEC: OnceLock<OpenApi> = OnceLock::new();
    SPEC.get_or_init(|| OpenApi::load("admin", "2.0.1").unwrap())
}

#[track_caller]
fn conforms(spec: &OpenApi, path: &str, status: StatusCode, body: &Value) {
    let problems = spec
        .response_problems("get", path, status.as_u16(), body)
        .unwrap();
    assert!(problems.is_empty(), "{path} {status}: {problems:?}\n{body}");
}

/// Operators named by the `x-operator` header (the bank's SSO in real life).
struct HeaderOperator;

#[async_trait::async_trait]
impl OperatorAuthenticator for HeaderOperator {
    async fn authenticate(&self, request: &http::request::Parts) -> Option<Operator> {
        let name = request.headers.get("x-operator")?.to_str().ok()?;
        Some(Operator {
            name: name.to_owned(),
        })
    }
}

struct World {
    clock: Arc<ManualClock>,
    storage: Storage,
    brand: Brand,
    operations: Operations,
}

impl World {
    fn new() -> Self {
        let clock = Arc::new(ManualClock::new());
        let storage = Storage::from_backend(Arc::new(MemoryStore::new()));
        let brand = Brand::builder(BrandId::new("banco-azul").unwrap())
            .display_name("Banco Azul")
            .organisation_id(OrganisationId::random())
            .authorisation_server_id(AuthorisationServerId::random())
            .issuer(Url::parse("https://127.0.0.1/banco-azul").unwrap())
            .api_base_url(Url::parse("https://api.banco-azul.test/api").unwrap())
            .build()
            .unwrap();
        let operations = Operations::new(brand.clone(), storage.clone(), clock.clone());
        Self {
            clock,
            storage,
            brand,
            operations,
        }
    }

    async fn get<S>(&self, service: S, path: &str) -> (StatusCode, Value)
    where
        S: tower::Service<
                Request<Full<Bytes>>,
                Response = http::Response<Full<Bytes>>,
                Error = std::convert::Infallible,
            >,
    {
        self.send(service, Method::GET, path, None, true).await
    }

    async fn send<S>(
        &self,
        service: S,
        method: Method,
        path: &str,
        body: Option<Value>,
        operator: bool,
    ) -> (StatusCode, Value)
    where
        S: tower::Service<
                Request<Full<Bytes>>,
                Response = http::Response<Full<Bytes>>,
                Error = std::convert::Infallible,
            >,
    {
        let mut request = Request::builder().method(method).uri(path);
        if operator {
            request = request.header("x-operator", "ana");
        }
        let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let response = service
            .oneshot(request.body(Full::new(bytes)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, body)
    }

    fn office(&self) -> BackOffice {
        BackOffice::new(self.operations.clone(), Arc::new(HeaderOperator), "/ops")
    }

    async fn call(&self, endpoint: &str, at: Duration, ms: u32, status: u16) {
        self.storage
            .operations
            .record_call(&CallSample {
                brand: self.brand.id().clone(),
                endpoint: endpoint.to_owned(),
                at: self.clock.now().saturating_sub(at),
                duration_ms: ms,
                status,
            })
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn status_and_outages_follow_the_registry_and_the_schema() {
    let w = World::new();
    let api = CommonApi::new(w.operations.clone());
    let (status, body) = w
        .get(api.clone(), "/api/open-banking/discovery/v2/status")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    conforms(common(), "/status", status, &body);
    assert_eq!(body["data"]["status"][0]["code"], "OK");

    // An operator registers a partial failure, and a planned outage next week.
    let office = w.office();
    let (status, failure) = w
        .send(
            office.clone(),
            Method::POST,
            "/ops/outages",
            Some(json!({"explanation": "Falha no serviço de saldos.", "endpoints": ["/open-banking/accounts/v2/accounts/{accountId}/balances"]})),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{failure}");
    let starts = w
        .clock
        .now()
        .saturating_add(Duration::from_secs(7 * 86_400));
    let ends = starts.saturating_add(Duration::from_secs(2 * 3600 + 30 * 60));
    let (status, planned) = w
        .send(
            office.clone(),
            Method::POST,
            "/ops/outages",
            Some(json!({"id": "manutencao", "scheduled": true, "startsAt": starts, "endsAt": ends, "explanation": "Manutenção programada."})),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{planned}");
    let (_, body) = w
        .get(api.clone(), "/api/open-banking/discovery/v2/status")
        .await;
    conforms(common(), "/status", StatusCode::OK, &body);
    assert_eq!(body["data"]["status"][0]["code"], "PARTIAL_FAILURE");
    assert_eq!(
        body["data"]["status"][0]["unavailableEndpoints"][0],
        "/open-banking/accounts/v2/accounts/{accountId}/balances"
    );
    let (_, outages) = w
        .get(api.clone(), "/api/open-banking/discovery/v2/outages")
        .await;
    conforms(common(), "/outages", StatusCode::OK, &outages);
    assert_eq!(outages["data"][0]["duration"], "PT2H30M");
    assert_eq!(outages["meta"]["totalRecords"], 1);

    // Resolved; then the planned outage is in effect.
    let id = failure["id"].as_str().unwrap();
    let (status, _) = w
        .send(
            office.clone(),
            Method::POST,
            &format!("/ops/outages/{id}/end"),
            None,
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    w.clock.advance(Duration::from_secs(7 * 86_400 + 60));
    let (_, body) = w
        .get(api.clone(), "/api/open-banking/discovery/v2/status")
        .await;
    conforms(common(), "/status", StatusCode::OK, &body);
    assert_eq!(body["data"]["status"][0]["code"], "SCHEDULED_OUTAGE");

    // Errors are the spec's too.
    let (status, body) = w
        .get(
            api.clone(),
            "/api/open-banking/discovery/v2/outages?page-size=0",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    conforms(common(), "/outages", status, &body);
}

#[tokio::test]
async fn admin_metrics_count_the_calls_and_the_downtime() {
    let w = World::new();
    let balances = "/open-banking/accounts/v2/accounts/{accountId}/balances";
    // Today: 4 calls (one 500, one 429) in one second; yesterday: 2.
    for (ms, status) in [(80, 200), (120, 200), (900, 500), (5, 429)] {
        w.call(balances, Duration::ZERO, ms, status).await;
    }
    w.call("/token", Duration::from_secs(10), 30, 200).await;
    for _ in 0..2 {
        w.call(balances, Duration::from_secs(86_400), 100, 200)
            .await;
    }
    // An hour of unplanned outage this morning.
    let now = w.clock.now();
    w.operations
        .put_outage(&opus_core::store::OutageRecord {
            brand: w.brand.id().clone(),
            id: "queda".to_owned(),
            scheduled: false,
            partial: false,
            starts_at: now.saturating_sub(Duration::from_secs(3 * 3600)),
            ends_at: Some(now.saturating_sub(Duration::from_secs(2 * 3600))),
            explanation: "Queda do banco de dados.".to_owned(),
            endpoints: Vec::new(),
        })
        .await
        .unwrap();
    let api = AdminApi::new(w.operations.clone());
    let (status, body) = w
        .get(api.clone(), "/api/open-banking/admin/v2/metrics?period=ALL")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    conforms(admin(), "/metrics", status, &body);
    let items = body["data"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let item = items
        .iter()
        .find(|i| i["endpoint"].as_str().unwrap().ends_with("/balances"))
        .unwrap();
    assert_eq!(
        item["endpoint"],
        "https://api.banco-azul.test/api/open-banking/accounts/v2/accounts/accountId/balances"
    );
    assert_eq!(item["invocations"]["currentDay"], 4);
    assert_eq!(item["invocations"]["previousDays"][0], 2);
    assert_eq!(
        item["invocations"]["previousDays"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert_eq!(item["errors"]["currentDay"], 1);
    assert_eq!(item["rejections"]["currentDay"], 1);
    assert_eq!(item["peakTps"]["currentDay"], 4);
    assert_eq!(
        item["averageResponse"]["currentDay"],
        (80 + 120 + 900 + 5) / 4
    );
    assert_eq!(item["availability"]["downtime"]["generalDowntime"], 3600);
    // 12:00 UTC is 09:00 in Brasília: one hour down of nine.
    assert_eq!(item["availability"]["uptime"]["uptimeRate"], "0.888888");
    let (_, current) = w
        .get(
            api.clone(),
            "/api/open-banking/admin/v2/metrics?period=CURRENT&page-size=1",
        )
        .await;
    conforms(admin(), "/metrics", StatusCode::OK, &current);
    assert!(
        current["data"][0]["invocations"]["previousDays"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(current["meta"]["totalPages"], 2);
    assert!(current["links"]["next"].is_string());
    let (status, body) = w
        .get(api, "/api/open-banking/admin/v2/metrics?period=SEMPRE")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    conforms(admin(), "/metrics", status, &body);
}

#[tokio::test]
async fn the_back_office_reports_availability_latency_and_prometheus_figures() {
    let w = World::new();
    let office = w.office();
    let (status, _) = w
        .send(office.clone(), Method::GET, "/ops/sla", None, false)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = w
        .send(
            office.clone(),
            Method::POST,
            "/ops/outages",
            Some(json!({"scheduled": true, "explanation": "Sem fim."})),
            true,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a planned outage has an end"
    );
    for n in 0..100u32 {
        let ms = if n < 94 { 40 } else { 1200 };
        w.call(
            "/open-banking/accounts/v2/accounts",
            Duration::from_secs(u64::from(n)),
            ms,
            200,
        )
        .await;
    }
    w.call(
        "/open-banking/payments/v4/pix/payments",
        Duration::ZERO,
        300,
        201,
    )
    .await;
    // Two unplanned hours today: below 95 % for the day.
    let (status, _) = w
        .send(
            office.clone(),
            Method::POST,
            "/ops/outages",
            Some(json!({
                "startsAt": w.clock.now().saturating_sub(Duration::from_secs(4 * 3600)),
                "endsAt": w.clock.now().saturating_sub(Duration::from_secs(2 * 3600)),
                "explanation": "Queda geral."
            })),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, sla) = w
        .send(office.clone(), Method::GET, "/ops/sla", None, true)
        .await;
    assert_eq!(status, StatusCode::OK, "{sla}");
    let accounts = sla["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["endpoint"] == "/open-banking/accounts/v2/accounts")
        .unwrap();
    assert_eq!(accounts["invocations"], 100);
    assert_eq!(accounts["p95Ms"], 1500, "6 % of calls took 1.2 s");
    assert_eq!(accounts["dayMet"], false);
    let groups = sla["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    let (status, text) = w
        .send(office, Method::GET, "/ops/metrics", None, true)
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().unwrap();
    assert!(text.contains(
        "opus_calls_total{brand=\"banco-azul\",endpoint=\"/open-banking/accounts/v2/accounts\"} 100"
    ), "{text}");
    assert!(
        text.contains("opus_latency_p95_milliseconds{brand=\"banco-azul\",group=\"payments\"} 500"),
        "{text}"
    );
    assert!(text.contains("# TYPE opus_availability_ratio gauge"));
    assert!(
        text.contains("opus_pcm_reports_pending{brand=\"banco-azul\",topic=\"pcm-private\"} 0"),
        "{text}"
    );
}
