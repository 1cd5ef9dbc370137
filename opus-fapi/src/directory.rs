//! The [`Directory`] port over HTTPS: the OFB participants export and the
//! directory keystore, cached.
//!
//! Every document is cached for a time to live (default five minutes for
//! keystores, one hour for the participants file). When it expires the next
//! read fetches it again, so rotated keys appear and revoked ones disappear
//! within that time; a keystore the directory no longer serves (404) is
//! dropped at once. A verifier that meets an unknown `kid` can ask for a
//! fresher copy (`software_statement_jwks_refreshed`), granted when the copy
//! at hand is at least `min_refresh` old. If the directory cannot be reached, the last good copy
//! is served until it is `max_stale` old, then reads fail with
//! [`DirectoryError::Unavailable`]. Time comes from the [`Clock`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use opus_core::directory::{
    ApiResource, AuthorisationServer, Directory, DirectoryError, Organisation, Role,
};
use opus_core::keys::JwkSet;
use opus_core::{AuthorisationServerId, Clock, OrganisationId, SoftwareStatementId, Timestamp};
use rustls::ClientConfig;
use rustls::pki_types::{CertificateDer, ServerName};
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use url::Url;

/// The largest document accepted (the participants file is several MB).
const MAX_DOCUMENT: usize = 64 * 1024 * 1024;
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(20);

/// Where the directory is and how long its answers are kept.
#[derive(Debug, Clone)]
pub struct DirectoryConfig {
    /// The participants export, e.g. `https://data.directory.openbankingbrasil.org.br/participants`.
    pub participants_url: Url,
    /// The keystore, e.g. `https://keystore.directory.openbankingbrasil.org.br/`.
    pub keystore_url: Url,
    /// Roots trusted for the directory's own TLS certificates (DER).
    pub tls_roots: Vec<Vec<u8>>,
    /// Trust anchors for participants' client certificates (DER): ICP-Brasil
    /// in production, the directory's sandbox CAs in the sandbox.
    pub client_anchors: Vec<Vec<u8>>,
    /// How long keystores are kept (default five minutes).
    pub keystore_ttl: Duration,
    /// How long the participants file is kept (default one hour).
    pub participants_ttl: Duration,
    /// How old a copy may be served while the directory is unreachable
    /// (default one day).
    pub max_stale: Duration,
    /// A keystore is read again for an unknown `kid` only if the copy at
    /// hand is at least this old (default one minute), so forged `kid`s
    /// cannot turn us against the directory.
    pub min_refresh: Duration,
}

impl DirectoryConfig {
    /// A configuration with the default lifetimes.
    pub fn new(
        participants_url: Url,
        keystore_url: Url,
        tls_roots: Vec<Vec<u8>>,
        client_anchors: Vec<Vec<u8>>,
    ) -> Self {
        Self {
            participants_url,
            keystore_url,
            tls_roots,
            client_anchors,
            keystore_ttl: Duration::from_secs(300),
            participants_ttl: Duration::from_secs(3600),
            max_stale: Duration::from_secs(86_400),
            min_refresh: Duration::from_secs(60),
        }
    }
}

struct Entry {
    body: Bytes,
    fetched_at: Timestamp,
}

/// The directory over HTTPS, with a cache.
pub struct HttpDirectory {
    config: DirectoryConfig,
    tls: Arc<ClientConfig>,
    clock: Arc<dyn Clock>,
    cache: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for HttpDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpDirectory")
            .field("participants_url", &self.config.participants_url.as_str())
            .field("keystore_url", &self.config.keystore_url.as_str())
            .finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> DirectoryError {
    DirectoryError::Unavailable(Box::new(e))
}

fn invalid(what: &'static str) -> DirectoryError {
    DirectoryError::Invalid(what.into())
}

enum Fetched {
    Document(Bytes),
    Gone,
}

impl HttpDirectory {
    /// A client of the directory described by `config`.
    ///
    /// # Errors
    /// [`DirectoryError::Invalid`] when a TLS root does not parse.
    pub fn new(config: DirectoryConfig, clock: Arc<dyn Clock>) -> Result<Self, DirectoryError> {
        let mut roots = rustls::RootCertStore::empty();
        for root in &config.tls_roots {
            roots
                .add(CertificateDer::from(root.clone()))
                .map_err(|_| invalid("a directory TLS root does not parse"))?;
        }
        let mut tls = ClientConfig::builder_with_provider(crate::mtls::provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|_| invalid("TLS configuration"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config,
            tls: Arc::new(tls),
            clock,
            cache: Mutex::new(HashMap::new()),
        })
    }

