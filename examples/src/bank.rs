//! A bank on loopback, for the sandbox and for interoperability runs, with
//! two brands (Banco Azul and Banco Verde, each its own issuer, keys and
//! API base under `/<brand>/`): one FAPI-BR authorization server for both,
//! each brand's Consents API and data APIs
//! (resources, accounts, customers, credit cards, credit operations over
//! the synthetic bank) behind the resource guard, the management API for its channels, a
//! test-mode login front that approves as the consent's `loggedUser`, and a
//! mock directory offering the interop kit's test-registration contract —
//! all on one HTTPS listener at 127.0.0.1 that asks for (and verifies, but
//! does not require) client certificates.
//!
//! Test mode only: the login front approves every interaction for scripts;
//! a browser (an Accept header naming `application/xhtml+xml`, as browsers'
//! navigations do) is sent to the brand's interaction pages,
//! whose test-mode login accepts any password for the consent's customer.

use std::convert::Infallible;
use std::error::Error;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use opus_consent::{
    ChannelAuthenticator, ChannelPrincipal, ConsentRouter, ConsentsApi, DataConsentPolicy,
    DataConsents, ManagementApi, PaymentConsentAuthorisation, PaymentConsents, PaymentConsentsApi,
    RecurringConsentAuthorisation, RecurringConsents, RecurringConsentsApi,
};
use opus_core::connector::{Financings, InvoiceFinancings, Loans, UnarrangedAccountsOverdraft};
use opus_core::interaction::AuthenticationEvidence;
use opus_core::keys::{JwkSet, KeyCustody};
use opus_core::seal::Sealer;
use opus_core::{
    AuthorisationServerId, Brand, BrandId, Clock, Cnpj, Cpf, InteractionSessionId, OrganisationId,
    SoftwareStatementId, Storage, SystemClock, Theme,
};
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
use opus_fapi::mtls::{self, ClientCertPolicy, ClientCertificateLayer, TrustedGateway};
use opus_fapi::server::guard::ResourceGuardLayer;
use opus_fapi::server::{
    AuthorizationServer, Decision, DirectoryClientKeys, InteractionHandle, InteractionView,
    Registration, ServerBrand, StepName, StoreConsentAuthorisation,
};
use opus_holder::webhook::{MtlsWebhookTransport, WebhookPass, WebhookSender};
use opus_holder::{PixPaymentsApi, PixPaymentsParts, RecurringPixPaymentsApi};
use opus_pcm::observe::RequestSpanLayer;
use opus_pcm::operations::{
    AdminApi, BackOffice, CommonApi, Operations, Operator, OperatorAuthenticator,
};
use opus_pcm::{EndpointCatalogue, HttpsPcmTransport, PcmLayer, PcmPass, PcmReporter, PcmSender};
use opus_store::MemoryStore;
use opus_testkit::counters::RecordingCounters;
use opus_testkit::{
    IssuedCertificate, MockDirectory, MockPcmCollector, OfbSubject, RecordingAuthenticator,
    SimulatedSpi, SyntheticBank, SyntheticOpenData, TestKeyCustody, TestPki,
};
use opus_transmitter::{DataApis, OpenDataApis};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceExt};
use url::Url;

/// Errors of this module.
pub type Failure = Box<dyn Error + Send + Sync>;

/// The SSA issuer of the mock directory (sandbox environment).
pub const SSA_ISSUER: &str = "Open Banking Open Banking Brasil sandbox SSA issuer";
const MAX_BODY: usize = 256 * 1024;

/// What every brand of the bank shares.
struct Shared {
    base: Url,
    /// One authorization server for every brand.
    server: AuthorizationServer,
    /// Where client certificates come from: the TLS handshake, or a
    /// trusted gateway's header. Applied once, around each brand's stack
    /// (outside the metrics capture, which names the caller from it).
    certificates: ClientCertificateLayer,
    brands: Vec<BrandParts>,
    directory: Arc<MockDirectory>,
    pki: Arc<TestPki>,
    clock: Arc<dyn Clock>,
}

/// One brand's APIs.
struct BrandParts {
    brand: Brand,
    consents_api: ConsentsApi,
    guard: ResourceGuardLayer,
    data_guard: ResourceGuardLayer,
    data_apis: DataApis,
    payments_api: PaymentConsentsApi,
    pix_api: PixPaymentsApi,
    recurring_consents_api: RecurringConsentsApi,
    recurring_pix_api: RecurringPixPaymentsApi,
    common_api: CommonApi,
    admin_api: AdminApi,
    open_data: OpenDataApis,
    back_office: BackOffice,
    management: ManagementApi,
}

/// The sandbox bank's brands: id, name, the CNPJ of its transport
/// certificate, and its colour.
const BRANDS: [(&str, &str, &str, &str); 2] = [
    ("banco-azul", "Banco Azul", "11444777000161", "#1f4e79"),
    ("banco-verde", "Banco Verde", "50685362000135", "#1b6e3a"),
];

