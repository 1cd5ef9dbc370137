//! The sandbox: Open Finance Brasil on one machine.
//!
//! It starts on loopback a mock directory, a bank (the FAPI-BR
//! authorization server, the Consents API, the data APIs over a synthetic
//! back office, payment consents, Pix and recurring payments, webhooks, the
//! status and admin APIs, the management API for its channels) on the
//! embedded store, and a mock metrics collector; fintechs built from the
//! SDK's clients then run the scripted journeys (see
//! `opus_examples::journeys`), printed step by step. Then it keeps serving
//! and prints what to try next.
//!
//! ```text
//! sandbox [--once] [--memory | --store URL] [--endpoints-file FILE] [--work-dir DIR]
//!         [--without-metrics-capture] [--quota-factor N] [--tour]
//! ```
//!
//! - `--once`: run the journeys, print a summary and exit (non-zero when a
//!   journey failed);
//! - `--memory`: keep the bank's state in memory instead of an SQLite file;
//! - `--store URL`: keep it where `URL` says instead (`postgres://…`,
//!   `sqlite:<path>` or `memory:`, as the bank server's `[storage] url`);
//! - `--without-metrics-capture`: serve without capturing the calls for
//!   the metrics reports (benchmarks measure what the capture costs; a
//!   participant must capture);
//! - `--quota-factor N`: multiply the data endpoints' monthly operational
//!   limits by `N` (an institution may raise them; load tests do);
//! - `--endpoints-file FILE`: write the JSON description of what is
//!   running (see `opus_examples::endpoints`), with a ready-made TPP
//!   identity;
//! - `--work-dir DIR`: where the SQLite file, the CA and the identities
//!   go (a fresh directory under the system's temporary directory by
//!   default, removed on exit unless an endpoints file names its files);
//! - `--tour`: the in-process walk through the foundation instead (test
//!   PKI, brands, sealing, blind indexes, a FAPI-BR journey by hand).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use opus_core::{Clock, Storage, SystemClock};
use opus_examples::bank::{
    BankSetup, BrandSetup, Failure, LoopbackBank, TEST_CHANNEL_HEADER, sandbox_customer,
};
use opus_examples::endpoints;
use opus_examples::fintech::SandboxFintech;
use opus_examples::journeys::{Trace, data_consent, run_all};
use opus_store::{MemoryStore, SqliteStore};
use opus_testkit::SyntheticBank;

mod fapi;
mod tour;

const USAGE: &str = "usage: sandbox [--once] [--memory | --store URL] [--endpoints-file FILE] [--work-dir DIR] \
     [--without-metrics-capture] [--quota-factor N] [--tour]";

