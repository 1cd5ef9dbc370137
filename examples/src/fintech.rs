//! A fintech on loopback built only from the SDK's client side: it
//! registers its own keys with the sandbox's mock directory (the interop
//! kit's test-registration contract), receives a transport certificate and
//! a software statement, registers with the bank by DCR, and then pays
//! through `opus-itp` and reads data through `opus-drx`. A stand-in for the
//! customer's browser follows the bank's redirects through the test-mode
//! login back to the fintech's redirect URI.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use opus_core::keys::KeyCustody;
use opus_core::{ClientId, Clock, OrganisationId, SoftwareStatementId};
use opus_fapi::client::{FapiClient, ServerMetadata};
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
use opus_fapi::mtls;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use url::Url;

use crate::bank::{Failure, LoopbackBank};

/// Where the fintech's customers come back to (never dereferenced: the
/// browser stand-in stops there).
pub const FINTECH_REDIRECT: &str = "https://fintech.localhost/callback";

const TIMEOUT: Duration = Duration::from_secs(15);
const MAX_BODY: usize = 4 * 1024 * 1024;

/// The PEM blocks of `pem`, as DER certificates.
pub fn pem_certificates(pem: &str) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .filter_map(Result::ok)
        .collect()
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in text.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DCR metadata of a FAPI-BR client (its software statement apart):
/// private_key_jwt PS256, `code id_token` with an encrypted ID token,
/// PS256 request objects, the fintech's redirect URI, `webhooks`, and the
/// directory's `jwks_uri`.
pub fn registration_metadata(webhooks: &[&str], jwks_uri: &Value) -> Value {
    json!({
        "redirect_uris": [FINTECH_REDIRECT],
        "webhook_uris": webhooks,
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "PS256",
        "grant_types": ["authorization_code", "implicit", "refresh_token", "client_credentials"],
        "response_types": ["code id_token"],
        "id_token_signed_response_alg": "PS256",
        "id_token_encrypted_response_alg": "RSA-OAEP",
        "id_token_encrypted_response_enc": "A256GCM",
        "request_object_signing_alg": "PS256",
        "jwks_uri": jwks_uri,
    })
}