/// One brand of a [`BankSetup`].
pub struct BrandSetup {
    /// The brand id (the first path segment of its issuer and API base).
    pub id: String,
    /// The name shown to customers.
    pub name: String,
    /// The brand's directory organisation (a random one when `None`).
    pub organisation_id: Option<OrganisationId>,
    /// The brand's signing keys (a fresh software RSA key when `None`).
    pub keys: Option<Arc<dyn KeyCustody>>,
    /// The pages' theme (primary colour, logo); the default theme when `None`.
    pub theme: Option<Theme>,
}

impl std::fmt::Debug for BrandSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrandSetup")
            .field("id", &self.id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl BrandSetup {
    /// The sandbox's brands (Banco Azul, Banco Verde) with fresh keys.
    pub fn sandbox() -> Vec<Self> {
        BRANDS
            .iter()
            .map(|(id, name, _, colour)| Self {
                id: (*id).to_owned(),
                name: (*name).to_owned(),
                organisation_id: None,
                keys: None,
                theme: Theme::new(colour, None).ok(),
            })
            .collect()
    }
}

/// How to start a bank: where it listens, its public URL, its brands, its
/// state and its back office.
pub struct BankSetup {
    /// The address to listen on (`127.0.0.1:0` for a free loopback port).
    pub listen: std::net::SocketAddr,
    /// The URL clients reach it at (`https://<listen address>/` when `None`).
    pub public_url: Option<Url>,
    /// The brands (at least one).
    pub brands: Vec<BrandSetup>,
    /// The storage ports.
    pub storage: Storage,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The back office behind the connectors.
    pub synthetic: SyntheticBank,
    /// Behind a gateway that terminates TLS and forwards the client
    /// certificate in a header: the bank then serves plain HTTP and honours
    /// the header only from the gateway's addresses. `None`: the bank
    /// terminates mutual TLS itself.
    pub gateway: Option<TrustedGateway>,
    /// Captures every call for the metrics reports (PCM), as a participant
    /// must. `false` serves without the capture: only for benchmarks that
    /// measure what the capture costs.
    pub metrics_capture: bool,
    /// Multiplies the monthly quota of every counted data endpoint (the
    /// operational limits are minimums an institution may raise); 1 keeps
    /// the spec's.
    pub quota_factor: u64,
}

impl std::fmt::Debug for BankSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankSetup")
            .field("listen", &self.listen)
            .field("brands", &self.brands)
            .finish_non_exhaustive()
    }
}

/// A running loopback bank.
pub struct LoopbackBank {
    base: Url,
    /// Every brand; the first is the one the single-brand accessors name.
    brands: Vec<Brand>,
    brand: Brand,
    ca_pem: String,
    webhooks: Arc<WebhookSender>,
    pix_apis: Vec<PixPaymentsApi>,
    clock: Arc<dyn Clock>,
    collector: Arc<MockPcmCollector>,
    pcm_sender: Arc<PcmSender>,
    /// Issues test server certificates the bank trusts (webhook receivers).
    server_pki: Arc<TestPki>,
    counters: Arc<RecordingCounters>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for LoopbackBank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackBank")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn plain(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

impl LoopbackBank {
    /// Starts the bank on a free loopback port.
    ///
    /// # Errors
    /// When the listener, the PKI or the server configuration cannot be set up.
    pub async fn start() -> Result<Self, Failure> {
        Self::start_with_clock(Arc::new(SystemClock)).await
    }

    /// Starts the bank on a free loopback port, on `clock` (tests move a
    /// `ManualClock` to reach payment dates and deadlines; participants
    /// should sign with the same clock).
    ///
    /// # Errors
    /// When the listener, the PKI or the server configuration cannot be set up.
    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> Result<Self, Failure> {
        let synthetic = SyntheticBank::new(clock.now().date_in_brasilia());
        Self::start_with_data(clock, synthetic).await
    }

    /// Starts the bank on `clock` over the back office `synthetic` (tests
    /// that need more customers, or change the data as time passes).
    ///
    /// # Errors
    /// As [`LoopbackBank::start`].
    pub async fn start_with_data(
        clock: Arc<dyn Clock>,
        synthetic: SyntheticBank,
    ) -> Result<Self, Failure> {
        let storage = Storage::from_backend(Arc::new(MemoryStore::new()));
        Self::start_on(clock, synthetic, storage).await
    }

    /// Starts the bank on `clock` over the back office `synthetic`, keeping
    /// its state in `storage` (the sandbox uses an SQLite file).
    ///
    /// # Errors
    /// As [`LoopbackBank::start`].
    pub async fn start_on(
        clock: Arc<dyn Clock>,
        synthetic: SyntheticBank,
        storage: Storage,
    ) -> Result<Self, Failure> {
        Self::start_with(BankSetup {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            brands: BrandSetup::sandbox(),
            storage,
            clock,
            synthetic,
            gateway: None,
            metrics_capture: true,
            quota_factor: 1,
        })
        .await
    }

