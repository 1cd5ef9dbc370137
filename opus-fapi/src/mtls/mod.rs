//! Mutual TLS with ICP-Brasil certificates.
//!
//! * [`server_config`]: a rustls server configuration — the server's chain
//!   and key, the client trust anchors, and whether a client certificate
//!   is required at the handshake ([`ClientCertPolicy`]). TLS 1.2 is limited
//!   to the BCP 195 ECDHE-GCM suites (the two OFB mandates among them), TLS
//!   1.3 is on, and session resumption is off (FAPI-BR §2.1).
//! * [`serve`]: an accept loop for tower services. Every request carries a
//!   [`ConnectionInfo`] extension: the peer address and the verified client
//!   certificate chain, if any.
//! * [`ClientCertificateLayer`]: resolves the effective client certificate
//!   into a [`PeerCertificate`] extension — from the TLS handshake, or, for
//!   connections from configured proxy addresses only, from a header in
//!   which a trusted gateway forwards the certificate (URL-encoded PEM).
//!   The header is removed from every request, so nothing behind the layer
//!   can be fooled by it. A request goes through it once: the same layer
//!   mounted again further in (around one API as well as around the
//!   metrics capture) keeps what the outer one resolved.
//! * [`client_config`]: a rustls client configuration with a client
//!   certificate and custom trust anchors.

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderName, Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::crypto::CryptoProvider;
use rustls::crypto::aws_lc_rs::{self, cipher_suite};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::{Layer, Service};

use crate::cert::{self, CertError, CertificateIdentity};

/// Failures building TLS configurations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MtlsError {
    /// A certificate, key or trust anchor was refused.
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn config_error(e: impl std::fmt::Display) -> MtlsError {
    MtlsError::Config(e.to_string())
}

/// Whether the handshake demands a client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientCertPolicy {
    /// No certificate, no connection (token, PAR, resource endpoints).
    Required,
    /// A certificate is requested and verified if sent; endpoints decide
    /// (discovery and JWKS share a listener with mTLS endpoints).
    Optional,
}

/// The crypto provider: aws-lc-rs, TLS 1.3 suites, and for TLS 1.2 only the
/// ECDHE-GCM suites of BCP 195.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_AES_256_GCM_SHA384,
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ],
        ..aws_lc_rs::default_provider()
    })
}

fn roots(anchors: &[CertificateDer<'static>]) -> Result<Arc<RootCertStore>, MtlsError> {
    let mut store = RootCertStore::empty();
    for anchor in anchors {
        store.add(anchor.clone()).map_err(config_error)?;
    }
    if store.is_empty() {
        return Err(MtlsError::Config("no trust anchors".into()));
    }
    Ok(Arc::new(store))
}

/// A server configuration for OFB endpoints.
///
/// # Errors
/// [`MtlsError`] for an unusable chain, key or trust anchor set.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_anchors: &[CertificateDer<'static>],
    policy: ClientCertPolicy,
) -> Result<Arc<ServerConfig>, MtlsError> {
    let provider = provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(roots(client_anchors)?, provider.clone());
    let verifier = match policy {
        ClientCertPolicy::Required => verifier,
        ClientCertPolicy::Optional => verifier.allow_unauthenticated(),
    }
    .build()
    .map_err(config_error)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(config_error)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(config_error)?;
    // FAPI-BR §2.1: no session resumption (rustls never renegotiates).
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A certificate chain (DER, leaf first) and its PKCS#8 private key in the
/// forms rustls takes, for [`server_config`] and [`client_config`].
pub fn identity(
    chain_der: &[Vec<u8>],
    key_pkcs8_der: &[u8],
) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
    (
        chain_der
            .iter()
            .cloned()
            .map(CertificateDer::from)
            .collect(),
        PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
            key_pkcs8_der.to_vec(),
        )),
    )
}

