//! Metrics reporting against the mock collector: one SERVER report per
//! call served, CLIENT reports that pair with them, every report valid
//! against the PCM schema; 20,000 reports in four requests; an hour of
//! collector outage with a sender restart and lost answers in between, with
//! nothing lost and duplicates within the documented bound.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use opus_core::store::Topic;
use opus_core::{BrandId, Clock, Cnpj, OrganisationId, SoftwareStatementId, Storage};
use opus_fapi::mtls::ConnectionInfo;
use opus_pcm::{
    ClientCall, PcmError, PcmLayer, PcmReporter, PcmSender, PcmToken, PcmTransport, PrivateReport,
    Role, SenderPolicy,
};
use opus_store::MemoryStore;
use opus_testkit::{CollectorFault, ManualClock, MockPcmCollector, OfbSubject, TestPki};
use rustls::pki_types::CertificateDer;
use serde_json::{Value, json};
use tower::{Layer, ServiceExt};

/// The mock collector, in process.
struct InProcess(Arc<MockPcmCollector>);

#[async_trait]
impl PcmTransport for InProcess {
    async fn token(&self) -> Result<PcmToken, PcmError> {
        match self.0.token() {
            (200, body) => Ok(PcmToken {
                access_token: body["access_token"].as_str().unwrap().to_owned(),
                expires_in: Duration::from_secs(body["expires_in"].as_u64().unwrap()),
            }),
            (status, _) => Err(PcmError::Token(format!("status {status}"))),
        }
    }

    async fn post(
        &self,
        path: &str,
        token: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Vec<u8>), PcmError> {
        let (status, answer) = self.0.receive(path, Some(token), &body);
        Ok((status, serde_json::to_vec(&answer).unwrap()))
    }
}

struct World {
    clock: Arc<ManualClock>,
    storage: Storage,
    collector: Arc<MockPcmCollector>,
    bank: OrganisationId,
    reporter: PcmReporter,
}

impl World {
    fn new() -> Self {
        let clock = Arc::new(ManualClock::new());
        let storage = Storage::from_backend(Arc::new(MemoryStore::new()));
        let bank = OrganisationId::random();
        let reporter = PcmReporter::new(
            BrandId::new("banco-azul").unwrap(),
            bank,
            storage.clone(),
            clock.clone(),
        );
        let catalogue = reporter.catalogue();
        let collector = Arc::new(
            MockPcmCollector::new(
                catalogue.private_templates(),
                catalogue.opendata_templates(),
            )
            .unwrap(),
        );
        Self {
            clock,
            storage,
            collector,
            bank,
            reporter,
        }
    }

    fn sender(&self) -> PcmSender {
        PcmSender::new(
            self.storage.clone(),
            Arc::new(InProcess(self.collector.clone())),
            self.clock.clone(),
        )
    }

    fn report(&self, n: usize) -> PrivateReport {
        PrivateReport {
            fapi_interaction_id: Some(format!("00000000-0000-4000-8000-{n:012}")),
            endpoint: "/open-banking/accounts/v2/accounts/{accountId}".to_owned(),
            status_code: 200,
            http_method: "GET".to_owned(),
            correlation_id: None,
            timestamp: self.clock.now().to_rfc3339_millis(),
            process_timespan: 42,
            client_org_id: OrganisationId::random().to_string(),
            server_org_id: self.bank.to_string(),
            client_ss_id: None,
            endpoint_uri_prefix: None,
            additional_info: None,
            role: Role::Server,
        }
    }

