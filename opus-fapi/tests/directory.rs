//! The HTTPS directory client against a loopback directory: parsing of the
//! participants export, caching by time to live, rotation, revocation,
//! stale copies while the directory is down, and TLS trust.
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use opus_core::directory::{Directory, DirectoryError, Role};
use opus_core::keys::KeyCustody;
use opus_core::{OrganisationId, SoftwareStatementId};
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
use opus_fapi::directory::{DirectoryConfig, HttpDirectory, parse_participants};
use opus_fapi::mtls::{self, ClientCertPolicy};
use opus_testkit::{ManualClock, TestPki};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use url::Url;

#[derive(Default)]
struct Published {
    documents: HashMap<String, (StatusCode, String)>,
    hits: HashMap<String, usize>,
}

struct LoopbackDirectory {
    base: Url,
    pki: TestPki,
    published: Arc<Mutex<Published>>,
    /// Stops the listener when dropped.
    _stop: oneshot::Sender<()>,
}

impl LoopbackDirectory {
    async fn start() -> Self {
        let pki = TestPki::generate("Directory TLS").unwrap();
        let leaf = pki.server_certificate(&["127.0.0.1"]).unwrap();
        let chain = leaf
            .chain_der
            .iter()
            .cloned()
            .map(CertificateDer::from)
            .collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            leaf.key_pkcs8_der.expose().to_vec(),
        ));
        let tls = mtls::server_config(
            chain,
            key,
            &[CertificateDer::from(pki.root_der().to_vec())],
            ClientCertPolicy::Optional,
        )
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!(
            "https://127.0.0.1:{}/",
            listener.local_addr().unwrap().port()
        ))
        .unwrap();
        let published = Arc::new(Mutex::new(Published::default()));
        let state = published.clone();
        let service = tower::service_fn(move |request: Request<hyper::body::Incoming>| {
            let state = state.clone();
            async move {
                let mut state = state.lock().unwrap();
                let path = request.uri().path().to_owned();
                *state.hits.entry(path.clone()).or_default() += 1;
                let (status, body) = state
                    .documents
                    .get(&path)
                    .cloned()
                    .unwrap_or((StatusCode::NOT_FOUND, String::new()));
                let mut response = Response::new(Full::new(Bytes::from(body)));
                *response.status_mut() = status;
                Ok::<_, Infallible>(response)
            }
        });
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(mtls::serve(listener, Some(tls), service, async move {
            let _ = rx.await;
        }));
        Self {
            base,
            pki,
            published,
            _stop: tx,
        }
    }

    fn publish(&self, path: &str, status: StatusCode, body: &Value) {
        self.published
            .lock()
            .unwrap()
            .documents
            .insert(path.to_owned(), (status, body.to_string()));
    }

    fn hits(&self, path: &str) -> usize {
        self.published
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    fn client(&self, clock: Arc<ManualClock>, roots: Vec<Vec<u8>>) -> HttpDirectory {
        let config = DirectoryConfig::new(
            self.base.join("participants").unwrap(),
            self.base.clone(),
            roots,
            vec![b"anchor".to_vec()],
        );
        HttpDirectory::new(config, clock).unwrap()
    }
}

async fn jwks(kid: &str) -> Value {
    let custody = SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::generate_rsa(kid).unwrap())
        .build()
        .unwrap();
    serde_json::to_value(custody.public_jwks().await.unwrap()).unwrap()
}

fn kids(set: &opus_core::keys::JwkSet) -> Vec<String> {
    set.keys.iter().filter_map(|k| k.kid.clone()).collect()
}

#[tokio::test]
async fn keystores_are_cached_rotated_revoked_and_served_stale_while_down() {
    let directory = LoopbackDirectory::start().await;
    let clock = Arc::new(ManualClock::new());
    let client = directory.client(clock.clone(), vec![directory.pki.root_der().to_vec()]);
    let org = OrganisationId::random();
    let software = SoftwareStatementId::random();
    let path = format!("/{org}/{software}/application.jwks");
    directory.publish(&path, StatusCode::OK, &jwks("key-1").await);

    // Fetched once, then served from the cache within the time to live.
    assert_eq!(
        kids(
            &client
                .software_statement_jwks(&org, &software)
                .await
                .unwrap()
        ),
        vec!["key-1"]
    );
    clock.advance(Duration::from_secs(299));
    assert_eq!(
        kids(
            &client
                .software_statement_jwks(&org, &software)
                .await
                .unwrap()
        ),
        vec!["key-1"]
    );
    assert_eq!(directory.hits(&path), 1);

    // Rotation: the new key shows after the time to live.
    directory.publish(&path, StatusCode::OK, &jwks("key-2").await);
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        kids(
            &client
                .software_statement_jwks(&org, &software)
                .await
                .unwrap()
        ),
        vec!["key-2"]
    );
    assert_eq!(directory.hits(&path), 2);

    // The directory fails: the last copy is served for up to a day.
    directory.publish(&path, StatusCode::SERVICE_UNAVAILABLE, &json!({}));
    clock.advance(Duration::from_secs(3600));
    assert_eq!(
        kids(
            &client
                .software_statement_jwks(&org, &software)
                .await
                .unwrap()
        ),
        vec!["key-2"]
    );
    clock.advance(Duration::from_secs(86_400));
    assert!(matches!(
        client.software_statement_jwks(&org, &software).await,
        Err(DirectoryError::Unavailable(_))
    ));
}

