//! mTLS on loopback: the handler sees the client's OFB identity; clients
//! without a certificate or with one from an untrusted CA are refused; the
//! gateway header is honoured only from a trusted proxy address.

// Test helpers outside #[test] functions: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use opus_core::Cnpj;
use opus_fapi::mtls::{
    self, ClientCertPolicy, ClientCertificateLayer, ConnectionInfo, PeerCertificate, TrustedGateway,
};
use opus_testkit::{IssuedCertificate, OfbSubject, TestPki};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio_rustls::TlsConnector;
use tower::{Layer, ServiceBuilder, service_fn};

/// Answers 200 with the client's organisation id, or 401 without a certificate.
async fn whoami(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let response = match request.extensions().get::<PeerCertificate>() {
        Some(peer) => {
            let id = peer.identity().unwrap();
            let body = format!(
                "{} {} gateway={}",
                id.organisation_id
                    .map(|o| o.to_string())
                    .unwrap_or_default(),
                id.software_statement_id
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
                peer.via_gateway()
            );
            Response::new(Full::new(Bytes::from(body)))
        }
        None => {
            let mut r = Response::new(Full::new(Bytes::from_static(b"no client certificate")));
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            r
        }
    };
    Ok(response)
}

struct Fixture {
    directory: TestPki,
    bank: TestPki,
    server: IssuedCertificate,
    tpp: OfbSubject,
    tpp_cert: IssuedCertificate,
}

fn fixture() -> Fixture {
    let directory = TestPki::generate("Directory").unwrap();
    let bank = TestPki::generate("Bank").unwrap();
    let server = bank
        .server_certificate(&["127.0.0.1", "localhost"])
        .unwrap();
    let tpp = OfbSubject::example("tpp.example.com.br", Cnpj::parse("11222333000181").unwrap());
    let tpp_cert = directory.transport_certificate(&tpp).unwrap();
    Fixture {
        directory,
        bank,
        server,
        tpp,
        tpp_cert,
    }
}

fn key(cert: &IssuedCertificate) -> PrivateKeyDer<'static> {
    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        cert.key_pkcs8_der.expose().to_vec(),
    ))
}

fn chain(cert: &IssuedCertificate) -> Vec<CertificateDer<'static>> {
    cert.chain_der
        .iter()
        .map(|d| CertificateDer::from(d.clone()))
        .collect()
}

