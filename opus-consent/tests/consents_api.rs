//! The Consents API 3.3.1 end to end behind the resource guard, every
//! response checked against the official OpenAPI file.
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use opus_consent::{ConsentsApi, DataConsentPolicy, DataConsents};
use opus_core::consent::{ConsentStatus, DataConsent, Permission};
use opus_core::seal::Sealer;
use opus_core::store::{TokenHash, TokenKind, TokenRecord, Topic};
use opus_core::{
    AuthorisationServerId, Brand, BrandId, ClientId, Clock, Cnpj, ConsentId, GrantId,
    OrganisationId, Storage,
};
use opus_fapi::jose::jwk::certificate_thumbprint;
use opus_fapi::mtls::{ClientCertificateLayer, ConnectionInfo};
use opus_fapi::server::guard::ResourceGuardLayer;
use opus_store::MemoryStore;
use opus_testkit::openapi::OpenApi;
use opus_testkit::{IssuedCertificate, ManualClock, OfbSubject, TestKeyCustody, TestPki};
use rustls::pki_types::CertificateDer;
use serde_json::{Value, json};
use tower::{Layer, ServiceExt};
use url::Url;

const COLLECTION: &str = "/banco-azul/api/open-banking/consents/v3/consents";
const INTERACTION: &str = "5b6c2a1e-9f0d-4c3b-8a7e-1d2f3c4b5a69";
const CPF: &str = "52998224725";

fn spec() -> &'static OpenApi {
    static SPEC: OnceLock<OpenApi> = OnceLock::new();
    SPEC.get_or_init(|| OpenApi::load("consents", "3.3.1").unwrap())
}

struct Fixture {
    storage: Storage,
    sealer: Arc<Sealer>,
    clock: Arc<ManualClock>,
    brand: Brand,
    consents: DataConsents,
    cert: IssuedCertificate,
    other_cert: IssuedCertificate,
}

fn brand() -> Brand {
    Brand::builder(BrandId::new("banco-azul").unwrap())
        .display_name("Banco Azul")
        .organisation_id(OrganisationId::random())
        .authorisation_server_id(AuthorisationServerId::random())
        .issuer(Url::parse("https://127.0.0.1/banco-azul").unwrap())
        .api_base_url(Url::parse("https://127.0.0.1/banco-azul/api").unwrap())
        .build()
        .unwrap()
}

impl Fixture {
    async fn new(policy: DataConsentPolicy) -> Self {
        let clock = Arc::new(ManualClock::new());
        let storage = Storage::from_backend(Arc::new(MemoryStore::new()));
        let sealer = Arc::new(
            Sealer::open_or_create(
                Arc::new(TestKeyCustody::new("bank")),
                storage.data_keys.clone(),
                clock.clone(),
            )
            .await
            .unwrap(),
        );
        let pki = TestPki::generate("Directory").unwrap();
        let cert = pki
            .transport_certificate(&OfbSubject::example(
                "tpp.example",
                Cnpj::parse("11222333000181").unwrap(),
            ))
            .unwrap();
        let other_cert = pki
            .transport_certificate(&OfbSubject::example(
                "other.example",
                Cnpj::parse("11444777000161").unwrap(),
            ))
            .unwrap();
        let consents = DataConsents::new(storage.clone(), sealer.clone(), clock.clone(), policy);
        Self {
            storage,
            sealer,
            clock,
            brand: brand(),
            consents,
            cert,
            other_cert,
        }
    }

