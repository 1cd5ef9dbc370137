//! Payment consents (Payments API 4.0.0) behind the resource guard: signed
//! request and response bodies, idempotency keys, the creation rules and
//! the authorisation deadline; every payload checked against the official
//! OpenAPI file. Test names carry the FAPI-BR §11 checklist numbers.
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use opus_consent::payments::BASE_PATH;
use opus_consent::{PaymentConsents, PaymentConsentsApi};
use opus_core::consent::ConsentKind;
use opus_core::keys::{JwkSet, KeyCustody, KeyPurpose};
use opus_core::seal::Sealer;
use opus_core::store::{
    ClientRecord, ClientStatus, ConsentFilter, TokenHash, TokenKind, TokenRecord, Window,
};
use opus_core::{
    AuthorisationServerId, Brand, BrandId, ClientId, Clock, Cnpj, GrantId, OrganisationId,
    SoftwareStatementId, Storage,
};
use opus_fapi::jose::jwk::certificate_thumbprint;
use opus_fapi::jose::jws::{self, JwsPolicy};
use opus_fapi::mtls::{ClientCertificateLayer, ConnectionInfo};
use opus_fapi::server::guard::ResourceGuardLayer;
use opus_store::MemoryStore;
use opus_testkit::openapi::OpenApi;
use opus_testkit::{
    IssuedCertificate, ManualClock, MockDirectory, OfbSubject, TestKeyCustody, TestPki,
};
use rustls::pki_types::CertificateDer;
use serde_json::{Value, json};
use tower::{Layer, ServiceExt};
use url::Url;

const INTERACTION: &str = "8f0c1d2e-3a4b-4c5d-9e6f-7a8b9c0d1e2f";

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
    storage: Storage,
    clock: Arc<ManualClock>,
    brand: Brand,
    api: PaymentConsentsApi,
    itp: TestKeyCustody,
    itp_org: OrganisationId,
    bank_keys: Arc<TestKeyCustody>,
    cert: IssuedCertificate,
    token: String,
}

/// What a call answered: status, content type and the (decoded) body.
struct Answer {
    status: StatusCode,
    signed: bool,
    body: Value,
}