    async fn fetch(&self, url: &Url) -> Result<Fetched, DirectoryError> {
        if url.scheme() != "https" {
            return Err(invalid("the directory is only reached over https"));
        }
        let host = url
            .host_str()
            .ok_or_else(|| invalid("a directory URL has no host"))?
            .to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        let work = async {
            let tcp = TcpStream::connect((host.as_str(), port))
                .await
                .map_err(unavailable)?;
            let _ = tcp.set_nodelay(true);
            let name = ServerName::try_from(host.clone())
                .map_err(|_| invalid("a directory host is not a valid name"))?;
            let tls = TlsConnector::from(self.tls.clone())
                .connect(name, tcp)
                .await
                .map_err(unavailable)?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
                .await
                .map_err(unavailable)?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            let path = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_owned(),
            };
            let request = Request::get(path)
                .header(header::HOST, url.host_str().unwrap_or_default())
                .header(header::ACCEPT, "application/json")
                .body(Empty::<Bytes>::new())
                .map_err(|_| invalid("request"))?;
            let response = sender.send_request(request).await.map_err(unavailable)?;
            match response.status() {
                StatusCode::OK => {}
                StatusCode::NOT_FOUND | StatusCode::GONE => return Ok(Fetched::Gone),
                other => {
                    return Err(DirectoryError::Unavailable(
                        format!("directory answered {other}").into(),
                    ));
                }
            }
            let body = Limited::new(response.into_body(), MAX_DOCUMENT)
                .collect()
                .await
                .map_err(DirectoryError::Unavailable)?
                .to_bytes();
            Ok(Fetched::Document(body))
        };
        tokio::time::timeout(FETCH_TIMEOUT, work)
            .await
            .map_err(|_| DirectoryError::Unavailable("directory timed out".into()))?
    }

    /// The document at `url`: cached, refreshed after `ttl`, stale up to
    /// `max_stale` while the directory is unreachable.
    async fn document(&self, url: &Url, ttl: Duration) -> Result<Bytes, DirectoryError> {
        let now = self.clock.now();
        let cached = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache
                .get(url.as_str())
                .map(|e| (e.body.clone(), e.fetched_at))
        };
        if let Some((body, fetched_at)) = &cached
            && now < fetched_at.saturating_add(ttl)
        {
            return Ok(body.clone());
        }
        match self.fetch(url).await {
            Ok(Fetched::Document(body)) => {
                let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
                cache.insert(
                    url.as_str().to_owned(),
                    Entry {
                        body: body.clone(),
                        fetched_at: now,
                    },
                );
                Ok(body)
            }
            Ok(Fetched::Gone) => {
                let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
                cache.remove(url.as_str());
                Err(DirectoryError::NotFound)
            }
            Err(e) => match cached {
                Some((body, fetched_at))
                    if now < fetched_at.saturating_add(self.config.max_stale) =>
                {
                    tracing::warn!(url = %url, error = %e, "directory unreachable; serving the cached copy");
                    Ok(body)
                }
                _ => Err(e),
            },
        }
    }

    async fn keystore(&self, path: &str, ttl: Duration) -> Result<JwkSet, DirectoryError> {
        let url = self
            .config
            .keystore_url
            .join(path)
            .map_err(|_| invalid("keystore URL"))?;
        let body = self.document(&url, ttl).await?;
        crate::jose::jwk::parse_public_jwks(&body)
            .map_err(|_| invalid("a keystore is not a public JWKS"))
    }
}

