//! Load generator: a fixed number of FAPI-BR calls over a fixed number of
//! keep-alive mutual-TLS connections, against a server running as its own
//! process, so the server's CPU time and memory are read from `/proc`
//! apart from the generator's.
//!
//! ```text
//! cargo build --release -p opus-examples --bin sandbox -p opus-benches --bin loadgen
//! target/release/loadgen [--scenario token|code-flow|accounts|payment|hello] \
//!     [--sandbox target/release/sandbox] [--sandbox-arg ARG]... \
//!     [--peer-op target/interop] [--postgres URL] [--count-processes NAME] \
//!     [--requests 2000] [--connections 4]
//! ```
//!
//! Scenarios:
//!
//! - `token`: `client_credentials` with `private_key_jwt` (PS256);
//! - `code-flow`: the whole authorization-code flow, one customer after
//!   another: PAR with a signed request object and PKCE, the authorization
//!   endpoint and the auto-approving login followed as a browser would
//!   (cookies kept), `code id_token` with the ID token signed and
//!   encrypted, then the code exchanged at the token endpoint;
//! - `accounts`: `GET /open-banking/accounts/v2/accounts/{accountId}/balances`
//!   with consent-bound tokens (as many consents as the endpoint's monthly
//!   limit per consent asks);
//! - `payment`: `POST /open-banking/payments/v4/pix/payments`, a signed JWT
//!   each against its own authorised consent, the answer signed;
//! - `hello`: the ceiling for resource GETs: a raw hyper + rustls server
//!   (the same TLS configuration, HTTP/1.1, no application) answering
//!   `hello` to the same GET as `accounts`.
//!
//! The server is the sandbox's bank (started with `--memory
//! --endpoints-file` and every `--sandbox-arg`; the endpoints file's
//! ready-made TPP identity is the client; with `--postgres URL` its state
//! goes to a fresh database created next to the one `URL` names and
//! dropped after the run, and the CPU time of the `postgres` processes
//! counts too), or with `--peer-op` the interop
//! kit's oidc-provider (`token` with its static client
//! `harness-load-pkjwt`, `code-flow` with a client registered by DCR with
//! an encryption key; identity `load`), for the side-by-side ratios of
//! `benches/compare.sh`.
//!
//! Everything a scenario needs is prepared before the clock starts:
//! consents created (and, for `accounts` and `payment`, authorised with the
//! SDK's clients, which validate the encrypted ID token), client
//! assertions, request objects and payment JWTs signed (the generator's
//! signing must not compete with the server on a small machine). Then the
//! calls go, bounded in time, on loopback only. It prints throughput,
//! p50/p99 latency (of a whole flow for `code-flow`), the server's
//! CPU-seconds (plus those of every process named by `--count-processes`,
//! e.g. `postgres`), successful calls per CPU-second and the server's
//! resident memory.

mod conn;
mod hello;
mod targets;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use conn::Conn;
use http::{Method, StatusCode};
use opus_core::keys::{JwsSigner, KeyCustody, KeyPurpose};
use opus_core::{ClientId, Clock, SystemClock};
use opus_fapi::client::{FapiClient, ServerMetadata, client_assertion, pkce_pair};
use opus_fapi::custody::software::SoftwareKeyCustody;
use opus_fapi::jose::jws;
use opus_fapi::mtls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};

type Failure = Box<dyn Error + Send + Sync>;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The interop kit's redirect URI (never served: the browser stops there).
const PEER_OP_REDIRECT: &str = "https://127.0.0.1/harness/cb";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    Token,
    CodeFlow,
    Accounts,
    Payment,
    Hello,
}

impl Scenario {
    fn describe(self) -> &'static str {
        match self {
            Self::Token => "token endpoint, client_credentials + private_key_jwt (PS256)",
            Self::CodeFlow => {
                "whole code flow: PAR (PS256 request object, PKCE) → authorize → auto-approve → \
                 code id_token (ID token signed and encrypted) → token"
            }
            Self::Accounts => "GET an account's balances with a consent-bound token",
            Self::Payment => "POST pix/payments, signed JWT both ways",
            Self::Hello => "GET on a raw hyper + rustls hello server (the ceiling)",
        }
    }
}