/// A client configuration presenting `chain`/`key` and trusting `anchors`.
///
/// # Errors
/// [`MtlsError`] for an unusable chain, key or trust anchor set.
pub fn client_config(
    anchors: &[CertificateDer<'static>],
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ClientConfig>, MtlsError> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(config_error)?
        .with_root_certificates(roots(anchors)?)
        .with_client_auth_cert(chain, key)
        .map_err(config_error)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Where a connection came from and what its TLS handshake verified.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The peer's address.
    pub remote_addr: SocketAddr,
    /// The client certificate chain verified in the handshake (leaf first).
    pub tls_client_chain: Option<Arc<Vec<CertificateDer<'static>>>>,
    /// The leaf's identity, parsed once for every request of the connection.
    identity: ChainIdentity,
}

/// The identity of a chain's leaf, parsed at most once, together with the
/// chain it was parsed from (a chain replaced afterwards is parsed anew).
type ChainIdentity = Arc<
    std::sync::OnceLock<(
        Arc<Vec<CertificateDer<'static>>>,
        Result<CertificateIdentity, CertError>,
    )>,
>;

impl ConnectionInfo {
    /// A connection from `remote_addr` whose handshake verified
    /// `tls_client_chain` (leaf first), if the client presented one.
    pub fn new(
        remote_addr: SocketAddr,
        tls_client_chain: Option<Arc<Vec<CertificateDer<'static>>>>,
    ) -> Self {
        Self {
            remote_addr,
            tls_client_chain,
            identity: ChainIdentity::default(),
        }
    }

    /// The OFB identity of the handshake's client certificate, `None`
    /// without one. Parsed once per connection, however many requests ask.
    pub fn client_identity(&self) -> Option<Result<CertificateIdentity, CertError>> {
        self.with_client_identity(Clone::clone)
    }

    /// `read` applied to the OFB identity of the handshake's client
    /// certificate (parsed once per connection) without copying it; `None`
    /// without a certificate.
    pub fn with_client_identity<T>(
        &self,
        read: impl FnOnce(&Result<CertificateIdentity, CertError>) -> T,
    ) -> Option<T> {
        let chain = self.tls_client_chain.as_ref()?;
        let leaf = chain.first()?;
        let (parsed_from, identity) = self
            .identity
            .get_or_init(|| (chain.clone(), cert::identity(leaf.as_ref())));
        if Arc::ptr_eq(parsed_from, chain) {
            Some(read(identity))
        } else {
            Some(read(&cert::identity(leaf.as_ref())))
        }
    }
}

/// The client certificate of a request, resolved by [`ClientCertificateLayer`].
#[derive(Debug, Clone)]
pub struct PeerCertificate {
    leaf: CertificateDer<'static>,
    via_gateway: bool,
    /// The connection whose handshake verified it (its identity is parsed
    /// once per connection); `None` when a gateway forwarded it.
    connection: Option<ConnectionInfo>,
}

impl PeerCertificate {
    /// The leaf certificate, DER.
    pub fn der(&self) -> &[u8] {
        self.leaf.as_ref()
    }

    /// Whether a trusted gateway forwarded it (rather than this process's handshake).
    pub fn via_gateway(&self) -> bool {
        self.via_gateway
    }

    /// The OFB identity in the certificate.
    ///
    /// # Errors
    /// [`CertError`] when it does not parse.
    pub fn identity(&self) -> Result<CertificateIdentity, CertError> {
        match self
            .connection
            .as_ref()
            .and_then(ConnectionInfo::client_identity)
        {
            Some(identity) => identity,
            None => cert::identity(self.leaf.as_ref()),
        }
    }
}

/// Runs `service` on every connection accepted from `listener` until
/// `shutdown` completes: TLS with `tls` when given, plain TCP otherwise
/// (behind a gateway that terminates TLS). Each request carries a
/// [`ConnectionInfo`]. A failed handshake closes that connection only.
pub async fn serve<S, B>(
    listener: TcpListener,
    tls: Option<Arc<ServerConfig>>,
    service: S,
    shutdown: impl Future<Output = ()>,
) where
    S: Service<Request<Incoming>, Response = http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let acceptor = tls.map(TlsAcceptor::from);
    tokio::pin!(shutdown);
    loop {
        let (stream, remote_addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::debug!(error = %e, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => return,
        };
        // Answers go out at once: with Nagle's algorithm on, a small
        // response waits for the peer's delayed ACK (tens of ms a call).
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = service.clone();
        tokio::spawn(async move {
            let builder = auto::Builder::new(TokioExecutor::new());
            match acceptor {
                Some(acceptor) => {
                    let tls = match acceptor.accept(stream).await {
                        Ok(tls) => tls,
                        Err(e) => {
                            tracing::debug!(peer = %remote_addr, error = %e, "TLS handshake failed");
                            return;
                        }
                    };
                    let chain = tls.get_ref().1.peer_certificates().map(|c| {
                        Arc::new(c.iter().map(|d| d.clone().into_owned()).collect::<Vec<_>>())
                    });
                    let info = ConnectionInfo::new(remote_addr, chain);
                    let svc = TowerToHyperService::new(WithConnectionInfo {
                        inner: service,
                        info,
                    });
                    let _ = builder.serve_connection(TokioIo::new(tls), svc).await;
                }
                None => {
                    let info = ConnectionInfo::new(remote_addr, None);
                    let svc = TowerToHyperService::new(WithConnectionInfo {
                        inner: service,
                        info,
                    });
                    let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                }
            }
        });
    }
}

/// Inserts a [`ConnectionInfo`] into every request.
#[derive(Clone)]
struct WithConnectionInfo<S> {
    inner: S,
    info: ConnectionInfo,
}

impl<S, B> Service<Request<B>> for WithConnectionInfo<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        request.extensions_mut().insert(self.info.clone());
        self.inner.call(request)
    }
}

/// A gateway that terminates TLS and forwards the client certificate.
#[derive(Debug, Clone)]
pub struct TrustedGateway {
    /// The header carrying the URL-encoded PEM certificate.
    pub header: HeaderName,
    /// Addresses the gateway connects from; the header is honoured only from these.
    pub proxies: Vec<IpAddr>,
}

/// Resolves each request's [`PeerCertificate`] (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct ClientCertificateLayer {
    gateway: Option<Arc<TrustedGateway>>,
}

impl ClientCertificateLayer {
    /// Client certificates from the TLS handshake only.
    pub fn tls_only() -> Self {
        Self { gateway: None }
    }

