//! Load generator for the token endpoint: `client_credentials` with
//! `private_key_jwt` (PS256) over mutual TLS and keep-alive, against the
//! sandbox's bank running as its own process, so the server's CPU time is
//! read from `/proc/<pid>/stat` apart from the generator's.
//!
//! ```text
//! cargo build --release -p opus-examples --bin sandbox
//! cargo run --release -p opus-benches --bin loadgen -- \
//!     [--sandbox target/release/sandbox | --peer-op target/interop] \
//!     [--requests 2000] [--connections 4]
//! ```
//!
//! With `--peer-op` it loads the interop kit's oidc-provider instead (its
//! static client `harness-load-pkjwt`, identity `load`), for the
//! side-by-side ratio of `benches/token-ratio.sh`.
//!
//! It starts the sandbox (`--memory --endpoints-file`), takes the
//! ready-made TPP identity from the endpoints file, signs every client
//! assertion before the clock starts (the generator's signing must not
//! compete with the server on a small machine), then sends a fixed number
//! of token requests over a fixed number of keep-alive connections, bounded
//! in time, on loopback only. It prints throughput, p50/p99 latency, the
//! server's CPU-seconds and requests per server CPU-second.

use std::error::Error;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use opus_core::keys::{KeyCustody, KeyPurpose};
use opus_core::{ClientId, Clock, SystemClock};
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
use opus_fapi::mtls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::Value;

type Failure = Box<dyn Error + Send + Sync>;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

struct Options {
    sandbox: PathBuf,
    /// The interop kit: load its oidc-provider instead of the sandbox.
    peer_op: Option<PathBuf>,
    requests: usize,
    connections: usize,
}

