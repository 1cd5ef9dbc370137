//! The data APIs behind the resource guard and the validation chain, over
//! the synthetic bank; every response checked against the official OpenAPI
//! files. Test names carry the ids of conformance-checklist part (c).
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use opus_consent::{DataConsentPolicy, DataConsents};
use opus_core::connector::{Financings, InvoiceFinancings, Loans, UnarrangedAccountsOverdraft};
use opus_core::consent::{ConsentStatus, DataConsent, Permission};
use opus_core::seal::Sealer;
use opus_core::store::{ClientRecord, ClientStatus, TokenHash, TokenKind, TokenRecord};
use opus_core::{
    AuthorisationServerId, Brand, BrandId, ClientId, Clock, Cnpj, ConsentId, Cpf, GrantId,
    OrganisationId, ResourceId, SoftwareStatementId, Storage, Timestamp,
};
use opus_fapi::jose::jwk::certificate_thumbprint;
use opus_fapi::mtls::{ClientCertificateLayer, ConnectionInfo};
use opus_fapi::server::guard::ResourceGuardLayer;
use opus_store::MemoryStore;
use opus_testkit::bank::{JOAO_CPF, MARIA_CPF, PADARIA_CNPJ};
use opus_testkit::openapi::OpenApi;
use opus_testkit::{
    ConnectorSpy, IssuedCertificate, ManualClock, OfbSubject, SyntheticBank, TestKeyCustody,
    TestPki,
};
use opus_transmitter::DataApis;
use rustls::pki_types::CertificateDer;
use serde_json::Value;
use tower::{Layer, ServiceExt};
use url::Url;

const API: &str = "/banco-azul/api/open-banking";
const INTERACTION: &str = "5b6c2a1e-9f0d-4c3b-8a7e-1d2f3c4b5a69";
const CLIENT: &str = "tpp-client";

fn spec(api: &str, version: &str) -> &'static OpenApi {
    static ACCOUNTS: OnceLock<OpenApi> = OnceLock::new();
    static CUSTOMERS: OnceLock<OpenApi> = OnceLock::new();
    static RESOURCES: OnceLock<OpenApi> = OnceLock::new();
    static CARDS: OnceLock<OpenApi> = OnceLock::new();
    static LOANS: OnceLock<OpenApi> = OnceLock::new();
    static FINANCINGS: OnceLock<OpenApi> = OnceLock::new();
    static INVOICE_FINANCINGS: OnceLock<OpenApi> = OnceLock::new();
    static OVERDRAFT: OnceLock<OpenApi> = OnceLock::new();
    let cell = match api {
        "accounts" => &ACCOUNTS,
        "customers" => &CUSTOMERS,
        "credit-cards" => &CARDS,
        "loans" => &LOANS,
        "financings" => &FINANCINGS,
        "invoice-financings" => &INVOICE_FINANCINGS,
        "unarranged-accounts-overdraft" => &OVERDRAFT,
        _ => &RESOURCES,
    };
    cell.get_or_init(|| OpenApi::load(api, version).unwrap())
}

/// Asserts `body` is a valid `status` response of `template` in `api`.
#[track_caller]
fn conforms(api: &str, template: &str, status: StatusCode, body: &Value) {
    let version = match api {
        "accounts" => "2.4.2",
        "customers" => "2.2.1",
        "credit-cards" => "2.3.1",
        "loans" | "unarranged-accounts-overdraft" => "2.5.0",
        "financings" | "invoice-financings" => "2.4.0",
        _ => "3.1.0",
    };
    let problems = spec(api, version)
        .response_problems("get", template, status.as_u16(), body)
        .unwrap();
    assert!(
        problems.is_empty(),
        "GET {template} {status}: {problems:?}\n{body}"
    );
}

fn id(value: &str) -> ResourceId {
    ResourceId::new(value).unwrap()
}

type Spy = ConnectorSpy<SyntheticBank>;

struct Fixture {
    storage: Storage,
    sealer: Arc<Sealer>,
    clock: Arc<ManualClock>,
    brand: Brand,
    apis: DataApis,
    spy: Arc<Spy>,
    cert: IssuedCertificate,
}