#[derive(Debug, Default)]
struct Options {
    once: bool,
    memory: bool,
    store: Option<String>,
    without_metrics_capture: bool,
    quota_factor: Option<u64>,
    tour: bool,
    endpoints_file: Option<PathBuf>,
    work_dir: Option<PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--once" => options.once = true,
            "--memory" => options.memory = true,
            "--tour" => options.tour = true,
            "--without-metrics-capture" => options.without_metrics_capture = true,
            "--quota-factor" => {
                let factor = args.next().ok_or("--quota-factor needs a number")?;
                let factor = factor
                    .parse::<u64>()
                    .ok()
                    .filter(|f| *f >= 1)
                    .ok_or("--quota-factor needs a positive whole number")?;
                options.quota_factor = Some(factor);
            }
            "--store" => {
                options.store = Some(args.next().ok_or("--store needs a URL")?);
            }
            "--endpoints-file" => {
                let file = args.next().ok_or("--endpoints-file needs a file")?;
                options.endpoints_file = Some(PathBuf::from(file));
            }
            "--work-dir" => {
                let dir = args.next().ok_or("--work-dir needs a directory")?;
                options.work_dir = Some(PathBuf::from(dir));
            }
            "--help" | "-h" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> Result<ExitCode, Failure> {
    let options = match options() {
        Ok(options) => options,
        Err(why) => {
            if !why.is_empty() {
                eprintln!("{why}");
            }
            eprintln!("{USAGE}");
            return Ok(ExitCode::from(2));
        }
    };
    if options.tour {
        tour::run().await.map_err(|e| e.to_string())?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("OPUS Open Finance SDK sandbox");
    let work = options.work_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("opus-sandbox-{}", std::process::id()))
    });
    std::fs::create_dir_all(&work)?;
    let storage = if let Some(url) = &options.store {
        // Said without the URL's credentials, if any.
        let shown = url.split_once('@').map_or(url.as_str(), |(_, rest)| rest);
        println!("  store: {shown} (--store)");
        opus_examples::config::StorageConfig {
            url: Some(url.clone()),
            url_env: None,
            max_connections: None,
        }
        .open()
        .await?
    } else if options.memory {
        println!("  store: in memory (--memory)");
        Storage::from_backend(Arc::new(MemoryStore::new()))
    } else {
        let db = work.join("bank.db");
        println!("  store: SQLite file {}", db.display());
        Storage::from_backend(Arc::new(SqliteStore::open(&db).await?))
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    if let Some(factor) = options.quota_factor {
        println!(
            "  operational limits: {factor} times the spec's monthly minimums (--quota-factor)"
        );
    }
    if options.without_metrics_capture {
        println!("  metrics capture: off (--without-metrics-capture, for benchmarks only)");
    }
    let bank = LoopbackBank::start_with(BankSetup {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        public_url: None,
        brands: BrandSetup::sandbox(),
        storage,
        clock: clock.clone(),
        synthetic: SyntheticBank::new(clock.now().date_in_brasilia()),
        gateway: None,
        metrics_capture: !options.without_metrics_capture,
        quota_factor: options.quota_factor.unwrap_or(1),
    })
    .await?;
    println!("\nRunning on loopback (one HTTPS listener, client certificates asked for):");
    println!("  mock directory      {}", bank.test_registration_url()?);
    for brand in bank.brands() {
        println!(
            "  {:<19} issuer {}",
            brand.display_name(),
            brand.issuer().as_str().trim_end_matches('/')
        );
        println!("  {:<19} API base {}", "", brand.api_base_url());
    }
    println!(
        "  metrics collector   {}",
        bank.base_url().join("pcm/api/")?
    );

    let mut stdout = std::io::stdout();
    let outcomes = {
        let mut trace = Trace::new(&mut stdout);
        run_all(&bank, &mut trace).await
    };
    let reports = bank.send_reports().await?;
    println!(
        "\nMetrics: {} reports of the bank's calls accepted by the collector ({} pending retry)",
        reports.accepted, reports.retried
    );

    if let Some(file) = &options.endpoints_file {
        let tpp = SandboxFintech::join(&bank, "tpp-sandbox", &["DADOS", "PAGTO"], None).await?;
        let identity = tpp.write_identity(&work.join("tpp-sandbox"))?;
        let description = endpoints::describe(&bank, &work, &[identity])?;
        std::fs::write(file, serde_json::to_string_pretty(&description)?)?;
        println!("Endpoints written to {}", file.display());
    }

    let failed: Vec<_> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
    println!(
        "\nSummary: {} of {} journeys completed",
        outcomes.len() - failed.len(),
        outcomes.len()
    );
    for outcome in &failed {
        println!(
            "  FAILED {}: {}",
            outcome.journey,
            outcome.failure.as_deref().unwrap_or_default()
        );
    }
    let code = if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    if options.once {
        bank.stop().await;
        // The identity files stay for whoever reads the endpoints file.
        if options.endpoints_file.is_none() && options.work_dir.is_none() {
            let _ = std::fs::remove_dir_all(&work);
        }
        return Ok(code);
    }

    let customer = sandbox_customer()?;
    let starter = browser_starter(&bank).await?;
    println!("\nThe sandbox keeps serving. Try next:");
    println!(
        "  - a data-sharing journey in your browser: open {starter}\n    \
         (a fintech creates a consent and sends you to {}: log in as the sandbox customer, \
         CPF {}, with any password, choose the accounts, authorise; you land on the fintech's \
         redirect URI with the code; \"Continuar no celular\" hands off to another device)",
        bank.brand().display_name(),
        customer.as_str()
    );
    println!(
        "  - register your own client with the mock directory (POST {}), then by DCR at {}",
        bank.test_registration_url()?,
        bank.issuer().as_str().trim_end_matches('/')
    );
    println!(
        "  - the interop kit's certified client, in OFB mode:\n      node flow.mjs --issuer {} --ca {} \\\n        --ofb-directory {} \\\n        --consent-url {} --consent-cpf {} --encrypted-id-token --no-introspection",
        bank.issuer().as_str().trim_end_matches('/'),
        work.join("ca.pem").display(),
        bank.test_registration_url()?,
        bank.consents_url()?,
        customer.as_str()
    );
    std::fs::write(work.join("ca.pem"), bank.ca_pem())?;
    println!(
        "  - the customer's consents in the bank's app:\n      curl --cacert {} -H '{TEST_CHANNEL_HEADER}: {}' {}",
        work.join("ca.pem").display(),
        customer.as_str(),
        bank.channels_url()?
    );
    println!(
        "  - the status API (public): curl --cacert {} {}",
        work.join("ca.pem").display(),
        bank.status_url()?
    );
    println!("Press Ctrl-C to stop.");
    opus_examples::stop_requested().await?;
    bank.stop().await;
    if options.work_dir.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
    Ok(code)
}

/// A loopback page that starts a data-sharing journey in a person's
/// browser: each visit, a fintech creates a consent and redirects the
/// browser to the bank's authorization URL.
async fn browser_starter(bank: &LoopbackBank) -> Result<url::Url, Failure> {
    use http::{Response, StatusCode, header};
    use http_body_util::Full;
    use opus_examples::fintech::FINTECH_REDIRECT;

    let fintech = SandboxFintech::join(bank, "fintech-do-navegador", &["DADOS"], None).await?;
    let receiver = Arc::new(opus_drx::DataReceiver::new(
        fintech.client(),
        bank.api_url("")?,
        url::Url::parse(FINTECH_REDIRECT)?,
    ));
    let clock = bank.clock();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = url::Url::parse(&format!("http://{}/", listener.local_addr()?))?;
    let service = tower::service_fn(move |_request: http::Request<hyper::body::Incoming>| {
        let receiver = receiver.clone();
        let clock = clock.clone();
        async move {
            let started = match sandbox_customer() {
                Ok(customer) => data_consent(&receiver, clock.as_ref(), &customer)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            let response = match started {
                Ok(consent) => Response::builder()
                    .status(StatusCode::SEE_OTHER)
                    .header(header::LOCATION, consent.pending.authorization_url.as_str())
                    .body(Full::new(bytes::Bytes::new())),
                Err(why) => Response::builder()
                    .status(StatusCode::BAD_GATEWAY)
                    .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                    .body(Full::new(bytes::Bytes::from(format!(
                        "the journey could not start: {why}"
                    )))),
            };
            Ok::<_, std::convert::Infallible>(response.unwrap_or_default())
        }
    });
    tokio::spawn(opus_fapi::mtls::serve(
        listener,
        None,
        service,
        std::future::pending(),
    ));
    Ok(url)
}