    /// A client-credentials token of `client` bound to `cert`.
    async fn token(
        &self,
        client: &str,
        cert: &IssuedCertificate,
        scope: &str,
        consent: Option<ConsentId>,
    ) -> String {
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
                consent_id: consent,
                scope: scope.to_owned(),
                certificate_thumbprint: Some(certificate_thumbprint(&cert.der)),
                issued_at: now,
                expires_at: Some(now.saturating_add(Duration::from_secs(3 * 86_400))),
                revoked_at: None,
                subject: None,
            })
            .await
            .unwrap();
        token
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        cert: &IssuedCertificate,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.send_with(method, path, token, cert, body, &[]).await
    }

    async fn send_with(
        &self,
        method: Method,
        path: &str,
        token: &str,
        cert: &IssuedCertificate,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header("x-fapi-interaction-id", INTERACTION);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let bytes = match body {
            Some(body) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        let mut request = builder.body(Full::new(bytes)).unwrap();
        request.extensions_mut().insert(ConnectionInfo::new(
            SocketAddr::from(([127, 0, 0, 1], 40_000)),
            Some(Arc::new(
                cert.chain_der
                    .iter()
                    .cloned()
                    .map(CertificateDer::from)
                    .collect(),
            )),
        ));
        let api = ConsentsApi::new(
            self.brand.clone(),
            self.consents.clone(),
            self.clock.clone(),
        );
        let guard = ResourceGuardLayer::new(
            self.brand.id().clone(),
            self.storage.clone(),
            self.clock.clone(),
        );
        let service = ClientCertificateLayer::tls_only().layer(guard.layer(api));
        let response = service.oneshot(request).await.unwrap();
        let status = response.status();
        assert_eq!(response.headers()["x-fapi-interaction-id"], INTERACTION);
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, body)
    }
}

/// Asserts `body` is a valid `status` response of `method template`.
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

fn create_body(permissions: &[&str]) -> Value {
    json!({"data": {
        "loggedUser": {"document": {"identification": CPF, "rel": "CPF"}},
        "permissions": permissions,
        "expirationDateTime": "2027-05-21T08:30:00Z",
    }})
}

const BALANCES: &[&str] = &["ACCOUNTS_READ", "ACCOUNTS_BALANCES_READ", "RESOURCES_READ"];