impl Fixture {
    async fn new() -> Self {
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
        let brand = Brand::builder(BrandId::new("banco-azul").unwrap())
            .display_name("Banco Azul")
            .organisation_id(OrganisationId::random())
            .authorisation_server_id(AuthorisationServerId::random())
            .issuer(Url::parse("https://127.0.0.1/banco-azul").unwrap())
            // Links carry this host; the cards and loans specs want a DNS name there.
            .api_base_url(Url::parse("https://api.banco-azul.test/banco-azul/api").unwrap())
            .build()
            .unwrap();
        let pki = TestPki::generate("Directory").unwrap();
        let cert = pki
            .transport_certificate(&OfbSubject::example(
                "tpp.example",
                Cnpj::parse("11222333000181").unwrap(),
            ))
            .unwrap();
        let now = clock.now();
        storage
            .clients
            .insert_client(&ClientRecord {
                brand: brand.id().clone(),
                client_id: ClientId::new(CLIENT).unwrap(),
                organisation_id: OrganisationId::random(),
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
        let bank = SyntheticBank::new(now.date_in_brasilia());
        let spy = Arc::new(ConnectorSpy::new(bank));
        let consents = DataConsents::new(
            storage.clone(),
            sealer.clone(),
            clock.clone(),
            DataConsentPolicy::default(),
        );
        let apis = DataApis::builder(
            brand.clone(),
            consents,
            storage.clone(),
            sealer.clone(),
            clock.clone(),
        )
        .accounts(spy.clone())
        .customers(spy.clone())
        .resources(spy.clone())
        .credit_cards(spy.clone())
        .credit_operations::<Loans>(spy.clone())
        .credit_operations::<Financings>(spy.clone())
        .credit_operations::<InvoiceFinancings>(spy.clone())
        .credit_operations::<UnarrangedAccountsOverdraft>(spy.clone())
        .build();
        Self {
            storage,
            sealer,
            clock,
            brand,
            apis,
            spy,
            cert,
        }
    }

    /// An authorised consent of `cpf` (for `business`) with `permissions`
    /// and `resources` chosen, and a token for it with every data scope.
    async fn consent(
        &self,
        cpf: &str,
        business: Option<&str>,
        permissions: &[Permission],
        resources: &[&str],
    ) -> (ConsentId, String) {
        let now = self.clock.now();
        let consent_id = ConsentId::new(format!("urn:bancoazul:{}", uuid_like())).unwrap();
        let consent = DataConsent {
            brand: self.brand.id().clone(),
            id: consent_id.clone(),
            client_id: ClientId::new(CLIENT).unwrap(),
            status: ConsentStatus::Authorised,
            version: 0,
            permissions: permissions.to_vec(),
            logged_user: Cpf::parse(cpf).unwrap(),
            business_entity: business.map(|c| Cnpj::parse(c).unwrap()),
            creation_date_time: now,
            status_update_date_time: now,
            expiration_date_time: Some(now.saturating_add(Duration::from_secs(365 * 86_400))),
            rejection: None,
            resources: resources.iter().map(|r| id(r)).collect(),
            extensions: Vec::new(),
        };
        self.storage
            .consents
            .insert_consent(&consent.seal(&self.sealer).unwrap(), &[])
            .await
            .unwrap();
        let token = self
            .token(
                &consent_id,
                "openid accounts customers resources credit-cards-accounts loans financings invoice-financings unarranged-accounts-overdraft",
            )
            .await;
        (consent_id, token)
    }

    async fn token(&self, consent: &ConsentId, scope: &str) -> String {
        let token = format!("at-{}", uuid_like());
        let now = self.clock.now();
        self.storage
            .grants
            .put_token(&TokenRecord {
                brand: self.brand.id().clone(),
                token: TokenHash::of(&token),
                kind: TokenKind::Access,
                grant_id: GrantId::random(),
                client_id: ClientId::new(CLIENT).unwrap(),
                consent_id: Some(consent.clone()),
                scope: format!("{scope} consent:{consent}"),
                certificate_thumbprint: Some(certificate_thumbprint(&self.cert.der)),
                issued_at: now,
                expires_at: Some(now.saturating_add(Duration::from_secs(400 * 86_400))),
                revoked_at: None,
                subject: None,
            })
            .await
            .unwrap();
        token
    }

    /// `GET {API}/{path}` with `token`.
    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let uri = if path.starts_with("https://") {
            let url = Url::parse(path).unwrap();
            match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            }
        } else {
            format!("{API}/{path}")
        };
        let mut request = Request::builder()
            .method(Method::GET)
            .uri(uri)
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
            .header("x-fapi-interaction-id", INTERACTION)
            .header("x-fapi-auth-date", "Sun, 29 Nov 2026 11:00:00 GMT")
            .header("x-fapi-customer-ip-address", "127.0.0.1")
            .body(Full::new(Bytes::new()))
            .unwrap();
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
        )
        .require_authorised_consent();
        let service = ClientCertificateLayer::tls_only().layer(guard.layer(self.apis.clone()));
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

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    format!("c{:012}", N.fetch_add(1, Ordering::Relaxed))
}

const ACCOUNT_PERMISSIONS: [Permission; 5] = [
    Permission::AccountsRead,
    Permission::AccountsBalancesRead,
    Permission::AccountsTransactionsRead,
    Permission::AccountsOverdraftLimitsRead,
    Permission::ResourcesRead,
];

const PERSONAL_PERMISSIONS: [Permission; 3] = [
    Permission::CustomersPersonalIdentificationsRead,
    Permission::CustomersPersonalAdittionalinfoRead,
    Permission::ResourcesRead,
];

const CHECKING: &str = "acc-maria-corrente";
const SAVINGS: &str = "acc-maria-poupanca";

/// Every accounts endpoint, as the spec writes it and as called.
fn account_endpoints(account: &str) -> Vec<(&'static str, String)> {
    vec![
        ("/accounts", "accounts/v2/accounts".to_owned()),
        (
            "/accounts/{accountId}",
            format!("accounts/v2/accounts/{account}"),
        ),
        (
            "/accounts/{accountId}/balances",
            format!("accounts/v2/accounts/{account}/balances"),
        ),
        (
            "/accounts/{accountId}/overdraft-limits",
            format!("accounts/v2/accounts/{account}/overdraft-limits"),
        ),
        (
            "/accounts/{accountId}/transactions",
            format!("accounts/v2/accounts/{account}/transactions"),
        ),
        (
            "/accounts/{accountId}/transactions-current",
            format!("accounts/v2/accounts/{account}/transactions-current"),
        ),
    ]
}

