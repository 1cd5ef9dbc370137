//! The authorization server and the resource guard against the FAPI-BR
//! checklist (`fapi-br.md` §11, `checklist_NN`) and the conformance
//! checklist (`conformance-checklist.md` parts A and B, `aN_NN` / `bN_NN`):
//! each test names the items it covers.
//! Everything runs in process over the storage ports, with a manual clock,
//! a mock directory and test-PKI certificates.
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use opus_core::connector::ResourceType;
use opus_core::consent::{ConsentStatus, DataConsent, DataRejectionCode, Permission, RejectedBy};
use opus_core::directory::Directory;
use opus_core::interaction::{
    Acr, AuthenticationError, AuthenticationEvidence, ConsentAuthorisation, ConsentDetails,
    DenialReason, InteractionApproval, InteractionOutcome, InteractionRequest, SelectableResource,
};
use opus_core::keys::{JwkSet, JwsAlg, JwsSigner, KeyCustody, KeyError, KeyPurpose};
use opus_core::seal::{SealContext, Sealer};
use opus_core::store::{ClientRecord, ClientStatus, TokenHash, TokenKind, TokenRecord};
use opus_core::{
    AuthorisationServerId, Brand, BrandId, ClientId, Clock, Cnpj, ConsentId, Cpf, GrantId, KeyId,
    ResourceId, Storage,
};
use opus_fapi::client::{client_assertion, pkce_challenge};
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
use opus_fapi::jose::jwe::{self, JwePolicy};
use opus_fapi::jose::jwk::certificate_thumbprint;
use opus_fapi::jose::jws::{self, JwsPolicy};
use opus_fapi::mtls::{ClientCertificateLayer, ConnectionInfo};
use opus_fapi::server::guard::{ResourceGuardLayer, VerifiedAccess};
use opus_fapi::server::{
    AppAssertionAuthenticator, AppAssertionVerifier, AuthorizationRequest, AuthorizationServer,
    ClientAuthMethod, ClientMetadata, Decision, DirectoryClientKeys, InteractionError,
    InteractionHandle, Registration, ServerBrand, ServerConfigError, StepName,
};
use opus_store::MemoryStore;
use opus_testkit::{
    IssuedCertificate, ManualClock, MockDirectory, OfbSubject, RecordingAuthenticator,
    StaticResources, TEST_PASSWORD, TestKeyCustody, TestPki,
};
use rustls::pki_types::CertificateDer;
use serde_json::{Value, json};
use tower::{Layer, ServiceExt};
use url::Url;

const REDIRECT: &str = "https://tpp.example/callback";
const SSA_ISSUER: &str = "Open Banking Open Banking Brasil sandbox SSA issuer";
const LOGIN: &str = "https://127.0.0.1/bank/login";
/// The PKCE verifier of every request object (RFC 7636 Appendix B).
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A participant: its transport certificate and its software-statement keys.
struct Party {
    client_id: ClientId,
    subject: OfbSubject,
    cert: IssuedCertificate,
    signer: Arc<dyn JwsSigner>,
    /// The client's keys (signing and ID-token decryption).
    custody: Option<Arc<SoftwareKeyCustody>>,
}

struct Fixture {
    server: AuthorizationServer,
    storage: Storage,
    sealer: Arc<Sealer>,
    clock: Arc<ManualClock>,
    directory: Arc<MockDirectory>,
    pki: TestPki,
    brands: Vec<Brand>,
    tpp: Party,
    other: Party,
    authenticator: Arc<RecordingAuthenticator>,
    /// The institution's key custody (shared by replicas, as an HSM is).
    bank_custody: Arc<TestKeyCustody>,
    brand_keys: Vec<Arc<dyn KeyCustody>>,
}

fn brand(id: &str) -> Brand {
    Brand::builder(BrandId::new(id).unwrap())
        .display_name(id)
        .organisation_id(opus_core::OrganisationId::random())
        .authorisation_server_id(AuthorisationServerId::random())
        .issuer(Url::parse(&format!("https://127.0.0.1/{id}")).unwrap())
        .api_base_url(Url::parse(&format!("https://127.0.0.1/{id}/api")).unwrap())
        .mtls_base_url(Url::parse("https://127.0.0.1:8443/").unwrap())
        .build()
        .unwrap()
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Fixture {
    async fn new() -> Self {
        Self::with_storage(Storage::from_backend(Arc::new(MemoryStore::new()))).await
    }

    async fn with_storage(storage: Storage) -> Self {
        let clock = Arc::new(ManualClock::new());
        let bank_custody = Arc::new(TestKeyCustody::new("bank"));
        let sealer = Arc::new(
            Sealer::open_or_create(
                bank_custody.clone(),
                storage.data_keys.clone(),
                clock.clone(),
            )
            .await
            .unwrap(),
        );
        let pki = TestPki::generate("Directory").unwrap();
        let directory = Arc::new(MockDirectory::new());
        let brands = vec![brand("banco-azul"), brand("banco-verde")];
        let authenticator = Arc::new(RecordingAuthenticator::new(Url::parse(LOGIN).unwrap()));
        let resources = Arc::new(StaticResources::new());
        let customer = Cpf::parse(CUSTOMER).unwrap();
        for (id, resource_type, label) in [
            ("acc-1", ResourceType::Account, "Conta corrente ••0001"),
            ("acc-2", ResourceType::Account, "Poupança ••0002"),
            ("card-1", ResourceType::CreditCardAccount, "Cartão ••9999"),
        ] {
            resources.add(
                &customer,
                SelectableResource {
                    resource_id: ResourceId::new(id).unwrap(),
                    resource_type,
                    label: label.to_owned(),
                },
            );
        }
        let mut builder = AuthorizationServer::builder()
            .authenticator(authenticator.clone())
            .customer_resources(resources)
            .registration(Registration::new(directory.clone(), SSA_ISSUER))
            .storage(storage.clone())
            .sealer(sealer.clone())
            .clock(clock.clone())
            .client_keys(Arc::new(DirectoryClientKeys::new(directory.clone())));
        let mut brand_keys: Vec<Arc<dyn KeyCustody>> = Vec::new();
        for (i, b) in brands.iter().enumerate() {
            let keys: Arc<dyn KeyCustody> = Arc::new(
                SoftwareKeyCustody::builder()
                    .signing_key(SoftwareKey::generate_rsa(&format!("as-sig-{i}")).unwrap())
                    .encryption_key(SoftwareKey::generate_rsa(&format!("as-enc-{i}")).unwrap())
                    .build()
                    .unwrap(),
            );
            brand_keys.push(keys.clone());
            builder = builder.brand(ServerBrand {
                brand: b.clone(),
                keys,
            });
        }
        let server = builder.build().unwrap();
        let mut fixture = Self {
            server,
            storage,
            sealer,
            clock,
            directory,
            pki,
            brands,
            tpp: dummy_party(),
            other: dummy_party(),
            authenticator,
            bank_custody,
            brand_keys,
        };
        fixture.tpp = fixture
            .party("tpp-client", "tpp.example", "11222333000181")
            .await;
        fixture.other = fixture
            .party("other-client", "other.example", "11444777000161")
            .await;
        fixture
    }

    /// Another replica of the server over `storage` (the same database
    /// through another connection pool): same brands, keys and directory,
    /// its own sealer opened from the shared data keys.
    async fn replica(&self, storage: Storage) -> AuthorizationServer {
        self.replica_builder(storage).await.build().unwrap()
    }

    /// The builder of [`Self::replica`], for variants.
    async fn replica_builder(
        &self,
        storage: Storage,
    ) -> opus_fapi::server::AuthorizationServerBuilder {
        let sealer = Sealer::open_or_create(
            self.bank_custody.clone(),
            storage.data_keys.clone(),
            self.clock.clone(),
        )
        .await
        .unwrap();
        let mut builder = AuthorizationServer::builder()
            .authenticator(self.authenticator.clone())
            .registration(Registration::new(self.directory.clone(), SSA_ISSUER))
            .storage(storage)
            .sealer(Arc::new(sealer))
            .clock(self.clock.clone())
            .client_keys(Arc::new(DirectoryClientKeys::new(self.directory.clone())));
        for (brand, keys) in self.brands.iter().zip(&self.brand_keys) {
            builder = builder.brand(ServerBrand {
                brand: brand.clone(),
                keys: keys.clone(),
            });
        }
        builder
    }

    /// A participant whose client is registered with the first brand.
    async fn party(&self, client_id: &str, host: &str, cnpj: &str) -> Party {
        let subject = OfbSubject::example(host, Cnpj::parse(cnpj).unwrap());
        let party = self.participant(client_id, subject).await;
        self.register(&self.brands[0], &party, ClientAuthMethod::PrivateKeyJwt)
            .await;
        party
    }

    /// A participant listed in the directory, not registered anywhere.
    async fn participant(&self, client_id: &str, subject: OfbSubject) -> Party {
        let cert = self.pki.transport_certificate(&subject).unwrap();
        let custody = SoftwareKeyCustody::builder()
            .signing_key(SoftwareKey::generate_rsa(&format!("{client_id}-sig")).unwrap())
            .encryption_key(SoftwareKey::generate_rsa(&format!("{client_id}-enc")).unwrap())
            .build()
            .unwrap();
        self.directory.set_software_statement_jwks(
            subject.organisation_id,
            subject.software_statement_id,
            custody.public_jwks().await.unwrap(),
        );
        let signer = custody.signer(KeyPurpose::ClientSigning).await.unwrap();
        Party {
            client_id: ClientId::new(client_id).unwrap(),
            subject,
            cert,
            signer,
            custody: Some(Arc::new(custody)),
        }
    }

    async fn register(&self, brand: &Brand, party: &Party, method: ClientAuthMethod) {
        let metadata = ClientMetadata {
            redirect_uris: vec![Url::parse(REDIRECT).unwrap()],
            token_endpoint_auth_method: method,
            tls_client_auth_subject_dn: None,
            jwks_uri: None,
            scope: "openid consents resources accounts payments".to_owned(),
            client_name: Some("TPP".to_owned()),
            logo_uri: None,
            webhook_uris: vec![],
            registration: None,
        };
        let now = self.clock.now();
        self.storage
            .clients
            .insert_client(&ClientRecord {
                brand: brand.id().clone(),
                client_id: party.client_id.clone(),
                organisation_id: party.subject.organisation_id,
                software_statement_id: party.subject.software_statement_id,
                status: ClientStatus::Active,
                version: 0,
                created_at: now,
                updated_at: now,
                registration_access_token: None,
                metadata: serde_json::to_string(&metadata).unwrap(),
            })
            .await
            .unwrap();
    }

    fn issuer(&self, brand: usize) -> String {
        self.brands[brand]
            .issuer()
            .as_str()
            .trim_end_matches('/')
            .to_owned()
    }

    fn mtls(&self, brand: usize, endpoint: &str) -> String {
        format!(
            "https://127.0.0.1:8443/{}/{endpoint}",
            self.brands[brand].id()
        )
    }

    /// A data consent of `owner`, in `status`.
    async fn consent(&self, brand: usize, owner: &ClientId, status: ConsentStatus) -> ConsentId {
        let id = ConsentId::new(format!("urn:bancoazul:{}", uuid::Uuid::new_v4())).unwrap();
        let now = self.clock.now();
        let consent = DataConsent {
            brand: self.brands[brand].id().clone(),
            id: id.clone(),
            client_id: owner.clone(),
            status,
            version: 0,
            permissions: vec![Permission::AccountsRead, Permission::ResourcesRead],
            logged_user: Cpf::parse("529.982.247-25").unwrap(),
            business_entity: None,
            creation_date_time: now,
            status_update_date_time: now,
            expiration_date_time: Some(now.saturating_add(Duration::from_secs(90 * 86_400))),
            rejection: None,
            resources: Vec::new(),
            extensions: Vec::new(),
        };
        self.storage
            .consents
            .insert_consent(&consent.seal(&self.sealer).unwrap(), &[])
            .await
            .unwrap();
        id
    }

    async fn assertion(&self, party: &Party, audience: &str) -> String {
        client_assertion(
            party.signer.as_ref(),
            &party.client_id,
            audience,
            self.clock.now(),
            Duration::from_secs(60),
        )
        .await
        .unwrap()
    }

    /// The claims of a valid request object for `consent`.
    fn request_claims(&self, party: &Party, consent: &ConsentId) -> serde_json::Map<String, Value> {
        let now = self.clock.now().unix_seconds();
        let challenge = pkce_challenge(VERIFIER);
        let value = json!({
            "iss": party.client_id.as_str(),
            "aud": self.issuer(0),
            "client_id": party.client_id.as_str(),
            "response_type": "code id_token",
            "redirect_uri": REDIRECT,
            "scope": format!("openid accounts consent:{consent}"),
            "state": "st-1",
            "nonce": "n-0S6_WzA2Mj",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "nbf": now,
            "exp": now + 300,
            "jti": uuid::Uuid::new_v4().to_string(),
            "claims": {"id_token": {"acr": {"essential": true, "values": ["urn:brasil:openbanking:loa2"]}}},
        });
        match value {
            Value::Object(map) => map,
            _ => unreachable_map(),
        }
    }

    async fn sign(
        &self,
        signer: &dyn JwsSigner,
        claims: &serde_json::Map<String, Value>,
    ) -> String {
        jws::sign_claims(signer, Some("oauth-authz-req+jwt"), claims)
            .await
            .unwrap()
    }

    /// A complete PAR form for `party` with `request`.
    async fn par_form(&self, party: &Party, request: &str) -> Vec<(String, String)> {
        vec![
            ("client_id".into(), party.client_id.to_string()),
            ("client_assertion_type".into(), ASSERTION_TYPE.into()),
            (
                "client_assertion".into(),
                self.assertion(party, &self.issuer(0)).await,
            ),
            ("request".into(), request.into()),
        ]
    }

    /// POSTs a form to `path` presenting `cert` (or none).
    async fn post(
        &self,
        path: &str,
        cert: Option<&IssuedCertificate>,
        form: &[(String, String)],
    ) -> (StatusCode, Value) {
        self.post_via(&self.server, path, cert, form).await
    }

    async fn post_via(
        &self,
        server: &AuthorizationServer,
        path: &str,
        cert: Option<&IssuedCertificate>,
        form: &[(String, String)],
    ) -> (StatusCode, Value) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = call_via(server, request, cert).await;
        let status = response.status();
        (status, json_body(response).await)
    }

    async fn call(
        &self,
        request: Request<Full<Bytes>>,
        cert: Option<&IssuedCertificate>,
    ) -> Response<Full<Bytes>> {
        call_via(&self.server, request, cert).await
    }

    /// PAR for `party` with `claims` signed by its key.
    async fn par(
        &self,
        party: &Party,
        claims: &serde_json::Map<String, Value>,
    ) -> (StatusCode, Value) {
        let request = self.sign(party.signer.as_ref(), claims).await;
        let form = self.par_form(party, &request).await;
        self.post("/banco-azul/par", Some(&party.cert), &form).await
    }

    async fn client_credentials(&self, party: &Party, scope: Option<&str>) -> (StatusCode, Value) {
        let mut form = vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("client_id".into(), party.client_id.to_string()),
            ("client_assertion_type".into(), ASSERTION_TYPE.into()),
            (
                "client_assertion".into(),
                self.assertion(party, &self.mtls(0, "token")).await,
            ),
        ];
        if let Some(scope) = scope {
            form.push(("scope".into(), scope.into()));
        }
        self.post("/banco-azul/token", Some(&party.cert), &form)
            .await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value, http::HeaderMap) {
        let request = Request::builder()
            .uri(path)
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = self.call(request, None).await;
        let status = response.status();
        let headers = response.headers().clone();
        (status, json_body(response).await, headers)
    }
}

fn unreachable_map() -> serde_json::Map<String, Value> {
    panic!("json! of an object is an object")
}

fn dummy_party() -> Party {
    #[derive(Debug)]
    struct Never;
    #[async_trait]
    impl JwsSigner for Never {
        fn alg(&self) -> JwsAlg {
            JwsAlg::PS256
        }
        fn kid(&self) -> &KeyId {
            panic!("placeholder party")
        }
        async fn sign(&self, _: &[u8]) -> Result<Vec<u8>, KeyError> {
            panic!("placeholder party")
        }
    }
    let pki = TestPki::generate("Placeholder").unwrap();
    let subject = OfbSubject::example(
        "placeholder.example",
        Cnpj::parse("11222333000181").unwrap(),
    );
    let cert = pki.transport_certificate(&subject).unwrap();
    Party {
        client_id: ClientId::new("placeholder").unwrap(),
        subject,
        cert,
        signer: Arc::new(Never),
        custody: None,
    }
}

async fn call_via(
    server: &AuthorizationServer,
    mut request: Request<Full<Bytes>>,
    cert: Option<&IssuedCertificate>,
) -> Response<Full<Bytes>> {
    request.extensions_mut().insert(connection(cert));
    let service = ClientCertificateLayer::tls_only().layer(server.clone());
    service.oneshot(request).await.unwrap()
}

fn connection(cert: Option<&IssuedCertificate>) -> ConnectionInfo {
    ConnectionInfo::new(
        SocketAddr::from(([127, 0, 0, 1], 40_000)),
        cert.map(|c| {
            Arc::new(
                c.chain_der
                    .iter()
                    .cloned()
                    .map(CertificateDer::from)
                    .collect(),
            )
        }),
    )
}

async fn json_body<B>(response: Response<B>) -> Value
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    }
}

/// Asserts an OAuth error response (RFC 6749 §5.2).
#[track_caller]
fn assert_oauth_error(result: &(StatusCode, Value), status: StatusCode, error: &str) {
    assert_eq!(result.0, status, "body: {}", result.1);
    assert_eq!(result.1["error"], error, "body: {}", result.1);
}

/// An RS256 signer over a raw aws-lc-rs key, published under its own kid, so
/// a refusal can only come from the algorithm policy.
#[derive(Debug)]
struct Rs256 {
    kid: KeyId,
    pair: aws_lc_rs::rsa::KeyPair,
}

impl Rs256 {
    fn generate(kid: &str) -> Self {
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        Self {
            kid: KeyId::new(kid).unwrap(),
            pair,
        }
    }

    fn jwk(&self) -> Value {
        use aws_lc_rs::signature::KeyPair as _;
        let public = self.pair.public_key();
        json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid.as_str(),
            "n": b64(public.modulus().big_endian_without_leading_zero()),
            "e": b64(public.exponent().big_endian_without_leading_zero()),
        })
    }
}

#[async_trait]
impl JwsSigner for Rs256 {
    fn alg(&self) -> JwsAlg {
        JwsAlg::RS256
    }
    fn kid(&self) -> &KeyId {
        &self.kid
    }
    async fn sign(&self, input: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                input,
                &mut signature,
            )
            .map_err(|_| KeyError::Other("sign".into()))?;
        Ok(signature)
    }
}

/// Adds `extra` keys to `party`'s published software-statement keystore.
async fn publish_extra_keys(f: &Fixture, party: &Party, extra: Vec<Value>) {
    let current = f
        .directory
        .software_statement_jwks(
            &party.subject.organisation_id,
            &party.subject.software_statement_id,
        )
        .await
        .unwrap();
    let mut keys = serde_json::to_value(current).unwrap()["keys"]
        .as_array()
        .cloned()
        .unwrap();
    keys.extend(extra);
    let set: JwkSet = serde_json::from_value(json!({ "keys": keys })).unwrap();
    f.directory.set_software_statement_jwks(
        party.subject.organisation_id,
        party.subject.software_statement_id,
        set,
    );
}

// ---------------------------------------------------------------- discovery

