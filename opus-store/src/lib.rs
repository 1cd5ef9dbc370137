//! # opus-store
//!
//! Storage backends for the ports of `opus-core`.
//!
//! **What it is for.** Implementations of every storage port
//! ([`opus_core::store`] and [`opus_core::seal::DataKeyStore`]) that pass the
//! storage conformance suite of `opus-testkit`:
//!
//! | backend | type | for |
//! |---|---|---|
//! | in memory | [`MemoryStore`] | tests, single-process development |
//! | SQLite (feature `sqlite`) | `SqliteStore` | the embedded default: one file, no server |
//! | PostgreSQL (feature `postgres`) | `PostgresStore` | many replicas sharing one database |
//!
//! The SQL backends carry their schema as embedded migrations, applied on
//! connection. Each passes the whole storage conformance suite of
//! `opus-testkit`, races included; PostgreSQL is also tested with two
//! instances (separate pools and runtimes) racing on one database.
//!
//! [`events`] moves domain events from the outbox to an event sink: in
//! process, or NATS JetStream (feature `nats`).
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
//! | feature | what it adds |
//! |---|---|
//! | `sqlite` | `SqliteStore` (sqlx, bundled SQLite) |
//! | `postgres` | `PostgresStore` (sqlx, rustls on aws-lc-rs) |
//! | `nats` | `events::NatsEventSink` (async-nats, JetStream) |
//!
//! ## Security notes
//!
//! [`MemoryStore::export_text`] shows exactly what a database would hold;
//! tests use it to prove no plaintext document reaches the backend.

pub mod events;
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
