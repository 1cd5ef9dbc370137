//! Runnable pieces of the OPUS Open Finance Brasil SDK put together: the
//! sandbox binary and a bank on loopback ([`bank`]) for interoperability
//! runs with third-party FAPI peers.

pub mod bank;
pub mod config;
pub mod endpoints;
pub mod fintech;
pub mod journeys;