#[tokio::test]
async fn checklist_01_to_07_a1_01_discovery_document() {
    let f = Fixture::new().await;
    let (status, doc, headers) = f.get("/banco-azul/.well-known/openid-configuration").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    // 1
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["private_key_jwt"])
    );
    // 2
    assert_eq!(doc["require_pushed_authorization_requests"], json!(true));
    assert_eq!(
        doc["pushed_authorization_request_endpoint"],
        json!(f.mtls(0, "par"))
    );
    // 3
    assert_eq!(doc["response_types_supported"], json!(["code id_token"]));
    assert!(
        !doc["response_modes_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().unwrap().contains("jwt"))
    );
    // 4
    assert!(
        doc["acr_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("urn:brasil:openbanking:loa2"))
    );
    // 5
    for member in [
        "id_token_signing_alg_values_supported",
        "request_object_signing_alg_values_supported",
        "token_endpoint_auth_signing_alg_values_supported",
    ] {
        assert_eq!(doc[member], json!(["PS256"]), "{member}");
    }
    // 6
    assert_eq!(
        doc["tls_client_certificate_bound_access_tokens"],
        json!(true)
    );
    assert_eq!(doc["claims_parameter_supported"], json!(true));
    assert!(
        doc["subject_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("public"))
    );
    assert!(doc["userinfo_endpoint"].is_string());
    // 7
    let scopes = doc["scopes_supported"].as_array().unwrap();
    for scope in ["openid", "consents", "resources", "payments"] {
        assert!(scopes.contains(&json!(scope)), "{scope}");
    }
    // The issuer is exact, the front channel is on the issuer host and the
    // rest on the mTLS host.
    assert_eq!(doc["issuer"], json!(f.issuer(0)));
    assert_eq!(
        doc["authorization_endpoint"],
        json!(format!("{}/authorize", f.issuer(0)))
    );
    assert_eq!(doc["token_endpoint"], json!(f.mtls(0, "token")));
    assert_eq!(
        doc["mtls_endpoint_aliases"]["token_endpoint"],
        json!(f.mtls(0, "token"))
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
}

#[tokio::test]
async fn checklist_08_each_brand_has_its_issuer_and_keys() {
    let f = Fixture::new().await;
    let (_, azul, _) = f.get("/banco-azul/.well-known/openid-configuration").await;
    let (_, verde, _) = f.get("/banco-verde/.well-known/openid-configuration").await;
    assert_eq!(azul["issuer"], json!(f.issuer(0)));
    assert_eq!(verde["issuer"], json!(f.issuer(1)));
    assert_ne!(azul["issuer"], verde["issuer"]);

    let (status, azul_keys, headers) = f.get("/banco-azul/jwks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .starts_with("max-age")
    );
    let (_, verde_keys, _) = f.get("/banco-verde/jwks").await;
    let kids = |set: &Value| -> Vec<String> {
        set["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };
    // Signing keys only: the ID-token decryption keys are not published here.
    assert_eq!(kids(&azul_keys), vec!["as-sig-0"]);
    assert_eq!(kids(&verde_keys), vec!["as-sig-1"]);
    for key in azul_keys["keys"].as_array().unwrap() {
        assert!(
            key.get("d").is_none() && key.get("p").is_none(),
            "a private member was published"
        );
    }

    assert_eq!(
        f.get("/banco-roxo/.well-known/openid-configuration")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        f.get("/banco-azul/nothing-here").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn builder_refuses_configurations_outside_the_profile() {
    let f = Fixture::new().await;
    let base = || {
        AuthorizationServer::builder()
            .storage(f.storage.clone())
            .sealer(f.sealer.clone())
            .clock(f.clock.clone())
            .client_keys(Arc::new(DirectoryClientKeys::new(f.directory.clone())))
            .authenticator(f.authenticator.clone())
    };
    let keys: Arc<dyn KeyCustody> = Arc::new(TestKeyCustody::new("as"));
    let server_brand = |b: &Brand| ServerBrand {
        brand: b.clone(),
        keys: keys.clone(),
    };
    assert_eq!(base().build().unwrap_err(), ServerConfigError::NoBrand);
    let too_short = base()
        .brand(server_brand(&f.brands[0]))
        .access_token_ttl(Duration::from_secs(299))
        .build();
    assert!(matches!(too_short, Err(ServerConfigError::Lifetime(_))));
    let too_long = base()
        .brand(server_brand(&f.brands[0]))
        .access_token_ttl(Duration::from_secs(901))
        .build();
    assert!(matches!(too_long, Err(ServerConfigError::Lifetime(_))));
    let par_short = base()
        .brand(server_brand(&f.brands[0]))
        .par_ttl(Duration::from_secs(59))
        .build();
    assert!(matches!(par_short, Err(ServerConfigError::Lifetime(_))));
    let twice = base()
        .brand(server_brand(&f.brands[0]))
        .brand(server_brand(&f.brands[0]))
        .build();
    assert!(matches!(twice, Err(ServerConfigError::DuplicateIssuer(_))));
    let no_store = AuthorizationServer::builder()
        .brand(server_brand(&f.brands[0]))
        .build();
    assert!(matches!(no_store, Err(ServerConfigError::Missing(_))));
    assert!(
        base()
            .brand(server_brand(&f.brands[0]))
            .access_token_ttl(Duration::from_secs(900))
            .build()
            .is_ok()
    );
}

// ---------------------------------------------------------- PAR: transport

#[tokio::test]
async fn a9_56_par_endpoint_protocol_errors() {
    let f = Fixture::new().await;
    // 405 for anything but POST.
    let get = Request::builder()
        .uri("/banco-azul/par")
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(
        f.call(get, Some(&f.tpp.cert)).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
    // A JSON body is not a form.
    let json_body = Request::builder()
        .method(Method::POST)
        .uri("/banco-azul/par")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let response = f.call(json_body, Some(&f.tpp.cert)).await;
    assert_oauth_error(
        &(response.status(), json_body_of(response).await),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    // 413 past the body limit.
    let big = Request::builder()
        .method(Method::POST)
        .uri("/banco-azul/par")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(vec![b'a'; 65 * 1024])))
        .unwrap();
    assert_eq!(
        f.call(big, Some(&f.tpp.cert)).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // A repeated parameter is malformed.
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let request = f
        .sign(f.tpp.signer.as_ref(), &f.request_claims(&f.tpp, &consent))
        .await;
    let mut form = f.par_form(&f.tpp, &request).await;
    form.push(("request".into(), request.clone()));
    assert_oauth_error(
        &f.post("/banco-azul/par", Some(&f.tpp.cert), &form).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
}

async fn json_body_of(response: Response<Full<Bytes>>) -> Value {
    json_body(response).await
}

#[tokio::test]
async fn checklist_09_par_without_client_certificate_is_invalid_client() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let request = f
        .sign(f.tpp.signer.as_ref(), &f.request_claims(&f.tpp, &consent))
        .await;
    let form = f.par_form(&f.tpp, &request).await;
    let result = f.post("/banco-azul/par", None, &form).await;
    assert_oauth_error(&result, StatusCode::UNAUTHORIZED, "invalid_client");
}

#[tokio::test]
async fn checklist_10_par_with_other_client_authentication_methods_is_invalid_client() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let request = f
        .sign(f.tpp.signer.as_ref(), &f.request_claims(&f.tpp, &consent))
        .await;
    // tls_client_auth: the certificate alone, no assertion.
    let form = vec![
        ("client_id".to_owned(), f.tpp.client_id.to_string()),
        ("request".to_owned(), request.clone()),
    ];
    assert_oauth_error(
        &f.post("/banco-azul/par", Some(&f.tpp.cert), &form).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    // client_secret_post.
    let mut secret = form.clone();
    secret.push(("client_secret".into(), "s3cr3t".into()));
    assert_oauth_error(
        &f.post("/banco-azul/par", Some(&f.tpp.cert), &secret).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    // client_secret_basic.
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&form)
        .finish();
    let basic = Request::builder()
        .method(Method::POST)
        .uri("/banco-azul/par")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::AUTHORIZATION, "Basic dHBwLWNsaWVudDpzM2NyM3Q=")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let response = f.call(basic, Some(&f.tpp.cert)).await;
    assert_oauth_error(
        &(response.status(), json_body_of(response).await),
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    // A client_assertion_type other than jwt-bearer.
    let mut wrong_type = f.par_form(&f.tpp, &request).await;
    wrong_type[1].1 = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer".into();
    assert_oauth_error(
        &f.post("/banco-azul/par", Some(&f.tpp.cert), &wrong_type)
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
}

#[tokio::test]
async fn checklist_11_a0_06_a9_48_49_valid_par_is_201_with_a_single_use_request_uri() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let claims = f.request_claims(&f.tpp, &consent);
    let (status, body) = f.par(&f.tpp, &claims).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let request_uri = body["request_uri"].as_str().unwrap();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    let expires_in = body["expires_in"].as_u64().unwrap();
    assert!((60..=600).contains(&expires_in));

    // What was stored is the validated request, sealed, bound to the client.
    let brand = f.brands[0].id();
    let other = f
        .storage
        .grants
        .take_par(brand, request_uri, &f.other.client_id, f.clock.now())
        .await
        .unwrap();
    assert!(other.is_none(), "another client took the request_uri");
    let record = f
        .storage
        .grants
        .take_par(brand, request_uri, &f.tpp.client_id, f.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.expires_at,
        f.clock
            .now()
            .saturating_add(Duration::from_secs(expires_in))
    );
    let stored: AuthorizationRequest = f
        .sealer
        .open_json(
            &SealContext::new("par", brand, request_uri),
            &record.request,
        )
        .await
        .unwrap();
    assert_eq!(stored.consent_id, consent);
    assert_eq!(stored.client_id, f.tpp.client_id);
    assert_eq!(stored.redirect_uri.as_str(), REDIRECT);
    assert_eq!(stored.nonce, "n-0S6_WzA2Mj");
    assert_eq!(stored.state.as_deref(), Some("st-1"));
    assert_eq!(
        stored.code_challenge,
        claims["code_challenge"].as_str().unwrap()
    );
    assert!(
        f.storage
            .grants
            .take_par(brand, request_uri, &f.tpp.client_id, f.clock.now())
            .await
            .unwrap()
            .is_none()
    );

    // The assertion may name the PAR endpoint (either host) instead of the issuer.
    for audience in [
        format!("{}/par", f.issuer(0)),
        f.mtls(0, "par"),
        f.mtls(0, "token"),
    ] {
        let mut claims = f.request_claims(&f.tpp, &consent);
        claims.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        let request = f.sign(f.tpp.signer.as_ref(), &claims).await;
        let mut form = f.par_form(&f.tpp, &request).await;
        form[2].1 = f.assertion(&f.tpp, &audience).await;
        let (status, body) = f.post("/banco-azul/par", Some(&f.tpp.cert), &form).await;
        assert_eq!(status, StatusCode::CREATED, "aud {audience}: {body}");
    }
}

#[tokio::test]
async fn checklist_12_replayed_client_assertion_is_invalid_client() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let request = f
        .sign(f.tpp.signer.as_ref(), &f.request_claims(&f.tpp, &consent))
        .await;
    let form = f.par_form(&f.tpp, &request).await;
    assert_eq!(
        f.post("/banco-azul/par", Some(&f.tpp.cert), &form).await.0,
        StatusCode::CREATED
    );
    // Same assertion, fresh request object.
    let mut again = form.clone();
    again[3].1 = f
        .sign(f.tpp.signer.as_ref(), &f.request_claims(&f.tpp, &consent))
        .await;
    assert_oauth_error(
        &f.post("/banco-azul/par", Some(&f.tpp.cert), &again).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
}

#[tokio::test]
async fn checklist_12_concurrent_replays_of_one_assertion_succeed_once() {
    let f = Arc::new(Fixture::new().await);
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let assertion = f.assertion(&f.tpp, &f.issuer(0)).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let f = f.clone();
        let consent = consent.clone();
        let assertion = assertion.clone();
        tasks.push(tokio::spawn(async move {
            let request = f
                .sign(f.tpp.signer.as_ref(), &f.request_claims(&f.tpp, &consent))
                .await;
            let mut form = f.par_form(&f.tpp, &request).await;
            form[2].1 = assertion;
            f.post("/banco-azul/par", Some(&f.tpp.cert), &form).await.0
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::UNAUTHORIZED => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1);
}

#[tokio::test]
async fn checklist_13_a9_51_52_53_client_assertion_faults_are_invalid_client() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let rs256 = Rs256::generate("tpp-rs256");
    publish_extra_keys(&f, &f.tpp, vec![rs256.jwk()]).await;
    let now = f.clock.now();
    let id = f.tpp.client_id.as_str();
    let claims = |aud: &str, iss: &str, sub: &str, exp: i64| {
        json!({"iss": iss, "sub": sub, "aud": aud, "jti": uuid::Uuid::new_v4().to_string(),
               "iat": now.unix_seconds(), "exp": exp})
    };
    let valid_exp = now.unix_seconds() + 60;
    let cases: Vec<(&str, String)> = vec![
        (
            "RS256",
            jws::sign_claims(&rs256, None, &claims(&f.issuer(0), id, id, valid_exp))
                .await
                .unwrap(),
        ),
        (
            "other org's key",
            jws::sign_claims(
                f.other.signer.as_ref(),
                None,
                &claims(&f.issuer(0), id, id, valid_exp),
            )
            .await
            .unwrap(),
        ),
        (
            "wrong aud",
            jws::sign_claims(
                f.tpp.signer.as_ref(),
                None,
                &claims("https://127.0.0.1/banco-verde", id, id, valid_exp),
            )
            .await
            .unwrap(),
        ),
        (
            "iss not the client",
            jws::sign_claims(
                f.tpp.signer.as_ref(),
                None,
                &claims(&f.issuer(0), "other-client", id, valid_exp),
            )
            .await
            .unwrap(),
        ),
        (
            "sub not the client",
            jws::sign_claims(
                f.tpp.signer.as_ref(),
                None,
                &claims(&f.issuer(0), id, "other-client", valid_exp),
            )
            .await
            .unwrap(),
        ),
        (
            "expired",
            jws::sign_claims(
                f.tpp.signer.as_ref(),
                None,
                &claims(&f.issuer(0), id, id, now.unix_seconds() - 60),
            )
            .await
            .unwrap(),
        ),
        (
            "lives 10 minutes",
            jws::sign_claims(
                f.tpp.signer.as_ref(),
                None,
                &claims(&f.issuer(0), id, id, now.unix_seconds() + 600),
            )
            .await
            .unwrap(),
        ),
        (
            "no jti",
            jws::sign_claims(
                f.tpp.signer.as_ref(),
                None,
                &json!({"iss": id, "sub": id, "aud": f.issuer(0), "exp": valid_exp}),
            )
            .await
            .unwrap(),
        ),
        ("not a JWS", "e30.e30.".to_owned()),
    ];
    for (case, assertion) in cases {
        let request = f
            .sign(f.tpp.signer.as_ref(), &f.request_claims(&f.tpp, &consent))
            .await;
        let mut form = f.par_form(&f.tpp, &request).await;
        form[2].1 = assertion;
        let result = f.post("/banco-azul/par", Some(&f.tpp.cert), &form).await;
        assert_eq!(result.0, StatusCode::UNAUTHORIZED, "{case}: {}", result.1);
        assert_eq!(result.1["error"], "invalid_client", "{case}");
    }
}

#[tokio::test]
async fn client_certificate_must_belong_to_the_clients_organisation() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let request = f
        .sign(f.tpp.signer.as_ref(), &f.request_claims(&f.tpp, &consent))
        .await;
    let form = f.par_form(&f.tpp, &request).await;
    let result = f.post("/banco-azul/par", Some(&f.other.cert), &form).await;
    assert_oauth_error(&result, StatusCode::UNAUTHORIZED, "invalid_client");
}

#[tokio::test]
async fn clients_of_one_brand_are_unknown_to_another() {
    let f = Fixture::new().await;
    let form = vec![
        ("grant_type".to_owned(), "client_credentials".to_owned()),
        ("client_id".into(), f.tpp.client_id.to_string()),
        ("client_assertion_type".into(), ASSERTION_TYPE.into()),
        (
            "client_assertion".into(),
            f.assertion(&f.tpp, &f.mtls(1, "token")).await,
        ),
    ];
    let result = f.post("/banco-verde/token", Some(&f.tpp.cert), &form).await;
    assert_oauth_error(&result, StatusCode::UNAUTHORIZED, "invalid_client");
    // Once registered there too, the same client works on both.
    f.register(&f.brands[1], &f.tpp, ClientAuthMethod::PrivateKeyJwt)
        .await;
    let mut form = form;
    form[3].1 = f.assertion(&f.tpp, &f.mtls(1, "token")).await;
    assert_eq!(
        f.post("/banco-verde/token", Some(&f.tpp.cert), &form)
            .await
            .0,
        StatusCode::OK
    );
}

// ----------------------------------------------------- PAR: request object

#[tokio::test]
async fn checklist_14_15_a9_55_a4_28_request_uri_or_no_request_object_is_invalid_request() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let request = f
        .sign(f.tpp.signer.as_ref(), &f.request_claims(&f.tpp, &consent))
        .await;
    let mut with_uri = f.par_form(&f.tpp, &request).await;
    with_uri.push((
        "request_uri".into(),
        "urn:ietf:params:oauth:request_uri:abc".into(),
    ));
    assert_oauth_error(
        &f.post("/banco-azul/par", Some(&f.tpp.cert), &with_uri)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );

    let mut plain = f.par_form(&f.tpp, &request).await;
    plain.pop();
    for (k, v) in f.request_claims(&f.tpp, &consent) {
        if let Value::String(s) = v {
            plain.push((k, s));
        }
    }
    assert_oauth_error(
        &f.post("/banco-azul/par", Some(&f.tpp.cert), &plain).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
}

#[tokio::test]
async fn checklist_16_17_a3_24_25_26_27_request_object_signature_faults() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let rs256 = Rs256::generate("tpp-rs256");
    let ec = SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::generate_ec("tpp-es256").unwrap())
        .build()
        .unwrap();
    let mut extra = vec![rs256.jwk()];
    extra.extend(
        serde_json::to_value(ec.public_jwks().await.unwrap()).unwrap()["keys"]
            .as_array()
            .cloned()
            .unwrap(),
    );
    publish_extra_keys(&f, &f.tpp, extra).await;
    let unpublished = SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::generate_rsa("tpp-sig-new").unwrap())
        .build()
        .unwrap();

    let claims = f.request_claims(&f.tpp, &consent);
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"oauth-authz-req+jwt"}"#),
        b64(serde_json::to_vec(&claims).unwrap())
    );
    let valid = f.sign(f.tpp.signer.as_ref(), &claims).await;
    let mut parts: Vec<&str> = valid.split('.').collect();
    let tampered_sig = {
        let mut sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap();
        sig[0] ^= 1;
        b64(sig)
    };
    parts[2] = &tampered_sig;
    let tampered = parts.join(".");
    let cases = vec![
        ("none", none),
        ("RS256", f.sign(&rs256, &claims).await),
        (
            "ES256",
            f.sign(
                ec.signer(KeyPurpose::ClientSigning).await.unwrap().as_ref(),
                &claims,
            )
            .await,
        ),
        (
            "17: key not in the client's keystore",
            f.sign(
                unpublished
                    .signer(KeyPurpose::ClientSigning)
                    .await
                    .unwrap()
                    .as_ref(),
                &claims,
            )
            .await,
        ),
        (
            "17: another participant's key",
            f.sign(f.other.signer.as_ref(), &claims).await,
        ),
        ("bad signature", tampered),
    ];
    for (case, request) in cases {
        let form = f.par_form(&f.tpp, &request).await;
        let result = f.post("/banco-azul/par", Some(&f.tpp.cert), &form).await;
        assert_eq!(result.0, StatusCode::BAD_REQUEST, "{case}: {}", result.1);
        assert_eq!(result.1["error"], "invalid_request_object", "{case}");
    }
}

#[tokio::test]
async fn recurring_consents_are_pushed_with_their_own_scope_only() {
    let f = Fixture::new().await;
    let data = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    // A recurring consent (automatic payments): its record is what PAR reads.
    let recurring = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let mut record = f
        .storage
        .consents
        .get_consent(f.brands[0].id(), &recurring)
        .await
        .unwrap()
        .unwrap();
    record.kind = opus_core::consent::ConsentKind::Recurring;
    record.id = ConsentId::new(format!("urn:bancoazul:{}", uuid::Uuid::new_v4())).unwrap();
    f.storage
        .consents
        .insert_consent(&record, &[])
        .await
        .unwrap();
    let recurring = record.id;
    let pushed = async |scope: String| {
        par_with(&f, &data, |c| {
            c.insert("scope".into(), json!(scope));
        })
        .await
    };
    // Each kind with its own scope.
    let ok = pushed(format!("openid recurring-consent:{recurring}")).await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    let ok = pushed(format!("openid consent:{data}")).await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    // Crossed, or both at once: refused.
    let crossed = pushed(format!("openid consent:{recurring}")).await;
    assert_oauth_error(&crossed, StatusCode::BAD_REQUEST, "invalid_request");
    let crossed = pushed(format!("openid recurring-consent:{data}")).await;
    assert_oauth_error(&crossed, StatusCode::BAD_REQUEST, "invalid_request");
    let both = pushed(format!(
        "openid consent:{data} recurring-consent:{recurring}"
    ))
    .await;
    assert_oauth_error(&both, StatusCode::BAD_REQUEST, "invalid_scope");
}

/// A change to a request object's claims.
type Edit = Box<dyn FnOnce(&mut serde_json::Map<String, Value>)>;

/// Signs `claims` after `edit`, pushes it, and returns the outcome.
async fn par_with(
    f: &Fixture,
    consent: &ConsentId,
    edit: impl FnOnce(&mut serde_json::Map<String, Value>),
) -> (StatusCode, Value) {
    let mut claims = f.request_claims(&f.tpp, consent);
    edit(&mut claims);
    f.par(&f.tpp, &claims).await
}

#[tokio::test]
async fn checklist_18_to_21_a3_14_15_20_21_22_23_a9_63_request_object_claims_are_invalid_request_object()
 {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let now = f.clock.now().unix_seconds();
    let cases: Vec<(&str, Edit)> = vec![
        (
            "18: aud is another brand",
            Box::new(|c| {
                c.insert("aud".into(), json!("https://127.0.0.1/banco-verde"));
            }),
        ),
        (
            "18: aud is the token endpoint",
            Box::new(|c| {
                c.insert(
                    "aud".into(),
                    json!("https://127.0.0.1:8443/banco-azul/token"),
                );
            }),
        ),
        (
            "19: no exp",
            Box::new(|c| {
                c.remove("exp");
            }),
        ),
        (
            "19: exp - nbf = 61 min",
            Box::new(move |c| {
                c.insert("exp".into(), json!(now + 3660 - 60));
                c.insert("nbf".into(), json!(now - 60));
            }),
        ),
        (
            "19: expired",
            Box::new(move |c| {
                c.insert("exp".into(), json!(now - 30));
                c.insert("nbf".into(), json!(now - 300));
            }),
        ),
        (
            "20: no nbf",
            Box::new(|c| {
                c.remove("nbf");
            }),
        ),
        (
            "20: nbf 61 min ago",
            Box::new(move |c| {
                c.insert("nbf".into(), json!(now - 3660));
                c.insert("exp".into(), json!(now + 60));
            }),
        ),
        (
            "20: nbf in the future",
            Box::new(move |c| {
                c.insert("nbf".into(), json!(now + 120));
                c.insert("exp".into(), json!(now + 600));
            }),
        ),
        (
            "21: client_id of another client",
            Box::new(|c| {
                c.insert("client_id".into(), json!("other-client"));
            }),
        ),
        (
            "21: no client_id",
            Box::new(|c| {
                c.remove("client_id");
            }),
        ),
        (
            "iss not the client",
            Box::new(|c| {
                c.insert("iss".into(), json!("other-client"));
            }),
        ),
        (
            "nested request_uri",
            Box::new(|c| {
                c.insert("request_uri".into(), json!("urn:x"));
            }),
        ),
        (
            "scope not a string",
            Box::new(|c| {
                c.insert("redirect_uri".into(), json!([REDIRECT]));
            }),
        ),
    ];
    for (case, edit) in cases {
        let result = par_with(&f, &consent, edit).await;
        assert_eq!(result.0, StatusCode::BAD_REQUEST, "{case}: {}", result.1);
        assert_eq!(result.1["error"], "invalid_request_object", "{case}");
    }
    // Within the limits is fine: exp - nbf = 60 min, nbf 59 min ago.
    let ok = par_with(&f, &consent, move |c| {
        c.insert("nbf".into(), json!(now - 3540));
        c.insert("exp".into(), json!(now + 60));
    })
    .await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
}

#[tokio::test]
async fn replayed_request_object_is_refused() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let claims = f.request_claims(&f.tpp, &consent);
    assert_eq!(f.par(&f.tpp, &claims).await.0, StatusCode::CREATED);
    assert_oauth_error(
        &f.par(&f.tpp, &claims).await,
        StatusCode::BAD_REQUEST,
        "invalid_request_object",
    );
}

#[tokio::test]
async fn checklist_22_to_26_a9_57_60_62_a2_08_10_a4_29_30_a3_18_19_authorization_parameters_are_invalid_request()
 {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "22: no code_challenge",
            Box::new(|c| {
                c.remove("code_challenge");
            }),
        ),
        (
            "22: plain",
            Box::new(|c| {
                c.insert("code_challenge_method".into(), json!("plain"));
            }),
        ),
        (
            "22: no method",
            Box::new(|c| {
                c.remove("code_challenge_method");
            }),
        ),
        (
            "22: short challenge",
            Box::new(|c| {
                c.insert("code_challenge".into(), json!("abc"));
            }),
        ),
        (
            "23: response_mode=jwt",
            Box::new(|c| {
                c.insert("response_mode".into(), json!("jwt"));
            }),
        ),
        (
            "23: response_mode=query",
            Box::new(|c| {
                c.insert("response_mode".into(), json!("query"));
            }),
        ),
        (
            "24: unregistered redirect_uri",
            Box::new(|c| {
                c.insert(
                    "redirect_uri".into(),
                    json!("https://evil.example/callback"),
                );
            }),
        ),
        (
            "24: http redirect_uri",
            Box::new(|c| {
                c.insert("redirect_uri".into(), json!("http://tpp.example/callback"));
            }),
        ),
        (
            "24: no redirect_uri",
            Box::new(|c| {
                c.remove("redirect_uri");
            }),
        ),
        (
            "25: no nonce",
            Box::new(|c| {
                c.remove("nonce");
            }),
        ),
        (
            "25: empty nonce",
            Box::new(|c| {
                c.insert("nonce".into(), json!(""));
            }),
        ),
        (
            "26: id_token_hint",
            Box::new(|c| {
                c.insert("id_token_hint".into(), json!("eyJ.eyJ.sig"));
            }),
        ),
        (
            "no openid",
            Box::new(move |c| {
                c.insert(
                    "scope".into(),
                    json!(format!("accounts consent:{}", "urn:x:y")),
                );
            }),
        ),
    ];
    for (case, edit) in cases {
        let result = par_with(&f, &consent, edit).await;
        assert_eq!(result.0, StatusCode::BAD_REQUEST, "{case}: {}", result.1);
        assert!(
            result.1["error"] == "invalid_request"
                || (case.starts_with("no openid") && result.1["error"] == "invalid_scope"),
            "{case}: {}",
            result.1
        );
    }
    let code = par_with(&f, &consent, |c| {
        c.insert("response_type".into(), json!("code"));
    })
    .await;
    assert_oauth_error(&code, StatusCode::BAD_REQUEST, "unsupported_response_type");
}