#[tokio::test]
async fn a_revoked_keystore_is_dropped_at_once_and_bad_documents_are_invalid() {
    let directory = LoopbackDirectory::start().await;
    let clock = Arc::new(ManualClock::new());
    let client = directory.client(clock.clone(), vec![directory.pki.root_der().to_vec()]);
    let org = OrganisationId::random();
    let path = format!("/{org}/application.jwks");
    directory.publish(&path, StatusCode::OK, &jwks("org-key").await);
    assert!(client.organisation_jwks(&org).await.is_ok());
    directory.publish(&path, StatusCode::NOT_FOUND, &json!({}));
    clock.advance(Duration::from_secs(301));
    assert!(matches!(
        client.organisation_jwks(&org).await,
        Err(DirectoryError::NotFound)
    ));
    // Private key material in a keystore is refused.
    directory.publish(
        "/openbanking.jwks",
        StatusCode::OK,
        &json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "x"}]}),
    );
    assert!(matches!(
        client.ssa_signing_keys().await,
        Err(DirectoryError::Invalid(_))
    ));
    // A server error with nothing cached is unavailability.
    directory.publish(
        "/participants",
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({}),
    );
    assert!(matches!(
        client.participants().await,
        Err(DirectoryError::Unavailable(_))
    ));
    assert_eq!(
        client.trust_anchors().await.unwrap(),
        vec![b"anchor".to_vec()]
    );
}

#[tokio::test]
async fn the_directorys_tls_certificate_must_chain_to_a_configured_root() {
    let directory = LoopbackDirectory::start().await;
    let other = TestPki::generate("Someone Else").unwrap();
    let client = directory.client(
        Arc::new(ManualClock::new()),
        vec![other.root_der().to_vec()],
    );
    directory.publish("/openbanking.jwks", StatusCode::OK, &jwks("ssa").await);
    assert!(matches!(
        client.ssa_signing_keys().await,
        Err(DirectoryError::Unavailable(_))
    ));
    assert_eq!(directory.hits("/openbanking.jwks"), 0);
}

#[tokio::test]
async fn participants_are_parsed_leniently() {
    let directory = LoopbackDirectory::start().await;
    let org = OrganisationId::random();
    let export = json!([
        {
            "OrganisationId": org.to_string(),
            "Status": "Active",
            "OrganisationName": "Banco Azul S.A.",
            "RegistrationNumber": "11222333000181",
            "UnknownMember": {"anything": true},
            "Contacts": null,
            "OrgDomainRoleClaims": [
                {"Status": "Active", "Role": "CONTA", "AuthorisationDomain": "Open Banking"},
                {"Status": "Inactive", "Role": "PAGTO"},
                {"Status": "Active", "Role": "NEW-ROLE"}
            ],
            "AuthorisationServers": [
                {
                    "AuthorisationServerId": "3d1c6a28-2d0f-4d59-9f9e-7b1f3b0f7a11",
                    "CustomerFriendlyName": "Banco Azul",
                    "OpenIDDiscoveryDocument": "https://auth.bancoazul.example/.well-known/openid-configuration",
                    "PayloadSigningCertLocationUri": null,
                    "ApiResources": [
                        {"ApiFamilyType": "payments-pix", "ApiVersion": "4.0.0",
                         "ApiDiscoveryEndpoints": [{"ApiEndpoint": "https://api.bancoazul.example/open-banking/payments/v4/pix/payments"}]},
                        {"ApiFamilyType": "accounts", "ApiVersion": 2, "ApiDiscoveryEndpoints": null}
                    ]
                },
                {"AuthorisationServerId": "not-a-uuid", "OpenIDDiscoveryDocument": "https://x.example/"}
            ]
        },
        {"OrganisationId": null, "Status": "Active"},
        {"OrganisationId": OrganisationId::random().to_string(), "Status": "Withdrawn"}
    ]);
    let parsed = parse_participants(export.to_string().as_bytes()).unwrap();
    assert_eq!(parsed.len(), 2);
    let bank = &parsed[0];
    assert_eq!(bank.id, org);
    assert!(bank.active);
    assert_eq!(bank.roles, vec![Role::Conta]);
    assert_eq!(bank.authorisation_servers.len(), 1);
    let server = &bank.authorisation_servers[0];
    assert_eq!(server.api_resources.len(), 2);
    assert_eq!(server.api_resources[1].version, "2");
    assert!(!parsed[1].active);
    assert!(matches!(
        parse_participants(b"{}"),
        Err(DirectoryError::Invalid(_))
    ));

    // Through HTTP, cached for an hour.
    directory.publish("/participants", StatusCode::OK, &export);
    let clock = Arc::new(ManualClock::new());
    let client = directory.client(clock.clone(), vec![directory.pki.root_der().to_vec()]);
    assert_eq!(client.participants().await.unwrap().len(), 2);
    clock.advance(Duration::from_secs(3599));
    assert_eq!(client.participants().await.unwrap().len(), 2);
    assert_eq!(directory.hits("/participants"), 1);
}