    async fn pending(&self) -> u64 {
        self.storage
            .outbox
            .pending(&Topic::new(opus_pcm::PRIVATE_TOPIC).unwrap())
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn twenty_thousand_reports_leave_in_four_requests() {
    let w = World::new();
    for n in 0..20_000 {
        w.reporter.private(&w.report(n)).await;
    }
    let pass = w.sender().run_once().await.unwrap();
    assert_eq!(pass.accepted, 20_000, "{pass:?}");
    assert_eq!(w.collector.posts(), 4);
    assert_eq!(w.collector.reports().len(), 20_000);
    assert!(w.collector.discarded().is_empty());
    assert_eq!(w.pending().await, 0);
    assert_eq!(w.collector.tokens_issued(), 1);
}

#[tokio::test]
async fn an_hour_of_outage_and_a_restart_lose_nothing() {
    let w = World::new();
    let mut written = BTreeSet::new();
    for n in 0..300 {
        w.reporter.private(&w.report(n)).await;
        written.insert(n);
    }
    w.collector.set_fault(CollectorFault::Down);
    let first = w.sender();
    let mut retried = 0;
    for _ in 0..12 {
        let pass = first.run_once().await.unwrap();
        retried += pass.retried;
        w.clock.advance(Duration::from_secs(300));
    }
    assert!(retried >= 300, "retried through the outage: {retried}");
    assert!(w.collector.reports().is_empty());
    // A sender dies holding a claim; the next one starts afresh.
    let now = w.clock.now();
    let held = w
        .storage
        .outbox
        .claim(
            &Topic::new(opus_pcm::PRIVATE_TOPIC).unwrap(),
            100,
            now,
            now.saturating_add(Duration::from_secs(120)),
        )
        .await
        .unwrap();
    drop(first);
    for n in 300..400 {
        w.reporter.private(&w.report(n)).await;
        written.insert(n);
    }
    let second = w.sender();
    // Back, but the first answer is lost: that batch is taken twice.
    w.collector.set_fault(CollectorFault::LosesAnswers);
    w.clock.advance(Duration::from_secs(600));
    let lost = second.run_once().await.unwrap();
    assert!(lost.retried > 0, "{lost:?}");
    let lost_batch = w.collector.reports().len();
    w.collector.set_fault(CollectorFault::Up);
    for _ in 0..10 {
        w.clock.advance(Duration::from_secs(600));
        second.run_once().await.unwrap();
    }
    assert_eq!(w.pending().await, 0);
    let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
    for report in w.collector.reports() {
        let id = report["fapiInteractionId"].as_str().unwrap();
        let n: usize = id.rsplit('-').next().unwrap().parse().unwrap();
        *seen.entry(n).or_default() += 1;
    }
    let delivered: BTreeSet<usize> = seen.keys().copied().collect();
    assert_eq!(delivered, written, "every report delivered, none lost");
    let duplicates: usize = seen.values().map(|c| c - 1).sum();
    // The documented bound: one batch per lost answer (or dead sender).
    assert!(duplicates <= lost_batch, "{duplicates} > {lost_batch}");
    assert!(duplicates > 0, "the lost answer did cause duplicates");
    assert!(held.len() <= 100);
    assert!(w.collector.discarded().is_empty());
}

#[tokio::test]
async fn tokens_are_reused_batches_split_and_the_rate_capped() {
    let w = World::new();
    for n in 0..50 {
        w.reporter.private(&w.report(n)).await;
    }
    let sender = PcmSender::with_policy(
        w.storage.clone(),
        Arc::new(InProcess(w.collector.clone())),
        w.clock.clone(),
        SenderPolicy {
            batch: 10,
            max_requests_per_second: 2,
            ..SenderPolicy::default()
        },
    );
    let pass = sender.run_once().await.unwrap();
    assert_eq!((pass.posts, pass.accepted), (2, 20), "{pass:?}");
    w.clock.advance(Duration::from_secs(1));
    let pass = sender.run_once().await.unwrap();
    assert_eq!(pass.accepted, 20, "{pass:?}");
    w.clock.advance(Duration::from_secs(1));
    sender.run_once().await.unwrap();
    assert_eq!(w.pending().await, 0);
    assert_eq!(w.collector.tokens_issued(), 1, "one token for every pass");
    // Renewed when its six hours end.
    w.clock.advance(Duration::from_secs(6 * 3600));
    w.reporter.private(&w.report(99)).await;
    sender.run_once().await.unwrap();
    assert_eq!(w.collector.tokens_issued(), 2);
}

#[tokio::test]
async fn a_discarded_report_is_final_and_does_not_hold_the_others() {
    let w = World::new();
    let mut unlisted = w.report(1);
    unlisted.endpoint = "/open-banking/accounts/v9/accounts".to_owned();
    w.reporter.private(&unlisted).await;
    w.reporter.private(&w.report(2)).await;
    let pass = w.sender().run_once().await.unwrap();
    assert_eq!((pass.accepted, pass.discarded), (1, 1), "{pass:?}");
    assert_eq!(w.collector.discarded().len(), 1);
    assert_eq!(w.pending().await, 0);
}

/// A participant's client certificate on the connection.
fn connection(pki: &TestPki, org: OrganisationId) -> ConnectionInfo {
    let mut subject = OfbSubject::example("tpp.example", Cnpj::parse("11222333000181").unwrap());
    subject.organisation_id = org;
    let cert = pki.transport_certificate(&subject).unwrap();
    ConnectionInfo::new(
        SocketAddr::from(([127, 0, 0, 1], 40_000)),
        Some(Arc::new(
            cert.chain_der
                .iter()
                .cloned()
                .map(CertificateDer::from)
                .collect(),
        )),
    )
}

#[tokio::test]
async fn every_call_served_is_reported_once_and_pairs_with_its_client_report() {
    let w = World::new();
    let pki = TestPki::generate("Directory").unwrap();
    let tpp = OrganisationId::random();
    // The caller's side: its own reporter (same outbox here, for brevity).
    let caller = PcmReporter::new(
        BrandId::new("fintech").unwrap(),
        tpp,
        w.storage.clone(),
        w.clock.clone(),
    );
    let clock = w.clock.clone();
    // The API: answers the status named in the path's last segment, and
    // echoes the interaction id like the resource guard does.
    let api = tower::service_fn(move |request: Request<Full<Bytes>>| {
        let clock = clock.clone();
        async move {
            clock.advance(Duration::from_millis(35));
            let status: u16 = request
                .uri()
                .path()
                .rsplit('-')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(200);
            let mut response = Response::new(Full::new(Bytes::new()));
            *response.status_mut() = StatusCode::from_u16(status).unwrap();
            if let Some(id) = request.headers().get("x-fapi-interaction-id") {
                response
                    .headers_mut()
                    .insert("x-fapi-interaction-id", id.clone());
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let service = PcmLayer::new(w.reporter.clone()).layer(api);
    let calls = [
        (
            Method::GET,
            "/api/open-banking/accounts/v2/accounts/acc-200",
            true,
        ),
        (
            Method::GET,
            "/api/open-banking/accounts/v2/accounts/acc-404",
            true,
        ),
        (Method::POST, "/api/open-banking/consents/v3/consents", true),
        (
            Method::DELETE,
            "/api/open-banking/consents/v3/consents/urn:b:c-204",
            true,
        ),
        (Method::POST, "/banco-azul/token", true),
        (Method::POST, "/banco-azul/par", true),
        (Method::GET, "/banco-azul/jwks", false),
        (Method::GET, "/api/open-banking/accounts/v9/accounts", false),
    ];
    let mut answered = Vec::new();
    for (n, (method, path, reported)) in calls.iter().enumerate() {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(*path)
            .body(Full::new(Bytes::new()))
            .unwrap();
        // Half the calls come without an interaction id.
        if n % 2 == 0 {
            request.headers_mut().insert(
                "x-fapi-interaction-id",
                format!("11111111-0000-4000-8000-{n:012}").parse().unwrap(),
            );
        }
        request.extensions_mut().insert(connection(&pki, tpp));
        let started = w.clock.now();
        let response = service.clone().oneshot(request).await.unwrap();
        let id = response.headers()["x-fapi-interaction-id"]
            .to_str()
            .unwrap()
            .to_owned();
        if n % 2 == 0 {
            assert_eq!(id, format!("11111111-0000-4000-8000-{n:012}"));
        }
        answered.push((id.clone(), *reported));
        // The client's side of the same call.
        let url = url::Url::parse(&format!("https://api.banco.test{path}")).unwrap();
        caller
            .client_call(&ClientCall {
                url,
                method: method.clone(),
                status: Some(response.status().as_u16()),
                interaction_id: Some(id),
                started_at: started,
                finished_at: w.clock.now(),
                server_org_id: w.bank,
                software_statement_id: SoftwareStatementId::random(),
                additional_info: Default::default(),
                correlation_id: None,
            })
            .await;
    }
    // A client-side timeout: 408, no interaction id.
    caller
        .client_call(&ClientCall {
            url: url::Url::parse("https://api.banco.test/api/open-banking/resources/v3/resources")
                .unwrap(),
            method: Method::GET,
            status: None,
            interaction_id: None,
            started_at: w.clock.now(),
            finished_at: w.clock.now().saturating_add(Duration::from_secs(15)),
            server_org_id: w.bank,
            software_statement_id: SoftwareStatementId::random(),
            additional_info: Default::default(),
            correlation_id: None,
        })
        .await;
    w.sender().run_once().await.unwrap();
    assert!(
        w.collector.discarded().is_empty(),
        "{:?}",
        w.collector.discarded()
    );
    for (id, reported) in &answered {
        let servers = w.collector.reports_of("SERVER", id);
        assert_eq!(servers.len(), usize::from(*reported), "{id}");
        if *reported {
            assert!(w.collector.paired(id), "{id} pairs");
            let server = &servers[0];
            assert_eq!(server["clientOrgId"], tpp.to_string());
            assert_eq!(server["serverOrgId"], w.bank.to_string());
            assert!(server["timestamp"].as_str().unwrap().ends_with('Z'));
            assert_eq!(server["processTimespan"], 35);
        }
    }
    let templates: Vec<Value> = w
        .collector
        .reports()
        .iter()
        .filter(|r| r["role"] == "SERVER")
        .map(|r| json!([r["httpMethod"], r["endpoint"], r["statusCode"]]))
        .collect();
    assert_eq!(
        templates,
        vec![
            json!(["GET", "/open-banking/accounts/v2/accounts/{accountId}", 200]),
            json!(["GET", "/open-banking/accounts/v2/accounts/{accountId}", 404]),
            json!(["POST", "/open-banking/consents/v3/consents", 200]),
            json!([
                "DELETE",
                "/open-banking/consents/v3/consents/{consentId}",
                204
            ]),
            json!(["POST", "/token", 200]),
            json!(["POST", "/pushed-authorization-request", 200]),
        ]
    );
    let timeout = w
        .collector
        .reports()
        .into_iter()
        .find(|r| r["statusCode"] == 408)
        .expect("the timeout is reported");
    assert!(timeout.get("fapiInteractionId").is_none());
    assert_eq!(timeout["endpointUriPrefix"], "https://api.banco.test/api");
}

#[tokio::test]
async fn hybrid_flow_steps_are_reported_each_to_its_path() {
    use opus_fapi::server::flow::{Device, FlowEvent, FlowObserver, Waiting};
    let w = World::new();
    let brand = opus_core::Brand::builder(BrandId::new("banco-azul").unwrap())
        .display_name("Banco Azul")
        .organisation_id(w.bank)
        .authorisation_server_id(opus_core::AuthorisationServerId::random())
        .issuer(url::Url::parse("https://auth.banco-azul.com.br").unwrap())
        .api_base_url(url::Url::parse("https://api.banco-azul.com.br").unwrap())
        .build()
        .unwrap();
    let consent = opus_core::ConsentId::new("urn:bancoazul:c-1").unwrap();
    let device = Device::from_user_agent(Some(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15",
    ));
    for (n, event) in [
        FlowEvent::RedirectTarget {
            waiting: Waiting::UserAuthentication,
            authorization_endpoint: url::Url::parse(
                "https://auth.banco-azul.com.br/authorize?client_id=x",
            )
            .unwrap(),
        },
        FlowEvent::Authenticated,
        FlowEvent::RedirectToClient {
            callback: url::Url::parse("https://tpp.example.com.br/callback").unwrap(),
            authorised: false,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let at = w.clock.now().saturating_add(Duration::from_secs(n as u64));
        w.reporter
            .observe(&brand, &consent, &device, event, at)
            .await;
    }
    w.clock.advance(Duration::from_secs(5));
    let pass = w.sender().run_once().await.unwrap();
    assert_eq!(pass.accepted, 3, "{pass:?} {:?}", w.collector.discarded());
    let reports = w.collector.hybrid_flow_reports();
    let events: Vec<&str> = reports.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(
        events,
        [
            "server/redirect-target",
            "server/authenticated",
            "server/redirect-to-client"
        ]
    );
    assert_eq!(
        reports[0].1["uriAuthorizationEndpoint"],
        "https://auth.banco-azul.com.br/authorize"
    );
    assert_eq!(reports[1].1["os"], "ios");
    assert_eq!(reports[1].1["osVersion"], "17.5");
    assert_eq!(reports[2].1["type"], "REJECTED");
}

#[tokio::test]
async fn the_daily_consent_stock_counts_active_consents_and_unique_customers() {
    use opus_core::consent::{ConsentKind, ConsentStatus};
    use opus_core::seal::BlindIndex;
    use opus_core::store::{ClientRecord, ClientStatus, ConsentRecord};
    let w = World::new();
    let now = w.clock.now();
    let orgs = [OrganisationId::random(), OrganisationId::random()];
    for (n, org) in orgs.iter().enumerate() {
        w.storage
            .clients
            .insert_client(&ClientRecord {
                brand: BrandId::new("banco-azul").unwrap(),
                client_id: opus_core::ClientId::new(format!("client-{n}")).unwrap(),
                organisation_id: *org,
                software_statement_id: SoftwareStatementId::random(),
                status: ClientStatus::Active,
                version: 0,
                created_at: now,
                updated_at: now,
                registration_access_token: None,
                metadata: "{}".to_owned(),
            })
            .await
            .unwrap();
    }
    let index = |n: u8| BlindIndex::from_bytes([n; 32]);
    let sealer = opus_core::seal::Sealer::open_or_create(
        Arc::new(opus_testkit::TestKeyCustody::new("seal")),
        w.storage.data_keys.clone(),
        w.clock.clone(),
    )
    .await
    .unwrap();
    let brand = BrandId::new("banco-azul").unwrap();
    let opaque = sealer
        .seal_json(
            &opus_core::seal::SealContext::new("test", &brand, "x"),
            &"opaque",
        )
        .unwrap();
    // (client, status, subject, company, expires in seconds)
    let consents = [
        (0, ConsentStatus::Authorised, 1, None, Some(86_400 * 30)),
        (0, ConsentStatus::Authorised, 1, None, None),
        (0, ConsentStatus::Authorised, 2, Some(9), Some(86_400 * 30)),
        (1, ConsentStatus::Authorised, 3, None, Some(86_400 * 30)),
        (1, ConsentStatus::Authorised, 4, None, Some(60)),
        (1, ConsentStatus::Rejected, 5, None, None),
    ];
    for (n, (client, status, subject, company, expires)) in consents.into_iter().enumerate() {
        w.storage
            .consents
            .insert_consent(
                &ConsentRecord {
                    brand: BrandId::new("banco-azul").unwrap(),
                    id: opus_core::ConsentId::new(format!("urn:bancoazul:{n}")).unwrap(),
                    kind: ConsentKind::Data,
                    client_id: opus_core::ClientId::new(format!("client-{client}")).unwrap(),
                    status,
                    version: 0,
                    created_at: now,
                    status_updated_at: now,
                    expires_at: expires.map(|s| now.saturating_add(Duration::from_secs(s))),
                    subject: Some(index(subject)),
                    business_entity: company.map(index),
                    body: opaque.clone(),
                },
                &[],
            )
            .await
            .unwrap();
    }
    let path = "/report-api/v1/consents-stock";
    w.collector.accept_path(path);
    let today = now.date_in_brasilia();
    let body = w.reporter.consent_stock(today, path).await.unwrap();
    assert_eq!(body["scope"], "DADOS");
    assert_eq!(body["role"], "SERVER");
    // Expired before the day ended: consent 4; rejected: consent 5.
    assert_eq!(body["totalCustomerPF"], 2, "{body}");
    assert_eq!(body["totalCustomerPJ"], 1, "{body}");
    let list = body["consentsStockList"].as_array().unwrap();
    let total = |org: &OrganisationId| {
        list.iter()
            .find(|i| i["clientOrgId"] == org.to_string())
            .map(|i| i["totalActiveConsents"].clone())
    };
    assert_eq!(total(&orgs[0]), Some(json!(3)));
    assert_eq!(total(&orgs[1]), Some(json!(1)));
    let pass = w.sender().run_once().await.unwrap();
    assert_eq!(pass.accepted, 1, "{pass:?}");
    assert_eq!(w.collector.other_reports()[0].1, body);
}
