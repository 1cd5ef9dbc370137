//! The account holder's test world, shared by the payments test suites:
//! one brand, one initiator with its keys in a mock directory and its
//! transport certificate, the simulated SPI, the synthetic bank, and API
//! instances over a store (several instances over one store are replicas).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use opus_consent::{PaymentConsents, RecurringConsents, RecurringConsentsApi};
use opus_core::keys::{JwkSet, KeyCustody, KeyPurpose};
use opus_core::seal::Sealer;
use opus_core::store::{ClientRecord, ClientStatus, TokenHash, TokenKind, TokenRecord};
use opus_core::{
    AuthorisationServerId, Brand, BrandId, ClientId, Clock, Cnpj, ConsentId, GrantId,
    OrganisationId, SoftwareStatementId, Storage,
};
use opus_fapi::jose::jwk::certificate_thumbprint;
use opus_fapi::jose::jws::{self, JwsPolicy};
use opus_fapi::mtls::{ClientCertificateLayer, ConnectionInfo};
use opus_fapi::server::guard::ResourceGuardLayer;
use opus_holder::{PixPaymentsApi, PixPaymentsParts};
use opus_testkit::{
    IssuedCertificate, ManualClock, MockDirectory, OfbSubject, SimulatedSpi, SyntheticBank,
    TestKeyCustody, TestPki,
};
use rustls::pki_types::CertificateDer;
use serde_json::Value;
use tower::{Layer, ServiceExt};
use url::Url;

pub(crate) const INTERACTION: &str = "8f0c1d2e-3a4b-4c5d-9e6f-7a8b9c0d1e2f";
pub(crate) const CLIENT: &str = "itp-client";
/// A second client of the same initiator.
pub(crate) const OTHER_CLIENT: &str = "itp-other-client";

/// What the world outside one API instance is: shared by replicas.
pub(crate) struct World {
    pub clock: Arc<ManualClock>,
    pub brand: Brand,
    pub directory: Arc<MockDirectory>,
    pub itp: Arc<TestKeyCustody>,
    pub itp_org: OrganisationId,
    pub bank_keys: Arc<TestKeyCustody>,
    pub custody: Arc<TestKeyCustody>,
    pub cert: IssuedCertificate,
    pub spi: Arc<SimulatedSpi>,
    pub bank: Arc<SyntheticBank>,
}

/// One instance of the account holder over `storage`.
pub(crate) struct Instance {
    pub storage: Storage,
    pub consents: PaymentConsents,
    pub recurring: RecurringConsents,
    pub api: PixPaymentsApi,
    pub recurring_consents_api: RecurringConsentsApi,
}

/// An answer, its signature checked and its claims as the body.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub signed: bool,
    pub body: Value,
}

/// Which API a call goes to.
#[derive(Clone, Copy)]
pub(crate) enum Api {
    /// Pix payments (payments v4).
    Payments,
    /// Recurring consents (automatic payments v2).
    RecurringConsents,
    /// Recurring Pix payments (automatic payments v2).
    RecurringPayments,
}

impl Api {
    fn base(self) -> &'static str {
        match self {
            Api::Payments => opus_holder::BASE_PATH,
            Api::RecurringConsents => opus_consent::recurring::BASE_PATH,
            Api::RecurringPayments => opus_holder::recurring::BASE_PATH,
        }
    }
}

impl World {
    pub(crate) async fn new() -> Arc<Self> {
        let clock = Arc::new(ManualClock::new());
        let brand = Brand::builder(BrandId::new("banco-azul").unwrap())
            .display_name("Banco Azul")
            .organisation_id(OrganisationId::random())
            .authorisation_server_id(AuthorisationServerId::random())
            .issuer(Url::parse("https://127.0.0.1/banco-azul").unwrap())
            // The payments specs want a DNS name in links.
            .api_base_url(Url::parse("https://api.banco-azul.test/banco-azul/api").unwrap())
            .build()
            .unwrap();
        let directory = Arc::new(MockDirectory::new());
        let itp = Arc::new(TestKeyCustody::new("initiator"));
        let itp_org = OrganisationId::random();
        directory.set_organisation_jwks(itp_org, itp.public_jwks().await.unwrap());
        let pki = TestPki::generate("Directory").unwrap();
        let cert = pki
            .transport_certificate(&OfbSubject::example(
                "itp.example",
                Cnpj::parse("11222333000181").unwrap(),
            ))
            .unwrap();
        let today = clock.now().date_in_brasilia();
        Arc::new(Self {
            clock,
            brand,
            directory,
            itp,
            itp_org,
            bank_keys: Arc::new(TestKeyCustody::new("bank")),
            custody: Arc::new(TestKeyCustody::new("seal")),
            cert,
            spi: Arc::new(SimulatedSpi::new()),
            bank: Arc::new(SyntheticBank::new(today)),
        })
    }