    /// Starts the bank as `setup` says.
    ///
    /// # Errors
    /// As [`LoopbackBank::start`]; also when `setup` has no brand.
    pub async fn start_with(setup: BankSetup) -> Result<Self, Failure> {
        let BankSetup {
            listen,
            public_url,
            brands: brand_setups,
            mut storage,
            clock,
            synthetic,
            gateway,
            metrics_capture,
            quota_factor,
        } = setup;
        if brand_setups.is_empty() {
            return Err("a bank needs at least one brand".into());
        }
        let listener = TcpListener::bind(listen).await?;
        let base = match public_url {
            Some(url) => url,
            None => Url::parse(&format!("https://{}/", listener.local_addr()?))?,
        };
        let counters = Arc::new(RecordingCounters::new(storage.counters.clone()));
        storage.counters = counters.clone();
        let sealer = Arc::new(
            Sealer::open_or_create(
                Arc::new(TestKeyCustody::new("loopback-bank")),
                storage.data_keys.clone(),
                clock.clone(),
            )
            .await?,
        );
        let pki = Arc::new(TestPki::generate("Loopback Directory")?);
        let directory = Arc::new(MockDirectory::new());
        // Test mode: whoever the consent names is authenticated without a
        // human, and the login front below approves everything on offer.
        let authenticator = Arc::new(RecordingAuthenticator::auto_approving(
            Some(base.join("login")?),
            clock.clone(),
        ));
        let payment_consents = PaymentConsents::new(storage.clone(), sealer.clone(), clock.clone());
        let recurring_consents =
            RecurringConsents::new(storage.clone(), sealer.clone(), clock.clone());
        let consent_ports = ConsentRouter::new(
            storage.clone(),
            Arc::new(StoreConsentAuthorisation::new(
                storage.clone(),
                sealer.clone(),
                clock.clone(),
            )),
            Arc::new(
                PaymentConsentAuthorisation::new(payment_consents.clone())
                    .with_debtor_accounts(Arc::new(synthetic.clone())),
            ),
        )
        .with_recurring(Arc::new(
            RecurringConsentAuthorisation::new(recurring_consents.clone())
                .with_debtor_accounts(Arc::new(synthetic.clone())),
        ));
        let consents = DataConsents::new(
            storage.clone(),
            sealer.clone(),
            clock.clone(),
            DataConsentPolicy::default(),
        );
        let bank = Arc::new(synthetic.clone());
        let mut server = AuthorizationServer::builder();
        let mut parts = Vec::new();
        let mut reporters = Vec::new();
        for setup in brand_setups {
            let id = setup.id.as_str();
            let brand = Brand::builder(BrandId::new(id)?)
                .display_name(setup.name.as_str())
                .organisation_id(setup.organisation_id.unwrap_or_else(OrganisationId::random))
                .theme(setup.theme.unwrap_or_default())
                .authorisation_server_id(AuthorisationServerId::random())
                .issuer(base.join(id)?)
                .api_base_url(base.join(&format!("{id}/api"))?)
                .mtls_base_url(base.clone())
                .build()?;
            let keys: Arc<dyn KeyCustody> = match setup.keys {
                Some(keys) => keys,
                None => Arc::new(
                    SoftwareKeyCustody::builder()
                        .signing_key(SoftwareKey::generate_rsa(&format!("{id}-sig"))?)
                        .build()?,
                ),
            };
            // The brand's signing key is published where initiators look for it.
            directory.set_organisation_jwks(*brand.organisation_id(), keys.public_jwks().await?);
            let recurring_consents_api = RecurringConsentsApi::new(
                brand.clone(),
                recurring_consents.clone(),
                storage.clone(),
                directory.clone(),
                keys.clone(),
            );
            let payments_api = PaymentConsentsApi::new(
                brand.clone(),
                payment_consents.clone(),
                storage.clone(),
                sealer.clone(),
                clock.clone(),
                directory.clone(),
                keys.clone(),
            );
            let pix_api = PixPaymentsApi::new(
                brand.clone(),
                PixPaymentsParts {
                    consents: payment_consents.clone(),
                    storage: storage.clone(),
                    sealer: sealer.clone(),
                    clock: clock.clone(),
                    directory: directory.clone(),
                    keys: keys.clone(),
                    spi: Arc::new(SimulatedSpi::new()),
                },
            )
            .with_recurring(recurring_consents.clone());
            let recurring_pix_api = pix_api
                .recurring()
                .ok_or("recurring payments are configured above")?;
            server = server.brand(ServerBrand {
                brand: brand.clone(),
                keys,
            });
            let consents_api = ConsentsApi::new(brand.clone(), consents.clone(), clock.clone());
            // The Consents API checks scopes per operation (renewals come with
            // the customer's consent-bound token).
            let guard = ResourceGuardLayer::new(brand.id().clone(), storage.clone(), clock.clone());
            let data_guard =
                ResourceGuardLayer::new(brand.id().clone(), storage.clone(), clock.clone())
                    .require_authorised_consent();
            let mut data_apis = DataApis::builder(
                brand.clone(),
                consents.clone(),
                storage.clone(),
                sealer.clone(),
                clock.clone(),
            );
            if quota_factor > 1 {
                for endpoint in opus_core::data_apis::ALL {
                    if let Some(limit) = endpoint.monthly_limit {
                        data_apis = data_apis
                            .monthly_limit(endpoint, Some(limit.saturating_mul(quota_factor)));
                    }
                }
            }
            let data_apis = data_apis
                .resources(bank.clone())
                .accounts(bank.clone())
                .customers(bank.clone())
                .credit_cards(bank.clone())
                .credit_operations::<Loans>(bank.clone())
                .credit_operations::<Financings>(bank.clone())
                .credit_operations::<InvoiceFinancings>(bank.clone())
                .credit_operations::<UnarrangedAccountsOverdraft>(bank.clone())
                .build();
            let management = ManagementApi::new(
                brand.clone(),
                consents.clone(),
                clock.clone(),
                Arc::new(TestChannel),
                base.join(&format!("{id}/{CHANNELS_PATH}"))?,
            );
            let open_data = OpenDataApis::new(
                brand.clone(),
                Arc::new(SyntheticOpenData::new()),
                clock.clone(),
            );
            let operations = Operations::new(brand.clone(), storage.clone(), clock.clone());
            reporters.push(PcmReporter::for_brand(
                &brand,
                storage.clone(),
                clock.clone(),
            ));
            parts.push(BrandParts {
                consents_api,
                guard,
                data_guard,
                data_apis,
                payments_api,
                pix_api,
                recurring_consents_api,
                recurring_pix_api,
                common_api: CommonApi::new(operations.clone()),
                admin_api: AdminApi::new(operations.clone()),
                open_data,
                back_office: BackOffice::new(
                    operations,
                    Arc::new(TestOperator),
                    format!("/{id}{OPS_PATH}"),
                ),
                management,
                brand,
            });
        }
        // Each step of the hybrid flow is reported to the metrics collector
        // (under the first brand: the flow observer is one for the server).
        let first_reporter = reporters.first().ok_or("no brand")?.clone();
        if metrics_capture {
            server = server.flow_observer(Arc::new(first_reporter));
        }
        let server = server
            .consent_authorisation(Arc::new(consent_ports))
            .storage(storage.clone())
            .sealer(sealer)
            .clock(clock.clone())
            .client_keys(Arc::new(DirectoryClientKeys::new(directory.clone())))
            .authenticator(authenticator)
            .customer_resources(Arc::new(synthetic))
            .registration(Registration::new(directory.clone(), SSA_ISSUER))
            .build()?;

        let mut names = vec!["127.0.0.1", "localhost"];
        if let Some(host) = base.host_str()
            && !names.contains(&host)
        {
            names.push(host);
        }
        let tls_leaf = pki.server_certificate(&names)?;
        let chain: Vec<CertificateDer<'static>> = tls_leaf
            .chain_der
            .iter()
            .cloned()
            .map(CertificateDer::from)
            .collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            tls_leaf.key_pkcs8_der.expose().to_vec(),
        ));
        let anchors = [CertificateDer::from(pki.root_der().to_vec())];
        let tls = mtls::server_config(chain, key, &anchors, ClientCertPolicy::Optional)?;
        let ca_pem = pki.root_pem();
        // Webhooks and metrics reports leave with the bank's transport certificate.
        let bank_cert = pki.transport_certificate(&OfbSubject::example(
            "banco-azul.localhost",
            Cnpj::parse(BRANDS[0].2)?,
        ))?;
        let (chain, key) = mtls::identity(&bank_cert.chain_der, bank_cert.key_pkcs8_der.expose());
        let webhook_config = mtls::client_config(&anchors, chain, key)?;
        let webhooks = Arc::new(WebhookSender::new(
            storage.clone(),
            Arc::new(MtlsWebhookTransport::new(webhook_config.clone())),
            clock.clone(),
        )?);

