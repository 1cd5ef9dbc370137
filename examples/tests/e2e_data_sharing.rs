//! Data sharing end to end over loopback mTLS against the loopback bank: a
//! receiver registers with the mock directory, registers with the bank by
//! DCR with its software statement, creates a consent, pushes a signed
//! request (PAR), the customer approves (test-mode login), the code becomes
//! certificate-bound tokens, and the data APIs answer — accounts, balances,
//! transactions, credit-card bills, loans. Then the customer revokes the
//! consent in a bank channel (the management API) and the next data call and
//! the refresh are refused as the spec says.
//!
//! A fintech with the SDK's own clients (`opus-itp`, `opus-drx`): a
//! scheduled payment whose settlement reaches it by webhook, and data read
//! page by page, then revoked — with every call's CLIENT report paired with
//! the bank's SERVER report at the metrics collector.
//!
//! The data receiver's typed reads and its local accounting of the
//! monthly operational limits: it stops at the quota without calling (the
//! bank would have answered 423), starts again the next month (its token
//! renewed on the way), and never sends the customer's token outside the
//! bank's API base.
//!
//! Payments the same way: a payment consent signed both ways, authorised
//! and paid (ACSC, webhooks); scheduled payments that settle when the
//! bank's `ManualClock` reaches their date or are cancelled before it; a
//! sweeping recurring consent authorised with its `recurring-consent:`
//! scope whose token pays within the consent's limit.

// Test helpers outside #[test] functions: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use opus_core::keys::{KeyCustody, KeyPurpose};
use opus_core::{ClientId, Clock, SystemClock};
use opus_examples::bank::{LoopbackBank, TEST_CHANNEL_HEADER, sandbox_customer};
use opus_examples::journeys::pix_order;
use opus_fapi::client::{client_assertion, pkce_pair};
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
use opus_fapi::jose::jws;
use opus_fapi::mtls;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use url::Url;

const REDIRECT: &str = "https://receiver.test/callback";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const INTERACTION: &str = "0d3c6a86-4a8e-4b0b-9d57-3b6f4f3b2c10";

fn pem_certs(pem: &str) -> Vec<CertificateDer<'static>> {
    let mut out = Vec::new();
    let mut rest = pem.as_bytes();
    while let Ok((remaining, block)) = x509_parser::pem::parse_x509_pem(rest) {
        out.push(CertificateDer::from(block.contents));
        rest = remaining;
        if rest.iter().all(u8::is_ascii_whitespace) {
            break;
        }
    }
    out
}

/// An HTTPS client for one receiver: the bank's trust anchor, and its
/// transport certificate once it has one.
struct Https {
    anchors: Vec<CertificateDer<'static>>,
    identity: Option<(Vec<CertificateDer<'static>>, Vec<u8>)>,
    /// Every exchange: method, path, status and the interaction id answered.
    log: std::sync::Mutex<Vec<Exchange>>,
}

/// One exchange: method, path, status and the interaction id answered.
type Exchange = (Method, String, u16, Option<String>);

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
    /// The `x-fapi-interaction-id` sent (a fresh one per call).
    sent_interaction: Option<String>,
}

/// A URL under the bank's issuer.
fn issuer_url(bank: &LoopbackBank, path: &str) -> Url {
    Url::parse(&format!(
        "{}/{path}",
        bank.issuer().as_str().trim_end_matches('/')
    ))
    .unwrap()
}

impl Https {
    async fn get(&self, url: &Url) -> Answer {
        self.send(Method::GET, url, &[], None).await
    }

    /// Like [`Https::send`], also answering the raw body text.
    async fn send_raw(
        &self,
        method: Method,
        url: &Url,
        headers: &[(&str, String)],
        body: Option<(&str, String)>,
    ) -> (Answer, String) {
        let answer = self.send_inner(method, url, headers, body).await;
        let text = String::from_utf8_lossy(&answer.1).into_owned();
        (answer.0, text)
    }

    async fn send(
        &self,
        method: Method,
        url: &Url,
        headers: &[(&str, String)],
        body: Option<(&str, String)>,
    ) -> Answer {
        self.send_inner(method, url, headers, body).await.0
    }

