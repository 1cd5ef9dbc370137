//! # opus-store
//!
//! Storage backends for the ports of `opus-core`.
//!
//! **What it is for.** Implementations of every storage port
//! ([`opus_core::store`] and [`opus_core::seal::DataKeyStore`]) that pass the
//! storage conformance suite of `opus-testkit`:
//!
//! | backend | type | status |
//! |---|---|---|
//! | in memory | [`MemoryStore`] | tests, sandbox, single-process development |
//! | SQLite (feature `sqlite`, the embedded default) | — | planned |
//! | PostgreSQL (feature `postgres`, many replicas) | — | planned |
//!
//! **What it is not for.** No business rules: a backend stores what it is
//! given and enforces only the atomicity the ports promise
//! (compare-and-set, consume-once, insert-if-absent, claims and leases).
//! It never sees plaintext personal data: records arrive sealed.
//!
//! ## Quick start
//!
//! ```
//! use std::sync::Arc;
//! use opus_core::Storage;
//! use opus_store::MemoryStore;
//!
//! let storage = Storage::from_backend(Arc::new(MemoryStore::new()));
//! # let _ = storage;
//! ```
//!
//! ## Feature flags
//!
//! None yet.
//!
//! ## Security notes
//!
//! [`MemoryStore::export_text`] shows exactly what a database would hold;
//! tests use it to prove no plaintext document reaches the backend.

mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