    /// Also from `gateway`'s header, for connections from its addresses.
    pub fn with_gateway(gateway: TrustedGateway) -> Self {
        Self {
            gateway: Some(Arc::new(gateway)),
        }
    }
}

impl<S> Layer<S> for ClientCertificateLayer {
    type Service = ClientCertificateService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientCertificateService {
            inner,
            gateway: self.gateway.clone(),
        }
    }
}

/// The service of [`ClientCertificateLayer`].
#[derive(Debug, Clone)]
pub struct ClientCertificateService<S> {
    inner: S,
    gateway: Option<Arc<TrustedGateway>>,
}

impl<S, B> Service<Request<B>> for ClientCertificateService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // Resolved once: a layer further out (e.g. around a metrics
        // capture) already consumed the gateway's header and decided.
        if request.extensions().get::<Resolved>().is_some() {
            return self.inner.call(request);
        }
        request.extensions_mut().insert(Resolved);
        let info = request.extensions().get::<ConnectionInfo>().cloned();
        let forwarded = self
            .gateway
            .as_ref()
            .and_then(|g| request.headers_mut().remove(&g.header).map(|v| (g, v)));
        let from_proxy = |g: &TrustedGateway| {
            info.as_ref()
                .is_some_and(|i| g.proxies.contains(&i.remote_addr.ip()))
        };
        let peer = match forwarded {
            Some((gateway, value)) if from_proxy(gateway) => decode_forwarded(value.as_bytes())
                .map(|leaf| PeerCertificate {
                    leaf,
                    via_gateway: true,
                    connection: None,
                }),
            _ => info.and_then(|info| {
                let leaf = info.tls_client_chain.as_ref()?.first()?.clone();
                Some(PeerCertificate {
                    leaf,
                    via_gateway: false,
                    connection: Some(info),
                })
            }),
        };
        request.extensions_mut().remove::<PeerCertificate>();
        if let Some(peer) = peer {
            request.extensions_mut().insert(peer);
        }
        self.inner.call(request)
    }
}

/// Marks a request whose [`PeerCertificate`] a [`ClientCertificateLayer`]
/// has resolved (private: nothing else can set it).
#[derive(Debug, Clone, Copy)]
struct Resolved;

/// A URL-encoded PEM certificate, as gateways forward it.
fn decode_forwarded(value: &[u8]) -> Option<CertificateDer<'static>> {
    let decoded: Vec<u8> = percent_encoding::percent_decode(value).collect();
    CertificateDer::from_pem_slice(&decoded).ok()
}

/// Why an outgoing HTTPS exchange got no answer.
#[derive(Debug, thiserror::Error)]
#[error("HTTPS exchange failed: {0}")]
pub struct ExchangeError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// The answer to an outgoing HTTPS request.
#[derive(Debug, Clone)]
pub struct Exchanged {
    /// The HTTP status.
    pub status: http::StatusCode,
    /// The response headers.
    pub headers: http::HeaderMap,
    /// The whole body (at most `max_body` bytes).
    pub body: bytes::Bytes,
}

/// One HTTP/1.1 request over TLS with `config` (its client certificate, if
/// any, presented: mutual TLS), answered within `timeout`: what webhooks,
/// the metrics collector and other outgoing calls share.
///
/// # Errors
/// [`ExchangeError`] when the URL has no host, or the connection, the TLS
/// handshake or the exchange fails or times out, or the body exceeds
/// `max_body`.
pub async fn exchange(
    config: &Arc<ClientConfig>,
    request: http::Request<bytes::Bytes>,
    url: &url::Url,
    timeout: std::time::Duration,
    max_body: usize,
) -> Result<Exchanged, ExchangeError> {
    use http_body_util::BodyExt;
    let error = |e: Box<dyn std::error::Error + Send + Sync>| ExchangeError(e);
    let host = url
        .host_str()
        .ok_or_else(|| error("URL without a host".into()))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let name =
        rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| error(Box::new(e)))?;
    let mut config = (**config).clone();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let (mut parts, body) = request.into_parts();
    parts.uri = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
    .parse()
    .map_err(|e: http::uri::InvalidUri| error(Box::new(e)))?;
    let authority = http::HeaderValue::from_str(url.authority()).map_err(|e| error(Box::new(e)))?;
    parts.headers.insert(http::header::HOST, authority);
    let request = http::Request::from_parts(parts, http_body_util::Full::new(body));
    let run = async {
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| error(Box::new(e)))?;
        // No Nagle delay on requests (see `serve`).
        let _ = stream.set_nodelay(true);
        let tls = connector
            .connect(name, stream)
            .await
            .map_err(|e| error(Box::new(e)))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| error(Box::new(e)))?;
        tokio::spawn(connection);
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| error(Box::new(e)))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = http_body_util::Limited::new(response.into_body(), max_body)
            .collect()
            .await
            .map_err(error)?
            .to_bytes();
        Ok(Exchanged {
            status,
            headers,
            body,
        })
    };
    tokio::time::timeout(timeout, run)
        .await
        .map_err(|e| error(Box::new(e)))?
}