#[tokio::test]
async fn c4_01_every_accounts_endpoint_answers_as_the_spec_says() {
    let f = Fixture::new().await;
    let (_, token) = f
        .consent(MARIA_CPF, None, &ACCOUNT_PERMISSIONS, &[CHECKING, SAVINGS])
        .await;
    for (template, path) in account_endpoints(CHECKING) {
        let (status, body) = f.get(&path, &token).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        conforms("accounts", template, status, &body);
    }
    let (_, list) = f.get("accounts/v2/accounts", &token).await;
    let ids: BTreeSet<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["accountId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, BTreeSet::from([CHECKING, SAVINGS]));
    let (_, savings) = f
        .get("accounts/v2/accounts?accountType=CONTA_POUPANCA", &token)
        .await;
    assert_eq!(savings["data"].as_array().unwrap().len(), 1);
    assert_eq!(savings["data"][0]["accountId"], SAVINGS);
}

#[tokio::test]
async fn c4_02_c5_02_permission_matrix_refuses_before_the_connector() {
    let f = Fixture::new().await;
    // A consent with only customer permissions: every accounts endpoint is 403.
    let (_, customers_only) = f
        .consent(MARIA_CPF, None, &PERSONAL_PERMISSIONS, &[CHECKING])
        .await;
    for (template, path) in account_endpoints(CHECKING) {
        let (status, body) = f.get(&path, &customers_only).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        conforms("accounts", template, status, &body);
    }
    // A consent with only account permissions: every customers endpoint is 403.
    let (_, accounts_only) = f
        .consent(MARIA_CPF, None, &ACCOUNT_PERMISSIONS, &[CHECKING])
        .await;
    for what in [
        "personal/identifications",
        "personal/qualifications",
        "personal/financial-relations",
        "business/identifications",
        "business/qualifications",
        "business/financial-relations",
    ] {
        let (status, body) = f.get(&format!("customers/v2/{what}"), &accounts_only).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{what}: {body}");
        conforms("customers", &format!("/{what}"), status, &body);
    }
    // And every credit-card and loan endpoint.
    for (api, template, path) in [
        ("credit-cards", "/accounts", "credit-cards-accounts/v2/accounts".to_owned()),
        (
            "credit-cards",
            "/accounts/{creditCardAccountId}",
            "credit-cards-accounts/v2/accounts/card-maria-visa".to_owned(),
        ),
        (
            "credit-cards",
            "/accounts/{creditCardAccountId}/limits",
            "credit-cards-accounts/v2/accounts/card-maria-visa/limits".to_owned(),
        ),
        (
            "credit-cards",
            "/accounts/{creditCardAccountId}/transactions",
            "credit-cards-accounts/v2/accounts/card-maria-visa/transactions".to_owned(),
        ),
        (
            "credit-cards",
            "/accounts/{creditCardAccountId}/transactions-current",
            "credit-cards-accounts/v2/accounts/card-maria-visa/transactions-current".to_owned(),
        ),
        (
            "credit-cards",
            "/accounts/{creditCardAccountId}/bills",
            "credit-cards-accounts/v2/accounts/card-maria-visa/bills".to_owned(),
        ),
        (
            "credit-cards",
            "/accounts/{creditCardAccountId}/bills/{billId}/transactions",
            "credit-cards-accounts/v2/accounts/card-maria-visa/bills/bill-card-maria-visa-1/transactions"
                .to_owned(),
        ),
        ("loans", "/contracts", "loans/v2/contracts".to_owned()),
        (
            "loans",
            "/contracts/{contractId}",
            "loans/v2/contracts/loan-maria-pessoal".to_owned(),
        ),
        (
            "loans",
            "/contracts/{contractId}/warranties",
            "loans/v2/contracts/loan-maria-pessoal/warranties".to_owned(),
        ),
        (
            "loans",
            "/contracts/{contractId}/scheduled-instalments",
            "loans/v2/contracts/loan-maria-pessoal/scheduled-instalments".to_owned(),
        ),
        (
            "loans",
            "/contracts/{contractId}/payments",
            "loans/v2/contracts/loan-maria-pessoal/payments".to_owned(),
        ),
    ] {
        let (status, body) = f.get(&path, &accounts_only).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        conforms(api, template, status, &body);
    }
    // And the other three credit-operations APIs, endpoint by endpoint.
    for (api, contract) in [
        ("financings", "fin-maria-imobiliario"),
        ("invoice-financings", "inv-padaria-duplicatas"),
        ("unarranged-accounts-overdraft", "ovd-maria-cheque-especial"),
    ] {
        for (template, suffix) in [
            ("/contracts", String::new()),
            ("/contracts/{contractId}", format!("/{contract}")),
            (
                "/contracts/{contractId}/warranties",
                format!("/{contract}/warranties"),
            ),
            (
                "/contracts/{contractId}/scheduled-instalments",
                format!("/{contract}/scheduled-instalments"),
            ),
            (
                "/contracts/{contractId}/payments",
                format!("/{contract}/payments"),
            ),
        ] {
            let path = format!("{api}/v2/contracts{suffix}");
            let (status, body) = f.get(&path, &accounts_only).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
            conforms(api, template, status, &body);
        }
    }
    assert!(
        f.spy.calls().is_empty(),
        "no connector call: {:?}",
        f.spy.calls()
    );
}

#[tokio::test]
async fn c4_03_permissions_are_checked_per_endpoint() {
    let f = Fixture::new().await;
    let (_, token) = f
        .consent(
            MARIA_CPF,
            None,
            &[
                Permission::AccountsRead,
                Permission::AccountsTransactionsRead,
                Permission::ResourcesRead,
            ],
            &[CHECKING],
        )
        .await;
    for (path, expected) in [
        ("accounts/v2/accounts".to_owned(), StatusCode::OK),
        (format!("accounts/v2/accounts/{CHECKING}"), StatusCode::OK),
        (
            format!("accounts/v2/accounts/{CHECKING}/transactions"),
            StatusCode::OK,
        ),
        (
            format!("accounts/v2/accounts/{CHECKING}/balances"),
            StatusCode::FORBIDDEN,
        ),
        (
            format!("accounts/v2/accounts/{CHECKING}/overdraft-limits"),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let (status, body) = f.get(&path, &token).await;
        assert_eq!(status, expected, "{path}: {body}");
    }
    let reached: Vec<_> = f.spy.calls().into_iter().map(|c| c.method).collect();
    assert!(!reached.contains(&"accounts.balances"));
    assert!(!reached.contains(&"accounts.overdraft_limits"));
}

#[tokio::test]
async fn a_resource_outside_the_consent_is_refused_before_the_connector() {
    let f = Fixture::new().await;
    let (_, token) = f
        .consent(MARIA_CPF, None, &ACCOUNT_PERMISSIONS, &[CHECKING])
        .await;
    // Maria's own savings account (not chosen), and João's account.
    for other in [SAVINGS, "acc-joao-corrente", "no-such-account"] {
        for (template, path) in account_endpoints(other).into_iter().skip(1) {
            let (status, body) = f.get(&path, &token).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
            conforms("accounts", template, status, &body);
        }
    }
    assert!(f.spy.calls().is_empty(), "{:?}", f.spy.calls());
    // The list shows only the chosen account.
    let (_, list) = f.get("accounts/v2/accounts", &token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn c4_06_07_page_size_bounds() {
    let f = Fixture::new().await;
    let (_, token) = f
        .consent(MARIA_CPF, None, &ACCOUNT_PERMISSIONS, &[CHECKING])
        .await;
    let (status, body) = f.get("accounts/v2/accounts?page-size=1000", &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    conforms("accounts", "/accounts", status, &body);
    let (status, body) = f.get("accounts/v2/accounts?page-size=1001", &token).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    conforms("accounts", "/accounts", status, &body);
    let (status, body) = f.get("accounts/v2/accounts?page=0", &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    conforms("accounts", "/accounts", status, &body);
}

#[tokio::test]
async fn c4_08_paging_follows_next_links_and_follow_ups_are_not_counted() {
    let f = Fixture::new().await;
    let (_, token) = f
        .consent(MARIA_CPF, None, &ACCOUNT_PERMISSIONS, &[CHECKING])
        .await;
    let from = f
        .clock
        .now()
        .saturating_sub(Duration::from_secs(90 * 86_400))
        .date_in_brasilia();
    let to = f.clock.now().date_in_brasilia();
    let first = format!(
        "accounts/v2/accounts/{CHECKING}/transactions?fromBookingDate={from}&toBookingDate={to}&page-size=3"
    );
    let (status, body) = f.get(&first, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    conforms(
        "accounts",
        "/accounts/{accountId}/transactions",
        status,
        &body,
    );
    assert_eq!(body["data"].as_array().unwrap().len(), 3);
    assert!(body["links"].get("prev").is_none());
    let mut seen: BTreeSet<String> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transactionId"].as_str().unwrap().to_owned())
        .collect();
    // The transactions endpoint allows 8 counted calls a month: following
    // more than 8 next links works only because follow-ups are not counted.
    let mut next = body["links"]["next"].as_str().map(str::to_owned);
    let mut pages = 1;
    while let Some(link) = next {
        assert!(link.contains("pagination-key="), "{link}");
        let (status, body) = f.get(&link, &token).await;
        assert_eq!(status, StatusCode::OK, "page {pages}: {body}");
        conforms(
            "accounts",
            "/accounts/{accountId}/transactions",
            status,
            &body,
        );
        for t in body["data"].as_array().unwrap() {
            assert!(seen.insert(t["transactionId"].as_str().unwrap().to_owned()));
        }
        pages += 1;
        next = body["links"]["next"].as_str().map(str::to_owned);
    }
    assert!(pages > 8, "{pages} pages");
    // A key minted for another endpoint or consent is not honoured: it is
    // replaced and the call counted (the list endpoint: 8 a month).
    let (_, list) = f.get("accounts/v2/accounts", &token).await;
    let self_link = list["links"]["self"].as_str().unwrap();
    let key = Url::parse(self_link)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "pagination-key")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    for _ in 0..8 {
        let (status, _) = f
            .get(
                &format!("accounts/v2/accounts/{CHECKING}/transactions?pagination-key={key}"),
                &token,
            )
            .await;
        if status == StatusCode::LOCKED {
            return;
        }
    }
    panic!("a foreign pagination-key was honoured");
}

#[tokio::test]
async fn c4_09_11_booking_date_windows() {
    let f = Fixture::new().await;
    let (_, token) = f
        .consent(MARIA_CPF, None, &ACCOUNT_PERMISSIONS, &[CHECKING])
        .await;
    let today = f.clock.now().date_in_brasilia();
    let day = |n: i64| today.add_days(n).unwrap();
    for (from, to) in [
        (day(-180), day(0)),
        (day(-360), day(-180)),
        (day(-30), day(-30)),
    ] {
        let (status, body) = f
            .get(
                &format!(
                    "accounts/v2/accounts/{CHECKING}/transactions?fromBookingDate={from}&toBookingDate={to}&page-size=1000"
                ),
                &token,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for t in body["data"].as_array().unwrap() {
            let date = &t["transactionDateTime"].as_str().unwrap()[..10];
            assert!(
                date >= from.to_string().as_str() && date <= to.to_string().as_str(),
                "{date} outside {from}..{to}"
            );
        }
    }
    // transactions-current: today by default, at most seven days back.
    let current = format!("accounts/v2/accounts/{CHECKING}/transactions-current");
    let (status, body) = f.get(&current, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    conforms(
        "accounts",
        "/accounts/{accountId}/transactions-current",
        status,
        &body,
    );
    assert_eq!(
        body["meta"].as_object().unwrap().len(),
        1,
        "only requestDateTime"
    );
    let (status, _) = f
        .get(
            &format!(
                "{current}?fromBookingDate={}&toBookingDate={}",
                day(-6),
                day(0)
            ),
            &token,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = f
        .get(
            &format!(
                "{current}?fromBookingDate={}&toBookingDate={}",
                day(-7),
                day(0)
            ),
            &token,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    conforms(
        "accounts",
        "/accounts/{accountId}/transactions-current",
        status,
        &body,
    );
    // One bound without the other, reversed bounds, malformed dates.
    let transactions = format!("accounts/v2/accounts/{CHECKING}/transactions");
    for (query, expected) in [
        (format!("toBookingDate={}", day(0)), StatusCode::BAD_REQUEST),
        (
            format!("fromBookingDate={}&toBookingDate={}", day(0), day(-1)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "fromBookingDate=2026-13-01&toBookingDate=2026-13-02".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("fromBookingDate={}&toBookingDate={}", day(-400), day(0)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "creditDebitIndicator=AMBOS".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, body) = f.get(&format!("{transactions}?{query}"), &token).await;
        assert_eq!(status, expected, "{query}: {body}");
        conforms(
            "accounts",
            "/accounts/{accountId}/transactions",
            status,
            &body,
        );
    }
}

#[tokio::test]
async fn c4_10_c3_01_c3_04_resources_list_the_consents_resources() {
    let f = Fixture::new().await;
    let mut permissions = ACCOUNT_PERMISSIONS.to_vec();
    permissions.push(Permission::CreditCardsAccountsRead);
    let (_, token) = f
        .consent(
            MARIA_CPF,
            None,
            &permissions,
            &[CHECKING, SAVINGS, "card-maria-visa", "loan-maria-pessoal"],
        )
        .await;
    let (status, body) = f.get("resources/v3/resources", &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    conforms("resources", "/resources", status, &body);
    let listed: BTreeSet<(&str, &str)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["resourceId"].as_str().unwrap(),
                r["type"].as_str().unwrap(),
            )
        })
        .collect();
    // The loan is not reachable by the consent's permissions: not listed.
    assert_eq!(
        listed,
        BTreeSet::from([
            (CHECKING, "ACCOUNT"),
            (SAVINGS, "ACCOUNT"),
            ("card-maria-visa", "CREDIT_CARD_ACCOUNT"),
        ])
    );
    // Account ids of the accounts list equal the AVAILABLE ACCOUNT resources.
    let (_, accounts) = f.get("accounts/v2/accounts", &token).await;
    let ids: BTreeSet<&str> = accounts["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["accountId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, BTreeSet::from([CHECKING, SAVINGS]));
}

#[tokio::test]
async fn c3_02_customer_data_only_consent_lists_no_resources() {
    let f = Fixture::new().await;
    let (_, token) = f.consent(MARIA_CPF, None, &PERSONAL_PERMISSIONS, &[]).await;
    let (status, body) = f.get("resources/v3/resources", &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    conforms("resources", "/resources", status, &body);
    assert!(body["data"].as_array().unwrap().is_empty());
    assert_eq!(body["meta"]["totalRecords"], 0);
    assert_eq!(body["meta"]["totalPages"], 0);
}

#[tokio::test]
async fn c3_05_an_unavailable_resource_is_listed_as_such_omitted_from_products_and_403_on_detail() {
    let f = Fixture::new().await;
    let (_, token) = f
        .consent(
            JOAO_CPF,
            None,
            &ACCOUNT_PERMISSIONS,
            &["acc-joao-corrente", "acc-joao-encerrada"],
        )
        .await;
    let (_, resources) = f.get("resources/v3/resources", &token).await;
    let closed = resources["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resourceId"] == "acc-joao-encerrada")
        .unwrap();
    assert_eq!(closed["status"], "UNAVAILABLE");
    let (_, list) = f.get("accounts/v2/accounts", &token).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (status, body) = f
        .get("accounts/v2/accounts/acc-joao-encerrada/balances", &token)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["errors"][0]["code"], "STATUS_RESOURCE_UNAVAILABLE");
    conforms("accounts", "/accounts/{accountId}/balances", status, &body);
}

#[tokio::test]
async fn c5_01_customers_endpoints_answer_as_the_spec_says() {
    let f = Fixture::new().await;
    let (_, personal) = f.consent(MARIA_CPF, None, &PERSONAL_PERMISSIONS, &[]).await;
    for what in [
        "personal/identifications",
        "personal/qualifications",
        "personal/financial-relations",
    ] {
        let (status, body) = f.get(&format!("customers/v2/{what}"), &personal).await;
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        conforms("customers", &format!("/{what}"), status, &body);
    }
    let (_, body) = f
        .get("customers/v2/personal/identifications", &personal)
        .await;
    assert_eq!(body["data"][0]["documents"]["cpfNumber"], MARIA_CPF);

    let (_, business) = f
        .consent(
            MARIA_CPF,
            Some(PADARIA_CNPJ),
            &[
                Permission::CustomersBusinessIdentificationsRead,
                Permission::CustomersBusinessAdittionalinfoRead,
                Permission::ResourcesRead,
            ],
            &[],
        )
        .await;
    for what in [
        "business/identifications",
        "business/qualifications",
        "business/financial-relations",
    ] {
        let (status, body) = f.get(&format!("customers/v2/{what}"), &business).await;
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
        conforms("customers", &format!("/{what}"), status, &body);
    }
    let (_, body) = f
        .get("customers/v2/business/identifications", &business)
        .await;
    assert_eq!(body["data"][0]["cnpjNumber"], PADARIA_CNPJ);
}

#[tokio::test]
async fn operational_limits_are_monthly_and_reset_at_the_month_boundary() {
    let f = Fixture::new().await;
    // Late on the last day of November in Brasília (UTC-3).
    f.clock
        .set(Timestamp::parse_rfc3339("2026-12-01T02:30:00Z").unwrap());
    let (_, token) = f
        .consent(MARIA_CPF, None, &ACCOUNT_PERMISSIONS, &[CHECKING, SAVINGS])
        .await;
    let detail = format!("accounts/v2/accounts/{CHECKING}");
    for n in 1..=8 {
        let (status, body) = f.get(&detail, &token).await;
        assert_eq!(status, StatusCode::OK, "call {n}: {body}");
    }
    let (status, body) = f.get(&detail, &token).await;
    assert_eq!(status, StatusCode::LOCKED, "{body}");
    assert_eq!(body["errors"][0]["code"], "LIMITE_OPERACIONAL_EXCEDIDO");
    conforms("accounts", "/accounts/{accountId}", status, &body);
    let calls = f.spy.calls().len();
    assert_eq!(calls, 8, "the refused call never reached the connector");
    // Another object has its own quota.
    let (status, _) = f
        .get(&format!("accounts/v2/accounts/{SAVINGS}"), &token)
        .await;
    assert_eq!(status, StatusCode::OK);
    f.clock.advance(Duration::from_secs(60 * 60));
    // 03:30 UTC = 00:30 in Brasília on 1 December: a new month.
    let (status, body) = f.get(&detail, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn failed_calls_give_their_count_back() {
    let f = Fixture::new().await;
    let (_, token) = f
        .consent(
            JOAO_CPF,
            None,
            &ACCOUNT_PERMISSIONS,
            &["acc-joao-encerrada"],
        )
        .await;
    // The connector refuses (unavailable): 403, not counted, so more than
    // eight attempts in a month still reach it rather than 423.
    for _ in 0..12 {
        let (status, _) = f
            .get("accounts/v2/accounts/acc-joao-encerrada", &token)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn an_ended_consent_or_another_clients_consent_is_refused() {
    let f = Fixture::new().await;
    let (consent, token) = f
        .consent(MARIA_CPF, None, &ACCOUNT_PERMISSIONS, &[CHECKING])
        .await;
    let consents = DataConsents::new(
        f.storage.clone(),
        f.sealer.clone(),
        f.clock.clone(),
        DataConsentPolicy::default(),
    );
    consents
        .end_by_customer(f.brand.id(), &consent)
        .await
        .unwrap();
    let (status, body) = f.get("accounts/v2/accounts", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(f.spy.calls().is_empty());
}

const CARD: &str = "card-maria-visa";
const LOAN: &str = "loan-maria-pessoal";

#[tokio::test]
async fn credit_card_endpoints_answer_as_the_spec_says() {
    let f = Fixture::new().await;
    let (_, token) = f
        .consent(
            MARIA_CPF,
            None,
            &[
                Permission::CreditCardsAccountsRead,
                Permission::CreditCardsAccountsLimitsRead,
                Permission::CreditCardsAccountsTransactionsRead,
                Permission::CreditCardsAccountsBillsRead,
                Permission::CreditCardsAccountsBillsTransactionsRead,
                Permission::ResourcesRead,
            ],
            &[CARD],
        )
        .await;
    let base = "credit-cards-accounts/v2/accounts";
    let (status, bills) = f.get(&format!("{base}/{CARD}/bills"), &token).await;
    assert_eq!(status, StatusCode::OK, "{bills}");
    conforms(
        "credit-cards",
        "/accounts/{creditCardAccountId}/bills",
        status,
        &bills,
    );
    assert_eq!(bills["meta"]["totalRecords"], 12);
    let bill = bills["data"][1]["billId"].as_str().unwrap().to_owned();
    let today = f.clock.now().date_in_brasilia();
    let from = today.add_days(-90).unwrap();
    for (template, path) in [
        ("/accounts", base.to_owned()),
        ("/accounts/{creditCardAccountId}", format!("{base}/{CARD}")),
        (
            "/accounts/{creditCardAccountId}/limits",
            format!("{base}/{CARD}/limits"),
        ),
        (
            "/accounts/{creditCardAccountId}/transactions",
            format!(
                "{base}/{CARD}/transactions?fromTransactionDate={from}&toTransactionDate={today}"
            ),
        ),
        (
            "/accounts/{creditCardAccountId}/transactions-current",
            format!("{base}/{CARD}/transactions-current"),
        ),
        (
            "/accounts/{creditCardAccountId}/bills/{billId}/transactions",
            format!("{base}/{CARD}/bills/{bill}/transactions"),
        ),
    ] {
        let (status, body) = f.get(&path, &token).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        conforms("credit-cards", template, status, &body);
        if !template.ends_with("/limits") {
            assert!(
                !body["data"].as_array().is_some_and(Vec::is_empty)
                    || template.ends_with("current"),
                "{path}: {body}"
            );
        }
    }
    // Bills filtered by due date; a window without its start is refused.
    let (_, recent) = f
        .get(
            &format!("{base}/{CARD}/bills?fromDueDate={from}&toDueDate={today}"),
            &token,
        )
        .await;
    assert_eq!(recent["data"].as_array().unwrap().len(), 3, "{recent}");
    let (status, body) = f
        .get(&format!("{base}/{CARD}/bills?toDueDate={today}"), &token)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    conforms(
        "credit-cards",
        "/accounts/{creditCardAccountId}/bills",
        status,
        &body,
    );
    // Without the bills permission.
    let (_, limited) = f
        .consent(
            MARIA_CPF,
            None,
            &[
                Permission::CreditCardsAccountsRead,
                Permission::CreditCardsAccountsLimitsRead,
                Permission::ResourcesRead,
            ],
            &[CARD],
        )
        .await;
    f.spy.clear();
    let (status, body) = f.get(&format!("{base}/{CARD}/bills"), &limited).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    conforms(
        "credit-cards",
        "/accounts/{creditCardAccountId}/bills",
        status,
        &body,
    );
    assert!(f.spy.calls().is_empty());
}

#[tokio::test]
async fn credit_operation_endpoints_answer_as_the_spec_says() {
    let f = Fixture::new().await;
    let operations = [
        (
            "loans",
            LOAN,
            None,
            [
                Permission::LoansRead,
                Permission::LoansWarrantiesRead,
                Permission::LoansScheduledInstalmentsRead,
                Permission::LoansPaymentsRead,
            ],
        ),
        (
            "financings",
            "fin-maria-imobiliario",
            None,
            [
                Permission::FinancingsRead,
                Permission::FinancingsWarrantiesRead,
                Permission::FinancingsScheduledInstalmentsRead,
                Permission::FinancingsPaymentsRead,
            ],
        ),
        (
            "invoice-financings",
            "inv-padaria-duplicatas",
            Some(PADARIA_CNPJ),
            [
                Permission::InvoiceFinancingsRead,
                Permission::InvoiceFinancingsWarrantiesRead,
                Permission::InvoiceFinancingsScheduledInstalmentsRead,
                Permission::InvoiceFinancingsPaymentsRead,
            ],
        ),
        (
            "unarranged-accounts-overdraft",
            "ovd-maria-cheque-especial",
            None,
            [
                Permission::UnarrangedAccountsOverdraftRead,
                Permission::UnarrangedAccountsOverdraftWarrantiesRead,
                Permission::UnarrangedAccountsOverdraftScheduledInstalmentsRead,
                Permission::UnarrangedAccountsOverdraftPaymentsRead,
            ],
        ),
    ];
    for (api, contract, business, permissions) in operations {
        let mut granted = permissions.to_vec();
        granted.push(Permission::ResourcesRead);
        let (_, token) = f.consent(MARIA_CPF, business, &granted, &[contract]).await;
        let base = format!("{api}/v2/contracts");
        for (template, path) in [
            ("/contracts", base.clone()),
            ("/contracts/{contractId}", format!("{base}/{contract}")),
            (
                "/contracts/{contractId}/warranties",
                format!("{base}/{contract}/warranties"),
            ),
            (
                "/contracts/{contractId}/scheduled-instalments",
                format!("{base}/{contract}/scheduled-instalments"),
            ),
            (
                "/contracts/{contractId}/payments",
                format!("{base}/{contract}/payments"),
            ),
        ] {
            let (status, body) = f.get(&path, &token).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            conforms(api, template, status, &body);
        }
        let (_, list) = f.get(&base, &token).await;
        assert_eq!(list["data"].as_array().unwrap().len(), 1, "{list}");
        assert_eq!(list["data"][0]["contractId"], contract);
        // Another product's contract is not in this consent.
        let (status, body) = f
            .get(&format!("{base}/loan-maria-consignado"), &token)
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        conforms(api, "/contracts/{contractId}", status, &body);
    }
}

#[tokio::test]
async fn c3_06_c4_13_operational_limit_modules_pass_at_the_minimum_quotas() {
    let f = Fixture::new().await;
    let (_, token) = f
        .consent(MARIA_CPF, None, &ACCOUNT_PERMISSIONS, &[CHECKING, SAVINGS])
        .await;
    // Resources are never limited: 450 reads.
    for n in 0..450 {
        let (status, _) = f.get("resources/v3/resources", &token).await;
        assert_eq!(status, StatusCode::OK, "resources call {n}");
    }
    // 420 balances, 420 overdraft limits, 240 current transactions.
    for (path, calls) in [
        (format!("accounts/v2/accounts/{CHECKING}/balances"), 420),
        (
            format!("accounts/v2/accounts/{CHECKING}/overdraft-limits"),
            420,
        ),
        (
            format!("accounts/v2/accounts/{CHECKING}/transactions-current"),
            240,
        ),
    ] {
        for n in 0..calls {
            let (status, body) = f.get(&path, &token).await;
            assert_eq!(status, StatusCode::OK, "{path} call {n}: {body}");
        }
        let (status, _) = f.get(&path, &token).await;
        assert_eq!(status, StatusCode::LOCKED, "{path} past its quota");
    }
    // Paging with page-size=1 through 20 next links costs one call.
    let from = f.clock.now().date_in_brasilia().add_days(-120).unwrap();
    let to = f.clock.now().date_in_brasilia();
    let (status, mut page) = f
        .get(
            &format!("accounts/v2/accounts/{SAVINGS}/transactions?fromBookingDate={from}&toBookingDate={to}&page-size=1"),
            &token,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for n in 0..20 {
        let next = page["links"]["next"].as_str().unwrap().to_owned();
        let (status, body) = f.get(&next, &token).await;
        assert_eq!(status, StatusCode::OK, "next link {n}: {body}");
        page = body;
    }
}

#[tokio::test]
async fn c5_04_customer_quotas_are_minimums_the_institution_may_raise() {
    let f = Fixture::new().await;
    let (_, token) = f.consent(MARIA_CPF, None, &PERSONAL_PERMISSIONS, &[]).await;
    // At the minimum (low frequency: 8 a month) the ninth call is refused.
    for _ in 0..8 {
        let (status, _) = f.get("customers/v2/personal/qualifications", &token).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = f.get("customers/v2/personal/qualifications", &token).await;
    assert_eq!(status, StatusCode::LOCKED);
    // The suite's module makes 30 calls per endpoint: an institution that
    // runs it raises its quotas (lowering below the minimum is ignored).
    let consents = DataConsents::new(
        f.storage.clone(),
        f.sealer.clone(),
        f.clock.clone(),
        DataConsentPolicy::default(),
    );
    let raised = DataApis::builder(
        f.brand.clone(),
        consents,
        f.storage.clone(),
        f.sealer.clone(),
        f.clock.clone(),
    )
    .customers(f.spy.clone())
    .monthly_limit(
        &opus_transmitter::endpoints::PERSONAL_IDENTIFICATIONS,
        Some(30),
    )
    .monthly_limit(
        &opus_transmitter::endpoints::PERSONAL_FINANCIAL_RELATIONS,
        Some(2),
    )
    .build();
    let f = Fixture { apis: raised, ..f };
    let (_, fresh) = f.consent(MARIA_CPF, None, &PERSONAL_PERMISSIONS, &[]).await;
    for n in 0..30 {
        let (status, body) = f.get("customers/v2/personal/identifications", &fresh).await;
        assert_eq!(status, StatusCode::OK, "call {n}: {body}");
    }
    for n in 0..8 {
        let (status, _) = f
            .get("customers/v2/personal/financial-relations", &fresh)
            .await;
        assert_eq!(status, StatusCode::OK, "call {n}: the minimum stands");
    }
}

#[tokio::test]
async fn c4_12_c3_05_resources_awaiting_approval_or_on_hold_are_listed_and_refused() {
    let f = Fixture::new().await;
    // A PJ consent over the company's accounts, one of them joint.
    let (_, token) = f
        .consent(
            MARIA_CPF,
            Some(PADARIA_CNPJ),
            &ACCOUNT_PERMISSIONS,
            &["acc-padaria-corrente", "acc-padaria-conjunta"],
        )
        .await;
    let (_, resources) = f.get("resources/v3/resources", &token).await;
    conforms("resources", "/resources", StatusCode::OK, &resources);
    let joint = resources["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resourceId"] == "acc-padaria-conjunta")
        .unwrap();
    assert_eq!(joint["status"], "PENDING_AUTHORISATION");
    let (_, list) = f.get("accounts/v2/accounts", &token).await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["accountId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["acc-padaria-corrente"]);
    let (status, body) = f
        .get("accounts/v2/accounts/acc-padaria-conjunta/balances", &token)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["errors"][0]["code"],
        "STATUS_RESOURCE_AWAITING_AUTHORIZATION"
    );
    conforms("accounts", "/accounts/{accountId}/balances", status, &body);

    // A card on hold.
    let (_, token) = f
        .consent(
            JOAO_CPF,
            None,
            &[
                Permission::CreditCardsAccountsRead,
                Permission::CreditCardsAccountsLimitsRead,
                Permission::ResourcesRead,
            ],
            &["card-joao-elo"],
        )
        .await;
    let (_, resources) = f.get("resources/v3/resources", &token).await;
    assert_eq!(resources["data"][0]["status"], "TEMPORARILY_UNAVAILABLE");
    let (_, cards) = f.get("credit-cards-accounts/v2/accounts", &token).await;
    assert!(cards["data"].as_array().unwrap().is_empty(), "{cards}");
    let (status, body) = f
        .get(
            "credit-cards-accounts/v2/accounts/card-joao-elo/limits",
            &token,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["errors"][0]["code"],
        "STATUS_RESOURCE_TEMPORARILY_UNAVAILABLE"
    );
    conforms(
        "credit-cards",
        "/accounts/{creditCardAccountId}/limits",
        status,
        &body,
    );
}