#[tokio::test]
async fn c1_02_c1_12_create_read_and_delete_follow_the_spec() {
    let f = Fixture::new(DataConsentPolicy::default()).await;
    let token = f.token("tpp-client", &f.cert, "consents", None).await;
    let body = create_body(BALANCES);
    assert!(
        spec()
            .request_problems("POST", "/consents", &body)
            .unwrap()
            .is_empty()
    );
    let (status, created) = f
        .send(Method::POST, COLLECTION, &token, &f.cert, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    conforms("POST", "/consents", status, &created);
    assert_eq!(created["data"]["status"], "AWAITING_AUTHORISATION");
    assert_eq!(created["data"]["permissions"], json!(BALANCES));
    let id = created["data"]["consentId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("urn:banco-azul:"));
    assert_eq!(
        created["links"]["self"],
        json!(format!("https://127.0.0.1{COLLECTION}/{id}"))
    );

    let one = format!("{COLLECTION}/{id}");
    let (status, read) = f.send(Method::GET, &one, &token, &f.cert, None).await;
    assert_eq!(status, StatusCode::OK);
    conforms("GET", "/consents/{consentId}", status, &read);
    assert_eq!(read["data"], created["data"]);

    let (status, _) = f.send(Method::DELETE, &one, &token, &f.cert, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, read) = f.send(Method::GET, &one, &token, &f.cert, None).await;
    conforms("GET", "/consents/{consentId}", status, &read);
    assert_eq!(read["data"]["status"], "REJECTED");
    assert_eq!(
        read["data"]["rejection"],
        json!({"rejectedBy": "TPP", "reason": {"code": "CUSTOMER_MANUALLY_REJECTED"}})
    );
    let (status, again) = f.send(Method::DELETE, &one, &token, &f.cert, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    conforms("DELETE", "/consents/{consentId}", status, &again);
    assert_eq!(
        again["errors"][0]["code"],
        "CONSENTIMENTO_EM_STATUS_REJEITADO"
    );

    // Each transition left an event in the outbox.
    assert_eq!(
        f.storage
            .outbox
            .pending(&Topic::new("events").unwrap())
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn c1_04_05_c5_03_permission_rules_give_the_specs_codes() {
    let f = Fixture::new(DataConsentPolicy::default()).await;
    let token = f.token("tpp-client", &f.cert, "consents", None).await;
    let cases: Vec<(&str, Value, StatusCode, &str)> = vec![
        (
            "incomplete group",
            create_body(&["ACCOUNTS_READ", "RESOURCES_READ"]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "COMBINACAO_PERMISSOES_INCORRETA",
        ),
        (
            "no RESOURCES_READ",
            create_body(&["ACCOUNTS_READ", "ACCOUNTS_BALANCES_READ"]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "COMBINACAO_PERMISSOES_INCORRETA",
        ),
        (
            "PF and PJ",
            create_body(&[
                "CUSTOMERS_PERSONAL_IDENTIFICATIONS_READ",
                "CUSTOMERS_BUSINESS_IDENTIFICATIONS_READ",
                "RESOURCES_READ",
            ]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "PERMISSAO_PF_PJ_EM_CONJUNTO",
        ),
        (
            "PJ without businessEntity",
            create_body(&["CUSTOMERS_BUSINESS_IDENTIFICATIONS_READ", "RESOURCES_READ"]),
            StatusCode::UNPROCESSABLE_ENTITY,
            "INFORMACOES_PJ_NAO_INFORMADAS",
        ),
        (
            "c5_03 businessEntity with personal permissions",
            {
                let mut b =
                    create_body(&["CUSTOMERS_PERSONAL_IDENTIFICATIONS_READ", "RESOURCES_READ"]);
                b["data"]["businessEntity"] =
                    json!({"document": {"identification": "11222333000181", "rel": "CNPJ"}});
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "PERMISSOES_PJ_INCORRETAS",
        ),
        (
            "duplicates",
            create_body(&[
                "ACCOUNTS_READ",
                "ACCOUNTS_BALANCES_READ",
                "RESOURCES_READ",
                "RESOURCES_READ",
            ]),
            StatusCode::BAD_REQUEST,
            "PARAMETRO_INVALIDO",
        ),
        (
            "unknown permission",
            create_body(&["ACCOUNTS_READ", "EVERYTHING_READ"]),
            StatusCode::BAD_REQUEST,
            "PARAMETRO_INVALIDO",
        ),
        (
            "empty",
            create_body(&[]),
            StatusCode::BAD_REQUEST,
            "PARAMETRO_INVALIDO",
        ),
        (
            "expiration in the past",
            {
                let mut b = create_body(BALANCES);
                b["data"]["expirationDateTime"] = json!("2020-01-01T00:00:00Z");
                b
            },
            StatusCode::UNPROCESSABLE_ENTITY,
            "DATA_EXPIRACAO_INVALIDA",
        ),
        (
            "expiration not OFB date-time",
            {
                let mut b = create_body(BALANCES);
                b["data"]["expirationDateTime"] = json!("2027-05-21");
                b
            },
            StatusCode::BAD_REQUEST,
            "PARAMETRO_INVALIDO",
        ),
        (
            "invalid CPF",
            {
                let mut b = create_body(BALANCES);
                b["data"]["loggedUser"]["document"]["identification"] = json!("12345678900");
                b
            },
            StatusCode::BAD_REQUEST,
            "PARAMETRO_INVALIDO",
        ),
        (
            "no data",
            json!({}),
            StatusCode::BAD_REQUEST,
            "PARAMETRO_NAO_INFORMADO",
        ),
    ];
    for (case, body, expected, code) in cases {
        let (status, error) = f
            .send(Method::POST, COLLECTION, &token, &f.cert, Some(body))
            .await;
        assert_eq!(status, expected, "{case}: {error}");
        assert_eq!(error["errors"][0]["code"], code, "{case}");
        conforms("POST", "/consents", status, &error);
    }
    // A PJ consent with its CNPJ is fine.
    let mut pj = create_body(&["CUSTOMERS_BUSINESS_IDENTIFICATIONS_READ", "RESOURCES_READ"]);
    pj["data"]["businessEntity"] =
        json!({"document": {"identification": "11222333000181", "rel": "CNPJ"}});
    let (status, created) = f
        .send(Method::POST, COLLECTION, &token, &f.cert, Some(pj))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    // JSON is required.
    let mut request = create_body(BALANCES).to_string();
    request.push(' ');
    let (status, _) = {
        let token = token.clone();
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(COLLECTION)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header("x-fapi-interaction-id", INTERACTION)
            .header(header::CONTENT_TYPE, "text/plain");
        builder = builder.header("x-test", "1");
        let mut request = builder.body(Full::new(Bytes::from(request))).unwrap();
        request.extensions_mut().insert(ConnectionInfo::new(
            SocketAddr::from(([127, 0, 0, 1], 40_000)),
            Some(Arc::new(
                f.cert
                    .chain_der
                    .iter()
                    .cloned()
                    .map(CertificateDer::from)
                    .collect(),
            )),
        ));
        let api = ConsentsApi::new(f.brand.clone(), f.consents.clone(), f.clock.clone());
        let guard =
            ResourceGuardLayer::new(f.brand.id().clone(), f.storage.clone(), f.clock.clone());
        let response = ClientCertificateLayer::tls_only()
            .layer(guard.layer(api))
            .oneshot(request)
            .await
            .unwrap();
        (response.status(), ())
    };
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn unsupported_groups_are_dropped_and_nothing_left_is_422() {
    let mut policy = DataConsentPolicy::default();
    policy.supported.retain(|p| {
        !matches!(
            p,
            Permission::AccountsOverdraftLimitsRead | Permission::ExchangesRead
        )
    });
    let f = Fixture::new(policy).await;
    let token = f.token("tpp-client", &f.cert, "consents", None).await;
    let body = create_body(&[
        "ACCOUNTS_READ",
        "ACCOUNTS_BALANCES_READ",
        "ACCOUNTS_OVERDRAFT_LIMITS_READ",
        "RESOURCES_READ",
    ]);
    let (status, created) = f
        .send(Method::POST, COLLECTION, &token, &f.cert, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["data"]["permissions"], json!(BALANCES));
    let (status, error) = f
        .send(
            Method::POST,
            COLLECTION,
            &token,
            &f.cert,
            Some(create_body(&["EXCHANGES_READ", "RESOURCES_READ"])),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error["errors"][0]["code"],
        "SEM_PERMISSOES_FUNCIONAIS_RESTANTES"
    );
}

#[tokio::test]
async fn c1_07_a_client_sees_only_its_own_consents_and_needs_the_consents_scope() {
    let f = Fixture::new(DataConsentPolicy::default()).await;
    let mine = f.token("tpp-client", &f.cert, "consents", None).await;
    let theirs = f
        .token("other-client", &f.other_cert, "consents", None)
        .await;
    let (_, created) = f
        .send(
            Method::POST,
            COLLECTION,
            &mine,
            &f.cert,
            Some(create_body(BALANCES)),
        )
        .await;
    let one = format!(
        "{COLLECTION}/{}",
        created["data"]["consentId"].as_str().unwrap()
    );
    for method in [Method::GET, Method::DELETE] {
        let (status, error) = f.send(method, &one, &theirs, &f.other_cert, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
        conforms("GET", "/consents/{consentId}", status, &error);
    }
    // Still there, untouched, for its owner.
    let (status, read) = f.send(Method::GET, &one, &mine, &f.cert, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["data"]["status"], "AWAITING_AUTHORISATION");
    // A token without the scope, and a consent-bound token.
    let accounts = f.token("tpp-client", &f.cert, "accounts", None).await;
    let (status, _) = f.send(Method::GET, &one, &accounts, &f.cert, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let id = ConsentId::new(created["data"]["consentId"].as_str().unwrap()).unwrap();
    let bound = f
        .token("tpp-client", &f.cert, "consents accounts", Some(id))
        .await;
    let (status, _) = f.send(Method::GET, &one, &bound, &f.cert, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Unknown ids, malformed ids, other methods.
    let (status, _) = f
        .send(
            Method::GET,
            &format!("{COLLECTION}/urn:banco-azul:nope"),
            &mine,
            &f.cert,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f
        .send(Method::PUT, &one, &mine, &f.cert, Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    // Without the guard in front, the API refuses everything.
    let api = ConsentsApi::new(f.brand.clone(), f.consents.clone(), f.clock.clone());
    let response = api
        .oneshot(
            Request::builder()
                .uri(COLLECTION)
                .body(Full::<Bytes>::default())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_clock_expires_consents_and_their_tokens() {
    let f = Fixture::new(DataConsentPolicy::default()).await;
    let token = f.token("tpp-client", &f.cert, "consents", None).await;
    // Not authorised within 60 minutes.
    let (_, created) = f
        .send(
            Method::POST,
            COLLECTION,
            &token,
            &f.cert,
            Some(create_body(BALANCES)),
        )
        .await;
    let one = format!(
        "{COLLECTION}/{}",
        created["data"]["consentId"].as_str().unwrap()
    );
    f.clock.advance(Duration::from_secs(59 * 60));
    assert_eq!(
        f.send(Method::GET, &one, &token, &f.cert, None).await.1["data"]["status"],
        "AWAITING_AUTHORISATION"
    );
    f.clock.advance(Duration::from_secs(60));
    let (status, read) = f.send(Method::GET, &one, &token, &f.cert, None).await;
    conforms("GET", "/consents/{consentId}", status, &read);
    assert_eq!(read["data"]["status"], "REJECTED");
    assert_eq!(
        read["data"]["rejection"],
        json!({"rejectedBy": "ASPSP", "reason": {"code": "CONSENT_EXPIRED"}})
    );

    // Authorised, then past its expirationDateTime: its tokens go too.
    let mut body = create_body(BALANCES);
    let expiration = f
        .clock
        .now()
        .saturating_add(Duration::from_secs(2 * 86_400));
    body["data"]["expirationDateTime"] = json!(expiration);
    let (_, created) = f
        .send(Method::POST, COLLECTION, &token, &f.cert, Some(body))
        .await;
    let id = ConsentId::new(created["data"]["consentId"].as_str().unwrap()).unwrap();
    let record = f
        .storage
        .consents
        .get_consent(f.brand.id(), &id)
        .await
        .unwrap()
        .unwrap();
    let mut consent = DataConsent::open(&record, &f.sealer).await.unwrap();
    consent.status = ConsentStatus::Authorised;
    f.storage
        .consents
        .update_consent(&consent.seal(&f.sealer).unwrap(), record.version, &[])
        .await
        .unwrap();
    let data_token = f
        .token("tpp-client", &f.cert, "openid accounts", Some(id.clone()))
        .await;
    f.clock.advance(Duration::from_secs(2 * 86_400));
    let (_, read) = f
        .send(
            Method::GET,
            &format!("{COLLECTION}/{id}"),
            &token,
            &f.cert,
            None,
        )
        .await;
    assert_eq!(
        read["data"]["rejection"],
        json!({"rejectedBy": "ASPSP", "reason": {"code": "CONSENT_MAX_DATE_REACHED"}})
    );
    let stored = f
        .storage
        .grants
        .get_token(f.brand.id(), &TokenHash::of(&data_token))
        .await
        .unwrap()
        .unwrap();
    assert!(stored.revoked_at.is_some());
}

#[tokio::test]
async fn revoking_an_authorised_consent_reports_revocation() {
    let f = Fixture::new(DataConsentPolicy::default()).await;
    let token = f.token("tpp-client", &f.cert, "consents", None).await;
    let (_, created) = f
        .send(
            Method::POST,
            COLLECTION,
            &token,
            &f.cert,
            Some(create_body(BALANCES)),
        )
        .await;
    let id = ConsentId::new(created["data"]["consentId"].as_str().unwrap()).unwrap();
    let record = f
        .storage
        .consents
        .get_consent(f.brand.id(), &id)
        .await
        .unwrap()
        .unwrap();
    let mut consent = DataConsent::open(&record, &f.sealer).await.unwrap();
    consent.status = ConsentStatus::Authorised;
    f.storage
        .consents
        .update_consent(&consent.seal(&f.sealer).unwrap(), record.version, &[])
        .await
        .unwrap();
    // By the customer at the bank.
    let ended = f.consents.end_by_customer(f.brand.id(), &id).await.unwrap();
    assert_eq!(ended.status, ConsentStatus::Rejected);
    let (_, read) = f
        .send(
            Method::GET,
            &format!("{COLLECTION}/{id}"),
            &token,
            &f.cert,
            None,
        )
        .await;
    assert_eq!(
        read["data"]["rejection"],
        json!({"rejectedBy": "USER", "reason": {"code": "CUSTOMER_MANUALLY_REVOKED"}})
    );
}

#[tokio::test]
async fn c1_14_transaction_dates_are_accepted_and_not_echoed_c1_15_no_throttling() {
    let f = Fixture::new(DataConsentPolicy::default()).await;
    let token = f.token("tpp-client", &f.cert, "consents", None).await;
    let mut body = create_body(BALANCES);
    body["data"]["transactionFromDateTime"] = json!("2026-01-01T00:00:00Z");
    body["data"]["transactionToDateTime"] = json!("2026-06-01T00:00:00Z");
    let (status, created) = f
        .send(Method::POST, COLLECTION, &token, &f.cert, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created["data"].get("transactionFromDateTime").is_none());
    assert!(created["data"].get("transactionToDateTime").is_none());
    let one = format!(
        "{COLLECTION}/{}",
        created["data"]["consentId"].as_str().unwrap()
    );
    // The operational-limits module: 600 reads of one consent, all 200.
    for n in 0..600 {
        let (status, read) = f.send(Method::GET, &one, &token, &f.cert, None).await;
        assert_eq!(status, StatusCode::OK, "read {n}");
        assert!(read["data"].get("transactionFromDateTime").is_none());
    }
}

/// Creates a consent through the API and authorises it as the
/// authorization server would; its id.
async fn authorised_consent(f: &Fixture, token: &str, body: Value) -> ConsentId {
    let (status, created) = f
        .send(Method::POST, COLLECTION, token, &f.cert, Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = ConsentId::new(created["data"]["consentId"].as_str().unwrap()).unwrap();
    let record = f
        .storage
        .consents
        .get_consent(f.brand.id(), &id)
        .await
        .unwrap()
        .unwrap();
    let mut consent = DataConsent::open(&record, &f.sealer).await.unwrap();
    consent.status = ConsentStatus::Authorised;
    f.storage
        .consents
        .update_consent(&consent.seal(&f.sealer).unwrap(), record.version, &[])
        .await
        .unwrap();
    id
}

fn extend_body(cpf: &str, expiration: Option<&str>) -> Value {
    let mut body =
        json!({"data": {"loggedUser": {"document": {"identification": cpf, "rel": "CPF"}}}});
    if let Some(t) = expiration {
        body["data"]["expirationDateTime"] = json!(t);
    }
    body
}

const CUSTOMER_HEADERS: &[(&str, &str)] = &[
    ("x-fapi-customer-ip-address", "192.0.2.10"),
    ("x-customer-user-agent", "Mozilla/5.0 (Receptora)"),
];

#[tokio::test]
async fn consent_renewal_without_redirection_and_its_history() {
    let f = Fixture::new(DataConsentPolicy::default()).await;
    let cc = f.token("tpp-client", &f.cert, "consents", None).await;
    let mut body = create_body(BALANCES);
    body["data"]["expirationDateTime"] = json!("2027-01-31T00:00:00Z");
    let id = authorised_consent(&f, &cc, body).await;
    let customer_token = f
        .token("tpp-client", &f.cert, "openid accounts", Some(id.clone()))
        .await;
    let extends = format!("{COLLECTION}/{id}/extends");
    let extensions = format!("{COLLECTION}/{id}/extensions");

    // Renewals need the customer's consent-bound token and headers.
    let (status, error) = f
        .send_with(
            Method::POST,
            &extends,
            &cc,
            &f.cert,
            Some(extend_body(CPF, Some("2027-06-30T00:00:00Z"))),
            CUSTOMER_HEADERS,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    let (status, error) = f
        .send(
            Method::POST,
            &extends,
            &customer_token,
            &f.cert,
            Some(extend_body(CPF, Some("2027-06-30T00:00:00Z"))),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    conforms("POST", "/consents/{consentId}/extends", status, &error);

    // Business rules: another customer, a date not later than the current one.
    for (body, code) in [
        (
            extend_body("11144477735", Some("2027-06-30T00:00:00Z")),
            "ERRO_NAO_MAPEADO",
        ),
        (
            extend_body(CPF, Some("2027-01-01T00:00:00Z")),
            "DATA_EXPIRACAO_INVALIDA",
        ),
    ] {
        let (status, error) = f
            .send_with(
                Method::POST,
                &extends,
                &customer_token,
                &f.cert,
                Some(body),
                CUSTOMER_HEADERS,
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert_eq!(error["errors"][0]["code"], code);
        conforms("POST", "/consents/{consentId}/extends", status, &error);
    }

    let (status, extended) = f
        .send_with(
            Method::POST,
            &extends,
            &customer_token,
            &f.cert,
            Some(extend_body(CPF, Some("2027-06-30T00:00:00Z"))),
            CUSTOMER_HEADERS,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{extended}");
    conforms("POST", "/consents/{consentId}/extends", status, &extended);
    assert_eq!(
        extended["data"]["expirationDateTime"],
        "2027-06-30T00:00:00Z"
    );
    assert_eq!(extended["data"]["status"], "AUTHORISED");
    // GET /consents shows the new date.
    let (_, read) = f
        .send(
            Method::GET,
            &format!("{COLLECTION}/{id}"),
            &cc,
            &f.cert,
            None,
        )
        .await;
    assert_eq!(read["data"]["expirationDateTime"], "2027-06-30T00:00:00Z");
    // A second renewal, to indefinite: the history lists the newest first.
    let (status, _) = f
        .send_with(
            Method::POST,
            &extends,
            &customer_token,
            &f.cert,
            Some(extend_body(CPF, None)),
            CUSTOMER_HEADERS,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, history) = f.send(Method::GET, &extensions, &cc, &f.cert, None).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    conforms("GET", "/consents/{consentId}/extensions", status, &history);
    let items = history["data"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items[0].get("expirationDateTime").is_none(),
        "indefinite now"
    );
    assert_eq!(
        items[0]["previousExpirationDateTime"],
        "2027-06-30T00:00:00Z"
    );
    assert_eq!(
        items[1]["previousExpirationDateTime"],
        "2027-01-31T00:00:00Z"
    );
    assert_eq!(items[1]["xFapiCustomerIpAddress"], "192.0.2.10");
    assert_eq!(history["meta"]["totalRecords"], 2);
    // The history needs the consents scope, and only the owner reads it.
    let (status, _) = f
        .send(Method::GET, &extensions, &customer_token, &f.cert, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let theirs = f
        .token("other-client", &f.other_cert, "consents", None)
        .await;
    let (status, _) = f
        .send(Method::GET, &extensions, &theirs, &f.other_cert, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Only authorised consents renew.
    let (_, waiting) = f
        .send(
            Method::POST,
            COLLECTION,
            &cc,
            &f.cert,
            Some(create_body(BALANCES)),
        )
        .await;
    let waiting = ConsentId::new(waiting["data"]["consentId"].as_str().unwrap()).unwrap();
    let waiting_token = f
        .token(
            "tpp-client",
            &f.cert,
            "openid accounts",
            Some(waiting.clone()),
        )
        .await;
    let (status, error) = f
        .send_with(
            Method::POST,
            &format!("{COLLECTION}/{waiting}/extends"),
            &waiting_token,
            &f.cert,
            Some(extend_body(CPF, Some("2027-06-30T00:00:00Z"))),
            CUSTOMER_HEADERS,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert_eq!(error["errors"][0]["code"], "ESTADO_CONSENTIMENTO_INVALIDO");
}