#[tokio::test]
async fn checklist_27_and_28_consent_scope_rules() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let second = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    // 27
    let none = par_with(&f, &consent, |c| {
        c.insert("scope".into(), json!("openid accounts"));
    })
    .await;
    assert_oauth_error(&none, StatusCode::BAD_REQUEST, "invalid_scope");
    let two = par_with(&f, &consent, |c| {
        c.insert(
            "scope".into(),
            json!(format!(
                "openid accounts consent:{consent} consent:{second}"
            )),
        );
    })
    .await;
    assert_oauth_error(&two, StatusCode::BAD_REQUEST, "invalid_scope");
    let not_allowed = par_with(&f, &consent, |c| {
        c.insert(
            "scope".into(),
            json!(format!("openid loans consent:{consent}")),
        );
    })
    .await;
    assert_oauth_error(&not_allowed, StatusCode::BAD_REQUEST, "invalid_scope");
    // 28: another client's, an authorised, a rejected, an unknown consent.
    let others = f
        .consent(0, &f.other.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let authorised = f
        .consent(0, &f.tpp.client_id, ConsentStatus::Authorised)
        .await;
    let rejected = f
        .consent(0, &f.tpp.client_id, ConsentStatus::Rejected)
        .await;
    let other_brand = f
        .consent(1, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let unknown = ConsentId::new("urn:bancoazul:unknown").unwrap();
    for id in [others, authorised, rejected, other_brand, unknown] {
        let result = par_with(&f, &consent, |c| {
            c.insert(
                "scope".into(),
                json!(format!("openid accounts consent:{id}")),
            );
        })
        .await;
        assert_eq!(result.0, StatusCode::BAD_REQUEST, "{id}: {}", result.1);
        assert!(result.1["error"] == "invalid_request" || result.1["error"] == "invalid_scope");
    }
    // The consent itself is untouched by a push.
    let record = f
        .storage
        .consents
        .get_consent(f.brands[0].id(), &consent)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status, ConsentStatus::AwaitingAuthorisation);
}

// ------------------------------------------------------------------- token