fn options() -> Result<Options, Failure> {
    let mut options = Options {
        sandbox: PathBuf::from("target/release/sandbox"),
        peer_op: None,
        requests: 2000,
        connections: 4,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--sandbox" => options.sandbox = PathBuf::from(value()?),
            "--peer-op" => options.peer_op = Some(PathBuf::from(value()?)),
            "--requests" => options.requests = value()?.parse()?,
            "--connections" => options.connections = value()?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if options.requests == 0 || options.connections == 0 {
        return Err("--requests and --connections must be positive".into());
    }
    Ok(options)
}

/// The sandbox process, stopped when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// User plus system CPU time of process `pid`, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: u32) -> Result<f64, Failure> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces), 1-based as in
    // proc(5): utime is field 14, stime field 15.
    let rest = stat.rsplit_once(')').ok_or("bad /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11).ok_or("no utime")?.parse::<f64>()?
        + fields.get(12).ok_or("no stime")?.parse::<f64>()?;
    // The kernel's USER_HZ is 100 on every Linux this runs on.
    Ok(ticks / 100.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

/// What to load: a token endpoint, the client that calls it, and the
/// server process whose CPU time counts.
struct Target {
    name: &'static str,
    issuer: String,
    ca_pem: String,
    transport_pem: String,
    transport_key_pem: String,
    signing_key_pem: String,
    signing_kid: String,
    client_id: ClientId,
    pid: u32,
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let options = options()?;
    match &options.peer_op {
        Some(kit) => run_peer_op(&options, kit).await,
        None => run_sandbox(&options).await,
    }
}

/// Our server: the sandbox as its own process, with the endpoints file's
/// ready-made TPP identity.
async fn run_sandbox(options: &Options) -> Result<(), Failure> {
    let dir = std::env::temp_dir().join(format!("opus-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let endpoints_file = dir.join("endpoints.json");
    let server = Server(
        std::process::Command::new(&options.sandbox)
            .args(["--memory", "--endpoints-file"])
            .arg(&endpoints_file)
            .arg("--work-dir")
            .arg(dir.join("sandbox"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", options.sandbox.display()))?,
    );
    let mut endpoints = None;
    for _ in 0..600 {
        if let Some(found) = std::fs::read_to_string(&endpoints_file)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        {
            endpoints = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let endpoints = endpoints.ok_or("the sandbox wrote no endpoints file within a minute")?;
    let text = |pointer: &str| -> Result<String, Failure> {
        Ok(endpoints
            .pointer(pointer)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no {pointer} in the endpoints file"))?
            .to_owned())
    };
    let read =
        |pointer: &str| -> Result<String, Failure> { Ok(std::fs::read_to_string(text(pointer)?)?) };
    let target = Target {
        name: "opus (sandbox bank)",
        issuer: text("/brands/0/issuer")?,
        ca_pem: read("/ca_pem_path")?,
        transport_pem: read("/tpp_identities/0/transport_certificate_path")?,
        transport_key_pem: read("/tpp_identities/0/transport_key_path")?,
        signing_key_pem: read("/tpp_identities/0/signing_key_path")?,
        signing_kid: text("/tpp_identities/0/signing_kid")?,
        client_id: ClientId::new(text("/tpp_identities/0/client_id")?)?,
        pid: server.0.id(),
    };
    let result = run(options, &target).await;
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The interop kit's oidc-provider, with its static client
/// `harness-load-pkjwt` (identity `load`).
async fn run_peer_op(options: &Options, kit: &std::path::Path) -> Result<(), Failure> {
    let started = std::process::Command::new(kit.join("peer-op/start.sh"))
        .env("PORT", "0")
        .env("QUIET", "1")
        .output()?;
    if !started.status.success() {
        return Err(format!(
            "peer-op did not start: {}",
            String::from_utf8_lossy(&started.stderr)
        )
        .into());
    }
    let port = String::from_utf8(started.stdout)?.trim().to_owned();
    let pid: u32 = std::fs::read_to_string(kit.join("peer-op/run/peer-op.pid"))?
        .trim()
        .parse()?;
    let read = |file: &str| -> Result<String, Failure> {
        Ok(std::fs::read_to_string(kit.join("pki").join(file))?)
    };
    let signing_key_pem = read("clients/load-sign.key")?;
    // oidc-provider's static clients use the RFC 7638 thumbprint as kid.
    let probe = SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::from_pem("probe", &signing_key_pem)?)
        .build()?;
    let jwks = probe.public_jwks().await?;
    let jwk = jwks.keys.first().ok_or("no public key")?;
    let signing_kid = opus_fapi::jose::jwk::thumbprint(jwk)?;
    let target = Target {
        name: "oidc-provider (interop kit peer-op)",
        issuer: format!("https://127.0.0.1:{port}"),
        ca_pem: read("ca.pem")?,
        transport_pem: read("clients/load-transport.pem")?,
        transport_key_pem: read("clients/load-transport.key")?,
        signing_key_pem,
        signing_kid,
        client_id: ClientId::new("harness-load-pkjwt")?,
        pid,
    };
    let result = run(options, &target).await;
    let _ = std::process::Command::new(kit.join("peer-op/stop.sh")).output();
    result
}

async fn run(options: &Options, target: &Target) -> Result<(), Failure> {
    let pid = target.pid;
    let anchors: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(target.ca_pem.as_bytes()).collect::<Result<_, _>>()?;
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(target.transport_pem.as_bytes())
            .collect::<Result<_, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(target.transport_key_pem.as_bytes())?;
    let tls = mtls::client_config(&anchors, chain, key)?;
    let custody = SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::from_pem(
            &target.signing_kid,
            &target.signing_key_pem,
        )?)
        .build()?;
    let signer = custody.signer(KeyPurpose::MessageSigning).await?;
    let client_id = target.client_id.clone();
    let discovery = opus_fapi::client::ServerMetadata::discover(&tls, &target.issuer).await?;
    let token_endpoint = discovery.token_endpoint.clone();

    // Every assertion signed before the clock starts.
    let now = SystemClock.now();
    let mut bodies = Vec::with_capacity(options.requests);
    for _ in 0..options.requests {
        let assertion = opus_fapi::client::client_assertion(
            signer.as_ref(),
            &client_id,
            token_endpoint.as_str(),
            now,
            Duration::from_secs(240),
        )
        .await?;
        bodies.push(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("grant_type", "client_credentials"),
                    ("scope", "consents"),
                    ("client_id", client_id.as_str()),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", assertion.as_str()),
                ])
                .finish(),
        );
    }
    let port = token_endpoint.port_or_known_default().ok_or("no port")?;
    let path = token_endpoint.path().to_owned();
    let mut per_connection: Vec<Vec<String>> = vec![Vec::new(); options.connections];
    for (n, body) in bodies.into_iter().enumerate() {
        per_connection[n % options.connections].push(body);
    }

    // Said before the clock starts, for a profiler to attach to `pid`.
    eprintln!(
        "sending {} requests to server process {pid}",
        options.requests
    );
    let cpu_before = cpu_seconds(pid)?;
    let started = Instant::now();
    let mut workers = Vec::new();
    for bodies in per_connection {
        let tls = tls.clone();
        let path = path.clone();
        workers.push(tokio::spawn(async move {
            connection(tls, port, &path, bodies).await
        }));
    }
    let mut latencies = Vec::with_capacity(options.requests);
    let mut failures = 0usize;
    for worker in workers {
        let (times, failed) = tokio::time::timeout(Duration::from_secs(300), worker)
            .await
            .map_err(|_| "the run did not finish within five minutes")???;
        latencies.extend(times);
        failures += failed;
    }
    let elapsed = started.elapsed();
    let server_cpu = cpu_seconds(pid)? - cpu_before;
    latencies.sort();
    let ok = latencies.len() - failures;
    println!(
        "{}: token endpoint, client_credentials + private_key_jwt (PS256), mTLS, keep-alive",
        target.name
    );
    println!(
        "  {} requests over {} connections in {:.2} s: {:.0} requests/s, {failures} failed",
        latencies.len(),
        options.connections,
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  latency p50 {:.2} ms, p99 {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0
    );
    println!(
        "  server CPU {server_cpu:.2} s: {:.0} successful requests per server CPU-second",
        ok as f64 / server_cpu.max(0.01)
    );
    if failures > 0 {
        return Err(format!("{failures} requests failed").into());
    }
    Ok(())
}

/// Sends `bodies` one after another over one keep-alive connection; the
/// latencies and how many did not answer 200.
async fn connection(
    tls: Arc<rustls::ClientConfig>,
    port: u16,
    path: &str,
    bodies: Vec<String>,
) -> Result<(Vec<Duration>, usize), Failure> {
    let mut config = (*tls).clone();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    stream.set_nodelay(true)?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("127.0.0.1")?, stream)
        .await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(conn);
    let mut times = Vec::with_capacity(bodies.len());
    let mut failed = 0;
    for body in bodies {
        let request = http::Request::post(path)
            .header(http::header::HOST, format!("127.0.0.1:{port}"))
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(Full::new(Bytes::from(body)))?;
        let sent = Instant::now();
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        response.into_body().collect().await?;
        times.push(sent.elapsed());
        if status != http::StatusCode::OK {
            failed += 1;
        }
    }
    Ok((times, failed))
}
