//! Open data (phase 1): every endpoint against its official schema, the
//! cache in front of the connector under a burst, the per-address rate
//! limit, paging and errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use opus_core::{AuthorisationServerId, Brand, BrandId, OrganisationId};
use opus_fapi::mtls::ConnectionInfo;
use opus_testkit::openapi::OpenApi;
use opus_testkit::{ManualClock, SyntheticOpenData};
use opus_transmitter::OpenDataApis;
use opus_transmitter::opendata::ENDPOINTS;
use serde_json::Value;
use tower::ServiceExt;
use url::Url;

/// The spec of `template`: its folder, version and path.
fn spec_of(template: &str) -> (&'static OpenApi, String) {
    static SPECS: OnceLock<Mutex<HashMap<String, &'static OpenApi>>> = OnceLock::new();
    let rest = template.strip_prefix("/open-banking/").unwrap();
    let family = rest.split('/').next().unwrap().to_owned();
    let version = if family.starts_with("opendata-") {
        "1.0.1"
    } else {
        "3.0.0"
    };
    let path = format!("/{}", rest.rsplit('/').next().unwrap());
    let mut specs = SPECS.get_or_init(Default::default).lock().unwrap();
    let spec = *specs
        .entry(family.clone())
        .or_insert_with(|| Box::leak(Box::new(OpenApi::load(&family, version).unwrap())));
    (spec, path)
}

#[track_caller]
fn conforms(template: &str, status: StatusCode, body: &Value) {
    let (spec, path) = spec_of(template);
    let problems = spec
        .response_problems("get", &path, status.as_u16(), body)
        .unwrap();
    assert!(
        problems.is_empty(),
        "{template} {status}: {problems:?}\n{body}"
    );
}

struct World {
    clock: Arc<ManualClock>,
    connector: Arc<SyntheticOpenData>,
    apis: OpenDataApis,
}

impl World {
    fn new(per_minute: u32) -> Self {
        let clock = Arc::new(ManualClock::new());
        let brand = Brand::builder(BrandId::new("banco-azul").unwrap())
            .display_name("Banco Azul")
            .organisation_id(OrganisationId::random())
            .authorisation_server_id(AuthorisationServerId::random())
            .issuer(Url::parse("https://auth.banco-azul.test/banco-azul").unwrap())
            .api_base_url(Url::parse("https://api.banco-azul.test/api").unwrap())
            .build()
            .unwrap();
        let connector = Arc::new(SyntheticOpenData::new());
        let apis = OpenDataApis::new(brand, connector.clone(), clock.clone())
            .with_freshness(Duration::from_secs(300))
            .with_rate_limit(per_minute);
        Self {
            clock,
            connector,
            apis,
        }
    }

    async fn get(&self, path: &str, from: [u8; 4]) -> (StatusCode, http::HeaderMap, Value) {
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(format!("/api{path}"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        request
            .extensions_mut()
            .insert(ConnectionInfo::new(SocketAddr::from((from, 50_000)), None));
        let response = self.apis.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, headers, serde_json::from_slice(&bytes).unwrap())
    }
}

#[tokio::test]
async fn every_open_data_endpoint_answers_its_schema() {
    let w = World::new(10_000);
    assert_eq!(w.connector.endpoints().len(), ENDPOINTS.len());
    for template in ENDPOINTS {
        let (status, _, body) = w.get(template, [127, 0, 0, 1]).await;
        assert_eq!(status, StatusCode::OK, "{template}: {body}");
        conforms(template, status, &body);
        assert!(
            body["links"]["self"].as_str().unwrap().ends_with(template),
            "{body}"
        );
    }
    // The brand's name where the catalogue names one.
    let (_, _, branches) = w
        .get("/open-banking/channels/v1/branches", [127, 0, 0, 1])
        .await;
    assert_eq!(branches["data"]["brand"]["name"], "banco-azul");
}

#[tokio::test]
async fn paging_and_errors_of_the_open_data_families() {
    let w = World::new(10_000);
    let template = "/open-banking/opendata-loans/v1/personal-loans";
    let (status, _, page) = w
        .get(&format!("{template}?page=1&page-size=1"), [127, 0, 0, 1])
        .await;
    assert_eq!(status, StatusCode::OK);
    conforms(template, status, &page);
    assert_eq!(page["meta"]["totalRecords"], 1);
    let (status, _, bad) = w
        .get(&format!("{template}?page-size=abc"), [127, 0, 0, 1])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    conforms(template, status, &bad);
    let (status, _, unknown) = w
        .get(
            "/open-banking/opendata-loans/v1/other-loans",
            [127, 0, 0, 1],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    conforms(template, status, &unknown);
    // The back office is down and nothing is cached yet: 504.
    w.connector.set_failing(true);
    let accounts = "/open-banking/opendata-accounts/v1/business-accounts";
    let (status, _, down) = w.get(accounts, [127, 0, 0, 1]).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    conforms(accounts, status, &down);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_calls_the_connector_once_per_freshness_window() {
    let w = Arc::new(World::new(10_000));
    let template = "/open-banking/products-services/v2/personal-accounts";
    let burst = |n: usize| {
        let w = w.clone();
        async move {
            let tasks: Vec<_> = (0..n)
                .map(|i| {
                    let w = w.clone();
                    tokio::spawn(async move {
                        w.get(template, [10, 0, (i / 250) as u8, (i % 250) as u8])
                            .await
                    })
                })
                .collect();
            for task in tasks {
                assert_eq!(task.await.unwrap().0, StatusCode::OK);
            }
        }
    };
    burst(200).await;
    assert_eq!(w.connector.calls(template), 1);
    w.clock.advance(Duration::from_secs(299));
    burst(50).await;
    assert_eq!(w.connector.calls(template), 1, "still fresh");
    w.clock.advance(Duration::from_secs(2));
    burst(200).await;
    assert_eq!(w.connector.calls(template), 2, "refreshed once");
    // A failing back office after that: the last catalogue is served.
    w.connector.set_failing(true);
    w.clock.advance(Duration::from_secs(301));
    let (status, _, _) = w.get(template, [127, 0, 0, 1]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_rate_limit_answers_429_without_calling_the_connector() {
    let w = World::new(5);
    let template = "/open-banking/opendata-creditcards/v1/personal-credit-cards";
    for _ in 0..5 {
        assert_eq!(w.get(template, [192, 0, 2, 1]).await.0, StatusCode::OK);
    }
    let calls = w.connector.calls(template);
    let (status, headers, body) = w.get(template, [192, 0, 2, 1]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    conforms(template, status, &body);
    assert!(headers.contains_key("retry-after"));
    // Another address is not limited; the connector was not asked for the 429.
    assert_eq!(w.get(template, [192, 0, 2, 2]).await.0, StatusCode::OK);
    assert_eq!(w.connector.calls(template), calls);
    // The next minute, the address may call again.
    w.clock.advance(Duration::from_secs(60));
    assert_eq!(w.get(template, [192, 0, 2, 1]).await.0, StatusCode::OK);
}