#[tokio::test]
async fn an_unknown_kid_gets_a_fresher_keystore_but_not_more_than_once_a_minute() {
    let directory = LoopbackDirectory::start().await;
    let clock = Arc::new(ManualClock::new());
    let client = directory.client(clock.clone(), vec![directory.pki.root_der().to_vec()]);
    let org = OrganisationId::random();
    let software = SoftwareStatementId::random();
    let path = format!("/{org}/{software}/application.jwks");
    directory.publish(&path, StatusCode::OK, &jwks("key-1").await);
    assert_eq!(
        kids(
            &client
                .software_statement_jwks(&org, &software)
                .await
                .unwrap()
        ),
        vec!["key-1"]
    );
    directory.publish(&path, StatusCode::OK, &jwks("key-2").await);
    // Too soon: the copy at hand is served.
    clock.advance(Duration::from_secs(30));
    assert_eq!(
        kids(
            &client
                .software_statement_jwks_refreshed(&org, &software)
                .await
                .unwrap()
        ),
        vec!["key-1"]
    );
    assert_eq!(directory.hits(&path), 1);
    // A minute on, the directory is asked again, and the cache holds the new set.
    clock.advance(Duration::from_secs(31));
    assert_eq!(
        kids(
            &client
                .software_statement_jwks_refreshed(&org, &software)
                .await
                .unwrap()
        ),
        vec!["key-2"]
    );
    assert_eq!(
        kids(
            &client
                .software_statement_jwks(&org, &software)
                .await
                .unwrap()
        ),
        vec!["key-2"]
    );
    assert_eq!(directory.hits(&path), 2);
}

#[tokio::test]
async fn a_fintech_finds_the_servers_offering_an_api_version() {
    use opus_core::directory::{ApiResource, AuthorisationServer, Organisation};
    let directory = opus_testkit::MockDirectory::new();
    let server = |name: &str, family: &str, version: &str| AuthorisationServer {
        id: opus_core::AuthorisationServerId::random(),
        customer_friendly_name: name.to_owned(),
        discovery_document: url::Url::parse(&format!(
            "https://auth.{name}.test/.well-known/openid-configuration"
        ))
        .unwrap(),
        payload_signing_jwks: None,
        api_resources: vec![ApiResource {
            family: family.to_owned(),
            version: version.to_owned(),
            endpoints: Vec::new(),
        }],
    };
    let organisation = |active: bool, servers: Vec<AuthorisationServer>| Organisation {
        id: opus_core::OrganisationId::random(),
        name: "Banco".to_owned(),
        registration_number: "11222333000181".to_owned(),
        active,
        roles: vec![Role::Conta],
        authorisation_servers: servers,
    };
    directory.add_organisation(organisation(
        true,
        vec![
            server("azul", "payments-pix", "4.0.0"),
            server("verde", "payments-pix", "3.0.1"),
            server("rosa", "accounts", "2.4.2"),
        ],
    ));
    directory.add_organisation(organisation(
        false,
        vec![server("cinza", "payments-pix", "4.0.0")],
    ));
    let found = opus_fapi::client::find_servers(&directory, "payments-pix", "4.")
        .await
        .unwrap();
    let names: Vec<&str> = found
        .iter()
        .map(|(_, s)| s.customer_friendly_name.as_str())
        .collect();
    assert_eq!(
        names,
        ["azul"],
        "active participants, that family, that major version"
    );
}