    /// An instance over `storage`; `first` registers the initiator's client.
    pub(crate) async fn instance(self: &Arc<Self>, storage: Storage, first: bool) -> Instance {
        let sealer = Arc::new(
            Sealer::open_or_create(
                self.custody.clone(),
                storage.data_keys.clone(),
                self.clock.clone(),
            )
            .await
            .unwrap(),
        );
        for client in [CLIENT, OTHER_CLIENT].into_iter().filter(|_| first) {
            let now = self.clock.now();
            storage
                .clients
                .insert_client(&ClientRecord {
                    brand: self.brand.id().clone(),
                    client_id: ClientId::new(client).unwrap(),
                    organisation_id: self.itp_org,
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
        let consents = PaymentConsents::new(storage.clone(), sealer.clone(), self.clock.clone());
        let recurring = RecurringConsents::new(storage.clone(), sealer.clone(), self.clock.clone());
        let api = PixPaymentsApi::new(
            self.brand.clone(),
            PixPaymentsParts {
                consents: consents.clone(),
                storage: storage.clone(),
                sealer: sealer.clone(),
                clock: self.clock.clone(),
                directory: self.directory.clone(),
                keys: self.bank_keys.clone(),
                spi: self.spi.clone(),
            },
        )
        .with_recurring(recurring.clone());
        let recurring_consents_api = RecurringConsentsApi::new(
            self.brand.clone(),
            recurring.clone(),
            storage.clone(),
            self.directory.clone(),
            self.bank_keys.clone(),
        );
        Instance {
            storage,
            consents,
            recurring,
            api,
            recurring_consents_api,
        }
    }

    /// `claims` signed by the initiator, addressed to `path` of `api`
    /// (with `iss`, `aud`, `iat` and a fresh `jti`).
    pub(crate) async fn signed(&self, api: Api, path: &str, data: Value) -> String {
        let claims = serde_json::json!({
            "data": data,
            "iss": self.itp_org.to_string(),
            "aud": self.brand.api_url(&format!("{}{path}", api.base())).unwrap().to_string(),
            "iat": self.clock.now().unix_seconds(),
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        let signer = self.itp.signer(KeyPurpose::MessageSigning).await.unwrap();
        jws::sign_claims(signer.as_ref(), Some("JWT"), &claims)
            .await
            .unwrap()
    }
}

impl Instance {
    /// An access token of the initiator with `scope`, bound to `consent`.
    pub(crate) async fn token_with(
        &self,
        world: &World,
        consent: Option<&ConsentId>,
        scope: String,
    ) -> String {
        self.token_of(world, CLIENT, consent, scope).await
    }

    /// An access token of `client` (of the initiator's organisation).
    pub(crate) async fn token_of(
        &self,
        world: &World,
        client: &str,
        consent: Option<&ConsentId>,
        scope: String,
    ) -> String {
        let token = format!("at-{}", uuid::Uuid::new_v4());
        let now = world.clock.now();
        self.storage
            .grants
            .put_token(&TokenRecord {
                brand: world.brand.id().clone(),
                token: TokenHash::of(&token),
                kind: TokenKind::Access,
                grant_id: GrantId::random(),
                client_id: ClientId::new(client).unwrap(),
                consent_id: consent.cloned(),
                scope,
                certificate_thumbprint: Some(certificate_thumbprint(&world.cert.der)),
                issued_at: now,
                expires_at: Some(now.saturating_add(Duration::from_secs(86_400))),
                revoked_at: None,
                subject: None,
            })
            .await
            .unwrap();
        token
    }

    /// A call to `api` at `path` (under its base) over the initiator's
    /// certificate, through the resource guard.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn call_api(
        &self,
        world: &World,
        api: Api,
        method: Method,
        path: &str,
        token: &str,
        body: Option<String>,
        key: Option<&str>,
    ) -> Answer {
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("/banco-azul/api/{}{path}", api.base()))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header("x-fapi-interaction-id", INTERACTION);
        if let Some(key) = key {
            builder = builder.header("x-idempotency-key", key);
        }
        let bytes = match body {
            Some(jwt) => {
                builder = builder.header(header::CONTENT_TYPE, "application/jwt");
                Bytes::from(jwt)
            }
            None => Bytes::new(),
        };
        let mut request = builder.body(Full::new(bytes)).unwrap();
        request.extensions_mut().insert(ConnectionInfo::new(
            SocketAddr::from(([127, 0, 0, 1], 40_000)),
            Some(Arc::new(
                world
                    .cert
                    .chain_der
                    .iter()
                    .cloned()
                    .map(CertificateDer::from)
                    .collect(),
            )),
        ));
        let guard = ResourceGuardLayer::new(
            world.brand.id().clone(),
            self.storage.clone(),
            world.clock.clone(),
        );
        let tls = ClientCertificateLayer::tls_only();
        let response = match api {
            Api::Payments => tls
                .layer(guard.layer(self.api.clone()))
                .oneshot(request)
                .await
                .unwrap(),
            Api::RecurringConsents => tls
                .layer(guard.layer(self.recurring_consents_api.clone()))
                .oneshot(request)
                .await
                .unwrap(),
            Api::RecurringPayments => tls
                .layer(guard.layer(self.api.recurring().unwrap()))
                .oneshot(request)
                .await
                .unwrap(),
        };
        answer(world, response).await
    }
}

async fn answer<B>(world: &World, response: Response<B>) -> Answer
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let status = response.status();
    let signed = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v == "application/jwt");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if signed {
        let keys: JwkSet = world.bank_keys.public_jwks().await.unwrap();
        let verified = jws::verify(
            std::str::from_utf8(&bytes).unwrap(),
            &keys,
            &JwsPolicy::ofb(),
        )
        .unwrap();
        let claims = verified.claims().unwrap();
        assert_eq!(claims["aud"], world.itp_org.to_string());
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

/// The PostgreSQL URL from `OPUS_POSTGRES_URL`; `None` (with a message)
/// when unset, except under `CI=true`.
pub(crate) fn postgres_url() -> Option<String> {
    match std::env::var("OPUS_POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but OPUS_POSTGRES_URL is not set: the replica tests must run in CI")
        }
        Err(_) => {
            eprintln!(
                "skipping the PostgreSQL replica tests: set OPUS_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

pub(crate) async fn postgres(url: &str, schema: &str, create: bool) -> Storage {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    let options: PgConnectOptions = url.parse().unwrap();
    if create {
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
    }
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options.options([("search_path", schema)]))
        .await
        .unwrap();
    Storage::from_backend(Arc::new(
        opus_store::PostgresStore::from_pool(pool).await.unwrap(),
    ))
}