        let brands: Vec<Brand> = parts.iter().map(|p| p.brand.clone()).collect();
        let pix_apis: Vec<PixPaymentsApi> = parts.iter().map(|p| p.pix_api.clone()).collect();
        let brand = brands.first().ok_or("no brand")?.clone();
        let server_pki = pki.clone();
        let shared = Arc::new(Shared {
            base: base.clone(),
            server,
            certificates: match &gateway {
                Some(gateway) => ClientCertificateLayer::with_gateway(gateway.clone()),
                None => ClientCertificateLayer::tls_only(),
            },
            brands: parts,
            directory,
            pki,
            clock: clock.clone(),
        });
        // Every call of a listed endpoint is reported to the metrics
        // collector by the brand that served it (served here too, under
        // /pcm/, as the governance's mock); calls outside every brand (the
        // directory, the login front) under the first brand.
        let collector = Arc::new(MockPcmCollector::new(
            EndpointCatalogue::default().private_templates(),
            EndpointCatalogue::default().opendata_templates(),
        )?);
        let mut stacks = Vec::new();
        for (index, (reporter, brand)) in reporters.into_iter().zip(&brands).enumerate() {
            // The client certificate is resolved before the capture, which
            // names the caller's organisation from it (also behind a gateway).
            let certificates = shared.certificates.clone();
            let shared = shared.clone();
            let routed = tower::service_fn(move |request: Request<hyper::body::Incoming>| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(route(&shared, index, request).await) }
            });
            let stack = if metrics_capture {
                let spans = RequestSpanLayer::new(brand.id().clone(), clock.clone());
                BoxCloneSyncService::new(
                    certificates.layer(PcmLayer::new(reporter).layer(spans.layer(routed))),
                )
            } else {
                BoxCloneSyncService::new(certificates.layer(routed))
            };
            stacks.push((format!("/{}/", brand.id().as_str()), stack));
        }
        let mock = collector.clone();
        let stacks = Arc::new(stacks);
        let service = tower::service_fn(move |request: Request<hyper::body::Incoming>| {
            let stacks = stacks.clone();
            let mock = mock.clone();
            async move {
                if request.uri().path().starts_with("/pcm/") {
                    return Ok::<_, Infallible>(collector_call(&mock, request).await);
                }
                let path = request.uri().path().to_owned();
                let stack = stacks
                    .iter()
                    .find(|(prefix, _)| path.starts_with(prefix.as_str()))
                    .or_else(|| stacks.first())
                    .map(|(_, stack)| stack.clone());
                match stack {
                    Some(stack) => stack.oneshot(request).await,
                    None => Ok(plain(StatusCode::NOT_FOUND)),
                }
            }
        });
        let pcm_sender = PcmSender::new(
            storage.clone(),
            Arc::new(HttpsPcmTransport::new(
                base.join("pcm/api/")?,
                base.join("pcm/auth/")?,
                "banco-azul-software",
                webhook_config,
            )),
            clock.clone(),
        );
        let (tx, rx) = oneshot::channel::<()>();
        let tls = if gateway.is_some() { None } else { Some(tls) };
        let task = tokio::spawn(mtls::serve(listener, tls, service, async move {
            let _ = rx.await;
        }));
        Ok(Self {
            base,
            brands,
            brand,
            ca_pem,
            webhooks,
            pix_apis,
            clock,
            collector,
            pcm_sender: Arc::new(pcm_sender),
            server_pki,
            counters,
            shutdown: Some(tx),
            task,
        })
    }

    /// Every brand of the bank (the first is the one the single-brand
    /// accessors, such as [`LoopbackBank::issuer`], name).
    pub fn brands(&self) -> &[Brand] {
        &self.brands
    }

    /// The brand this bank serves.
    pub fn brand(&self) -> &Brand {
        &self.brand
    }

    /// The operational-limit counters as the bank kept them: each one's
    /// highest count and the calls refused with 423.
    pub fn limit_counters(&self) -> &RecordingCounters {
        &self.counters
    }

    /// The brand's issuer.
    pub fn issuer(&self) -> &Url {
        self.brand.issuer()
    }

    /// The Consents API collection URL.
    ///
    /// # Errors
    /// Never in practice (the base URL is valid).
    pub fn consents_url(&self) -> Result<Url, url::ParseError> {
        self.brand.api_url(opus_consent::api::BASE_PATH)
    }

    /// A data API URL below the brand's API base, e.g.
    /// `open-banking/accounts/v2/accounts`.
    ///
    /// # Errors
    /// Never in practice (the base URL is valid).
    pub fn api_url(&self, path: &str) -> Result<Url, url::ParseError> {
        self.brand.api_url(path)
    }

    /// The Pix payments collection URL (Payments API 4.0.0).
    ///
    /// # Errors
    /// Never in practice (the base URL is valid).
    pub fn pix_payments_url(&self) -> Result<Url, url::ParseError> {
        self.brand.api_url(opus_holder::BASE_PATH)
    }

    /// The recurring consents collection URL (Automatic Payments API 2.0.0).
    ///
    /// # Errors
    /// Never in practice (the base URL is valid).
    pub fn recurring_consents_url(&self) -> Result<Url, url::ParseError> {
        self.brand.api_url(opus_consent::recurring::BASE_PATH)
    }

    /// The recurring Pix payments collection URL (Automatic Payments API 2.0.0).
    ///
    /// # Errors
    /// Never in practice (the base URL is valid).
    pub fn recurring_payments_url(&self) -> Result<Url, url::ParseError> {
        self.brand.api_url(opus_holder::recurring::BASE_PATH)
    }

    /// The mock metrics collector the bank reports to.
    pub fn metrics_collector(&self) -> &Arc<MockPcmCollector> {
        &self.collector
    }

    /// Sends the metrics reports due now (a real deployment runs the sender
    /// on a timer), over HTTPS with the bank's transport certificate.
    ///
    /// # Errors
    /// When the outbox fails.
    pub async fn send_reports(&self) -> Result<PcmPass, Failure> {
        Ok(self.pcm_sender.run_once().await?)
    }

    /// The Common API's `/status` URL (public).
    ///
    /// # Errors
    /// Never in practice (the base URL is valid).
    pub fn status_url(&self) -> Result<Url, url::ParseError> {
        self.brand
            .api_url(&format!("{}/status", opus_pcm::operations::COMMON_BASE))
    }

    /// The operators' back office (test mode: the operator is named by
    /// the [`TEST_OPERATOR_HEADER`] header).
    ///
    /// # Errors
    /// Never in practice (the base URL is valid).
    pub fn back_office_url(&self) -> Result<Url, url::ParseError> {
        self.base
            .join(&format!("{}{OPS_PATH}", self.brand.id().as_str()))
    }

    /// The clock the bank runs on.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Submits the scheduled payments due on `date` (a real deployment runs
    /// this daily); answers how many were submitted.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn settle_due(&self, date: opus_core::Date) -> Result<usize, Failure> {
        let mut settled = 0;
        for pix_api in &self.pix_apis {
            settled += pix_api.settle_due(date).await?;
        }
        Ok(settled)
    }

    /// Delivers the webhook notices due now (a real deployment runs the
    /// sender on a timer).
    ///
    /// # Errors
    /// When the outbox fails.
    pub async fn deliver_webhooks(&self) -> Result<WebhookPass, Failure> {
        Ok(self.webhooks.run_once().await?)
    }

    /// A server certificate for `names` that the bank trusts (for a test
    /// webhook receiver), and the PEM of the CA that also issues the
    /// bank's client certificate.
    ///
    /// # Errors
    /// When certificate generation fails.
    pub fn receiver_certificate(&self, names: &[&str]) -> Result<IssuedCertificate, Failure> {
        Ok(self.server_pki.server_certificate(names)?)
    }

    /// The payment consents collection URL (Payments API 4.0.0).
    ///
    /// # Errors
    /// Never in practice (the base URL is valid).
    pub fn payment_consents_url(&self) -> Result<Url, url::ParseError> {
        self.brand.api_url(opus_consent::payments::BASE_PATH)
    }

    /// The brand's directory organisation (the `iss` of its signed messages).
    pub fn organisation_id(&self) -> &OrganisationId {
        self.brand.organisation_id()
    }

    /// The management API for the bank's channels (test mode: the customer
    /// is named by the [`TEST_CHANNEL_HEADER`] header).
    ///
    /// # Errors
    /// Never in practice (the base URL is valid).
    pub fn channels_url(&self) -> Result<Url, url::ParseError> {
        self.base
            .join(&format!("{}/{CHANNELS_PATH}", self.brand.id().as_str()))
    }

    /// The listener's base URL (`https://127.0.0.1:<port>/`).
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The mock directory's test-registration URL.
    ///
    /// # Errors
    /// Never in practice (the base URL is valid).
    pub fn test_registration_url(&self) -> Result<Url, url::ParseError> {
        self.base.join("directory/test-registration")
    }

    /// The trust anchor of the server's certificate (and of client certificates), PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Stops the listener.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