#[tokio::test]
async fn checklist_43_client_credentials_token_is_bound_and_lives_300_to_900_seconds() {
    let f = Fixture::new().await;
    let (status, body) = f.client_credentials(&f.tpp, Some("consents")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    let expires_in = body["expires_in"].as_u64().unwrap();
    assert!((300..=900).contains(&expires_in));
    assert_eq!(body["scope"], "consents");
    assert!(body.get("refresh_token").is_none());
    let token = body["access_token"].as_str().unwrap();
    // 45: bound to the certificate used at the token endpoint; only a hash is stored.
    let record = f
        .storage
        .grants
        .get_token(f.brands[0].id(), &TokenHash::of(token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.certificate_thumbprint.as_deref(),
        Some(certificate_thumbprint(&f.tpp.cert.der).as_str())
    );
    assert_eq!(record.client_id, f.tpp.client_id);
    assert!(record.consent_id.is_none());

    // Without a scope: every non-dynamic scope of the client.
    let (status, body) = f.client_credentials(&f.tpp, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["scope"], "consents resources accounts payments");
}

#[tokio::test]
async fn token_endpoint_refusals() {
    let f = Fixture::new().await;
    for scope in ["openid", "consent:urn:x:y", "loans", "consents loans"] {
        assert_oauth_error(
            &f.client_credentials(&f.tpp, Some(scope)).await,
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        );
    }
    let base = |grant: &str| vec![("grant_type".to_owned(), grant.to_owned())];
    let mut password = base("password");
    password.push(("client_id".into(), f.tpp.client_id.to_string()));
    password.push(("client_assertion_type".into(), ASSERTION_TYPE.into()));
    password.push((
        "client_assertion".into(),
        f.assertion(&f.tpp, &f.mtls(0, "token")).await,
    ));
    assert_oauth_error(
        &f.post("/banco-azul/token", Some(&f.tpp.cert), &password)
            .await,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    );
    let mut no_grant = password.clone();
    no_grant.remove(0);
    assert_oauth_error(
        &f.post("/banco-azul/token", Some(&f.tpp.cert), &no_grant)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    // The client is authenticated before anything is issued.
    let unauthenticated = base("client_credentials");
    assert_oauth_error(
        &f.post("/banco-azul/token", Some(&f.tpp.cert), &unauthenticated)
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    // An inactive client is unknown.
    let mut record = f
        .storage
        .clients
        .get_client(f.brands[0].id(), &f.tpp.client_id)
        .await
        .unwrap()
        .unwrap();
    let version = record.version;
    record.status = ClientStatus::Inactive;
    f.storage
        .clients
        .update_client(&record, version)
        .await
        .unwrap();
    assert_oauth_error(
        &f.client_credentials(&f.tpp, Some("consents")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
}

// ------------------------------------------------------------ resource guard

/// A resource behind the guard that answers with the verified access.
async fn guarded(
    layer: ResourceGuardLayer,
    request: Request<Full<Bytes>>,
    cert: Option<&IssuedCertificate>,
) -> (StatusCode, Value, http::HeaderMap) {
    let resource = tower::service_fn(|request: Request<Full<Bytes>>| async move {
        let access = request
            .extensions()
            .get::<VerifiedAccess>()
            .cloned()
            .unwrap();
        let body = json!({
            "client": access.client_id.as_str(),
            "consent": access.consent_id.map(|c| c.to_string()),
            "scopes": access.scopes,
            "ip": access.customer_ip_address,
        });
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body.to_string()))))
    });
    let service = ClientCertificateLayer::tls_only().layer(layer.layer(resource));
    let mut request = request;
    request.extensions_mut().insert(connection(cert));
    let response = service.oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, json_body(response).await, headers)
}

fn api_request(token: Option<&str>, interaction_id: Option<&str>) -> http::request::Builder {
    let mut builder = Request::builder().uri("/open-banking/accounts/v2/accounts");
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(id) = interaction_id {
        builder = builder.header("x-fapi-interaction-id", id);
    }
    builder
}

/// A consent-bound access token for `party`, as the code grant will issue.
async fn consent_token(f: &Fixture, party: &Party, consent: &ConsentId, scope: &str) -> String {
    let token = format!("at-{}", uuid::Uuid::new_v4());
    let now = f.clock.now();
    f.storage
        .grants
        .put_token(&TokenRecord {
            brand: f.brands[0].id().clone(),
            token: TokenHash::of(&token),
            kind: TokenKind::Access,
            grant_id: GrantId::random(),
            client_id: party.client_id.clone(),
            consent_id: Some(consent.clone()),
            scope: scope.to_owned(),
            certificate_thumbprint: Some(certificate_thumbprint(&party.cert.der)),
            issued_at: now,
            expires_at: Some(now.saturating_add(Duration::from_secs(600))),
            revoked_at: None,
            subject: None,
        })
        .await
        .unwrap();
    token
}

fn guard(f: &Fixture) -> ResourceGuardLayer {
    ResourceGuardLayer::new(f.brands[0].id().clone(), f.storage.clone(), f.clock.clone())
}

const INTERACTION: &str = "0c7c3a8e-7a2b-4bbd-9b6f-5c1f3b8a9d10";

#[tokio::test]
async fn checklist_80_to_82_tokens_are_bound_to_the_client_certificate() {
    let f = Fixture::new().await;
    let (_, body) = f.client_credentials(&f.tpp, Some("consents")).await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    let layer = guard(&f).require_scope("consents");
    let ok = guarded(
        layer.clone(),
        api_request(Some(&token), Some(INTERACTION))
            .body(Full::default())
            .unwrap(),
        Some(&f.tpp.cert),
    )
    .await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.1);
    assert_eq!(ok.1["client"], "tpp-client");
    // 80
    let no_cert = guarded(
        layer.clone(),
        api_request(Some(&token), Some(INTERACTION))
            .body(Full::default())
            .unwrap(),
        None,
    )
    .await;
    assert_eq!(no_cert.0, StatusCode::UNAUTHORIZED);
    assert_eq!(no_cert.1["errors"][0]["code"], "UNAUTHORIZED");
    // 81
    let other_cert = guarded(
        layer.clone(),
        api_request(Some(&token), Some(INTERACTION))
            .body(Full::default())
            .unwrap(),
        Some(&f.other.cert),
    )
    .await;
    assert_eq!(other_cert.0, StatusCode::UNAUTHORIZED);
    // 82
    let query = Request::builder()
        .uri(format!(
            "/open-banking/accounts/v2/accounts?access_token={token}"
        ))
        .header("x-fapi-interaction-id", INTERACTION)
        .body(Full::default())
        .unwrap();
    assert_eq!(
        guarded(layer.clone(), query, Some(&f.tpp.cert)).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Unknown token, other scheme.
    assert_eq!(
        guarded(
            layer.clone(),
            api_request(Some("nope"), Some(INTERACTION))
                .body(Full::default())
                .unwrap(),
            Some(&f.tpp.cert)
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    let basic = Request::builder()
        .uri("/x")
        .header(header::AUTHORIZATION, format!("Basic {token}"))
        .header("x-fapi-interaction-id", INTERACTION)
        .body(Full::default())
        .unwrap();
    assert_eq!(
        guarded(layer.clone(), basic, Some(&f.tpp.cert)).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Another brand's guard does not know the token.
    let verde =
        ResourceGuardLayer::new(f.brands[1].id().clone(), f.storage.clone(), f.clock.clone());
    assert_eq!(
        guarded(
            verde,
            api_request(Some(&token), Some(INTERACTION))
                .body(Full::default())
                .unwrap(),
            Some(&f.tpp.cert)
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    // Expired after its lifetime, by the clock.
    f.clock
        .advance(Duration::from_secs(body["expires_in"].as_u64().unwrap()));
    assert_eq!(
        guarded(
            layer,
            api_request(Some(&token), Some(INTERACTION))
                .body(Full::default())
                .unwrap(),
            Some(&f.tpp.cert)
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn checklist_83_to_86_interaction_id_and_customer_headers() {
    let f = Fixture::new().await;
    let (_, body) = f.client_credentials(&f.tpp, Some("consents")).await;
    let token = body["access_token"].as_str().unwrap().to_owned();
    let layer = guard(&f);
    // 83
    let missing = guarded(
        layer.clone(),
        api_request(Some(&token), None)
            .body(Full::default())
            .unwrap(),
        Some(&f.tpp.cert),
    )
    .await;
    assert_eq!(missing.0, StatusCode::BAD_REQUEST);
    assert_eq!(missing.1["errors"][0]["code"], "PARAMETRO_INVALIDO");
    let generated = missing.2["x-fapi-interaction-id"].to_str().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(generated).unwrap().get_version_num(),
        4
    );
    // 84
    let bad = guarded(
        layer.clone(),
        api_request(Some(&token), Some("abc"))
            .body(Full::default())
            .unwrap(),
        Some(&f.tpp.cert),
    )
    .await;
    assert_eq!(bad.0, StatusCode::BAD_REQUEST);
    let generated = bad.2["x-fapi-interaction-id"].to_str().unwrap();
    assert_ne!(generated, "abc");
    assert!(uuid::Uuid::parse_str(generated).is_ok());
    // 85, also on refusals.
    let ok = guarded(
        layer.clone(),
        api_request(Some(&token), Some(INTERACTION))
            .body(Full::default())
            .unwrap(),
        Some(&f.tpp.cert),
    )
    .await;
    assert_eq!(ok.2["x-fapi-interaction-id"], INTERACTION);
    let refused = guarded(
        layer.clone(),
        api_request(None, Some(INTERACTION))
            .body(Full::default())
            .unwrap(),
        Some(&f.tpp.cert),
    )
    .await;
    assert_eq!(refused.0, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.2["x-fapi-interaction-id"], INTERACTION);
    // 86
    let ipv6 = api_request(Some(&token), Some(INTERACTION))
        .header("x-fapi-customer-ip-address", "2001:db8::8a2e:370:7334")
        .body(Full::default())
        .unwrap();
    let result = guarded(layer, ipv6, Some(&f.tpp.cert)).await;
    assert_eq!(result.0, StatusCode::OK);
    assert_eq!(result.1["ip"], "2001:db8::8a2e:370:7334");
}

#[tokio::test]
async fn checklist_87_consent_status_and_scope_are_enforced() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::Authorised)
        .await;
    let token = consent_token(&f, &f.tpp, &consent, "openid accounts").await;
    let layer = guard(&f)
        .require_scope("accounts")
        .require_authorised_consent();
    let request = || {
        api_request(Some(&token), Some(INTERACTION))
            .body(Full::default())
            .unwrap()
    };
    let ok = guarded(layer.clone(), request(), Some(&f.tpp.cert)).await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.1);
    assert_eq!(ok.1["consent"], json!(consent.to_string()));
    // Wrong scope: 403.
    let loans = guarded(
        guard(&f).require_scope("loans"),
        request(),
        Some(&f.tpp.cert),
    )
    .await;
    assert_eq!(loans.0, StatusCode::FORBIDDEN);
    assert_eq!(loans.1["errors"][0]["code"], "FORBIDDEN");
    // Revoked: refused at once.
    let mut record = f
        .storage
        .consents
        .get_consent(f.brands[0].id(), &consent)
        .await
        .unwrap()
        .unwrap();
    let version = record.version;
    record.status = ConsentStatus::Rejected;
    f.storage
        .consents
        .update_consent(&record, version, &[])
        .await
        .unwrap();
    assert_eq!(
        guarded(layer.clone(), request(), Some(&f.tpp.cert)).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A revoked token is refused even for scope-only resources.
    let revoked = consent_token(&f, &f.tpp, &consent, "openid accounts").await;
    f.storage
        .grants
        .revoke_token(f.brands[0].id(), &TokenHash::of(&revoked), f.clock.now())
        .await
        .unwrap();
    let request = api_request(Some(&revoked), Some(INTERACTION))
        .body(Full::default())
        .unwrap();
    assert_eq!(
        guarded(guard(&f), request, Some(&f.tpp.cert)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn checklist_88_payment_scope_tokens_ignore_consent_status_unless_asked() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::Consumed)
        .await;
    let token = consent_token(&f, &f.tpp, &consent, "openid payments").await;
    let request = || {
        api_request(Some(&token), Some(INTERACTION))
            .body(Full::default())
            .unwrap()
    };
    let payments = guarded(
        guard(&f).require_scope("payments"),
        request(),
        Some(&f.tpp.cert),
    )
    .await;
    assert_eq!(payments.0, StatusCode::OK);
    let strict = guarded(
        guard(&f)
            .require_scope("payments")
            .require_authorised_consent(),
        request(),
        Some(&f.tpp.cert),
    )
    .await;
    assert_eq!(strict.0, StatusCode::UNAUTHORIZED);
}

// ------------------------------------------- authorization, codes, refresh

const CUSTOMER: &str = "52998224725";

fn approval(f: &Fixture, cpf: &str, business: Option<&str>, acr: Acr) -> InteractionOutcome {
    InteractionOutcome::Approved(InteractionApproval {
        subject: Cpf::parse(cpf).unwrap(),
        business_entity: business.map(|c| Cnpj::parse(c).unwrap()),
        acr,
        auth_time: f.clock.now(),
        resources: vec![],
    })
}

impl Fixture {
    /// `GET /authorize` with `query`; the status and `Location`.
    async fn authorize(&self, query: &str) -> (StatusCode, Option<String>) {
        let request = Request::builder()
            .uri(format!("/banco-azul/authorize?{query}"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = self.call(request, None).await;
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        (response.status(), location)
    }

    fn authorize_query(party: &Party, request_uri: &str) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", party.client_id.as_str())
            .append_pair("request_uri", request_uri)
            .finish()
    }

    /// PAR with `claims`, then the authorization endpoint: the interaction
    /// the bank's front was asked to run.
    async fn start_with(&self, claims: &serde_json::Map<String, Value>) -> InteractionRequest {
        let (status, body) = self.par(&self.tpp, claims).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let query = Self::authorize_query(&self.tpp, body["request_uri"].as_str().unwrap());
        let (status, location) = self.authorize(&query).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let interaction = self.authenticator.last().unwrap();
        assert_eq!(
            location.unwrap(),
            format!("{LOGIN}?interaction={}", interaction.id)
        );
        interaction
    }

    async fn start(&self, consent: &ConsentId) -> InteractionRequest {
        self.start_with(&self.request_claims(&self.tpp, consent))
            .await
    }

    /// Completes the interaction; the redirect's fragment parameters.
    async fn finish(
        &self,
        interaction: &InteractionRequest,
        outcome: InteractionOutcome,
    ) -> BTreeMap<String, String> {
        let to = self
            .server
            .complete_interaction(self.brands[0].id(), &interaction.id, outcome)
            .await
            .unwrap();
        assert!(to.as_str().starts_with(REDIRECT), "{to}");
        assert!(to.query().is_none());
        url::form_urlencoded::parse(to.fragment().unwrap().as_bytes())
            .into_owned()
            .collect()
    }

    async fn exchange(
        &self,
        party: &Party,
        code: &str,
        verifier: Option<&str>,
    ) -> (StatusCode, Value) {
        self.exchange_via(&self.server, party, code, verifier).await
    }

    async fn exchange_via(
        &self,
        server: &AuthorizationServer,
        party: &Party,
        code: &str,
        verifier: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut form = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".into(), code.into()),
            ("redirect_uri".into(), REDIRECT.into()),
            ("client_id".into(), party.client_id.to_string()),
            ("client_assertion_type".into(), ASSERTION_TYPE.into()),
            (
                "client_assertion".into(),
                self.assertion(party, &self.mtls(0, "token")).await,
            ),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier".into(), verifier.into()));
        }
        self.post_via(server, "/banco-azul/token", Some(&party.cert), &form)
            .await
    }

    async fn refresh(
        &self,
        party: &Party,
        cert: &IssuedCertificate,
        token: &str,
    ) -> (StatusCode, Value) {
        let form = vec![
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".into(), token.into()),
            ("client_id".into(), party.client_id.to_string()),
            ("client_assertion_type".into(), ASSERTION_TYPE.into()),
            (
                "client_assertion".into(),
                self.assertion(party, &self.mtls(0, "token")).await,
            ),
        ];
        self.post("/banco-azul/token", Some(cert), &form).await
    }

    async fn consent_status(&self, id: &ConsentId) -> DataConsent {
        let record = self
            .storage
            .consents
            .get_consent(self.brands[0].id(), id)
            .await
            .unwrap()
            .unwrap();
        DataConsent::open(&record, &self.sealer).await.unwrap()
    }

    async fn as_keys(&self) -> JwkSet {
        let (_, keys, _) = self.get("/banco-azul/jwks").await;
        serde_json::from_value(keys).unwrap()
    }

    /// A code for an authorised consent, through the whole front channel.
    async fn code_for(&self, consent: &ConsentId) -> String {
        let interaction = self.start(consent).await;
        let fragment = self
            .finish(&interaction, approval(self, CUSTOMER, None, Acr::Loa2))
            .await;
        fragment["code"].clone()
    }
}

#[tokio::test]
async fn the_client_validates_the_answer_and_refuses_tampered_ones() {
    use opus_fapi::client::{CallbackError, CallbackExpectations, validate_callback};
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let interaction = f.start(&consent).await;
    let fragment = f
        .finish(&interaction, approval(&f, CUSTOMER, None, Acr::Loa3))
        .await;
    let custody = f.tpp.custody.clone().unwrap();
    let keys = f.as_keys().await;
    let issuer = f.issuer(0);
    let expected = CallbackExpectations {
        issuer: &issuer,
        client_id: &f.tpp.client_id,
        nonce: "n-0S6_WzA2Mj",
        state: Some("st-1"),
        acr_values: &["urn:brasil:openbanking:loa2", "urn:brasil:openbanking:loa3"],
        encrypted: true,
    };
    let now = f.clock.now();
    let check = async |params: &BTreeMap<String, String>, expected: &CallbackExpectations<'_>| {
        validate_callback(params, expected, custody.as_ref(), &keys, now).await
    };
    let valid = check(&fragment, &expected).await.unwrap();
    assert_eq!(valid.code, fragment["code"]);
    assert_eq!(valid.id_token["acr"], "urn:brasil:openbanking:loa3");

    // Tampered answers.
    let with = |name: &str, value: &str| {
        let mut changed = fragment.clone();
        changed.insert(name.to_owned(), value.to_owned());
        changed
    };
    assert!(matches!(
        check(&with("state", "other"), &expected).await,
        Err(CallbackError::State)
    ));
    assert!(matches!(
        check(&with("code", "another-code"), &expected).await,
        Err(CallbackError::CodeHash)
    ));
    let other_state = CallbackExpectations {
        state: Some("other"),
        ..expected.clone()
    };
    assert!(matches!(
        check(&with("state", "other"), &other_state).await,
        Err(CallbackError::StateHash)
    ));
    let other_nonce = CallbackExpectations {
        nonce: "another-nonce",
        ..expected.clone()
    };
    assert!(matches!(
        check(&fragment, &other_nonce).await,
        Err(CallbackError::Nonce)
    ));
    let other_issuer = CallbackExpectations {
        issuer: "https://impostor.example",
        ..expected.clone()
    };
    assert!(matches!(
        check(&fragment, &other_issuer).await,
        Err(CallbackError::Claims(_))
    ));
    let loa2_only = CallbackExpectations {
        acr_values: &["urn:brasil:openbanking:loa2"],
        ..expected.clone()
    };
    assert!(matches!(
        check(&fragment, &loa2_only).await,
        Err(CallbackError::Acr)
    ));
    // The signed token inside, sent in the clear, or with a broken signature.
    let inner = jwe::decrypt(&fragment["id_token"], custody.as_ref(), &JwePolicy::ofb())
        .await
        .unwrap();
    let inner = String::from_utf8(inner.plaintext().to_vec()).unwrap();
    assert!(matches!(
        check(&with("id_token", &inner), &expected).await,
        Err(CallbackError::Unencrypted)
    ));
    let clear = CallbackExpectations {
        encrypted: false,
        ..expected.clone()
    };
    assert!(check(&with("id_token", &inner), &clear).await.is_ok());
    let mut broken = inner.clone();
    let last = broken.pop().unwrap();
    broken.push(if last == 'A' { 'B' } else { 'A' });
    assert!(matches!(
        check(&with("id_token", &broken), &clear).await,
        Err(CallbackError::Signature)
    ));
    // A refusal is an error with its reason.
    let refused: BTreeMap<String, String> = [("error", "access_denied"), ("state", "st-1")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert!(matches!(
        check(&refused, &expected).await,
        Err(CallbackError::Refused { error, .. }) if error == "access_denied"
    ));
}

#[tokio::test]
async fn checklist_36_37_a1_02_a0_07_08_approval_redirects_with_code_state_and_an_encrypted_id_token()
 {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let interaction = f.start(&consent).await;
    assert_eq!(interaction.client_id, f.tpp.client_id);
    assert_eq!(interaction.client_name, "TPP");
    assert_eq!(interaction.consent_id, consent);
    assert_eq!(interaction.acr_values, vec![Acr::Loa2]);
    assert_eq!(
        f.consent_status(&consent).await.status,
        ConsentStatus::AwaitingAuthorisation
    );

    let fragment = f
        .finish(&interaction, approval(&f, CUSTOMER, None, Acr::Loa3))
        .await;
    assert_eq!(fragment["state"], "st-1");
    let code = &fragment["code"];
    let id_token = &fragment["id_token"];
    // 36: a JWE, RSA-OAEP + A256GCM, to the client's enc key.
    assert_eq!(id_token.split('.').count(), 5);
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(id_token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "RSA-OAEP");
    assert_eq!(header["enc"], "A256GCM");
    assert_eq!(header["kid"], "tpp-client-enc");
    // 37: inside, a PS256 JWS of the brand with acr, nonce, c_hash, s_hash.
    let custody = f.tpp.custody.clone().unwrap();
    let verified = jwe::decrypt_then_verify(
        id_token,
        custody.as_ref(),
        &JwePolicy::ofb(),
        &f.as_keys().await,
        &JwsPolicy::ofb(),
    )
    .await
    .unwrap();
    assert_eq!(verified.alg(), JwsAlg::PS256);
    assert_eq!(verified.kid(), "as-sig-0");
    let claims = verified.claims().unwrap();
    assert_eq!(claims["iss"], json!(f.issuer(0)));
    assert_eq!(claims["aud"], "tpp-client");
    assert_eq!(claims["acr"], "urn:brasil:openbanking:loa3");
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["auth_time"], json!(f.clock.now().unix_seconds()));
    let half = |v: &str| {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, v.as_bytes());
        b64(&d.as_ref()[..16])
    };
    assert_eq!(claims["c_hash"], json!(half(code)));
    assert_eq!(claims["s_hash"], json!(half("st-1")));
    // `sub` is stable and is not the CPF.
    let sub = claims["sub"].as_str().unwrap();
    assert!(!sub.contains(CUSTOMER));
    assert!(!claims.contains_key("cpf"));
    // The consent is authorised, and the change is an event in the outbox.
    let events = opus_core::store::Topic::new("events").unwrap();
    assert_eq!(f.storage.outbox.pending(&events).await.unwrap(), 1);
    assert_eq!(
        f.consent_status(&consent).await.status,
        ConsentStatus::Authorised
    );
    // An interaction finishes once.
    let again = f
        .server
        .complete_interaction(
            f.brands[0].id(),
            &interaction.id,
            approval(&f, CUSTOMER, None, Acr::Loa2),
        )
        .await;
    assert_eq!(again.unwrap_err(), InteractionError::NotFound);
}

#[tokio::test]
async fn checklist_29_to_32_a9_45_46_47_54_64_a2_09_authorization_endpoint_refusals() {
    let f = Fixture::new().await;
    let push = || async {
        let consent = f
            .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
            .await;
        let (_, body) = f.par(&f.tpp, &f.request_claims(&f.tpp, &consent)).await;
        body["request_uri"].as_str().unwrap().to_owned()
    };
    // 29: expired.
    let uri = push().await;
    f.clock.advance(Duration::from_secs(91));
    let (status, location) = f.authorize(&Fixture::authorize_query(&f.tpp, &uri)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(location.is_none(), "no redirect to an unverified URI");
    // A9.45: a second visit before the customer finishes still works.
    let uri = push().await;
    assert_eq!(
        f.authorize(&Fixture::authorize_query(&f.tpp, &uri)).await.0,
        StatusCode::SEE_OTHER
    );
    let first = f.authenticator.last().unwrap();
    assert_eq!(
        f.authorize(&Fixture::authorize_query(&f.tpp, &uri)).await.0,
        StatusCode::SEE_OTHER
    );
    let second = f.authenticator.last().unwrap();
    assert_ne!(first.id, second.id);
    let fragment = f
        .finish(&second, approval(&f, CUSTOMER, None, Acr::Loa2))
        .await;
    assert!(fragment.contains_key("code"));
    // 30 / A9.46: once an interaction finished, the request is used up: no
    // second code from the other interaction, and no new visit.
    let late = f
        .server
        .complete_interaction(
            f.brands[0].id(),
            &first.id,
            approval(&f, CUSTOMER, None, Acr::Loa2),
        )
        .await;
    assert_eq!(late.unwrap_err(), InteractionError::NotFound);
    let (status, location) = f.authorize(&Fixture::authorize_query(&f.tpp, &uri)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(location.is_none());
    // 31: another client's id.
    let uri = push().await;
    let (status, location) = f.authorize(&Fixture::authorize_query(&f.other, &uri)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(location.is_none());
    // Missing parameters, or a request sent by value.
    assert_eq!(
        f.authorize("client_id=tpp-client").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        f.authorize("client_id=tpp-client&request=eyJ.eyJ.x")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(f.authenticator.started().len(), 2);
    // 32: extra parameters are ignored; the scope is the request object's.
    let uri = push().await;
    let query = format!(
        "{}&scope=openid%20payments&redirect_uri=https%3A%2F%2Fevil.example%2F&state=other",
        Fixture::authorize_query(&f.tpp, &uri)
    );
    assert_eq!(f.authorize(&query).await.0, StatusCode::SEE_OTHER);
    let interaction = f.authenticator.last().unwrap();
    let fragment = f
        .finish(&interaction, approval(&f, CUSTOMER, None, Acr::Loa2))
        .await;
    assert_eq!(fragment["state"], "st-1");
    let (status, body) = f.exchange(&f.tpp, &fragment["code"], Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["scope"],
        json!(format!(
            "openid accounts consent:{}",
            interaction.consent_id
        ))
    );
}

/// Item, the consent's CNPJ, the CNPJ chosen at login, the `claims` request.
type CustomerCase = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<Value>,
);

#[tokio::test]
async fn checklist_33_to_35_and_38_the_customer_must_be_the_consents() {
    let f = Fixture::new().await;
    let cases: Vec<CustomerCase> = vec![
        // 33: another CPF.
        ("33", None, None, None),
        // 34: acting for a company on a consent without businessEntity.
        ("34", None, Some("11222333000181"), None),
        // 35: a company other than the consent's.
        ("35", Some("11222333000181"), Some("11444777000161"), None),
        // 38: claims cpf with another value.
        (
            "38",
            None,
            None,
            Some(json!({"id_token": {"cpf": {"essential": true, "value": "11144477735"}}})),
        ),
    ];
    for (item, consent_business, chosen_business, claims_request) in cases {
        let consent = f
            .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
            .await;
        if let Some(cnpj) = consent_business {
            let record = f
                .storage
                .consents
                .get_consent(f.brands[0].id(), &consent)
                .await
                .unwrap()
                .unwrap();
            let mut open = DataConsent::open(&record, &f.sealer).await.unwrap();
            open.business_entity = Some(Cnpj::parse(cnpj).unwrap());
            f.storage
                .consents
                .update_consent(&open.seal(&f.sealer).unwrap(), record.version, &[])
                .await
                .unwrap();
        }
        let mut claims = f.request_claims(&f.tpp, &consent);
        if let Some(request) = claims_request {
            claims.insert("claims".into(), request);
        }
        let interaction = f.start_with(&claims).await;
        let cpf = if item == "33" {
            "11144477735"
        } else {
            CUSTOMER
        };
        let fragment = f
            .finish(&interaction, approval(&f, cpf, chosen_business, Acr::Loa2))
            .await;
        assert_eq!(
            fragment.get("error").map(String::as_str),
            Some("access_denied"),
            "item {item}"
        );
        assert_eq!(fragment["state"], "st-1");
        assert!(!fragment.contains_key("code"), "item {item}");
        let after = f.consent_status(&consent).await;
        assert_eq!(after.status, ConsentStatus::Rejected, "item {item}");
        assert_eq!(
            after.rejection.unwrap().reason.code,
            DataRejectionCode::InternalSecurityReason
        );
    }
}

#[tokio::test]
async fn a1_03_denial_rejects_the_consent_and_redirects_with_access_denied() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let interaction = f.start(&consent).await;
    let outcome = InteractionOutcome::Denied {
        reason: DenialReason::CustomerRejected,
    };
    let fragment = f.finish(&interaction, outcome).await;
    assert_eq!(fragment["error"], "access_denied");
    assert_eq!(fragment["state"], "st-1");
    let after = f.consent_status(&consent).await;
    assert_eq!(after.status, ConsentStatus::Rejected);
    let rejection = after.rejection.unwrap();
    assert_eq!(rejection.rejected_by, RejectedBy::User);
    assert_eq!(
        rejection.reason.code,
        DataRejectionCode::CustomerManuallyRejected
    );

    // A loa3-only request is not met by a loa2 login.
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let mut claims = f.request_claims(&f.tpp, &consent);
    claims.insert("acr_values".into(), json!("urn:brasil:openbanking:loa3"));
    claims.remove("claims");
    let interaction = f.start_with(&claims).await;
    assert_eq!(interaction.acr_values, vec![Acr::Loa3]);
    let fragment = f
        .finish(&interaction, approval(&f, CUSTOMER, None, Acr::Loa2))
        .await;
    assert_eq!(fragment["error"], "access_denied");

    // An interaction past its lifetime is gone.
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let interaction = f.start(&consent).await;
    f.clock.advance(Duration::from_secs(601));
    let late = f
        .server
        .complete_interaction(
            f.brands[0].id(),
            &interaction.id,
            approval(&f, CUSTOMER, None, Acr::Loa2),
        )
        .await;
    assert_eq!(late.unwrap_err(), InteractionError::NotFound);
    // And another brand does not know it.
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let interaction = f.start(&consent).await;
    let elsewhere = f
        .server
        .complete_interaction(
            f.brands[1].id(),
            &interaction.id,
            approval(&f, CUSTOMER, None, Acr::Loa2),
        )
        .await;
    assert_eq!(elsewhere.unwrap_err(), InteractionError::NotFound);
}

#[tokio::test]
async fn checklist_39_cnpj_claim_is_an_array() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let record = f
        .storage
        .consents
        .get_consent(f.brands[0].id(), &consent)
        .await
        .unwrap()
        .unwrap();
    let mut open = DataConsent::open(&record, &f.sealer).await.unwrap();
    open.business_entity = Some(Cnpj::parse("11222333000181").unwrap());
    f.storage
        .consents
        .update_consent(&open.seal(&f.sealer).unwrap(), record.version, &[])
        .await
        .unwrap();
    let mut claims = f.request_claims(&f.tpp, &consent);
    claims.insert(
        "claims".into(),
        json!({"id_token": {"acr": {"essential": true}, "cnpj": {"essential": true}, "cpf": {"essential": true}}}),
    );
    let interaction = f.start_with(&claims).await;
    let fragment = f
        .finish(
            &interaction,
            approval(&f, CUSTOMER, Some("11222333000181"), Acr::Loa2),
        )
        .await;
    let verified = jwe::decrypt_then_verify(
        &fragment["id_token"],
        f.tpp.custody.clone().unwrap().as_ref(),
        &JwePolicy::ofb(),
        &f.as_keys().await,
        &JwsPolicy::ofb(),
    )
    .await
    .unwrap();
    let claims = verified.claims().unwrap();
    assert_eq!(claims["cnpj"], json!(["11222333000181"]));
    assert_eq!(claims["cpf"], json!(CUSTOMER));
}

#[tokio::test]
async fn checklist_40_to_45_a5_33_34_a9_58_59_code_exchange() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    // 40: without a verifier, or with a wrong one (each spends its code).
    let code = f.code_for(&consent).await;
    assert_oauth_error(
        &f.exchange(&f.tpp, &code, None).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let code = f.code_for(&consent).await;
    let wrong = "x".repeat(43);
    assert_oauth_error(
        &f.exchange(&f.tpp, &code, Some(&wrong)).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    // Another client cannot redeem it, and its attempt spends it.
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let code = f.code_for(&consent).await;
    assert_oauth_error(
        &f.exchange(&f.other, &code, Some(VERIFIER)).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );

    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let interaction = f.start(&consent).await;
    let fragment = f
        .finish(&interaction, approval(&f, CUSTOMER, None, Acr::Loa2))
        .await;
    let (status, body) = f.exchange(&f.tpp, &fragment["code"], Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // 42
    let expires_in = body["expires_in"].as_u64().unwrap();
    assert!((300..=900).contains(&expires_in));
    assert_eq!(body["token_type"], "Bearer");
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    // 44: signed, not encrypted; same iss and sub as the front channel's.
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(id_token.split('.').count(), 3);
    let keys = f.as_keys().await;
    let back = jws::verify(id_token, &keys, &JwsPolicy::ofb())
        .unwrap()
        .claims()
        .unwrap();
    let front = jwe::decrypt_then_verify(
        &fragment["id_token"],
        f.tpp.custody.clone().unwrap().as_ref(),
        &JwePolicy::ofb(),
        &keys,
        &JwsPolicy::ofb(),
    )
    .await
    .unwrap()
    .claims()
    .unwrap();
    assert_eq!(back["iss"], front["iss"]);
    assert_eq!(back["sub"], front["sub"]);
    assert_eq!(back["acr"], "urn:brasil:openbanking:loa2");
    assert!(back.contains_key("at_hash"));
    // 45: both tokens bound to the certificate used at the token endpoint.
    let thumbprint = certificate_thumbprint(&f.tpp.cert.der);
    for token in [access, refresh] {
        let record = f
            .storage
            .grants
            .get_token(f.brands[0].id(), &TokenHash::of(token))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            record.certificate_thumbprint.as_deref(),
            Some(thumbprint.as_str())
        );
        assert_eq!(record.consent_id.as_ref(), Some(&consent));
    }
    // The access token opens the consent's resources.
    let layer = guard(&f)
        .require_scope("accounts")
        .require_authorised_consent();
    let request = api_request(Some(access), Some(INTERACTION))
        .body(Full::default())
        .unwrap();
    assert_eq!(
        guarded(layer.clone(), request, Some(&f.tpp.cert)).await.0,
        StatusCode::OK
    );

    // 41: a second use fails and revokes what the first issued.
    assert_oauth_error(
        &f.exchange(&f.tpp, &fragment["code"], Some(VERIFIER)).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    let request = api_request(Some(access), Some(INTERACTION))
        .body(Full::default())
        .unwrap();
    assert_eq!(
        guarded(layer, request, Some(&f.tpp.cert)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_oauth_error(
        &f.refresh(&f.tpp, &f.tpp.cert, refresh).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );

    // An expired code.
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let code = f.code_for(&consent).await;
    f.clock.advance(Duration::from_secs(61));
    assert_oauth_error(
        &f.exchange(&f.tpp, &code, Some(VERIFIER)).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
}

#[tokio::test]
async fn checklist_46_47_49_50_a7_43_refresh_tokens_live_with_the_consent() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let code = f.code_for(&consent).await;
    let (_, body) = f.exchange(&f.tpp, &code, Some(VERIFIER)).await;
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();
    // 49: the refresh token expires with the consent.
    let record = f
        .storage
        .grants
        .get_token(f.brands[0].id(), &TokenHash::of(&refresh))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        record.expires_at,
        f.consent_status(&consent).await.expiration_date_time
    );
    // 46: a new access token, the same refresh token, long after the first
    // access token expired.
    f.clock.advance(Duration::from_secs(30 * 86_400));
    let (status, renewed) = f.refresh(&f.tpp, &f.tpp.cert, &refresh).await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    assert_eq!(renewed["refresh_token"], json!(refresh));
    assert_ne!(renewed["access_token"], body["access_token"]);
    let expires_in = renewed["expires_in"].as_u64().unwrap();
    assert!((300..=900).contains(&expires_in));
    // 50: a certificate of another organisation.
    assert_oauth_error(
        &f.refresh(&f.tpp, &f.other.cert, &refresh).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    // Another client cannot use it.
    assert_oauth_error(
        &f.refresh(&f.other, &f.other.cert, &refresh).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    // 47: once the consent is revoked, refresh fails and the tokens go.
    let record = f
        .storage
        .consents
        .get_consent(f.brands[0].id(), &consent)
        .await
        .unwrap()
        .unwrap();
    let mut open = DataConsent::open(&record, &f.sealer).await.unwrap();
    open.status = ConsentStatus::Revoked;
    f.storage
        .consents
        .update_consent(&open.seal(&f.sealer).unwrap(), record.version, &[])
        .await
        .unwrap();
    assert_oauth_error(
        &f.refresh(&f.tpp, &f.tpp.cert, &refresh).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    let access = renewed["access_token"].as_str().unwrap();
    let stored = f
        .storage
        .grants
        .get_token(f.brands[0].id(), &TokenHash::of(access))
        .await
        .unwrap()
        .unwrap();
    assert!(stored.revoked_at.is_some());

    // 47: past the consent's expiration, by the clock.
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let code = f.code_for(&consent).await;
    let (_, body) = f.exchange(&f.tpp, &code, Some(VERIFIER)).await;
    f.clock.advance(Duration::from_secs(90 * 86_400 + 1));
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_oauth_error(
        &f.refresh(&f.tpp, &f.tpp.cert, refresh).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
}

#[tokio::test]
async fn race_100_concurrent_redemptions_of_one_code_give_one_token_set() {
    let f = Arc::new(Fixture::new().await);
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let code = f.code_for(&consent).await;
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let f = f.clone();
        let code = code.clone();
        tasks.push(tokio::spawn(async move {
            f.exchange(&f.tpp, &code, Some(VERIFIER)).await
        }));
    }
    let mut issued = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::OK => issued.push(body),
            StatusCode::BAD_REQUEST => assert_eq!(body["error"], "invalid_grant"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    // One redemption won; the replays revoked what it issued.
    assert_eq!(issued.len(), 1);
    let access = issued[0]["access_token"].as_str().unwrap();
    let record = f
        .storage
        .grants
        .get_token(f.brands[0].id(), &TokenHash::of(access))
        .await
        .unwrap()
        .unwrap();
    assert!(record.revoked_at.is_some());
}

#[tokio::test]
async fn race_concurrent_completions_of_one_interaction_finish_it_once() {
    let f = Arc::new(Fixture::new().await);
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let interaction = f.start(&consent).await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let f = f.clone();
        let id = interaction.id;
        tasks.push(tokio::spawn(async move {
            let outcome = if i % 2 == 0 {
                approval(&f, CUSTOMER, None, Acr::Loa2)
            } else {
                InteractionOutcome::Denied {
                    reason: DenialReason::CustomerRejected,
                }
            };
            f.server
                .complete_interaction(f.brands[0].id(), &id, outcome)
                .await
        }));
    }
    let mut finished = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => finished += 1,
            Err(e) => assert_eq!(e, InteractionError::NotFound),
        }
    }
    assert_eq!(finished, 1);
}

// --------------------------------------------------- revocation, userinfo

impl Fixture {
    async fn revoke(&self, party: &Party, token: &str) -> (StatusCode, Value) {
        let form = vec![
            ("token".to_owned(), token.to_owned()),
            ("client_id".into(), party.client_id.to_string()),
            ("client_assertion_type".into(), ASSERTION_TYPE.into()),
            (
                "client_assertion".into(),
                self.assertion(party, &self.issuer(0)).await,
            ),
        ];
        self.post("/banco-azul/revoke", Some(&party.cert), &form)
            .await
    }

    async fn userinfo(
        &self,
        token: &str,
        cert: Option<&IssuedCertificate>,
    ) -> (StatusCode, Value, http::HeaderMap) {
        let request = Request::builder()
            .uri("/banco-azul/userinfo")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = self.call(request, cert).await;
        let status = response.status();
        let headers = response.headers().clone();
        (status, json_body(response).await, headers)
    }
}

#[tokio::test]
async fn revocation_by_the_owner_only_and_refresh_takes_the_grant() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let code = f.code_for(&consent).await;
    let (_, body) = f.exchange(&f.tpp, &code, Some(VERIFIER)).await;
    let access = body["access_token"].as_str().unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    let active = |token: &str| {
        let token = token.to_owned();
        let f = &f;
        async move {
            let record = f
                .storage
                .grants
                .get_token(f.brands[0].id(), &TokenHash::of(&token))
                .await
                .unwrap()
                .unwrap();
            record.is_active(f.clock.now())
        }
    };
    // Another client's revocation is answered 200 and changes nothing.
    assert_eq!(f.revoke(&f.other, access).await.0, StatusCode::OK);
    assert!(active(access).await);
    // Unknown tokens: 200 as well.
    assert_eq!(f.revoke(&f.tpp, "unknown").await.0, StatusCode::OK);
    // The access token alone.
    assert_eq!(f.revoke(&f.tpp, access).await.0, StatusCode::OK);
    assert!(!active(access).await);
    assert!(active(refresh).await);
    let (_, renewed) = f.refresh(&f.tpp, &f.tpp.cert, refresh).await;
    let second = renewed["access_token"].as_str().unwrap();
    assert!(active(second).await);
    // The refresh token takes every token of its grant.
    assert_eq!(f.revoke(&f.tpp, refresh).await.0, StatusCode::OK);
    assert!(!active(refresh).await);
    assert!(!active(second).await);
    // Client authentication is required.
    let form = vec![("token".to_owned(), access.to_owned())];
    assert_oauth_error(
        &f.post("/banco-azul/revoke", Some(&f.tpp.cert), &form).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
}

#[tokio::test]
async fn userinfo_answers_the_subject_for_the_bound_certificate() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let interaction = f.start(&consent).await;
    let fragment = f
        .finish(&interaction, approval(&f, CUSTOMER, None, Acr::Loa2))
        .await;
    let (_, body) = f.exchange(&f.tpp, &fragment["code"], Some(VERIFIER)).await;
    let access = body["access_token"].as_str().unwrap();
    let id_token = jws::verify(
        body["id_token"].as_str().unwrap(),
        &f.as_keys().await,
        &JwsPolicy::ofb(),
    )
    .unwrap()
    .claims()
    .unwrap();
    let (status, info, _) = f.userinfo(access, Some(&f.tpp.cert)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["sub"], id_token["sub"]);
    // After a refresh, the new token answers the same.
    let (_, renewed) = f
        .refresh(&f.tpp, &f.tpp.cert, body["refresh_token"].as_str().unwrap())
        .await;
    let (status, again, _) = f
        .userinfo(renewed["access_token"].as_str().unwrap(), Some(&f.tpp.cert))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["sub"], id_token["sub"]);
    // Another certificate, no certificate, an unknown token.
    for (token, cert) in [
        (access, Some(&f.other.cert)),
        (access, None),
        ("nope", Some(&f.tpp.cert)),
    ] {
        let (status, _, headers) = f.userinfo(token, cert).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            headers[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
    }
    // A client-credentials token has no customer.
    let (_, cc) = f.client_credentials(&f.tpp, Some("consents")).await;
    let (status, _, _) = f
        .userinfo(cc["access_token"].as_str().unwrap(), Some(&f.tpp.cert))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

// ------------------------------------------------------------- DCR / DCM

const SECOND_REDIRECT: &str = "https://tpp.example/callback-2";

/// The claims the directory would put in `party`'s software statement.
fn ssa_claims(f: &Fixture, party: &Party, roles: &[&str]) -> Value {
    let org = party.subject.organisation_id;
    let software = party.subject.software_statement_id;
    json!({
        "iss": SSA_ISSUER,
        "iat": f.clock.now().unix_seconds(),
        "org_id": org.to_string(),
        "org_name": "Fintech Teste",
        "org_number": "11222333000181",
        "org_status": "Active",
        "software_id": software.to_string(),
        "software_client_id": "directory-client",
        "software_client_name": "Fintech Oficial",
        "software_logo_uri": "https://tpp.example/logo.png",
        "software_jwks_uri": jwks_uri(party),
        "software_redirect_uris": [REDIRECT, SECOND_REDIRECT],
        "software_roles": roles,
        "software_mode": "Live",
    })
}

fn jwks_uri(party: &Party) -> String {
    format!(
        "https://keystore.sandbox.directory.openbankingbrasil.org.br/{}/{}/application.jwks",
        party.subject.organisation_id, party.subject.software_statement_id
    )
}

impl Fixture {
    async fn ssa(&self, claims: &Value) -> String {
        self.directory
            .issue_software_statement(claims)
            .await
            .unwrap()
    }

    /// A registration body with `party`'s fresh statement.
    async fn registration_body(&self, party: &Party) -> serde_json::Map<String, Value> {
        let ssa = self
            .ssa(&ssa_claims(self, party, &["DADOS", "PAGTO"]))
            .await;
        match json!({
            "software_statement": ssa,
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "private_key_jwt",
            "token_endpoint_auth_signing_alg": "PS256",
            "grant_types": ["authorization_code", "implicit", "refresh_token", "client_credentials"],
            "response_types": ["code id_token"],
            "id_token_signed_response_alg": "PS256",
            "id_token_encrypted_response_alg": "RSA-OAEP",
            "id_token_encrypted_response_enc": "A256GCM",
            "request_object_signing_alg": "PS256",
            "jwks_uri": jwks_uri(party),
            "client_name": "Another name",
        }) {
            Value::Object(map) => map,
            _ => unreachable_map(),
        }
    }

    async fn send_json(
        &self,
        method: Method,
        path: &str,
        cert: Option<&IssuedCertificate>,
        token: Option<&str>,
        body: Option<&serde_json::Map<String, Value>>,
    ) -> (StatusCode, Value) {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let bytes = match body {
            Some(body) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Bytes::from(serde_json::to_vec(body).unwrap())
            }
            None => Bytes::new(),
        };
        let response = self
            .call(builder.body(Full::new(bytes)).unwrap(), cert)
            .await;
        let status = response.status();
        (status, json_body(response).await)
    }

    async fn register_dcr(
        &self,
        party: &Party,
        body: &serde_json::Map<String, Value>,
    ) -> (StatusCode, Value) {
        self.send_json(
            Method::POST,
            "/banco-azul/register",
            Some(&party.cert),
            None,
            Some(body),
        )
        .await
    }

    async fn fresh_participant(&self, name: &str) -> Party {
        let subject = OfbSubject::example(
            &format!("{name}.example"),
            Cnpj::parse("11222333000181").unwrap(),
        );
        self.participant("unregistered", subject).await
    }
}

#[tokio::test]
async fn checklist_67_69_70_71_b1_01_b2_24_valid_registration_and_the_client_works() {
    let f = Fixture::new().await;
    let party = f.fresh_participant("newcomer").await;
    let body = f.registration_body(&party).await;
    let (status, registered) = f.register_dcr(&party, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    // 71
    let client_id = registered["client_id"].as_str().unwrap();
    assert!(
        registered["registration_access_token"]
            .as_str()
            .unwrap()
            .len()
            >= 43
    );
    assert_eq!(
        registered["registration_client_uri"],
        json!(format!("{}/{client_id}", f.mtls(0, "register")))
    );
    assert!(registered["client_id_issued_at"].is_i64());
    // 67: all role scopes when none is asked for.
    let scopes: BTreeSet<&str> = registered["scope"].as_str().unwrap().split(' ').collect();
    for scope in ["openid", "accounts", "consents", "resources", "payments"] {
        assert!(scopes.contains(scope), "{scope}");
    }
    // 70: the statement's name wins.
    assert_eq!(registered["client_name"], "Fintech Oficial");
    // 69 and the profile's fixed values.
    assert_eq!(registered["response_types"], json!(["code id_token"]));
    assert_eq!(registered["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(registered["id_token_encrypted_response_alg"], "RSA-OAEP");
    assert_eq!(registered["jwks_uri"], json!(jwks_uri(&party)));
    // The record is in the store with the hash of the token only.
    let id = ClientId::new(client_id).unwrap();
    let record = f
        .storage
        .clients
        .get_client(f.brands[0].id(), &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.organisation_id, party.subject.organisation_id);
    assert_eq!(
        record.registration_access_token,
        Some(TokenHash::of(
            registered["registration_access_token"].as_str().unwrap()
        ))
    );
    assert!(
        !record
            .metadata
            .contains(registered["registration_access_token"].as_str().unwrap())
    );
    // The new client can authenticate.
    let client = Party {
        client_id: id,
        ..party
    };
    let (status, token) = f.client_credentials(&client, Some("consents")).await;
    assert_eq!(status, StatusCode::OK, "{token}");

    // 69: any order of grant types.
    let other = f.fresh_participant("ordering").await;
    let mut body = f.registration_body(&other).await;
    body.insert(
        "grant_types".into(),
        json!([
            "client_credentials",
            "refresh_token",
            "implicit",
            "authorization_code"
        ]),
    );
    assert_eq!(f.register_dcr(&other, &body).await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn checklist_51_b1_09_without_client_certificate_nothing_is_registered() {
    let f = Fixture::new().await;
    let party = f.fresh_participant("nocert").await;
    let body = f.registration_body(&party).await;
    let result = f
        .send_json(
            Method::POST,
            "/banco-azul/register",
            None,
            None,
            Some(&body),
        )
        .await;
    assert_oauth_error(&result, StatusCode::UNAUTHORIZED, "invalid_client");
    let listed = f
        .storage
        .clients
        .list_clients_by_software_statement(f.brands[0].id(), &party.subject.software_statement_id)
        .await
        .unwrap();
    assert!(listed.is_empty());
}

#[tokio::test]
async fn checklist_53_to_57_b1_07_b2_23_software_statement_faults() {
    let f = Fixture::new().await;
    let party = f.fresh_participant("faults").await;
    let body = f.registration_body(&party).await;
    let base = ssa_claims(&f, &party, &["DADOS"]);
    let now = f.clock.now().unix_seconds();
    let with = |name: &str, value: Value| {
        let mut claims = base.clone();
        claims[name] = value;
        claims
    };
    let valid = f.ssa(&base).await;
    let tampered = {
        let mut parts: Vec<String> = valid.split('.').map(str::to_owned).collect();
        parts[1] =
            b64(serde_json::to_vec(&with("software_roles", json!(["DADOS", "PAGTO"]))).unwrap());
        parts.join(".")
    };
    let other_key = {
        let keys = TestKeyCustody::new("not-the-directory");
        jws::sign_claims(
            keys.signer(KeyPurpose::MessageSigning)
                .await
                .unwrap()
                .as_ref(),
            None,
            &base,
        )
        .await
        .unwrap()
    };
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        ("53: no statement", None, "invalid_software_statement"),
        ("54: tampered", Some(tampered), "invalid_software_statement"),
        ("54: not the directory's key", Some(other_key), "invalid_software_statement"),
        ("55: six minutes old", Some(f.ssa(&with("iat", json!(now - 360))).await), "invalid_software_statement"),
        ("55: from the future", Some(f.ssa(&with("iat", json!(now + 120))).await), "invalid_software_statement"),
        ("55: no iat", Some(f.ssa(&{ let mut c = base.clone(); c.as_object_mut().unwrap().remove("iat"); c }).await), "invalid_software_statement"),
        (
            "56: production statement at a sandbox server",
            Some(f.ssa(&with("iss", json!("Open Banking Open Banking Brasil prod SSA issuer"))).await),
            "invalid_software_statement",
        ),
        (
            "57: another organisation's statement",
            Some(f.ssa(&with("org_id", json!(f.other.subject.organisation_id.to_string()))).await),
            "unapproved_software_statement",
        ),
        (
            "another software statement of the organisation",
            Some(f.ssa(&with("software_id", json!(opus_core::SoftwareStatementId::random().to_string()))).await),
            "unapproved_software_statement",
        ),
        ("no active role", Some(f.ssa(&with("software_roles", json!([]))).await), "unapproved_software_statement"),
        (
            "inactive role",
            Some(f.ssa(&with("software_statement_roles", json!([{"role": "DADOS", "authorisation_domain": "Open Banking", "status": "Inactive"}]))).await),
            "unapproved_software_statement",
        ),
    ];
    for (case, ssa, error) in cases {
        let mut body = body.clone();
        match ssa {
            Some(ssa) => body.insert("software_statement".into(), json!(ssa)),
            None => body.remove("software_statement"),
        };
        let result = f.register_dcr(&party, &body).await;
        assert_eq!(result.0, StatusCode::BAD_REQUEST, "{case}: {}", result.1);
        assert_eq!(result.1["error"], error, "{case}");
    }
    // 57 with the certificate: the statement is the newcomer's, the certificate another's.
    let result = f.register_dcr(&f.other, &body).await;
    assert_oauth_error(
        &result,
        StatusCode::BAD_REQUEST,
        "unapproved_software_statement",
    );
    // Nothing was registered on the way.
    let listed = f
        .storage
        .clients
        .list_clients_by_software_statement(f.brands[0].id(), &party.subject.software_statement_id)
        .await
        .unwrap();
    assert!(listed.is_empty());
}

#[tokio::test]
async fn checklist_58_b2_26_legacy_certificate_with_organisation_in_ou_is_accepted() {
    let f = Fixture::new().await;
    let mut subject = OfbSubject::example("legacy.example", Cnpj::parse("11222333000181").unwrap());
    subject.legacy_ou = true;
    let party = f.participant("legacy", subject).await;
    let body = f.registration_body(&party).await;
    let (status, registered) = f.register_dcr(&party, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
}

#[tokio::test]
async fn checklist_59_to_66_b1_15_16_17_18_b2_31_client_metadata_faults() {
    let f = Fixture::new().await;
    let party = f.fresh_participant("metadata").await;
    let body = f.registration_body(&party).await;
    let dados_only = f.ssa(&ssa_claims(&f, &party, &["DADOS"])).await;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "59: jwks",
            Box::new(|b| {
                b.insert("jwks".into(), json!({"keys": []}));
            }),
            "invalid_client_metadata",
        ),
        (
            "60: jwks_uri",
            Box::new(|b| {
                b.insert("jwks_uri".into(), json!("https://evil.example/jwks"));
            }),
            "invalid_client_metadata",
        ),
        (
            "61: no redirect_uris",
            Box::new(|b| {
                b.remove("redirect_uris");
            }),
            "invalid_redirect_uri",
        ),
        (
            "61: empty redirect_uris",
            Box::new(|b| {
                b.insert("redirect_uris".into(), json!([]));
            }),
            "invalid_redirect_uri",
        ),
        (
            "62: redirect outside the statement",
            Box::new(|b| {
                b.insert(
                    "redirect_uris".into(),
                    json!([REDIRECT, "https://evil.example/cb"]),
                );
            }),
            "invalid_redirect_uri",
        ),
        (
            "63: tls_client_auth",
            Box::new(|b| {
                b.insert(
                    "token_endpoint_auth_method".into(),
                    json!("tls_client_auth"),
                );
            }),
            "invalid_client_metadata",
        ),
        (
            "63: tls_client_auth_subject_dn",
            Box::new(|b| {
                b.insert("tls_client_auth_subject_dn".into(), json!("CN=x"));
            }),
            "invalid_client_metadata",
        ),
        (
            "client_secret_basic",
            Box::new(|b| {
                b.insert(
                    "token_endpoint_auth_method".into(),
                    json!("client_secret_basic"),
                );
            }),
            "invalid_client_metadata",
        ),
        (
            "64: response_types code",
            Box::new(|b| {
                b.insert("response_types".into(), json!(["code"]));
            }),
            "invalid_client_metadata",
        ),
        (
            "65: webhook trailing slash",
            Box::new(|b| {
                b.insert(
                    "webhook_uris".into(),
                    json!(["https://tpp.example/webhook/"]),
                );
            }),
            "invalid_webhook_uris",
        ),
        (
            "65: webhook query",
            Box::new(|b| {
                b.insert(
                    "webhook_uris".into(),
                    json!(["https://tpp.example/webhook?q=1"]),
                );
            }),
            "invalid_webhook_uris",
        ),
        (
            "65: webhook http",
            Box::new(|b| {
                b.insert("webhook_uris".into(), json!(["http://tpp.example/webhook"]));
            }),
            "invalid_webhook_uris",
        ),
        (
            "66: payments without PAGTO",
            Box::new(move |b| {
                b.insert("software_statement".into(), json!(dados_only));
                b.insert("scope".into(), json!("openid payments"));
            }),
            "invalid_client_metadata",
        ),
        (
            "RS256 request objects",
            Box::new(|b| {
                b.insert("request_object_signing_alg".into(), json!("RS256"));
            }),
            "invalid_client_metadata",
        ),
        (
            "id token enc A128CBC",
            Box::new(|b| {
                b.insert(
                    "id_token_encrypted_response_enc".into(),
                    json!("A128CBC-HS256"),
                );
            }),
            "invalid_client_metadata",
        ),
        (
            "password grant",
            Box::new(|b| {
                b.insert(
                    "grant_types".into(),
                    json!(["authorization_code", "password"]),
                );
            }),
            "invalid_client_metadata",
        ),
        (
            "pairwise",
            Box::new(|b| {
                b.insert("subject_type".into(), json!("pairwise"));
            }),
            "invalid_client_metadata",
        ),
    ];
    for (case, edit, error) in cases {
        let mut body = body.clone();
        edit(&mut body);
        let result = f.register_dcr(&party, &body).await;
        assert_eq!(result.0, StatusCode::BAD_REQUEST, "{case}: {}", result.1);
        assert_eq!(result.1["error"], error, "{case}");
    }
    // A keystore without an encryption key cannot receive ID tokens.
    let bare = f.fresh_participant("bare").await;
    let signing_only = SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::generate_rsa("bare-sig").unwrap())
        .build()
        .unwrap();
    f.directory.set_software_statement_jwks(
        bare.subject.organisation_id,
        bare.subject.software_statement_id,
        signing_only.public_jwks().await.unwrap(),
    );
    let result = f
        .register_dcr(&bare, &f.registration_body(&bare).await)
        .await;
    assert_oauth_error(&result, StatusCode::BAD_REQUEST, "invalid_client_metadata");
    // A JSON content type is required.
    let form = vec![("software_statement".to_owned(), "x".to_owned())];
    let result = f
        .post("/banco-azul/register", Some(&party.cert), &form)
        .await;
    assert_oauth_error(&result, StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn checklist_68_b1_02_03_granted_scope_is_within_the_request() {
    let f = Fixture::new().await;
    let party = f.fresh_participant("scoped").await;
    let mut body = f.registration_body(&party).await;
    body.insert("scope".into(), json!("consents openid accounts"));
    let (status, registered) = f.register_dcr(&party, &body).await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let granted: BTreeSet<&str> = registered["scope"].as_str().unwrap().split(' ').collect();
    assert_eq!(granted, BTreeSet::from(["consents", "openid", "accounts"]));
    // The token endpoint keeps to it.
    let client = Party {
        client_id: ClientId::new(registered["client_id"].as_str().unwrap()).unwrap(),
        ..party
    };
    assert_oauth_error(
        &f.client_credentials(&client, Some("payments")).await,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
    );
}

#[tokio::test]
async fn checklist_72_b2_20_one_registration_per_statement_and_brand() {
    let f = Fixture::new().await;
    let party = f.fresh_participant("twice").await;
    let (status, first) = f
        .register_dcr(&party, &f.registration_body(&party).await)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let again = f
        .register_dcr(&party, &f.registration_body(&party).await)
        .await;
    assert_eq!(again.0, StatusCode::BAD_REQUEST, "{}", again.1);
    let body = f.registration_body(&party).await;
    let (status, second) = f
        .send_json(
            Method::POST,
            "/banco-verde/register",
            Some(&party.cert),
            None,
            Some(&body),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_ne!(first["client_id"], second["client_id"]);
}

/// A client store that yields before every call, so concurrent requests
/// interleave between their reads and writes as they would across replicas.
struct YieldingClients(Arc<MemoryStore>);

async fn interleave() {
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
}

#[async_trait]
impl opus_core::store::ClientStore for YieldingClients {
    async fn insert_client(
        &self,
        record: &ClientRecord,
    ) -> Result<ClientRecord, opus_core::StoreError> {
        interleave().await;
        self.0.insert_client(record).await
    }
    async fn get_client(
        &self,
        brand: &BrandId,
        id: &ClientId,
    ) -> Result<Option<ClientRecord>, opus_core::StoreError> {
        interleave().await;
        self.0.get_client(brand, id).await
    }
    async fn update_client(
        &self,
        record: &ClientRecord,
        version: u64,
    ) -> Result<ClientRecord, opus_core::StoreError> {
        interleave().await;
        self.0.update_client(record, version).await
    }
    async fn delete_client(
        &self,
        brand: &BrandId,
        id: &ClientId,
    ) -> Result<bool, opus_core::StoreError> {
        interleave().await;
        self.0.delete_client(brand, id).await
    }
    async fn list_clients_by_software_statement(
        &self,
        brand: &BrandId,
        id: &opus_core::SoftwareStatementId,
    ) -> Result<Vec<ClientRecord>, opus_core::StoreError> {
        interleave().await;
        self.0.list_clients_by_software_statement(brand, id).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn checklist_72_concurrent_registrations_of_one_statement_never_both_stay() {
    let backend = Arc::new(MemoryStore::new());
    let mut storage = Storage::from_backend(backend.clone());
    storage.clients = Arc::new(YieldingClients(backend));
    let f = Arc::new(Fixture::with_storage(storage).await);
    let party = Arc::new(f.fresh_participant("racer").await);
    let mut bodies = Vec::new();
    for _ in 0..8 {
        bodies.push(f.registration_body(&party).await);
    }
    let mut tasks = Vec::new();
    for body in bodies {
        let (f, party) = (f.clone(), party.clone());
        tasks.push(tokio::spawn(
            async move { f.register_dcr(&party, &body).await },
        ));
    }
    let mut created = 0;
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::BAD_REQUEST => assert_eq!(body["error"], "invalid_client_metadata"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(created <= 1, "{created} clients for one statement");
    let stored = f
        .storage
        .clients
        .list_clients_by_software_statement(f.brands[0].id(), &party.subject.software_statement_id)
        .await
        .unwrap();
    assert_eq!(stored.len(), created);
}

#[tokio::test]
async fn checklist_73_to_79_b1_05_06_12_13_14_management_with_the_registration_access_token() {
    let f = Fixture::new().await;
    let party = f.fresh_participant("managed").await;
    let (_, registered) = f
        .register_dcr(&party, &f.registration_body(&party).await)
        .await;
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let rat = registered["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/banco-azul/register/{client_id}");
    // 73
    let (status, read) = f
        .send_json(Method::GET, &path, Some(&party.cert), Some(&rat), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["registration_access_token"], json!(rat));
    assert_eq!(read["client_id"], json!(client_id));
    assert_eq!(read["redirect_uris"], json!([REDIRECT]));
    // 74
    let wrong = f
        .send_json(
            Method::GET,
            &path,
            Some(&party.cert),
            Some("not-the-token"),
            None,
        )
        .await;
    assert_oauth_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_token");
    let none = f
        .send_json(Method::GET, &path, Some(&party.cert), None, None)
        .await;
    assert_oauth_error(&none, StatusCode::UNAUTHORIZED, "invalid_token");
    // 75
    for method in [Method::GET, Method::DELETE] {
        let result = f
            .send_json(method, &path, Some(&f.other.cert), Some(&rat), None)
            .await;
        assert_oauth_error(&result, StatusCode::UNAUTHORIZED, "invalid_client");
    }
    // Another brand does not know the client.
    let verde = format!("/banco-verde/register/{client_id}");
    assert_eq!(
        f.send_json(Method::GET, &verde, Some(&party.cert), Some(&rat), None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // 76
    let mut update = f.registration_body(&party).await;
    update.insert("client_id".into(), json!(client_id));
    update.insert("redirect_uris".into(), json!([REDIRECT, SECOND_REDIRECT]));
    let (status, updated) = f
        .send_json(
            Method::PUT,
            &path,
            Some(&party.cert),
            Some(&rat),
            Some(&update),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["redirect_uris"], json!([REDIRECT, SECOND_REDIRECT]));
    assert_eq!(updated["registration_access_token"], json!(rat));
    let record = f
        .storage
        .clients
        .get_client(f.brands[0].id(), &ClientId::new(client_id.clone()).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.version, 2);
    // 77
    let edits: Vec<(&str, serde_json::Map<String, Value>, &str)> = vec![
        (
            "jwks",
            {
                let mut b = update.clone();
                b.insert("jwks".into(), json!({"keys": []}));
                b
            },
            "invalid_client_metadata",
        ),
        (
            "jwks_uri",
            {
                let mut b = update.clone();
                b.insert("jwks_uri".into(), json!("https://evil.example/jwks"));
                b
            },
            "invalid_client_metadata",
        ),
        (
            "redirect",
            {
                let mut b = update.clone();
                b.insert("redirect_uris".into(), json!(["https://evil.example/cb"]));
                b
            },
            "invalid_redirect_uri",
        ),
        (
            "registration_access_token sent",
            {
                let mut b = update.clone();
                b.insert("registration_access_token".into(), json!("another-token"));
                b
            },
            "invalid_client_metadata",
        ),
    ];
    for (case, body, error) in edits {
        let result = f
            .send_json(
                Method::PUT,
                &path,
                Some(&party.cert),
                Some(&rat),
                Some(&body),
            )
            .await;
        assert_eq!(result.0, StatusCode::BAD_REQUEST, "{case}: {}", result.1);
        assert_eq!(result.1["error"], error, "{case}");
    }
    // 78
    let mut stale = update.clone();
    let mut claims = ssa_claims(&f, &party, &["DADOS", "PAGTO"]);
    claims["iat"] = json!(f.clock.now().unix_seconds() - 301);
    stale.insert("software_statement".into(), json!(f.ssa(&claims).await));
    let result = f
        .send_json(
            Method::PUT,
            &path,
            Some(&party.cert),
            Some(&rat),
            Some(&stale),
        )
        .await;
    assert_oauth_error(
        &result,
        StatusCode::BAD_REQUEST,
        "invalid_software_statement",
    );
    // 79
    let client = Party {
        client_id: ClientId::new(client_id.clone()).unwrap(),
        ..party
    };
    assert_eq!(
        f.client_credentials(&client, Some("consents")).await.0,
        StatusCode::OK
    );
    let (status, _) = f
        .send_json(Method::DELETE, &path, Some(&client.cert), Some(&rat), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let after = f
        .send_json(Method::GET, &path, Some(&client.cert), Some(&rat), None)
        .await;
    assert_oauth_error(&after, StatusCode::UNAUTHORIZED, "invalid_token");
    assert_oauth_error(
        &f.client_credentials(&client, Some("consents")).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
}

#[tokio::test]
async fn registration_is_off_unless_configured() {
    let f = Fixture::new().await;
    let server = AuthorizationServer::builder()
        .storage(f.storage.clone())
        .sealer(f.sealer.clone())
        .clock(f.clock.clone())
        .client_keys(Arc::new(DirectoryClientKeys::new(f.directory.clone())))
        .authenticator(f.authenticator.clone())
        .brand(ServerBrand {
            brand: f.brands[0].clone(),
            keys: Arc::new(TestKeyCustody::new("as")),
        })
        .build()
        .unwrap();
    let party = f.fresh_participant("off").await;
    let body = f.registration_body(&party).await;
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/banco-azul/register")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(serde_json::to_vec(&body).unwrap())))
        .unwrap();
    request
        .extensions_mut()
        .insert(connection(Some(&party.cert)));
    let response = ClientCertificateLayer::tls_only()
        .layer(server)
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

// ------------------------------ conformance-checklist (a) and (b) extras

/// Decrypts and verifies a front-channel ID token for the TPP.
async fn front_claims(f: &Fixture, id_token: &str) -> BTreeMap<String, Value> {
    jwe::decrypt_then_verify(
        id_token,
        f.tpp.custody.clone().unwrap().as_ref(),
        &JwePolicy::ofb(),
        &f.as_keys().await,
        &JwsPolicy::ofb(),
    )
    .await
    .unwrap()
    .claims()
    .unwrap()
}

#[tokio::test]
async fn a1_04_05_06_a2_11_12_13_request_object_variants_succeed() {
    let f = Fixture::new().await;
    let long_nonce = "n".repeat(384);
    let long_state = "s".repeat(384);
    let nonce_64 = "x".repeat(64);
    let cases: Vec<(&str, Edit)> = vec![
        (
            "A1.4 aud array",
            Box::new(|c| {
                c.insert(
                    "aud".into(),
                    json!(["https://127.0.0.1/other", "https://127.0.0.1/banco-azul"]),
                );
            }),
        ),
        (
            "A1.5 no state",
            Box::new(|c| {
                c.remove("state");
            }),
        ),
        (
            "A1.6 other scope order",
            Box::new(|c| {
                let scope = c["scope"]
                    .as_str()
                    .unwrap()
                    .split(' ')
                    .rev()
                    .collect::<Vec<_>>()
                    .join(" ");
                c.insert("scope".into(), json!(scope));
            }),
        ),
        ("A2.11 384-character nonce", {
            let n = long_nonce.clone();
            Box::new(move |c| {
                c.insert("nonce".into(), json!(n));
            })
        }),
        ("A2.12 64-character nonce", {
            let n = nonce_64.clone();
            Box::new(move |c| {
                c.insert("nonce".into(), json!(n));
            })
        }),
        ("A2.13 384-character state", {
            let s = long_state.clone();
            Box::new(move |c| {
                c.insert("state".into(), json!(s));
            })
        }),
    ];
    for (case, edit) in cases {
        let consent = f
            .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
            .await;
        let mut claims = f.request_claims(&f.tpp, &consent);
        edit(&mut claims);
        let interaction = f.start_with(&claims).await;
        let fragment = f
            .finish(&interaction, approval(&f, CUSTOMER, None, Acr::Loa2))
            .await;
        assert!(fragment.contains_key("code"), "{case}: {fragment:?}");
        let id_token = front_claims(&f, &fragment["id_token"]).await;
        // Nonce and state come back byte for byte; no state, no s_hash.
        assert_eq!(id_token["nonce"], claims["nonce"], "{case}");
        match claims.get("state") {
            Some(state) => {
                assert_eq!(json!(fragment["state"]), *state, "{case}");
                assert!(id_token.contains_key("s_hash"), "{case}");
            }
            None => {
                assert!(!fragment.contains_key("state"), "{case}");
                assert!(!id_token.contains_key("s_hash"), "{case}");
            }
        }
        let (status, body) = f.exchange(&f.tpp, &fragment["code"], Some(VERIFIER)).await;
        assert_eq!(status, StatusCode::OK, "{case}: {body}");
    }
}

#[tokio::test]
async fn a1_07_token_type_is_case_insensitive_at_resources() {
    let f = Fixture::new().await;
    let (_, body) = f.client_credentials(&f.tpp, Some("consents")).await;
    let token = body["access_token"].as_str().unwrap();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let request = Request::builder()
            .uri("/open-banking/consents/v3/consents")
            .header(header::AUTHORIZATION, format!("{scheme} {token}"))
            .header("x-fapi-interaction-id", INTERACTION)
            .body(Full::default())
            .unwrap();
        assert_eq!(
            guarded(guard(&f), request, Some(&f.tpp.cert)).await.0,
            StatusCode::OK,
            "{scheme}"
        );
    }
}

#[tokio::test]
async fn a3_16_a9_61_request_object_without_scope_or_with_par_audience_fails() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let no_scope = par_with(&f, &consent, |c| {
        c.remove("scope");
    })
    .await;
    assert_eq!(no_scope.0, StatusCode::BAD_REQUEST);
    assert!(
        ["invalid_request", "invalid_request_object", "invalid_scope"]
            .contains(&no_scope.1["error"].as_str().unwrap())
    );
    let par_aud = f.mtls(0, "par");
    let aud = par_with(&f, &consent, move |c| {
        c.insert("aud".into(), json!(par_aud));
    })
    .await;
    assert_oauth_error(&aud, StatusCode::BAD_REQUEST, "invalid_request_object");
}

#[tokio::test]
async fn a5_31_32_code_exchange_needs_the_clients_certificate_and_identity() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let code = f.code_for(&consent).await;
    // A5.32: no TLS client certificate, assertion present.
    let form = vec![
        ("grant_type".to_owned(), "authorization_code".to_owned()),
        ("code".into(), code.clone()),
        ("redirect_uri".into(), REDIRECT.into()),
        ("code_verifier".into(), VERIFIER.into()),
        ("client_id".into(), f.tpp.client_id.to_string()),
        ("client_assertion_type".into(), ASSERTION_TYPE.into()),
        (
            "client_assertion".into(),
            f.assertion(&f.tpp, &f.mtls(0, "token")).await,
        ),
    ];
    assert_oauth_error(
        &f.post("/banco-azul/token", None, &form).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    // A5.31: client 2's id and credentials with client 1's code.
    let result = f.exchange(&f.other, &code, Some(VERIFIER)).await;
    assert!(["invalid_client", "invalid_grant"].contains(&result.1["error"].as_str().unwrap()));
}

#[tokio::test]
async fn a6_35_to_42_a9_50_client_assertions_at_the_token_endpoint() {
    let f = Fixture::new().await;
    let rs256 = Rs256::generate("tpp-rs256");
    publish_extra_keys(&f, &f.tpp, vec![rs256.jwk()]).await;
    let now = f.clock.now().unix_seconds();
    let id = f.tpp.client_id.as_str();
    let token_url = f.mtls(0, "token");
    let signer = f.tpp.signer.clone();
    let sign = |claims: Value| {
        let signer = signer.clone();
        async move {
            jws::sign_claims(signer.as_ref(), None, &claims)
                .await
                .unwrap()
        }
    };
    let jti = || uuid::Uuid::new_v4().to_string();
    let post = |assertion: Option<String>| {
        let f = &f;
        async move {
            let mut form = vec![
                ("grant_type".to_owned(), "client_credentials".to_owned()),
                ("scope".into(), "consents".into()),
                ("client_id".into(), f.tpp.client_id.to_string()),
            ];
            if let Some(assertion) = assertion {
                form.push(("client_assertion_type".into(), ASSERTION_TYPE.into()));
                form.push(("client_assertion".into(), assertion));
            }
            f.post("/banco-azul/token", Some(&f.tpp.cert), &form).await
        }
    };
    let refused = vec![
        ("A6.35 RS256", jws::sign_claims(&rs256, None, &json!({"iss": id, "sub": id, "aud": token_url, "jti": jti(), "exp": now + 60})).await.unwrap()),
        ("A6.37 exp five minutes ago", sign(json!({"iss": id, "sub": id, "aud": token_url, "jti": jti(), "iat": now - 360, "exp": now - 300})).await),
        ("A6.38 wrong aud", sign(json!({"iss": id, "sub": id, "aud": "https://127.0.0.1/another-server/token", "jti": jti(), "exp": now + 60})).await),
        ("A6.39 no sub", sign(json!({"iss": id, "aud": token_url, "jti": jti(), "exp": now + 60})).await),
        ("A6.40 wrong iss", sign(json!({"iss": "other-client", "sub": id, "aud": token_url, "jti": jti(), "exp": now + 60})).await),
        ("A6.41 wrong sub", sign(json!({"iss": id, "sub": "other-client", "aud": token_url, "jti": jti(), "exp": now + 60})).await),
    ];
    for (case, assertion) in refused {
        let result = post(Some(assertion)).await;
        assert!(
            result.0 == StatusCode::UNAUTHORIZED || result.0 == StatusCode::BAD_REQUEST,
            "{case}"
        );
        assert_eq!(result.1["error"], "invalid_client", "{case}: {}", result.1);
    }
    // A6.36: no assertion at all.
    let result = post(None).await;
    assert_eq!(result.1["error"], "invalid_client");
    // A6.42: aud = issuer; A9.50: aud array with the issuer.
    let accepted = vec![
        ("A6.42 issuer as aud", sign(json!({"iss": id, "sub": id, "aud": f.issuer(0), "jti": jti(), "exp": now + 60})).await),
        ("A9.50 array aud", sign(json!({"iss": id, "sub": id, "aud": [f.issuer(0), "https://127.0.0.1/dummy"], "jti": jti(), "exp": now + 60})).await),
    ];
    for (case, assertion) in accepted {
        let result = post(Some(assertion)).await;
        assert_eq!(result.0, StatusCode::OK, "{case}: {}", result.1);
    }
}

#[tokio::test]
async fn b1_11_put_accepts_its_own_registration_response_and_b1_22_without_subject_type() {
    let f = Fixture::new().await;
    let party = f.fresh_participant("roundtrip").await;
    let (_, registered) = f
        .register_dcr(&party, &f.registration_body(&party).await)
        .await;
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let rat = registered["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/banco-azul/register/{client_id}");
    // The response as is, a fresh statement, the second redirect URI.
    let mut update = match registered.clone() {
        Value::Object(map) => map,
        _ => unreachable_map(),
    };
    let ssa = f.ssa(&ssa_claims(&f, &party, &["DADOS", "PAGTO"])).await;
    update.insert("software_statement".into(), json!(ssa));
    update.insert("redirect_uris".into(), json!([REDIRECT, SECOND_REDIRECT]));
    update.remove("subject_type");
    let (status, updated) = f
        .send_json(
            Method::PUT,
            &path,
            Some(&party.cert),
            Some(&rat),
            Some(&update),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["registration_access_token"], json!(rat));
    assert_eq!(updated["redirect_uris"], json!([REDIRECT, SECOND_REDIRECT]));
    // Failed updates leave the configuration as it was.
    let before = f
        .send_json(Method::GET, &path, Some(&party.cert), Some(&rat), None)
        .await
        .1;
    let mut no_ssa = update.clone();
    no_ssa.remove("software_statement");
    no_ssa.insert("redirect_uris".into(), json!([REDIRECT]));
    let result = f
        .send_json(
            Method::PUT,
            &path,
            Some(&party.cert),
            Some(&rat),
            Some(&no_ssa),
        )
        .await;
    assert_oauth_error(
        &result,
        StatusCode::BAD_REQUEST,
        "invalid_software_statement",
    );
    let bad_token = f
        .send_json(
            Method::PUT,
            &path,
            Some(&party.cert),
            Some("nope"),
            Some(&update),
        )
        .await;
    assert_eq!(bad_token.0, StatusCode::UNAUTHORIZED);
    assert!(bad_token.1.get("client_id").is_none());
    let after = f
        .send_json(Method::GET, &path, Some(&party.cert), Some(&rat), None)
        .await
        .1;
    assert_eq!(before, after);
}

#[tokio::test]
async fn b1_08_software_statement_values_in_the_body_are_not_a_statement() {
    let f = Fixture::new().await;
    let party = f.fresh_participant("nossa").await;
    let mut body = f.registration_body(&party).await;
    body.remove("software_statement");
    if let Value::Object(claims) = ssa_claims(&f, &party, &["DADOS"]) {
        body.extend(claims);
    }
    let result = f.register_dcr(&party, &body).await;
    assert_eq!(result.0, StatusCode::BAD_REQUEST);
    assert!(result.1.get("client_id").is_none());
}

#[tokio::test]
async fn b2_21_client_takeover_with_another_organisations_certificate_fails() {
    let f = Fixture::new().await;
    let party = f.fresh_participant("victim").await;
    let (_, registered) = f
        .register_dcr(&party, &f.registration_body(&party).await)
        .await;
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let rat = registered["registration_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/banco-azul/register/{client_id}");
    // The attacker holds the token but presents its own certificate and statement.
    let get = f
        .send_json(Method::GET, &path, Some(&f.other.cert), Some(&rat), None)
        .await;
    assert_eq!(get.0, StatusCode::UNAUTHORIZED);
    assert!(get.1.get("client_id").is_none());
    let mut takeover = f.registration_body(&f.other).await;
    takeover.insert("client_id".into(), json!(client_id));
    let put = f
        .send_json(
            Method::PUT,
            &path,
            Some(&f.other.cert),
            Some(&rat),
            Some(&takeover),
        )
        .await;
    assert_eq!(put.0, StatusCode::UNAUTHORIZED);
    assert!(put.1.get("client_id").is_none());
    let victim = Party {
        client_id: ClientId::new(client_id).unwrap(),
        ..party
    };
    let form = vec![
        ("grant_type".to_owned(), "client_credentials".to_owned()),
        ("client_id".into(), victim.client_id.to_string()),
        ("client_assertion_type".into(), ASSERTION_TYPE.into()),
        (
            "client_assertion".into(),
            f.assertion(&victim, &f.mtls(0, "token")).await,
        ),
    ];
    assert_oauth_error(
        &f.post("/banco-azul/token", Some(&f.other.cert), &form)
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
}

// ------------------------------------------- replicas on one PostgreSQL

/// The PostgreSQL URL from `OPUS_POSTGRES_URL`; `None` (with a message) when
/// unset, except under `CI=true`, where it fails.
fn postgres_url() -> Option<String> {
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

/// A store on `schema` of the test database through a pool of its own.
async fn postgres_storage(url: &str, schema: &str, create: bool) -> Storage {
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
        .max_connections(8)
        .connect_with(options.options([("search_path", schema)]))
        .await
        .unwrap();
    Storage::from_backend(Arc::new(
        opus_store::PostgresStore::from_pool(pool).await.unwrap(),
    ))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Two server instances, each with its own runtime and connection pool, on
/// one PostgreSQL schema: a request pushed to one is authorised through the
/// other, and a code raced from both is redeemed once.
#[test]
fn replicas_two_instances_on_one_postgresql_share_grants_and_race_a_code_once() {
    let Some(url) = postgres_url() else { return };
    let schema = format!("opus_as_{}", uuid::Uuid::new_v4().simple());
    let (rt_a, rt_b) = (runtime(), runtime());
    let f = Arc::new(rt_a.block_on(async {
        Fixture::with_storage(postgres_storage(&url, &schema, true).await).await
    }));
    let replica = rt_b.block_on(async {
        f.replica(postgres_storage(&url, &schema, false).await)
            .await
    });

    // Pushed on A, taken on B, finished on A.
    let request_uri = rt_a.block_on(async {
        let consent = f
            .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
            .await;
        let (status, body) = f.par(&f.tpp, &f.request_claims(&f.tpp, &consent)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["request_uri"].as_str().unwrap().to_owned()
    });
    let status = rt_b.block_on(async {
        let request = Request::builder()
            .uri(format!(
                "/banco-azul/authorize?{}",
                Fixture::authorize_query(&f.tpp, &request_uri)
            ))
            .body(Full::new(Bytes::new()))
            .unwrap();
        call_via(&replica, request, None).await.status()
    });
    assert_eq!(status, StatusCode::SEE_OTHER);
    let interaction = f.authenticator.last().unwrap();
    let code = rt_a.block_on(async {
        let fragment = f
            .finish(&interaction, approval(&f, CUSTOMER, None, Acr::Loa2))
            .await;
        fragment["code"].clone()
    });

    // Twenty redemptions from each instance at once.
    let race = |rt: &tokio::runtime::Runtime, server: AuthorizationServer| {
        let f = f.clone();
        let code = code.clone();
        rt.block_on(async move {
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..20 {
                let (f, code, server) = (f.clone(), code.clone(), server.clone());
                tasks.spawn(async move {
                    f.exchange_via(&server, &f.tpp, &code, Some(VERIFIER))
                        .await
                        .0
                });
            }
            tasks.join_all().await
        })
    };
    let (from_a, from_b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| race(&rt_a, f.server.clone()));
        let b = scope.spawn(|| race(&rt_b, replica.clone()));
        (a.join().unwrap(), b.join().unwrap())
    });
    let statuses: Vec<StatusCode> = from_a.into_iter().chain(from_b).collect();
    assert_eq!(statuses.len(), 40);
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::BAD_REQUEST)
    );

    // One client assertion replayed on both instances at once: accepted once.
    let assertion = rt_a.block_on(f.assertion(&f.tpp, &f.mtls(0, "token")));
    let replay = |rt: &tokio::runtime::Runtime, server: AuthorizationServer| {
        let f = f.clone();
        let assertion = assertion.clone();
        rt.block_on(async move {
            let form = vec![
                ("grant_type".to_owned(), "client_credentials".to_owned()),
                ("scope".into(), "consents".into()),
                ("client_id".into(), f.tpp.client_id.to_string()),
                ("client_assertion_type".into(), ASSERTION_TYPE.into()),
                ("client_assertion".into(), assertion),
            ];
            f.post_via(&server, "/banco-azul/token", Some(&f.tpp.cert), &form)
                .await
                .0
        })
    };
    let (a, b) = std::thread::scope(|scope| {
        let a = scope.spawn(|| replay(&rt_a, f.server.clone()));
        let b = scope.spawn(|| replay(&rt_b, replica.clone()));
        (a.join().unwrap(), b.join().unwrap())
    });
    let mut outcomes = [a, b];
    outcomes.sort();
    assert_eq!(outcomes, [StatusCode::OK, StatusCode::UNAUTHORIZED]);
}

#[tokio::test]
async fn a4_28_authorization_errors_are_a_page_for_browsers_and_json_otherwise() {
    let f = Fixture::new().await;
    let query = "client_id=tpp-client&request=eyJ.eyJ.x&response_type=code%20id_token";
    for (accept, content_type) in [
        (
            Some("text/html,application/xhtml+xml,*/*;q=0.8"),
            "text/html; charset=utf-8",
        ),
        (None, "application/json"),
    ] {
        let mut builder = Request::builder().uri(format!("/banco-azul/authorize?{query}"));
        if let Some(accept) = accept {
            builder = builder.header(header::ACCEPT, accept);
        }
        let response = f
            .call(builder.body(Full::new(Bytes::new())).unwrap(), None)
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(header::LOCATION).is_none());
        assert_eq!(response.headers()[header::CONTENT_TYPE], content_type);
        if accept.is_none() {
            assert_eq!(json_body(response).await["error"], "invalid_request");
        }
    }
}

#[tokio::test]
async fn a0_09_token_endpoint_id_tokens_can_be_encrypted_when_configured() {
    let f = Fixture::new().await;
    let server = f
        .replica_builder(f.storage.clone())
        .await
        .encrypt_token_endpoint_id_tokens(true)
        .build()
        .unwrap();
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let interaction = f.start(&consent).await;
    let fragment = f
        .finish(&interaction, approval(&f, CUSTOMER, None, Acr::Loa2))
        .await;
    let (status, body) = f
        .exchange_via(&server, &f.tpp, &fragment["code"], Some(VERIFIER))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(id_token.split('.').count(), 5);
    let back = front_claims(&f, id_token).await;
    let front = front_claims(&f, &fragment["id_token"]).await;
    assert_eq!(back["sub"], front["sub"]);
    assert!(back.contains_key("at_hash"));
}

#[tokio::test]
async fn checklist_45_introspection_for_resource_servers_only() {
    let f = Fixture::new().await;
    // `other` plays the bank's resource server.
    let server = f
        .replica_builder(f.storage.clone())
        .await
        .introspection_clients(vec![f.other.client_id.clone()])
        .build()
        .unwrap();
    let (_, doc, _) = {
        let request = Request::builder()
            .uri("/banco-azul/.well-known/openid-configuration")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = call_via(&server, request, None).await;
        (response.status(), json_body(response).await, ())
    };
    assert_eq!(
        doc["introspection_endpoint"],
        json!(f.mtls(0, "introspect"))
    );
    assert_eq!(
        doc["mtls_endpoint_aliases"]["introspection_endpoint"],
        json!(f.mtls(0, "introspect"))
    );
    // The default server does not offer it.
    let (_, plain_doc, _) = f.get("/banco-azul/.well-known/openid-configuration").await;
    assert!(plain_doc.get("introspection_endpoint").is_none());

    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let code = f.code_for(&consent).await;
    let (_, tokens) = f.exchange(&f.tpp, &code, Some(VERIFIER)).await;
    let access = tokens["access_token"].as_str().unwrap();
    let introspect = |party: &'static str, token: String| {
        let f = &f;
        let server = &server;
        async move {
            let caller = if party == "rs" { &f.other } else { &f.tpp };
            let form = vec![
                ("token".to_owned(), token),
                ("client_id".into(), caller.client_id.to_string()),
                ("client_assertion_type".into(), ASSERTION_TYPE.into()),
                (
                    "client_assertion".into(),
                    f.assertion(caller, &f.issuer(0)).await,
                ),
            ];
            f.post_via(server, "/banco-azul/introspect", Some(&caller.cert), &form)
                .await
        }
    };
    let (status, info) = introspect("rs", access.to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{info}");
    assert_eq!(info["active"], true);
    assert_eq!(
        info["cnf"]["x5t#S256"],
        json!(certificate_thumbprint(&f.tpp.cert.der))
    );
    assert_eq!(info["client_id"], "tpp-client");
    assert!(
        info["scope"]
            .as_str()
            .unwrap()
            .contains(&format!("consent:{consent}"))
    );
    // A client that is not a resource server may not introspect.
    let (status, refused) = introspect("tpp", access.to_owned()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"], "unauthorized_client");
    // Unknown or revoked tokens are inactive, with nothing else said.
    assert_eq!(
        introspect("rs", "nope".to_owned()).await.1,
        json!({"active": false})
    );
    f.storage
        .grants
        .revoke_token(f.brands[0].id(), &TokenHash::of(access), f.clock.now())
        .await
        .unwrap();
    assert_eq!(
        introspect("rs", access.to_owned()).await.1,
        json!({"active": false})
    );
    // Not served where not configured.
    let form = vec![("token".to_owned(), "x".to_owned())];
    assert_eq!(
        f.post("/banco-azul/introspect", Some(&f.tpp.cert), &form)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

/// A directory whose cached keystores lag behind the mock's, as a cached
/// directory client does until its time to live ends.
struct LaggingDirectory {
    current: Arc<MockDirectory>,
    cached: std::sync::Mutex<
        std::collections::HashMap<
            (opus_core::OrganisationId, opus_core::SoftwareStatementId),
            JwkSet,
        >,
    >,
    refreshes: bool,
}

#[async_trait]
impl Directory for LaggingDirectory {
    async fn participants(
        &self,
    ) -> Result<Vec<opus_core::directory::Organisation>, opus_core::directory::DirectoryError> {
        self.current.participants().await
    }
    async fn organisation_jwks(
        &self,
        org: &opus_core::OrganisationId,
    ) -> Result<JwkSet, opus_core::directory::DirectoryError> {
        self.current.organisation_jwks(org).await
    }
    async fn software_statement_jwks(
        &self,
        org: &opus_core::OrganisationId,
        software: &opus_core::SoftwareStatementId,
    ) -> Result<JwkSet, opus_core::directory::DirectoryError> {
        let cached = self.cached.lock().unwrap().get(&(*org, *software)).cloned();
        match cached {
            Some(set) => Ok(set),
            None => self.current.software_statement_jwks(org, software).await,
        }
    }
    async fn software_statement_jwks_refreshed(
        &self,
        org: &opus_core::OrganisationId,
        software: &opus_core::SoftwareStatementId,
    ) -> Result<JwkSet, opus_core::directory::DirectoryError> {
        if !self.refreshes {
            return self.software_statement_jwks(org, software).await;
        }
        let fresh = self.current.software_statement_jwks(org, software).await?;
        self.cached
            .lock()
            .unwrap()
            .insert((*org, *software), fresh.clone());
        Ok(fresh)
    }
    async fn ssa_signing_keys(&self) -> Result<JwkSet, opus_core::directory::DirectoryError> {
        self.current.ssa_signing_keys().await
    }
    async fn trust_anchors(&self) -> Result<Vec<Vec<u8>>, opus_core::directory::DirectoryError> {
        self.current.trust_anchors().await
    }
}

#[tokio::test]
async fn a_rotated_client_key_is_found_by_looking_again() {
    let f = Fixture::new().await;
    let org = f.tpp.subject.organisation_id;
    let software = f.tpp.subject.software_statement_id;
    let before = f
        .directory
        .software_statement_jwks(&org, &software)
        .await
        .unwrap();
    // The participant rotates its signing key in the directory.
    let rotated = SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::generate_rsa("tpp-client-sig-2").unwrap())
        .build()
        .unwrap();
    f.directory
        .set_software_statement_jwks(org, software, rotated.public_jwks().await.unwrap());
    let signer = rotated.signer(KeyPurpose::ClientSigning).await.unwrap();
    for refreshes in [false, true] {
        let lagging = Arc::new(LaggingDirectory {
            current: f.directory.clone(),
            cached: std::sync::Mutex::new(std::collections::HashMap::from([(
                (org, software),
                before.clone(),
            )])),
            refreshes,
        });
        let server = f
            .replica_builder(f.storage.clone())
            .await
            .client_keys(Arc::new(DirectoryClientKeys::new(lagging)))
            .build()
            .unwrap();
        let consent = f
            .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
            .await;
        let request = f
            .sign(signer.as_ref(), &f.request_claims(&f.tpp, &consent))
            .await;
        let assertion = client_assertion(
            signer.as_ref(),
            &f.tpp.client_id,
            &f.issuer(0),
            f.clock.now(),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
        let form = vec![
            ("client_id".to_owned(), f.tpp.client_id.to_string()),
            ("client_assertion_type".into(), ASSERTION_TYPE.into()),
            ("client_assertion".into(), assertion),
            ("request".into(), request),
        ];
        let (status, body) = f
            .post_via(&server, "/banco-azul/par", Some(&f.tpp.cert), &form)
            .await;
        if refreshes {
            assert_eq!(status, StatusCode::CREATED, "{body}");
        } else {
            assert_oauth_error(&(status, body), StatusCode::UNAUTHORIZED, "invalid_client");
        }
    }
}

#[tokio::test]
async fn checklist_87_a_consent_past_its_expiration_is_refused_before_anyone_records_it() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::Authorised)
        .await;
    let token = consent_token(&f, &f.tpp, &consent, "openid accounts").await;
    let layer = guard(&f)
        .require_scope("accounts")
        .require_authorised_consent();
    let request = || {
        api_request(Some(&token), Some(INTERACTION))
            .body(Full::default())
            .unwrap()
    };
    assert_eq!(
        guarded(layer.clone(), request(), Some(&f.tpp.cert)).await.0,
        StatusCode::OK
    );
    // The fixture's consents expire after 90 days; the token itself is refreshed
    // meanwhile, so only the consent's expiration can refuse it.
    f.clock.advance(Duration::from_secs(90 * 86_400));
    let fresh = consent_token(&f, &f.tpp, &consent, "openid accounts").await;
    let late = api_request(Some(&fresh), Some(INTERACTION))
        .body(Full::default())
        .unwrap();
    assert_eq!(
        guarded(layer, late, Some(&f.tpp.cert)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

// ---------------------------------------------------------------- interaction API

const OTHER_CUSTOMER: &str = "11144477735";

fn login(cpf: &str) -> Value {
    json!({"form": {"cpf": cpf, "password": TEST_PASSWORD}})
}

fn fragment_of(url: &str) -> BTreeMap<String, String> {
    let url = Url::parse(url).unwrap();
    assert!(url.as_str().starts_with(REDIRECT), "{url}");
    url::form_urlencoded::parse(url.fragment().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// What an HTML exchange answered.
struct Page {
    status: StatusCode,
    location: Option<String>,
    headers: http::HeaderMap,
    html: String,
}

impl Fixture {
    /// A JSON command of the interaction API (no client certificate: the
    /// front channel).
    async fn command(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("/banco-azul/interaction/{path}"))
            .header(header::ACCEPT, "application/json");
        let body = match body {
            Some(v) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(v.to_string()))
            }
            None => Full::default(),
        };
        let response = self.call(request.body(body).unwrap(), None).await;
        (response.status(), json_body(response).await)
    }

    /// A browser's page load (`form = None`) or form post.
    async fn browse(&self, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let mut request = Request::builder()
            .uri(format!("/banco-azul/interaction/{path}"))
            .header(header::ACCEPT, "text/html,application/xhtml+xml");
        let body = match form {
            Some(fields) => {
                request = request
                    .method(Method::POST)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                let mut s = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in fields {
                    s.append_pair(k, v);
                }
                Full::new(Bytes::from(s.finish()))
            }
            None => Full::default(),
        };
        let response = self.call(request.body(body).unwrap(), None).await;
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Page {
            status,
            location,
            headers,
            html: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }
}

#[tokio::test]
async fn interaction_json_loop_authenticates_shows_the_consent_and_completes() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let interaction = f.start(&consent).await;
    assert_eq!(interaction.logged_user, Some(Cpf::parse(CUSTOMER).unwrap()));
    assert_eq!(
        interaction.pages_url.as_str(),
        format!("{}/interaction/{}", f.issuer(0), interaction.id)
    );
    let id = interaction.id.to_string();

    let (status, view) = f.command(Method::GET, &id, None).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["step"], "authenticate");
    assert_eq!(view["client"]["client_id"], f.tpp.client_id.as_str());
    assert!(view["consent"].is_null(), "no consent details before login");

    // A decision before authentication is out of step.
    let (status, body) = f
        .command(
            Method::POST,
            &format!("{id}/decision"),
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "wrong_step");

    let (status, view) = f
        .command(
            Method::POST,
            &format!("{id}/authenticate"),
            Some(login(CUSTOMER)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["step"], "consent");
    assert_eq!(view["consent"]["consentId"], consent.as_str());
    assert_eq!(
        view["consent"]["permissions"],
        json!(["ACCOUNTS_READ", "RESOURCES_READ"])
    );
    // Only accounts: the consent does not reach credit cards.
    let offered: Vec<&str> = view["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resourceId"].as_str().unwrap())
        .collect();
    assert_eq!(offered, ["acc-1", "acc-2"]);

    // Something not offered is refused and changes nothing.
    let (status, body) = f
        .command(
            Method::POST,
            &format!("{id}/decision"),
            Some(json!({"decision": "approve", "resources": ["card-1"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(f.command(Method::GET, &id, None).await.1["step"], "consent");

    let (status, view) = f
        .command(
            Method::POST,
            &format!("{id}/decision"),
            Some(json!({"decision": "approve", "resources": ["acc-2"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["step"], "completed");
    assert_eq!(view["approved"], true);
    let fragment = fragment_of(view["redirect_to"].as_str().unwrap());
    assert_eq!(fragment["state"], "st-1");
    assert!(fragment.contains_key("id_token"));
    let (status, tokens) = f.exchange(&f.tpp, &fragment["code"], Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");

    let stored = f.consent_status(&consent).await;
    assert_eq!(stored.status, ConsentStatus::Authorised);
    assert_eq!(stored.resources, [ResourceId::new("acc-2").unwrap()]);

    // Finished: polling still answers the outcome; commands are out of step.
    assert_eq!(
        f.command(Method::GET, &id, None).await.1["step"],
        "completed"
    );
    let (status, _) = f
        .command(
            Method::POST,
            &format!("{id}/decision"),
            Some(json!({"decision": "deny"})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(matches!(
        f.server
            .complete_interaction(
                f.brands[0].id(),
                &interaction.id,
                approval(&f, CUSTOMER, None, Acr::Loa2)
            )
            .await,
        Err(InteractionError::NotFound)
    ));
}

#[tokio::test]
async fn interaction_denial_redirects_access_denied_and_rejects_the_consent_by_the_user() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let id = f.start(&consent).await.id.to_string();
    f.command(
        Method::POST,
        &format!("{id}/authenticate"),
        Some(login(CUSTOMER)),
    )
    .await;
    let (status, view) = f
        .command(
            Method::POST,
            &format!("{id}/decision"),
            Some(json!({"decision": "deny"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["approved"], false);
    let fragment = fragment_of(view["redirect_to"].as_str().unwrap());
    assert_eq!(fragment["error"], "access_denied");
    assert_eq!(fragment["state"], "st-1");
    assert!(!fragment.contains_key("code"));
    let stored = f.consent_status(&consent).await;
    assert_eq!(stored.status, ConsentStatus::Rejected);
    let rejection = stored.rejection.unwrap();
    assert_eq!(rejection.rejected_by, RejectedBy::User);
    assert_eq!(
        rejection.reason.code,
        DataRejectionCode::CustomerManuallyRejected
    );
}

#[tokio::test]
async fn interaction_three_failed_logins_end_it_denied() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let id = f.start(&consent).await.id.to_string();
    let wrong = json!({"form": {"cpf": CUSTOMER, "password": "wrong"}});
    for remaining in [2, 1] {
        let (status, body) = f
            .command(
                Method::POST,
                &format!("{id}/authenticate"),
                Some(wrong.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"], "authentication_failed");
        assert_eq!(body["attempts_remaining"], remaining);
    }
    let (status, view) = f
        .command(Method::POST, &format!("{id}/authenticate"), Some(wrong))
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["step"], "completed");
    assert_eq!(
        fragment_of(view["redirect_to"].as_str().unwrap())["error"],
        "access_denied"
    );
    let stored = f.consent_status(&consent).await;
    assert_eq!(stored.status, ConsentStatus::Rejected);
    assert_eq!(stored.rejection.unwrap().rejected_by, RejectedBy::Aspsp);
    // Malformed commands are refused without counting.
    let (status, _) = f
        .command(
            Method::POST,
            &format!("{id}/authenticate"),
            Some(json!({"assertion": "a", "form": {}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn interaction_someone_else_logging_in_never_sees_the_consent() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let id = f.start(&consent).await.id.to_string();
    let (status, view) = f
        .command(
            Method::POST,
            &format!("{id}/authenticate"),
            Some(login(OTHER_CUSTOMER)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["step"], "completed");
    assert!(view["consent"].is_null());
    assert!(view["resources"].as_array().unwrap().is_empty());
    assert_eq!(
        fragment_of(view["redirect_to"].as_str().unwrap())["error"],
        "access_denied"
    );
    let rejection = f.consent_status(&consent).await.rejection.unwrap();
    assert_eq!(rejection.rejected_by, RejectedBy::Aspsp);
    assert_eq!(
        rejection.reason.code,
        DataRejectionCode::InternalSecurityReason
    );
}

#[tokio::test]
async fn interaction_insufficient_assurance_is_a_failed_login() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let mut claims = f.request_claims(&f.tpp, &consent);
    claims["claims"] = json!({"id_token": {"acr": {"essential": true, "values": ["urn:brasil:openbanking:loa3"]}}});
    let id = f.start_with(&claims).await.id.to_string();
    let (status, body) = f
        .command(
            Method::POST,
            &format!("{id}/authenticate"),
            Some(json!({"form": {"cpf": CUSTOMER, "password": TEST_PASSWORD, "acr": "loa2"}})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, view) = f
        .command(
            Method::POST,
            &format!("{id}/authenticate"),
            Some(json!({"form": {"cpf": CUSTOMER, "password": TEST_PASSWORD, "acr": "loa3"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["step"], "consent");
}

#[tokio::test]
async fn interaction_hand_off_moves_it_to_the_other_device_and_the_first_one_polls() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let id = f.start(&consent).await.id.to_string();
    let (status, first) = f
        .command(Method::POST, &format!("{id}/handoff"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    // A lost QR code: hand off again; the first code stops working.
    let (_, handoff) = f
        .command(Method::POST, &format!("{id}/handoff"), None)
        .await;
    let old = first["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let url = handoff["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/interaction/handoff/", f.issuer(0))));
    let code = url.rsplit('/').next().unwrap().to_owned();
    assert_ne!(code, old);
    assert_eq!(
        f.command(Method::GET, &format!("handoff/{old}"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // The first device now only waits.
    let (_, view) = f.command(Method::GET, &id, None).await;
    assert_eq!(view["step"], "handed_off");
    let (status, body) = f
        .command(
            Method::POST,
            &format!("{id}/authenticate"),
            Some(login(CUSTOMER)),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "handed_off");
    let page = f.browse(&id, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.html.contains("http-equiv=\"refresh\""),
        "the waiting page reloads"
    );

    // The other device carries it on with the code alone.
    let (status, view) = f
        .command(
            Method::POST,
            &format!("handoff/{code}/authenticate"),
            Some(login(CUSTOMER)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["step"], "consent");
    assert_eq!(
        f.command(Method::GET, &id, None).await.1["step"],
        "handed_off"
    );
    let (status, view) = f
        .command(
            Method::POST,
            &format!("handoff/{code}/decision"),
            Some(json!({"decision": "approve", "resources": ["acc-1"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["step"], "completed");
    assert!(
        view["redirect_to"].is_null(),
        "the other device does not go to the client"
    );
    assert_eq!(
        f.command(Method::POST, &format!("handoff/{code}/handoff"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // The first device's poll finds the redirect; its page sends it there.
    let (_, view) = f.command(Method::GET, &id, None).await;
    assert_eq!(view["step"], "completed");
    let fragment = fragment_of(view["redirect_to"].as_str().unwrap());
    assert!(fragment.contains_key("code"));
    let page = f.browse(&id, None).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location.as_deref(), view["redirect_to"].as_str());
    assert_eq!(
        f.consent_status(&consent).await.status,
        ConsentStatus::Authorised
    );
}

#[tokio::test]
async fn interaction_hand_off_only_before_login_and_only_from_the_first_device() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let id = f.start(&consent).await.id.to_string();
    f.command(
        Method::POST,
        &format!("{id}/authenticate"),
        Some(login(CUSTOMER)),
    )
    .await;
    let (status, body) = f
        .command(Method::POST, &format!("{id}/handoff"), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        f.command(Method::GET, "handoff/made-up-code", None).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn interaction_html_pages_walk_the_customer_back_to_the_client() {
    let f = Fixture::new().await;
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let id = f.start(&consent).await.id.to_string();
    let page = f.browse(&id, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("name=\"password\""));
    assert!(page.html.contains(&format!("{id}/handoff")));
    assert_eq!(page.headers[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    assert!(
        page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );

    let failed = f
        .browse(
            &format!("{id}/authenticate"),
            Some(&[("cpf", CUSTOMER), ("password", "nope")]),
        )
        .await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    assert!(failed.html.contains("role=\"alert\""));

    let posted = f
        .browse(
            &format!("{id}/authenticate"),
            Some(&[("cpf", CUSTOMER), ("password", TEST_PASSWORD)]),
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        posted.location.as_deref(),
        Some(format!("{}/interaction/{id}", f.issuer(0)).as_str())
    );
    let consent_page = f.browse(&id, None).await;
    assert_eq!(consent_page.status, StatusCode::OK);
    // The permissions in plain Portuguese, not the spec's codes.
    assert!(
        consent_page
            .html
            .contains("Contas: dados da conta (agência, número e tipo)"),
        "{}",
        consent_page.html
    );
    assert!(!consent_page.html.contains("ACCOUNTS_READ"));
    assert!(consent_page.html.contains("value=\"acc-1\""));
    assert!(!consent_page.html.contains("card-1"));

    let decided = f
        .browse(
            &format!("{id}/decision"),
            Some(&[
                ("resource", "acc-1"),
                ("resource", "acc-2"),
                ("decision", "approve"),
            ]),
        )
        .await;
    assert_eq!(decided.status, StatusCode::SEE_OTHER);
    let back = f.browse(&id, None).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    let fragment = fragment_of(back.location.as_deref().unwrap());
    assert!(fragment.contains_key("code"));
    let mut chosen = f.consent_status(&consent).await.resources;
    chosen.sort();
    assert_eq!(
        chosen,
        [
            ResourceId::new("acc-1").unwrap(),
            ResourceId::new("acc-2").unwrap()
        ]
    );

    // Unknown interactions get an error page, not a redirect.
    let unknown = f
        .browse(&opus_core::InteractionSessionId::random().to_string(), None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.location.is_none());

    // The hand-off page shows the link for the phone, as a QR code and as
    // text; the link opens the login on the other device.
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let id = f.start(&consent).await.id.to_string();
    let handed = f.browse(&format!("{id}/handoff"), Some(&[])).await;
    assert_eq!(handed.status, StatusCode::OK, "{}", handed.html);
    assert!(handed.html.contains("<svg role=\"img\""), "{}", handed.html);
    let link = handed
        .html
        .split("id=\"handoff-link\" href=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let path = link
        .split("/interaction/")
        .nth(1)
        .unwrap()
        .replace("&amp;", "&");
    assert!(path.starts_with("handoff/"), "{link}");
    let other_device = f.browse(&path, None).await;
    assert_eq!(other_device.status, StatusCode::OK);
    assert!(other_device.html.contains("name=\"password\""));
    // The first device waits.
    let waiting = f.browse(&id, None).await;
    assert!(waiting.html.contains("Continue no celular"));
}

#[tokio::test]
async fn interaction_concurrent_decisions_have_one_outcome() {
    let f = Arc::new(Fixture::new().await);
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let interaction = f.start(&consent).await;
    let brand = f.brands[0].id().clone();
    let handle = InteractionHandle::Id(interaction.id);
    f.server
        .authenticate(
            &brand,
            &handle,
            &AuthenticationEvidence::Form(
                [
                    ("cpf".to_owned(), CUSTOMER.to_owned()),
                    ("password".to_owned(), TEST_PASSWORD.to_owned()),
                ]
                .into(),
            ),
        )
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let server = f.server.clone();
        let (brand, handle) = (brand.clone(), handle.clone());
        tasks.push(tokio::spawn(async move {
            let decision = if i % 2 == 0 {
                Decision::Approve {
                    resources: vec![ResourceId::new("acc-1").unwrap()],
                }
            } else {
                Decision::Deny
            };
            server.decide(&brand, &handle, decision).await
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        if let Ok(view) = t.await.unwrap() {
            outcomes.push(view);
        }
    }
    assert_eq!(outcomes.len(), 1, "exactly one decision counts");
    let approved = outcomes[0].approved.unwrap();
    let status = f.consent_status(&consent).await.status;
    assert_eq!(
        status,
        if approved {
            ConsentStatus::Authorised
        } else {
            ConsentStatus::Rejected
        }
    );
    let view = f.server.interaction(&brand, &handle).await.unwrap();
    assert_eq!(view.step, StepName::Completed);
    assert_eq!(view.approved, Some(approved));
}

/// Signs an app assertion for `interaction` with `signer`, overriding claims.
async fn app_assertion(
    f: &Fixture,
    signer: &dyn JwsSigner,
    interaction: &InteractionRequest,
    patch: Value,
) -> String {
    let now = f.clock.now().unix_seconds();
    let mut claims = json!({
        "iss": "https://app.banco-azul.example",
        "aud": interaction.brand.as_str(),
        "interaction": interaction.id.to_string(),
        "cpf": CUSTOMER,
        "acr": "urn:brasil:openbanking:loa2",
        "auth_time": now,
        "iat": now,
        "exp": now + 120,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            claims.as_object_mut().unwrap().remove(k);
        } else {
            claims[k] = v.clone();
        }
    }
    jws::sign_claims(signer, Some("JWT"), &claims)
        .await
        .unwrap()
}

#[tokio::test]
async fn app_assertions_authenticate_once_for_their_interaction_only() {
    let f = Fixture::new().await;
    let app = TestKeyCustody::new("bank-app");
    let signer = app.signer(KeyPurpose::MessageSigning).await.unwrap();
    let verifier = AppAssertionVerifier::new(
        "https://app.banco-azul.example",
        app.public_jwks().await.unwrap(),
        f.storage.replay.clone(),
        f.clock.clone(),
    );
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let interaction = f.start(&consent).await;
    let other = f.start(&consent).await;
    let intruder = TestKeyCustody::new("intruder");
    let intruder_signer = intruder.signer(KeyPurpose::MessageSigning).await.unwrap();
    let now = f.clock.now().unix_seconds();
    let cases = [
        (
            signer.as_ref(),
            json!({"iss": "https://elsewhere.example"}),
            "issuer",
        ),
        (signer.as_ref(), json!({"aud": "banco-verde"}), "audience"),
        (
            signer.as_ref(),
            json!({"interaction": other.id.to_string()}),
            "another interaction",
        ),
        (signer.as_ref(), json!({"exp": now - 1}), "expired"),
        (signer.as_ref(), json!({"exp": now + 301}), "lives too long"),
        (signer.as_ref(), json!({"jti": null}), "no jti"),
        (signer.as_ref(), json!({"cpf": "12345678900"}), "bad CPF"),
        (signer.as_ref(), json!({"acr": "loa9"}), "unknown acr"),
        (intruder_signer.as_ref(), json!({}), "unknown key"),
    ];
    for (key, patch, why) in cases {
        let assertion = app_assertion(&f, key, &interaction, patch).await;
        assert!(
            matches!(
                verifier.verify(&interaction, &assertion).await,
                Err(AuthenticationError::Rejected)
            ),
            "{why}"
        );
    }
    let good = app_assertion(&f, signer.as_ref(), &interaction, json!({})).await;
    let customer = verifier.verify(&interaction, &good).await.unwrap();
    assert_eq!(customer.subject, Cpf::parse(CUSTOMER).unwrap());
    assert_eq!(customer.acr, Acr::Loa2);
    assert!(
        matches!(
            verifier.verify(&interaction, &good).await,
            Err(AuthenticationError::Rejected)
        ),
        "single use"
    );

    // Through a server that authenticates in the bank's app only.
    let server = f
        .replica_builder(f.storage.clone())
        .await
        .authenticator(Arc::new(AppAssertionAuthenticator::new(verifier)))
        .build()
        .unwrap();
    let handle = InteractionHandle::Id(other.id);
    let brand = f.brands[0].id().clone();
    let form = AuthenticationEvidence::Form([("cpf".to_owned(), CUSTOMER.to_owned())].into());
    assert!(matches!(
        server.authenticate(&brand, &handle, &form).await,
        Err(InteractionError::AuthenticationFailed { remaining: 2 })
    ));
    let assertion = app_assertion(&f, signer.as_ref(), &other, json!({})).await;
    let view = server
        .authenticate(
            &brand,
            &handle,
            &AuthenticationEvidence::AppAssertion(assertion),
        )
        .await
        .unwrap();
    assert_eq!(view.step, StepName::Consent);
}

/// A consent port of another consent family: records what the server asks.
struct RecordingConsents {
    inner: opus_fapi::server::StoreConsentAuthorisation,
    calls: std::sync::Mutex<Vec<String>>,
}

#[async_trait]
impl ConsentAuthorisation for RecordingConsents {
    async fn details(
        &self,
        brand: &BrandId,
        id: &ConsentId,
    ) -> Result<Option<ConsentDetails>, opus_core::interaction::InteractionError> {
        self.calls.lock().unwrap().push("details".into());
        self.inner.details(brand, id).await
    }
    async fn authorise(
        &self,
        _: &BrandId,
        _: &ConsentId,
        _: &ClientId,
        approval: &InteractionApproval,
    ) -> Result<Result<(), DenialReason>, opus_core::interaction::InteractionError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("authorise {}", approval.resources.len()));
        Ok(Ok(()))
    }
    async fn reject(
        &self,
        _: &BrandId,
        _: &ConsentId,
        reason: DenialReason,
    ) -> Result<(), opus_core::interaction::InteractionError> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("reject {reason:?}"));
        Ok(())
    }
}

#[tokio::test]
async fn interaction_goes_through_the_consent_port() {
    let f = Fixture::new().await;
    let consents = Arc::new(RecordingConsents {
        inner: opus_fapi::server::StoreConsentAuthorisation::new(
            f.storage.clone(),
            f.sealer.clone(),
            f.clock.clone(),
        ),
        calls: std::sync::Mutex::new(Vec::new()),
    });
    let server = f
        .replica_builder(f.storage.clone())
        .await
        .consent_authorisation(consents.clone())
        .build()
        .unwrap();
    let consent = f
        .consent(0, &f.tpp.client_id, ConsentStatus::AwaitingAuthorisation)
        .await;
    let interaction = f.start(&consent).await;
    let brand = f.brands[0].id().clone();
    let handle = InteractionHandle::Id(interaction.id);
    let login = AuthenticationEvidence::Form(
        [
            ("cpf".to_owned(), CUSTOMER.to_owned()),
            ("password".to_owned(), TEST_PASSWORD.to_owned()),
        ]
        .into(),
    );
    server.authenticate(&brand, &handle, &login).await.unwrap();
    let view = server
        .decide(&brand, &handle, Decision::Approve { resources: vec![] })
        .await
        .unwrap();
    assert_eq!(view.approved, Some(true));
    let calls = consents.calls.lock().unwrap().clone();
    assert!(calls.contains(&"authorise 0".to_owned()), "{calls:?}");
    assert!(calls.iter().all(|c| !c.starts_with("reject")));
    // The port decided: the store's consent was not touched by the server.
    assert_eq!(
        f.consent_status(&consent).await.status,
        ConsentStatus::AwaitingAuthorisation
    );
}