#[derive(Clone)]
struct Options {
    scenario: Scenario,
    sandbox: PathBuf,
    sandbox_args: Vec<String>,
    /// The interop kit: load its oidc-provider instead of the sandbox.
    peer_op: Option<PathBuf>,
    /// Processes whose CPU time counts with the server's (`postgres`).
    count_processes: Vec<String>,
    /// A PostgreSQL server for the sandbox's state.
    postgres: Option<String>,
    requests: usize,
    connections: usize,
}

fn options() -> Result<Options, Failure> {
    let mut options = Options {
        scenario: Scenario::Token,
        sandbox: PathBuf::from("target/release/sandbox"),
        sandbox_args: Vec::new(),
        peer_op: None,
        count_processes: Vec::new(),
        postgres: None,
        requests: 2000,
        connections: 4,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--scenario" => {
                options.scenario = match value()?.as_str() {
                    "token" => Scenario::Token,
                    "code-flow" => Scenario::CodeFlow,
                    "accounts" => Scenario::Accounts,
                    "payment" => Scenario::Payment,
                    "hello" => Scenario::Hello,
                    other => return Err(format!("unknown scenario {other}").into()),
                }
            }
            "--sandbox" => options.sandbox = PathBuf::from(value()?),
            "--sandbox-arg" => options.sandbox_args.push(value()?),
            "--peer-op" => options.peer_op = Some(PathBuf::from(value()?)),
            "--count-processes" => options.count_processes.push(value()?),
            "--postgres" => options.postgres = Some(value()?),
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

// ------------------------------------------------------------ the server

/// The server process, stopped when dropped.
enum Server {
    Child(std::process::Child),
    PeerOp { kit: PathBuf, pid: u32 },
}

impl Server {
    fn pid(&self) -> u32 {
        match self {
            Self::Child(child) => child.id(),
            Self::PeerOp { pid, .. } => *pid,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        match self {
            Self::Child(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Self::PeerOp { kit, .. } => {
                let _ = std::process::Command::new(kit.join("peer-op/stop.sh")).output();
            }
        }
    }
}

/// User plus system CPU seconds of process `pid`, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces), 1-based as in
    // proc(5): utime is field 14, stime field 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // The kernel's USER_HZ is 100 on every Linux this runs on.
    Some(ticks / 100.0)
}

/// The CPU seconds of every process named `name` (its `comm`), by pid.
fn cpu_of_processes(name: &str) -> std::collections::BTreeMap<u32, f64> {
    let mut found = std::collections::BTreeMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim() == name
            && let Some(cpu) = cpu_seconds(pid)
        {
            found.insert(pid, cpu);
        }
    }
    found
}

/// A field of `/proc/<pid>/status` in MiB (`VmRSS`, `VmHWM`).
fn memory_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The client side of a run: the TLS identity, the keys, the server's
/// metadata.
#[derive(Clone)]
struct Identity {
    tls: Arc<rustls::ClientConfig>,
    custody: Arc<SoftwareKeyCustody>,
    client_id: ClientId,
    server: ServerMetadata,
    port: u16,
}

impl Identity {
    async fn new(
        ca_pem: &str,
        transport_pem: &str,
        transport_key_pem: &str,
        custody: Arc<SoftwareKeyCustody>,
        client_id: ClientId,
        issuer: &str,
    ) -> Result<Self, Failure> {
        let anchors: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(ca_pem.as_bytes()).collect::<Result<_, _>>()?;
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(transport_pem.as_bytes()).collect::<Result<_, _>>()?;
        let key = PrivateKeyDer::from_pem_slice(transport_key_pem.as_bytes())?;
        let tls = mtls::client_config(&anchors, chain, key)?;
        let server = ServerMetadata::discover(&tls, issuer).await?;
        let port = server
            .token_endpoint
            .port_or_known_default()
            .ok_or("no port")?;
        Ok(Self {
            tls,
            custody,
            client_id,
            server,
            port,
        })
    }

    fn client(&self) -> FapiClient {
        let custody: Arc<dyn KeyCustody> = self.custody.clone();
        FapiClient::new(
            self.tls.clone(),
            custody,
            self.client_id.clone(),
            self.server.clone(),
            Arc::new(SystemClock),
        )
    }

    async fn signer(&self) -> Result<Arc<dyn JwsSigner>, Failure> {
        Ok(self.custody.signer(KeyPurpose::MessageSigning).await?)
    }

    /// A client assertion for this server (its issuer as the audience).
    async fn assertion(&self, signer: &dyn JwsSigner) -> Result<String, Failure> {
        Ok(client_assertion(
            signer,
            &self.client_id,
            &self.server.issuer,
            SystemClock.now(),
            Duration::from_secs(240),
        )
        .await?)
    }
}

// ------------------------------------------------------------ the calls

/// One unit of load: a call, or a whole flow.
enum Job {
    /// A form POST answered 200 (the token endpoint).
    Form { path: Arc<str>, form: String },
    /// A GET with a bearer token answered 200.
    Get {
        path: Arc<str>,
        token: Arc<str>,
        interaction: String,
    },
    /// A signed payment answered 201.
    Payment {
        path: Arc<str>,
        token: String,
        jwt: String,
        idempotency: String,
    },
    /// The whole authorization-code flow.
    Flow(Box<Flow>),
}

struct Flow {
    par_path: Arc<str>,
    par_form: String,
    /// The authorization endpoint's path with `?client_id=…&request_uri=`.
    authorize: Arc<str>,
    redirect_uri: Arc<str>,
    token_path: Arc<str>,
    /// The code exchange's form without the code.
    token_form: String,
}

async fn perform(conn: &mut Conn, job: &Job) -> Result<(), String> {
    let failed = |e: Failure| e.to_string();
    let expect = |answer: &conn::Answer, status: StatusCode, what: &str| {
        if answer.status == status {
            Ok(())
        } else {
            Err(format!(
                "{what} answered {}: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ))
        }
    };
    match job {
        Job::Form { path, form } => {
            let answer = conn.post_form(path, form).await.map_err(failed)?;
            expect(&answer, StatusCode::OK, path)
        }
        Job::Get {
            path,
            token,
            interaction,
        } => {
            let bearer = format!("Bearer {token}");
            let answer = conn
                .call(
                    Method::GET,
                    path,
                    &[
                        ("authorization", &bearer),
                        ("x-fapi-interaction-id", interaction),
                        ("accept", "application/json"),
                    ],
                    Bytes::new(),
                )
                .await
                .map_err(failed)?;
            expect(&answer, StatusCode::OK, path)
        }
        Job::Payment {
            path,
            token,
            jwt,
            idempotency,
        } => {
            let bearer = format!("Bearer {token}");
            let answer = conn
                .call(
                    Method::POST,
                    path,
                    &[
                        ("authorization", &bearer),
                        ("content-type", "application/jwt"),
                        ("accept", "application/jwt"),
                        ("x-idempotency-key", idempotency),
                        ("x-fapi-interaction-id", idempotency),
                    ],
                    Bytes::copy_from_slice(jwt.as_bytes()),
                )
                .await
                .map_err(failed)?;
            expect(&answer, StatusCode::CREATED, path)
        }
        Job::Flow(flow) => {
            let answer = conn
                .post_form(&flow.par_path, &flow.par_form)
                .await
                .map_err(failed)?;
            expect(&answer, StatusCode::CREATED, "PAR")?;
            let pushed: Value = serde_json::from_slice(&answer.body).map_err(|e| e.to_string())?;
            let request_uri = pushed["request_uri"].as_str().ok_or("no request_uri")?;
            let authorize = format!(
                "{}{}",
                flow.authorize,
                url::form_urlencoded::byte_serialize(request_uri.as_bytes()).collect::<String>()
            );
            let params = conn
                .browse(&authorize, &flow.redirect_uri)
                .await
                .map_err(failed)?;
            let code = params
                .get("code")
                .ok_or_else(|| format!("no code in the answer: {params:?}"))?;
            if !params.contains_key("id_token") {
                return Err("no id_token in the front channel".into());
            }
            let form = format!(
                "{}&code={}",
                flow.token_form,
                url::form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>()
            );
            let answer = conn
                .post_form(&flow.token_path, &form)
                .await
                .map_err(failed)?;
            expect(&answer, StatusCode::OK, "the code exchange")?;
            let tokens: Value = serde_json::from_slice(&answer.body).map_err(|e| e.to_string())?;
            if tokens["access_token"].is_string() && tokens["id_token"].is_string() {
                Ok(())
            } else {
                Err(format!("the code exchange answered {tokens}"))
            }
        }
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `count` client-credentials requests, each with its own assertion.
async fn token_jobs(
    identity: &Identity,
    scope: &str,
    audience: &str,
    count: usize,
) -> Result<Vec<Job>, Failure> {
    let signer = identity.signer().await?;
    let path: Arc<str> = identity.server.token_endpoint.path().into();
    let now = SystemClock.now();
    let mut jobs = Vec::with_capacity(count);
    for _ in 0..count {
        let assertion = client_assertion(
            signer.as_ref(),
            &identity.client_id,
            audience,
            now,
            Duration::from_secs(240),
        )
        .await?;
        jobs.push(Job::Form {
            path: path.clone(),
            form: form(&[
                ("grant_type", "client_credentials"),
                ("scope", scope),
                ("client_id", identity.client_id.as_str()),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ]),
        });
    }
    Ok(jobs)
}

/// One whole code flow for `scope`, its request object and assertions
/// signed now.
async fn flow_job(
    identity: &Identity,
    signer: &dyn JwsSigner,
    scope: &str,
    redirect_uri: &str,
) -> Result<Job, Failure> {
    let (verifier, challenge) = pkce_pair().ok_or("no randomness")?;
    let now = SystemClock.now().unix_seconds();
    let client_id = identity.client_id.as_str();
    let request_object = jws::sign_claims(
        signer,
        Some("oauth-authz-req+jwt"),
        &json!({
            "iss": client_id,
            "aud": identity.server.issuer,
            "client_id": client_id,
            "response_type": "code id_token",
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": uuid::Uuid::new_v4().simple().to_string(),
            "nonce": uuid::Uuid::new_v4().simple().to_string(),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "nbf": now,
            "exp": now + 600,
            "jti": uuid::Uuid::new_v4().to_string(),
            "acr_values": "urn:brasil:openbanking:loa2",
        }),
    )
    .await?;
    let par_assertion = identity.assertion(signer).await?;
    let token_assertion = identity.assertion(signer).await?;
    let authorize = format!(
        "{}?client_id={}&request_uri=",
        identity.server.authorization_endpoint.path(),
        url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect::<String>()
    );
    Ok(Job::Flow(Box::new(Flow {
        par_path: identity.server.par_endpoint.path().into(),
        par_form: form(&[
            ("client_id", client_id),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &par_assertion),
            ("request", &request_object),
        ]),
        authorize: authorize.into(),
        redirect_uri: redirect_uri.into(),
        token_path: identity.server.token_endpoint.path().into(),
        token_form: form(&[
            ("grant_type", "authorization_code"),
            ("redirect_uri", redirect_uri),
            ("code_verifier", &verifier),
            ("client_id", client_id),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &token_assertion),
        ]),
    })))
}

// ------------------------------------------------------------ a run

struct Run<'a> {
    name: &'a str,
    scenario: Scenario,
    server: &'a Server,
    tls: Arc<rustls::ClientConfig>,
    port: u16,
    count_processes: &'a [String],
    connections: usize,
}

impl<'a> Run<'a> {
    /// A run of `options`' scenario against `server`, named `name`,
    /// connecting to `127.0.0.1:<port>` with `tls`.
    fn of(
        name: &'a str,
        options: &'a Options,
        server: &'a Server,
        tls: Arc<rustls::ClientConfig>,
        port: u16,
    ) -> Self {
        Self {
            name,
            scenario: options.scenario,
            server,
            tls,
            port,
            count_processes: &options.count_processes,
            connections: options.connections,
        }
    }
}

/// Sends `jobs` over the run's connections and prints what it measured.
async fn measure(run: &Run<'_>, jobs: Vec<Job>) -> Result<(), Failure> {
    let total = jobs.len();
    let mut per_connection: Vec<Vec<Job>> = (0..run.connections).map(|_| Vec::new()).collect();
    for (n, job) in jobs.into_iter().enumerate() {
        per_connection[n % run.connections].push(job);
    }
    let mut conns = Vec::with_capacity(run.connections);
    for _ in 0..run.connections {
        conns.push(Conn::open(&run.tls, run.port).await?);
    }
    let pid = run.server.pid();
    // Said before the clock starts, for a profiler to attach to `pid`.
    eprintln!("sending {total} jobs to server process {pid}");
    let others_before: Vec<_> = run
        .count_processes
        .iter()
        .map(|name| cpu_of_processes(name))
        .collect();
    let cpu_before = cpu_seconds(pid).ok_or("cannot read the server's CPU time")?;
    let started = Instant::now();
    let mut workers = Vec::new();
    for (mut conn, jobs) in conns.into_iter().zip(per_connection) {
        let (tls, port) = (run.tls.clone(), run.port);
        workers.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(jobs.len());
            let mut failures = 0usize;
            let mut first_failure = None;
            for job in &jobs {
                let sent = Instant::now();
                let result = perform(&mut conn, job).await;
                times.push(sent.elapsed());
                if let Err(why) = result {
                    failures += 1;
                    first_failure.get_or_insert(why);
                    // A broken connection is opened again.
                    if let Ok(fresh) = Conn::open(&tls, port).await {
                        conn = fresh;
                    }
                }
            }
            (times, failures, first_failure)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut failures = 0usize;
    let mut first_failure = None;
    for worker in workers {
        let (times, failed, first) = tokio::time::timeout(Duration::from_secs(600), worker)
            .await
            .map_err(|_| "the run did not finish within ten minutes")??;
        latencies.extend(times);
        failures += failed;
        first_failure = first_failure.or(first);
    }
    let elapsed = started.elapsed();
    let server_cpu = cpu_seconds(pid).ok_or("cannot read the server's CPU time")? - cpu_before;
    let mut others_cpu = 0.0;
    for (name, before) in run.count_processes.iter().zip(others_before) {
        for (other, cpu) in cpu_of_processes(name) {
            others_cpu += cpu - before.get(&other).copied().unwrap_or(0.0);
        }
    }
    latencies.sort();
    let ok = total - failures;
    println!(
        "{}: {}, mTLS, keep-alive",
        run.name,
        run.scenario.describe()
    );
    println!(
        "  {total} {} over {} connections in {:.2} s: {:.0} per second, {failures} failed",
        if run.scenario == Scenario::CodeFlow {
            "flows"
        } else {
            "requests"
        },
        run.connections,
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  latency p50 {:.2} ms, p99 {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0
    );
    println!(
        "  server CPU {server_cpu:.2} s: {:.0} successful per server CPU-second",
        ok as f64 / server_cpu.max(0.01)
    );
    if !run.count_processes.is_empty() {
        let all = server_cpu + others_cpu;
        println!(
            "  with {} {others_cpu:.2} s: {:.0} successful per CPU-second of both",
            run.count_processes.join(", "),
            ok as f64 / all.max(0.01)
        );
    }
    if let (Some(rss), Some(peak)) = (memory_mib(pid, "VmRSS:"), memory_mib(pid, "VmHWM:")) {
        println!("  server resident memory {rss:.1} MiB after the run, peak {peak:.1} MiB");
    }
    if let Some(why) = first_failure {
        return Err(format!("{failures} failed; the first: {why}").into());
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some("--serve-hello") {
        let dir = args.next().ok_or("--serve-hello needs a directory")?;
        return hello::serve(Path::new(&dir)).await;
    }
    let options = options()?;
    match (&options.peer_op, options.scenario) {
        (Some(kit), _) => targets::peer_op(&options, kit).await,
        (None, Scenario::Hello) => hello::run(&options).await,
        (None, _) => targets::sandbox(&options).await,
    }
}