async fn collect<B>(response: Response<B>) -> Response<Full<Bytes>>
where
    B: http_body::Body,
    B::Error: std::fmt::Display,
{
    let (parts, body) = response.into_parts();
    match body.collect().await {
        Ok(collected) => Response::from_parts(parts, Full::new(collected.to_bytes())),
        Err(e) => {
            tracing::warn!(error = %e, "response body failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// The mock metrics collector: `POST /pcm/auth/token/` and the report
/// endpoints under `/pcm/api/`.
async fn collector_call(
    collector: &MockPcmCollector,
    request: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let Ok(body) = Limited::new(request.into_body(), 16 * 1024 * 1024)
        .collect()
        .await
    else {
        return plain(StatusCode::PAYLOAD_TOO_LARGE);
    };
    let (status, answer) = if path == "/pcm/auth/token/" {
        collector.token()
    } else if let Some(report_path) = path.strip_prefix("/pcm/api") {
        collector.receive(report_path, token.as_deref(), &body.to_bytes())
    } else {
        (404, serde_json::json!({"message": "not found"}))
    };
    json_response(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        &answer,
    )
}

/// `request` through `guard` to `service` (its client certificate was
/// resolved around the whole brand stack).
async fn guarded<S, B>(
    guard: &ResourceGuardLayer,
    service: S,
    request: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>>
where
    S: tower::Service<Request<hyper::body::Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let stack = guard.layer(service);
    match stack.oneshot(request).await {
        Ok(response) => collect(response).await,
        Err(never) => match never {},
    }
}

/// Serves `request` for the brand at `index` of `shared.brands` (the
/// authorization server, the directory and the login front are shared).
async fn route(
    shared: &Shared,
    index: usize,
    request: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let Some(brand) = shared.brands.get(index) else {
        return plain(StatusCode::NOT_FOUND);
    };
    let brand_prefix = format!("/{}", brand.brand.id().as_str());
    let consents_prefix = format!(
        "{}/{}",
        brand.brand.api_base_url().path().trim_end_matches('/'),
        opus_consent::api::BASE_PATH
    );
    let data_prefix = format!(
        "{}/open-banking/",
        brand.brand.api_base_url().path().trim_end_matches('/')
    );
    let api = |base: &str| {
        format!(
            "{}/{base}",
            brand.brand.api_base_url().path().trim_end_matches('/')
        )
    };
    if path.starts_with(&format!("{brand_prefix}/app"))
        || path.starts_with(&format!("{brand_prefix}/painel"))
    {
        let services = crate::pages::PageServices {
            brand: &brand.brand,
            management: &brand.management,
            back_office: &brand.back_office,
        };
        crate::pages::serve(&services, request)
            .await
            .unwrap_or_else(|| plain(StatusCode::NOT_FOUND))
    } else if path.starts_with("/directory/") {
        directory(shared, request).await
    } else if path == "/login" {
        login(shared, &request).await
    } else if path.starts_with(&consents_prefix) {
        guarded(&brand.guard, brand.consents_api.clone(), request).await
    } else if path.starts_with(&api(opus_consent::payments::BASE_PATH)) {
        guarded(&brand.guard, brand.payments_api.clone(), request).await
    } else if path.starts_with(&api(opus_holder::BASE_PATH)) {
        guarded(&brand.guard, brand.pix_api.clone(), request).await
    } else if path.starts_with(&api(opus_consent::recurring::BASE_PATH)) {
        guarded(&brand.guard, brand.recurring_consents_api.clone(), request).await
    } else if path.starts_with(&api(opus_holder::recurring::BASE_PATH)) {
        guarded(&brand.guard, brand.recurring_pix_api.clone(), request).await
    } else if opus_transmitter::opendata::ENDPOINTS
        .iter()
        .any(|e| path == api(e.trim_start_matches('/')))
    {
        // Public: no certificate, no token.
        match brand.open_data.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    } else if path.starts_with(&api(opus_pcm::operations::COMMON_BASE)) {
        match brand.common_api.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    } else if path.starts_with(&api(opus_pcm::operations::ADMIN_BASE)) {
        match brand.admin_api.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    } else if path.starts_with(&format!("{brand_prefix}{OPS_PATH}")) {
        match brand.back_office.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    } else if path.starts_with(&data_prefix) {
        guarded(&brand.data_guard, brand.data_apis.clone(), request).await
    } else if path.starts_with(&format!("{brand_prefix}/{CHANNELS_PATH}")) {
        match brand.management.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    } else {
        match shared.server.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }
}

/// Where the operators' back office lives.
pub const OPS_PATH: &str = "/ops";
/// The header the test-mode back office reads the operator from.
pub const TEST_OPERATOR_HEADER: &str = "x-test-operator";

/// Test-mode operator authentication: whoever the `x-test-operator` header
/// names. A real bank authenticates its staff (SSO) here.
struct TestOperator;

#[async_trait::async_trait]
impl OperatorAuthenticator for TestOperator {
    async fn authenticate(&self, request: &http::request::Parts) -> Option<Operator> {
        let name = request.headers.get(TEST_OPERATOR_HEADER)?.to_str().ok()?;
        Some(Operator {
            name: name.chars().take(64).collect(),
        })
    }
}

/// Where the management API for the bank's channels lives.
pub const CHANNELS_PATH: &str = "channels/consents";
/// The header the test-mode channel reads the customer from.
pub const TEST_CHANNEL_HEADER: &str = "x-test-channel-cpf";

/// Test-mode channel authentication: the customer named by the
/// `x-test-channel-cpf` header. A real bank authenticates its own channel
/// session here.
struct TestChannel;

#[async_trait::async_trait]
impl ChannelAuthenticator for TestChannel {
    async fn authenticate(&self, request: &http::request::Parts) -> Option<ChannelPrincipal> {
        let cpf = request.headers.get(TEST_CHANNEL_HEADER)?.to_str().ok()?;
        Some(ChannelPrincipal::Customer {
            cpf: Cpf::parse(cpf).ok()?,
            companies: Vec::new(),
        })
    }
}

/// Test-mode login: drives interaction `?interaction=<id>` through the
/// authorization server's interaction API — authenticates (the
/// auto-approving authenticator vouches for the consent's customer), approves
/// every resource on offer — then sends the browser back to the client. A
/// real bank serves its login page here instead.
async fn login(shared: &Shared, request: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let id = url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "interaction")
        .and_then(|(_, v)| InteractionSessionId::parse(&v).ok());
    let Some(id) = id else {
        return plain(StatusCode::NOT_FOUND);
    };
    let handle = InteractionHandle::Id(id);
    // A person's browser gets the brand's pages (login form, consent with
    // the resources to choose, hand-off to a phone); scripts, even those
    // that ask for HTML, the automatic approval below. Browsers name XHTML
    // in the Accept header of a navigation; scripted redirect chains (the
    // interop kit's among them) do not.
    let browser = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/xhtml+xml"));
    if browser {
        for parts in &shared.brands {
            if shared
                .server
                .interaction(parts.brand.id(), &handle)
                .await
                .is_ok()
            {
                let pages = format!(
                    "{}/interaction/{id}",
                    parts.brand.issuer().as_str().trim_end_matches('/')
                );
                let mut response = plain(StatusCode::SEE_OTHER);
                if let Ok(location) = HeaderValue::from_str(&pages) {
                    response.headers_mut().insert(header::LOCATION, location);
                }
                return response;
            }
        }
        return plain(StatusCode::NOT_FOUND);
    }
    let evidence = AuthenticationEvidence::Form(Default::default());
    // The interaction belongs to one brand: the first that knows it.
    for parts in &shared.brands {
        let brand = parts.brand.id();
        let view = match shared.server.authenticate(brand, &handle, &evidence).await {
            Ok(view) if view.step == StepName::Consent => view,
            Ok(view) => return back_to_client(&view),
            Err(_) => continue,
        };
        let decision = Decision::Approve {
            resources: view.resources.into_iter().map(|r| r.resource_id).collect(),
        };
        return match shared.server.decide(brand, &handle, decision).await {
            Ok(view) => back_to_client(&view),
            Err(_) => plain(StatusCode::NOT_FOUND),
        };
    }
    plain(StatusCode::NOT_FOUND)
}

fn back_to_client(view: &InteractionView) -> Response<Full<Bytes>> {
    let Some(to) = &view.redirect_to else {
        return plain(StatusCode::NOT_FOUND);
    };
    let mut response = plain(StatusCode::SEE_OTHER);
    if let Ok(location) = HeaderValue::from_str(to.as_str()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// The mock directory: `POST /directory/test-registration` and the keystores
/// at `/directory/{org}/application.jwks` and `/directory/{org}/{software}/application.jwks`.
async fn directory(
    shared: &Shared,
    request: Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let path = request
        .uri()
        .path()
        .trim_start_matches("/directory/")
        .to_owned();
    let segments: Vec<&str> = path.split('/').collect();
    match (request.method(), segments.as_slice()) {
        (&Method::POST, ["test-registration"]) => {
            let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
                Ok(body) => body.to_bytes(),
                Err(_) => return plain(StatusCode::PAYLOAD_TOO_LARGE),
            };
            match test_registration(shared, &body).await {
                Ok(response) => json_response(StatusCode::CREATED, &response),
                Err(e) => json_response(StatusCode::BAD_REQUEST, &json!({"error": e.to_string()})),
            }
        }
        (&Method::GET, [org, "application.jwks"]) => match OrganisationId::parse(org) {
            Ok(org) => keystore(shared.directory.organisation_jwks_now(&org)),
            Err(_) => plain(StatusCode::NOT_FOUND),
        },
        (&Method::GET, [org, software, "application.jwks"]) => {
            match (
                OrganisationId::parse(org),
                SoftwareStatementId::parse(software),
            ) {
                (Ok(org), Ok(software)) => keystore(
                    shared
                        .directory
                        .software_statement_jwks_now(&org, &software),
                ),
                _ => plain(StatusCode::NOT_FOUND),
            }
        }
        _ => plain(StatusCode::NOT_FOUND),
    }
}

fn keystore(jwks: Option<JwkSet>) -> Response<Full<Bytes>> {
    match jwks.and_then(|set| serde_json::to_value(set).ok()) {
        Some(value) => json_response(StatusCode::OK, &value),
        None => plain(StatusCode::NOT_FOUND),
    }
}

async fn test_registration(shared: &Shared, body: &[u8]) -> Result<Value, Failure> {
    let request: Value = serde_json::from_slice(body)?;
    let csr = request["transport_csr_pem"]
        .as_str()
        .ok_or("transport_csr_pem is required")?;
    let jwks: JwkSet = serde_json::from_value(request["jwks"].clone())?;
    if jwks.keys.is_empty() {
        return Err("jwks needs at least one key".into());
    }
    let redirect_uris = request["redirect_uris"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let roles = request["roles"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| vec![json!("DADOS")]);
    let org = match request["org_id"].as_str() {
        Some(org) => OrganisationId::parse(org)?,
        None => OrganisationId::random(),
    };
    let software = SoftwareStatementId::random();
    let mut subject = OfbSubject::example(
        &format!("{software}.tpp.localhost"),
        Cnpj::parse("11222333000181")?,
    );
    subject.organisation_id = org;
    subject.software_statement_id = software;
    let certificate = shared.pki.transport_certificate_for_csr(&subject, csr)?;
    shared
        .directory
        .set_software_statement_jwks(org, software, jwks.clone());
    shared.directory.set_organisation_jwks(org, jwks);
    let software_jwks_uri = shared
        .base
        .join(&format!("directory/{org}/{software}/application.jwks"))?;
    let org_jwks_uri = shared
        .base
        .join(&format!("directory/{org}/application.jwks"))?;
    let statement = shared
        .directory
        .issue_software_statement(&json!({
            "iss": SSA_ISSUER,
            "iat": shared.clock.now().unix_seconds(),
            "org_id": org.to_string(),
            "org_name": "Interop Participant",
            "org_number": "11222333000181",
            "org_status": "Active",
            "software_id": software.to_string(),
            "software_client_id": software.to_string(),
            "software_client_name": request["client_name"].as_str().unwrap_or("Interop client"),
            "software_jwks_uri": software_jwks_uri.as_str(),
            "software_redirect_uris": redirect_uris,
            "software_roles": roles,
            "software_mode": "Test",
            "software_environment": "sandbox",
        }))
        .await?;
    Ok(json!({
        "org_id": org.to_string(),
        "software_id": software.to_string(),
        "software_statement": statement,
        "software_jwks_uri": software_jwks_uri.as_str(),
        "org_jwks_uri": org_jwks_uri.as_str(),
        "transport_certificate_pem": certificate,
        "ca_pem": format!("{}{}", shared.pki.root_pem(), shared.pki.intermediate_pem()),
    }))
}

/// A CPF for the sandbox's customers.
pub fn sandbox_customer() -> Result<Cpf, Failure> {
    Ok(Cpf::parse("52998224725")?)
}