/// Starts a server on 127.0.0.1:0; returns its address and a stop handle.
async fn start(
    tls: Option<Arc<rustls::ServerConfig>>,
    layer: ClientCertificateLayer,
) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let service = ServiceBuilder::new()
        .layer(layer)
        .service(service_fn(whoami));
    tokio::spawn(mtls::serve(listener, tls, service, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// One GET over TLS with an optional client certificate.
async fn get_tls(
    addr: SocketAddr,
    anchors: &[CertificateDer<'static>],
    client: Option<&IssuedCertificate>,
) -> Result<(StatusCode, String), String> {
    let config = match client {
        Some(c) => mtls::client_config(anchors, chain(c), key(c)).unwrap(),
        None => {
            let mut roots = rustls::RootCertStore::empty();
            for a in anchors {
                roots.add(a.clone()).unwrap();
            }
            Arc::new(
                rustls::ClientConfig::builder_with_provider(mtls::provider())
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_root_certificates(roots)
                    .with_no_client_auth(),
            )
        }
    };
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let tls = TlsConnector::from(config)
        .connect(ServerName::IpAddress(Ipv4Addr::LOCALHOST.into()), stream)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    request(
        TokioIo::new(tls),
        Request::get("/whoami").body(Empty::<Bytes>::new()).unwrap(),
    )
    .await
}

async fn request<IO>(io: IO, req: Request<Empty<Bytes>>) -> Result<(StatusCode, String), String>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let response = sender
        .send_request(req)
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[tokio::test]
async fn a_valid_client_reaches_the_handler_with_its_ofb_identity() {
    let f = fixture();
    let tls = mtls::server_config(
        chain(&f.server),
        key(&f.server),
        &[f.directory.root_der().to_vec().into()],
        ClientCertPolicy::Required,
    )
    .unwrap();
    let (addr, _stop) = start(Some(tls), ClientCertificateLayer::tls_only()).await;
    let anchors = [CertificateDer::from(f.bank.root_der().to_vec())];
    let (status, body) = get_tls(addr, &anchors, Some(&f.tpp_cert)).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        format!(
            "{} {} gateway=false",
            f.tpp.organisation_id, f.tpp.software_statement_id
        )
    );
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused_where_one_is_required() {
    let f = fixture();
    let anchors = [CertificateDer::from(f.bank.root_der().to_vec())];
    let client_roots = [CertificateDer::from(f.directory.root_der().to_vec())];

    let required = mtls::server_config(
        chain(&f.server),
        key(&f.server),
        &client_roots,
        ClientCertPolicy::Required,
    )
    .unwrap();
    let (addr, _stop) = start(Some(required), ClientCertificateLayer::tls_only()).await;
    let refused = get_tls(addr, &anchors, None).await;
    assert!(
        refused.is_err(),
        "the handshake must not complete: {refused:?}"
    );

    // An optional-certificate listener lets the endpoint decide: this one says 401.
    let optional = mtls::server_config(
        chain(&f.server),
        key(&f.server),
        &client_roots,
        ClientCertPolicy::Optional,
    )
    .unwrap();
    let (addr, _stop2) = start(Some(optional), ClientCertificateLayer::tls_only()).await;
    let (status, _) = get_tls(addr, &anchors, None).await.unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = get_tls(addr, &anchors, Some(&f.tpp_cert)).await.unwrap();
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_certificate_from_an_untrusted_ca_fails_the_handshake() {
    let f = fixture();
    let rogue = TestPki::generate("Rogue").unwrap();
    let rogue_cert = rogue.transport_certificate(&f.tpp).unwrap();
    let tls = mtls::server_config(
        chain(&f.server),
        key(&f.server),
        &[f.directory.root_der().to_vec().into()],
        ClientCertPolicy::Optional,
    )
    .unwrap();
    let (addr, _stop) = start(Some(tls), ClientCertificateLayer::tls_only()).await;
    let anchors = [CertificateDer::from(f.bank.root_der().to_vec())];
    let result = get_tls(addr, &anchors, Some(&rogue_cert)).await;
    assert!(
        result.is_err(),
        "an untrusted client certificate must fail the handshake: {result:?}"
    );
}

#[tokio::test]
async fn the_gateway_header_counts_only_from_a_trusted_proxy() {
    let f = fixture();
    let header = http::HeaderName::from_static("x-ssl-client-cert");
    let encoded =
        percent_encoding::utf8_percent_encode(&f.tpp_cert.pem, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let call = |addr: SocketAddr, value: String| {
        let header = header.clone();
        async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            let req = Request::get("/whoami")
                .header(header, value)
                .body(Empty::<Bytes>::new())
                .unwrap();
            request(TokioIo::new(stream), req).await.unwrap()
        }
    };

    // Plain TCP behind the gateway, which connects from 127.0.0.1.
    let trusted = TrustedGateway {
        header: header.clone(),
        proxies: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
    };
    let (addr, _stop) = start(None, ClientCertificateLayer::with_gateway(trusted)).await;
    let (status, body) = call(addr, encoded.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        format!(
            "{} {} gateway=true",
            f.tpp.organisation_id, f.tpp.software_statement_id
        )
    );
    let (status, _) = call(addr, "not-a-certificate".into()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The same header from an address that is not the gateway's is ignored.
    let elsewhere = TrustedGateway {
        header: header.clone(),
        proxies: vec![IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))],
    };
    let (addr, _stop2) = start(None, ClientCertificateLayer::with_gateway(elsewhere)).await;
    let (status, _) = call(addr, encoded).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[test]
fn layers_are_cloneable_tower_layers() {
    let layer = ClientCertificateLayer::tls_only();
    let _service = layer.layer(service_fn(whoami));
}

#[test]
fn a_connection_reads_its_client_identity_once_and_again_for_a_replaced_chain() {
    let f = fixture();
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000);
    let mut info = ConnectionInfo::new(addr, Some(Arc::new(chain(&f.tpp_cert))));
    let first = info.client_identity().unwrap().unwrap();
    assert_eq!(first.organisation_id, Some(f.tpp.organisation_id));
    // Every request of the connection carries a clone: the same identity.
    let clone = info.clone();
    assert_eq!(clone.client_identity().unwrap().unwrap(), first);

    // A chain put in its place is read anew, not answered from the cache.
    let other = OfbSubject::example(
        "other.example.com.br",
        Cnpj::parse("11222333000181").unwrap(),
    );
    let other_cert = f.directory.transport_certificate(&other).unwrap();
    info.tls_client_chain = Some(Arc::new(chain(&other_cert)));
    let second = info.client_identity().unwrap().unwrap();
    assert_eq!(second.organisation_id, Some(other.organisation_id));
    assert_eq!(clone.client_identity().unwrap().unwrap(), first);

    // Without a client certificate there is no identity.
    assert!(ConnectionInfo::new(addr, None).client_identity().is_none());
    assert!(
        ConnectionInfo::new(addr, Some(Arc::new(Vec::new())))
            .client_identity()
            .is_none()
    );
}

#[tokio::test]
async fn a_layer_mounted_twice_keeps_what_the_outer_one_resolved() {
    let f = fixture();
    let header = http::HeaderName::from_static("x-ssl-client-cert");
    let layer = ClientCertificateLayer::with_gateway(TrustedGateway {
        header: header.clone(),
        proxies: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
    });
    // Outer (around a metrics capture) and inner (around one API): the
    // outer consumes the gateway's header; the inner must not undo it.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_stop, stopped) = oneshot::channel::<()>();
    let service = ServiceBuilder::new()
        .layer(layer.clone())
        .layer(layer)
        .service(service_fn(whoami));
    tokio::spawn(mtls::serve(listener, None, service, async {
        let _ = stopped.await;
    }));
    let encoded =
        percent_encoding::utf8_percent_encode(&f.tpp_cert.pem, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let stream = TcpStream::connect(addr).await.unwrap();
    let req = Request::get("/whoami")
        .header(header, encoded)
        .body(Empty::<Bytes>::new())
        .unwrap();
    let (status, body) = request(TokioIo::new(stream), req).await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        format!(
            "{} {} gateway=true",
            f.tpp.organisation_id, f.tpp.software_statement_id
        )
    );
}
