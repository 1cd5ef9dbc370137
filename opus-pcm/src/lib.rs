//! Metrics reporting (PCM, the governance's Metrics Collection Platform)
//! for the OPUS Open Finance Brasil SDK: configure it and forget it.
//!
//! - [`capture`]: [`PcmLayer`], a tower `Layer` that writes a SERVER report
//!   for every call of a private API or security endpoint the institution
//!   serves (an open-data report for the public APIs), and
//!   [`PcmReporter::client_call`], the hook that writes the CLIENT report
//!   of every call it makes (a client-side timeout as 408).
//! - [`endpoints`]: the collector's accepted endpoint templates, as data,
//!   and the mapping of a concrete path onto them.
//! - [`sender`]: [`PcmSender`] drains the durable outbox to the collector in
//!   batches (≤ 5,000 reports, ≤ 10 MB), with a reused 6-hour token,
//!   at most 300 requests per second, backoff with jitter through outages,
//!   and a warning when reports risk the D+1 08:00 deadline; nothing is
//!   lost across restarts, and duplicates are bounded (see [`sender`]).
//! - [`report`]: the report bodies with the spec's field names, and the
//!   usual `additionalInfo` keys read from a response.
//! - [`operations`]: the status and outages APIs (Common API), the admin
//!   metrics API, availability (95 % a day, 99.5 % a quarter) and p95
//!   latency per API group, and the operators' back office with the same
//!   figures as Prometheus text.
//! - [`observe`]: a request span with Elastic Common Schema field names
//!   (interaction id, brand, client, consent) around every call, and, with
//!   the `ecs-json` feature, a JSON log layer writing them.
//!
//! The institution's hybrid-flow steps are reported too: [`PcmReporter`]
//! is an `opus_fapi::server::flow::FlowObserver` for the authorization
//! server (`redirect-target`, `authenticated`, `redirect-to-client`).
//!
//! Not here yet: the initiator-side hybrid-flow reports (they come with the
//! client middlewares), the payment-status report, and corrections (`PUT`)
//! of `PAIRED_INCONSISTENT` reports. The daily consent stock
//! ([`PcmReporter::consent_stock`]) goes to the path the integrator gives:
//! the collector publishes it outside its public spec.

pub mod capture;
pub mod client;
pub mod endpoints;
pub mod observe;
pub mod operations;
pub mod report;
pub mod sender;

pub use capture::{OPENDATA_TOPIC, PRIVATE_TOPIC, PcmLayer, PcmReporter, PcmService, SINGLE_TOPIC};
pub use client::PcmCallObserver;
pub use endpoints::{Endpoint, EndpointCatalogue};
pub use report::{AdditionalInfo, ClientCall, OpendataReport, PrivateReport, Role};
pub use sender::{
    HttpsPcmTransport, PcmError, PcmPass, PcmSender, PcmToken, PcmTransport, SenderPolicy,
};