/// The participants export, leniently: unknown members ignored, `null`s accepted.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawOrganisation {
    organisation_id: Option<String>,
    organisation_name: Option<String>,
    registration_number: Option<String>,
    status: Option<String>,
    #[serde(default)]
    org_domain_role_claims: Option<Vec<RawRoleClaim>>,
    #[serde(default)]
    authorisation_servers: Option<Vec<RawServer>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawRoleClaim {
    role: Option<String>,
    status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawServer {
    authorisation_server_id: Option<String>,
    customer_friendly_name: Option<String>,
    #[serde(rename = "OpenIDDiscoveryDocument")]
    open_id_discovery_document: Option<String>,
    payload_signing_cert_location_uri: Option<String>,
    #[serde(default)]
    api_resources: Option<Vec<RawApiResource>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawApiResource {
    api_family_type: Option<String>,
    api_version: Option<serde_json::Value>,
    #[serde(default)]
    api_discovery_endpoints: Option<Vec<RawEndpoint>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawEndpoint {
    api_endpoint: Option<String>,
}

fn role(name: &str) -> Option<Role> {
    match name {
        "DADOS" => Some(Role::Dados),
        "PAGTO" => Some(Role::Pagto),
        "CONTA" => Some(Role::Conta),
        "CCORR" => Some(Role::Ccorr),
        _ => None,
    }
}

/// Organisations of the participants export; entries without a usable id
/// are skipped, as are servers without a discovery document.
///
/// # Errors
/// [`DirectoryError::Invalid`] when the document is not a JSON array.
pub fn parse_participants(json: &[u8]) -> Result<Vec<Organisation>, DirectoryError> {
    let raw: Vec<RawOrganisation> =
        serde_json::from_slice(json).map_err(|_| invalid("participants export"))?;
    Ok(raw
        .into_iter()
        .filter_map(|o| {
            let id = OrganisationId::parse(o.organisation_id.as_deref()?).ok()?;
            let roles = o
                .org_domain_role_claims
                .unwrap_or_default()
                .into_iter()
                .filter(|c| c.status.as_deref() == Some("Active"))
                .filter_map(|c| role(c.role.as_deref()?))
                .collect();
            let authorisation_servers = o
                .authorisation_servers
                .unwrap_or_default()
                .into_iter()
                .filter_map(|s| {
                    Some(AuthorisationServer {
                        id: AuthorisationServerId::parse(s.authorisation_server_id.as_deref()?)
                            .ok()?,
                        customer_friendly_name: s.customer_friendly_name.unwrap_or_default(),
                        discovery_document: Url::parse(s.open_id_discovery_document.as_deref()?)
                            .ok()?,
                        payload_signing_jwks: s
                            .payload_signing_cert_location_uri
                            .and_then(|u| Url::parse(&u).ok()),
                        api_resources: s
                            .api_resources
                            .unwrap_or_default()
                            .into_iter()
                            .filter_map(|r| {
                                let version = match r.api_version? {
                                    serde_json::Value::String(v) => v,
                                    serde_json::Value::Number(n) => n.to_string(),
                                    _ => return None,
                                };
                                Some(ApiResource {
                                    family: r.api_family_type?,
                                    version,
                                    endpoints: r
                                        .api_discovery_endpoints
                                        .unwrap_or_default()
                                        .into_iter()
                                        .filter_map(|e| Url::parse(e.api_endpoint.as_deref()?).ok())
                                        .collect(),
                                })
                            })
                            .collect(),
                    })
                })
                .collect();
            Some(Organisation {
                id,
                name: o.organisation_name.unwrap_or_default(),
                registration_number: o.registration_number.unwrap_or_default(),
                active: o.status.as_deref() == Some("Active"),
                roles,
                authorisation_servers,
            })
        })
        .collect())
}

#[async_trait]
impl Directory for HttpDirectory {
    async fn participants(&self) -> Result<Vec<Organisation>, DirectoryError> {
        let url = self.config.participants_url.clone();
        let body = self.document(&url, self.config.participants_ttl).await?;
        parse_participants(&body)
    }

    async fn organisation_jwks(&self, org: &OrganisationId) -> Result<JwkSet, DirectoryError> {
        self.keystore(&format!("{org}/application.jwks"), self.config.keystore_ttl)
            .await
    }

    async fn software_statement_jwks(
        &self,
        org: &OrganisationId,
        software_statement: &SoftwareStatementId,
    ) -> Result<JwkSet, DirectoryError> {
        self.keystore(
            &format!("{org}/{software_statement}/application.jwks"),
            self.config.keystore_ttl,
        )
        .await
    }

    async fn software_statement_jwks_refreshed(
        &self,
        org: &OrganisationId,
        software_statement: &SoftwareStatementId,
    ) -> Result<JwkSet, DirectoryError> {
        self.keystore(
            &format!("{org}/{software_statement}/application.jwks"),
            self.config.min_refresh,
        )
        .await
    }

    async fn ssa_signing_keys(&self) -> Result<JwkSet, DirectoryError> {
        self.keystore("openbanking.jwks", self.config.keystore_ttl)
            .await
    }

    async fn trust_anchors(&self) -> Result<Vec<Vec<u8>>, DirectoryError> {
        Ok(self.config.client_anchors.clone())
    }
}