/// A TLS client that trusts `anchors` and presents no certificate (the
/// customer's browser, the directory's public endpoints).
///
/// # Errors
/// When the anchors or the protocol versions are refused.
pub fn anonymous_tls(
    anchors: &[CertificateDer<'static>],
) -> Result<Arc<rustls::ClientConfig>, Failure> {
    let mut roots = rustls::RootCertStore::empty();
    for anchor in anchors {
        roots.add(anchor.clone())?;
    }
    let config = rustls::ClientConfig::builder_with_provider(mtls::provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A fintech registered with the directory and, by DCR, with one bank.
pub struct SandboxFintech {
    name: String,
    /// Mutual TLS with the directory-issued transport certificate.
    tls: Arc<rustls::ClientConfig>,
    /// The customer's browser: the bank's anchor, no certificate.
    browser: Arc<rustls::ClientConfig>,
    custody: Arc<SoftwareKeyCustody>,
    client_id: ClientId,
    server: ServerMetadata,
    /// What the directory answered (org, software, statement, key URIs).
    directory: Value,
    clock: Arc<dyn Clock>,
    /// The PEM files of the identity: transport certificate and key, the
    /// signing and ID-token decryption keys, the software statement.
    transport_certificate_pem: String,
    transport_key_pem: String,
    signing_key_pem: String,
    encryption_key_pem: String,
}

impl std::fmt::Debug for SandboxFintech {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxFintech")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

async fn send_json(
    tls: &Arc<rustls::ClientConfig>,
    method: Method,
    url: &Url,
    body: Option<&Value>,
) -> Result<(StatusCode, Value), Failure> {
    let mut request = Request::builder().method(method).uri(url.as_str());
    let body = match body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Bytes::from(body.to_string())
        }
        None => Bytes::new(),
    };
    let answer = mtls::exchange(tls, request.body(body)?, url, TIMEOUT, MAX_BODY).await?;
    let value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
    Ok((answer.status, value))
}

impl SandboxFintech {
    /// Registers `name` with `bank`'s mock directory in `roles` (`DADOS`,
    /// `PAGTO`), with `webhook` as its webhook URI if given, then with the
    /// bank by DCR; signs with `bank`'s clock.
    ///
    /// # Errors
    /// When key generation, the directory or the registration fails.
    pub async fn join(
        bank: &LoopbackBank,
        name: &str,
        roles: &[&str],
        webhook: Option<&Url>,
    ) -> Result<Self, Failure> {
        let anchors = pem_certificates(bank.ca_pem());
        let browser = anonymous_tls(&anchors)?;
        // The keys: signing (PS256) and ID-token decryption (RSA-OAEP).
        let signing_der = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| "RSA generation failed")?
            .as_der()
            .map_err(|_| "RSA export failed")?;
        let encryption_der = RsaKeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| "RSA generation failed")?
            .as_der()
            .map_err(|_| "RSA export failed")?;
        let custody = Arc::new(
            SoftwareKeyCustody::builder()
                .signing_key(SoftwareKey::from_pkcs8_der(
                    &format!("{name}-sig"),
                    signing_der.as_ref(),
                )?)
                .encryption_key(SoftwareKey::from_pkcs8_der(
                    &format!("{name}-enc"),
                    encryption_der.as_ref(),
                )?)
                .build()?,
        );
        let transport_key = rcgen::KeyPair::generate()?;
        let csr = rcgen::CertificateParams::new(Vec::<String>::new())?
            .serialize_request(&transport_key)?
            .pem()?;
        // Registered without a trailing slash, as the profile requires.
        let webhooks: Vec<&str> = webhook
            .map(|u| u.as_str().trim_end_matches('/'))
            .into_iter()
            .collect();
        let (status, directory) = send_json(
            &browser,
            Method::POST,
            &bank.test_registration_url()?,
            Some(&json!({
                "client_name": name,
                "roles": roles,
                "redirect_uris": [FINTECH_REDIRECT],
                "webhook_uris": webhooks,
                "jwks": custody.public_jwks().await?,
                "transport_csr_pem": csr,
            })),
        )
        .await?;
        if status != StatusCode::CREATED {
            return Err(format!("the directory answered {status}: {directory}").into());
        }
        let certificate = directory["transport_certificate_pem"]
            .as_str()
            .ok_or("no transport certificate")?
            .to_owned();
        let mut chain = pem_certificates(&certificate);
        chain.extend(pem_certificates(
            directory["ca_pem"].as_str().ok_or("no CA")?,
        ));
        let tls = mtls::client_config(
            &anchors,
            chain,
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(transport_key.serialize_der())),
        )?;
        let server =
            ServerMetadata::discover(&tls, bank.issuer().as_str().trim_end_matches('/')).await?;
        let statement = directory["software_statement"]
            .as_str()
            .ok_or("no software statement")?;
        let registration = opus_fapi::client::register(
            &tls,
            &server,
            statement,
            &registration_metadata(&webhooks, &directory["software_jwks_uri"]),
        )
        .await?;
        Ok(Self {
            name: name.to_owned(),
            tls,
            browser,
            custody,
            client_id: registration.client_id,
            server,
            directory,
            clock: bank.clock(),
            transport_certificate_pem: certificate,
            transport_key_pem: transport_key.serialize_pem(),
            signing_key_pem: pem("PRIVATE KEY", signing_der.as_ref()),
            encryption_key_pem: pem("PRIVATE KEY", encryption_der.as_ref()),
        })
    }

    /// The client id the bank assigned.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The fintech's directory organisation.
    ///
    /// # Errors
    /// When the directory's answer had none.
    pub fn organisation_id(&self) -> Result<OrganisationId, Failure> {
        Ok(OrganisationId::parse(
            self.directory["org_id"].as_str().ok_or("no org_id")?,
        )?)
    }

    /// The fintech's software statement id.
    ///
    /// # Errors
    /// When the directory's answer had none.
    pub fn software_id(&self) -> Result<SoftwareStatementId, Failure> {
        Ok(SoftwareStatementId::parse(
            self.directory["software_id"]
                .as_str()
                .ok_or("no software_id")?,
        )?)
    }

    /// The mutual-TLS client configuration (transport certificate).
    pub fn tls(&self) -> Arc<rustls::ClientConfig> {
        self.tls.clone()
    }

    /// The SDK's FAPI client towards the bank.
    pub fn client(&self) -> FapiClient {
        let custody: Arc<dyn KeyCustody> = self.custody.clone();
        FapiClient::new(
            self.tls.clone(),
            custody,
            self.client_id.clone(),
            self.server.clone(),
            self.clock.clone(),
        )
    }

    /// The customer's browser: from `url` through the test-mode login to
    /// the fintech's redirect URI; the answer's fragment parameters.
    ///
    /// # Errors
    /// When a step does not redirect, or the chain is longer than ten.
    pub async fn browse(&self, url: &Url) -> Result<BTreeMap<String, String>, Failure> {
        let mut at = url.clone();
        for _ in 0..10 {
            let request = Request::get(at.as_str()).body(Bytes::new())?;
            let answer = mtls::exchange(&self.browser, request, &at, TIMEOUT, MAX_BODY).await?;
            let next = answer
                .headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    format!(
                        "{at} answered {} without a redirect: {}",
                        answer.status,
                        String::from_utf8_lossy(&answer.body)
                    )
                })?
                .to_owned();
            if next.starts_with(FINTECH_REDIRECT) {
                let url = Url::parse(&next)?;
                return Ok(url::form_urlencoded::parse(
                    url.fragment().unwrap_or_default().as_bytes(),
                )
                .into_owned()
                .collect());
            }
            at = at.join(&next)?;
        }
        Err("more than ten redirects".into())
    }

    /// Writes the identity's files under `dir` (transport certificate and
    /// key, signing and decryption keys, software statement, the directory's answer) and
    /// answers their description.
    ///
    /// # Errors
    /// When a file cannot be written.
    pub fn write_identity(&self, dir: &Path) -> Result<Value, Failure> {
        std::fs::create_dir_all(dir)?;
        // Readable by the owner only: two of them are private keys.
        let write = |file: &str, text: &str| -> Result<String, Failure> {
            let path = dir.join(file);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            std::io::Write::write_all(&mut options.open(&path)?, text.as_bytes())?;
            Ok(path.display().to_string())
        };
        Ok(json!({
            "name": self.name,
            "client_id": self.client_id.as_str(),
            "org_id": self.directory["org_id"],
            "software_id": self.directory["software_id"],
            "software_jwks_uri": self.directory["software_jwks_uri"],
            "transport_certificate_path": write("transport.pem", &self.transport_certificate_pem)?,
            "transport_key_path": write("transport.key", &self.transport_key_pem)?,
            "signing_key_path": write("signing.key", &self.signing_key_pem)?,
            "signing_kid": format!("{}-sig", self.name),
            "encryption_key_path": write("encryption.key", &self.encryption_key_pem)?,
            "encryption_kid": format!("{}-enc", self.name),
            "software_statement_path": write(
                "software-statement.jwt",
                self.directory["software_statement"].as_str().unwrap_or_default(),
            )?,
        }))
    }
}
