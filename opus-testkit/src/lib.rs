//! # opus-testkit
//!
//! Test support for the OPUS Open Finance Brasil SDK and for institutions
//! that implement its ports.
//!
//! **What it is for.**
//!
//! * [`storage_conformance_tests!`]: the storage contract as one async test
//!   body per rule (races included: 64 tasks consuming one code, conflicting
//!   compare-and-set transitions, replayed `jti`s, outbox claims, acks and
//!   lease expiry), runnable against any backend with one line. An
//!   institution with its own backend calls the macro in its own tests.
//! * [`ManualClock`]: time that moves only when a test says so.
//! * [`TestPki`]: a root → intermediate → leaf PKI generated at run time, with
//!   the OFB / ICP-Brasil subject attributes (organizationIdentifier
//!   `OFBBR-<org id>`, UID, serialNumber = CNPJ, businessCategory,
//!   jurisdictionCountryName), transport, signing and server certificates.
//! * [`TestKeyCustody`]: a real (aws-lc-rs) key custody with keys generated
//!   in process.
//! * [`RecordingAuthenticator`] (password or auto-approving login, recording
//!   every interaction) and [`StaticResources`] (the consent screen's resources).
//! * [`SyntheticBank`]: a seeded back office (three customers, PF and PJ,
//!   with accounts, transactions, a card and a loan) behind the resources,
//!   accounts and customers connectors; [`ConnectorSpy`] records connector calls.
//! * [`MockDirectory`]: an in-memory participants directory (organisations,
//!   keystores, trust anchors) behind the `Directory` port.
//!
//! **What it is not for.** Production. Nothing here is hardened for it, and
//! library crates depend on it only as a dev-dependency.
//!
//! ## Quick start
//!
//! ```
//! // tests/conformance.rs of a storage backend crate: one line runs the
//! // whole storage contract against the backend.
//! opus_testkit::storage_conformance_tests!(|| async {
//!     opus_core::Storage::from_backend(std::sync::Arc::new(opus_store::MemoryStore::new()))
//! });
//! # fn main() {}
//! ```
//!
//! ## Feature flags
//!
//! None.
//!
//! ## Security notes
//!
//! Test keys live in process memory and every run makes new ones; no private
//! key is ever written to the repository.

pub mod conformance;
pub mod connector_tester;
pub mod counters;
pub mod openapi;
pub mod opendata;
pub mod pcm;
pub mod pki;

pub mod bank;
mod clock;
mod custody;
mod directory;
mod interaction;

pub use bank::{ConnectorCall, ConnectorSpy, SimulatedSpi, SpiBehaviour, SyntheticBank};
pub use clock::ManualClock;
pub use custody::TestKeyCustody;
pub use directory::MockDirectory;
pub use interaction::{RecordingAuthenticator, StaticResources, TEST_PASSWORD};
pub use opendata::SyntheticOpenData;
pub use pcm::{CollectorFault, MockPcmCollector};
pub use pki::{BusinessCategory, IssuedCertificate, OfbSubject, PkiError, TestPki};
