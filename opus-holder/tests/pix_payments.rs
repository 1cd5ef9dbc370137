//! Pix payments (Payments API 4.0.0) behind the resource guard over the
//! simulated SPI: signed bodies, idempotency, matching the consent, atomic
//! consumption (one process and two instances on one PostgreSQL), statuses
//! and scheduling; every payload checked against the official OpenAPI file.
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use opus_consent::PaymentConsentAuthorisation;
use opus_core::connector::PixRejectionCode;
use opus_core::consent::ConsentStatus;
use opus_core::interaction::{Acr, ConsentAuthorisation, InteractionApproval};
use opus_core::keys::{KeyCustody, KeyPurpose};
use opus_core::{ClientId, Clock, Cnpj, ConsentId, Cpf, ResourceId, Storage};
use opus_fapi::jose::jws::{self};
use opus_fapi::mtls::ConnectionInfo;
use opus_holder::BASE_PATH;
use opus_store::MemoryStore;
use opus_testkit::bank::MARIA_CPF;
use opus_testkit::openapi::OpenApi;
use opus_testkit::{OfbSubject, SpiBehaviour, TestPki};
use rustls::pki_types::CertificateDer;
use serde_json::{Value, json};
use url::Url;

use support::{Answer, Api, Instance, World};

fn spec() -> &'static OpenApi {
    static SPEC: OnceLock<OpenApi> = OnceLock::new();
    SPEC.get_or_init(|| OpenApi::load("payments", "4.0.0").unwrap())
}

#[track_caller]
fn conforms(method: &str, template: &str, status: StatusCode, body: &Value) {
    let problems = spec()
        .response_problems(method, template, status.as_u16(), body)
        .unwrap();
    assert!(
        problems.is_empty(),
        "{method} {template} {status}: {problems:?}\n{body}"
    );
}

struct Fixture {
    world: Arc<World>,
    one: Instance,
}

fn today(world: &World, offset: i64) -> String {
    world
        .clock
        .now()
        .date_in_brasilia()
        .add_days(offset)
        .unwrap()
        .to_string()
}

fn consent_data(world: &World, schedule: Option<Value>) -> Value {
    let mut payment = json!({
        "type": "PIX",
        "currency": "BRL",
        "amount": "250.00",
        "details": {
            "localInstrument": "DICT",
            "proxy": "joao@example.com",
            "creditorAccount": {"ispb": "12345678", "issuer": "1774", "number": "1234567890", "accountType": "CACC"}
        }
    });
    match schedule {
        Some(s) => payment["schedule"] = s,
        None => payment["date"] = json!(today(world, 0)),
    }
    json!({
        "loggedUser": {"document": {"identification": MARIA_CPF, "rel": "CPF"}},
        "creditor": {"personType": "PESSOA_NATURAL", "cpfCnpj": "11144477735", "name": "João Souza"},
        "payment": payment,
    })
}

/// An `endToEndId` for `date` (`yyyy-mm-dd`).
fn end_to_end(date: &str, n: u32) -> String {
    let compact: String = date.chars().filter(char::is_ascii_digit).collect();
    format!("E12345678{compact}1500{n:011}")
}

impl Instance {
    /// An authorised consent of `data`, the customer paying from her
    /// checking account (filled in by the consent port).
    async fn authorised_consent(&self, world: &World, data: &Value) -> ConsentId {
        let consent = self
            .consents
            .create(
                world.brand.id(),
                &ClientId::new("itp-client").unwrap(),
                data,
            )
            .await
            .unwrap();
        let port = PaymentConsentAuthorisation::new(self.consents.clone())
            .with_debtor_accounts(world.bank.clone());
        let approval = InteractionApproval {
            subject: Cpf::parse(MARIA_CPF).unwrap(),
            business_entity: None,
            acr: Acr::Loa2,
            auth_time: world.clock.now(),
            resources: vec![ResourceId::new("acc-maria-corrente").unwrap()],
        };
        port.authorise(
            world.brand.id(),
            &consent.id,
            &ClientId::new("itp-client").unwrap(),
            &approval,
        )
        .await
        .unwrap()
        .unwrap();
        consent.id
    }