impl Fixture {
    async fn new() -> Self {
        let clock = Arc::new(ManualClock::new());
        let storage = Storage::from_backend(Arc::new(MemoryStore::new()));
        let sealer = Arc::new(
            Sealer::open_or_create(
                Arc::new(TestKeyCustody::new("bank-seal")),
                storage.data_keys.clone(),
                clock.clone(),
            )
            .await
            .unwrap(),
        );
        let brand = Brand::builder(BrandId::new("banco-azul").unwrap())
            .display_name("Banco Azul")
            .organisation_id(OrganisationId::random())
            .authorisation_server_id(AuthorisationServerId::random())
            .issuer(Url::parse("https://127.0.0.1/banco-azul").unwrap())
            // The payments spec wants a DNS name in links.
            .api_base_url(Url::parse("https://api.banco-azul.test/banco-azul/api").unwrap())
            .build()
            .unwrap();
        let directory = Arc::new(MockDirectory::new());
        let itp = TestKeyCustody::new("initiator");
        let itp_org = OrganisationId::random();
        directory.set_organisation_jwks(itp_org, itp.public_jwks().await.unwrap());
        let pki = TestPki::generate("Directory").unwrap();
        let cert = pki
            .transport_certificate(&OfbSubject::example(
                "itp.example",
                Cnpj::parse("11222333000181").unwrap(),
            ))
            .unwrap();
        let now = clock.now();
        for (client, org) in [
            ("itp-client", itp_org),
            ("other-client", OrganisationId::random()),
        ] {
            storage
                .clients
                .insert_client(&ClientRecord {
                    brand: brand.id().clone(),
                    client_id: ClientId::new(client).unwrap(),
                    organisation_id: org,
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
        let bank_keys = Arc::new(TestKeyCustody::new("bank"));
        let api = PaymentConsentsApi::new(
            brand.clone(),
            PaymentConsents::new(storage.clone(), sealer.clone(), clock.clone()),
            storage.clone(),
            sealer,
            clock.clone(),
            directory,
            bank_keys.clone(),
        );
        let mut fixture = Self {
            storage,
            clock,
            brand,
            api,
            itp,
            itp_org,
            bank_keys,
            cert,
            token: String::new(),
        };
        fixture.token = fixture.token_for("itp-client", "payments").await;
        fixture
    }

    async fn token_for(&self, client: &str, scope: &str) -> String {
        let token = format!("cc-{}", uuid::Uuid::new_v4());
        let now = self.clock.now();
        self.storage
            .grants
            .put_token(&TokenRecord {
                brand: self.brand.id().clone(),
                token: TokenHash::of(&token),
                kind: TokenKind::Access,
                grant_id: GrantId::random(),
                client_id: ClientId::new(client).unwrap(),
                consent_id: None,
                scope: scope.to_owned(),
                certificate_thumbprint: Some(certificate_thumbprint(&self.cert.der)),
                issued_at: now,
                expires_at: Some(now.saturating_add(Duration::from_secs(86_400))),
                revoked_at: None,
                subject: None,
            })
            .await
            .unwrap();
        token
    }

    fn audience(&self) -> String {
        self.brand.api_url(BASE_PATH).unwrap().to_string()
    }

    /// `data` signed as the initiator, with a fresh `jti`.
    async fn signed(&self, data: &Value) -> String {
        let claims = json!({
            "data": data,
            "iss": self.itp_org.to_string(),
            "aud": self.audience(),
            "iat": self.clock.now().unix_seconds(),
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let signer = self.itp.signer(KeyPurpose::MessageSigning).await.unwrap();
        jws::sign_claims(signer.as_ref(), Some("JWT"), &claims)
            .await
            .unwrap()
    }

    async fn bank_jwks(&self) -> JwkSet {
        self.bank_keys.public_jwks().await.unwrap()
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<(&str, String)>,
        idempotency_key: Option<&str>,
    ) -> Answer {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("/banco-azul/api/{BASE_PATH}{path}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header("x-fapi-interaction-id", INTERACTION);
        if let Some(key) = idempotency_key {
            builder = builder.header("x-idempotency-key", key);
        }
        let bytes = match body {
            Some((content_type, text)) => {
                builder = builder.header(header::CONTENT_TYPE, content_type);
                Bytes::from(text)
            }
            None => Bytes::new(),
        };
        let mut request = builder.body(Full::new(bytes)).unwrap();
        request.extensions_mut().insert(ConnectionInfo::new(
            SocketAddr::from(([127, 0, 0, 1], 40_000)),
            Some(Arc::new(
                self.cert
                    .chain_der
                    .iter()
                    .cloned()
                    .map(CertificateDer::from)
                    .collect(),
            )),
        ));
        let guard = ResourceGuardLayer::new(
            self.brand.id().clone(),
            self.storage.clone(),
            self.clock.clone(),
        );
        let service = ClientCertificateLayer::tls_only().layer(guard.layer(self.api.clone()));
        let response = service.oneshot(request).await.unwrap();
        let status = response.status();
        let signed = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v == "application/jwt");
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if signed {
            let token = std::str::from_utf8(&bytes).unwrap();
            let verified = jws::verify(token, &self.bank_jwks().await, &JwsPolicy::ofb())
                .expect("signed by the bank's key");
            let claims = verified.claims().unwrap();
            assert_eq!(claims["aud"], self.itp_org.to_string());
            assert_eq!(claims["iss"], self.brand.organisation_id().to_string());
            assert!(uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());
            serde_json::to_value(claims).unwrap()
        } else if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        Answer {
            status,
            signed,
            body,
        }
    }

    async fn post(&self, data: &Value, key: &str) -> Answer {
        let jwt = self.signed(data).await;
        self.call(
            Method::POST,
            "",
            &self.token,
            Some(("application/jwt", jwt)),
            Some(key),
        )
        .await
    }

    fn today(&self) -> String {
        self.clock.now().date_in_brasilia().to_string()
    }

    fn day(&self, offset: i64) -> String {
        self.clock
            .now()
            .date_in_brasilia()
            .add_days(offset)
            .unwrap()
            .to_string()
    }

    fn data(&self) -> Value {
        json!({
            "loggedUser": {"document": {"identification": "52998224725", "rel": "CPF"}},
            "creditor": {"personType": "PESSOA_NATURAL", "cpfCnpj": "11144477735", "name": "João Souza"},
            "payment": {
                "type": "PIX",
                "date": self.today(),
                "currency": "BRL",
                "amount": "100.12",
                "details": {
                    "localInstrument": "DICT",
                    "proxy": "joao@example.com",
                    "creditorAccount": {"ispb": "12345678", "issuer": "1774", "number": "1234567890", "accountType": "CACC"}
                }
            }
        })
    }

    async fn consents_of(&self, client: &str) -> u64 {
        let mut filter = ConsentFilter::brand(self.brand.id().clone());
        filter.client_id = Some(ClientId::new(client).unwrap());
        filter.kind = Some(ConsentKind::Payment);
        self.storage
            .consents
            .list_consents(
                &filter,
                Window {
                    offset: 0,
                    limit: 1,
                },
            )
            .await
            .unwrap()
            .total_records
    }
}

#[tokio::test]
async fn checklist_96_a_consent_is_created_and_read_with_signed_bodies() {
    let f = Fixture::new().await;
    let data = f.data();
    assert!(
        spec()
            .request_problems("post", "/consents", &json!({"data": data}))
            .unwrap()
            .is_empty()
    );
    let created = f.post(&data, "key-0001").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.signed);
    conforms("post", "/consents", created.status, &created.body);
    assert_eq!(created.body["data"]["status"], "AWAITING_AUTHORISATION");
    assert_eq!(created.body["data"]["creditor"], data["creditor"]);
    let id = created.body["data"]["consentId"]
        .as_str()
        .unwrap()
        .to_owned();

    let read = f
        .call(Method::GET, &format!("/{id}"), &f.token, None, None)
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert!(read.signed);
    conforms("get", "/consents/{consentId}", read.status, &read.body);
    assert_eq!(read.body["data"]["payment"], data["payment"]);

    // Another client's consent.
    let other = f.token_for("other-client", "payments").await;
    let refused = f
        .call(Method::GET, &format!("/{id}"), &other, None, None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.signed);
    conforms(
        "get",
        "/consents/{consentId}",
        refused.status,
        &refused.body,
    );
    // A token without the payments scope.
    let accounts = f.token_for("itp-client", "accounts").await;
    let refused = f
        .call(Method::GET, &format!("/{id}"), &accounts, None, None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn checklist_89_98_plain_json_and_missing_idempotency_keys_are_refused() {
    let f = Fixture::new().await;
    let plain = f
        .call(
            Method::POST,
            "",
            &f.token,
            Some(("application/json", json!({"data": f.data()}).to_string())),
            Some("key-0002"),
        )
        .await;
    assert_eq!(plain.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    conforms("post", "/consents", plain.status, &plain.body);
    let jwt = f.signed(&f.data()).await;
    let keyless = f
        .call(
            Method::POST,
            "",
            &f.token,
            Some(("application/jwt", jwt)),
            None,
        )
        .await;
    assert_eq!(keyless.status, StatusCode::BAD_REQUEST, "{}", keyless.body);
    conforms("post", "/consents", keyless.status, &keyless.body);
    // A signature that does not verify: 400 BAD_SIGNATURE, plain JSON.
    let mut forged = f.signed(&f.data()).await;
    forged.push('x');
    let bad = f
        .call(
            Method::POST,
            "",
            &f.token,
            Some(("application/jwt", forged)),
            Some("key-0003"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.body["errors"][0]["code"], "BAD_SIGNATURE");
    conforms("post", "/consents", bad.status, &bad.body);
    assert_eq!(f.consents_of("itp-client").await, 0);
}

#[tokio::test]
async fn checklist_99_100_idempotency_keys_replay_or_refuse() {
    let f = Fixture::new().await;
    let first = f.post(&f.data(), "key-0004").await;
    assert_eq!(first.status, StatusCode::CREATED);
    // Same key and data, re-signed (new jti and iat): the same consent.
    let again = f.post(&f.data(), "key-0004").await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(
        again.body["data"]["consentId"],
        first.body["data"]["consentId"]
    );
    conforms("post", "/consents", again.status, &again.body);
    assert_eq!(f.consents_of("itp-client").await, 1);
    // Same key, other data.
    let mut other = f.data();
    other["payment"]["amount"] = json!("200.00");
    let mismatch = f.post(&other, "key-0004").await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.signed, "a business error is signed");
    assert_eq!(mismatch.body["errors"][0]["code"], "ERRO_IDEMPOTENCIA");
    conforms("post", "/consents", mismatch.status, &mismatch.body);
    assert_eq!(f.consents_of("itp-client").await, 1);
}

#[tokio::test]
async fn concurrent_posts_with_one_key_create_one_consent() {
    let f = Arc::new(Fixture::new().await);
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let answer = f.post(&f.data(), "key-race").await;
            (answer.status, answer.body["data"]["consentId"].clone())
        }));
    }
    let mut ids = BTreeSet::new();
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
    assert_eq!(ids.len(), 1, "every success names the same consent");
    assert_eq!(f.consents_of("itp-client").await, 1);
}

#[tokio::test]
async fn checklist_97_creation_rules_answer_signed_422s() {
    let f = Fixture::new().await;
    let with = |pointer: &str, value: Value| {
        let mut data = f.data();
        *data.pointer_mut(pointer).unwrap() = value;
        data
    };
    let without = |parent: &str, field: &str| {
        let mut data = f.data();
        data.pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove(field);
        data
    };
    let schedule = |schedule: Value| {
        let mut data = without("/payment", "date");
        data["payment"]["schedule"] = schedule;
        data
    };
    let cases = vec![
        (
            "a TED",
            with("/payment/type", json!("TED")),
            "FORMA_PAGAMENTO_INVALIDA",
        ),
        (
            "tomorrow, as immediate",
            with("/payment/date", json!(f.day(1))),
            "DATA_PAGAMENTO_INVALIDA",
        ),
        (
            "a zero amount",
            with("/payment/amount", json!("0.00")),
            "PARAMETRO_INVALIDO",
        ),
        (
            "date and schedule",
            {
                let mut d = f.data();
                d["payment"]["schedule"] = json!({"single": {"date": f.day(3)}});
                d
            },
            "PARAMETRO_INVALIDO",
        ),
        (
            "scheduled for today",
            schedule(json!({"single": {"date": f.today()}})),
            "DATA_PAGAMENTO_INVALIDA",
        ),
        (
            "scheduled beyond two years",
            schedule(json!({"single": {"date": f.day(731)}})),
            "DATA_PAGAMENTO_INVALIDA",
        ),
        (
            "61 daily payments",
            schedule(json!({"daily": {"startDate": f.day(1), "quantity": 61}})),
            "PARAMETRO_INVALIDO",
        ),
        (
            "repeated custom dates",
            schedule(
                json!({"custom": {"dates": [f.day(2), f.day(2)], "additionalInformation": "x"}}),
            ),
            "PARAMETRO_INVALIDO",
        ),
        (
            "DICT without a key",
            without("/payment/details", "proxy"),
            "DETALHE_PAGAMENTO_INVALIDO",
        ),
        (
            "QRDN without a QR code",
            with("/payment/details/localInstrument", json!("QRDN")),
            "DETALHE_PAGAMENTO_INVALIDO",
        ),
        (
            "MANU with a key",
            with("/payment/details/localInstrument", json!("MANU")),
            "DETALHE_PAGAMENTO_INVALIDO",
        ),
        (
            "CACC without a branch",
            without("/payment/details/creditorAccount", "issuer"),
            "DETALHE_PAGAMENTO_INVALIDO",
        ),
        (
            "an invalid creditor CPF",
            with("/creditor/cpfCnpj", json!("12345678900")),
            "PARAMETRO_INVALIDO",
        ),
    ];
    for (n, (why, data, code)) in cases.into_iter().enumerate() {
        let answer = f.post(&data, &format!("rule-{n}")).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{why}: {}",
            answer.body
        );
        assert!(answer.signed, "{why}");
        assert_eq!(answer.body["errors"][0]["code"], code, "{why}");
        conforms("post", "/consents", answer.status, &answer.body);
    }
    assert_eq!(f.consents_of("itp-client").await, 0);
    // A refused creation does not keep its key: fixed, it is accepted.
    let fixed = f.post(&f.data(), "rule-0").await;
    assert_eq!(fixed.status, StatusCode::CREATED, "{}", fixed.body);
    // Schedules that hold.
    for (n, s) in [
        json!({"single": {"date": f.day(730)}}),
        json!({"daily": {"startDate": f.day(1), "quantity": 5}}),
        json!({"weekly": {"startDate": f.day(1), "dayOfWeek": "SEXTA_FEIRA", "quantity": 4}}),
        json!({"monthly": {"startDate": f.day(1), "dayOfMonth": 10, "quantity": 12}}),
        json!({"custom": {"dates": [f.day(2), f.day(9)], "additionalInformation": "parcelas"}}),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = f.post(&schedule(s), &format!("schedule-{n}")).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        conforms("post", "/consents", answer.status, &answer.body);
    }
}

#[tokio::test]
async fn an_unauthorised_consent_expires_after_five_minutes() {
    let f = Fixture::new().await;
    let created = f.post(&f.data(), "key-0005").await;
    let id = created.body["data"]["consentId"]
        .as_str()
        .unwrap()
        .to_owned();
    f.clock.advance(Duration::from_secs(4 * 60 + 59));
    let read = f
        .call(Method::GET, &format!("/{id}"), &f.token, None, None)
        .await;
    assert_eq!(read.body["data"]["status"], "AWAITING_AUTHORISATION");
    f.clock.advance(Duration::from_secs(1));
    let read = f
        .call(Method::GET, &format!("/{id}"), &f.token, None, None)
        .await;
    assert_eq!(read.body["data"]["status"], "REJECTED", "{}", read.body);
    assert_eq!(
        read.body["data"]["rejectionReason"]["code"],
        "TEMPO_EXPIRADO_AUTORIZACAO"
    );
    conforms("get", "/consents/{consentId}", read.status, &read.body);
}

#[tokio::test]
async fn c2_11_12_14_20_21_signature_jti_content_type_and_instrument_checks() {
    let f = Fixture::new().await;
    // Good consents, then a broken signature: 400 with a JSON body, every time.
    for n in 0..3 {
        let good = f.post(&f.data(), &format!("good-{n}")).await;
        assert_eq!(good.status, StatusCode::CREATED);
    }
    let mut broken = f.signed(&f.data()).await;
    let last = broken.pop().unwrap();
    broken.push(if last == 'A' { 'B' } else { 'A' });
    let bad = f
        .call(
            Method::POST,
            "",
            &f.token,
            Some(("application/jwt", broken)),
            Some("bad-sig"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(!bad.signed, "a JSON error body");
    // The same signed consent twice: its jti is spent (403, JSON).
    let jwt = f.signed(&f.data()).await;
    let first = f
        .call(
            Method::POST,
            "",
            &f.token,
            Some(("application/jwt", jwt.clone())),
            Some("jti-1"),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = f
        .call(
            Method::POST,
            "",
            &f.token,
            Some(("application/jwt", jwt)),
            Some("jti-2"),
        )
        .await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(!again.signed);
    conforms("post", "/consents", again.status, &again.body);
    // A GET asking for JSON still gets the signed answer.
    let id = first.body["data"]["consentId"].as_str().unwrap();
    let read = f
        .call(Method::GET, &format!("/{id}"), &f.token, None, None)
        .await;
    assert!(read.signed);
    // Instruments and their QR codes.
    let qr = json!(
        "00020101021226770014br.gov.bcb.pix2555api.itau/pix/qr/v2/cobv/4b6d9ae2-34b3-4ae8-9fa0-ff11c8c1dba25204000053039865802BR5920NOME DO RECEBEDOR6009SAO PAULO62070503***63041D3D"
    );
    for (n, (instrument, with_qr)) in [
        ("MANU", true),
        ("DICT", true),
        ("QRES", false),
        ("QRDN", false),
    ]
    .into_iter()
    .enumerate()
    {
        let mut data = f.data();
        data["payment"]["details"]["localInstrument"] = json!(instrument);
        if instrument == "MANU" {
            data["payment"]["details"]
                .as_object_mut()
                .unwrap()
                .remove("proxy");
        }
        if with_qr {
            data["payment"]["details"]["qrCode"] = qr.clone();
        }
        let answer = f.post(&data, &format!("instrument-{n}")).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{instrument}: {}",
            answer.body
        );
        assert_eq!(
            answer.body["errors"][0]["code"],
            "DETALHE_PAGAMENTO_INVALIDO"
        );
        conforms("post", "/consents", answer.status, &answer.body);
    }
}

/// A static Pix QR code for `key` and `amount`, with its CRC.
fn static_qr(key: &str, amount: &str) -> String {
    let account = format!("0014br.gov.bcb.pix01{:02}{key}", key.len());
    let body = format!(
        "00020101021126{:02}{account}5204000053039865404{amount}5802BR5910Joao Souza6009SAO PAULO62070503***6304",
        account.len()
    )
    .replace("5404", &format!("54{:02}", amount.len()));
    format!(
        "{body}{:04X}",
        opus_core::payment::crc16_ccitt(body.as_bytes())
    )
}

#[tokio::test]
async fn c2_6_26_static_qr_codes_and_pix_keys_are_checked() {
    let f = Fixture::new().await;
    let qres = |qr: String, proxy: &str| {
        let mut data = f.data();
        data["payment"]["details"]["localInstrument"] = json!("QRES");
        data["payment"]["details"]["qrCode"] = json!(qr);
        data["payment"]["details"]["proxy"] = json!(proxy);
        data
    };
    let good = f
        .post(
            &qres(static_qr("+5561999999999", "100.12"), "+5561999999999"),
            "qr-ok",
        )
        .await;
    assert_eq!(good.status, StatusCode::CREATED, "{}", good.body);
    conforms("post", "/consents", good.status, &good.body);
    let mut corrupted = static_qr("+5561999999999", "100.12");
    corrupted.replace_range(40..41, "9");
    for (n, data) in [
        // Another amount in the code than in the payment.
        qres(static_qr("+5561999999999", "99.00"), "+5561999999999"),
        // Another key in the code than the proxy.
        qres(static_qr("+5561999999999", "100.12"), "+5561988888888"),
        // A broken CRC.
        qres(corrupted, "+5561999999999"),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = f.post(&data, &format!("qr-bad-{n}")).await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{n}: {}",
            answer.body
        );
        assert_eq!(
            answer.body["errors"][0]["code"],
            "DETALHE_PAGAMENTO_INVALIDO"
        );
    }
    // DICT keys must have a Pix key's form.
    let mut data = f.data();
    data["payment"]["details"]["proxy"] = json!("not a key");
    let answer = f.post(&data, "bad-key").await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer.body["errors"][0]["code"],
        "DETALHE_PAGAMENTO_INVALIDO"
    );
}
