//! Runnable pieces of the OPUS Open Finance Brasil SDK put together: the
//! sandbox binary and a bank on loopback ([`bank`]) for interoperability
//! runs with third-party FAPI peers.

pub mod bank;
pub mod config;
pub mod endpoints;
pub mod fintech;
pub mod http_connector;
pub mod journeys;
mod pages;

/// Waits for Ctrl-C or, on Unix, SIGTERM (how a container is stopped).
///
/// # Errors
/// When the signal handlers cannot be installed.
pub async fn stop_requested() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
