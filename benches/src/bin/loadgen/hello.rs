//! The ceiling for resource GETs: a raw hyper + rustls server (the TLS
//! configuration the bank uses, client certificates asked for, HTTP/1.1)
//! answering `hello` to every request, run as its own process
//! (`loadgen --serve-hello DIR`) so its CPU time is read apart.

use std::convert::Infallible;
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use opus_fapi::mtls::{self, ClientCertPolicy};
use opus_testkit::pki::{OfbSubject, TestPki};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::{Failure, Job, Options, Run, Server, measure};

fn read_der(dir: &Path, name: &str) -> Result<Vec<u8>, Failure> {
    Ok(std::fs::read(dir.join(name))?)
}

/// Serves `hello` on a free loopback port with the certificates in `dir`;
/// prints the port, then serves until killed.
pub(crate) async fn serve(dir: &Path) -> Result<(), Failure> {
    let chain = vec![
        CertificateDer::from(read_der(dir, "server-0.der")?),
        CertificateDer::from(read_der(dir, "server-1.der")?),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(read_der(dir, "server.key")?));
    let anchors = [CertificateDer::from(read_der(dir, "root.der")?)];
    let tls = mtls::server_config(chain, key, &anchors, ClientCertPolicy::Optional)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", listener.local_addr()?.port())?;
    stdout.flush()?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(stream).await else {
                return;
            };
            let service = hyper::service::service_fn(|_request| async {
                Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"hello"))))
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// Starts the hello server and sends it the `accounts` scenario's GETs.
pub(crate) async fn run(options: &Options) -> Result<(), Failure> {
    let dir = std::env::temp_dir().join(format!("opus-loadgen-hello-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_in(options, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_in(options: &Options, dir: &Path) -> Result<(), Failure> {
    let pki = TestPki::generate("loadgen hello")?;
    let leaf = pki.server_certificate(&["127.0.0.1"])?;
    for (n, der) in leaf.chain_der.iter().enumerate() {
        std::fs::write(dir.join(format!("server-{n}.der")), der)?;
    }
    std::fs::write(dir.join("server.key"), leaf.key_pkcs8_der.expose())?;
    std::fs::write(dir.join("root.der"), pki.root_der())?;
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .arg("--serve-hello")
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = Server::Child(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let port: u16 = line.trim().parse()?;

    let client = pki.transport_certificate(&OfbSubject::example(
        "loadgen.localhost",
        opus_core::Cnpj::parse("11444777000161")?,
    ))?;
    let (chain, key) = mtls::identity(&client.chain_der, client.key_pkcs8_der.expose());
    let tls = mtls::client_config(&[CertificateDer::from(pki.root_der().to_vec())], chain, key)?;
    let path: Arc<str> = "/hello".into();
    // A token as long as the bank's.
    let token: Arc<str> = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
    .into();
    let jobs = (0..options.requests)
        .map(|_| Job::Get {
            path: path.clone(),
            token: token.clone(),
            interaction: uuid::Uuid::new_v4().to_string(),
        })
        .collect();
    let run = Run::of("raw hyper + rustls hello", options, &server, tls, port);
    measure(&run, jobs).await
}