    async fn send_inner(
        &self,
        method: Method,
        url: &Url,
        headers: &[(&str, String)],
        body: Option<(&str, String)>,
    ) -> (Answer, Bytes) {
        let config = match &self.identity {
            Some((chain, key)) => mtls::client_config(
                &self.anchors,
                chain.clone(),
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.clone())),
            )
            .unwrap(),
            None => {
                let mut roots = rustls::RootCertStore::empty();
                for a in &self.anchors {
                    roots.add(a.clone()).unwrap();
                }
                let mut config = rustls::ClientConfig::builder_with_provider(mtls::provider())
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                config.alpn_protocols = vec![b"http/1.1".to_vec()];
                Arc::new(config)
            }
        };
        let mut config = (*config).clone();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, url.port().unwrap()))
            .await
            .unwrap();
        let tls = TlsConnector::from(Arc::new(config))
            .connect(ServerName::IpAddress(Ipv4Addr::LOCALHOST.into()), stream)
            .await
            .unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(connection);
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, format!("127.0.0.1:{}", url.port().unwrap()));
        // Every call its own interaction id, as a real client does.
        let mut sent_interaction = None;
        for (name, value) in headers {
            if name.eq_ignore_ascii_case("x-fapi-interaction-id") {
                let fresh = uuid::Uuid::new_v4().to_string();
                request = request.header(*name, &fresh);
                sent_interaction = Some(fresh);
            } else {
                request = request.header(*name, value);
            }
        }
        let body = match body {
            Some((content_type, text)) => {
                request = request.header(header::CONTENT_TYPE, content_type);
                Full::new(Bytes::from(text))
            }
            None => Full::new(Bytes::new()),
        };
        let method = request.method_ref().cloned().unwrap_or_default();
        let response = sender
            .send_request(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        self.log.lock().unwrap().push((
            method,
            url.path().to_owned(),
            status.as_u16(),
            headers
                .get("x-fapi-interaction-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ));
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (
            Answer {
                status,
                headers,
                body,
                sent_interaction,
            },
            bytes,
        )
    }
}

fn form(pairs: &[(&str, &str)]) -> Option<(&'static str, String)> {
    Some((
        "application/x-www-form-urlencoded",
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish(),
    ))
}

/// A participant registered with the directory (role `role`) and, by DCR,
/// with the bank: its HTTPS client with the transport certificate, its
/// signing key, its client id, the bank's discovery document and what the
/// directory answered.
struct Participant {
    https: Https,
    /// The clock the participant signs with: the bank's.
    clock: Arc<dyn Clock>,
    signer: Arc<dyn opus_core::keys::JwsSigner>,
    /// The participant's keys (signing, ID-token decryption).
    custody: Arc<SoftwareKeyCustody>,
    client_id: ClientId,
    discovery: Value,
    directory: Value,
}

/// The mutual-TLS client configuration of `https`'s identity.
fn https_tls(https: &Https) -> Arc<rustls::ClientConfig> {
    let (chain, key) = https.identity.clone().unwrap();
    mtls::client_config(
        &https.anchors,
        chain,
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
    )
    .unwrap()
}

/// A participant registered with the directory, before registering with
/// the bank.
struct Enrolled {
    https: Https,
    keys: SoftwareKeyCustody,
    signer: Arc<dyn opus_core::keys::JwsSigner>,
    directory: Value,
    discovery: Value,
    webhooks: Vec<String>,
}

async fn enrol(bank: &LoopbackBank, role: &str, webhook: Option<&Url>) -> Enrolled {
    // Registered without a trailing slash, as the profile requires.
    let webhooks: Vec<&str> = webhook
        .map(|u| u.as_str().trim_end_matches('/'))
        .into_iter()
        .collect();
    let mut https = Https {
        anchors: pem_certs(bank.ca_pem()),
        identity: None,
        log: std::sync::Mutex::new(Vec::new()),
    };

    // 1. The receiver's keys, and its registration with the directory.
    let keys = SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::generate_rsa("receiver-sig").unwrap())
        .encryption_key(SoftwareKey::generate_rsa("receiver-enc").unwrap())
        .build()
        .unwrap();
    let signer = keys.signer(KeyPurpose::MessageSigning).await.unwrap();
    let transport_key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .serialize_request(&transport_key)
        .unwrap()
        .pem()
        .unwrap();
    let registration = https
        .send(
            Method::POST,
            &bank.test_registration_url().unwrap(),
            &[],
            Some((
                "application/json",
                json!({
                    "client_name": "Receptora de Teste",
                    "roles": [role],
                    "redirect_uris": [REDIRECT],
                    "webhook_uris": webhooks,
                    "jwks": keys.public_jwks().await.unwrap(),
                    "transport_csr_pem": csr,
                })
                .to_string(),
            )),
        )
        .await;
    assert_eq!(
        registration.status,
        StatusCode::CREATED,
        "{}",
        registration.body
    );
    let directory = registration.body;
    let mut chain = pem_certs(directory["transport_certificate_pem"].as_str().unwrap());
    chain.extend(pem_certs(directory["ca_pem"].as_str().unwrap()));
    https.identity = Some((chain, transport_key.serialize_der()));
    let discovery = https
        .get(&issuer_url(bank, ".well-known/openid-configuration"))
        .await
        .body;
    Enrolled {
        https,
        keys,
        signer,
        directory,
        discovery,
        webhooks: webhooks.iter().map(|w| (*w).to_owned()).collect(),
    }
}

/// The registration metadata of `enrolled` (its software statement apart).
fn registration_metadata(enrolled: &Enrolled) -> Value {
    json!({
        "redirect_uris": [REDIRECT],
        "webhook_uris": enrolled.webhooks,
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "PS256",
        "grant_types": ["authorization_code", "implicit", "refresh_token", "client_credentials"],
        "response_types": ["code id_token"],
        "id_token_signed_response_alg": "PS256",
        "id_token_encrypted_response_alg": "RSA-OAEP",
        "id_token_encrypted_response_enc": "A256GCM",
        "request_object_signing_alg": "PS256",
        "jwks_uri": enrolled.directory["software_jwks_uri"],
    })
}

impl Enrolled {
    fn participant(self, bank: &LoopbackBank, client_id: ClientId) -> Participant {
        Participant {
            https: self.https,
            clock: bank.clock(),
            signer: self.signer,
            custody: Arc::new(self.keys),
            client_id,
            discovery: self.discovery,
            directory: self.directory,
        }
    }
}

async fn join(bank: &LoopbackBank, role: &str, webhook: Option<&Url>) -> Participant {
    let enrolled = enrol(bank, role, webhook).await;
    // DCR by hand, with the software statement.
    let endpoint = |name: &str| {
        Url::parse(
            enrolled.discovery["mtls_endpoint_aliases"][name]
                .as_str()
                .or_else(|| enrolled.discovery[name].as_str())
                .unwrap(),
        )
        .unwrap()
    };
    let mut metadata = registration_metadata(&enrolled);
    metadata["software_statement"] = enrolled.directory["software_statement"].clone();
    let dcr = enrolled
        .https
        .send(
            Method::POST,
            &endpoint("registration_endpoint"),
            &[],
            Some(("application/json", metadata.to_string())),
        )
        .await;
    assert_eq!(dcr.status, StatusCode::CREATED, "{}", dcr.body);
    let client_id = ClientId::new(dcr.body["client_id"].as_str().unwrap()).unwrap();
    enrolled.participant(bank, client_id)
}

impl Participant {
    /// A signed call (payments family): `data` signed with `iss`, `aud`
    /// (the URL called), `iat` and a fresh `jti`, sent with `token` and an
    /// idempotency key; the answer's signed payload (or plain body).
    async fn signed(
        &self,
        method: Method,
        url: &Url,
        token: &str,
        data: Option<Value>,
        bank_keys: &opus_core::keys::JwkSet,
    ) -> (StatusCode, Value) {
        let headers = vec![
            ("authorization", format!("Bearer {token}")),
            ("x-fapi-interaction-id", INTERACTION.to_owned()),
            ("x-idempotency-key", uuid::Uuid::new_v4().to_string()),
        ];
        let body = match data {
            Some(data) => Some((
                "application/jwt",
                jws::sign_claims(
                    self.signer.as_ref(),
                    Some("JWT"),
                    &json!({
                        "data": data,
                        "iss": self.directory["org_id"],
                        "aud": url.as_str(),
                        "iat": self.clock.now().unix_seconds(),
                        "jti": uuid::Uuid::new_v4().to_string(),
                    }),
                )
                .await
                .unwrap(),
            )),
            None => None,
        };
        let (answer, raw) = self.https.send_raw(method, url, &headers, body).await;
        if answer
            .headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v == "application/jwt")
        {
            (answer.status, signed_payload(&answer, &raw, bank_keys))
        } else {
            (answer.status, answer.body)
        }
    }

    fn endpoint(&self, name: &str) -> Url {
        Url::parse(
            self.discovery["mtls_endpoint_aliases"][name]
                .as_str()
                .or_else(|| self.discovery[name].as_str())
                .unwrap(),
        )
        .unwrap()
    }

    async fn assertion(&self, audience: &Url) -> String {
        client_assertion(
            self.signer.as_ref(),
            &self.client_id,
            audience.as_str(),
            self.clock.now(),
            Duration::from_secs(60),
        )
        .await
        .unwrap()
    }

    /// A token from the token endpoint for `grant` (form pairs).
    async fn token(&self, grant: &[(&str, &str)]) -> Answer {
        let endpoint = self.endpoint("token_endpoint");
        let assertion = self.assertion(&endpoint).await;
        let mut pairs = grant.to_vec();
        pairs.extend([
            ("client_id", self.client_id.as_str()),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ]);
        self.https
            .send(Method::POST, &endpoint, &[], form(&pairs))
            .await
    }

    /// PAR for `scope` with a signed request object, the browser's redirect
    /// chain through the test-mode login back to the callback, and the code
    /// exchange: the callback's fragment and the token response.
    async fn authorise(&self, issuer: &str, scope: &str) -> (BTreeMap<String, String>, Answer) {
        let (verifier, challenge) = pkce_pair().unwrap();
        let now = self.clock.now().unix_seconds();
        let request_object = jws::sign_claims(
            self.signer.as_ref(),
            Some("oauth-authz-req+jwt"),
            &json!({
                "iss": self.client_id.as_str(),
                "aud": issuer,
                "client_id": self.client_id.as_str(),
                "response_type": "code id_token",
                "redirect_uri": REDIRECT,
                "scope": scope,
                "state": "e2e-state",
                "nonce": "e2e-nonce",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "nbf": now,
                "exp": now + 300,
                "jti": uuid::Uuid::new_v4().to_string(),
                "acr_values": "urn:brasil:openbanking:loa2",
            }),
        )
        .await
        .unwrap();
        let par_endpoint = self.endpoint("pushed_authorization_request_endpoint");
        let assertion = self.assertion(&par_endpoint).await;
        let par = self
            .https
            .send(
                Method::POST,
                &par_endpoint,
                &[],
                form(&[
                    ("client_id", self.client_id.as_str()),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", &assertion),
                    ("request", &request_object),
                ]),
            )
            .await;
        assert_eq!(par.status, StatusCode::CREATED, "{}", par.body);
        let mut at =
            Url::parse(self.discovery["authorization_endpoint"].as_str().unwrap()).unwrap();
        at.query_pairs_mut()
            .append_pair("client_id", self.client_id.as_str())
            .append_pair("request_uri", par.body["request_uri"].as_str().unwrap());
        let callback = loop {
            let answer = self.https.send(Method::GET, &at, &[], None).await;
            assert_eq!(
                answer.status,
                StatusCode::SEE_OTHER,
                "{at}: {}",
                answer.body
            );
            let next = answer.headers[header::LOCATION]
                .to_str()
                .unwrap()
                .to_owned();
            if next.starts_with(REDIRECT) {
                break Url::parse(&next).unwrap();
            }
            at = Url::parse(&next).unwrap();
        };
        let fragment: BTreeMap<String, String> =
            url::form_urlencoded::parse(callback.fragment().unwrap().as_bytes())
                .into_owned()
                .collect();
        let tokens = self
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", &fragment["code"]),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &verifier),
            ])
            .await;
        (fragment, tokens)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dcr_consent_authorise_data_then_revocation_in_a_bank_channel() {
    let bank = LoopbackBank::start().await.unwrap();
    let clock = SystemClock;
    let receiver = join(&bank, "DADOS", None).await;
    let https = &receiver.https;

    // 3. A consent through the Consents API with a client-credentials token.
    let token = receiver
        .token(&[("grant_type", "client_credentials"), ("scope", "consents")])
        .await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.body);
    let cc = token.body["access_token"].as_str().unwrap().to_owned();
    let customer = sandbox_customer().unwrap();
    let api_headers = |token: &str| {
        vec![
            ("authorization", format!("Bearer {token}")),
            ("x-fapi-interaction-id", INTERACTION.to_owned()),
            (
                "x-fapi-auth-date",
                "Sun, 29 Nov 2026 10:00:00 GMT".to_owned(),
            ),
            ("x-fapi-customer-ip-address", "127.0.0.1".to_owned()),
        ]
    };
    let expiration = clock
        .now()
        .saturating_add(Duration::from_secs(90 * 86_400))
        .truncated_to_seconds();
    let created = https
        .send(
            Method::POST,
            &bank.consents_url().unwrap(),
            &api_headers(&cc),
            Some((
                "application/json",
                json!({"data": {
                    "loggedUser": {"document": {"identification": customer.as_str(), "rel": "CPF"}},
                    "permissions": [
                        "ACCOUNTS_READ", "ACCOUNTS_BALANCES_READ", "ACCOUNTS_TRANSACTIONS_READ",
                        "CREDIT_CARDS_ACCOUNTS_READ", "CREDIT_CARDS_ACCOUNTS_BILLS_READ",
                        "CREDIT_CARDS_ACCOUNTS_BILLS_TRANSACTIONS_READ",
                        "LOANS_READ", "LOANS_WARRANTIES_READ", "LOANS_SCHEDULED_INSTALMENTS_READ",
                        "LOANS_PAYMENTS_READ", "FINANCINGS_READ", "FINANCINGS_WARRANTIES_READ",
                        "FINANCINGS_SCHEDULED_INSTALMENTS_READ", "FINANCINGS_PAYMENTS_READ",
                        "INVOICE_FINANCINGS_READ", "INVOICE_FINANCINGS_WARRANTIES_READ",
                        "INVOICE_FINANCINGS_SCHEDULED_INSTALMENTS_READ", "INVOICE_FINANCINGS_PAYMENTS_READ",
                        "UNARRANGED_ACCOUNTS_OVERDRAFT_READ", "UNARRANGED_ACCOUNTS_OVERDRAFT_WARRANTIES_READ",
                        "UNARRANGED_ACCOUNTS_OVERDRAFT_SCHEDULED_INSTALMENTS_READ",
                        "UNARRANGED_ACCOUNTS_OVERDRAFT_PAYMENTS_READ", "RESOURCES_READ"
                    ],
                    "expirationDateTime": expiration,
                }})
                .to_string(),
            )),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.headers["x-fapi-interaction-id"].to_str().unwrap(),
        created.sent_interaction.as_deref().unwrap()
    );
    let consent_id = created.body["data"]["consentId"]
        .as_str()
        .unwrap()
        .to_owned();

    // 4. PAR with a signed request object, then the front channel.
    let issuer = bank.issuer().as_str().trim_end_matches('/').to_owned();
    let (fragment, exchanged) = receiver
        .authorise(
            &issuer,
            &format!("openid accounts credit-cards-accounts loans resources consent:{consent_id}"),
        )
        .await;
    assert_eq!(fragment["state"], "e2e-state");
    assert!(fragment.contains_key("id_token"));
    assert_eq!(exchanged.status, StatusCode::OK, "{}", exchanged.body);
    let access = exchanged.body["access_token"].as_str().unwrap().to_owned();
    let refresh = exchanged.body["refresh_token"].as_str().unwrap().to_owned();

    // 5. The data.
    let get = |path: String| {
        let url = bank.api_url(&path).unwrap();
        let headers = api_headers(&access);
        let https = &https;
        async move { https.send(Method::GET, &url, &headers, None).await }
    };
    let resources = get("open-banking/resources/v3/resources".into()).await;
    assert_eq!(resources.status, StatusCode::OK, "{}", resources.body);
    let accounts = get("open-banking/accounts/v2/accounts".into()).await;
    assert_eq!(accounts.status, StatusCode::OK, "{}", accounts.body);
    let account = accounts.body["data"][0]["accountId"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        format!("open-banking/accounts/v2/accounts/{account}/balances"),
        format!("open-banking/accounts/v2/accounts/{account}/transactions-current"),
    ] {
        let answer = get(path.clone()).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        assert_eq!(
            answer.headers["x-fapi-interaction-id"].to_str().unwrap(),
            answer.sent_interaction.as_deref().unwrap()
        );
    }
    let cards = get("open-banking/credit-cards-accounts/v2/accounts".into()).await;
    assert_eq!(cards.status, StatusCode::OK, "{}", cards.body);
    let card = cards.body["data"][0]["creditCardAccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    let bills = get(format!(
        "open-banking/credit-cards-accounts/v2/accounts/{card}/bills"
    ))
    .await;
    assert_eq!(bills.status, StatusCode::OK, "{}", bills.body);
    let loans = get("open-banking/loans/v2/contracts".into()).await;
    assert_eq!(loans.status, StatusCode::OK, "{}", loans.body);
    let loan = loans.body["data"][0]["contractId"]
        .as_str()
        .unwrap()
        .to_owned();
    let instalments = get(format!(
        "open-banking/loans/v2/contracts/{loan}/scheduled-instalments"
    ))
    .await;
    assert_eq!(instalments.status, StatusCode::OK, "{}", instalments.body);
    // Not granted: the customer's registration data.
    let customers = get("open-banking/customers/v2/personal/identifications".into()).await;
    assert_eq!(
        customers.status,
        StatusCode::FORBIDDEN,
        "{}",
        customers.body
    );

    // 6. The customer revokes in the bank's app (the management API).
    let channels = bank.channels_url().unwrap();
    let mine = https
        .send(
            Method::GET,
            &channels,
            &[(TEST_CHANNEL_HEADER, customer.as_str().to_owned())],
            None,
        )
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert!(
        mine.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["consentId"] == consent_id.as_str())
    );
    let revoke_url = Url::parse(&format!("{channels}/{consent_id}/revoke")).unwrap();
    let revoked = https
        .send(
            Method::POST,
            &revoke_url,
            &[(TEST_CHANNEL_HEADER, customer.as_str().to_owned())],
            Some((
                "application/json",
                json!({"rejectedBy": "USER"}).to_string(),
            )),
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);

    // 7. The next data call and the refresh are refused.
    let after = get("open-banking/accounts/v2/accounts".into()).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.body);
    let refreshed = receiver
        .token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)])
        .await;
    assert_eq!(
        refreshed.status,
        StatusCode::BAD_REQUEST,
        "{}",
        refreshed.body
    );
    assert_eq!(refreshed.body["error"], "invalid_grant");
    // The receiver sees the revocation in the Consents API.
    let token = receiver
        .token(&[("grant_type", "client_credentials"), ("scope", "consents")])
        .await;
    let cc = token.body["access_token"].as_str().unwrap().to_owned();
    let consent_url =
        Url::parse(&format!("{}/{consent_id}", bank.consents_url().unwrap())).unwrap();
    let seen = https
        .send(Method::GET, &consent_url, &api_headers(&cc), None)
        .await;
    assert_eq!(seen.body["data"]["status"], "REJECTED", "{}", seen.body);
    assert_eq!(seen.body["data"]["rejection"]["rejectedBy"], "USER");
    assert_eq!(
        seen.body["data"]["rejection"]["reason"]["code"],
        "CUSTOMER_MANUALLY_REVOKED"
    );
    // The public catalogue, with no certificate at all.
    let public = Https {
        anchors: pem_certs(bank.ca_pem()),
        identity: None,
        log: std::sync::Mutex::new(Vec::new()),
    };
    for path in [
        "open-banking/channels/v1/branches",
        "open-banking/opendata-accounts/v1/personal-accounts?page-size=10",
    ] {
        let answer = public.get(&bank.api_url(path).unwrap()).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
    }
    every_call_reported_once(&bank, &[&receiver]).await;
    // Open-data calls come as open-data reports (no caller, its address).
    let opendata: Vec<Value> = bank.metrics_collector().opendata_reports();
    let endpoints: Vec<&str> = opendata
        .iter()
        .map(|r| r["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(
        endpoints,
        [
            "/open-banking/channels/v1/branches",
            "/open-banking/opendata-accounts/v1/personal-accounts"
        ]
    );
    assert_eq!(opendata[0]["additionalInfo"]["clientIp"], "127.0.0.1");
    // The hybrid flow, step by step, as the institution saw it.
    let steps: Vec<(String, Value)> = bank
        .metrics_collector()
        .hybrid_flow_reports()
        .into_iter()
        .filter(|(_, r)| r["consentId"] == consent_id.as_str())
        .collect();
    let events: Vec<&str> = steps.iter().map(|(e, _)| e.as_str()).collect();
    // (`redirect-target` named the IP-addressed issuer: see above.)
    assert_eq!(
        events,
        ["server/authenticated", "server/redirect-to-client"]
    );
    assert_eq!(steps[1].1["type"], "AUTHORISED");
    assert_eq!(steps[1].1["uri_callback"], REDIRECT);
    assert_eq!(steps[1].1["Platform"], "browser");
    bank.stop().await;
}

