//! The example bank server: the crates composed into one deployable
//! service, configured by a TOML file (see `opus_examples::config`).
//!
//! ```text
//! bank-server --config /etc/opus/bank-server.toml [--ca-out FILE]
//! ```
//!
//! It serves every configured brand (authorization server, Consents API,
//! data APIs, payments, webhooks, status and admin APIs, the management
//! API of the bank's channels) on one HTTPS listener, over the synthetic
//! back office and the mock directory of the sandbox, until SIGTERM or
//! Ctrl-C. `--ca-out` writes the CA its server certificate chains to.
//!
//! What a production bank replaces: the synthetic connectors by its own
//! back office, the mock directory by the Open Finance Brasil directory,
//! the test-mode login by its login pages (see the crate's README).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use opus_core::SystemClock;
use opus_examples::bank::{Failure, LoopbackBank};
use opus_examples::config::BankServerConfig;

const USAGE: &str = "usage: bank-server --config FILE [--ca-out FILE]";

#[tokio::main]
async fn main() -> Result<ExitCode, Failure> {
    let mut config = None;
    let mut ca_out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => config = args.next().map(PathBuf::from),
            "--ca-out" => ca_out = args.next().map(PathBuf::from),
            _ => {
                eprintln!("{USAGE}");
                return Ok(ExitCode::from(2));
            }
        }
    }
    let Some(config) = config else {
        eprintln!("{USAGE}");
        return Ok(ExitCode::from(2));
    };
    let config =
        BankServerConfig::load(&config).map_err(|e| format!("{}: {e}", config.display()))?;
    let bank = LoopbackBank::start_with(config.setup(Arc::new(SystemClock)).await?).await?;
    if let Some(file) = &ca_out {
        std::fs::write(file, bank.ca_pem())?;
    }
    println!("bank-server listening on {}", config.listen);
    for brand in bank.brands() {
        println!(
            "  {}: issuer {}, API base {}",
            brand.display_name(),
            brand.issuer(),
            brand.api_base_url()
        );
    }
    opus_examples::stop_requested().await?;
    bank.stop().await;
    Ok(ExitCode::SUCCESS)
}