    async fn token(&self, world: &World, consent: Option<&ConsentId>) -> String {
        let scope = match consent {
            Some(c) => format!("openid payments consent:{c}"),
            None => "payments".to_owned(),
        };
        self.token_with(world, consent, scope).await
    }

    async fn call(
        &self,
        world: &World,
        method: Method,
        path: &str,
        token: &str,
        body: Option<String>,
        key: Option<&str>,
    ) -> Answer {
        self.call_api(world, Api::Payments, method, path, token, body, key)
            .await
    }

    /// `POST /pix/payments` of `payments` for `consent`, signed by the initiator.
    async fn pay(&self, world: &World, consent: &ConsentId, payments: Value, key: &str) -> Answer {
        let token = self.token(world, Some(consent)).await;
        let claims = json!({
            "data": payments,
            "iss": world.itp_org.to_string(),
            "aud": world.brand.api_url(BASE_PATH).unwrap().to_string(),
            "iat": world.clock.now().unix_seconds(),
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let signer = world.itp.signer(KeyPurpose::MessageSigning).await.unwrap();
        let jwt = jws::sign_claims(signer.as_ref(), Some("JWT"), &claims)
            .await
            .unwrap();
        self.call(world, Method::POST, "", &token, Some(jwt), Some(key))
            .await
    }

    /// `PATCH /pix/payments/{id}` cancelling it, signed by the initiator.
    async fn cancel(&self, world: &World, id: &str) -> Answer {
        let token = self.token(world, None).await;
        let claims = json!({
            "data": {"status": "CANC", "cancellation": {"cancelledBy": {"document": {"identification": MARIA_CPF, "rel": "CPF"}}}},
            "iss": world.itp_org.to_string(),
            "aud": world.brand.api_url(&format!("{BASE_PATH}/{id}")).unwrap().to_string(),
            "iat": world.clock.now().unix_seconds(),
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let signer = world.itp.signer(KeyPurpose::MessageSigning).await.unwrap();
        let jwt = jws::sign_claims(signer.as_ref(), Some("JWT"), &claims)
            .await
            .unwrap();
        self.call(
            world,
            Method::PATCH,
            &format!("/{id}"),
            &token,
            Some(jwt),
            None,
        )
        .await
    }

    /// `PATCH /pix/payments/consents/{consent}` cancelling every payment
    /// that can still be cancelled, signed by the initiator.
    async fn cancel_consent(&self, world: &World, consent: &str, key: &str) -> Answer {
        let token = self.token(world, None).await;
        let path = format!("/consents/{consent}");
        let claims = json!({
            "data": {"status": "CANC", "cancellation": {"cancelledBy": {"document": {"identification": MARIA_CPF, "rel": "CPF"}}}},
            "iss": world.itp_org.to_string(),
            "aud": world.brand.api_url(&format!("{BASE_PATH}{path}")).unwrap().to_string(),
            "iat": world.clock.now().unix_seconds(),
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let signer = world.itp.signer(KeyPurpose::MessageSigning).await.unwrap();
        let jwt = jws::sign_claims(signer.as_ref(), Some("JWT"), &claims)
            .await
            .unwrap();
        self.call(world, Method::PATCH, &path, &token, Some(jwt), Some(key))
            .await
    }

    async fn consent_status(&self, world: &World, id: &ConsentId) -> ConsentStatus {
        self.consents
            .find(world.brand.id(), id)
            .await
            .unwrap()
            .status
    }
}

fn payment(date: &str, n: u32) -> Value {
    json!({
        "endToEndId": end_to_end(date, n),
        "localInstrument": "DICT",
        "payment": {"amount": "250.00", "currency": "BRL"},
        "creditorAccount": {"ispb": "12345678", "issuer": "1774", "number": "1234567890", "accountType": "CACC"},
        "proxy": "joao@example.com",
        "cnpjInitiator": "11222333000181",
        "remittanceInformation": "Aluguel",
    })
}

impl Fixture {
    async fn new() -> Self {
        let world = World::new().await;
        let one = world
            .instance(Storage::from_backend(Arc::new(MemoryStore::new())), true)
            .await;
        Self { world, one }
    }
}

#[tokio::test]
async fn an_immediate_payment_consumes_its_consent_and_settles() {
    let f = Fixture::new().await;
    let w = &f.world;
    let consent = f.one.authorised_consent(w, &consent_data(w, None)).await;
    let items = json!([payment(&today(w, 0), 1)]);
    assert!(
        spec()
            .request_problems("post", "/pix/payments", &json!({"data": items}))
            .unwrap()
            .is_empty()
    );
    let created = f.one.pay(w, &consent, items, "pay-0001").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.signed);
    conforms("post", "/pix/payments", created.status, &created.body);
    let item = &created.body["data"][0];
    assert_eq!(item["status"], "ACSC");
    assert_eq!(item["consentId"], consent.as_str());
    assert_eq!(
        item["debtorAccount"]["number"], "94088392",
        "the account the customer chose"
    );
    assert_eq!(
        f.one.consent_status(w, &consent).await,
        ConsentStatus::Consumed
    );
    let orders = w.spi.orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].debtor.as_str(), MARIA_CPF);

    let id = item["paymentId"].as_str().unwrap();
    let cc = f.one.token(w, None).await;
    let read = f
        .one
        .call(w, Method::GET, &format!("/{id}"), &cc, None, None)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    conforms("get", "/pix/payments/{paymentId}", read.status, &read.body);
    assert_eq!(read.body["data"]["status"], "ACSC");

    // Same key and payments again: the same payment, nothing new.
    let again = f
        .one
        .pay(w, &consent, json!([payment(&today(w, 0), 1)]), "pay-0001")
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(again.body["data"][0]["paymentId"], item["paymentId"]);
    assert_eq!(w.spi.orders().len(), 1);
    // Another key: the consent is spent.
    let spent = f
        .one
        .pay(w, &consent, json!([payment(&today(w, 0), 2)]), "pay-0002")
        .await;
    assert_eq!(spent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(spent.signed);
    assert_eq!(spent.body["errors"][0]["code"], "CONSENTIMENTO_INVALIDO");
    conforms("post", "/pix/payments", spent.status, &spent.body);
}

#[tokio::test]
async fn payments_that_diverge_from_their_consent_are_refused_and_consume_nothing() {
    let f = Fixture::new().await;
    let w = &f.world;
    let consent = f.one.authorised_consent(w, &consent_data(w, None)).await;
    let mut more = payment(&today(w, 0), 1);
    more["payment"]["amount"] = json!("250.01");
    let mut elsewhere = payment(&today(w, 0), 1);
    elsewhere["creditorAccount"]["number"] = json!("999");
    let mut manual = payment(&today(w, 0), 1);
    manual["localInstrument"] = json!("MANU");
    let mut bad_id = payment(&today(w, 0), 1);
    bad_id["endToEndId"] = json!("E123");
    for (n, (items, code)) in [
        (json!([more]), "PAGAMENTO_DIVERGENTE_CONSENTIMENTO"),
        (json!([elsewhere]), "PAGAMENTO_DIVERGENTE_CONSENTIMENTO"),
        (json!([manual]), "PAGAMENTO_DIVERGENTE_CONSENTIMENTO"),
        (json!([bad_id]), "PARAMETRO_INVALIDO"),
        (
            json!([payment(&today(w, 0), 1), payment(&today(w, 0), 2)]),
            "PARAMETRO_INVALIDO",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = f.one.pay(w, &consent, items, &format!("bad-{n}")).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            answer.body
        );
        assert_eq!(answer.body["errors"][0]["code"], code);
        conforms("post", "/pix/payments", answer.status, &answer.body);
    }
    // A business refusal keeps its key: the same request is refused the
    // same way, a corrected one under that key is an idempotency error.
    let mut more = payment(&today(w, 0), 1);
    more["payment"]["amount"] = json!("250.01");
    let again = f.one.pay(w, &consent, json!([more]), "bad-0").await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.signed);
    assert_eq!(
        again.body["errors"][0]["code"],
        "PAGAMENTO_DIVERGENTE_CONSENTIMENTO"
    );
    let corrected = f
        .one
        .pay(w, &consent, json!([payment(&today(w, 0), 1)]), "bad-0")
        .await;
    assert_eq!(corrected.body["errors"][0]["code"], "ERRO_IDEMPOTENCIA");
    conforms("post", "/pix/payments", corrected.status, &corrected.body);
    assert_eq!(
        f.one.consent_status(w, &consent).await,
        ConsentStatus::Authorised
    );
    assert!(w.spi.orders().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_payments_racing_for_one_consent_one_wins() {
    let f = Arc::new(Fixture::new().await);
    let consent = f
        .one
        .authorised_consent(&f.world, &consent_data(&f.world, None))
        .await;
    let mut tasks = Vec::new();
    for n in 0..2 {
        let (f, consent) = (f.clone(), consent.clone());
        tasks.push(tokio::spawn(async move {
            let items = json!([payment(&today(&f.world, 0), n)]);
            let answer = f
                .one
                .pay(&f.world, &consent, items, &format!("race-{n}"))
                .await;
            (answer.status, answer.body)
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let created = outcomes
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{outcomes:?}");
    let refused = outcomes
        .iter()
        .find(|(s, _)| *s != StatusCode::CREATED)
        .unwrap();
    assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.1["errors"][0]["code"], "CONSENTIMENTO_INVALIDO");
    let stored = f
        .one
        .storage
        .payments
        .list_payments_by_consent(f.world.brand.id(), &consent)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_posts_with_one_idempotency_key_make_one_payment() {
    let f = Arc::new(Fixture::new().await);
    let consent = f
        .one
        .authorised_consent(&f.world, &consent_data(&f.world, None))
        .await;
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let (f, consent) = (f.clone(), consent.clone());
        tasks.push(tokio::spawn(async move {
            let items = json!([payment(&today(&f.world, 0), 7)]);
            let answer = f.one.pay(&f.world, &consent, items, "one-key").await;
            (answer.status, answer.body["data"][0]["paymentId"].clone())
        }));
    }
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        let (status, id) = t.await.unwrap();
        match status {
            StatusCode::CREATED => {
                ids.insert(id.as_str().unwrap().to_owned());
            }
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ids.len(), 1);
    let stored = f
        .one
        .storage
        .payments
        .list_payments_by_consent(f.world.brand.id(), &consent)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(f.world.spi.orders().len(), 1);
}

#[tokio::test]
async fn spi_rejections_and_outages_give_rjct_and_pdng() {
    let f = Fixture::new().await;
    let w = &f.world;
    w.spi
        .set(SpiBehaviour::Reject(PixRejectionCode::SaldoInsuficiente));
    let consent = f.one.authorised_consent(w, &consent_data(w, None)).await;
    let rejected = f
        .one
        .pay(w, &consent, json!([payment(&today(w, 0), 1)]), "rjct")
        .await;
    assert_eq!(rejected.status, StatusCode::CREATED);
    conforms("post", "/pix/payments", rejected.status, &rejected.body);
    assert_eq!(rejected.body["data"][0]["status"], "RJCT");
    assert_eq!(
        rejected.body["data"][0]["rejectionReason"]["code"],
        "SALDO_INSUFICIENTE"
    );
    w.spi.set(SpiBehaviour::Outage);
    let consent = f.one.authorised_consent(w, &consent_data(w, None)).await;
    let pending = f
        .one
        .pay(w, &consent, json!([payment(&today(w, 0), 2)]), "pdng")
        .await;
    assert_eq!(pending.status, StatusCode::CREATED);
    assert_eq!(pending.body["data"][0]["status"], "PDNG");

    // Reading a payment the back office has not finished with asks it
    // again: still down, then back (the order is submitted again), then
    // pending at the SPI, then settled.
    let id = pending.body["data"][0]["paymentId"].as_str().unwrap();
    let cc = f.one.token(w, None).await;
    let read = async || {
        f.one
            .call(w, Method::GET, &format!("/{id}"), &cc, None, None)
            .await
    };
    assert_eq!(read().await.body["data"]["status"], "PDNG");
    assert!(w.spi.orders().iter().all(|o| o.payment_id.as_str() != id));
    w.spi.set(SpiBehaviour::Pending);
    let answer = read().await;
    conforms(
        "get",
        "/pix/payments/{paymentId}",
        answer.status,
        &answer.body,
    );
    assert_eq!(answer.body["data"]["status"], "ACPD");
    assert!(w.spi.orders().iter().any(|o| o.payment_id.as_str() == id));
    w.spi.set(SpiBehaviour::Settle);
    assert_eq!(read().await.body["data"]["status"], "ACSC");
    // Final: not asked again.
    w.spi.set(SpiBehaviour::Outage);
    assert_eq!(read().await.body["data"]["status"], "ACSC");
}

#[tokio::test]
async fn a_scheduled_payment_waits_then_settles_on_its_date() {
    let f = Fixture::new().await;
    let w = &f.world;
    let date = today(w, 3);
    let consent = f
        .one
        .authorised_consent(w, &consent_data(w, Some(json!({"single": {"date": date}}))))
        .await;
    let created = f
        .one
        .pay(w, &consent, json!([payment(&date, 1)]), "sched")
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    conforms("post", "/pix/payments", created.status, &created.body);
    assert_eq!(created.body["data"][0]["status"], "SCHD");
    assert!(w.spi.orders().is_empty());
    let due = w.clock.now().date_in_brasilia().add_days(3).unwrap();
    assert_eq!(
        f.one
            .api
            .settle_due(due.add_days(-1).unwrap())
            .await
            .unwrap(),
        0
    );
    w.clock.advance(Duration::from_secs(3 * 86_400));
    assert_eq!(f.one.api.settle_due(due).await.unwrap(), 1);
    let id = created.body["data"][0]["paymentId"].as_str().unwrap();
    let cc = f.one.token(w, None).await;
    let read = f
        .one
        .call(w, Method::GET, &format!("/{id}"), &cc, None, None)
        .await;
    assert_eq!(read.body["data"]["status"], "ACSC", "{}", read.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgresql_consume_a_consent_once() {
    let Some(url) = support::postgres_url() else {
        return;
    };
    let schema = format!("opus_pix_{}", uuid::Uuid::new_v4().simple());
    let world = World::new().await;
    let a = Arc::new(
        world
            .instance(support::postgres(&url, &schema, true).await, true)
            .await,
    );
    let b = Arc::new(
        world
            .instance(support::postgres(&url, &schema, false).await, false)
            .await,
    );
    for round in 0..5 {
        let consent = a
            .authorised_consent(&world, &consent_data(&world, None))
            .await;
        let mut tasks = Vec::new();
        for (n, instance) in [a.clone(), b.clone()].into_iter().enumerate() {
            let (world, consent) = (world.clone(), consent.clone());
            tasks.push(tokio::spawn(async move {
                let items = json!([payment(&today(&world, 0), u32::try_from(n).unwrap())]);
                instance
                    .pay(&world, &consent, items, &format!("replica-{round}-{n}"))
                    .await
                    .status
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == StatusCode::CREATED)
                .count(),
            1,
            "round {round}: {statuses:?}"
        );
        assert_eq!(
            b.storage
                .payments
                .list_payments_by_consent(world.brand.id(), &consent)
                .await
                .unwrap()
                .len(),
            1
        );
    }
}

#[tokio::test]
async fn a_scheduled_payment_can_be_cancelled_a_settled_one_cannot() {
    let f = Fixture::new().await;
    let w = &f.world;
    let date = today(w, 5);
    let consent = f
        .one
        .authorised_consent(w, &consent_data(w, Some(json!({"single": {"date": date}}))))
        .await;
    let created = f
        .one
        .pay(w, &consent, json!([payment(&date, 1)]), "canc")
        .await;
    let id = created.body["data"][0]["paymentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let cancelled = f.one.cancel(w, &id).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert!(cancelled.signed);
    conforms(
        "patch",
        "/pix/payments/{paymentId}",
        cancelled.status,
        &cancelled.body,
    );
    assert_eq!(cancelled.body["data"]["status"], "CANC");
    assert_eq!(
        cancelled.body["data"]["cancellation"]["reason"],
        "CANCELADO_AGENDAMENTO"
    );
    let due = w.clock.now().date_in_brasilia().add_days(5).unwrap();
    assert_eq!(
        f.one.api.settle_due(due).await.unwrap(),
        0,
        "nothing left to settle"
    );

    // A settled payment cannot be cancelled.
    let consent = f.one.authorised_consent(w, &consent_data(w, None)).await;
    let settled = f
        .one
        .pay(w, &consent, json!([payment(&today(w, 0), 2)]), "settled")
        .await;
    let id = settled.body["data"][0]["paymentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = f.one.cancel(w, &id).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.signed);
    assert_eq!(
        refused.body["errors"][0]["code"],
        "PAGAMENTO_NAO_PERMITE_CANCELAMENTO"
    );
    conforms(
        "patch",
        "/pix/payments/{paymentId}",
        refused.status,
        &refused.body,
    );
}

/// A received webhook: path, interaction id, body, client certificate seen.
type Seen = (String, String, Value, bool);

/// An initiator's webhook endpoint on loopback (mTLS required): answers
/// 503 while `down`, then 202; records what it received.
struct Receiver {
    url: Url,
    down: Arc<std::sync::atomic::AtomicBool>,
    seen: Arc<std::sync::Mutex<Vec<Seen>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Receiver {
    async fn start(pki: &TestPki) -> Self {
        use opus_fapi::mtls::{self, ClientCertPolicy};
        let leaf = pki.server_certificate(&["127.0.0.1"]).unwrap();
        let (chain, key) = mtls::identity(&leaf.chain_der, leaf.key_pkcs8_der.expose());
        let tls = mtls::server_config(
            chain,
            key,
            &[CertificateDer::from(pki.root_der().to_vec())],
            ClientCertPolicy::Required,
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        ))
        .unwrap();
        let down = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (d, s) = (down.clone(), seen.clone());
        let service = tower::service_fn(move |request: Request<hyper::body::Incoming>| {
            let (d, s) = (d.clone(), s.clone());
            async move {
                let client_cert = request
                    .extensions()
                    .get::<ConnectionInfo>()
                    .is_some_and(|c| c.tls_client_chain.is_some());
                let path = request.uri().path().to_owned();
                let interaction = request
                    .headers()
                    .get("x-webhook-interaction-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let bytes = request.into_body().collect().await.unwrap().to_bytes();
                let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                let status = if d.load(std::sync::atomic::Ordering::SeqCst) {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    s.lock()
                        .unwrap()
                        .push((path, interaction, body, client_cert));
                    StatusCode::ACCEPTED
                };
                let mut response = http::Response::new(Full::new(Bytes::new()));
                *response.status_mut() = status;
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(mtls::serve(listener, Some(tls), service, async move {
            let _ = rx.await;
        }));
        Self {
            url,
            down,
            seen,
            stop: Some(tx),
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_reach_the_initiator_once_it_is_back_from_an_outage() {
    use opus_fapi::server::{ClientAuthMethod, ClientMetadata};
    use opus_holder::webhook::{MtlsWebhookTransport, WebhookSender};
    let f = Fixture::new().await;
    let w = &f.world;
    let pki = TestPki::generate("Webhooks").unwrap();
    let receiver = Receiver::start(&pki).await;
    // The initiator registered its webhook base.
    let mut client = f
        .one
        .storage
        .clients
        .get_client(w.brand.id(), &ClientId::new("itp-client").unwrap())
        .await
        .unwrap()
        .unwrap();
    client.metadata = serde_json::to_string(&ClientMetadata {
        redirect_uris: vec![Url::parse("https://itp.example/cb").unwrap()],
        token_endpoint_auth_method: ClientAuthMethod::PrivateKeyJwt,
        tls_client_auth_subject_dn: None,
        jwks_uri: None,
        scope: "openid payments".to_owned(),
        client_name: None,
        logo_uri: None,
        webhook_uris: vec![receiver.url.clone()],
        registration: None,
    })
    .unwrap();
    f.one
        .storage
        .clients
        .update_client(&client, client.version)
        .await
        .unwrap();
    // The bank's transport certificate, trusted by the initiator.
    let bank_cert = pki
        .transport_certificate(&OfbSubject::example(
            "bank.example",
            Cnpj::parse("11444777000161").unwrap(),
        ))
        .unwrap();
    let (chain, key) =
        opus_fapi::mtls::identity(&bank_cert.chain_der, bank_cert.key_pkcs8_der.expose());
    let config = opus_fapi::mtls::client_config(
        &[CertificateDer::from(pki.root_der().to_vec())],
        chain,
        key,
    )
    .unwrap();
    let sender = WebhookSender::new(
        f.one.storage.clone(),
        Arc::new(MtlsWebhookTransport::new(config)),
        w.clock.clone(),
    )
    .unwrap();

    let consent = f.one.authorised_consent(w, &consent_data(w, None)).await;
    let paid = f
        .one
        .pay(w, &consent, json!([payment(&today(w, 0), 1)]), "hook")
        .await;
    let payment_id = paid.body["data"][0]["paymentId"]
        .as_str()
        .unwrap()
        .to_owned();
    // Authorised, consumed, received, settled: four notices, the
    // initiator is down.
    let pass = sender.run_once().await.unwrap();
    assert_eq!((pass.delivered, pass.retried), (0, 4), "{pass:?}");
    assert!(receiver.seen.lock().unwrap().is_empty());
    // Not due again before the backoff.
    assert_eq!(sender.run_once().await.unwrap().retried, 0);
    // Back up; once the backoff has passed, every notice arrives.
    receiver
        .down
        .store(false, std::sync::atomic::Ordering::SeqCst);
    w.clock.advance(Duration::from_secs(2));
    let pass = sender.run_once().await.unwrap();
    assert_eq!(pass.delivered, 4, "{pass:?}");
    let seen = receiver.seen.lock().unwrap().clone();
    let paths: std::collections::BTreeSet<&str> = seen.iter().map(|(p, ..)| p.as_str()).collect();
    assert_eq!(
        paths,
        std::collections::BTreeSet::from([
            format!("/open-banking/webhook/v1/payments/v4/consents/{consent}").as_str(),
            format!("/open-banking/webhook/v1/payments/v4/pix/payments/{payment_id}").as_str(),
        ])
    );
    for (_, interaction, body, client_cert) in &seen {
        assert!(uuid::Uuid::parse_str(interaction).is_ok());
        assert!(body["data"]["timestamp"].is_string(), "{body}");
        assert!(client_cert, "the bank presented its certificate");
    }
    let interactions: std::collections::BTreeSet<&str> =
        seen.iter().map(|(_, i, ..)| i.as_str()).collect();
    assert_eq!(
        interactions.len(),
        seen.len(),
        "a new interaction id per post"
    );
    assert_eq!(
        sender.run_once().await.unwrap(),
        Default::default(),
        "nothing left"
    );
}

#[tokio::test]
async fn c2_23_24_28_29_payment_checks_of_the_functional_suite() {
    let f = Fixture::new().await;
    let w = &f.world;
    let consent = f.one.authorised_consent(w, &consent_data(w, None)).await;
    let edit = |change: &dyn Fn(&mut Value)| {
        let mut item = payment(&today(w, 0), 1);
        change(&mut item);
        json!([item])
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "another currency",
            edit(&|i| i["payment"]["currency"] = json!("USD")),
            "PAGAMENTO_DIVERGENTE_CONSENTIMENTO",
        ),
        (
            "no endToEndId",
            edit(&|i| {
                i.as_object_mut().unwrap().remove("endToEndId");
            }),
            "PARAMETRO_NAO_INFORMADO",
        ),
        (
            "month 13 in the endToEndId",
            edit(&|i| {
                i["endToEndId"] =
                    json!(end_to_end(&today(w, 0), 1).replacen(&today(w, 0)[5..7], "13", 1))
            }),
            "PARAMETRO_INVALIDO",
        ),
        (
            "a txid on DICT",
            edit(&|i| i["transactionIdentification"] = json!("E00038166201907261559y6j6")),
            "DETALHE_PAGAMENTO_INVALIDO",
        ),
        (
            "cnpjInitiator of zeros",
            edit(&|i| i["cnpjInitiator"] = json!("00000000000000")),
            "PARAMETRO_INVALIDO",
        ),
    ];
    for (n, (why, items, code)) in cases.into_iter().enumerate() {
        let answer = f.one.pay(w, &consent, items, &format!("c2-{n}")).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{why}: {}",
            answer.body
        );
        assert_eq!(answer.body["errors"][0]["code"], code, "{why}");
        conforms("post", "/pix/payments", answer.status, &answer.body);
    }
    // The matching payment: 201, its endToEndId echoed, no rejectionReason.
    let created = f
        .one
        .pay(w, &consent, json!([payment(&today(w, 0), 1)]), "c2-ok")
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["data"][0]["endToEndId"],
        end_to_end(&today(w, 0), 1)
    );
    assert!(created.body["data"][0].get("rejectionReason").is_none());
}

#[tokio::test]
async fn a_recurring_schedule_is_cancelled_at_once_except_what_is_due_today() {
    let f = Fixture::new().await;
    let w = &f.world;
    let consent = f
        .one
        .authorised_consent(
            w,
            &consent_data(
                w,
                Some(json!({"daily": {"startDate": today(w, 1), "quantity": 3}})),
            ),
        )
        .await;
    let payments: Vec<Value> = (1..=3).map(|n| payment(&today(w, n), n as u32)).collect();
    let created = f
        .one
        .pay(w, &consent, Value::Array(payments), "daily")
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let ids: Vec<String> = created.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["paymentId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 3);

    // The first occurrence falls due: it can no longer be cancelled.
    w.clock.advance(std::time::Duration::from_secs(24 * 3600));

    // An unknown consent is 404.
    let unknown = f
        .one
        .cancel_consent(w, "urn:bancoazul:00000000-0000-4000-8000-000000000000", "x")
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);

    let cancelled = f.one.cancel_consent(w, consent.as_str(), "all").await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert!(cancelled.signed);
    conforms(
        "patch",
        "/pix/payments/consents/{consentId}",
        cancelled.status,
        &cancelled.body,
    );
    let mut gone: Vec<&str> = cancelled.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["paymentId"].as_str().unwrap())
        .collect();
    gone.sort_unstable();
    let mut expected = vec![ids[1].as_str(), ids[2].as_str()];
    expected.sort_unstable();
    assert_eq!(gone, expected, "the two future occurrences, not today's");

    // Replaying the key answers the same without doing anything again.
    let replay = f.one.cancel_consent(w, consent.as_str(), "all").await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    assert_eq!(replay.body["data"], cancelled.body["data"]);

    // Today's occurrence settles; the cancelled ones never do.
    let due = w.clock.now().date_in_brasilia();
    assert_eq!(f.one.api.settle_due(due).await.unwrap(), 1);
    let later = due.add_days(2).unwrap();
    assert_eq!(f.one.api.settle_due(later).await.unwrap(), 0);

    // Nothing left to cancel: 422 PAGAMENTO_NAO_PERMITE_CANCELAMENTO.
    let refused = f.one.cancel_consent(w, consent.as_str(), "again").await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert_eq!(
        refused.body["errors"][0]["code"],
        "PAGAMENTO_NAO_PERMITE_CANCELAMENTO"
    );
}