/// The bank's signed answer (`application/jwt`), checked with its keys.
fn signed_payload(answer: &Answer, raw: &str, keys: &opus_core::keys::JwkSet) -> Value {
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/jwt");
    let verified = jws::verify(raw, keys, &jws::JwsPolicy::ofb()).unwrap();
    serde_json::to_value(verified.claims().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_consent_signed_both_ways_is_authorised_by_the_customer() {
    let bank = LoopbackBank::start().await.unwrap();
    let receiver = Receiver::start(&bank).await;
    let initiator = join(&bank, "PAGTO", Some(&receiver.url)).await;
    let org = initiator.directory["org_id"].as_str().unwrap().to_owned();
    let cc = initiator
        .token(&[("grant_type", "client_credentials"), ("scope", "payments")])
        .await;
    assert_eq!(cc.status, StatusCode::OK, "{}", cc.body);
    let cc = cc.body["access_token"].as_str().unwrap().to_owned();
    let consents = bank.payment_consents_url().unwrap();
    let today = SystemClock.now().date_in_brasilia().to_string();
    let now = SystemClock.now().unix_seconds();
    let request = jws::sign_claims(
        initiator.signer.as_ref(),
        Some("JWT"),
        &json!({
            "data": {
                "loggedUser": {"document": {"identification": sandbox_customer().unwrap().as_str(), "rel": "CPF"}},
                "creditor": {"personType": "PESSOA_NATURAL", "cpfCnpj": "11144477735", "name": "João Souza"},
                "payment": {
                    "type": "PIX", "date": today, "currency": "BRL", "amount": "150.00",
                    "details": {"localInstrument": "DICT", "proxy": "joao@example.com",
                        "creditorAccount": {"ispb": "12345678", "issuer": "1774", "number": "1234567890", "accountType": "CACC"}}
                }
            },
            "iss": org,
            "aud": consents.as_str(),
            "iat": now,
            "jti": uuid::Uuid::new_v4().to_string(),
        }),
    )
    .await
    .unwrap();
    let headers = vec![
        ("authorization", format!("Bearer {cc}")),
        ("x-fapi-interaction-id", INTERACTION.to_owned()),
        ("x-idempotency-key", uuid::Uuid::new_v4().to_string()),
    ];
    let raw = initiator
        .https
        .send_raw(
            Method::POST,
            &consents,
            &headers,
            Some(("application/jwt", request)),
        )
        .await;
    let bank_keys: opus_core::keys::JwkSet =
        serde_json::from_value(initiator.https.get(&issuer_url(&bank, "jwks")).await.body).unwrap();
    assert_eq!(raw.0.status, StatusCode::CREATED, "{}", raw.1);
    let created = signed_payload(&raw.0, &raw.1, &bank_keys);
    assert_eq!(created["aud"], org.as_str());
    assert_eq!(created["iss"], bank.organisation_id().to_string());
    assert_eq!(created["data"]["status"], "AWAITING_AUTHORISATION");
    let consent_id = created["data"]["consentId"].as_str().unwrap().to_owned();

    // The customer approves at the bank; the code becomes tokens.
    let issuer = bank.issuer().as_str().trim_end_matches('/').to_owned();
    let (_, tokens) = initiator
        .authorise(&issuer, &format!("openid payments consent:{consent_id}"))
        .await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    assert!(
        tokens.body["scope"]
            .as_str()
            .unwrap()
            .contains(&format!("consent:{consent_id}"))
    );

    // The consent is AUTHORISED, read in a signed answer.
    let read_url = Url::parse(&format!("{consents}/{consent_id}")).unwrap();
    let raw = initiator
        .https
        .send_raw(Method::GET, &read_url, &headers[..2], None)
        .await;
    assert_eq!(raw.0.status, StatusCode::OK, "{}", raw.1);
    let read = signed_payload(&raw.0, &raw.1, &bank_keys);
    assert_eq!(read["data"]["status"], "AUTHORISED", "{read}");
    assert_eq!(
        read["data"]["debtorAccount"]["accountType"], "CACC",
        "{read}"
    );

    // The Pix payment, with the customer's token for the consent.
    let access = tokens.body["access_token"].as_str().unwrap().to_owned();
    let pix = bank.pix_payments_url().unwrap();
    let compact: String = today.chars().filter(char::is_ascii_digit).collect();
    let order = jws::sign_claims(
        initiator.signer.as_ref(),
        Some("JWT"),
        &json!({
            "data": [{
                "endToEndId": format!("E12345678{compact}1200AbCdEfGhIjK"),
                "localInstrument": "DICT",
                "payment": {"amount": "150.00", "currency": "BRL"},
                "creditorAccount": {"ispb": "12345678", "issuer": "1774", "number": "1234567890", "accountType": "CACC"},
                "proxy": "joao@example.com",
                "cnpjInitiator": "11222333000181",
            }],
            "iss": org,
            "aud": pix.as_str(),
            "iat": SystemClock.now().unix_seconds(),
            "jti": uuid::Uuid::new_v4().to_string(),
        }),
    )
    .await
    .unwrap();
    let paid = initiator
        .https
        .send_raw(
            Method::POST,
            &pix,
            &[
                ("authorization", format!("Bearer {access}")),
                ("x-fapi-interaction-id", INTERACTION.to_owned()),
                ("x-idempotency-key", uuid::Uuid::new_v4().to_string()),
            ],
            Some(("application/jwt", order)),
        )
        .await;
    assert_eq!(paid.0.status, StatusCode::CREATED, "{}", paid.1);
    let paid = signed_payload(&paid.0, &paid.1, &bank_keys);
    assert_eq!(paid["data"][0]["status"], "ACSC", "{paid}");
    let payment_id = paid["data"][0]["paymentId"].as_str().unwrap().to_owned();

    // The initiator hears about it through its webhook, then reads it.
    let pass = bank.deliver_webhooks().await.unwrap();
    // Consent authorised and consumed, payment received and settled.
    assert_eq!(pass.delivered, 4, "{pass:?}");
    let seen = receiver.seen.lock().unwrap().clone();
    assert!(seen.contains(&format!(
        "/open-banking/webhook/v1/payments/v4/pix/payments/{payment_id}"
    )));
    assert!(seen.contains(&format!(
        "/open-banking/webhook/v1/payments/v4/consents/{consent_id}"
    )));
    let raw = initiator
        .https
        .send_raw(
            Method::GET,
            &Url::parse(&format!("{pix}/{payment_id}")).unwrap(),
            &headers[..2],
            None,
        )
        .await;
    assert_eq!(raw.0.status, StatusCode::OK, "{}", raw.1);
    assert_eq!(
        signed_payload(&raw.0, &raw.1, &bank_keys)["data"]["status"],
        "ACSC"
    );
    every_call_reported_once(&bank, &[&initiator]).await;
    bank.stop().await;
}

/// The initiator's webhook endpoint: mTLS with a certificate the bank
/// trusts, answering 202 and recording the paths it was called on.
struct Receiver {
    url: Url,
    seen: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Receiver {
    async fn start(bank: &LoopbackBank) -> Self {
        let leaf = bank.receiver_certificate(&["127.0.0.1"]).unwrap();
        let (chain, key) = mtls::identity(&leaf.chain_der, leaf.key_pkcs8_der.expose());
        let tls = mtls::server_config(
            chain,
            key,
            &pem_certs(bank.ca_pem()),
            mtls::ClientCertPolicy::Required,
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        ))
        .unwrap();
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let recorded = seen.clone();
        let service = tower::service_fn(move |request: Request<hyper::body::Incoming>| {
            let recorded = recorded.clone();
            async move {
                recorded
                    .lock()
                    .unwrap()
                    .push(request.uri().path().to_owned());
                let mut response = http::Response::new(Full::new(Bytes::new()));
                *response.status_mut() = StatusCode::ACCEPTED;
                Ok::<_, std::convert::Infallible>(response)
            }
        });
        tokio::spawn(mtls::serve(
            listener,
            Some(tls),
            service,
            std::future::pending(),
        ));
        Self { url, seen }
    }
}

/// What a scheduled payment needs: an authorised consent for `date` and the
/// customer's token for it.
async fn scheduled_consent(
    bank: &LoopbackBank,
    initiator: &Participant,
    cc: &str,
    date: &str,
    keys: &opus_core::keys::JwkSet,
) -> (String, String) {
    let (status, created) = initiator
        .signed(
            Method::POST,
            &bank.payment_consents_url().unwrap(),
            cc,
            Some(json!({
                "loggedUser": {"document": {"identification": sandbox_customer().unwrap().as_str(), "rel": "CPF"}},
                "creditor": {"personType": "PESSOA_NATURAL", "cpfCnpj": "11144477735", "name": "João Souza"},
                "payment": {
                    "type": "PIX", "schedule": {"single": {"date": date}}, "currency": "BRL", "amount": "80.00",
                    "details": {"localInstrument": "MANU",
                        "creditorAccount": {"ispb": "12345678", "issuer": "1774", "number": "1234567890", "accountType": "CACC"}}
                }
            })),
            keys,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let consent = created["data"]["consentId"].as_str().unwrap().to_owned();
    let issuer = bank.issuer().as_str().trim_end_matches('/').to_owned();
    let (_, tokens) = initiator
        .authorise(&issuer, &format!("openid payments consent:{consent}"))
        .await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    (
        consent,
        tokens.body["access_token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_payments_settle_on_their_date_or_are_cancelled() {
    let clock = Arc::new(opus_testkit::ManualClock::at(SystemClock.now()));
    let bank = LoopbackBank::start_with_clock(clock.clone()).await.unwrap();
    let receiver = Receiver::start(&bank).await;
    let initiator = join(&bank, "PAGTO", Some(&receiver.url)).await;
    let keys: opus_core::keys::JwkSet =
        serde_json::from_value(initiator.https.get(&issuer_url(&bank, "jwks")).await.body).unwrap();
    let cc = initiator
        .token(&[("grant_type", "client_credentials"), ("scope", "payments")])
        .await;
    let cc = cc.body["access_token"].as_str().unwrap().to_owned();
    let due = clock
        .now()
        .date_in_brasilia()
        .add_days(2)
        .unwrap()
        .to_string();
    let pix = bank.pix_payments_url().unwrap();

    // Two payments scheduled for the same day: SCHD both.
    let mut ids = Vec::new();
    for n in 1..=2 {
        let (_, access) = scheduled_consent(&bank, &initiator, &cc, &due, &keys).await;
        let (status, paid) = initiator
            .signed(Method::POST, &pix, &access, Some(pix_order(&due, n)), &keys)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{paid}");
        assert_eq!(paid["data"][0]["status"], "SCHD", "{paid}");
        ids.push(paid["data"][0]["paymentId"].as_str().unwrap().to_owned());
    }

    // The payer cancels the second one through the initiator: CANC.
    let second = Url::parse(&format!("{pix}/{}", ids[1])).unwrap();
    let (status, cancelled) = initiator
        .signed(
            Method::PATCH,
            &second,
            &cc,
            Some(json!({"status": "CANC", "cancellation": {"cancelledBy": {"document": {"identification": sandbox_customer().unwrap().as_str(), "rel": "CPF"}}}})),
            &keys,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["data"]["status"], "CANC");
    assert_eq!(
        cancelled["data"]["cancellation"]["reason"],
        "CANCELADO_AGENDAMENTO"
    );

    // The clock reaches the date: the scheduler settles what is still due.
    clock.advance(Duration::from_secs(2 * 86_400));
    let date = clock.now().date_in_brasilia();
    assert_eq!(date.to_string(), due);
    assert_eq!(bank.settle_due(date).await.unwrap(), 1);
    let cc = initiator
        .token(&[("grant_type", "client_credentials"), ("scope", "payments")])
        .await;
    assert_eq!(cc.status, StatusCode::OK, "{}", cc.body);
    let cc = cc.body["access_token"].as_str().unwrap().to_owned();
    let first = Url::parse(&format!("{pix}/{}", ids[0])).unwrap();
    let (status, read) = initiator
        .signed(Method::GET, &first, &cc, None, &keys)
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["data"]["status"], "ACSC", "{read}");
    let (_, read) = initiator
        .signed(Method::GET, &second, &cc, None, &keys)
        .await;
    assert_eq!(read["data"]["status"], "CANC", "{read}");

    // Every change reached the initiator's webhook.
    bank.deliver_webhooks().await.unwrap();
    let seen = receiver.seen.lock().unwrap().clone();
    for id in &ids {
        assert!(
            seen.iter()
                .any(|p| p.ends_with(&format!("/pix/payments/{id}"))),
            "{id}: {seen:?}"
        );
    }
    every_call_reported_once(&bank, &[&initiator]).await;
    bank.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweeping_consent_is_authorised_with_its_recurring_scope_and_pays() {
    let bank = LoopbackBank::start().await.unwrap();
    let initiator = join(&bank, "PAGTO", None).await;
    let keys: opus_core::keys::JwkSet =
        serde_json::from_value(initiator.https.get(&issuer_url(&bank, "jwks")).await.body).unwrap();
    let cc = initiator
        .token(&[
            ("grant_type", "client_credentials"),
            ("scope", "recurring-payments"),
        ])
        .await;
    assert_eq!(cc.status, StatusCode::OK, "{}", cc.body);
    let cc = cc.body["access_token"].as_str().unwrap().to_owned();
    let customer = sandbox_customer().unwrap();
    let (status, created) = initiator
        .signed(
            Method::POST,
            &bank.recurring_consents_url().unwrap(),
            &cc,
            Some(json!({
                "loggedUser": {"document": {"identification": customer.as_str(), "rel": "CPF"}},
                "creditors": [{"personType": "PESSOA_NATURAL", "cpfCnpj": customer.as_str(), "name": "Cliente Sandbox"}],
                "recurringConfiguration": {"sweeping": {"transactionLimit": "100.00"}},
            })),
            &keys,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let consent = created["data"]["recurringConsentId"]
        .as_str()
        .unwrap()
        .to_owned();

    let issuer = bank.issuer().as_str().trim_end_matches('/').to_owned();
    let (_, tokens) = initiator
        .authorise(
            &issuer,
            &format!("openid recurring-payments recurring-consent:{consent}"),
        )
        .await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    assert!(tokens.body["refresh_token"].is_string());
    let access = tokens.body["access_token"].as_str().unwrap().to_owned();

    let today = SystemClock.now().date_in_brasilia().to_string();
    let compact: String = today.chars().filter(char::is_ascii_digit).collect();
    let payments = bank.recurring_payments_url().unwrap();
    let sweep = |n: u32, amount: &str| {
        json!({
            "endToEndId": format!("E12345678{compact}1500{n:011}"),
            "date": today,
            "payment": {"amount": amount, "currency": "BRL"},
            "creditorAccount": {"ispb": "12345678", "issuer": "0001", "number": "9876543", "accountType": "SVGS"},
            "cnpjInitiator": "11222333000181",
            "localInstrument": "MANU",
            "document": {"identification": customer.as_str(), "rel": "CPF"},
        })
    };
    let (status, paid) = initiator
        .signed(
            Method::POST,
            &payments,
            &access,
            Some(sweep(1, "60.00")),
            &keys,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["data"]["status"], "ACSC", "{paid}");
    // The same token pays again, within the consent's limit only.
    let (status, refused) = initiator
        .signed(
            Method::POST,
            &payments,
            &access,
            Some(sweep(2, "150.00")),
            &keys,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(
        refused["errors"][0]["code"],
        "LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO"
    );
    // What the governance and the bank's operators see.
    let status = initiator.https.get(&bank.status_url().unwrap()).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert_eq!(status.body["data"]["status"][0]["code"], "OK");
    let sla = initiator
        .https
        .send(
            Method::GET,
            &Url::parse(&format!("{}/sla", bank.back_office_url().unwrap())).unwrap(),
            &[(opus_examples::bank::TEST_OPERATOR_HEADER, "ana".to_owned())],
            None,
        )
        .await;
    assert_eq!(sla.status, StatusCode::OK, "{}", sla.body);
    let served: Vec<&str> = sla.body["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["endpoint"].as_str().unwrap())
        .collect();
    assert!(
        served.contains(&"/open-banking/automatic-payments/v2/pix/recurring-payments"),
        "{served:?}"
    );
    every_call_reported_once(&bank, &[&initiator]).await;
    bank.stop().await;
}

/// Every call `participants` made to a listed endpoint has exactly one
/// SERVER report at the metrics collector, with its template, method,
/// status and the caller's organisation; and nothing else was reported.
async fn every_call_reported_once(bank: &LoopbackBank, participants: &[&Participant]) {
    let pass = bank.send_reports().await.unwrap();
    // The loopback bank's issuer is an IP address, which the collector's
    // URI pattern refuses in `redirect-target` reports; nothing else may
    // be discarded (a real issuer has a DNS name).
    let discarded = bank.metrics_collector().discarded();
    assert!(
        discarded
            .iter()
            .all(|d| d.contains("127.0.0.1") && d.ends_with("at /uriAuthorizationEndpoint")),
        "{pass:?} {discarded:?}"
    );
    let collector = bank.metrics_collector();
    let catalogue = opus_pcm::EndpointCatalogue::default();
    let mut expected = 0;
    for participant in participants {
        let org = participant.directory["org_id"].as_str().unwrap();
        let log = participant.https.log.lock().unwrap().clone();
        for (method, path, status, interaction) in log {
            let Some(opus_pcm::Endpoint::Private { template, .. }) = catalogue.classify(&path)
            else {
                continue;
            };
            if participant.https.identity.is_none() {
                continue;
            }
            expected += 1;
            let id = interaction.unwrap_or_else(|| panic!("{method} {path}: no interaction id"));
            let reports = collector.reports_of("SERVER", &id);
            assert_eq!(reports.len(), 1, "{method} {path} ({id}): {reports:?}");
            let report = &reports[0];
            assert_eq!(report["endpoint"], template.as_str());
            assert_eq!(report["httpMethod"], method.as_str());
            assert_eq!(report["statusCode"], status);
            assert_eq!(report["clientOrgId"], org);
            assert_eq!(report["serverOrgId"], bank.organisation_id().to_string());
        }
    }
    assert!(expected > 0);
    assert_eq!(collector.reports().len(), expected, "nothing else reported");
}

/// Collects what the ECS JSON layer writes.
#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process's log, as JSON lines: installed once, for every thread (a
/// thread-scoped subscriber misses events whose call sites other tests
/// registered first). Whatever the other tests log lands here too.
fn process_log() -> &'static LogBuffer {
    static LOG: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        use tracing_subscriber::layer::SubscriberExt;
        let buffer = LogBuffer::default();
        let writer: Arc<std::sync::Mutex<dyn std::io::Write + Send>> =
            Arc::new(std::sync::Mutex::new(buffer.clone()));
        let subscriber =
            tracing_subscriber::registry().with(opus_pcm::observe::EcsJsonLayer::new(writer));
        tracing::subscriber::set_global_default(subscriber).unwrap();
        buffer
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_log_of_each_call_carries_its_interaction_id_and_no_personal_data() {
    let buffer = process_log();

    let bank = LoopbackBank::start().await.unwrap();
    let receiver = join(&bank, "DADOS", None).await;
    let cc = receiver
        .token(&[("grant_type", "client_credentials"), ("scope", "consents")])
        .await;
    let cc = cc.body["access_token"].as_str().unwrap().to_owned();
    let customer = sandbox_customer().unwrap();
    let headers = |token: &str| {
        vec![
            ("authorization", format!("Bearer {token}")),
            ("x-fapi-interaction-id", INTERACTION.to_owned()),
        ]
    };
    let created = receiver
        .https
        .send(
            Method::POST,
            &bank.consents_url().unwrap(),
            &headers(&cc),
            Some((
                "application/json",
                json!({"data": {
                    "loggedUser": {"document": {"identification": customer.as_str(), "rel": "CPF"}},
                    "permissions": ["CUSTOMERS_PERSONAL_IDENTIFICATIONS_READ", "RESOURCES_READ"],
                    "expirationDateTime": SystemClock.now().saturating_add(Duration::from_secs(86_400)).truncated_to_seconds(),
                }})
                .to_string(),
            )),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let consent = created.body["data"]["consentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let issuer = bank.issuer().as_str().trim_end_matches('/').to_owned();
    let (_, tokens) = receiver
        .authorise(&issuer, &format!("openid customers consent:{consent}"))
        .await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    let access = tokens.body["access_token"].as_str().unwrap().to_owned();
    let identification = receiver
        .https
        .send(
            Method::GET,
            &bank
                .api_url("open-banking/customers/v2/personal/identifications")
                .unwrap(),
            &headers(&access),
            None,
        )
        .await;
    assert_eq!(
        identification.status,
        StatusCode::OK,
        "{}",
        identification.body
    );
    let name = identification.body["data"][0]["civilName"]
        .as_str()
        .unwrap()
        .to_owned();
    let call = identification.sent_interaction.clone().unwrap();
    bank.stop().await;

    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    // Every line logged while serving a request names its call.
    for line in lines.iter().filter(|l| l.get("url.path").is_some()) {
        let id = line["transaction.id"].as_str().unwrap_or_default();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{line}");
        assert_eq!(line["labels.brand"], "banco-azul", "{line}");
        assert!(line["@timestamp"].as_str().unwrap().ends_with('Z'));
    }
    // The data call: its lines carry its id, its client and its consent.
    let served: Vec<&Value> = lines
        .iter()
        .filter(|l| l["transaction.id"] == call.as_str())
        .collect();
    assert!(!served.is_empty(), "the call was logged");
    for line in &served {
        assert_eq!(line["client.id"], receiver.client_id.as_str(), "{line}");
        assert_eq!(line["labels.consent_id"], consent.as_str(), "{line}");
    }
    let done: Vec<&&Value> = served
        .iter()
        .filter(|l| l["message"] == "request served")
        .collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["http.response.status_code"], 200);
    // No personal data anywhere: not the document, not the name.
    let formatted = format!(
        "{}.{}.{}-{}",
        &customer.as_str()[..3],
        &customer.as_str()[3..6],
        &customer.as_str()[6..9],
        &customer.as_str()[9..]
    );
    for secret in [customer.as_str(), formatted.as_str(), name.as_str()] {
        assert!(!text.contains(secret), "{secret} in the log");
    }
}

impl Participant {
    /// The participant's mutual-TLS client configuration.
    fn tls(&self) -> Arc<rustls::ClientConfig> {
        https_tls(&self.https)
    }

    /// The SDK's FAPI client for this participant, its calls reported by
    /// `reporter` (the fintech's own outbox) to the bank's organisation.
    async fn reported_client(
        &self,
        bank: &LoopbackBank,
        reporter: opus_pcm::PcmReporter,
    ) -> opus_fapi::client::FapiClient {
        let tls = self.tls();
        let server = opus_fapi::client::ServerMetadata::discover(
            &tls,
            bank.issuer().as_str().trim_end_matches('/'),
        )
        .await
        .unwrap();
        let fapi = opus_fapi::client::FapiClient::new(
            tls,
            self.custody.clone(),
            self.client_id.clone(),
            server,
            self.clock.clone(),
        );
        let software =
            opus_core::SoftwareStatementId::parse(self.directory["software_id"].as_str().unwrap())
                .unwrap();
        fapi.with_observer(Arc::new(opus_pcm::PcmCallObserver::new(
            reporter,
            *bank.organisation_id(),
            software,
        )))
    }

    /// The customer's browser: from `url` through the test-mode login to
    /// the redirect URI; the answer's fragment parameters.
    async fn browse(&self, url: &Url) -> BTreeMap<String, String> {
        let mut at = url.clone();
        loop {
            let answer = self.https.send(Method::GET, &at, &[], None).await;
            let next = answer.headers[header::LOCATION]
                .to_str()
                .unwrap()
                .to_owned();
            if next.starts_with(REDIRECT) {
                let url = Url::parse(&next).unwrap();
                return url::form_urlencoded::parse(url.fragment().unwrap().as_bytes())
                    .into_owned()
                    .collect();
            }
            at = Url::parse(&next).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fintech_pays_and_reads_with_the_sdk_clients_and_every_call_pairs() {
    use opus_pcm::{HttpsPcmTransport, PcmReporter, PcmSender};
    let clock = Arc::new(opus_testkit::ManualClock::at(SystemClock.now()));
    let bank = LoopbackBank::start_with_clock(clock.clone()).await.unwrap();

    // The fintech's webhook endpoint, served by the SDK's receiver.
    let leaf = bank.receiver_certificate(&["127.0.0.1"]).unwrap();
    let (chain, key) = mtls::identity(&leaf.chain_der, leaf.key_pkcs8_der.expose());
    let tls = mtls::server_config(
        chain,
        key,
        &pem_certs(bank.ca_pem()),
        mtls::ClientCertPolicy::Required,
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let webhook = Url::parse(&format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    ))
    .unwrap();
    let payer = join(&bank, "PAGTO", Some(&webhook)).await;
    // The data receiver registers with the SDK's client (DCR), then
    // updates its registration (DCM).
    let enrolled = enrol(&bank, "DADOS", None).await;
    let client_tls = https_tls(&enrolled.https);
    let server = opus_fapi::client::ServerMetadata::discover(
        &client_tls,
        bank.issuer().as_str().trim_end_matches('/'),
    )
    .await
    .unwrap();
    let statement = enrolled.directory["software_statement"]
        .as_str()
        .unwrap()
        .to_owned();
    // Kept in the fintech's store: registered once, then reused, then
    // updated when the metadata changes (a new webhook URI).
    let fintech_store = opus_core::Storage::from_backend(Arc::new(opus_store::MemoryStore::new()));
    let sealer = opus_core::seal::Sealer::open_or_create(
        Arc::new(opus_testkit::TestKeyCustody::new("fintech-seal")),
        fintech_store.data_keys.clone(),
        clock.clone(),
    )
    .await
    .unwrap();
    let owner = opus_core::BrandId::new("fintech").unwrap();
    let keeping = opus_fapi::client::RegistrationKeeping {
        storage: &fintech_store,
        sealer: &sealer,
        owner: &owner,
    };
    let software =
        opus_core::SoftwareStatementId::parse(enrolled.directory["software_id"].as_str().unwrap())
            .unwrap();
    let mut metadata = registration_metadata(&enrolled);
    let ensure = async |metadata: &Value| {
        opus_fapi::client::ensure_registered(
            keeping,
            &client_tls,
            &server,
            &software,
            &statement,
            metadata,
            clock.now(),
        )
        .await
        .unwrap()
    };
    let registration = ensure(&metadata).await;
    assert_eq!(
        ensure(&metadata).await,
        registration,
        "reused, not registered again"
    );
    // A second registration of the statement would be refused: it was reused.
    assert!(
        opus_fapi::client::register(&client_tls, &server, &statement, &metadata)
            .await
            .is_err()
    );
    metadata["webhook_uris"] = json!(["https://127.0.0.1/fintech/webhooks"]);
    let updated = ensure(&metadata).await;
    assert_eq!(
        updated.client_id, registration.client_id,
        "updated in place (DCM)"
    );
    let kept = fintech_store
        .registrations
        .get_registration(&owner, &server.issuer, &software)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.client_id, registration.client_id);
    let reader = enrolled.participant(&bank, registration.client_id.clone());

    // The fintech reports its calls from its own outbox to the collector.
    let fintech_storage =
        opus_core::Storage::from_backend(Arc::new(opus_store::MemoryStore::new()));
    let fintech_org =
        opus_core::OrganisationId::parse(payer.directory["org_id"].as_str().unwrap()).unwrap();
    let reporter = PcmReporter::new(
        opus_core::BrandId::new("fintech").unwrap(),
        fintech_org,
        fintech_storage.clone(),
        clock.clone(),
    );
    let pcm = bank.base_url().clone();
    let sender = PcmSender::new(
        fintech_storage.clone(),
        Arc::new(HttpsPcmTransport::new(
            pcm.join("pcm/api/").unwrap(),
            pcm.join("pcm/auth/").unwrap(),
            "fintech-software",
            payer.tls(),
        )),
        clock.clone(),
    );

    // Payments: one call for the consent and the URL, one to pay.
    let bank_keys: opus_core::keys::JwkSet =
        serde_json::from_value(payer.https.get(&issuer_url(&bank, "jwks")).await.body).unwrap();
    let initiator = Arc::new(opus_itp::Initiator::new(
        payer.reported_client(&bank, reporter.clone()).await,
        fintech_org,
        opus_itp::HolderSettings {
            api_base: bank.api_url("").unwrap(),
            organisation: *bank.organisation_id(),
            keys: bank_keys,
            redirect_uri: Url::parse(REDIRECT).unwrap(),
        },
        clock.clone(),
    ));
    tokio::spawn(mtls::serve(
        listener,
        Some(tls),
        opus_itp::WebhookReceiver::new(initiator.clone()),
        std::future::pending(),
    ));
    let tomorrow = clock
        .now()
        .date_in_brasilia()
        .add_days(1)
        .unwrap()
        .to_string();
    let consent = initiator
        .create_payment_consent(json!({
            "loggedUser": {"document": {"identification": sandbox_customer().unwrap().as_str(), "rel": "CPF"}},
            "creditor": {"personType": "PESSOA_NATURAL", "cpfCnpj": "11144477735", "name": "João Souza"},
            "payment": {
                "type": "PIX", "schedule": {"single": {"date": tomorrow}}, "currency": "BRL", "amount": "80.00",
                "details": {"localInstrument": "MANU",
                    "creditorAccount": {"ispb": "12345678", "issuer": "1774", "number": "1234567890", "accountType": "CACC"}}
            }
        }))
        .await
        .unwrap();
    let params = payer.browse(&consent.pending.authorization_url).await;
    let paid = initiator
        .pay(&consent, &params, pix_order(&tomorrow, 7))
        .await
        .unwrap();
    let payment = paid["data"][0]["paymentId"].as_str().unwrap().to_owned();
    assert_eq!(initiator.status_of(&payment).as_deref(), Some("SCHD"));
    // The date comes; the holder settles and tells the fintech, which reads
    // the payment again on its own.
    clock.advance(Duration::from_secs(86_400));
    assert_eq!(
        bank.settle_due(clock.now().date_in_brasilia())
            .await
            .unwrap(),
        1
    );
    bank.deliver_webhooks().await.unwrap();
    for _ in 0..200 {
        if initiator.status_of(&payment).as_deref() == Some("ACSC") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(initiator.status_of(&payment).as_deref(), Some("ACSC"));

    // Automatic payments: a sweeping consent, then payments with its
    // refresh token, within its limit.
    let customer = sandbox_customer().unwrap();
    let sweeping = initiator
        .create_recurring_consent(json!({
            "loggedUser": {"document": {"identification": customer.as_str(), "rel": "CPF"}},
            "creditors": [{"personType": "PESSOA_NATURAL", "cpfCnpj": customer.as_str(), "name": "Cliente Sandbox"}],
            "recurringConfiguration": {"sweeping": {"transactionLimit": "100.00"}},
        }))
        .await
        .unwrap();
    let params = payer.browse(&sweeping.pending.authorization_url).await;
    let tokens = initiator.authorise(&sweeping, &params).await.unwrap();
    let refresh = tokens.refresh_token.clone().unwrap();
    let today = clock.now().date_in_brasilia().to_string();
    let compact: String = today.chars().filter(char::is_ascii_digit).collect();
    let sweep = |n: u32, amount: &str| {
        json!({
            "endToEndId": format!("E12345678{compact}1500{n:011}"),
            "date": today,
            "payment": {"amount": amount, "currency": "BRL"},
            "creditorAccount": {"ispb": "12345678", "issuer": "0001", "number": "9876543", "accountType": "SVGS"},
            "cnpjInitiator": "11222333000181",
            "localInstrument": "MANU",
            "document": {"identification": customer.as_str(), "rel": "CPF"},
        })
    };
    let swept = initiator
        .pay_recurring(&refresh, sweep(1, "60.00"))
        .await
        .unwrap();
    assert_eq!(swept["data"]["status"], "ACSC", "{swept}");
    match initiator.pay_recurring(&refresh, sweep(2, "150.00")).await {
        Err(opus_itp::ItpError::Refused {
            status: 422, code, ..
        }) => {
            assert_eq!(code, "LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO");
        }
        other => panic!("{other:?}"),
    }

    // Data: one call for the consent and the URL, then the data, then revoke.
    // (Another participant of the directory: its own organisation.)
    let reader_reporter = PcmReporter::new(
        opus_core::BrandId::new("fintech").unwrap(),
        opus_core::OrganisationId::parse(reader.directory["org_id"].as_str().unwrap()).unwrap(),
        fintech_storage.clone(),
        clock.clone(),
    );
    let receiver = opus_drx::DataReceiver::new(
        reader.reported_client(&bank, reader_reporter).await,
        bank.api_url("").unwrap(),
        Url::parse(REDIRECT).unwrap(),
    );
    let expiration = clock
        .now()
        .saturating_add(Duration::from_secs(30 * 86_400))
        .truncated_to_seconds()
        .to_string();
    let consent = receiver
        .create_consent(
            &sandbox_customer().unwrap(),
            &[
                opus_core::consent::Permission::AccountsRead,
                opus_core::consent::Permission::AccountsBalancesRead,
                opus_core::consent::Permission::ResourcesRead,
            ],
            &expiration,
            "accounts resources",
        )
        .await
        .unwrap();
    let params = reader.browse(&consent.pending.authorization_url).await;
    let tokens = receiver.complete(&consent, &params).await.unwrap();
    let accounts = receiver
        .get_all(&tokens, "open-banking/accounts/v2/accounts?page-size=1", 10)
        .await
        .unwrap();
    assert!(accounts.len() >= 2, "every page: {accounts:?}");
    receiver.revoke(&consent.consent_id).await.unwrap();
    assert!(
        receiver
            .get(&tokens, "open-banking/accounts/v2/accounts")
            .await
            .is_err()
    );

    // Both sides reported every call; the collector pairs them all.
    sender.run_once().await.unwrap();
    bank.send_reports().await.unwrap();
    let collector = bank.metrics_collector();
    let clients: Vec<Value> = collector
        .reports()
        .into_iter()
        .filter(|r| r["role"] == "CLIENT")
        .collect();
    assert!(clients.len() >= 12, "{clients:?}");
    for report in &clients {
        let id = report["fapiInteractionId"].as_str().unwrap();
        assert!(collector.paired(id), "{report}");
    }
    bank.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_rust_application_pays_and_reads_through_the_json_facade() {
    use tower::ServiceExt;
    let bank = LoopbackBank::start().await.unwrap();
    let payer = join(&bank, "PAGTO", None).await;
    let reader = join(&bank, "DADOS", None).await;
    let storage = opus_core::Storage::from_backend(Arc::new(opus_store::MemoryStore::new()));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let owner = opus_core::BrandId::new("fintech").unwrap();
    let reporter = opus_pcm::PcmReporter::new(
        owner.clone(),
        OrganisationIdOf::of(&payer),
        storage.clone(),
        clock.clone(),
    );
    let bank_keys: opus_core::keys::JwkSet =
        serde_json::from_value(payer.https.get(&issuer_url(&bank, "jwks")).await.body).unwrap();
    let initiator = Arc::new(opus_itp::Initiator::new(
        payer.reported_client(&bank, reporter.clone()).await,
        OrganisationIdOf::of(&payer),
        opus_itp::HolderSettings {
            api_base: bank.api_url("").unwrap(),
            organisation: *bank.organisation_id(),
            keys: bank_keys,
            redirect_uri: Url::parse(REDIRECT).unwrap(),
        },
        clock.clone(),
    ));
    let receiver = Arc::new(opus_drx::DataReceiver::new(
        reader.reported_client(&bank, reporter).await,
        bank.api_url("").unwrap(),
        Url::parse(REDIRECT).unwrap(),
    ));
    let sealer = Arc::new(
        opus_core::seal::Sealer::open_or_create(
            Arc::new(opus_testkit::TestKeyCustody::new("facade")),
            storage.data_keys.clone(),
            clock.clone(),
        )
        .await
        .unwrap(),
    );
    let facade = opus_itp::facade::Facade::new(owner, sealer, Some(initiator), Some(receiver));
    let call = async |method: Method, path: &str, session: Option<&str>, body: Option<Value>| {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(session) = session {
            request = request.header("x-opus-session", session);
        }
        let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let response = facade
            .clone()
            .oneshot(request.body(Full::new(bytes)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
        )
    };
    let customer = sandbox_customer().unwrap();
    let today = SystemClock.now().date_in_brasilia().to_string();

    // A payment: the consent and the URL, then the payment, then its status.
    let (status, started) = call(
        Method::POST,
        "/payments/consents",
        None,
        Some(json!({"data": {
            "loggedUser": {"document": {"identification": customer.as_str(), "rel": "CPF"}},
            "creditor": {"personType": "PESSOA_NATURAL", "cpfCnpj": "11144477735", "name": "João Souza"},
            "payment": {"type": "PIX", "date": today, "currency": "BRL", "amount": "80.00",
                "details": {"localInstrument": "MANU",
                    "creditorAccount": {"ispb": "12345678", "issuer": "1774", "number": "1234567890", "accountType": "CACC"}}}
        }})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let url = Url::parse(started["authorizationUrl"].as_str().unwrap()).unwrap();
    let callback = payer.browse(&url).await;
    let (status, paid) = call(
        Method::POST,
        "/payments",
        None,
        Some(json!({"handle": started["handle"], "callback": callback, "payments": pix_order(&today, 3)})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["data"][0]["status"], "ACSC");
    let id = paid["data"][0]["paymentId"].as_str().unwrap();
    let (status, read) = call(Method::GET, &format!("/payments/{id}"), None, None).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["data"]["status"], "ACSC");
    // A handle that is not ours is refused.
    let (status, _) = call(
        Method::POST,
        "/payments",
        None,
        Some(json!({"handle": "sealed.v1.not-a-handle", "callback": {}, "payments": []})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Data: the consent and the URL, a session, a read, the revocation.
    let expiration = SystemClock
        .now()
        .saturating_add(Duration::from_secs(86_400))
        .truncated_to_seconds()
        .to_string();
    let (status, started) = call(
        Method::POST,
        "/data/consents",
        None,
        Some(json!({"cpf": customer.as_str(), "permissions": ["ACCOUNTS_READ", "ACCOUNTS_BALANCES_READ", "RESOURCES_READ"],
            "expirationDateTime": expiration, "scopes": "accounts resources"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let url = Url::parse(started["authorizationUrl"].as_str().unwrap()).unwrap();
    let callback = reader.browse(&url).await;
    let (status, session) = call(
        Method::POST,
        "/data/sessions",
        None,
        Some(json!({"handle": started["handle"], "callback": callback})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let session = session["session"].as_str().unwrap().to_owned();
    let (status, accounts) = call(
        Method::GET,
        "/data/open-banking/accounts/v2/accounts",
        Some(&session),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{accounts}");
    assert!(accounts["data"].as_array().is_some_and(|a| !a.is_empty()));
    let consent = started["consentId"].as_str().unwrap();
    let (status, _) = call(
        Method::DELETE,
        &format!("/data/consents/{consent}"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    bank.stop().await;
}

/// A participant's directory organisation.
struct OrganisationIdOf;

impl OrganisationIdOf {
    fn of(participant: &Participant) -> opus_core::OrganisationId {
        opus_core::OrganisationId::parse(participant.directory["org_id"].as_str().unwrap()).unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_receiver_reads_typed_records_and_stays_within_the_monthly_limits() {
    use opus_core::connector::{Account, AccountBalances};
    use opus_core::data_apis::endpoints;
    use opus_drx::{CallBudget, DataReceiver, DrxError};

    // The middle of a month, so that one step reaches the next one.
    let start = SystemClock.now().date_in_brasilia();
    let clock = Arc::new(opus_testkit::ManualClock::at(
        opus_core::Timestamp::parse(&format!(
            "{:04}-{:02}-15T12:00:00Z",
            start.year(),
            start.month()
        ))
        .unwrap(),
    ));
    let bank = LoopbackBank::start_with_clock(clock.clone()).await.unwrap();
    let reader = join(&bank, "DADOS", None).await;
    let storage = opus_core::Storage::from_backend(Arc::new(opus_store::MemoryStore::new()));
    let ours = OrganisationIdOf::of(&reader);
    let reporter = opus_pcm::PcmReporter::new(
        opus_core::BrandId::new("fintech").unwrap(),
        ours,
        storage.clone(),
        clock.clone(),
    );
    let sealer = Arc::new(
        opus_core::seal::Sealer::open_or_create(
            Arc::new(opus_testkit::TestKeyCustody::new("drx")),
            storage.data_keys.clone(),
            clock.clone(),
        )
        .await
        .unwrap(),
    );
    let budget = CallBudget::new(
        storage.counters.clone(),
        sealer,
        clock.clone(),
        opus_core::BrandId::new("loopback-bank").unwrap(),
        ours,
    )
    // A lower quota than the minimum is ignored.
    .raise(&endpoints::ACCOUNTS, 3);
    assert_eq!(budget.limit(&endpoints::ACCOUNTS), Some(8));
    assert_eq!(budget.limit(&endpoints::RESOURCES), None);
    let receiver = DataReceiver::new(
        reader.reported_client(&bank, reporter.clone()).await,
        bank.api_url("").unwrap(),
        Url::parse(REDIRECT).unwrap(),
    )
    .with_budget(budget);
    let expiration = clock
        .now()
        .saturating_add(Duration::from_secs(90 * 86_400))
        .truncated_to_seconds()
        .to_string();
    let consent = receiver
        .create_consent(
            &sandbox_customer().unwrap(),
            &[
                opus_core::consent::Permission::AccountsRead,
                opus_core::consent::Permission::AccountsBalancesRead,
                opus_core::consent::Permission::ResourcesRead,
            ],
            &expiration,
            "accounts resources",
        )
        .await
        .unwrap();
    let params = reader.browse(&consent.pending.authorization_url).await;
    let tokens = receiver.complete(&consent, &params).await.unwrap();
    let accounts_path = DataReceiver::path_of(&endpoints::ACCOUNTS, &[], &[]).unwrap();

    // Typed records, every page walked; follow-up pages do not count.
    let paged = receiver
        .records::<Account>(&tokens, "open-banking/accounts/v2/accounts?page-size=1", 10)
        .await
        .unwrap();
    assert!(paged.len() >= 2, "{paged:?}");
    let accounts = receiver.accounts(&tokens).await.unwrap();
    assert_eq!(accounts, paged);
    let budget = receiver.budget().unwrap();
    assert_eq!(
        budget.remaining(&tokens, &accounts_path).await.unwrap(),
        Some(6)
    );
    let balances: AccountBalances = receiver
        .account_balances(&tokens, accounts[0].account_id.as_str())
        .await
        .unwrap();
    assert_eq!(balances.available_amount.currency.as_str(), "BRL");
    let balances_path = DataReceiver::path_of(
        &endpoints::BALANCES,
        &[accounts[0].account_id.as_str()],
        &[],
    )
    .unwrap();
    assert_eq!(
        budget.remaining(&tokens, &balances_path).await.unwrap(),
        Some(419)
    );

    // The quota of GET /accounts is 8 a month: six more calls, then the
    // receiver refuses without calling.
    for _ in 0..6 {
        receiver.accounts(&tokens).await.unwrap();
    }
    assert_eq!(
        budget.remaining(&tokens, &accounts_path).await.unwrap(),
        Some(0)
    );
    match receiver.accounts(&tokens).await {
        Err(DrxError::LimitReached { endpoint, limit }) => {
            assert_eq!(endpoint, endpoints::ACCOUNTS.template);
            assert_eq!(limit, 8);
        }
        other => panic!("{other:?}"),
    }
    // The bank counted the same: a receiver without the budget meets its 423.
    let unbudgeted = DataReceiver::new(
        reader.reported_client(&bank, reporter.clone()).await,
        bank.api_url("").unwrap(),
        Url::parse(REDIRECT).unwrap(),
    );
    match unbudgeted.get(&tokens, &accounts_path).await {
        Err(DrxError::Refused { status: 423, code }) => {
            assert_eq!(code, "LIMITE_OPERACIONAL_EXCEDIDO");
        }
        other => panic!("{other:?}"),
    }

    // The next month the quota is whole again; the access token expired
    // meanwhile and is renewed with the consent's refresh token.
    let before = tokens.tokens().access_token;
    clock.advance(Duration::from_secs(20 * 86_400));
    assert_eq!(
        budget.remaining(&tokens, &accounts_path).await.unwrap(),
        Some(8)
    );
    assert_eq!(receiver.accounts(&tokens).await.unwrap(), accounts);
    assert_ne!(tokens.tokens().access_token, before);
    assert_eq!(
        budget.remaining(&tokens, &accounts_path).await.unwrap(),
        Some(7)
    );

    // A refused call is given back.
    match receiver
        .account_balances(&tokens, "not-a-consented-account")
        .await
    {
        Err(DrxError::Refused { status, .. }) => assert!(status == 403 || status == 404),
        other => panic!("{other:?}"),
    }
    let foreign =
        DataReceiver::path_of(&endpoints::BALANCES, &["not-a-consented-account"], &[]).unwrap();
    assert_eq!(
        budget.remaining(&tokens, &foreign).await.unwrap(),
        Some(420)
    );

    // The customer's token goes nowhere but the bank's API base.
    for elsewhere in [
        "https://127.0.0.1:1/open-banking/accounts/v2/accounts",
        "http://127.0.0.1/open-banking/accounts/v2/accounts",
    ] {
        assert!(
            matches!(
                receiver.get(&tokens, elsewhere).await,
                Err(DrxError::Client(_))
            ),
            "{elsewhere}"
        );
    }
    // Path parameters are encoded, not spliced.
    assert_eq!(
        DataReceiver::path_of(&endpoints::BALANCES, &["a/../b"], &[]).unwrap(),
        "/open-banking/accounts/v2/accounts/a%2F..%2Fb/balances"
    );
    assert!(DataReceiver::path_of(&endpoints::BALANCES, &[], &[]).is_err());
    bank.stop().await;
}

/// Every data call a client made: origin, path, answer status, when.
struct Tally {
    seen: std::sync::Mutex<Vec<(String, String, u16, opus_core::Timestamp)>>,
}

#[async_trait::async_trait]
impl opus_fapi::client::CallObserver for Tally {
    async fn observe(&self, call: opus_fapi::client::ObservedCall<'_>) {
        self.seen.lock().unwrap().push((
            call.url.origin().ascii_serialization(),
            call.url.path().to_owned(),
            call.answer.map_or(0, |a| a.status.as_u16()),
            call.started,
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_data_receiver_keeps_ten_customers_fresh_at_three_holders_for_three_months() {
    use opus_core::connector::ResourceType;
    use opus_core::consent::Permission;
    use opus_core::event::{DomainEvent, EventKind, ReceiverConsentChange};
    use opus_drx::{CallBudget, DataReceiver};
    use opus_odr::{Feed, Frequencies, OpenDataReceiver, SubscriptionState};
    use opus_testkit::bank::SyntheticBank;

    let begin = SystemClock.now().date_in_brasilia();
    let start = opus_core::Timestamp::parse(&format!(
        "{:04}-{:02}-15T12:00:00Z",
        begin.year(),
        begin.month()
    ))
    .unwrap();
    let clock = Arc::new(opus_testkit::ManualClock::at(start));
    let today = start.date_in_brasilia();
    let customers: Vec<opus_core::Cpf> = (1..=10)
        .map(|n| SyntheticBank::generated_cpf(n * 7_919).unwrap())
        .collect();
    let names = ["banco-a", "banco-b", "banco-c"];

    // The fintech's side: one store, one sealer, one receiver per holder.
    let storage = opus_core::Storage::from_backend(Arc::new(opus_store::MemoryStore::new()));
    let owner = opus_core::BrandId::new("fintech").unwrap();
    let sealer = Arc::new(
        opus_core::seal::Sealer::open_or_create(
            Arc::new(opus_testkit::TestKeyCustody::new("odr")),
            storage.data_keys.clone(),
            clock.clone(),
        )
        .await
        .unwrap(),
    );
    let tally = Arc::new(Tally {
        seen: std::sync::Mutex::default(),
    });
    let frequencies = Frequencies {
        accounts: Duration::from_secs(7 * 86_400),
        balances: Duration::from_secs(86_400),
        transactions: Duration::from_secs(2 * 86_400),
        contracts: Duration::from_secs(7 * 86_400),
        cards: Duration::from_secs(7 * 86_400),
        ..Frequencies::default()
    };
    let mut banks = Vec::new();
    let mut receivers = Vec::new();
    for (n, name) in names.iter().enumerate() {
        let synthetic = SyntheticBank::with_customers(today, &customers, n as u64 + 1);
        let bank = LoopbackBank::start_with_data(clock.clone(), synthetic.clone())
            .await
            .unwrap();
        let reader = join(&bank, "DADOS", None).await;
        let ours = OrganisationIdOf::of(&reader);
        let reporter =
            opus_pcm::PcmReporter::new(owner.clone(), ours, storage.clone(), clock.clone());
        let client = reader
            .reported_client(&bank, reporter)
            .await
            .with_observer(tally.clone());
        let receiver = Arc::new(
            DataReceiver::new(
                client,
                bank.api_url("").unwrap(),
                Url::parse(REDIRECT).unwrap(),
            )
            .with_budget(CallBudget::new(
                storage.counters.clone(),
                sealer.clone(),
                clock.clone(),
                opus_core::BrandId::new(*name).unwrap(),
                ours,
            )),
        );
        receivers.push((receiver, reader));
        banks.push((bank, synthetic));
    }
    // One replica of the receiver; all state is in the store, so any
    // number of them share the work and a new one takes over.
    let replica = || {
        let mut builder = OpenDataReceiver::builder(
            owner.clone(),
            storage.clone(),
            sealer.clone(),
            clock.clone(),
        )
        .frequencies(frequencies)
        .batch(3)
        .rule(Arc::new(opus_odr::rules::NewContractElsewhere::new(None)));
        for (name, (receiver, _)) in names.iter().zip(&receivers) {
            builder = builder.holder(name, receiver.clone()).unwrap();
        }
        builder.build()
    };
    let mut odr = replica();
    let other = replica();
    let mut jobs_by_replica = (0, 0);

    // Each customer consents at two of the three holders; the first
    // customer's consents last 45 days, the others' a year.
    let permissions = [
        Permission::AccountsRead,
        Permission::AccountsBalancesRead,
        Permission::AccountsTransactionsRead,
        Permission::LoansRead,
        Permission::LoansWarrantiesRead,
        Permission::LoansScheduledInstalmentsRead,
        Permission::LoansPaymentsRead,
        Permission::FinancingsRead,
        Permission::FinancingsWarrantiesRead,
        Permission::FinancingsScheduledInstalmentsRead,
        Permission::FinancingsPaymentsRead,
        Permission::UnarrangedAccountsOverdraftRead,
        Permission::UnarrangedAccountsOverdraftWarrantiesRead,
        Permission::UnarrangedAccountsOverdraftScheduledInstalmentsRead,
        Permission::UnarrangedAccountsOverdraftPaymentsRead,
        Permission::InvoiceFinancingsRead,
        Permission::InvoiceFinancingsWarrantiesRead,
        Permission::InvoiceFinancingsScheduledInstalmentsRead,
        Permission::InvoiceFinancingsPaymentsRead,
        Permission::CreditCardsAccountsRead,
        Permission::CreditCardsAccountsBillsRead,
        Permission::CreditCardsAccountsBillsTransactionsRead,
        Permission::ResourcesRead,
    ];
    let mut consents = Vec::new();
    for (i, customer) in customers.iter().enumerate() {
        for h in [i % 3, (i + 1) % 3] {
            let (receiver, reader) = &receivers[h];
            let days = if i == 0 { 45 } else { 365 };
            let expires = clock
                .now()
                .saturating_add(Duration::from_secs(days * 86_400))
                .truncated_to_seconds();
            let consent = receiver
                .create_consent(
                    customer,
                    &permissions,
                    &expires.to_string(),
                    "accounts credit-cards-accounts loans financings invoice-financings unarranged-accounts-overdraft resources",
                )
                .await
                .unwrap();
            let params = reader.browse(&consent.pending.authorization_url).await;
            let tokens = receiver.complete(&consent, &params).await.unwrap();
            odr.subscribe(names[h], &tokens, expires, &permissions)
                .await
                .unwrap();
            consents.push((i, h, consent.consent_id.clone()));
        }
    }

    // Three months, six hours at a time.
    let step = Duration::from_secs(6 * 3_600);
    let revoked = consents.iter().find(|(i, _, _)| *i == 1).cloned().unwrap();
    let (new_loan_customer, new_loan_holder) = (4usize, 4 % 3);
    let new_loan = format!("loan-new-{}", customers[new_loan_customer].as_str());
    let mut ended_at: BTreeMap<String, (opus_core::Timestamp, u64)> = BTreeMap::new();
    let mut checked = 0;
    for n in 0..(90 * 4) {
        if n > 0 {
            clock.advance(step);
        }
        if n == 20 * 4 {
            // Day 20: the second customer revokes one consent in the bank's app.
            let (bank, _) = &banks[revoked.1];
            let (_, reader) = &receivers[revoked.1];
            let channels = bank.channels_url().unwrap();
            let url = Url::parse(&format!("{channels}/{}/revoke", revoked.2)).unwrap();
            let answer = reader
                .https
                .send(
                    Method::POST,
                    &url,
                    &[(TEST_CHANNEL_HEADER, customers[1].as_str().to_owned())],
                    Some((
                        "application/json",
                        json!({"rejectedBy": "USER"}).to_string(),
                    )),
                )
                .await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        }
        if n == 50 * 4 {
            // Day 50: a customer takes a new loan at one of their holders.
            banks[new_loan_holder].1.add_contract(
                &customers[new_loan_customer],
                ResourceType::Loan,
                &new_loan,
            );
            // The consents in force share what they were authorised with:
            // the customer authorises a new consent there, which shares it.
            let (receiver, reader) = &receivers[new_loan_holder];
            let expires = clock
                .now()
                .saturating_add(Duration::from_secs(300 * 86_400))
                .truncated_to_seconds();
            let consent = receiver
                .create_consent(
                    &customers[new_loan_customer],
                    &permissions,
                    &expires.to_string(),
                    "accounts credit-cards-accounts loans financings invoice-financings unarranged-accounts-overdraft resources",
                )
                .await
                .unwrap();
            let params = reader.browse(&consent.pending.authorization_url).await;
            let tokens = receiver.complete(&consent, &params).await.unwrap();
            odr.subscribe(names[new_loan_holder], &tokens, expires, &permissions)
                .await
                .unwrap();
            consents.push((
                new_loan_customer,
                new_loan_holder,
                consent.consent_id.clone(),
            ));
        }
        if n == 45 * 4 {
            // Day 45: a replica restarts.
            odr = replica();
        }
        // Two replicas run side by side.
        let (one, two) = tokio::join!(odr.run_due(), other.run_due());
        let (one, two) = (one.unwrap(), two.unwrap());
        assert_eq!(one.failed + two.failed, 0, "step {n}: {one:?} {two:?}");
        jobs_by_replica.0 += one.jobs;
        jobs_by_replica.1 += two.jobs;

        // Freshness: every active consent's feeds were refreshed within
        // their frequency (plus one step and the jitter).
        let now = clock.now();
        for (i, customer) in customers.iter().enumerate() {
            for status in odr
                .subscriptions(&opus_core::Document::from(customer.clone()))
                .await
                .unwrap()
            {
                if status.state != SubscriptionState::Active {
                    ended_at
                        .entry(status.consent_id.clone())
                        .or_insert((now, status.calls));
                    continue;
                }
                for feed in &status.feeds {
                    let last = status.last_refreshed.get(feed).copied();
                    let allowed = frequencies.of(*feed) + step + frequencies.jitter;
                    assert!(
                        last.is_some_and(|last| now.duration_since(last) <= allowed),
                        "customer {i} at {}: {feed:?} last refreshed {last:?}, now {now:?}",
                        status.holder
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 10_000, "{checked}");
    assert!(
        jobs_by_replica.0 > 0 && jobs_by_replica.1 > 0,
        "{jobs_by_replica:?}"
    );

    // The ended consents: the expired (first customer, both holders) and
    // the revoked one; their calls stopped when they ended.
    let end_of = |consent: &str| ended_at.get(consent).copied();
    for (i, _, consent) in &consents {
        let ended = end_of(consent);
        if *i == 0 || consent == &revoked.2 {
            let (_, calls_then) = ended.unwrap_or_else(|| panic!("{consent} did not end"));
            let now_calls = odr
                .subscriptions(&opus_core::Document::from(customers[*i].clone()))
                .await
                .unwrap()
                .into_iter()
                .find(|s| &s.consent_id == consent)
                .unwrap()
                .calls;
            assert_eq!(now_calls, calls_then, "{consent} kept calling");
        } else {
            assert!(ended.is_none(), "{consent} ended");
        }
    }
    // On the holders' side: a call with a dead consent's token is refused
    // and its renewal too. The only refused renewals were at the revoking
    // holder, in the one run that found out about the revocation.
    let (revoked_at, _) = end_of(&revoked.2).unwrap();
    let refused: Vec<_> = tally
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, path, status, _)| path.ends_with("/token") && *status >= 400)
        .cloned()
        .collect();
    assert!(!refused.is_empty());
    for (origin, path, status, at) in &refused {
        assert_eq!(
            origin,
            &banks[revoked.1].0.base_url().origin().ascii_serialization(),
            "{path} {status}"
        );
        assert!(
            *at <= revoked_at && revoked_at.duration_since(*at) < step,
            "{path} at {at:?}"
        );
    }

    // No endpoint of any holder went over its monthly limit, counted by
    // the holders themselves, and none had to refuse a call.
    for (bank, _) in &banks {
        let counters = bank.limit_counters();
        assert!(counters.refused().is_empty(), "{:?}", counters.refused());
        let highest = counters.highest();
        assert!(!highest.is_empty());
        for (key, count) in highest {
            let endpoint = opus_core::data_apis::ALL
                .iter()
                .find(|e| e.template == key.endpoint)
                .unwrap();
            assert!(count <= endpoint.monthly_limit.unwrap(), "{key:?}: {count}");
        }
    }

    // The events: each ended consent once, the new loan once, nothing
    // over a limit.
    // (Delivered as the business receives them: the outbox relay hands
    // them to the event sink — here in process; NATS the same way.)
    let sink = Arc::new(opus_store::events::InProcessEventSink::new(100_000));
    let mut delivered = sink.subscribe();
    let relay =
        opus_store::events::OutboxEventRelay::new(storage.outbox.clone(), sink, clock.clone())
            .unwrap();
    while relay.run_once().await.unwrap().delivered > 0 {}
    let mut events: Vec<DomainEvent> = Vec::new();
    while let Ok(event) = delivered.try_recv() {
        events.push(event);
    }
    let consent_events = |change: ReceiverConsentChange| -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::ReceiverConsent {
                    consent_id,
                    change: c,
                    ..
                } if *c == change => Some(consent_id.clone()),
                _ => None,
            })
            .collect()
    };
    let mut expired = consent_events(ReceiverConsentChange::Expired);
    expired.sort();
    let mut expected: Vec<String> = consents
        .iter()
        .filter(|(i, _, _)| *i == 0)
        .map(|(_, _, c)| c.clone())
        .collect();
    expected.sort();
    assert_eq!(expired, expected);
    let mut soon = consent_events(ReceiverConsentChange::ExpiringSoon);
    soon.sort();
    assert_eq!(soon, expected);
    assert_eq!(
        consent_events(ReceiverConsentChange::Revoked),
        std::slice::from_ref(&revoked.2)
    );
    assert!(consent_events(ReceiverConsentChange::LimitReached).is_empty());
    assert!(consent_events(ReceiverConsentChange::RefreshFailing).is_empty());
    let contracts = odr
        .contracts(&opus_core::Document::from(
            customers[new_loan_customer].clone(),
        ))
        .await
        .unwrap();
    assert!(
        contracts
            .iter()
            .any(|c| c.contract_id == new_loan && c.holder == names[new_loan_holder]),
        "{contracts:?}"
    );
    let fired: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ReceiverRuleFired {
                rule,
                holder,
                subject,
                ..
            } => {
                assert_eq!(rule, "new_contract_elsewhere");
                Some((holder.clone(), subject.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        fired,
        [(
            names[new_loan_holder].to_owned(),
            format!("loans/{new_loan}")
        )]
    );

    // The unified statement of each customer whose consents stayed in
    // force equals the holders' data over the months read.
    let from = today.add_days(-365).unwrap();
    let to = clock.now().date_in_brasilia();
    for (i, customer) in customers.iter().enumerate().skip(2) {
        let statement = odr
            .statement(&opus_core::Document::from(customer.clone()), from, to)
            .await
            .unwrap();
        let mut got: Vec<(String, String, String, String)> = statement
            .iter()
            .map(|t| {
                (
                    t.holder.clone(),
                    t.account_id.clone(),
                    t.transaction_id.clone(),
                    t.amount.clone(),
                )
            })
            .collect();
        let mut want = Vec::new();
        for h in [i % 3, (i + 1) % 3] {
            for (account, transactions) in banks[h].1.account_transactions(customer) {
                for (date, t) in transactions {
                    if date >= from && date <= to {
                        want.push((
                            names[h].to_owned(),
                            account.to_string(),
                            t.transaction_id.to_string(),
                            t.transaction_amount.amount.clone(),
                        ));
                    }
                }
            }
        }
        got.sort();
        want.sort();
        assert!(!want.is_empty());
        assert_eq!(got, want, "customer {i}");
        // In date order across institutions.
        assert!(
            statement
                .windows(2)
                .all(|w| w[0].date_time <= w[1].date_time)
        );
        let accounts = odr
            .accounts(&opus_core::Document::from(customer.clone()))
            .await
            .unwrap();
        assert_eq!(accounts.len(), 4, "two accounts at each of two holders");
        // Cards and their bills, as the holders have them.
        let mut cards: Vec<(String, String)> = odr
            .cards(&opus_core::Document::from(customer.clone()))
            .await
            .unwrap()
            .into_iter()
            .map(|c| {
                assert!(!c.bills.is_empty(), "{c:?}");
                assert!(
                    c.bills
                        .iter()
                        .all(|b| b["billId"].is_string() && b["dueDate"].is_string())
                );
                (c.holder, c.card_id)
            })
            .collect();
        let mut held: Vec<(String, String)> = [i % 3, (i + 1) % 3]
            .into_iter()
            .flat_map(|h| {
                banks[h]
                    .1
                    .resource_ids_of(customer, ResourceType::CreditCardAccount)
                    .into_iter()
                    .map(move |id| (names[h].to_owned(), id.to_string()))
            })
            .collect();
        cards.sort();
        held.sort();
        assert_eq!(cards, held, "customer {i}");
    }
    // The Customer Data API: one person across institutions.
    {
        use tower::ServiceExt;
        let api = opus_odr::api::CustomerDataApi::new(odr.clone());
        let get = async |path: &str, customer: Option<&str>| {
            let mut request = Request::builder().uri(path);
            if let Some(customer) = customer {
                request = request.header(opus_odr::api::CUSTOMER_HEADER, customer);
            }
            let response = api
                .clone()
                .oneshot(
                    request
                        .body(http_body_util::Empty::<bytes::Bytes>::new())
                        .unwrap(),
                )
                .await
                .unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&body).unwrap())
        };
        let who = customers[5].as_str();
        let (status, institutions) = get("/institutions", Some(who)).await;
        assert_eq!(status, StatusCode::OK, "{institutions}");
        let holders: Vec<&str> = institutions["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["holder"].as_str().unwrap())
            .collect();
        assert_eq!(holders, [names[0], names[2]]);
        assert_eq!(institutions["data"][0]["consents"][0]["state"], "ACTIVE");
        let (_, accounts) = get("/accounts?holder=banco-a", Some(who)).await;
        assert_eq!(accounts["data"].as_array().unwrap().len(), 2);
        let (_, balances) = get("/balances", Some(who)).await;
        assert_eq!(balances["data"].as_array().unwrap().len(), 4);
        let (_, cards) = get("/cards?holder=banco-c", Some(who)).await;
        assert_eq!(cards["data"].as_array().unwrap().len(), 1, "{cards}");
        assert!(
            cards["data"][0]["bills"]
                .as_array()
                .is_some_and(|b| !b.is_empty())
        );
        let whole = odr
            .statement(&opus_core::Document::from(customers[5].clone()), from, to)
            .await
            .unwrap();
        let query = format!("/statement?fromDate={from}&toDate={to}&page=2&page-size=50");
        let (status, page) = get(&query, Some(who)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["meta"]["totalRecords"], whole.len());
        assert_eq!(page["meta"]["totalPages"], whole.len().div_ceil(50));
        assert_eq!(
            page["data"][0]["transactionId"],
            whole[50].transaction_id.as_str()
        );
        let (_, credits) = get(
            &format!(
                "/statement?fromDate={from}&toDate={to}&page-size=1000&creditDebitType=CREDITO"
            ),
            Some(who),
        )
        .await;
        assert!(
            credits["data"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["creditDebitType"] == "CREDITO")
        );
        for (path, customer, expected) in [
            ("/accounts", None, StatusCode::BAD_REQUEST),
            ("/accounts", Some("123"), StatusCode::BAD_REQUEST),
            (
                "/statement?fromDate=2026-13-01",
                Some(who),
                StatusCode::BAD_REQUEST,
            ),
            (
                "/statement?page-size=1001",
                Some(who),
                StatusCode::BAD_REQUEST,
            ),
            ("/elsewhere", Some(who), StatusCode::NOT_FOUND),
        ] {
            let (status, body) = get(path, customer).await;
            assert_eq!(status, expected, "{path}: {body}");
            assert!(body["error"].is_string(), "{body}");
        }
        // Another person sees nothing of this one's.
        let stranger = SyntheticBank::generated_cpf(1).unwrap();
        let (_, nothing) = get("/accounts", Some(stranger.as_str())).await;
        assert_eq!(nothing["data"], json!([]));
    }

    // Feeds keep track: every subscription covered every feed.
    let status = odr
        .subscriptions(&opus_core::Document::from(customers[5].clone()))
        .await
        .unwrap();
    assert_eq!(status.len(), 2);
    assert!(status.iter().all(|s| s.feeds == Feed::ALL));
    for (bank, _) in banks {
        bank.stop().await;
    }
}
